/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "sealed.h"
#include "secret.h"
#include "tpmpolicy.h"

/*
 * The TPM adapter (tpm2-tss ESAPI): the only module that includes tss2
 * headers. TSS2_RC values are decoded here, once, into a -errno and a
 * one-line diagnosis (DIAG_INTERNAL class unless noted):
 *   no TPM / TCTI unreachable  -ENODEV (also: the TPM stopped answering in
 *                              the middle, and ESAPI's "bad sequence" that
 *                              follows a failed exchange)
 *   dictionary-attack lockout  -ENOLCK
 *   policy check failed        -EPERM
 *   wrong locality for a PCR   -EACCES
 *   anything else              -EIO, with the TSS's decoded text
 *
 * Sealing and unsealing (PolicyPCR, or an admin-approved PCR policy through
 * PolicyAuthorize with a PolicyNV counter), NV data and counter indices, PCR
 * read and extend, TPM2_Clear, and the checks that prove we leave the TPM
 * as we found it (the attestation half of the adapter: tpm-attest.h). Every command that carries a
 * secret runs in a session salted with the storage primary, whose Name is checked first.
 */

struct tpm;

/* tcti: a tpm2-tss TCTI string ("swtpm:host=127.0.0.1,port=2321",
 * "device:/dev/tpmrm0"); NULL means the kernel resource manager. */
int tpm_open(const char *tcti, struct tpm **ret, struct diag *d);
void tpm_close(struct tpm *t);

/*
 * After a failure that is not a TPM response code (the connection broke, a
 * response did not check out), ESAPI's context is in an unknown state: the
 * handle is "lost" and every later call fails at once, without touching
 * ESAPI, with the first failure's reason (-ENODEV when that failure was the
 * TPM no longer answering: tpm_dead). Open a new handle to go on.
 */
bool tpm_lost(const struct tpm *t);
bool tpm_dead(const struct tpm *t);

/* Read the selected PCRs of the SHA-256 bank into out->v[n]. */
int tpm_pcr_read(struct tpm *t, tpmpolicy_pcr_mask_t mask, struct tpmpolicy_pcr_values *out,
		 struct diag *d);

/* Extend PCR pcr of the SHA-256 bank with digest. */
int tpm_pcr_extend(struct tpm *t, unsigned pcr, const uint8_t digest[TPMPOLICY_DIGEST_SIZE],
		   struct diag *d);

/* The policy digest the TPM computes for PolicyPCR over mask with the PCRs'
 * current values, in a trial session that is flushed before returning. */
int tpm_trial_policy_pcr(struct tpm *t, tpmpolicy_pcr_mask_t mask,
			 uint8_t out[TPMPOLICY_DIGEST_SIZE], struct diag *d);

/* How many transient objects and sessions are loaded in the TPM now. */
int tpm_count_loaded(struct tpm *t, unsigned *ret_transient, unsigned *ret_sessions,
		     struct diag *d);

/* struct tpm_sealed, the sealed secret as stored: sealed.h. */

/*
 * Seal data (1..128 bytes) so that only a policy session whose digest is
 * policy can unseal it. The object has no password path (userWithAuth clear)
 * and is noDA: with no authValue to guess, dictionary-attack counting would
 * only let power cuts lock the TPM. The sensitive data travels to the TPM
 * inside a salted session with command parameter encryption.
 */
int tpm_seal(struct tpm *t, const uint8_t policy[TPMPOLICY_DIGEST_SIZE], const struct secret *data,
	     struct tpm_sealed *ret, struct diag *d);

/*
 * Unseal with a policy session satisfying PolicyPCR over mask (the PCRs'
 * current values). The session is salted with the storage primary and
 * encrypts the response, so the secret never crosses the bus in clear.
 * Retried (bounded) when a PCR changes between PolicyPCR and Unseal. A PCR
 * mismatch is -EPERM. Every handle and session is flushed before returning.
 */
int tpm_unseal_pcr(struct tpm *t, const struct tpm_sealed *sealed, tpmpolicy_pcr_mask_t mask,
		   struct secret **ret, struct diag *d);

/*
 * NV indices in the owner hierarchy (empty owner auth for now; provisioning
 * decides). TPM_NV_DATA holds bytes, written whole and write-lockable until
 * the index is undefined (WRITEDEFINE: a lock survives reboots). TPM_NV_COUNTER
 * only counts up: the rollback counter. Extra errnos: index exists -EEXIST,
 * no such index -ENOENT, write-locked -EROFS, counter never incremented
 * -ENODATA. Nothing read here is secret; secrets never go to NV.
 */
enum tpm_nv_kind {
	TPM_NV_DATA,
	TPM_NV_COUNTER,
};

int tpm_nv_define(struct tpm *t, uint32_t index, enum tpm_nv_kind kind, uint16_t size,
		  struct diag *d);
int tpm_nv_undefine(struct tpm *t, uint32_t index, struct diag *d);
int tpm_nv_write(struct tpm *t, uint32_t index, const void *data, uint16_t len, struct diag *d);
int tpm_nv_write_lock(struct tpm *t, uint32_t index, struct diag *d);
int tpm_nv_read(struct tpm *t, uint32_t index, void *buf, uint16_t len, struct diag *d);
int tpm_nv_increment(struct tpm *t, uint32_t index, struct diag *d);
int tpm_nv_read_counter(struct tpm *t, uint32_t index, uint64_t *ret, struct diag *d);

/* The Name of an NV index as the TPM reports it (NV_ReadPublic). */
int tpm_nv_name(struct tpm *t, uint32_t index, uint8_t ret[TPMPOLICY_NAME_SIZE], struct diag *d);

/* The Name sealboot's counter index has once it was incremented: what an
 * admin's PolicyNV is computed over, offline (tpmpolicy_nv_name). */
void tpm_nv_counter_name(uint32_t index, uint8_t ret[TPMPOLICY_NAME_SIZE]);

/* The admin key as the TPM sees it: a P-256 ECDSA-SHA256 verification key,
 * public part only. Its Name, computed offline, goes into PolicyAuthorize. */
struct tpm_admin_key {
	uint8_t x[32], y[32];
};
int tpm_admin_key_name(const struct tpm_admin_key *k, uint8_t ret[TPMPOLICY_NAME_SIZE],
		       struct diag *d);

/*
 * A PCR policy approved by the admin key (docs/formats/pcr-policy.md): the
 * sealed object's authPolicy is PolicyAuthorize(admin key Name, empty ref);
 * the admin signs, for each platform state, the approved policy
 * tpmpolicy_approved_pcr_policy(mask, pcr_digest, serial, counter Name).
 */
struct tpm_pcr_approval {
	tpmpolicy_pcr_mask_t mask;
	uint8_t pcr_digest[TPMPOLICY_DIGEST_SIZE]; /* expected PCR values, hashed */
	uint64_t serial;			   /* valid while the counter is <= serial */
	uint32_t counter;			   /* the NV counter index */
	struct tpm_admin_key key;
	uint8_t sig_r[32], sig_s[32]; /* ECDSA over aHash(approved, empty ref) */
};

/*
 * The policy an approval approves, tpmpolicy_approved_pcr_policy() over the
 * Name of its counter once incremented, and the aHash the admin's signature
 * covers (tpmpolicy_authorize_ahash, empty policyRef): one computation for
 * the signer (sealboot-admin), the anchor's offline check and the TPM's
 * VerifySignature, so they cannot drift. Pure: no TPM is used. Either output
 * may be NULL. Errors: those of tpmpolicy_approved_pcr_policy().
 */
int tpm_approval_digests(const struct tpm_pcr_approval *a,
			 uint8_t ret_approved[TPMPOLICY_DIGEST_SIZE],
			 uint8_t ret_ahash[TPMPOLICY_DIGEST_SIZE], struct diag *d);

/*
 * The steps of an approved unseal, in order, each its own failure: a TPM
 * error at a step is its sub-reason when tpm_approved_step_failure() knows
 * it (returns < 0 with d set: PCRs not the approved ones -EPERM, counter
 * above the serial -EKEYREVOKED, the key bound to another admin -EPERM),
 * else 0 and the caller reports the code under tpm_approved_step_name().
 * Pure: the code's layer and format-one parameter number are ignored.
 */
enum tpm_approved_step {
	TPM_STEP_PCR,	    /* PolicyPCR */
	TPM_STEP_COUNTER,   /* PolicyNV on the counter */
	TPM_STEP_AUTHORIZE, /* PolicyAuthorize */
	TPM_STEP_UNSEAL,    /* Unseal */
};
const char *tpm_approved_step_name(enum tpm_approved_step step);
int tpm_approved_step_failure(enum tpm_approved_step step, uint32_t rc, uint64_t serial,
			      struct diag *d);

/*
 * Unseal under an admin-approved PCR policy: the TPM checks the signature
 * (VerifySignature, key loaded public-only in the owner hierarchy), then
 * PolicyPCR with the approved digest, PolicyNV on the counter and
 * PolicyAuthorize, in a salted session with response encryption.
 * Errors: signature not the admin's -EBADMSG (DIAG_SIGNATURE); PCRs differ
 * from the approved values -EPERM; counter above the serial (a retired
 * policy) -EKEYREVOKED; plus those of tpm_unseal_pcr().
 */
int tpm_unseal_approved(struct tpm *t, const struct tpm_sealed *sealed,
			const struct tpm_pcr_approval *a, struct secret **ret, struct diag *d);

/* The dictionary-attack state (TPM2_GetCapability). sealboot's objects and
 * indices are all noDA: they neither count failures nor stop working in
 * lockout, so the anchor can report a lockout without deepening it. */
struct tpm_da {
	bool lockout;
	uint32_t failures, max_failures, interval; /* interval in seconds */
};
int tpm_da_state(struct tpm *t, struct tpm_da *ret, struct diag *d);

/* --- zeroize (docs/design.md, "Zeroize") --- */

/* The Name of the storage primary every sealed key lives under; it changes
 * with every TPM2_Clear. */
int tpm_storage_name(struct tpm *t, uint8_t ret[TPMPOLICY_NAME_SIZE], struct diag *d);

/* Can TPM2_Clear be authorized with the (empty) lockout authorization?
 * -EACCES (DIAG_INTERNAL) with the reason when lockoutAuthSet or
 * disableClear is set, or the TPM is in lockout. */
int tpm_clear_possible(struct tpm *t, struct diag *d);

/* TPM2_Clear through the lockout hierarchy: a new storage seed (every object
 * sealed before is dead for good), every owner NV index and persistent
 * object deleted, owner/endorsement/lockout authorization emptied. */
int tpm_clear(struct tpm *t, struct diag *d);

/* The handles of one range the TPM holds now (TPM2_GetCapability), e.g.
 * first 0x01000000 for NV indices, 0x81000000 for persistent objects;
 * at most max, *ret_n of them, ascending. */
int tpm_handles(struct tpm *t, uint32_t first, uint32_t *out, size_t max, size_t *ret_n,
		struct diag *d);

/* Attestation (the attestation key, quotes, certification, the EK and
 * credential activation): tpm-attest.h. */
