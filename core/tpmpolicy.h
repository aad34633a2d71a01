/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/*
 * Policy-session digest math, offline and pure: the values a TPM's policy
 * session would hold after each assertion, computed from bytes alone so a
 * sealing policy can be built and signed without a TPM and unit-tested
 * against digests a real TPM produced (tests/unit/test-tpmpolicy.c).
 *
 * SHA-256 policy sessions and the sha256 PCR bank only. Deliberately no tss2
 * header here: the TPM adapter converts its ESAPI types to these bytes.
 *
 * Every "digest" argument is the running policyDigest (32 bytes), updated in
 * place and only on success. A fresh policy session starts at a zero digest
 * (TPM2_StartAuthSession, Part 3, 11.1; tpmpolicy_init()).
 *
 * Errors: 0, or -EINVAL (bad argument; d says which) or -ENOMEM / -EIO
 * (OpenSSL failed; d says so).
 */

#define TPMPOLICY_DIGEST_SIZE 32 /* SHA-256 */
#define TPMPOLICY_PCR_COUNT 24	 /* PCR 0..23, the PC Client set */
#define TPMPOLICY_NAME_SIZE 34	 /* nameAlg (TPM_ALG_SHA256) + SHA-256 */
/* TPM2B_NONCE / TPM2B_OPERAND are TPM2B_DIGEST: at most sizeof(TPMU_HA),
 * 64 on a TPM implementing SHA-512 (Part 2, 10.4.2). A TPM with a smaller
 * largest hash refuses more; this is the most any TPM accepts. */
#define TPMPOLICY_MAX_BUFFER 64
/* Marshalled TPML_PCR_SELECTION with one sha256 bank: count (4), hash (2),
 * sizeofSelect (1), pcrSelect (3). */
#define TPMPOLICY_PCR_SELECTION_SIZE 10

#define TPMPOLICY_ALG_SHA256 0x000Bu /* Part 2, 6.3 TPM_ALG_ID */

/* Command codes that are hashed into policy digests (Part 2, 6.5.2). */
#define TPMPOLICY_CC_POLICY_NV 0x00000149u
#define TPMPOLICY_CC_POLICY_AUTHORIZE 0x0000016Au
#define TPMPOLICY_CC_POLICY_PCR 0x0000017Fu

/* TPMA_NV bits sealboot's NV indices use (Part 2, 13.4). */
#define TPMPOLICY_NV_OWNERWRITE (1u << 1)
#define TPMPOLICY_NV_WRITEDEFINE (1u << 13)
#define TPMPOLICY_NV_AUTHREAD (1u << 18)
#define TPMPOLICY_NV_OWNERREAD (1u << 17)
#define TPMPOLICY_NV_NO_DA (1u << 25)
#define TPMPOLICY_NV_WRITELOCKED (1u << 11)
#define TPMPOLICY_NV_WRITTEN (1u << 29)
#define TPMPOLICY_NV_COUNTER (1u << 4) /* TPM_NT_COUNTER in bits 7:4 */

/* Bit n set: PCR n selected. */
typedef uint32_t tpmpolicy_pcr_mask_t;
#define TPMPOLICY_PCR(n) ((tpmpolicy_pcr_mask_t)1u << (n))
/* Resettable from software at locality 0 (PC Client PTP: 16 debug, 23
 * application support); a seal to them can be replayed by anyone. */
#define TPMPOLICY_PCR_RESETTABLE (TPMPOLICY_PCR(16) | TPMPOLICY_PCR(23))

/* TPM_EO, the PolicyNV / PolicyCounterTimer comparison (Part 2, 6.8):
 * "NV contents <op> operandB", operands compared as big-endian numbers. */
enum tpmpolicy_eo {
	TPMPOLICY_EO_EQ = 0x0000,
	TPMPOLICY_EO_NEQ = 0x0001,
	TPMPOLICY_EO_SIGNED_GT = 0x0002,
	TPMPOLICY_EO_UNSIGNED_GT = 0x0003,
	TPMPOLICY_EO_SIGNED_LT = 0x0004,
	TPMPOLICY_EO_UNSIGNED_LT = 0x0005,
	TPMPOLICY_EO_SIGNED_GE = 0x0006,
	TPMPOLICY_EO_UNSIGNED_GE = 0x0007,
	TPMPOLICY_EO_SIGNED_LE = 0x0008,
	TPMPOLICY_EO_UNSIGNED_LE = 0x0009,
	TPMPOLICY_EO_BITSET = 0x000A,
	TPMPOLICY_EO_BITCLEAR = 0x000B,
};

/* The refusal: is this a PCR set sealboot may seal to? Rejects an empty set,
 * any PCR above 23 and the software-resettable PCRs 16 and 23. 0 or -EINVAL
 * with d naming the offending PCR. */
int tpmpolicy_check_pcr_mask(tpmpolicy_pcr_mask_t mask, struct diag *d);
/* The same check for a caller that names the fault in its own words (a
 * document's member): the reason, without tpmpolicy's prefix, into why. 0 or
 * -EINVAL. */
#define TPMPOLICY_WHY_MAX 200
int tpmpolicy_pcr_mask_why(tpmpolicy_pcr_mask_t mask, char *why, size_t len);

/* Policy digest of a fresh session: all zero. */
void tpmpolicy_init(uint8_t digest[TPMPOLICY_DIGEST_SIZE]);

/* Marshal the TPML_PCR_SELECTION for one sha256 bank (Part 2, 10.9.7 and
 * 10.6.2): count=1, hash=TPM_ALG_SHA256, sizeofSelect=3, pcrSelect[n / 8]
 * bit (n % 8) for PCR n. The mask must pass tpmpolicy_check_pcr_mask(). */
int tpmpolicy_pcr_selection(tpmpolicy_pcr_mask_t mask, uint8_t out[TPMPOLICY_PCR_SELECTION_SIZE],
			    struct diag *d);

/* The sha256 bank as the caller expects it at unseal time: v[n] is PCR n.
 * A struct, not a bare 2-D array, so a non-const one passes as const. */
struct tpmpolicy_pcr_values {
	uint8_t v[TPMPOLICY_PCR_COUNT][TPMPOLICY_DIGEST_SIZE];
};

/* pcrDigest for TPM2_PolicyPCR: SHA-256 over the selected PCR values
 * concatenated in ascending PCR order (Part 3, 23.7). Unselected entries are
 * not read. */
int tpmpolicy_pcr_digest(tpmpolicy_pcr_mask_t mask, const struct tpmpolicy_pcr_values *values,
			 uint8_t out[TPMPOLICY_DIGEST_SIZE], struct diag *d);

/* TPM2_PolicyPCR (Part 3, 23.7):
 *   digest' = H(digest || TPM_CC_PolicyPCR || pcrs || pcrDigest) */
int tpmpolicy_policy_pcr(uint8_t digest[TPMPOLICY_DIGEST_SIZE], tpmpolicy_pcr_mask_t mask,
			 const uint8_t pcr_digest[TPMPOLICY_DIGEST_SIZE], struct diag *d);

/* The Name of an object from its marshalled TPMT_PUBLIC (Part 1, 16):
 * nameAlg || H_nameAlg(TPMT_PUBLIC). The bytes are the TPMT_PUBLIC, without
 * the TPM2B size prefix; their own nameAlg (offset 2) must be SHA-256. */
int tpmpolicy_object_name(const uint8_t *tpmt_public, size_t len, uint8_t out[TPMPOLICY_NAME_SIZE],
			  struct diag *d);

/* TPM2_PolicyAuthorize (Part 3, 23.16). The digest is reset, whatever it was:
 *   digest' = H(H(0^32 || TPM_CC_PolicyAuthorize || keySign) || policyRef)
 * keySign is the signing key's Name (sha256: TPMPOLICY_NAME_SIZE bytes,
 * starting 0x000B); policyRef may be empty (ref_len 0, ref may be NULL). */
int tpmpolicy_policy_authorize(uint8_t digest[TPMPOLICY_DIGEST_SIZE], const uint8_t *key_name,
			       size_t name_len, const uint8_t *ref, size_t ref_len, struct diag *d);

/* aHash, what the authorizing key signs to approve a policy (Part 3, 23.16;
 * with a SHA-256 signing scheme): H(approvedPolicy || policyRef). */
int tpmpolicy_authorize_ahash(const uint8_t approved[TPMPOLICY_DIGEST_SIZE], const uint8_t *ref,
			      size_t ref_len, uint8_t out[TPMPOLICY_DIGEST_SIZE], struct diag *d);

/* TPM2_PolicyNV (Part 3, 23.9):
 *   args    = H(operandB || offset || operation)
 *   digest' = H(digest || TPM_CC_PolicyNV || args || nvIndex->Name)
 * operandB is 1..TPMPOLICY_MAX_BUFFER bytes; nv_name is the index's Name
 * (sha256, TPMPOLICY_NAME_SIZE bytes). Note the Name covers TPMA_NV_WRITTEN:
 * take it after the index was first written. */
int tpmpolicy_policy_nv(uint8_t digest[TPMPOLICY_DIGEST_SIZE], const uint8_t *operand_b,
			size_t operand_len, uint16_t offset, enum tpmpolicy_eo operation,
			const uint8_t *nv_name, size_t name_len, struct diag *d);

/* The Name of an NV index (Part 1, 16; Part 2, 13.5 TPMS_NV_PUBLIC):
 *   sha256 || H(nvIndex || nameAlg || attributes || authPolicy (empty) ||
 *              dataSize)
 * for an index with nameAlg sha256 and no authPolicy, as sealboot defines
 * them. The Name changes with the attributes (TPMA_NV_WRITTEN on the first
 * write, WRITELOCKED), so pass those as the TPM holds them at policy time. */
void tpmpolicy_nv_name(uint32_t index, uint32_t attributes, uint16_t data_size,
		       uint8_t out[TPMPOLICY_NAME_SIZE]);

/* The PCR policy an admin approves with PolicyAuthorize (docs/pcrs.md):
 *   PolicyPCR(mask, pcr_digest) then
 *   PolicyNV(counter <= serial: operandB = serial as 8 big-endian bytes,
 *            offset 0, TPM_EO_UNSIGNED_LE, counter's Name)
 * so raising the counter above a policy's serial retires it for good. */
int tpmpolicy_approved_pcr_policy(tpmpolicy_pcr_mask_t mask,
				  const uint8_t pcr_digest[TPMPOLICY_DIGEST_SIZE], uint64_t serial,
				  const uint8_t counter_name[TPMPOLICY_NAME_SIZE],
				  uint8_t out[TPMPOLICY_DIGEST_SIZE], struct diag *d);
