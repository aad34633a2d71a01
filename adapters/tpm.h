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
 * read and extend, and the checks that prove we leave the TPM as we found
 * it. Every command that carries a secret runs in a session salted with the
 * storage primary, whose Name is checked first.
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
	uint64_t serial;       /* valid while the counter is <= serial */
	uint32_t counter;      /* the NV counter index */
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
	TPM_STEP_PCR,       /* PolicyPCR */
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

/* The Name of the attestation key: a restricted ECDSA P-256 signing primary
 * in the endorsement hierarchy from a fixed template
 * (docs/formats/zeroize.md, section 1). TPM2_Clear does not change it: the
 * appliance's identity. Created, named and flushed. */
int tpm_ak_name(struct tpm *t, uint8_t ret[TPMPOLICY_NAME_SIZE], struct diag *d);

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

/* --- attestation (the attestation key of tpm_ak_name()) --- */

/* The attestation key's public point, big-endian, and its Name computed
 * offline from the point (the same template): what a verifier derives the
 * appliance_id from. */
struct tpm_ak {
	uint8_t x[32], y[32];
};
int tpm_ak_public(struct tpm *t, struct tpm_ak *ret, struct diag *d);
int tpm_ak_name_of(const struct tpm_ak *ak, uint8_t ret[TPMPOLICY_NAME_SIZE], struct diag *d);

/* TPM-signed evidence: the marshalled TPMS_ATTEST the TPM made and signed,
 * and the ECDSA signature (r, s) over its SHA-256 by the attestation key.
 * sig is also kept as the marshalled TPMT_SIGNATURE (what tpm2_checkquote
 * reads). */
#define TPM_ATTEST_MAX 1024
struct tpm_evidence {
	uint8_t attest[TPM_ATTEST_MAX];
	size_t attest_len;
	uint8_t sig[256];
	size_t sig_len;
};

/* TPM2_Quote over the SHA-256 PCRs in mask with qualifyingData (1..64
 * bytes). */
int tpm_quote(struct tpm *t, tpmpolicy_pcr_mask_t mask, const uint8_t *qualifying, size_t len,
	      struct tpm_evidence *ret, struct diag *d);

/* TPM2_Certify of the storage primary by the attestation key: the TPM
 * vouches that its storage primary's Name is what the attest says, now
 * (after TPM2_Clear: a new one). */
int tpm_certify_storage(struct tpm *t, const uint8_t *qualifying, size_t len,
			struct tpm_evidence *ret, struct diag *d);

/* What a TPMS_ATTEST says (pure: no TPM needed). -EBADMSG (DIAG_MALFORMED)
 * when it is not a TPM-generated quote or certify structure. */
enum tpm_attest_type { TPM_ATTEST_QUOTE, TPM_ATTEST_CERTIFY };
struct tpm_attest_info {
	enum tpm_attest_type type;
	uint8_t extra[64];
	size_t extra_len;
	uint64_t clock;
	uint32_t reset_count, restart_count;
	/* quote */
	tpmpolicy_pcr_mask_t mask;
	uint8_t pcr_digest[TPMPOLICY_DIGEST_SIZE];
	/* certify */
	uint8_t name[TPMPOLICY_NAME_SIZE];
};
int tpm_attest_parse(const uint8_t *attest, size_t len, struct tpm_attest_info *ret,
		     struct diag *d);
/* The r and s of a marshalled TPMT_SIGNATURE (ECDSA, SHA-256 only). */
int tpm_signature_parse(const uint8_t *sig, size_t len, uint8_t r[32], uint8_t s[32],
			struct diag *d);

/* --- the attestation key bound to the EK (credential activation) --- */

/* The RSA 2048 EK certificate the TPM maker stored at NV 0x01C00002 (DER,
 * *ret malloc'd). -ENOENT when there is none. */
#define TPM_EK_CERT_RSA 0x01C00002u
int tpm_ek_cert(struct tpm *t, uint8_t **ret, size_t *ret_len, struct diag *d);

/* TPM2_ActivateCredential with the attestation key and the RSA EK (the TCG
 * default template): the TPM releases the credential only if the EK decrypts
 * the secret and the blob names this attestation key, i.e. both keys are in
 * this TPM. blob: a marshalled TPM2B_ID_OBJECT; secret: TPM2B_ENCRYPTED_SECRET.
 * -EPERM when the blob is not for this TPM's keys. */
int tpm_ak_activate(struct tpm *t, const uint8_t *blob, size_t blob_len, const uint8_t *secret,
		    size_t secret_len, struct secret **ret, struct diag *d);
