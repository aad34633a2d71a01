/* SPDX-License-Identifier: Apache-2.0 */
#include "tpm.h"
#include "tpm-internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#define DEFAULT_TCTI "device:/dev/tpmrm0"

/* tss2's TPM2_TRANSIENT_FIRST shifts a signed 0x80 by 24 (undefined
 * behaviour UBSan reports); the same value, unsigned. */
#define TRANSIENT_FIRST UINT32_C(0x80000000)

/* A failure that means the TPM (or the way to it) stopped answering: the
 * TCTI's own errors, a broken connection or response, and ESAPI's "bad
 * sequence", which is what it says to any call after a failed exchange. */
static bool rc_no_answer(TSS2_RC rc)
{
	TSS2_RC base = rc & ~TSS2_RC_LAYER_MASK;
	TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;

	if (layer == TSS2_TPM_RC_LAYER)
		return false;
	return layer == TSS2_TCTI_RC_LAYER || base == TSS2_BASE_RC_IO_ERROR ||
	       base == TSS2_BASE_RC_NO_CONNECTION || base == TSS2_BASE_RC_BAD_SEQUENCE ||
	       base == TSS2_BASE_RC_MALFORMED_RESPONSE ||
	       base == TSS2_BASE_RC_INSUFFICIENT_RESPONSE || base == TSS2_BASE_RC_TRY_AGAIN;
}

/* Before any ESAPI call: the context is known good, or we say why not and
 * make no call. The reason names the exchange that failed first. */
static int check_alive(struct tpm *t, const char *what, struct diag *d)
{
	if (!t->lost)
		return 0;
	if (t->dead)
		return diag_set(d, DIAG_INTERNAL, ENODEV, "%s: no TPM answers at %s (%s)", what,
				t->where, t->lost_why);
	return diag_set(d, DIAG_INTERNAL, EIO,
			"%s: the TPM connection is unusable after an earlier failure (%s)", what,
			t->lost_why);
}

bool tpm_dead(const struct tpm *t)
{
	return t && t->dead;
}

bool tpm_lost(const struct tpm *t)
{
	return t && t->lost;
}

/* Any error that is not a TPM response code leaves ESAPI's context in an
 * unknown state (it moves to an internal-error state on a failed exchange):
 * note it, so no call follows. */
static void note_lost(struct tpm *t, TSS2_RC rc, const char *what)
{
	if (!t || t->lost || (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER)
		return;
	t->lost = true;
	t->dead = rc_no_answer(rc);
	snprintf(t->lost_why, sizeof(t->lost_why), "it %s while %s: %s",
		 t->dead ? "stopped answering" : "failed", what, Tss2_RC_Decode(rc));
}

/* A response code as compared with TPM2_RC_*: without its layer and, for a
 * format-one code, without the parameter/handle/session number its upper
 * bits carry. The one masking, for tpm_rc_fail and the steps that name their
 * own failures. */
TSS2_RC tpm_rc_code(TSS2_RC rc)
{
	TSS2_RC base = rc & ~TSS2_RC_LAYER_MASK;

	return (base & TPM2_RC_FMT1) ? (base & (TPM2_RC_FMT1 | 0x3f)) : base;
}

/* The one place a TSS2_RC becomes an errno and a message. */
int tpm_rc_fail(struct tpm *t, TSS2_RC rc, const char *what, struct diag *d)
{
	TSS2_RC base = rc & ~TSS2_RC_LAYER_MASK;
	TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;
	TSS2_RC fmt1 = tpm_rc_code(rc);

	note_lost(t, rc, what);
	if (rc_no_answer(rc))
		return diag_set(d, DIAG_INTERNAL, ENODEV, "%s: no TPM answers at %s (%s)", what,
				t ? t->where : "?", Tss2_RC_Decode(rc));
	if (layer == TSS2_TPM_RC_LAYER) {
		if (base == TPM2_RC_LOCKOUT)
			return diag_set(d, DIAG_INTERNAL, ENOLCK,
					"%s: the TPM is in dictionary-attack lockout; wait for "
					"its recovery time, do not retry",
					what);
		if (base == TPM2_RC_LOCALITY)
			return diag_set(d, DIAG_INTERNAL, EACCES,
					"%s: not allowed from this locality (%s)", what,
					Tss2_RC_Decode(rc));
		if (base == TPM2_RC_NV_LOCKED)
			return diag_set(d, DIAG_INTERNAL, EROFS, "%s: the NV index is write-locked",
					what);
		if (base == TPM2_RC_NV_DEFINED)
			return diag_set(d, DIAG_INTERNAL, EEXIST, "%s: the NV index already exists",
					what);
		if (base == TPM2_RC_NV_UNINITIALIZED)
			return diag_set(d, DIAG_INTERNAL, ENODATA,
					"%s: the NV index was never written", what);
		if (fmt1 == TPM2_RC_HANDLE)
			return diag_set(d, DIAG_INTERNAL, ENOENT, "%s: no such TPM handle", what);
		if (fmt1 == TPM2_RC_POLICY_FAIL || base == TPM2_RC_POLICY_CC)
			return diag_set(d, DIAG_INTERNAL, EPERM, "%s: TPM policy check failed (%s)",
					what, Tss2_RC_Decode(rc));
	}
	return diag_set(d, DIAG_INTERNAL, EIO, "%s: %s (0x%08x)", what, Tss2_RC_Decode(rc),
			(unsigned)rc);
}

int tpm_open(const char *tcti, struct tpm **ret, struct diag *d)
{
	struct tpm *t = calloc(1, sizeof(*t));
	TSS2_RC rc;
	int r;

	if (!t)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	snprintf(t->where, sizeof(t->where), "%s", tcti ? tcti : DEFAULT_TCTI);
	/* The TSS logs every TPM error on stderr itself; we report each
	 * failure once, in one line, with the decoded code. TSS2_LOG set by
	 * the caller (for debugging) wins. */
	(void)setenv("TSS2_LOG", "all+NONE", 0);
	rc = Tss2_TctiLdr_Initialize(t->where, &t->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		r = diag_set(d, DIAG_INTERNAL, ENODEV, "no TPM answers at %s (%s)", t->where,
			     Tss2_RC_Decode(rc));
		free(t);
		return r;
	}
	rc = Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_rc_fail(t, rc, "opening the TPM", d);
		tpm_close(t);
		return r;
	}
	*ret = t;
	return 0;
}

void tpm_close(struct tpm *t)
{
	if (!t)
		return;
	if (t->esys)
		Esys_Finalize(&t->esys);
	if (t->tcti)
		Tss2_TctiLdr_Finalize(&t->tcti);
	free(t);
}

/* The SHA-256 bank selection for mask: PCR n is bit n % 8 of byte n / 8. */
void tpm_pcr_selection(tpmpolicy_pcr_mask_t mask, TPML_PCR_SELECTION *sel)
{
	memset(sel, 0, sizeof(*sel));
	sel->count = 1;
	sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel->pcrSelections[0].sizeofSelect = 3;
	for (unsigned n = 0; n < TPMPOLICY_PCR_COUNT; n++)
		if (mask & TPMPOLICY_PCR(n))
			sel->pcrSelections[0].pcrSelect[n / 8] |= (uint8_t)(1u << (n % 8));
}

int tpm_pcr_read(struct tpm *t, tpmpolicy_pcr_mask_t mask, struct tpmpolicy_pcr_values *out,
		 struct diag *d)
{
	if (mask >> TPMPOLICY_PCR_COUNT)
		return diag_set(d, DIAG_USAGE, EINVAL, "PCR mask 0x%x names a PCR above 23",
				(unsigned)mask);
	int r = check_alive(t, "reading a PCR", d);

	if (r < 0)
		return r;
	/* One PCR per command: the TPM returns at most 8 digests per read,
	 * and one at a time keeps the bookkeeping obvious. */
	for (unsigned n = 0; n < TPMPOLICY_PCR_COUNT; n++) {
		TPML_PCR_SELECTION sel, *got_sel = NULL;
		TPML_DIGEST *vals = NULL;
		UINT32 counter;
		TSS2_RC rc;

		if (!(mask & TPMPOLICY_PCR(n)))
			continue;
		tpm_pcr_selection(TPMPOLICY_PCR(n), &sel);
		rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel,
				   &counter, &got_sel, &vals);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_rc_fail(t, rc, "reading a PCR", d);
		if (vals->count != 1 || vals->digests[0].size != TPMPOLICY_DIGEST_SIZE) {
			Esys_Free(got_sel);
			Esys_Free(vals);
			return diag_set(d, DIAG_INTERNAL, EIO,
					"the TPM returned no SHA-256 value for PCR %u (is the "
					"SHA-256 bank allocated?)",
					n);
		}
		memcpy(out->v[n], vals->digests[0].buffer, TPMPOLICY_DIGEST_SIZE);
		Esys_Free(got_sel);
		Esys_Free(vals);
	}
	return 0;
}

int tpm_pcr_extend(struct tpm *t, unsigned pcr, const uint8_t digest[TPMPOLICY_DIGEST_SIZE],
		   struct diag *d)
{
	TPML_DIGEST_VALUES v = {.count = 1};
	char what[48];
	TSS2_RC rc;
	int r;

	if (pcr >= TPMPOLICY_PCR_COUNT)
		return diag_set(d, DIAG_USAGE, EINVAL, "PCR %u does not exist", pcr);
	v.digests[0].hashAlg = TPM2_ALG_SHA256;
	memcpy(v.digests[0].digest.sha256, digest, TPMPOLICY_DIGEST_SIZE);
	snprintf(what, sizeof(what), "extending PCR %u", pcr);
	r = check_alive(t, what, d);
	if (r < 0)
		return r;
	rc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			     ESYS_TR_NONE, &v);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_rc_fail(t, rc, what, d);
}

int tpm_trial_policy_pcr(struct tpm *t, tpmpolicy_pcr_mask_t mask,
			 uint8_t out[TPMPOLICY_DIGEST_SIZE], struct diag *d)
{
	TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_NULL};
	TPML_PCR_SELECTION sel;
	TPM2B_DIGEST empty = {.size = 0}, *got = NULL;
	ESYS_TR session = ESYS_TR_NONE;
	TSS2_RC rc;
	int r = 0;

	r = tpmpolicy_check_pcr_mask(mask, d);
	if (r == 0)
		r = check_alive(t, "starting a trial session", d);
	if (r < 0)
		return r;
	tpm_pcr_selection(mask, &sel);

	rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, NULL, TPM2_SE_TRIAL, &sym, TPM2_ALG_SHA256,
				   &session);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail(t, rc, "starting a trial session", d);
	/* An empty pcrDigest makes the TPM use the PCRs' current values
	 * (Part 3, 23.7). */
	rc = Esys_PolicyPCR(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &empty,
			    &sel);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_rc_fail(t, rc, "PolicyPCR", d);
		goto out;
	}
	rc = Esys_PolicyGetDigest(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &got);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_rc_fail(t, rc, "PolicyGetDigest", d);
		goto out;
	}
	if (got->size != TPMPOLICY_DIGEST_SIZE) {
		r = diag_set(d, DIAG_INTERNAL, EIO, "policy digest of %u bytes, want 32",
			     got->size);
		goto out;
	}
	memcpy(out, got->buffer, TPMPOLICY_DIGEST_SIZE);
out:
	Esys_Free(got);
	/* Never leave a session behind, whatever happened. */
	if (session != ESYS_TR_NONE)
		tpm_flush(t, &session);
	return r;
}

static int count_handles(struct tpm *t, UINT32 first, unsigned *ret, struct diag *d)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	TSS2_RC rc;
	int r = check_alive(t, "listing TPM handles", d);

	if (r < 0)
		return r;
	rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
				first, TPM2_MAX_CAP_HANDLES, &more, &cap);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail(t, rc, "listing TPM handles", d);
	*ret = 0;
	for (UINT32 i = 0; i < cap->data.handles.count; i++) {
		UINT32 type = cap->data.handles.handle[i] & TPM2_HR_RANGE_MASK;

		/* Asked for loaded (0x02) or saved (0x03) sessions, the TPM
		 * lists each session under its own handle: an HMAC session
		 * as 0x02..., a policy or trial session as 0x03... */
		if (type == (first & TPM2_HR_RANGE_MASK) ||
		    (first != TRANSIENT_FIRST &&
		     (type == TPM2_HR_HMAC_SESSION || type == TPM2_HR_POLICY_SESSION)))
			(*ret)++;
	}
	Esys_Free(cap);
	return 0;
}

int tpm_count_loaded(struct tpm *t, unsigned *ret_transient, unsigned *ret_sessions, struct diag *d)
{
	unsigned loaded = 0, saved = 0;
	int r;

	r = count_handles(t, TRANSIENT_FIRST, ret_transient, d);
	if (r == 0)
		r = count_handles(t, TPM2_LOADED_SESSION_FIRST, &loaded, d);
	if (r == 0)
		r = count_handles(t, TPM2_ACTIVE_SESSION_FIRST, &saved, d);
	if (r == 0)
		*ret_sessions = loaded + saved;
	return r;
}

/* The storage primary, re-created on demand from a fixed template (the same
 * template always yields the same key on one TPM): ECC P-256, restricted
 * decrypt, AES-128-CFB for its children. */
int tpm_create_primary(struct tpm *t, ESYS_TR *ret, struct diag *d)
{
	TPM2B_SENSITIVE_CREATE sens = {0};
	TPM2B_PUBLIC tmpl = {
	    .publicArea =
		{
		    .type = TPM2_ALG_ECC,
		    .nameAlg = TPM2_ALG_SHA256,
		    .objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT |
					TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
					TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
					TPMA_OBJECT_NODA,
		    .parameters.eccDetail =
			{
			    .symmetric = {.algorithm = TPM2_ALG_AES,
					  .keyBits.aes = 128,
					  .mode.aes = TPM2_ALG_CFB},
			    .scheme = {.scheme = TPM2_ALG_NULL},
			    .curveID = TPM2_ECC_NIST_P256,
			    .kdf = {.scheme = TPM2_ALG_NULL},
			},
		},
	};
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION none = {0};
	TSS2_RC rc;
	int r = check_alive(t, "creating the storage primary", d);

	if (r < 0)
		return r;
	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				ESYS_TR_NONE, &sens, &tmpl, &outside, &none, ret, NULL, NULL, NULL,
				NULL);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_rc_fail(t, rc, "creating the storage primary", d);
}

/* A session salted with the primary, AES-128-CFB parameter encryption. */
static int start_salted(struct tpm *t, ESYS_TR primary, TPM2_SE type, TPMA_SESSION attrs,
			ESYS_TR *ret, struct diag *d)
{
	TPMT_SYM_DEF sym = {
	    .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB};
	TSS2_RC rc;
	int r = check_alive(t, "starting a salted session", d);

	if (r < 0)
		return r;
	rc = Esys_StartAuthSession(t->esys, primary, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, NULL, type, &sym, TPM2_ALG_SHA256, ret);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail(t, rc, "starting a salted session", d);
	rc = Esys_TRSess_SetAttributes(t->esys, *ret, attrs | TPMA_SESSION_CONTINUESESSION, 0xff);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_rc_fail(t, rc, "setting session attributes", d);
		tpm_flush(t, ret);
		return r;
	}
	return 0;
}

int tpm_primary_name(struct tpm *t, ESYS_TR primary, uint8_t out[TPMPOLICY_NAME_SIZE],
		     struct diag *d)
{
	TPM2B_NAME *name = NULL;
	TSS2_RC rc;
	int r = 0;

	rc = Esys_TR_GetName(t->esys, primary, &name);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail(t, rc, "reading the storage primary's Name", d);
	if (name->size != TPMPOLICY_NAME_SIZE)
		r = diag_set(d, DIAG_INTERNAL, EIO, "the storage primary's Name is %u bytes",
			     name->size);
	else
		memcpy(out, name->name, TPMPOLICY_NAME_SIZE);
	Esys_Free(name);
	return r;
}

/* Flush a handle; a failure is not the caller's (it has its result), but
 * it is noted so the next call does not run on a broken context. */
void tpm_flush(struct tpm *t, ESYS_TR *h)
{
	if (*h != ESYS_TR_NONE && !t->lost) {
		TSS2_RC rc = Esys_FlushContext(t->esys, *h);

		if (rc != TSS2_RC_SUCCESS)
			note_lost(t, rc, "flushing a TPM object or session");
	}
	*h = ESYS_TR_NONE;
}

int tpm_seal(struct tpm *t, const uint8_t policy[TPMPOLICY_DIGEST_SIZE], const struct secret *data,
	     struct tpm_sealed *ret, struct diag *d)
{
	TPM2B_SENSITIVE_CREATE sens = {0};
	TPM2B_PUBLIC tmpl = {
	    .publicArea =
		{
		    .type = TPM2_ALG_KEYEDHASH,
		    .nameAlg = TPM2_ALG_SHA256,
		    .objectAttributes =
			TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_NODA,
		    .parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL,
		},
	};
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION none = {0};
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_PRIVATE *priv = NULL;
	ESYS_TR primary = ESYS_TR_NONE, session = ESYS_TR_NONE;
	size_t off;
	TSS2_RC rc;
	int r;

	if (data->len == 0 || data->len > sizeof(sens.sensitive.data.buffer))
		return diag_set(d, DIAG_USAGE, EINVAL, "a sealed secret is 1 to %zu bytes",
				sizeof(sens.sensitive.data.buffer));
	tmpl.publicArea.authPolicy.size = TPMPOLICY_DIGEST_SIZE;
	memcpy(tmpl.publicArea.authPolicy.buffer, policy, TPMPOLICY_DIGEST_SIZE);
	sens.sensitive.data.size = (UINT16)data->len;
	memcpy(sens.sensitive.data.buffer, data->data, data->len);

	r = tpm_create_primary(t, &primary, d);
	if (r < 0)
		goto out;
	/* DECRYPT: the first command parameter (inSensitive) goes encrypted. */
	r = start_salted(t, primary, TPM2_SE_HMAC, TPMA_SESSION_DECRYPT, &session, d);
	if (r < 0)
		goto out;
	rc = Esys_Create(t->esys, primary, session, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl,
			 &outside, &none, &priv, &pub, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_rc_fail(t, rc, "sealing", d);
		goto out;
	}
	r = tpm_primary_name(t, primary, ret->primary_name, d);
	if (r < 0)
		goto out;
	off = 0;
	rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, ret->pub, sizeof(ret->pub), &off);
	ret->pub_len = off;
	if (rc == TSS2_RC_SUCCESS) {
		off = 0;
		rc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv, ret->priv, sizeof(ret->priv), &off);
		ret->priv_len = off;
	}
	if (rc != TSS2_RC_SUCCESS)
		r = tpm_rc_fail(t, rc, "marshalling the sealed object", d);
out:
	OPENSSL_cleanse(&sens, sizeof(sens));
	Esys_Free(pub);
	Esys_Free(priv);
	tpm_flush(t, &session);
	tpm_flush(t, &primary);
	return r;
}

#define UNSEAL_TRIES 3

/* Re-create the primary, check it is the key the object was sealed under,
 * and load the sealed object. */
static int load_sealed(struct tpm *t, const struct tpm_sealed *sealed, ESYS_TR *ret_primary,
		       ESYS_TR *ret_obj, struct diag *d)
{
	TPM2B_PUBLIC pub = {0};
	TPM2B_PRIVATE priv = {0};
	uint8_t name[TPMPOLICY_NAME_SIZE];
	size_t off = 0;
	TSS2_RC rc;
	int r;

	rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(sealed->pub, sealed->pub_len, &off, &pub);
	if (rc == TSS2_RC_SUCCESS && off == sealed->pub_len) {
		off = 0;
		rc = Tss2_MU_TPM2B_PRIVATE_Unmarshal(sealed->priv, sealed->priv_len, &off, &priv);
	}
	if (rc != TSS2_RC_SUCCESS || off != sealed->priv_len)
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "the sealed object is corrupt");

	r = tpm_create_primary(t, ret_primary, d);
	if (r < 0)
		return r;
	r = tpm_primary_name(t, *ret_primary, name, d);
	if (r < 0)
		return r;
	/* The salt is encrypted to this key: if it is not the one recorded at
	 * sealing, whoever answers could read the session key. */
	if (CRYPTO_memcmp(name, sealed->primary_name, sizeof(name)) != 0)
		return diag_set(d, DIAG_TRUST, EBADE,
				"the TPM's storage key is not the one the volume key was sealed "
				"under (another TPM, a cleared TPM, or something between us and "
				"the TPM)");
	rc = Esys_Load(t->esys, *ret_primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv,
		       &pub, ret_obj);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail(t, rc, "loading the sealed object", d);
	return 0;
}

static int take_secret(TPM2B_SENSITIVE_DATA *out, struct secret **ret, struct diag *d)
{
	int r = secret_new(out->size, ret);

	if (r == 0)
		memcpy((*ret)->data, out->buffer, out->size);
	else
		diag_set(d, DIAG_INTERNAL, -r, "cannot lock memory for the secret");
	OPENSSL_cleanse(out, sizeof(*out));
	Esys_Free(out);
	return r;
}

/* Something extended a PCR between PolicyPCR and Unseal: the policy is
 * stale, not wrong. Worth another try, a few times. */
static bool pcr_changed(TSS2_RC rc)
{
	return (rc & ~TSS2_RC_LAYER_MASK) == TPM2_RC_PCR_CHANGED;
}

int tpm_unseal_pcr(struct tpm *t, const struct tpm_sealed *sealed, tpmpolicy_pcr_mask_t mask,
		   struct secret **ret, struct diag *d)
{
	TPML_PCR_SELECTION sel;
	TPM2B_DIGEST empty = {.size = 0};
	ESYS_TR primary = ESYS_TR_NONE, obj = ESYS_TR_NONE, session = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	r = tpmpolicy_check_pcr_mask(mask, d);
	if (r < 0)
		return r;
	tpm_pcr_selection(mask, &sel);
	r = load_sealed(t, sealed, &primary, &obj, d);
	if (r < 0)
		goto out;
	for (int tries = 1;; tries++) {
		TPM2B_SENSITIVE_DATA *out = NULL;

		/* ENCRYPT: the response parameter (the secret) comes back
		 * encrypted under the salted session key. */
		r = start_salted(t, primary, TPM2_SE_POLICY, TPMA_SESSION_ENCRYPT, &session, d);
		if (r < 0)
			goto out;
		rc = Esys_PolicyPCR(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				    &empty, &sel);
		if (rc == TSS2_RC_SUCCESS)
			rc = Esys_Unseal(t->esys, obj, session, ESYS_TR_NONE, ESYS_TR_NONE, &out);
		tpm_flush(t, &session);
		if (rc == TSS2_RC_SUCCESS) {
			r = take_secret(out, ret, d);
			goto out;
		}
		if (!pcr_changed(rc) || tries == UNSEAL_TRIES) {
			r = tpm_rc_fail(t, rc, "unsealing", d);
			goto out;
		}
	}
out:
	tpm_flush(t, &session);
	tpm_flush(t, &obj);
	tpm_flush(t, &primary);
	return r;
}

/* The admin key's public area: a P-256 ECDSA-SHA256 verification key. One
 * template for loading it and for naming it offline, so the two agree. */
static void admin_key_public(const struct tpm_admin_key *k, TPM2B_PUBLIC *pub)
{
	*pub = (TPM2B_PUBLIC){
	    .publicArea =
		{
		    .type = TPM2_ALG_ECC,
		    .nameAlg = TPM2_ALG_SHA256,
		    .objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_USERWITHAUTH,
		    .parameters.eccDetail =
			{
			    .symmetric = {.algorithm = TPM2_ALG_NULL},
			    .scheme = {.scheme = TPM2_ALG_ECDSA,
				       .details.ecdsa.hashAlg = TPM2_ALG_SHA256},
			    .curveID = TPM2_ECC_NIST_P256,
			    .kdf = {.scheme = TPM2_ALG_NULL},
			},
		    .unique.ecc = {.x = {.size = 32}, .y = {.size = 32}},
		},
	};
	memcpy(pub->publicArea.unique.ecc.x.buffer, k->x, 32);
	memcpy(pub->publicArea.unique.ecc.y.buffer, k->y, 32);
}

/* The Name of a public area computed offline (nameAlg || H(TPMT_PUBLIC)),
 * as the TPM computes it; what names the step that failed. */
int tpm_public_name(const TPM2B_PUBLIC *pub, const char *what, uint8_t ret[TPMPOLICY_NAME_SIZE],
		    struct diag *d)
{
	uint8_t buf[sizeof(TPMT_PUBLIC)];
	size_t off = 0;
	TSS2_RC rc;

	rc = Tss2_MU_TPMT_PUBLIC_Marshal(&pub->publicArea, buf, sizeof(buf), &off);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail(NULL, rc, what, d);
	return tpmpolicy_object_name(buf, off, ret, d);
}

int tpm_admin_key_name(const struct tpm_admin_key *k, uint8_t ret[TPMPOLICY_NAME_SIZE],
		       struct diag *d)
{
	TPM2B_PUBLIC pub;

	admin_key_public(k, &pub);
	return tpm_public_name(&pub, "marshalling the admin key", ret, d);
}

void tpm_nv_counter_name(uint32_t index, uint8_t ret[TPMPOLICY_NAME_SIZE])
{
	tpmpolicy_nv_name(index,
			  TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHREAD |
			      TPMA_NV_NO_DA | (TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT) |
			      TPMA_NV_WRITTEN,
			  8, ret);
}

int tpm_approval_digests(const struct tpm_pcr_approval *a,
			 uint8_t ret_approved[TPMPOLICY_DIGEST_SIZE],
			 uint8_t ret_ahash[TPMPOLICY_DIGEST_SIZE], struct diag *d)
{
	uint8_t name[TPMPOLICY_NAME_SIZE], approved[TPMPOLICY_DIGEST_SIZE];
	uint8_t ahash[TPMPOLICY_DIGEST_SIZE];
	int r;

	tpm_nv_counter_name(a->counter, name);
	r = tpmpolicy_approved_pcr_policy(a->mask, a->pcr_digest, a->serial, name, approved, d);
	if (r == 0)
		r = tpmpolicy_authorize_ahash(approved, NULL, 0, ahash, d);
	if (r < 0)
		return r;
	if (ret_approved)
		memcpy(ret_approved, approved, sizeof(approved));
	if (ret_ahash)
		memcpy(ret_ahash, ahash, sizeof(ahash));
	return 0;
}

/* The TPM checks the admin's signature over aHash and gives a ticket that
 * PolicyAuthorize accepts in place of the signature. */
static int verify_approval(struct tpm *t, const struct tpm_pcr_approval *a,
			   const uint8_t ahash_in[TPMPOLICY_DIGEST_SIZE], ESYS_TR *ret_key,
			   TPMT_TK_VERIFIED **ret_ticket, struct diag *d)
{
	TPM2B_PUBLIC pub;
	TPM2B_DIGEST ahash = {.size = TPMPOLICY_DIGEST_SIZE};
	TPMT_SIGNATURE sig = {
	    .sigAlg = TPM2_ALG_ECDSA,
	    .signature.ecdsa = {.hash = TPM2_ALG_SHA256,
				.signatureR = {.size = 32},
				.signatureS = {.size = 32}},
	};
	TSS2_RC rc;

	memcpy(ahash.buffer, ahash_in, TPMPOLICY_DIGEST_SIZE);
	memcpy(sig.signature.ecdsa.signatureR.buffer, a->sig_r, 32);
	memcpy(sig.signature.ecdsa.signatureS.buffer, a->sig_s, 32);
	admin_key_public(&a->key, &pub);
	/* Owner hierarchy: a key loaded in the null hierarchy yields a null
	 * ticket, which PolicyAuthorize refuses. */
	rc = Esys_LoadExternal(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, &pub,
			       ESYS_TR_RH_OWNER, ret_key);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail(t, rc, "loading the admin key", d);
	rc = Esys_VerifySignature(t->esys, *ret_key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				  &ahash, &sig, ret_ticket);
	if (tpm_rc_code(rc) == TPM2_RC_SIGNATURE)
		return diag_set(d, DIAG_SIGNATURE, EBADMSG,
				"the PCR policy is not signed by the admin key the volume key "
				"is bound to");
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail(t, rc, "verifying the PCR policy signature", d);
	return 0;
}

const char *tpm_approved_step_name(enum tpm_approved_step step)
{
	switch (step) {
	case TPM_STEP_PCR:
		return "the PCR check";
	case TPM_STEP_COUNTER:
		return "the PCR policy counter check";
	case TPM_STEP_AUTHORIZE:
		return "PolicyAuthorize";
	case TPM_STEP_UNSEAL:
		return "unsealing";
	}
	return "unsealing";
}

int tpm_approved_step_failure(enum tpm_approved_step step, uint32_t rc, uint64_t serial,
			      struct diag *d)
{
	TSS2_RC code = tpm_rc_code(rc);

	if (step == TPM_STEP_PCR && code == TPM2_RC_VALUE)
		return diag_set(d, DIAG_INTERNAL, EPERM,
				"the PCRs differ from the values the admin approved: this "
				"boot is not the measured good boot");
	if (step == TPM_STEP_COUNTER && code == TPM2_RC_POLICY)
		return diag_set(d, DIAG_INTERNAL, EKEYREVOKED,
				"the PCR policy (serial %llu) was retired by a newer one",
				(unsigned long long)serial);
	if (step == TPM_STEP_UNSEAL && code == TPM2_RC_POLICY_FAIL)
		return diag_set(d, DIAG_INTERNAL, EPERM,
				"the volume key is bound to another admin key than the one "
				"that signed this PCR policy");
	return 0;
}

int tpm_unseal_approved(struct tpm *t, const struct tpm_sealed *sealed,
			const struct tpm_pcr_approval *a, struct secret **ret, struct diag *d)
{
	TPML_PCR_SELECTION sel;
	TPM2B_DIGEST approved = {.size = TPMPOLICY_DIGEST_SIZE};
	TPM2B_DIGEST pcr_digest = {.size = TPMPOLICY_DIGEST_SIZE};
	TPM2B_OPERAND operand = {.size = 8};
	TPM2B_NONCE ref = {.size = 0};
	TPM2B_NAME key_name = {.size = TPMPOLICY_NAME_SIZE};
	uint8_t ahash[TPMPOLICY_DIGEST_SIZE];
	TPMT_TK_VERIFIED *ticket = NULL;
	ESYS_TR primary = ESYS_TR_NONE, obj = ESYS_TR_NONE, session = ESYS_TR_NONE;
	ESYS_TR key = ESYS_TR_NONE, nv = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	r = tpmpolicy_check_pcr_mask(a->mask, d);
	if (r < 0)
		return r;
	tpm_pcr_selection(a->mask, &sel);
	memcpy(pcr_digest.buffer, a->pcr_digest, TPMPOLICY_DIGEST_SIZE);
	for (int i = 0; i < 8; i++)
		operand.buffer[i] = (uint8_t)(a->serial >> (56 - 8 * i));
	r = tpm_approval_digests(a, approved.buffer, ahash, d);
	if (r == 0)
		r = tpm_admin_key_name(&a->key, key_name.name, d);
	if (r < 0)
		return r;

	r = load_sealed(t, sealed, &primary, &obj, d);
	if (r < 0)
		goto out;
	r = verify_approval(t, a, ahash, &key, &ticket, d);
	if (r < 0)
		goto out;
	r = tpm_nv_handle(t, a->counter, "looking up the PCR policy counter", &nv, d);
	if (r < 0)
		goto out;
	for (int tries = 1;; tries++) {
		TPM2B_SENSITIVE_DATA *out = NULL;
		enum tpm_approved_step step = TPM_STEP_PCR;

		r = start_salted(t, primary, TPM2_SE_POLICY, TPMA_SESSION_ENCRYPT, &session, d);
		if (r < 0)
			goto out;
		rc = Esys_PolicyPCR(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				    &pcr_digest, &sel);
		if (rc == TSS2_RC_SUCCESS) {
			step = TPM_STEP_COUNTER;
			/* The counter's own (empty) auth: TPMA_NV_AUTHREAD. */
			rc = Esys_PolicyNV(t->esys, nv, nv, session, ESYS_TR_PASSWORD, ESYS_TR_NONE,
					   ESYS_TR_NONE, &operand, 0, TPM2_EO_UNSIGNED_LE);
		}
		if (rc == TSS2_RC_SUCCESS) {
			step = TPM_STEP_AUTHORIZE;
			rc = Esys_PolicyAuthorize(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE,
						  ESYS_TR_NONE, &approved, &ref, &key_name, ticket);
		}
		if (rc == TSS2_RC_SUCCESS) {
			step = TPM_STEP_UNSEAL;
			rc = Esys_Unseal(t->esys, obj, session, ESYS_TR_NONE, ESYS_TR_NONE, &out);
		}
		tpm_flush(t, &session);
		if (rc == TSS2_RC_SUCCESS) {
			r = take_secret(out, ret, d);
			goto out;
		}
		if (pcr_changed(rc) && tries < UNSEAL_TRIES)
			continue;
		r = tpm_approved_step_failure(step, rc, a->serial, d);
		if (r == 0)
			r = tpm_rc_fail(t, rc, tpm_approved_step_name(step), d);
		goto out;
	}
out:
	Esys_Free(ticket);
	tpm_nv_release(t, &nv);
	tpm_flush(t, &key);
	tpm_flush(t, &session);
	tpm_flush(t, &obj);
	tpm_flush(t, &primary);
	return r;
}

int tpm_nv_name(struct tpm *t, uint32_t index, uint8_t ret[TPMPOLICY_NAME_SIZE], struct diag *d)
{
	TPM2B_NAME *name = NULL;
	ESYS_TR h = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	r = tpm_nv_handle(t, index, "reading an NV index's Name", &h, d);
	if (r < 0)
		return r;
	rc = Esys_TR_GetName(t->esys, h, &name);
	tpm_nv_release(t, &h);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail(t, rc, "reading an NV index's Name", d);
	if (name->size != TPMPOLICY_NAME_SIZE)
		r = diag_set(d, DIAG_INTERNAL, EIO, "NV Name of %u bytes", name->size);
	else
		memcpy(ret, name->name, TPMPOLICY_NAME_SIZE);
	Esys_Free(name);
	return r;
}

int tpm_nv_handle(struct tpm *t, uint32_t index, const char *what, ESYS_TR *ret, struct diag *d)
{
	TSS2_RC rc;
	int r = check_alive(t, what, d);

	if (r < 0)
		return r;
	rc = Esys_TR_FromTPMPublic(t->esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ret);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_rc_fail(t, rc, what, d);
}

/* ESYS_TRs from TR_FromTPMPublic are ESAPI bookkeeping, not TPM objects:
 * closing frees them without touching the TPM. */
void tpm_nv_release(struct tpm *t, ESYS_TR *h)
{
	if (*h != ESYS_TR_NONE)
		(void)Esys_TR_Close(t->esys, h);
	*h = ESYS_TR_NONE;
}

int tpm_nv_define(struct tpm *t, uint32_t index, enum tpm_nv_kind kind, uint16_t size,
		  struct diag *d)
{
	TPM2B_AUTH auth = {0};
	TPM2B_NV_PUBLIC pub = {
	    .nvPublic =
		{
		    .nvIndex = index,
		    .nameAlg = TPM2_ALG_SHA256,
		    .attributes =
			TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHREAD | TPMA_NV_NO_DA,
		    .dataSize = size,
		},
	};
	ESYS_TR h = ESYS_TR_NONE;
	char what[48];
	TSS2_RC rc;
	int r;

	if ((index & TPM2_HR_RANGE_MASK) != TPM2_HR_NV_INDEX)
		return diag_set(d, DIAG_USAGE, EINVAL, "0x%08x is not an NV index handle",
				(unsigned)index);
	if (kind == TPM_NV_COUNTER) {
		pub.nvPublic.attributes |= TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT;
		pub.nvPublic.dataSize = 8;
	} else {
		if (size == 0 || size > 1024)
			return diag_set(d, DIAG_USAGE, EINVAL, "NV data size %u out of 1..1024",
					size);
		/* A write lock lasts until the index is undefined. */
		pub.nvPublic.attributes |= TPMA_NV_WRITEDEFINE;
	}
	snprintf(what, sizeof(what), "defining NV index 0x%08x", (unsigned)index);
	r = check_alive(t, what, d);
	if (r < 0)
		return r;
	rc = Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				 ESYS_TR_NONE, &auth, &pub, &h);
	tpm_nv_release(t, &h);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_rc_fail(t, rc, what, d);
}

enum nv_op {
	NV_UNDEFINE,
	NV_WRITE,
	NV_WRITE_LOCK,
	NV_INCREMENT,
};

/* Look up index, run one owner-authorized NV command on it, release the
 * handle, decode the result. */
static int nv_run(struct tpm *t, uint32_t index, enum nv_op op, const TPM2B_MAX_NV_BUFFER *buf,
		  struct diag *d)
{
	static const char *const verbs[] = {
	    [NV_UNDEFINE] = "undefining NV index",
	    [NV_WRITE] = "writing NV index",
	    [NV_WRITE_LOCK] = "write-locking NV index",
	    [NV_INCREMENT] = "incrementing NV counter",
	};
	ESYS_TR h = ESYS_TR_NONE;
	char what[48];
	TSS2_RC rc;
	int r;

	snprintf(what, sizeof(what), "%s 0x%08x", verbs[op], (unsigned)index);
	r = tpm_nv_handle(t, index, what, &h, d);
	if (r < 0)
		return r;
	switch (op) {
	case NV_UNDEFINE:
		rc = Esys_NV_UndefineSpace(t->esys, ESYS_TR_RH_OWNER, h, ESYS_TR_PASSWORD,
					   ESYS_TR_NONE, ESYS_TR_NONE);
		if (rc == TSS2_RC_SUCCESS)
			return 0; /* ESAPI has released h itself */
		break;
	case NV_WRITE:
		rc = Esys_NV_Write(t->esys, ESYS_TR_RH_OWNER, h, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				   ESYS_TR_NONE, buf, 0);
		break;
	case NV_WRITE_LOCK:
		rc = Esys_NV_WriteLock(t->esys, ESYS_TR_RH_OWNER, h, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				       ESYS_TR_NONE);
		break;
	case NV_INCREMENT:
	default:
		rc = Esys_NV_Increment(t->esys, ESYS_TR_RH_OWNER, h, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				       ESYS_TR_NONE);
		break;
	}
	tpm_nv_release(t, &h);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_rc_fail(t, rc, what, d);
}

int tpm_nv_undefine(struct tpm *t, uint32_t index, struct diag *d)
{
	return nv_run(t, index, NV_UNDEFINE, NULL, d);
}

int tpm_nv_write(struct tpm *t, uint32_t index, const void *data, uint16_t len, struct diag *d)
{
	TPM2B_MAX_NV_BUFFER buf = {.size = len};

	if (len > sizeof(buf.buffer))
		return diag_set(d, DIAG_USAGE, EINVAL, "NV write of %u bytes is too large", len);
	memcpy(buf.buffer, data, len);
	return nv_run(t, index, NV_WRITE, &buf, d);
}

int tpm_nv_write_lock(struct tpm *t, uint32_t index, struct diag *d)
{
	return nv_run(t, index, NV_WRITE_LOCK, NULL, d);
}

int tpm_nv_increment(struct tpm *t, uint32_t index, struct diag *d)
{
	return nv_run(t, index, NV_INCREMENT, NULL, d);
}

int tpm_nv_read(struct tpm *t, uint32_t index, void *out, uint16_t len, struct diag *d)
{
	TPM2B_MAX_NV_BUFFER *buf = NULL;
	ESYS_TR h = ESYS_TR_NONE;
	char what[48];
	TSS2_RC rc;
	int r;

	snprintf(what, sizeof(what), "reading NV index 0x%08x", (unsigned)index);
	r = tpm_nv_handle(t, index, what, &h, d);
	if (r < 0)
		return r;
	rc = Esys_NV_Read(t->esys, ESYS_TR_RH_OWNER, h, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			  ESYS_TR_NONE, len, 0, &buf);
	tpm_nv_release(t, &h);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail(t, rc, what, d);
	if (buf->size != len) {
		r = diag_set(d, DIAG_INTERNAL, EIO, "%s: got %u bytes, want %u", what, buf->size,
			     len);
		Esys_Free(buf);
		return r;
	}
	memcpy(out, buf->buffer, len);
	Esys_Free(buf);
	return 0;
}

int tpm_nv_read_counter(struct tpm *t, uint32_t index, uint64_t *ret, struct diag *d)
{
	uint8_t be[8];
	uint64_t v = 0;
	int r;

	r = tpm_nv_read(t, index, be, sizeof(be), d);
	if (r < 0)
		return r;
	/* NV counters are big-endian (Part 2, TPM_NT_COUNTER). */
	for (int i = 0; i < 8; i++)
		v = v << 8 | be[i];
	*ret = v;
	return 0;
}

int tpm_da_state(struct tpm *t, struct tpm_da *ret, struct diag *d)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	struct tpm_da da = {0};
	TSS2_RC rc;
	int r = check_alive(t, "reading the TPM's dictionary-attack state", d);

	if (r < 0)
		return r;
	/* Properties come back in ascending order from the one asked for;
	 * PT_PERMANENT (0x200) precedes the lockout counters (0x20e..0x211). */
	rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				TPM2_CAP_TPM_PROPERTIES, TPM2_PT_PERMANENT, TPM2_MAX_TPM_PROPERTIES,
				&more, &cap);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail(t, rc, "reading the TPM's dictionary-attack state", d);
	for (UINT32 i = 0; i < cap->data.tpmProperties.count; i++) {
		const TPMS_TAGGED_PROPERTY *p = &cap->data.tpmProperties.tpmProperty[i];

		switch (p->property) {
		case TPM2_PT_PERMANENT:
			da.lockout = (p->value & TPMA_PERMANENT_INLOCKOUT) != 0;
			break;
		case TPM2_PT_LOCKOUT_COUNTER:
			da.failures = p->value;
			break;
		case TPM2_PT_MAX_AUTH_FAIL:
			da.max_failures = p->value;
			break;
		case TPM2_PT_LOCKOUT_INTERVAL:
			da.interval = p->value;
			break;
		default:
			break;
		}
	}
	Esys_Free(cap);
	*ret = da;
	return 0;
}

/* --- zeroize --- */

int tpm_storage_name(struct tpm *t, uint8_t ret[TPMPOLICY_NAME_SIZE], struct diag *d)
{
	ESYS_TR primary = ESYS_TR_NONE;
	int r = tpm_create_primary(t, &primary, d);

	if (r == 0)
		r = tpm_primary_name(t, primary, ret, d);
	tpm_flush(t, &primary);
	return r;
}

int tpm_clear_possible(struct tpm *t, struct diag *d)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	UINT32 perm = 0;
	TSS2_RC rc;

	rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				TPM2_CAP_TPM_PROPERTIES, TPM2_PT_PERMANENT, 1, &more, &cap);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail(t, rc, "reading the TPM's permanent attributes", d);
	if (cap->data.tpmProperties.count == 1 &&
	    cap->data.tpmProperties.tpmProperty[0].property == TPM2_PT_PERMANENT)
		perm = cap->data.tpmProperties.tpmProperty[0].value;
	Esys_Free(cap);
	if (perm & TPMA_PERMANENT_DISABLECLEAR)
		return diag_set(d, DIAG_INTERNAL, EACCES,
				"the TPM cannot be cleared: disableClear is set (by firmware or "
				"TPM2_ClearControl); nothing was erased");
	if (perm & TPMA_PERMANENT_LOCKOUTAUTHSET)
		return diag_set(d, DIAG_INTERNAL, EACCES,
				"the TPM cannot be cleared: someone set a lockout authorization "
				"sealboot does not know; nothing was erased");
	return 0;
}

int tpm_clear(struct tpm *t, struct diag *d)
{
	TSS2_RC rc;

	rc = Esys_Clear(t->esys, ESYS_TR_RH_LOCKOUT, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_rc_fail(t, rc, "clearing the TPM (TPM2_Clear)", d);
}

int tpm_handles(struct tpm *t, uint32_t first, uint32_t *out, size_t max, size_t *ret_n,
		struct diag *d)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more = TPM2_YES;
	size_t n = 0;
	TSS2_RC rc;

	while (more) {
		rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
					TPM2_CAP_HANDLES, first, TPM2_MAX_CAP_HANDLES, &more, &cap);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_rc_fail(t, rc, "listing TPM handles", d);
		UINT32 count = cap->data.handles.count;
		for (UINT32 i = 0; i < count; i++) {
			UINT32 h = cap->data.handles.handle[i];

			if ((h & TPM2_HR_RANGE_MASK) != (first & TPM2_HR_RANGE_MASK)) {
				more = TPM2_NO;
				break;
			}
			if (n < max)
				out[n] = h;
			n++;
			first = h + 1;
		}
		Esys_Free(cap);
		cap = NULL;
		if (count == 0)
			break;
	}
	*ret_n = n;
	return 0;
}
