/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The attacker's question after a boot: can the real volume key still be
 * unsealed now? Tries exactly what the anchor would (the volume's token, the
 * signed PCR policy, the admin key) against the TPM at $SEALBOOT_TCTI, with
 * no freshness or order checks. Prints RELEASED and exits 0 if the TPM gave
 * the key (the key itself is never printed), prints "refused: why" and exits
 * 3 if it did not, exits 1 if the probe could not even ask.
 *
 *   probe-unseal STATE_DIR TOKEN_VOLUME
 */
#include <stdio.h>
#include <stdlib.h>

#include "appliance.h"
#include "luks.h"
#include "token.h"

int main(int argc, char **argv)
{
	struct appliance a = {0};
	struct approval ap;
	struct tpm_pcr_approval ta;
	struct tpm_sealed sealed;
	struct secret *key = NULL;
	struct tpm *t = NULL;
	struct diag d = {0};
	char *json = NULL;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: probe-unseal STATE_DIR TOKEN_VOLUME\n");
		return 1;
	}
	if (appliance_load(argv[1], NULL, NULL, &a, &d) < 0 ||
	    appliance_load_approval(argv[1], &ap, &d) < 0 ||
	    luks_token_find(argv[2], TOKEN_TYPE, &json, &d) < 0 ||
	    token_parse(json, &sealed, &d) < 0 || tpm_open(getenv("SEALBOOT_TCTI"), &t, &d) < 0) {
		fprintf(stderr, "probe-unseal: cannot ask: %s\n", d.msg);
		free(json);
		appliance_free(&a);
		return 1;
	}
	appliance_tpm_approval(&a, &ap, &ta);
	r = tpm_unseal_approved(t, &sealed, &ta, &key, &d);
	if (r == 0)
		printf("RELEASED\n");
	else
		printf("refused: %s\n", d.msg);
	secret_free(key);
	tpm_close(t);
	free(json);
	appliance_free(&a);
	return r == 0 ? 0 : 3;
}
