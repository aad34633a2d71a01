/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "approval.h"
#include "bundle.h"
#include "diag.h"
#include "eventlog.h"
#include "policy.h"
#include "tpm.h"

/*
 * What an appliance holds, shared by sealboot-admin (which writes it) and
 * sealboot-anchor (which trusts it only after checking it against the TPM).
 *
 * State directory (default /var/lib/sealboot; docs/formats/policy.md):
 *   admin.pub          the admin's public key (SPKI PEM)
 *   policy.json        the appliance policy, canonical bytes
 *   policy.json.sig    ECDSA-SHA256 signature (DER) by the admin key
 *   pcr-policy.json    the admin-signed PCR policy (docs/formats/pcr-policy.md)
 *
 * TPM NV (owner hierarchy; docs/pcrs.md):
 *   APPLIANCE_NV_ANCHOR   data, write-locked at provisioning:
 *                         SHA-256 of admin.pub's DER || 8 rollback bases
 *   APPLIANCE_NV_PCR      counter: retires signed PCR policies
 *   APPLIANCE_NV_ROLLBACK counters, one per bundle slot: version floor
 */
#define APPLIANCE_STATE_DIR "/var/lib/sealboot"
#define APPLIANCE_RUN_DIR "/run/sealboot"
#define APPLIANCE_ADMIN_PUB "admin.pub"
#define APPLIANCE_POLICY "policy.json"
#define APPLIANCE_POLICY_SIG "policy.json.sig"
#define APPLIANCE_APPROVAL "pcr-policy.json"
#define APPLIANCE_ZEROIZE_JOURNAL "zeroize.journal"
#define APPLIANCE_ZEROIZE_RECEIPT "zeroize-receipt.json"
#define APPLIANCE_ZEROIZE_EVIDENCE "zeroize-receipt.evidence.json"

#define APPLIANCE_NV_ANCHOR 0x01A5B000u
#define APPLIANCE_NV_PCR 0x01A5B001u
#define APPLIANCE_NV_ZEROIZE 0x01A5B002u  /* counter: one-use zeroize orders */
#define APPLIANCE_NV_ROLLBACK 0x01A5B010u /* + slot */
#define APPLIANCE_SLOTS 8		  /* = POLICY_MAX_BUNDLES */
#define APPLIANCE_NV_ANCHOR_SIZE (32 + 8 * APPLIANCE_SLOTS)
/* A version may move the counter by at most this much in one boot. */
#define APPLIANCE_MAX_VERSION_STEP 1024

struct appliance {
	struct policy *policy;
	uint8_t policy_sha256[32];
	EVP_PKEY *admin;
	uint8_t admin_digest[32];
	struct tpm_admin_key admin_point;
};

/* The anchor record in NV. */
struct appliance_nv {
	uint8_t admin_digest[32];
	uint64_t base[APPLIANCE_SLOTS]; /* counter value that means version 0 */
};

/*
 * Load admin.pub, policy.json and its signature from the state directory;
 * with want_admin set, refuse (DIAG_TRUST) an admin.pub whose digest is not
 * that one (want_what says which key that is, for the message). A policy
 * that seals to the log-only PCR is refused too. The signature is checked over the raw bytes before
 * they are parsed (canonical form required).
 */
int appliance_load(const char *state_dir, const uint8_t *want_admin, const char *want_what,
		   struct appliance *ret, struct diag *d);
void appliance_free(struct appliance *a);

/* Read the anchor record and prove it is write-locked with sealboot's
 * attributes (its Name, computed offline, must equal the TPM's). -ENOENT
 * when the TPM was never provisioned. */
int appliance_nv_read(struct tpm *t, struct appliance_nv *ret, struct diag *d);
/* The record's bytes, and its Name once written and locked. */
void appliance_nv_encode(const struct appliance_nv *nv, uint8_t out[APPLIANCE_NV_ANCHOR_SIZE]);
void appliance_nv_decode(const uint8_t in[APPLIANCE_NV_ANCHOR_SIZE], struct appliance_nv *ret);
/* A copy of the record in the state directory (anchor-record, hex), for an
 * admin who signs PCR policies away from the appliance. */
#define APPLIANCE_RECORD "anchor-record"
int appliance_record_write(const char *state_dir, const struct appliance_nv *nv, struct diag *d);
int appliance_record_read(const char *state_dir, struct appliance_nv *ret, struct diag *d);
void appliance_nv_locked_name(uint8_t out[TPMPOLICY_NAME_SIZE]);

/* Verify bundle i of the policy (CAs from the policy), and check the
 * manifest's name, class and the policy's min_version. verity_lazy: leave
 * disk payloads that have a signed dm-verity tree to dm-verity (their sizes
 * only; bundle.h), the caller activates them. */
int appliance_verify_bundle(const struct appliance *a, size_t i, int64_t at, bool verity_lazy,
			    struct bundle_verified **ret, struct diag *d);

/* The sealing-PCR events up to the unseal: policy (with the digest of the
 * NV record, so rewritten rollback bases change the PCR), then one
 * authority per bundle. The same at provisioning (to predict) and at boot
 * (to extend). */
void appliance_policy_event(const struct appliance *a, const struct appliance_nv *nv,
			    char text[EVENTLOG_TEXT_MAX]);
int appliance_seal_events(const struct appliance *a, const struct appliance_nv *nv,
			  struct bundle_verified *const *v, struct eventlog *log, struct diag *d);

/* Where volume i lives: its policy device or /dev/disk/by-uuid/<uuid>. */
void appliance_volume_path(const struct appliance *a, size_t i, char *out, size_t size);

/* Read and parse pcr-policy.json. */
int appliance_load_approval(const char *state_dir, struct approval *ret, struct diag *d);

/* Check a PCR policy in software before the TPM sees it: it covers exactly
 * the policy's sealing PCRs and the admin key signed it (the TPM checks the
 * signature again; this gives the clear message). DIAG_SIGNATURE or
 * DIAG_MALFORMED, -EBADMSG. */
int appliance_check_approval(const struct appliance *a, const struct approval *ap, struct diag *d);

/* An approval in the TPM adapter's terms. */
void appliance_tpm_approval(const struct appliance *a, const struct approval *ap,
			    struct tpm_pcr_approval *ret);
