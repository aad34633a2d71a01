/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unseal under an admin-approved PCR policy against a real swtpm (run
 * through with-swtpm): the object is bound to PolicyAuthorize(admin key);
 * a signed approval for the current PCRs with a serial at or above the
 * counter releases the key; PCRs that differ, an approval signed by another
 * key or edited after signing, a retired serial (counter raised above it)
 * and a different storage primary release nothing. The offline NV and key
 * Names equal the TPM's. Nothing is left loaded.
 */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tpm-test.h"
#include "tpm.h"
#include "tpmpolicy.h"

#define COUNTER 0x01A5B0F0u

static void bn32(const BIGNUM *bn, uint8_t out[32])
{
	if (BN_bn2binpad(bn, out, 32) != 32)
		abort();
}

static void key_point(EVP_PKEY *k, struct tpm_admin_key *out)
{
	BIGNUM *x = NULL, *y = NULL;

	if (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
	    !EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y))
		abort();
	bn32(x, out->x);
	bn32(y, out->y);
	BN_free(x);
	BN_free(y);
}

/* What `sealboot-admin pcr-policy sign` does: ECDSA over aHash. */
static void approve(EVP_PKEY *k, struct tpm_pcr_approval *a)
{
	uint8_t name[TPMPOLICY_NAME_SIZE], approved[32], ahash[32], der[80];
	const unsigned char *p = der;
	size_t der_len = sizeof(der);
	struct diag d = {0};
	EVP_PKEY_CTX *ctx;
	ECDSA_SIG *sig;

	tpm_nv_counter_name(a->counter, name);
	if (tpmpolicy_approved_pcr_policy(a->mask, a->pcr_digest, a->serial, name, approved, &d) <
		0 ||
	    tpmpolicy_authorize_ahash(approved, NULL, 0, ahash, &d) < 0)
		abort();
	ctx = EVP_PKEY_CTX_new(k, NULL);
	if (!ctx || EVP_PKEY_sign_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_sign(ctx, der, &der_len, ahash, sizeof(ahash)) != 1)
		abort();
	EVP_PKEY_CTX_free(ctx);
	sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (!sig)
		abort();
	bn32(ECDSA_SIG_get0_r(sig), a->sig_r);
	bn32(ECDSA_SIG_get0_s(sig), a->sig_s);
	ECDSA_SIG_free(sig);
}

/* Unseal must fail with want (and class cls unless DIAG_NONE), no secret. */
static void refused(struct tpm *t, const struct tpm_sealed *s, const struct tpm_pcr_approval *a,
		    int want, enum diag_class cls, const char *what)
{
	struct secret *got = NULL;
	struct diag d = {0};
	int r = tpm_unseal_approved(t, s, a, &got, &d);

	CHECK(r == want && !got, "%s: got %d (%s), want %d", what, r, d.msg, want);
	CHECK(cls == DIAG_NONE || d.cls == cls, "%s: class %d, want %d", what, d.cls, cls);
	CHECK(d.msg[0] && !strchr(d.msg, '\n'), "%s: one line: '%s'", what, d.msg);
	printf("refused as expected (%s): %s\n", what, d.msg);
	secret_free(got);
}

int main(void)
{
	const tpmpolicy_pcr_mask_t mask = TPMPOLICY_PCR(7) | TPMPOLICY_PCR(15);
	struct tpmpolicy_pcr_values vals = {0};
	uint8_t ev[32], policy[32], key_name[TPMPOLICY_NAME_SIZE];
	uint8_t nv_name[TPMPOLICY_NAME_SIZE], nv_name_tpm[TPMPOLICY_NAME_SIZE];
	struct tpm_pcr_approval a = {.mask = mask, .counter = COUNTER}, b;
	EVP_PKEY *admin = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
	struct secret *key = NULL, *got = NULL;
	struct tpm_sealed sealed, bad;
	struct tpm *t = NULL;
	struct diag d = {0};
	uint64_t counter = 0;
	int r;

	CHECK(admin && other, "EVP_EC_gen");
	t = tpm_test_open();

	/* The rollback counter for PCR policies; its first value is the
	 * TPM's choice (the highest any counter has had), not ours. */
	CHECK(tpm_nv_define(t, COUNTER, TPM_NV_COUNTER, 8, &d) == 0, "define: %s", d.msg);
	CHECK(tpm_nv_increment(t, COUNTER, &d) == 0, "increment: %s", d.msg);
	CHECK(tpm_nv_read_counter(t, COUNTER, &counter, &d) == 0, "read: %s", d.msg);
	tpm_nv_counter_name(COUNTER, nv_name);
	CHECK(tpm_nv_name(t, COUNTER, nv_name_tpm, &d) == 0, "nv name: %s", d.msg);
	CHECK(!memcmp(nv_name, nv_name_tpm, sizeof(nv_name)),
	      "offline counter Name differs from the TPM's");

	/* Seal to PolicyAuthorize(admin key). */
	key_point(admin, &a.key);
	CHECK(tpm_admin_key_name(&a.key, key_name, &d) == 0, "key name: %s", d.msg);
	tpmpolicy_init(policy);
	CHECK(tpmpolicy_policy_authorize(policy, key_name, sizeof(key_name), NULL, 0, &d) == 0,
	      "authorize: %s", d.msg);
	CHECK(secret_new(32, &key) == 0 && RAND_bytes(key->data, 32) == 1, "key");
	CHECK(tpm_seal(t, policy, key, &sealed, &d) == 0, "seal: %s", d.msg);

	/* The good boot, approved with the current serial. */
	SHA256((const unsigned char *)"good boot", 9, ev);
	CHECK(tpm_pcr_extend(t, 15, ev, &d) == 0, "extend: %s", d.msg);
	CHECK(tpm_pcr_read(t, mask, &vals, &d) == 0, "read: %s", d.msg);
	CHECK(tpmpolicy_pcr_digest(mask, &vals, a.pcr_digest, &d) == 0, "digest: %s", d.msg);
	a.serial = counter;
	approve(admin, &a);
	r = tpm_unseal_approved(t, &sealed, &a, &got, &d);
	CHECK(r == 0 && got && got->len == 32 && !memcmp(got->data, key->data, 32),
	      "unseal with a good approval: %d %s", r, d.msg);
	secret_free(got);
	got = NULL;

	/* Signed by someone else. */
	b = a;
	approve(other, &b);
	b.key = a.key;
	refused(t, &sealed, &b, -EBADMSG, DIAG_SIGNATURE, "signed by another key");
	/* Another key altogether: the TPM's PolicyAuthorize names the wrong key. */
	b = a;
	key_point(other, &b.key);
	approve(other, &b);
	refused(t, &sealed, &b, -EPERM, DIAG_NONE, "approved by a key the object is not bound to");
	/* Edited after signing: a different PCR digest, the same signature. */
	b = a;
	b.pcr_digest[0] ^= 1;
	refused(t, &sealed, &b, -EBADMSG, DIAG_SIGNATURE, "PCR digest edited after signing");
	b = a;
	b.serial++;
	refused(t, &sealed, &b, -EBADMSG, DIAG_SIGNATURE, "serial edited after signing");

	/* Validly signed, but for PCR values this boot does not have. */
	b = a;
	b.pcr_digest[0] ^= 1;
	approve(admin, &b);
	refused(t, &sealed, &b, -EPERM, DIAG_NONE, "PCRs differ from the approved values");

	/* A newer approval (serial+1) retires the old one once the counter
	 * moves: the old, validly signed approval is refused for good. */
	b = a;
	b.serial = counter + 1;
	approve(admin, &b);
	CHECK(tpm_nv_increment(t, COUNTER, &d) == 0, "increment: %s", d.msg);
	refused(t, &sealed, &a, -EKEYREVOKED, DIAG_NONE, "retired approval replayed");
	r = tpm_unseal_approved(t, &sealed, &b, &got, &d);
	CHECK(r == 0 && got && !memcmp(got->data, key->data, 32), "newer approval: %d %s", r,
	      d.msg);
	secret_free(got);
	got = NULL;

	/* The cap: one more extend and even the newest approval fails. */
	CHECK(tpm_pcr_extend(t, 15, ev, &d) == 0, "extend: %s", d.msg);
	refused(t, &sealed, &b, -EPERM, DIAG_NONE, "after the cap");

	/* A different storage primary than the one recorded at sealing. */
	bad = sealed;
	bad.primary_name[5] ^= 1;
	refused(t, &bad, &b, -EBADE, DIAG_TRUST, "storage primary not the recorded one");

	CHECK(tpm_nv_undefine(t, COUNTER, &d) == 0, "undefine: %s", d.msg);
	secret_free(key);
	EVP_PKEY_free(admin);
	EVP_PKEY_free(other);
	tpm_test_close_clean(t);
	return CHECK_RESULT("tpm-authorize");
}
