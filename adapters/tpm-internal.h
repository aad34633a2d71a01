/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Inside the TPM adapter only (tpm.c, tpm-attest.c): the connection and the
 * helpers both halves use. Nothing outside adapters/tpm*.c includes this.
 */
#include <stdbool.h>
#include <stdint.h>
#include <tss2/tss2_esys.h>

#include "diag.h"
#include "tpmpolicy.h"

struct tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
	char where[128];
	/* Set by the first failure that leaves ESAPI's context in an unknown
	 * state (anything but a clean TPM response code): no ESAPI call runs
	 * on it again. dead: that failure was the TPM no longer answering. */
	bool lost, dead;
	char lost_why[200];
};

/* The one place a TSS2_RC becomes an errno and a message (tpm.h lists
 * them); notes a lost connection so no ESAPI call follows. */
int tpm_rc_fail(struct tpm *t, TSS2_RC rc, const char *what, struct diag *d);

/* A response code as compared with TPM2_RC_*: without its layer and, for a
 * format-one code, without its parameter/handle/session number. */
TSS2_RC tpm_rc_code(TSS2_RC rc);

/* Flush a transient object or session and set *h to ESYS_TR_NONE (no-op
 * for ESYS_TR_NONE). */
void tpm_flush(struct tpm *t, ESYS_TR *h);

/* The SHA-256 bank's selection of the PCRs in mask. */
void tpm_pcr_selection(tpmpolicy_pcr_mask_t mask, TPML_PCR_SELECTION *sel);

/* The owner-hierarchy storage primary (sealboot's fixed template) and its
 * Name as the TPM reports it. */
int tpm_create_primary(struct tpm *t, ESYS_TR *ret, struct diag *d);
int tpm_primary_name(struct tpm *t, ESYS_TR primary, uint8_t out[TPMPOLICY_NAME_SIZE],
		     struct diag *d);

/* The Name of a public area, computed offline (nameAlg SHA-256). */
int tpm_public_name(const TPM2B_PUBLIC *pub, const char *what, uint8_t ret[TPMPOLICY_NAME_SIZE],
		    struct diag *d);

/* An ESYS_TR for an NV index (-ENOENT when it is not defined), released
 * with tpm_nv_release(). */
int tpm_nv_handle(struct tpm *t, uint32_t index, const char *what, ESYS_TR *ret, struct diag *d);
void tpm_nv_release(struct tpm *t, ESYS_TR *h);
