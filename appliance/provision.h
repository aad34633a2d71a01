/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "appliance.h"
#include "bootpredict.h"
#include "diag.h"
#include "secret.h"
#include "tpm.h"

/*
 * The security admin's operations on an appliance: provisioning its TPM and
 * volumes and signing PCR policies (docs/formats/pcr-policy.md). A library
 * API, as core/bundle.h is for sealboot-sign: sealboot-admin parses the
 * command line, calls these and prints; nothing here prints or exits.
 *
 * Every call returns 0 (or the count or outcome it names) or -errno with d
 * set by the code that saw the failure (first cause wins, util/diag.h).
 * -EEXIST always means "refused: it would destroy data or another admin's
 * provisioning" (sealboot-admin's exit status 9); -ENODEV and -ENOLCK come
 * from the TPM (no TPM, lockout; exit status 8).
 */

/*
 * Step 1 of provisioning: the TPM. Reads the anchor record; when it names
 * this admin, *ret_fresh = false and nothing is written. Otherwise defines
 * the PCR-policy counter and one rollback counter per bundle slot (reusing
 * those an interrupted run left), then writes and write-locks the record.
 * Errors, in order: the record names another admin key (-EEXIST, trust);
 * the TPM's own failures (tpm.h: -ENODEV, -ENOLCK, -EIO ...).
 */
int provision_tpm(struct tpm *t, const struct appliance *a, bool *ret_fresh, struct diag *d);

/*
 * Step 2: copy the TPM's anchor record into STATE_DIR (appliance.h), so a
 * workstation can later sign PCR policies without the TPM. Errors: the
 * TPM's (reading the record), -errno writing the file (internal).
 */
int provision_record(struct tpm *t, const char *dir, struct diag *d);

/* What provision_volume() did. */
enum provision_volume_outcome {
	PROVISION_VOLUME_KEPT,	    /* already carried this appliance's token */
	PROVISION_VOLUME_FORMATTED, /* new LUKS2 volume with a sealed key */
	PROVISION_VOLUME_ENROLLED,  /* existing LUKS2 volume, its key now sealed */
};

/*
 * Step 4, per volume i of the policy: seal a volume key to
 * PolicyAuthorize(admin key) and put the token on the volume: format it
 * (format true: a new random key; the volume must not be LUKS2 yet) or
 * enroll it (its existing key, through the passphrase current). Nothing is
 * written to the volume before the TPM has sealed the key. With recovery,
 * that passphrase gets a keyslot too. Errors, in order checked: the volume's
 * UUID differs from the policy's (-EBADE, content); it is LUKS2 and format
 * was asked (-EEXIST, usage); it is LUKS2 and no current passphrase
 * (-EINVAL, usage); it is not LUKS2 and format was not asked (-EINVAL,
 * usage); failures of the TPM (tpm.h) and of libcryptsetup (luks.h).
 */
int provision_volume(struct tpm *t, const struct appliance *a, size_t i, bool format,
		     const struct secret *current, const struct secret *recovery,
		     enum provision_volume_outcome *ret, struct diag *d);

/* Is every name in format[] a volume of the policy? Returns the first that
 * is not, or NULL. */
const char *provision_unknown_volume(const struct appliance *a, const char *const *format,
				     size_t n_format);

/* Where the PCR values other than the sealing PCR come from. */
struct provision_approval_opts {
	int64_t at;			/* bundle certificates judged at, 0 = now */
	tpmpolicy_pcr_mask_t pcr_given; /* PCRs whose values pcr holds */
	const struct tpmpolicy_pcr_values *pcr;
	const struct bootpredict_args *boot; /* artifacts to predict from, or NULL */
};

/*
 * Step 3 (and `pcr-policy sign`): predict the PCR values of a good boot and
 * write STATE_DIR/pcr-policy.json signed by key with this serial. The
 * sealing PCR is predicted from the policy, its verified bundles and the
 * anchor record (from t, or when t is NULL the copy in STATE_DIR); the
 * others are taken from o->pcr, predicted from o->boot, or read from t, in
 * that order. *ret_predicted_boot (may be NULL) gets the PCRs predicted from
 * the boot artifacts. Errors, in order: the policy seals to the log-only PCR
 * (-EINVAL, usage); a bundle does not verify (bundle.h); the record names
 * another admin key (-EKEYREJECTED, trust); a PCR has no source (-EINVAL,
 * usage); prediction (bootpredict.h) and TPM failures; signing or writing
 * the file (internal).
 */
int provision_sign_approval(const struct provision_approval_opts *o, struct tpm *t,
			    const struct appliance *a, EVP_PKEY *key, uint64_t serial,
			    const char *dir, tpmpolicy_pcr_mask_t *ret_predicted_boot,
			    struct diag *d);
