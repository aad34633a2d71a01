/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "secret.h"
#include "tpmpolicy.h"

/*
 * The TPM adapter's attestation half (tpm-attest.c; the connection, sealing,
 * NV and PCRs are tpm.h): the attestation key, quotes and certification of
 * the storage primary, parsing what the TPM signed, the EK certificate and
 * credential activation. Errors as tpm.h lists them; the calls take the
 * handle tpm_open() returned.
 */

struct tpm;

/* --- the attestation key (docs/design.md, "Zeroize") --- */

/* The Name of the attestation key: a restricted ECDSA P-256 signing primary
 * in the endorsement hierarchy from a fixed template
 * (docs/formats/zeroize.md, section 1). TPM2_Clear does not change it: the
 * appliance's identity. Created, named and flushed. */
int tpm_ak_name(struct tpm *t, uint8_t ret[TPMPOLICY_NAME_SIZE], struct diag *d);

/* --- evidence --- */

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
