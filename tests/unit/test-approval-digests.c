/* SPDX-License-Identifier: Apache-2.0 */
/* anchor/tpm: tpm_approval_digests, the one computation of an approval's
 * approved policy and aHash that sealboot-admin signs, the anchor checks
 * offline and the TPM verifies. Pinned against a vector computed outside
 * the tree from TPM 2.0 Part 3 (23.7 PolicyPCR, 23.9 PolicyNV, 23.16
 * PolicyAuthorize), with Python's hashlib:
 *   counter Name = 000b || H(01a5b001 || 000b || 22060012 || 0000 || 0008)
 *     (OWNERWRITE|OWNERREAD|AUTHREAD|NO_DA|NT_COUNTER|WRITTEN)
 *   approved = H(H(0^32 || 0000017f || 00000001 000b 03 808000 || 11^32)
 *              || 00000149 || H(0000000000000005 || 0000 || 0009) || Name)
 *   aHash = H(approved)  (empty policyRef) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "appliance.h"
#include "hex.h"
#include "tpm.h"

#define APPROVED "237f521ccea61048f76c5beb42f43ba6d5d1af39fa60ae9a49eaac9022a6f245"
#define AHASH "af65f441ead3e199e3bafbe9cdca5a04f284df8a3040e3baa1b1ea12b96393f4"

static struct tpm_pcr_approval sample(void)
{
	struct tpm_pcr_approval a = {
		.mask = TPMPOLICY_PCR(7) | TPMPOLICY_PCR(15),
		.serial = 5,
		.counter = APPLIANCE_NV_PCR,
	};

	memset(a.pcr_digest, 0x11, sizeof(a.pcr_digest));
	return a;
}

static void assert_hex(const uint8_t *got, const char *want)
{
	char h[2 * TPMPOLICY_DIGEST_SIZE + 1];

	hex_encode(got, TPMPOLICY_DIGEST_SIZE, h);
	assert_string_equal(h, want);
}

static void test_vector(void **state)
{
	struct tpm_pcr_approval a = sample();
	uint8_t approved[TPMPOLICY_DIGEST_SIZE], ahash[TPMPOLICY_DIGEST_SIZE];
	struct diag d = {0};

	(void)state;
	assert_int_equal(tpm_approval_digests(&a, approved, ahash, &d), 0);
	assert_hex(approved, APPROVED);
	assert_hex(ahash, AHASH);
	/* Either output alone gives the same bytes. */
	memset(ahash, 0, sizeof(ahash));
	assert_int_equal(tpm_approval_digests(&a, NULL, ahash, &d), 0);
	assert_hex(ahash, AHASH);
	assert_int_equal(d.cls, DIAG_NONE);
}

/* Every field is covered: changing one changes the aHash. */
static void test_fields_bound(void **state)
{
	uint8_t base[TPMPOLICY_DIGEST_SIZE], got[TPMPOLICY_DIGEST_SIZE];
	struct tpm_pcr_approval a;

	(void)state;
	a = sample();
	assert_int_equal(tpm_approval_digests(&a, NULL, base, NULL), 0);
	a = sample();
	a.serial = 6;
	assert_int_equal(tpm_approval_digests(&a, NULL, got, NULL), 0);
	assert_memory_not_equal(got, base, sizeof(got));
	a = sample();
	a.counter++;
	assert_int_equal(tpm_approval_digests(&a, NULL, got, NULL), 0);
	assert_memory_not_equal(got, base, sizeof(got));
	a = sample();
	a.mask = TPMPOLICY_PCR(7);
	assert_int_equal(tpm_approval_digests(&a, NULL, got, NULL), 0);
	assert_memory_not_equal(got, base, sizeof(got));
	a = sample();
	a.pcr_digest[31] ^= 1;
	assert_int_equal(tpm_approval_digests(&a, NULL, got, NULL), 0);
	assert_memory_not_equal(got, base, sizeof(got));
}

/* A mask the policy refuses (a resettable PCR) is refused here too, and
 * nothing is written. */
static void test_refused(void **state)
{
	struct tpm_pcr_approval a = sample();
	uint8_t ahash[TPMPOLICY_DIGEST_SIZE];
	static const uint8_t zero[TPMPOLICY_DIGEST_SIZE];
	struct diag d = {0};

	(void)state;
	memset(ahash, 0, sizeof(ahash));
	a.mask |= TPMPOLICY_PCR(16);
	assert_true(tpm_approval_digests(&a, NULL, ahash, &d) < 0);
	assert_memory_equal(ahash, zero, sizeof(ahash));
	assert_int_equal(d.cls, DIAG_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_fields_bound),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
