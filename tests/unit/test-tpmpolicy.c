/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"
#include "tpmpolicy.h"

/*
 * Known answers from a real TPM: swtpm 0.7.1 (libtpms) driven by tpm2-tools
 * 5.4 over TCTI swtpm:host=127.0.0.1,port=P, started with
 *   swtpm socket --tpm2 --tpmstate dir=D --server type=tcp,port=P \
 *         --ctrl type=tcp,port=P+1 --flags not-need-init,startup-clear
 * Trial sessions (tpm2_startauthsession -S s.ctx) unless said otherwise;
 * each expected digest is the -L output of the last policy command, the same
 * value tpm2_getpolicydigest returned. V1 and V3-V6 were also recomputed
 * independently (Python hashlib) from the Part 3 formulas.
 */

/* V1: fresh TPM, PCR 7 (sha256) all zero.
 *   tpm2_policypcr -S s.ctx -l sha256:7 -L v1.bin */
#define V1_POLICY "8b5682d81b29435d08d79278150611dc7e5923b2fefcce684a09577b40130a8b"

/* V2: PCRs 0, 2, 7, 11 after, on the fresh TPM,
 *   tpm2_pcrextend N:sha256=$(printf 'sealboot-test-pcr-%d' N | sha256sum)
 * for N in 0 2 7 11; values as read back by tpm2_pcrread:
 *   tpm2_policypcr -S s.ctx -l sha256:0,2,7,11 -L v2.bin
 * (same digest with -f of the tpm2_pcrread -o values). */
static const struct {
	unsigned pcr;
	const char *value;
} v2_pcrs[] = {
    {0, "b7ea74cdd82a9366a73992689389aec55078115e96293f16a514e6e6f9ffd218"},
    {2, "71f9f7023fc277dd981b553094ed60abbac3b7bbeb69569c0e102f09af64bfd1"},
    {7, "d2a21b0c37bb116f0bc2c54694e23991951a3c4959990eaf7f5e3e73833bbd54"},
    {11, "ead51cecf09ecfd9b70186b91e748464153d0cc1e65a5ef36f388b2aae9f5fee"},
};
#define V2_POLICY "ddd9974d21e5de364cccc18a71dbd8ba961533cf663b7d1f914d2280cefa4c69"

/* The admin key: an ECC P-256 key from `openssl genpkey`, loaded with
 *   tpm2_loadexternal -C o -G ecc -u admin.pub.pem -c admin.ctx -n admin.name
 * TPMT_PUBLIC is `tpm2_readpublic -c admin.ctx -o` minus its 2-byte size. */
#define ADMIN_PUBLIC                                                                               \
	"0023000b00060040000000100010000300100020ae3da78fefe05c82374ce54d671f295d97c"              \
	"ec91697b6c0c64d2d0d16a833cf960020f0d0ecbb36dced026410c8c889d0ec08204757f816a"             \
	"0645de82f12278914ac5e"
#define ADMIN_NAME "000bce442f34aa716b9b1867f4dd5b2da6dc0a91dab6a9d94021c5dadcad90f05a50"

/* V3: tpm2_policyauthorize -S s.ctx -i v2.bin -n admin.name -L v3.bin
 * (identical when tpm2_policypcr -l sha256:7 ran first in the session: the
 * digest is reset). */
#define V3_POLICY "efa2dec7179e7893979463831a63e720c6bf0836d7b0a15cba7519fd235fee09"

/* V4: with policyRef "sealboot-pcr-v1" (15 bytes, no NUL) in ref.bin:
 *   tpm2_policyauthorize -S s.ctx -i v2.bin -q ref.bin -n admin.name -L v4.bin */
#define V4_REF "sealboot-pcr-v1"
#define V4_POLICY "d1746cfed32b15146f39d04e017551838acd1782940bd442413a472680f69275"

/* aHash for V4, proven by the TPM rather than a trial session:
 *   cat v2.bin ref.bin | openssl dgst -sha256 -binary > ahash.bin
 *   openssl pkeyutl -sign -inkey admin.pem -in ahash.bin -out ahash.sig
 *   tpm2_verifysignature -c admin.ctx -d ahash.bin -f ecdsa -s ahash.sig -t ticket
 * then a real policy session (tpm2_startauthsession --policy-session):
 * tpm2_policypcr -l sha256:0,2,7,11, tpm2_policyauthorize -i v2.bin -q ref.bin
 * -n admin.name -t ticket succeeded (digest V4_POLICY), and the same ticket
 * without -q was refused (TPM_RC_VALUE). */
#define V4_AHASH "2e320d641f84235bdb160a3a8fbb6b4265c1948c2d9ee6cc4af3fc44f3eb5f12"

/* NV index:
 *   tpm2_nvdefine 0x01500010 -C o -s 8 -a "ownerread|ownerwrite|authread|authwrite|no_da"
 *   tpm2_nvwrite 0x01500010 -C o -i <00 00 00 00 00 00 00 03>
 * Name from tpm2_nvreadpublic after the write (TPMA_NV_WRITTEN set; before
 * the write it was 000bd8719185be2bea9ccfb8996ec951f115f22340336ad8f616791c21137ff9b21e). */
#define NV_NAME "000bff03534b7f5d64c6f24051fd756a3eacf5c1a5a4824031d42bdeffa81e10f632"
#define NV_NAME_UNWRITTEN "000bd8719185be2bea9ccfb8996ec951f115f22340336ad8f616791c21137ff9b21e"

/* V5: operandB 00 00 00 00 00 00 00 05, offset 0, UNSIGNED_LE, fresh session:
 *   tpm2_policynv -S s.ctx -C o -i opb5.bin 0x01500010 ule -L v5.bin */
#define V5_POLICY "dd53905ef7038803e0dcf7738e4aff571eb93316c3e26cfb0fc545ab7a138390"
/* V6: after tpm2_policypcr -l sha256:0,2,7,11 (V2) in the same session,
 * operandB 00 03, offset 6, EQ:
 *   tpm2_policynv -S s.ctx -C o -i opb3.bin 0x01500010 eq --offset 6 -L v6.bin */
#define V6_POLICY "38e37c33dd6e1176f7df496366af736d26f7d342e2182b5d1a4047a7ad010336"
/* V7: the V4 PolicyAuthorize, then the V5 PolicyNV, in one session. */
#define V7_POLICY "e11a5b9547be1102871a96885b7a358d318439fa5bbfe55e12861fb7a7a307c8"

static void unhex(const char *h, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(h), 2 * n);
	assert_int_equal(hex_decode(h, out, n), 0);
}

static void assert_digest(const uint8_t *got, const char *want_hex)
{
	char h[2 * TPMPOLICY_DIGEST_SIZE + 1];

	hex_encode(got, TPMPOLICY_DIGEST_SIZE, h);
	assert_string_equal(h, want_hex);
}

static const tpmpolicy_pcr_mask_t v2_mask =
    TPMPOLICY_PCR(0) | TPMPOLICY_PCR(2) | TPMPOLICY_PCR(7) | TPMPOLICY_PCR(11);

static void v2_policy(uint8_t digest[TPMPOLICY_DIGEST_SIZE])
{
	struct tpmpolicy_pcr_values values;
	uint8_t pcr_digest[TPMPOLICY_DIGEST_SIZE];
	struct diag d = {0};

	/* Unselected entries must not matter: fill them with junk. */
	memset(&values, 0xa5, sizeof(values));
	for (size_t i = 0; i < sizeof(v2_pcrs) / sizeof(v2_pcrs[0]); i++)
		unhex(v2_pcrs[i].value, values.v[v2_pcrs[i].pcr], TPMPOLICY_DIGEST_SIZE);
	assert_int_equal(tpmpolicy_pcr_digest(v2_mask, &values, pcr_digest, &d), 0);
	tpmpolicy_init(digest);
	assert_int_equal(tpmpolicy_policy_pcr(digest, v2_mask, pcr_digest, &d), 0);
	assert_int_equal(d.cls, DIAG_NONE);
}

static void test_pcr_selection_layout(void **state)
{
	uint8_t sel[TPMPOLICY_PCR_SELECTION_SIZE];
	char h[2 * sizeof(sel) + 1];

	/* PCR n is bit n % 8 of octet n / 8: PCR 7 is the top bit of the
	 * first octet. */
	assert_int_equal(tpmpolicy_pcr_selection(TPMPOLICY_PCR(7), sel, NULL), 0);
	hex_encode(sel, sizeof(sel), h);
	assert_string_equal(h, "00000001000b03800000");
	assert_int_equal(tpmpolicy_pcr_selection(v2_mask, sel, NULL), 0);
	hex_encode(sel, sizeof(sel), h);
	assert_string_equal(h, "00000001000b03850800");
	assert_int_equal(tpmpolicy_pcr_selection(TPMPOLICY_PCR(0) | TPMPOLICY_PCR(22), sel, NULL),
			 0);
	hex_encode(sel, sizeof(sel), h);
	assert_string_equal(h, "00000001000b03010040");
}

static void test_policy_pcr7_fresh(void **state)
{
	struct tpmpolicy_pcr_values values = {0};
	uint8_t pcr_digest[TPMPOLICY_DIGEST_SIZE], digest[TPMPOLICY_DIGEST_SIZE];
	struct diag d = {0};

	assert_int_equal(tpmpolicy_pcr_digest(TPMPOLICY_PCR(7), &values, pcr_digest, &d), 0);
	/* SHA-256 of 32 zero octets */
	assert_digest(pcr_digest,
		      "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
	tpmpolicy_init(digest);
	assert_int_equal(tpmpolicy_policy_pcr(digest, TPMPOLICY_PCR(7), pcr_digest, &d), 0);
	assert_digest(digest, V1_POLICY);
}

static void test_policy_pcr_extended(void **state)
{
	uint8_t digest[TPMPOLICY_DIGEST_SIZE];

	v2_policy(digest);
	assert_digest(digest, V2_POLICY);
}

static void test_object_name(void **state)
{
	uint8_t pub[86], name[TPMPOLICY_NAME_SIZE], want[TPMPOLICY_NAME_SIZE];
	struct diag d = {0};

	unhex(ADMIN_PUBLIC, pub, sizeof(pub));
	unhex(ADMIN_NAME, want, sizeof(want));
	assert_int_equal(tpmpolicy_object_name(pub, sizeof(pub), name, &d), 0);
	assert_memory_equal(name, want, sizeof(want));

	/* A nameAlg other than sha256 (here sha384) is refused, not misnamed. */
	pub[3] = 0x0c;
	assert_int_equal(tpmpolicy_object_name(pub, sizeof(pub), name, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "nameAlg"));
}

static void test_policy_authorize(void **state)
{
	uint8_t name[TPMPOLICY_NAME_SIZE], approved[TPMPOLICY_DIGEST_SIZE];
	uint8_t digest[TPMPOLICY_DIGEST_SIZE];
	struct diag d = {0};

	unhex(ADMIN_NAME, name, sizeof(name));
	v2_policy(approved);

	tpmpolicy_init(digest);
	assert_int_equal(tpmpolicy_policy_authorize(digest, name, sizeof(name), NULL, 0, &d), 0);
	assert_digest(digest, V3_POLICY);

	/* The digest is reset: what came before does not matter. */
	memcpy(digest, approved, sizeof(digest));
	assert_int_equal(tpmpolicy_policy_authorize(digest, name, sizeof(name), NULL, 0, &d), 0);
	assert_digest(digest, V3_POLICY);

	tpmpolicy_init(digest);
	assert_int_equal(tpmpolicy_policy_authorize(digest, name, sizeof(name),
						    (const uint8_t *)V4_REF, strlen(V4_REF), &d),
			 0);
	assert_digest(digest, V4_POLICY);
	assert_int_equal(d.cls, DIAG_NONE);
}

static void test_authorize_ahash(void **state)
{
	uint8_t approved[TPMPOLICY_DIGEST_SIZE], ahash[TPMPOLICY_DIGEST_SIZE];
	struct diag d = {0};

	v2_policy(approved);
	assert_int_equal(
	    tpmpolicy_authorize_ahash(approved, (const uint8_t *)V4_REF, strlen(V4_REF), ahash, &d),
	    0);
	assert_digest(ahash, V4_AHASH);
	/* Without a policyRef aHash is just H(approvedPolicy). */
	assert_int_equal(tpmpolicy_authorize_ahash(approved, NULL, 0, ahash, &d), 0);
	assert_digest(ahash, "bd49c0d5192fab7ac353d239084550fa5504419309c80dc8f417e7afc5b95c66");
}

static void test_policy_nv(void **state)
{
	static const uint8_t five[8] = {0, 0, 0, 0, 0, 0, 0, 5}, three[2] = {0, 3};
	uint8_t name[TPMPOLICY_NAME_SIZE], digest[TPMPOLICY_DIGEST_SIZE];
	uint8_t v5[TPMPOLICY_DIGEST_SIZE];
	struct diag d = {0};

	unhex(NV_NAME, name, sizeof(name));

	tpmpolicy_init(digest);
	assert_int_equal(tpmpolicy_policy_nv(digest, five, sizeof(five), 0,
					     TPMPOLICY_EO_UNSIGNED_LE, name, sizeof(name), &d),
			 0);
	assert_digest(digest, V5_POLICY);

	v2_policy(digest);
	assert_int_equal(tpmpolicy_policy_nv(digest, three, sizeof(three), 6, TPMPOLICY_EO_EQ, name,
					     sizeof(name), &d),
			 0);
	assert_digest(digest, V6_POLICY);

	/* The unwritten index has another Name, so another digest. */
	unhex(NV_NAME_UNWRITTEN, name, sizeof(name));
	tpmpolicy_init(digest);
	assert_int_equal(tpmpolicy_policy_nv(digest, five, sizeof(five), 0,
					     TPMPOLICY_EO_UNSIGNED_LE, name, sizeof(name), &d),
			 0);
	unhex(V5_POLICY, v5, sizeof(v5));
	assert_memory_not_equal(digest, v5, sizeof(v5));
	assert_int_equal(d.cls, DIAG_NONE);
}

static void test_authorize_then_nv(void **state)
{
	static const uint8_t five[8] = {0, 0, 0, 0, 0, 0, 0, 5};
	uint8_t key[TPMPOLICY_NAME_SIZE], nv[TPMPOLICY_NAME_SIZE];
	uint8_t digest[TPMPOLICY_DIGEST_SIZE];

	unhex(ADMIN_NAME, key, sizeof(key));
	unhex(NV_NAME, nv, sizeof(nv));
	tpmpolicy_init(digest);
	assert_int_equal(tpmpolicy_policy_authorize(digest, key, sizeof(key),
						    (const uint8_t *)V4_REF, strlen(V4_REF), NULL),
			 0);
	assert_int_equal(tpmpolicy_policy_nv(digest, five, sizeof(five), 0,
					     TPMPOLICY_EO_UNSIGNED_LE, nv, sizeof(nv), NULL),
			 0);
	assert_digest(digest, V7_POLICY);
}

#define REFUSE_MASK(mask, needle)                                                                  \
	do {                                                                                       \
		struct diag d_ = {0};                                                              \
		assert_int_equal(tpmpolicy_check_pcr_mask((mask), &d_), -EINVAL);                  \
		assert_int_equal(d_.cls, DIAG_USAGE);                                              \
		assert_non_null(strstr(d_.msg, (needle)));                                         \
	} while (0)

static void test_check_pcr_mask(void **state)
{
	struct diag d = {0};

	assert_int_equal(tpmpolicy_check_pcr_mask(v2_mask, &d), 0);
	assert_int_equal(tpmpolicy_check_pcr_mask(0x007effff, &d), 0); /* 0-15, 17-22 */
	assert_int_equal(d.cls, DIAG_NONE);

	REFUSE_MASK(TPMPOLICY_PCR(16), "PCR 16");
	REFUSE_MASK(TPMPOLICY_PCR(23), "PCR 23");
	REFUSE_MASK(v2_mask | TPMPOLICY_PCR(16), "PCR 16");
	REFUSE_MASK(v2_mask | TPMPOLICY_PCR(23), "reset from software");
	REFUSE_MASK(0x00ffffff, "PCR 16");
	REFUSE_MASK(TPMPOLICY_PCR(24), "PCR 24 does not exist");
	REFUSE_MASK(v2_mask | TPMPOLICY_PCR(31), "PCR 31 does not exist");
	REFUSE_MASK(0, "empty PCR selection");
}

static void test_refusals_leave_digest(void **state)
{
	static const uint8_t zero[TPMPOLICY_DIGEST_SIZE], op[65];
	struct tpmpolicy_pcr_values values = {0};
	uint8_t name[TPMPOLICY_NAME_SIZE], digest[TPMPOLICY_DIGEST_SIZE];
	uint8_t before[TPMPOLICY_DIGEST_SIZE], sel[TPMPOLICY_PCR_SELECTION_SIZE];
	struct diag d = {0};

	unhex(V2_POLICY, before, sizeof(before));
	memcpy(digest, before, sizeof(digest));
	unhex(NV_NAME, name, sizeof(name));

	/* Resettable PCRs are refused by every function that takes a mask. */
	assert_int_equal(tpmpolicy_pcr_selection(TPMPOLICY_PCR(23), sel, &d), -EINVAL);
	assert_int_equal(tpmpolicy_pcr_digest(TPMPOLICY_PCR(16), &values, digest, NULL), -EINVAL);
	assert_int_equal(
	    tpmpolicy_policy_pcr(digest, TPMPOLICY_PCR(7) | TPMPOLICY_PCR(16), zero, NULL),
	    -EINVAL);
	assert_memory_equal(digest, before, sizeof(digest));
	assert_non_null(strstr(d.msg, "PCR 23"));

	/* Names: wrong size, wrong nameAlg. */
	assert_int_equal(tpmpolicy_policy_authorize(digest, name, sizeof(name) - 1, NULL, 0, NULL),
			 -EINVAL);
	name[1] = 0x04; /* sha1 */
	assert_int_equal(tpmpolicy_policy_authorize(digest, name, sizeof(name), NULL, 0, NULL),
			 -EINVAL);
	assert_int_equal(
	    tpmpolicy_policy_nv(digest, op, 8, 0, TPMPOLICY_EO_EQ, name, sizeof(name), NULL),
	    -EINVAL);
	assert_int_equal(tpmpolicy_policy_nv(digest, op, 8, 0, TPMPOLICY_EO_EQ, NULL, 0, NULL),
			 -EINVAL);
	name[1] = 0x0b;

	/* Operands and policyRef: size bounds; operation: a TPM_EO. */
	assert_int_equal(
	    tpmpolicy_policy_nv(digest, op, 0, 0, TPMPOLICY_EO_EQ, name, sizeof(name), NULL),
	    -EINVAL);
	assert_int_equal(
	    tpmpolicy_policy_nv(digest, op, 65, 0, TPMPOLICY_EO_EQ, name, sizeof(name), NULL),
	    -EINVAL);
	assert_int_equal(
	    tpmpolicy_policy_nv(digest, op, 8, 0xfffc, TPMPOLICY_EO_EQ, name, sizeof(name), NULL),
	    -EINVAL);
	assert_int_equal(tpmpolicy_policy_nv(digest, op, 8, 0, (enum tpmpolicy_eo)0x000c, name,
					     sizeof(name), NULL),
			 -EINVAL);
	assert_int_equal(tpmpolicy_policy_authorize(digest, name, sizeof(name), op, 65, NULL),
			 -EINVAL);
	assert_int_equal(tpmpolicy_authorize_ahash(zero, op, 65, before, NULL), -EINVAL);
	assert_memory_equal(digest, before, sizeof(digest));

	/* The limits themselves are accepted. */
	assert_int_equal(tpmpolicy_policy_nv(digest, op, 64, 0xffff - 64, TPMPOLICY_EO_BITCLEAR,
					     name, sizeof(name), NULL),
			 0);
	assert_memory_not_equal(digest, before, sizeof(digest));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pcr_selection_layout),
	    cmocka_unit_test(test_policy_pcr7_fresh),
	    cmocka_unit_test(test_policy_pcr_extended),
	    cmocka_unit_test(test_object_name),
	    cmocka_unit_test(test_policy_authorize),
	    cmocka_unit_test(test_authorize_ahash),
	    cmocka_unit_test(test_policy_nv),
	    cmocka_unit_test(test_authorize_then_nv),
	    cmocka_unit_test(test_check_pcr_mask),
	    cmocka_unit_test(test_refusals_leave_digest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
