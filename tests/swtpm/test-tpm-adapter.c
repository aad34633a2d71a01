/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TPM adapter against a real (fresh) swtpm, run through with-swtpm:
 * PCR extend and read agree with a software replay; the pure policy math
 * (core/tpmpolicy.c) gives the digest the TPM itself computes for
 * PolicyPCR; errors come back as the documented errno and one clear line;
 * and nothing is left loaded in the TPM.
 */
#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tpm-test.h"
#include "hex.h"
#include "tpm.h"
#include "tpmpolicy.h"

/* PCR extend in software: new = SHA-256(old || digest). */
static void replay(uint8_t pcr[32], const uint8_t digest[32])
{
	uint8_t buf[64];

	memcpy(buf, pcr, 32);
	memcpy(buf + 32, digest, 32);
	SHA256(buf, sizeof(buf), pcr);
}

int main(void)
{
	const tpmpolicy_pcr_mask_t mask = TPMPOLICY_PCR(0) | TPMPOLICY_PCR(2) | TPMPOLICY_PCR(7);
	struct tpmpolicy_pcr_values want = {0}, got = {0};
	uint8_t ev[32], pcr_digest[32], expect[32], trial[32];
	char hex1[65], hex2[65];
	struct tpm *t = NULL;
	struct diag d = {0};
	int r;

	t = tpm_test_open();

	/* A fresh TPM: PCRs 0..15 are zero. */
	CHECK(tpm_pcr_read(t, mask, &got, &d) == 0, "read: %s", d.msg);
	CHECK(!memcmp(&got, &want, sizeof(got)), "fresh PCRs are not zero");

	/* Extend 7 once and 2 twice; the TPM agrees with the replay. */
	SHA256((const unsigned char *)"sealboot event a", 16, ev);
	CHECK(tpm_pcr_extend(t, 7, ev, &d) == 0, "extend 7: %s", d.msg);
	replay(want.v[7], ev);
	SHA256((const unsigned char *)"sealboot event b", 16, ev);
	CHECK(tpm_pcr_extend(t, 2, ev, &d) == 0, "extend 2: %s", d.msg);
	CHECK(tpm_pcr_extend(t, 2, ev, &d) == 0, "extend 2 again: %s", d.msg);
	replay(want.v[2], ev);
	replay(want.v[2], ev);
	memset(&got, 0, sizeof(got));
	CHECK(tpm_pcr_read(t, mask, &got, &d) == 0, "read: %s", d.msg);
	hex_encode(got.v[2], 32, hex1);
	hex_encode(want.v[2], 32, hex2);
	CHECK(!memcmp(got.v[2], want.v[2], 32) && !memcmp(got.v[7], want.v[7], 32),
	      "PCR 2 is %s, replay says %s", hex1, hex2);

	/* The offline policy digest equals the TPM's own. */
	tpmpolicy_init(expect);
	CHECK(tpmpolicy_pcr_digest(mask, &got, pcr_digest, &d) == 0, "pcr digest: %s", d.msg);
	CHECK(tpmpolicy_policy_pcr(expect, mask, pcr_digest, &d) == 0, "policy: %s", d.msg);
	CHECK(tpm_trial_policy_pcr(t, mask, trial, &d) == 0, "trial: %s", d.msg);
	hex_encode(expect, 32, hex1);
	hex_encode(trial, 32, hex2);
	CHECK(!memcmp(expect, trial, 32), "offline PolicyPCR %s, TPM says %s", hex1, hex2);
	printf("PolicyPCR(sha256:0,2,7) = %s (offline and TPM agree)\n", hex1);

	/* Refusals: resettable PCR 16 is never sealed to; PCR 17 cannot be
	 * extended from locality 0 (-EACCES, one line). */
	memset(&d, 0, sizeof(d));
	r = tpm_trial_policy_pcr(t, TPMPOLICY_PCR(7) | TPMPOLICY_PCR(16), trial, &d);
	CHECK(r == -EINVAL && strstr(d.msg, "16"), "PCR 16 accepted: %d %s", r, d.msg);
	memset(&d, 0, sizeof(d));
	r = tpm_pcr_extend(t, 17, ev, &d);
	CHECK(r == -EACCES && strstr(d.msg, "extending PCR 17") && strstr(d.msg, "locality") &&
		  !strchr(d.msg, '\n'),
	      "PCR 17 extend: %d %s", r, d.msg);
	memset(&d, 0, sizeof(d));
	r = tpm_pcr_extend(t, 24, ev, &d);
	CHECK(r == -EINVAL, "PCR 24: %d %s", r, d.msg);

	/* Nothing left loaded: the trial sessions were flushed. */
	tpm_test_close_clean(t);

	/* No TPM there: -ENODEV and a message naming where we looked. */
	memset(&d, 0, sizeof(d));
	t = NULL;
	r = tpm_open("swtpm:host=127.0.0.1,port=1", &t, &d);
	CHECK(r == -ENODEV && !t && strstr(d.msg, "port=1"), "no TPM: %d %s", r, d.msg);
	if (r == -ENODEV)
		printf("no-TPM message: %s\n", d.msg);
	tpm_close(t);

	return CHECK_RESULT("tpm adapter");
}
