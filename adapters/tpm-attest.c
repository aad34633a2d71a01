/* SPDX-License-Identifier: Apache-2.0 */
/* The attestation half of the TPM adapter (tpm-attest.h): the attestation
 * key, quotes and certification, the EK and credential activation. The
 * connection and its error decoding are tpm.c's (tpm-internal.h). */
#include "tpm-attest.h"
#include "tpm-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>

/* --- the attestation key --- */

/* The attestation key's template (docs/formats/zeroize.md, section 1). */
static void ak_template(TPM2B_PUBLIC *pub)
{
	*pub = (TPM2B_PUBLIC){
	    .publicArea =
		{
		    .type = TPM2_ALG_ECC,
		    .nameAlg = TPM2_ALG_SHA256,
		    .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
					TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
					TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED |
					TPMA_OBJECT_SIGN_ENCRYPT,
		    .parameters.eccDetail =
			{
			    .symmetric = {.algorithm = TPM2_ALG_NULL},
			    .scheme = {.scheme = TPM2_ALG_ECDSA,
				       .details.ecdsa.hashAlg = TPM2_ALG_SHA256},
			    .curveID = TPM2_ECC_NIST_P256,
			    .kdf = {.scheme = TPM2_ALG_NULL},
			},
		},
	};
}

static int create_ak(struct tpm *t, ESYS_TR *ret, struct diag *d)
{
	TPM2B_SENSITIVE_CREATE sens = {0};
	TPM2B_PUBLIC tmpl;
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION none = {0};
	TSS2_RC rc;

	ak_template(&tmpl);
	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				ESYS_TR_NONE, &sens, &tmpl, &outside, &none, ret, NULL, NULL, NULL,
				NULL);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_rc_fail(t, rc, "creating the attestation key", d);
}

int tpm_ak_name(struct tpm *t, uint8_t ret[TPMPOLICY_NAME_SIZE], struct diag *d)
{
	ESYS_TR ak = ESYS_TR_NONE;
	int r = create_ak(t, &ak, d);

	if (r == 0)
		r = tpm_primary_name(t, ak, ret, d);
	tpm_flush(t, &ak);
	return r;
}

/* --- evidence --- */

static void ak_public_of(const struct tpm_ak *ak, TPM2B_PUBLIC *pub)
{
	ak_template(pub);
	pub->publicArea.unique.ecc.x.size = 32;
	pub->publicArea.unique.ecc.y.size = 32;
	memcpy(pub->publicArea.unique.ecc.x.buffer, ak->x, 32);
	memcpy(pub->publicArea.unique.ecc.y.buffer, ak->y, 32);
}

int tpm_ak_name_of(const struct tpm_ak *ak, uint8_t ret[TPMPOLICY_NAME_SIZE], struct diag *d)
{
	TPM2B_PUBLIC pub;

	ak_public_of(ak, &pub);
	return tpm_public_name(&pub, "marshalling the attestation key", ret, d);
}

int tpm_ak_public(struct tpm *t, struct tpm_ak *ret, struct diag *d)
{
	ESYS_TR ak = ESYS_TR_NONE;
	TPM2B_PUBLIC *pub = NULL;
	TSS2_RC rc;
	int r = create_ak(t, &ak, d);

	if (r < 0)
		return r;
	rc = Esys_ReadPublic(t->esys, ak, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL,
			     NULL);
	tpm_flush(t, &ak);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail(t, rc, "reading the attestation key", d);
	if (pub->publicArea.unique.ecc.x.size != 32 || pub->publicArea.unique.ecc.y.size != 32)
		r = diag_set(d, DIAG_INTERNAL, EIO, "the attestation key is not a P-256 point");
	else {
		memcpy(ret->x, pub->publicArea.unique.ecc.x.buffer, 32);
		memcpy(ret->y, pub->publicArea.unique.ecc.y.buffer, 32);
	}
	Esys_Free(pub);
	return r;
}

static int take_evidence(struct tpm *t, TPM2B_ATTEST *att, TPMT_SIGNATURE *sig,
			 struct tpm_evidence *ret, struct diag *d)
{
	size_t off = 0;
	TSS2_RC rc;

	if (att->size > sizeof(ret->attest))
		return diag_set(d, DIAG_INTERNAL, EIO, "the TPM's attest is %u bytes", att->size);
	memcpy(ret->attest, att->attestationData, att->size);
	ret->attest_len = att->size;
	rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig, ret->sig, sizeof(ret->sig), &off);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_rc_fail(t, rc, "marshalling the signature", d);
	ret->sig_len = off;
	return 0;
}

static const TPMT_SIG_SCHEME ak_scheme = {
    .scheme = TPM2_ALG_ECDSA,
    .details.ecdsa.hashAlg = TPM2_ALG_SHA256,
};

int tpm_quote(struct tpm *t, tpmpolicy_pcr_mask_t mask, const uint8_t *qualifying, size_t len,
	      struct tpm_evidence *ret, struct diag *d)
{
	TPM2B_DATA q = {.size = (UINT16)len};
	TPML_PCR_SELECTION sel;
	TPM2B_ATTEST *att = NULL;
	TPMT_SIGNATURE *sig = NULL;
	ESYS_TR ak = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	if (len == 0 || len > sizeof(q.buffer) || (mask >> TPMPOLICY_PCR_COUNT) || !mask)
		return diag_set(d, DIAG_USAGE, EINVAL,
				"a quote needs 1..%zu bytes of "
				"qualifying data and a PCR selection",
				sizeof(q.buffer));
	memcpy(q.buffer, qualifying, len);
	tpm_pcr_selection(mask, &sel);
	r = create_ak(t, &ak, d);
	if (r < 0)
		return r;
	rc = Esys_Quote(t->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &q, &ak_scheme,
			&sel, &att, &sig);
	if (rc != TSS2_RC_SUCCESS)
		r = tpm_rc_fail(t, rc, "quoting the PCRs", d);
	else
		r = take_evidence(t, att, sig, ret, d);
	Esys_Free(att);
	Esys_Free(sig);
	tpm_flush(t, &ak);
	return r;
}

int tpm_certify_storage(struct tpm *t, const uint8_t *qualifying, size_t len,
			struct tpm_evidence *ret, struct diag *d)
{
	TPM2B_DATA q = {.size = (UINT16)len};
	TPM2B_ATTEST *att = NULL;
	TPMT_SIGNATURE *sig = NULL;
	ESYS_TR ak = ESYS_TR_NONE, primary = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	if (len == 0 || len > sizeof(q.buffer))
		return diag_set(d, DIAG_USAGE, EINVAL,
				"certify needs 1..%zu bytes of qualifying "
				"data",
				sizeof(q.buffer));
	memcpy(q.buffer, qualifying, len);
	r = create_ak(t, &ak, d);
	if (r == 0)
		r = tpm_create_primary(t, &primary, d);
	if (r == 0) {
		rc = Esys_Certify(t->esys, primary, ak, ESYS_TR_PASSWORD, ESYS_TR_PASSWORD,
				  ESYS_TR_NONE, &q, &ak_scheme, &att, &sig);
		if (rc != TSS2_RC_SUCCESS)
			r = tpm_rc_fail(t, rc, "certifying the storage primary", d);
		else
			r = take_evidence(t, att, sig, ret, d);
	}
	Esys_Free(att);
	Esys_Free(sig);
	tpm_flush(t, &primary);
	tpm_flush(t, &ak);
	return r;
}

int tpm_attest_parse(const uint8_t *attest, size_t len, struct tpm_attest_info *ret, struct diag *d)
{
	TPMS_ATTEST a;
	size_t off = 0;
	struct tpm_attest_info info = {0};

	if (Tss2_MU_TPMS_ATTEST_Unmarshal(attest, len, &off, &a) != TSS2_RC_SUCCESS || off != len)
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "the attest is not a TPMS_ATTEST");
	/* TPM_GENERATED_VALUE: the TPM made it (a restricted key signs
	 * nothing else). */
	if (a.magic != TPM2_GENERATED_VALUE)
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "the attest was not made by a TPM");
	if (a.extraData.size > sizeof(info.extra))
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "the attest's extraData is too long");
	memcpy(info.extra, a.extraData.buffer, a.extraData.size);
	info.extra_len = a.extraData.size;
	info.clock = a.clockInfo.clock;
	info.reset_count = a.clockInfo.resetCount;
	info.restart_count = a.clockInfo.restartCount;
	if (a.type == TPM2_ST_ATTEST_QUOTE) {
		const TPML_PCR_SELECTION *s = &a.attested.quote.pcrSelect;

		info.type = TPM_ATTEST_QUOTE;
		if (s->count != 1 || s->pcrSelections[0].hash != TPM2_ALG_SHA256 ||
		    s->pcrSelections[0].sizeofSelect != 3 ||
		    a.attested.quote.pcrDigest.size != TPMPOLICY_DIGEST_SIZE)
			return diag_set(d, DIAG_MALFORMED, EBADMSG,
					"the quote is not over sealboot's SHA-256 PCR selection");
		for (unsigned n = 0; n < TPMPOLICY_PCR_COUNT; n++)
			if (s->pcrSelections[0].pcrSelect[n / 8] & (1u << (n % 8)))
				info.mask |= TPMPOLICY_PCR(n);
		memcpy(info.pcr_digest, a.attested.quote.pcrDigest.buffer, TPMPOLICY_DIGEST_SIZE);
	} else if (a.type == TPM2_ST_ATTEST_CERTIFY) {
		info.type = TPM_ATTEST_CERTIFY;
		if (a.attested.certify.name.size != TPMPOLICY_NAME_SIZE)
			return diag_set(d, DIAG_MALFORMED, EBADMSG,
					"the certified Name is not a SHA-256 Name");
		memcpy(info.name, a.attested.certify.name.name, TPMPOLICY_NAME_SIZE);
	} else {
		return diag_set(d, DIAG_MALFORMED, EBADMSG,
				"the attest is neither a quote nor a "
				"certification");
	}
	*ret = info;
	return 0;
}

int tpm_signature_parse(const uint8_t *sig, size_t len, uint8_t r[32], uint8_t s[32],
			struct diag *d)
{
	TPMT_SIGNATURE t;
	size_t off = 0;
	const TPMS_SIGNATURE_ECC *e = &t.signature.ecdsa;

	if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(sig, len, &off, &t) != TSS2_RC_SUCCESS || off != len)
		return diag_set(d, DIAG_MALFORMED, EBADMSG,
				"the signature is not a TPMT_SIGNATURE");
	if (t.sigAlg != TPM2_ALG_ECDSA || e->hash != TPM2_ALG_SHA256 || e->signatureR.size > 32 ||
	    e->signatureS.size > 32)
		return diag_set(d, DIAG_MALFORMED, EBADMSG,
				"the signature is not ECDSA with SHA-256 over P-256");
	memset(r, 0, 32);
	memset(s, 0, 32);
	memcpy(r + 32 - e->signatureR.size, e->signatureR.buffer, e->signatureR.size);
	memcpy(s + 32 - e->signatureS.size, e->signatureS.buffer, e->signatureS.size);
	return 0;
}

/* --- EK certificate and credential activation --- */

int tpm_ek_cert(struct tpm *t, uint8_t **ret, size_t *ret_len, struct diag *d)
{
	TPM2B_NV_PUBLIC *pub = NULL;
	ESYS_TR h = ESYS_TR_NONE;
	uint8_t *buf;
	uint16_t size, off = 0;
	TSS2_RC rc;
	int r;

	r = tpm_nv_handle(t, TPM_EK_CERT_RSA, "looking up the EK certificate", &h, d);
	if (r < 0)
		return r;
	rc = Esys_NV_ReadPublic(t->esys, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		tpm_nv_release(t, &h);
		return tpm_rc_fail(t, rc, "reading the EK certificate's size", d);
	}
	size = pub->nvPublic.dataSize;
	Esys_Free(pub);
	buf = malloc(size ? size : 1);
	if (!buf) {
		tpm_nv_release(t, &h);
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	}
	/* In pieces: a TPM reads at most TPM2_PT_NV_BUFFER_MAX (often 1024). */
	while (off < size) {
		TPM2B_MAX_NV_BUFFER *part = NULL;
		uint16_t n = size - off > 512 ? 512 : size - off;

		rc = Esys_NV_Read(t->esys, ESYS_TR_RH_OWNER, h, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				  ESYS_TR_NONE, n, off, &part);
		if (rc != TSS2_RC_SUCCESS || part->size != n) {
			Esys_Free(part);
			free(buf);
			tpm_nv_release(t, &h);
			return rc != TSS2_RC_SUCCESS
				   ? tpm_rc_fail(t, rc, "reading the EK certificate", d)
				   : diag_set(d, DIAG_INTERNAL, EIO,
					      "short read of the EK certificate");
		}
		memcpy(buf + off, part->buffer, n);
		off += n;
		Esys_Free(part);
	}
	tpm_nv_release(t, &h);
	*ret = buf;
	*ret_len = size;
	return 0;
}

/* The TCG EK Credential Profile's default RSA 2048 EK (template L-1): its
 * authPolicy is PolicySecret(TPM_RH_ENDORSEMENT). */
static int create_ek(struct tpm *t, ESYS_TR *ret, struct diag *d)
{
	static const uint8_t policy[32] = {
	    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
	    0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
	    0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
	};
	TPM2B_SENSITIVE_CREATE sens = {0};
	TPM2B_PUBLIC tmpl = {
	    .publicArea =
		{
		    .type = TPM2_ALG_RSA,
		    .nameAlg = TPM2_ALG_SHA256,
		    .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
					TPMA_OBJECT_SENSITIVEDATAORIGIN |
					TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED |
					TPMA_OBJECT_DECRYPT,
		    .authPolicy = {.size = 32},
		    .parameters.rsaDetail =
			{
			    .symmetric = {.algorithm = TPM2_ALG_AES,
					  .keyBits.aes = 128,
					  .mode.aes = TPM2_ALG_CFB},
			    .scheme = {.scheme = TPM2_ALG_NULL},
			    .keyBits = 2048,
			    .exponent = 0,
			},
		    .unique.rsa = {.size = 256},
		},
	};
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION none = {0};
	TSS2_RC rc;

	memcpy(tmpl.publicArea.authPolicy.buffer, policy, sizeof(policy));
	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				ESYS_TR_NONE, &sens, &tmpl, &outside, &none, ret, NULL, NULL, NULL,
				NULL);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_rc_fail(t, rc, "creating the EK", d);
}

int tpm_ak_activate(struct tpm *t, const uint8_t *blob, size_t blob_len, const uint8_t *secret,
		    size_t secret_len, struct secret **ret, struct diag *d)
{
	TPM2B_ID_OBJECT id = {0};
	TPM2B_ENCRYPTED_SECRET es = {0};
	TPM2B_DIGEST *cert = NULL;
	TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_NULL};
	ESYS_TR ek = ESYS_TR_NONE, ak = ESYS_TR_NONE, session = ESYS_TR_NONE;
	size_t off = 0;
	TSS2_RC rc;
	int r;

	if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, blob_len, &off, &id) != TSS2_RC_SUCCESS ||
	    off != blob_len)
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "the credential blob is malformed");
	off = 0;
	if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(secret, secret_len, &off, &es) !=
		TSS2_RC_SUCCESS ||
	    off != secret_len)
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "the credential secret is malformed");
	r = create_ek(t, &ek, d);
	if (r == 0)
		r = create_ak(t, &ak, d);
	if (r < 0)
		goto out;
	rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256,
				   &session);
	if (rc == TSS2_RC_SUCCESS)
		rc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, session, ESYS_TR_PASSWORD,
				       ESYS_TR_NONE, ESYS_TR_NONE, NULL, NULL, NULL, 0, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_rc_fail(t, rc, "authorizing the EK (PolicySecret)", d);
		goto out;
	}
	rc = Esys_ActivateCredential(t->esys, ak, ek, ESYS_TR_PASSWORD, session, ESYS_TR_NONE, &id,
				     &es, &cert);
	if (rc != TSS2_RC_SUCCESS) {
		TSS2_RC base = rc & ~TSS2_RC_LAYER_MASK;
		TSS2_RC fmt1 = tpm_rc_code(rc);

		/* Another EK cannot decrypt the seed (libtpms reports that as
		 * TPM_RC_FAILURE and keeps working), another AK fails the
		 * integrity check. */
		if (fmt1 == TPM2_RC_INTEGRITY || fmt1 == TPM2_RC_VALUE || fmt1 == TPM2_RC_SIZE ||
		    base == TPM2_RC_FAILURE)
			r = diag_set(d, DIAG_TRUST, EPERM,
				     "the credential is not for this TPM's EK and attestation key");
		else
			r = tpm_rc_fail(t, rc, "activating the credential", d);
		goto out;
	}
	r = secret_new(cert->size, ret);
	if (r == 0)
		memcpy((*ret)->data, cert->buffer, cert->size);
	else
		diag_set(d, DIAG_INTERNAL, -r, "cannot lock memory for the credential");
out:
	if (cert)
		OPENSSL_cleanse(cert, sizeof(*cert));
	Esys_Free(cert);
	tpm_flush(t, &session);
	tpm_flush(t, &ak);
	tpm_flush(t, &ek);
	return r;
}
