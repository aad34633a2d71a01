/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "approval.h"
#include "diag.h"
#include "tpm.h"

/*
 * Attestation with the appliance's attestation key (docs/formats/quote.md):
 * a quote over the sealing PCRs and the log PCR with the event log, and the
 * evidence a zeroize receipt carries (TPM2_Certify of the new storage
 * primary, bound to the receipt's digest).
 *
 * Making them needs the TPM (anchor); checking them is offline
 * (sealboot-admin). Verification errors, in the order checked:
 *   not a document of that format     -EBADMSG DIAG_MALFORMED
 *   another attestation key           -EKEYREJECTED DIAG_TRUST
 *   signature does not verify         -EBADMSG DIAG_SIGNATURE
 *   nonce / receipt digest differs    -ESTALE DIAG_EXPIRED
 *   PCRs, event log, approved state,
 *   receipt contents                  -EBADE DIAG_CONTENT
 */
#define ATTEST_MAX_BYTES (256u * 1024u)
#define ATTEST_NONCE_MAX 64

/* The quote document for nonce (1..64 bytes), with the event log text
 * (eventlog.jsonl of this boot, may be empty). *ret malloc'd. */
int attest_quote(struct tpm *t, tpmpolicy_pcr_mask_t mask, const uint8_t *nonce, size_t nonce_len,
		 const char *eventlog, char **ret, struct diag *d);

/* Check a quote document against the attestation key ak (recorded by the
 * owner), the nonce the verifier chose and, when ap is not NULL, the
 * approved PCR policy: the PCRs the approval names hold its values, PCR 15
 * replayed up to the unseal is the approved value, and the log ends with
 * the cap. *ret_summary (malloc'd) says what was checked. */
int attest_verify_quote(const char *doc, size_t len, EVP_PKEY *ak, const uint8_t *nonce,
			size_t nonce_len, const struct approval *ap, char **ret_summary,
			struct diag *d);

/* The evidence for a zeroize receipt: the storage primary certified by the
 * attestation key, qualifyingData = SHA-256 of the receipt's bytes. */
int attest_receipt_evidence(struct tpm *t, const char *receipt, size_t len, char **ret,
			    struct diag *d);

/* Check a receipt and its evidence against ak and, when order is not NULL,
 * the order it answers (its bytes): signed by ak over exactly these receipt
 * bytes, the receipt names the appliance ak is, the certified storage
 * primary is the receipt's "after" and differs from "before" (the TPM was
 * cleared) when the receipt says so, and the order's digest, appliance,
 * counter and storage Name match. */
int attest_verify_receipt(const char *receipt, size_t receipt_len, const char *evidence,
			  size_t evidence_len, EVP_PKEY *ak, const char *order, size_t order_len,
			  char **ret_summary, struct diag *d);

/* The attestation key as an OpenSSL key (SPKI PEM: what the owner records
 * and stock tpm2_checkquote reads). */
int attest_ak_pem(const struct tpm_ak *ak, char **ret, struct diag *d);

/*
 * Binding the attestation key to the EK (TPM 2.0 Part 1, 24: credential
 * protection). The appliance shows its identity: the AK and the EK
 * certificate its maker stored. The owner checks the certificate against
 * the maker's CA and makes a credential (MakeCredential, offline, with
 * OpenSSL) that only a TPM holding both that EK and that AK can activate;
 * the appliance activates it and returns the secret; the owner compares.
 */
#define ATTEST_CREDENTIAL_SECRET 32

/* The identity document: AK (point, Name, PEM) and the EK certificate. */
int attest_identity(struct tpm *t, char **ret, struct diag *d);

/* Owner: check the identity's EK certificate against cas (the TPM maker's
 * CA certificates), then make a credential for its AK with a fresh secret.
 * *ret_cred (credential document) and *ret_ak_pem malloc'd. EK certificate
 * not trusted: -EKEYREJECTED DIAG_TRUST. */
int attest_credential(const char *identity, size_t len, const char *ca_pem, size_t ca_len,
		      char **ret_cred, uint8_t ret_secret[ATTEST_CREDENTIAL_SECRET],
		      char **ret_ak_pem, struct diag *d);

/* Appliance: activate a credential document; *ret is the secret. */
int attest_activate(struct tpm *t, const char *cred, size_t len, struct secret **ret,
		    struct diag *d);
