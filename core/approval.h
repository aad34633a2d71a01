/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "tpmpolicy.h"

/*
 * The signed PCR policy file, pcr-policy.json (docs/formats/pcr-policy.md):
 * the PCR values the admin approves for this appliance, a serial for the
 * rollback counter, and the admin's ECDSA signature (r, s) over the TPM's
 * aHash of the approved policy. The signature is checked by the TPM itself
 * (TPM2_VerifySignature) and in software first for a clear message; the
 * values are there so the anchor can name the PCR that differs.
 *
 *   {"format":"sealboot-pcr-policy","format_version":1,"serial":7,
 *    "pcrs":[{"pcr":7,"sha256":"..."},{"pcr":15,"sha256":"..."}],
 *    "signature":{"r":"...","s":"..."}}
 */
#define APPROVAL_FORMAT "sealboot-pcr-policy"
#define APPROVAL_FORMAT_VERSION 1
#define APPROVAL_MAX_BYTES (16u * 1024u)

struct approval {
	uint64_t serial;
	tpmpolicy_pcr_mask_t mask;
	struct tpmpolicy_pcr_values values; /* selected entries only */
	uint8_t sig_r[32], sig_s[32];
};

int approval_serialize(const struct approval *a, char **ret, size_t *ret_len);
int approval_parse(const char *buf, size_t len, struct approval *ret, struct diag *d);

/* The PCRs in mask whose values in a differ from now: a mask, 0 if none. */
tpmpolicy_pcr_mask_t approval_differs(const struct approval *a,
				      const struct tpmpolicy_pcr_values *now);
