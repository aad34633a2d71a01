/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdint.h>

#include "diag.h"
#include "tpmpolicy.h"

/*
 * The TPM adapter (tpm2-tss ESAPI): the only module that includes tss2
 * headers. TSS2_RC values are decoded here, once, into a -errno and a
 * one-line diagnosis (DIAG_INTERNAL class unless noted):
 *   no TPM / TCTI unreachable  -ENODEV
 *   dictionary-attack lockout  -ENOLCK
 *   policy check failed        -EPERM
 *   wrong locality for a PCR   -EACCES
 *   anything else              -EIO, with the TSS's decoded text
 *
 * First slice for the anchor issue: open/close, PCR read and extend on the
 * SHA-256 bank, a trial-session PolicyPCR digest (to cross-check the pure
 * policy math against a real TPM), and a count of loaded objects and
 * sessions (to prove we leave the TPM as we found it). Sealing, NV and salted
 * sessions come next.
 */

struct tpm;

/* tcti: a tpm2-tss TCTI string ("swtpm:host=127.0.0.1,port=2321",
 * "device:/dev/tpmrm0"); NULL means the kernel resource manager. */
int tpm_open(const char *tcti, struct tpm **ret, struct diag *d);
void tpm_close(struct tpm *t);

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
