/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seal and unseal against a real swtpm (run through with-swtpm): a secret
 * sealed to PolicyPCR over the current PCR values, with the policy digest
 * computed offline, unseals while the PCRs hold those values; after one more
 * extend it is refused with -EPERM and nothing is released; a corrupt sealed
 * blob is refused; nothing is left loaded in the TPM.
 */
#include <errno.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tpm-test.h"
#include "tpm.h"
#include "tpmpolicy.h"

int main(void)
{
	const tpmpolicy_pcr_mask_t mask = TPMPOLICY_PCR(7) | TPMPOLICY_PCR(15);
	struct tpmpolicy_pcr_values vals = {0};
	uint8_t ev[32], pcr_digest[32], policy[32];
	struct secret *key = NULL, *got = NULL;
	struct tpm_sealed sealed, bad;
	struct tpm *t = NULL;
	struct diag d = {0};
	int r;

	t = tpm_test_open();

	/* A measured "good boot": PCR 7 and 15 extended. */
	SHA256((const unsigned char *)"good boot 7", 11, ev);
	CHECK(tpm_pcr_extend(t, 7, ev, &d) == 0, "extend: %s", d.msg);
	SHA256((const unsigned char *)"good boot 15", 12, ev);
	CHECK(tpm_pcr_extend(t, 15, ev, &d) == 0, "extend: %s", d.msg);

	/* The policy, computed offline from the values we expect. */
	CHECK(tpm_pcr_read(t, mask, &vals, &d) == 0, "read: %s", d.msg);
	tpmpolicy_init(policy);
	CHECK(tpmpolicy_pcr_digest(mask, &vals, pcr_digest, &d) == 0, "digest: %s", d.msg);
	CHECK(tpmpolicy_policy_pcr(policy, mask, pcr_digest, &d) == 0, "policy: %s", d.msg);

	CHECK(secret_new(32, &key) == 0, "secret_new");
	CHECK(RAND_bytes(key->data, 32) == 1, "RAND_bytes");
	memset(&d, 0, sizeof(d));
	r = tpm_seal(t, policy, key, &sealed, &d);
	CHECK(r == 0 && sealed.pub_len > 0 && sealed.priv_len > 0, "seal: %d %s", r, d.msg);

	/* Same PCRs: released, and it is the same key. */
	memset(&d, 0, sizeof(d));
	r = tpm_unseal_pcr(t, &sealed, mask, &got, &d);
	CHECK(r == 0 && got && got->len == 32 && !memcmp(got->data, key->data, 32),
	      "unseal on the good state: %d %s", r, d.msg);
	secret_free(got);
	got = NULL;

	/* Twice: unsealing consumed nothing. */
	memset(&d, 0, sizeof(d));
	r = tpm_unseal_pcr(t, &sealed, mask, &got, &d);
	CHECK(r == 0 && got, "second unseal: %d %s", r, d.msg);
	secret_free(got);
	got = NULL;

	/* The cap: one more extend of a sealed PCR and nothing is released. */
	SHA256((const unsigned char *)"cap", 3, ev);
	CHECK(tpm_pcr_extend(t, 15, ev, &d) == 0, "extend: %s", d.msg);
	memset(&d, 0, sizeof(d));
	r = tpm_unseal_pcr(t, &sealed, mask, &got, &d);
	CHECK(r == -EPERM && !got && strstr(d.msg, "policy check failed") && !strchr(d.msg, '\n'),
	      "unseal after the cap: %d %s", r, d.msg);

	/* A sealed blob tampered with is refused, never loaded. */
	bad = sealed;
	bad.priv[bad.priv_len / 2] ^= 0x40;
	memset(&d, 0, sizeof(d));
	r = tpm_unseal_pcr(t, &bad, TPMPOLICY_PCR(7), &got, &d);
	CHECK(r < 0 && !got, "tampered blob released something: %d %s", r, d.msg);
	bad = sealed;
	bad.pub_len -= 3;
	memset(&d, 0, sizeof(d));
	r = tpm_unseal_pcr(t, &bad, TPMPOLICY_PCR(7), &got, &d);
	CHECK(r == -EBADMSG && !got && strstr(d.msg, "corrupt"), "short blob: %d %s", r, d.msg);

	/* Resettable PCRs are refused before the TPM is asked. */
	memset(&d, 0, sizeof(d));
	r = tpm_unseal_pcr(t, &sealed, TPMPOLICY_PCR(7) | TPMPOLICY_PCR(23), &got, &d);
	CHECK(r == -EINVAL && !got, "PCR 23: %d %s", r, d.msg);

	tpm_test_close_clean(t);
	secret_free(key);
	return CHECK_RESULT("tpm seal");
}
