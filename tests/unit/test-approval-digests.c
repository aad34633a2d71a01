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
#include <errno.h>
#include <tss2/tss2_common.h>
#include <tss2/tss2_tpm2_types.h>

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

/* The steps of an approved unseal name their own failures by enum, with
 * the code's layer and parameter number ignored; anything else is 0 (the
 * caller's generic report under the step's name). */
static void test_step_failures(void **state)
{
	const TSS2_RC param1 = TPM2_RC_P | TPM2_RC_1, rm = TSS2_RESMGR_TPM_RC_LAYER;
	struct diag d = {0};

	(void)state;
	assert_int_equal(tpm_approved_step_failure(TPM_STEP_PCR, TPM2_RC_VALUE | param1, 3, &d),
			 -EPERM);
	assert_string_equal(d.msg, "the PCRs differ from the values the admin approved: this "
				   "boot is not the measured good boot");
	d = (struct diag){0};
	assert_int_equal(tpm_approved_step_failure(TPM_STEP_COUNTER, rm | TPM2_RC_POLICY, 3, &d),
			 -EKEYREVOKED);
	assert_string_equal(d.msg, "the PCR policy (serial 3) was retired by a newer one");
	d = (struct diag){0};
	assert_int_equal(tpm_approved_step_failure(
			     TPM_STEP_UNSEAL, TPM2_RC_POLICY_FAIL | TPM2_RC_S | TPM2_RC_1, 3, &d),
			 -EPERM);
	assert_non_null(strstr(d.msg, "bound to another admin key"));

	/* The same codes at another step are not that step's sub-reason. */
	d = (struct diag){0};
	assert_int_equal(tpm_approved_step_failure(TPM_STEP_COUNTER, TPM2_RC_VALUE, 3, &d), 0);
	assert_int_equal(tpm_approved_step_failure(TPM_STEP_PCR, TPM2_RC_POLICY, 3, &d), 0);
	assert_int_equal(tpm_approved_step_failure(TPM_STEP_AUTHORIZE, TPM2_RC_POLICY_FAIL, 3, &d),
			 0);
	assert_int_equal(tpm_approved_step_failure(TPM_STEP_UNSEAL, TPM2_RC_VALUE, 3, &d), 0);
	assert_int_equal(d.cls, DIAG_NONE);

	assert_string_equal(tpm_approved_step_name(TPM_STEP_PCR), "the PCR check");
	assert_string_equal(tpm_approved_step_name(TPM_STEP_COUNTER),
			    "the PCR policy counter check");
	assert_string_equal(tpm_approved_step_name(TPM_STEP_AUTHORIZE), "PolicyAuthorize");
	assert_string_equal(tpm_approved_step_name(TPM_STEP_UNSEAL), "unsealing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vector),
	    cmocka_unit_test(test_fields_bound),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_step_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
