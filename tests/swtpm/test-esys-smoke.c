/* SPDX-License-Identifier: Apache-2.0 */
/* tpm2-tss ESAPI against a real swtpm: the stack the anchor will use. Run
 * through tests/lib/with-swtpm, which sets SEALBOOT_TCTI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

int main(void)
{
	const char *tcti = getenv("SEALBOOT_TCTI");
	TSS2_TCTI_CONTEXT *tctx = NULL;
	ESYS_CONTEXT *ectx = NULL;
	TPM2B_DIGEST *rnd = NULL;
	TSS2_RC rc;
	int ok = 0;

	if (!tcti) {
		printf("SEALBOOT_TCTI is not set (run under tests/lib/with-swtpm)\n");
		return 1;
	}
	rc = Tss2_TctiLdr_Initialize(tcti, &tctx);
	if (rc != TSS2_RC_SUCCESS) {
		printf("TCTI %s: %s\n", tcti, Tss2_RC_Decode(rc));
		return 1;
	}
	rc = Esys_Initialize(&ectx, tctx, NULL);
	if (rc == TSS2_RC_SUCCESS)
		rc = Esys_GetRandom(ectx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, 16, &rnd);
	if (rc != TSS2_RC_SUCCESS) {
		printf("ESAPI: %s\n", Tss2_RC_Decode(rc));
	} else if (rnd->size != 16) {
		printf("GetRandom returned %u bytes, want 16\n", rnd->size);
	} else {
		static const unsigned char zero[16];

		ok = memcmp(rnd->buffer, zero, 16) != 0;
		if (!ok)
			printf("GetRandom returned zeros\n");
	}
	Esys_Free(rnd);
	if (ectx)
		Esys_Finalize(&ectx);
	Tss2_TctiLdr_Finalize(&tctx);
	printf("esys smoke: %s\n", ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}
