/* SPDX-License-Identifier: Apache-2.0 */
#include "attest.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adminkey.h"
#include "eventlog.h"
#include "hex.h"
#include "jsonfield.h"
#include "zeroize-order.h"

#define QUOTE_FORMAT "sealboot-quote"
#define EVIDENCE_FORMAT "sealboot-zeroize-evidence"
#define QDOC "quote"
#define EDOC "zeroize evidence"
#define RDOC "zeroize receipt"

/* --- small helpers --- */

static json_object *b64_string(const uint8_t *buf, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	json_object *o;

	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, buf, (int)len);
	o = json_object_new_string(out);
	free(out);
	return o;
}

/* Strict base64 (padding, no whitespace) into at most cap bytes. */
static int b64_get(json_object *o, const char *key, const char *doc, uint8_t *out, size_t cap,
		   size_t *ret_len, struct diag *d)
{
	json_object *v;
	const char *s;
	size_t len, pad = 0, n;
	uint8_t *tmp;
	int r;

	r = jf_get(o, key, json_type_string, doc, "", &v, d);
	if (r < 0)
		return r;
	s = json_object_get_string(v);
	len = strlen(s);
	if (len == 0 || len % 4 != 0 || len / 4 * 3 > cap + 2 ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != len)
		return jf_fail(d, EBADMSG, doc, "%s: not base64 (or too long)", key);
	for (size_t i = len; i > 0 && s[i - 1] == '='; i--)
		pad++;
	if (pad > 2 || memchr(s, '=', len - pad))
		return jf_fail(d, EBADMSG, doc, "%s: not base64", key);
	tmp = malloc(len / 4 * 3);
	if (!tmp)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	if (EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)len) < 0) {
		free(tmp);
		return jf_fail(d, EBADMSG, doc, "%s: not base64", key);
	}
	n = len / 4 * 3 - pad;
	if (n > cap) {
		free(tmp);
		return jf_fail(d, EBADMSG, doc, "%s: too long", key);
	}
	memcpy(out, tmp, n);
	free(tmp);
	*ret_len = n;
	return 0;
}

static EVP_PKEY *ak_pkey(const struct tpm_ak *ak)
{
	uint8_t point[65] = {0x04};
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	memcpy(point + 1, ak->x, 32);
	memcpy(point + 33, ak->y, 32);
	if (bld &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) &&
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) && EVP_PKEY_fromdata_init(ctx) > 0)
		(void)EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

int attest_ak_pem(const struct tpm_ak *ak, char **ret, struct diag *d)
{
	EVP_PKEY *k = ak_pkey(ak);
	size_t len = 0;
	int r;

	if (!k)
		return diag_set(d, DIAG_INTERNAL, EIO, "the attestation key is not a P-256 point");
	r = adminkey_public_pem(k, ret, &len);
	EVP_PKEY_free(k);
	return r < 0 ? diag_set(d, DIAG_INTERNAL, -r, "cannot write the attestation key") : 0;
}

static void put_ak(json_object *o, const struct tpm_ak *ak, const uint8_t name[TPMPOLICY_NAME_SIZE])
{
	char x[65], y[65], n[ZORDER_NAME_HEX + 1];
	json_object *k = json_object_new_object();

	hex_encode(name, TPMPOLICY_NAME_SIZE, n);
	hex_encode(ak->x, 32, x);
	hex_encode(ak->y, 32, y);
	json_object_object_add(o, "appliance_id", json_object_new_string(n));
	json_object_object_add(k, "x", json_object_new_string(x));
	json_object_object_add(k, "y", json_object_new_string(y));
	json_object_object_add(o, "ak", k);
}

static void put_evidence(json_object *o, const struct tpm_evidence *ev)
{
	json_object_object_add(o, "attest", b64_string(ev->attest, ev->attest_len));
	json_object_object_add(o, "signature", b64_string(ev->sig, ev->sig_len));
}

static int dump(json_object *o, char **ret, struct diag *d)
{
	const char *s = json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(s);

	*ret = malloc(n + 2);
	if (!*ret) {
		json_object_put(o);
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	}
	memcpy(*ret, s, n);
	memcpy(*ret + n, "\n", 2);
	json_object_put(o);
	return 0;
}

/* --- making them (TPM) --- */

static int ak_and_name(struct tpm *t, struct tpm_ak *ak, uint8_t name[TPMPOLICY_NAME_SIZE],
		       struct diag *d)
{
	int r = tpm_ak_public(t, ak, d);

	return r == 0 ? tpm_ak_name_of(ak, name, d) : r;
}

int attest_quote(struct tpm *t, tpmpolicy_pcr_mask_t mask, const uint8_t *nonce, size_t nonce_len,
		 const char *eventlog, char **ret, struct diag *d)
{
	struct tpmpolicy_pcr_values before = {0}, after = {0};
	struct tpm_evidence ev;
	uint8_t name[TPMPOLICY_NAME_SIZE];
	char hex[2 * ATTEST_NONCE_MAX + 1], *pem = NULL;
	struct tpm_ak ak;
	json_object *o, *pcrs;
	int r;

	if (nonce_len == 0 || nonce_len > ATTEST_NONCE_MAX)
		return diag_set(d, DIAG_USAGE, EINVAL, "the nonce is 1 to %d bytes",
				ATTEST_NONCE_MAX);
	r = ak_and_name(t, &ak, name, d);
	if (r == 0)
		r = attest_ak_pem(&ak, &pem, d);
	if (r < 0)
		return r;
	/* The values that go with the quote: read before and after, the same
	 * or nothing (something extended in between). */
	r = tpm_pcr_read(t, mask, &before, d);
	if (r == 0)
		r = tpm_quote(t, mask, nonce, nonce_len, &ev, d);
	if (r == 0)
		r = tpm_pcr_read(t, mask, &after, d);
	if (r == 0 && memcmp(&before, &after, sizeof(before)) != 0)
		r = diag_set(d, DIAG_INTERNAL, EAGAIN, "a PCR changed while quoting; try again");
	if (r < 0) {
		free(pem);
		return r;
	}
	o = json_object_new_object();
	json_object_object_add(o, "format", json_object_new_string(QUOTE_FORMAT));
	json_object_object_add(o, "format_version", json_object_new_int(1));
	put_ak(o, &ak, name);
	json_object_object_add(o, "ak_pem", json_object_new_string(pem));
	free(pem);
	hex_encode(nonce, nonce_len, hex);
	json_object_object_add(o, "nonce", json_object_new_string(hex));
	pcrs = json_object_new_array();
	for (unsigned i = 0; i < TPMPOLICY_PCR_COUNT; i++) {
		json_object *p;
		char v[65];

		if (!(mask & TPMPOLICY_PCR(i)))
			continue;
		p = json_object_new_object();
		hex_encode(after.v[i], 32, v);
		json_object_object_add(p, "pcr", json_object_new_int((int)i));
		json_object_object_add(p, "sha256", json_object_new_string(v));
		json_object_array_add(pcrs, p);
	}
	json_object_object_add(o, "pcrs", pcrs);
	put_evidence(o, &ev);
	json_object_object_add(o, "eventlog", json_object_new_string(eventlog ? eventlog : ""));
	return dump(o, ret, d);
}

int attest_receipt_evidence(struct tpm *t, const char *receipt, size_t len, char **ret,
			    struct diag *d)
{
	uint8_t dg[32], name[TPMPOLICY_NAME_SIZE];
	struct tpm_evidence ev;
	struct tpm_ak ak;
	char hex[65];
	json_object *o;
	int r;

	SHA256((const unsigned char *)receipt, len, dg);
	r = ak_and_name(t, &ak, name, d);
	if (r == 0)
		r = tpm_certify_storage(t, dg, sizeof(dg), &ev, d);
	if (r < 0)
		return r;
	o = json_object_new_object();
	json_object_object_add(o, "format", json_object_new_string(EVIDENCE_FORMAT));
	json_object_object_add(o, "format_version", json_object_new_int(1));
	hex_encode(dg, 32, hex);
	json_object_object_add(o, "receipt_sha256", json_object_new_string(hex));
	put_ak(o, &ak, name);
	put_evidence(o, &ev);
	return dump(o, ret, d);
}

/* --- checking them (offline) --- */

struct signed_doc {
	struct tpm_ak ak;
	uint8_t appliance_id[TPMPOLICY_NAME_SIZE];
	struct tpm_evidence ev;
	struct tpm_attest_info info;
};

/* The members every signed document has, checked in the header's order. */
/* A document's members, format and format_version (1 only); the first
 * refusal names the document. */
static int check_head(json_object *o, const char *const *members, const char *doc,
		      const char *format, struct diag *d)
{
	uint64_t version = 0;
	int r;

	if ((r = jf_only(o, members, doc, "", d)) < 0 ||
	    (r = jf_str_eq(o, "format", format, doc, "", d)) < 0 ||
	    (r = jf_u64(o, "format_version", doc, "", &version, d)) < 0)
		return r;
	if (version != 1)
		return jf_fail(d, EBADMSG, doc, "format_version %" PRIu64 " is not supported",
			       version);
	return 0;
}

static int check_signed(json_object *o, const char *doc, EVP_PKEY *want, struct signed_doc *s,
			struct diag *d)
{
	static const char *const akm[] = {"x", "y", NULL};
	uint8_t r_[32], s_[32], name[TPMPOLICY_NAME_SIZE], wx[32], wy[32];
	uint8_t *der = NULL;
	json_object *k;
	ECDSA_SIG *sig = NULL;
	BIGNUM *br, *bs;
	struct diag vd = {0};
	int r, der_len;

	if ((r = jf_hex(o, "appliance_id", doc, "", s->appliance_id, TPMPOLICY_NAME_SIZE, d)) < 0 ||
	    (r = jf_get(o, "ak", json_type_object, doc, "", &k, d)) < 0 ||
	    (r = jf_only(k, akm, doc, "ak", d)) < 0 ||
	    (r = jf_hex(k, "x", doc, "ak", s->ak.x, 32, d)) < 0 ||
	    (r = jf_hex(k, "y", doc, "ak", s->ak.y, 32, d)) < 0 ||
	    (r = b64_get(o, "attest", doc, s->ev.attest, sizeof(s->ev.attest), &s->ev.attest_len,
			 d)) < 0 ||
	    (r = b64_get(o, "signature", doc, s->ev.sig, sizeof(s->ev.sig), &s->ev.sig_len, d)) < 0)
		return r;
	r = tpm_ak_name_of(&s->ak, name, d);
	if (r < 0)
		return r;
	if (CRYPTO_memcmp(name, s->appliance_id, sizeof(name)) != 0)
		return jf_fail(d, EBADMSG, doc, "appliance_id is not the Name of the key in ak");
	if (adminkey_point(want, wx, wy) < 0)
		return diag_set(d, DIAG_USAGE, EINVAL, "the attestation key given is not P-256");
	if (CRYPTO_memcmp(wx, s->ak.x, 32) || CRYPTO_memcmp(wy, s->ak.y, 32))
		return diag_set(d, DIAG_TRUST, EKEYREJECTED,
				"%s: made by another attestation key (another appliance) than the "
				"one given",
				doc);
	r = tpm_signature_parse(s->ev.sig, s->ev.sig_len, r_, s_, d);
	if (r < 0)
		return r;
	sig = ECDSA_SIG_new();
	br = BN_bin2bn(r_, 32, NULL);
	bs = BN_bin2bn(s_, 32, NULL);
	if (!sig || !br || !bs || !ECDSA_SIG_set0(sig, br, bs)) {
		BN_free(br);
		BN_free(bs);
		ECDSA_SIG_free(sig);
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	}
	der_len = i2d_ECDSA_SIG(sig, &der);
	ECDSA_SIG_free(sig);
	if (der_len <= 0)
		return diag_set(d, DIAG_INTERNAL, EIO, "cannot encode the signature");
	r = adminkey_verify(want, s->ev.attest, s->ev.attest_len, der, (size_t)der_len, &vd);
	OPENSSL_free(der);
	if (r < 0)
		return diag_set(d, DIAG_SIGNATURE, EBADMSG,
				"%s: the attestation key's signature does not verify (edited)",
				doc);
	return tpm_attest_parse(s->ev.attest, s->ev.attest_len, &s->info, d);
}

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The quote's "pcrs" list: each PCR once, its value. */
static int quoted_pcrs(json_object *o, struct tpmpolicy_pcr_values *quoted,
		       tpmpolicy_pcr_mask_t *ret_mask, struct diag *d)
{
	static const char *const pm[] = {"pcr", "sha256", NULL};
	tpmpolicy_pcr_mask_t mask = 0;
	json_object *pcrs;
	int r;

	if ((r = jf_get(o, "pcrs", json_type_array, QDOC, "", &pcrs, d)) < 0)
		return r;
	for (size_t i = 0; i < json_object_array_length(pcrs); i++) {
		json_object *p = json_object_array_get_idx(pcrs, i);
		char where[32];
		uint64_t n;

		snprintf(where, sizeof(where), "pcrs[%zu]", i);
		if (!json_object_is_type(p, json_type_object) ||
		    (r = jf_only(p, pm, QDOC, where, d)) < 0 ||
		    (r = jf_u64(p, "pcr", QDOC, where, &n, d)) < 0 || n >= TPMPOLICY_PCR_COUNT ||
		    (mask & TPMPOLICY_PCR(n)) ||
		    (r = jf_hex(p, "sha256", QDOC, where, quoted->v[n], 32, d)) < 0)
			return r < 0 ? r : jf_fail(d, EBADMSG, QDOC, "%s: not a PCR entry", where);
		mask |= TPMPOLICY_PCR(n);
	}
	*ret_mask = mask;
	return 0;
}

/* The PCR values given must be the ones the TPM signed the digest of. */
static int check_pcr_digest(const struct tpmpolicy_pcr_values *quoted, tpmpolicy_pcr_mask_t mask,
			    const struct tpm_attest_info *info, struct diag *d)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t dg[32];
	unsigned dl = 0;
	int r;

	r = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ? 0 : -ENOMEM;
	for (unsigned i = 0; r == 0 && i < TPMPOLICY_PCR_COUNT; i++)
		if (mask & TPMPOLICY_PCR(i))
			r = EVP_DigestUpdate(ctx, quoted->v[i], 32) ? 0 : -EIO;
	if (r == 0)
		r = EVP_DigestFinal_ex(ctx, dg, &dl) ? 0 : -EIO;
	EVP_MD_CTX_free(ctx);
	if (r < 0)
		return diag_set(d, DIAG_INTERNAL, -r, "cannot hash the PCR values");
	if (mask != info->mask || CRYPTO_memcmp(dg, info->pcr_digest, 32) != 0)
		return diag_set(d, DIAG_CONTENT, EBADE,
				"quote: the PCR values listed are not the ones the TPM quoted");
	return 0;
}

/* The event log must account for PCR 13 and 15. */
static int check_log_replay(json_object *o, const struct tpmpolicy_pcr_values *quoted,
			    tpmpolicy_pcr_mask_t mask, struct eventlog *log, struct diag *d)
{
	struct tpmpolicy_pcr_values replay;
	json_object *v;
	int r;

	if ((r = jf_get(o, "eventlog", json_type_string, QDOC, "", &v, d)) < 0 ||
	    (r = eventlog_parse(json_object_get_string(v), (size_t)json_object_get_string_len(v),
				log, d)) < 0)
		return r;
	eventlog_replay(log, &replay);
	for (unsigned p = EVENTLOG_PCR_LOG; p <= EVENTLOG_PCR_SEAL; p += 2) {
		if (!(mask & TPMPOLICY_PCR(p)))
			continue;
		if (CRYPTO_memcmp(replay.v[p], quoted->v[p], 32) != 0)
			return diag_set(d, DIAG_CONTENT, EBADE,
					"quote: the event log does not replay to the quoted PCR %u "
					"(edited, or something else extended it)",
					p);
	}
	return 0;
}

/* The quoted state is the one the PCR policy approves: the sealing PCR as
 * it stood before the volumes were opened, the boot's end the cap. */
static int check_approved(const struct eventlog *log, const struct tpmpolicy_pcr_values *quoted,
			  tpmpolicy_pcr_mask_t mask, const struct approval *ap, struct diag *d)
{
	struct tpmpolicy_pcr_values prefix;
	struct eventlog head = {0};

	for (size_t n_prefix = 0; n_prefix < log->n; n_prefix++) {
		const char *t = log->r[n_prefix].text;

		if (starts(t, "sealboot volume ") || starts(t, "sealboot cap") ||
		    starts(t, "sealboot failure"))
			break;
		head.r[head.n++] = log->r[n_prefix];
	}
	eventlog_replay(&head, &prefix);
	if (log->n == 0 || strcmp(log->r[log->n - 1].text, "sealboot cap") != 0)
		return diag_set(d, DIAG_CONTENT, EBADE,
				"quote: the event log does not end with the cap: this boot did "
				"not unlock");
	for (unsigned i = 0; i < TPMPOLICY_PCR_COUNT; i++) {
		const uint8_t *have = i == EVENTLOG_PCR_SEAL ? prefix.v[i] : quoted->v[i];

		if (!(ap->mask & TPMPOLICY_PCR(i)))
			continue;
		if ((i != EVENTLOG_PCR_SEAL && !(mask & TPMPOLICY_PCR(i))) ||
		    CRYPTO_memcmp(have, ap->values.v[i], 32) != 0)
			return diag_set(d, DIAG_CONTENT, EBADE,
					"quote: PCR %u is not the value the PCR policy (serial "
					"%" PRIu64 ") approves",
					i, ap->serial);
	}
	return 0;
}

int attest_verify_quote(const char *buf, size_t len, EVP_PKEY *ak, const uint8_t *nonce,
			size_t nonce_len, const struct approval *ap, char **ret_summary,
			struct diag *d)
{
	static const char *const members[] = {
	    "format", "format_version", "appliance_id", "ak",	    "ak_pem", "nonce",
	    "pcrs",   "attest",		"signature",	"eventlog", NULL};
	struct tpmpolicy_pcr_values quoted = {0};
	tpmpolicy_pcr_mask_t mask = 0;
	struct signed_doc s = {0};
	struct eventlog *log = NULL;
	json_object *o = NULL, *v;
	char summary[512], idhex[ZORDER_NAME_HEX + 1];
	int r;

	if (len > ATTEST_MAX_BYTES)
		return jf_fail(d, EBADMSG, QDOC, "larger than %u bytes", ATTEST_MAX_BYTES);
	r = jf_parse(buf, len, 4, QDOC, &o, d);
	if (r < 0)
		return r;
	if ((r = check_head(o, members, QDOC, QUOTE_FORMAT, d)) < 0)
		goto out;
	if ((r = jf_get(o, "ak_pem", json_type_string, QDOC, "", &v, d)) < 0 ||
	    (r = check_signed(o, QDOC, ak, &s, d)) < 0)
		goto out;
	if (s.info.type != TPM_ATTEST_QUOTE) {
		r = jf_fail(d, EBADMSG, QDOC, "the attest is not a quote");
		goto out;
	}
	if (s.info.extra_len != nonce_len || CRYPTO_memcmp(s.info.extra, nonce, nonce_len) != 0) {
		r = diag_set(d, DIAG_EXPIRED, ESTALE,
			     "quote: made for another nonce (a replayed quote)");
		goto out;
	}
	log = calloc(1, sizeof(*log));
	if (!log) {
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
		goto out;
	}
	if ((r = quoted_pcrs(o, &quoted, &mask, d)) < 0 ||
	    (r = check_pcr_digest(&quoted, mask, &s.info, d)) < 0 ||
	    (r = check_log_replay(o, &quoted, mask, log, d)) < 0 ||
	    (ap && (r = check_approved(log, &quoted, mask, ap, d)) < 0))
		goto out;
	snprintf(summary, sizeof(summary), "signature, nonce, PCR digest, event log (%zu events)",
		 log->n);
	if (ap)
		snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
			 ", approved state (PCR policy serial %" PRIu64 ")", ap->serial);
	hex_encode(s.appliance_id, TPMPOLICY_NAME_SIZE, idhex);
	if (asprintf(ret_summary, "quote verified: appliance %s; %s", idhex, summary) < 0)
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
out:
	free(log);
	json_object_put(o);
	return r;
}

static int name_member(json_object *o, const char *key, uint8_t out[TPMPOLICY_NAME_SIZE],
		       struct diag *d)
{
	return jf_hex(o, key, RDOC, "", out, TPMPOLICY_NAME_SIZE, d);
}

int attest_verify_receipt(const char *receipt, size_t receipt_len, const char *evidence,
			  size_t evidence_len, EVP_PKEY *ak, const char *order, size_t order_len,
			  char **ret_summary, struct diag *d)
{
	static const char *const members[] = {
	    "format", "format_version", "receipt_sha256", "appliance_id",
	    "ak",     "attest",		"signature",	  NULL};
	uint8_t dg[32], id[TPMPOLICY_NAME_SIZE], before[TPMPOLICY_NAME_SIZE],
	    after[TPMPOLICY_NAME_SIZE], order_dg[32];
	struct signed_doc s = {0};
	json_object *e = NULL, *rc = NULL, *v;
	uint64_t counter = 0;
	bool cleared;
	char idhex[ZORDER_NAME_HEX + 1];
	int r;

	if (evidence_len > ATTEST_MAX_BYTES || receipt_len > ATTEST_MAX_BYTES)
		return jf_fail(d, EBADMSG, EDOC, "larger than %u bytes", ATTEST_MAX_BYTES);
	r = jf_parse(evidence, evidence_len, 4, EDOC, &e, d);
	if (r < 0)
		return r;
	if ((r = check_head(e, members, EDOC, EVIDENCE_FORMAT, d)) < 0)
		goto out;
	if ((r = check_signed(e, EDOC, ak, &s, d)) < 0)
		goto out;
	if (s.info.type != TPM_ATTEST_CERTIFY) {
		r = jf_fail(d, EBADMSG, EDOC, "the attest is not a certification");
		goto out;
	}
	/* The TPM signed these receipt bytes, not others. */
	SHA256((const unsigned char *)receipt, receipt_len, dg);
	if (s.info.extra_len != 32 || CRYPTO_memcmp(s.info.extra, dg, 32) != 0) {
		r = diag_set(d, DIAG_SIGNATURE, EBADMSG,
			     "zeroize receipt: not the receipt the attestation key signed (edited, "
			     "or another zeroize's receipt)");
		goto out;
	}
	r = jf_parse(receipt, receipt_len, 6, RDOC, &rc, d);
	if (r == 0)
		r = jf_str_eq(rc, "format", "sealboot-zeroize-receipt", RDOC, "", d);
	if (r == 0)
		r = name_member(rc, "appliance_id", id, d);
	if (r == 0)
		r = name_member(rc, "storage_name_before", before, d);
	if (r == 0)
		r = name_member(rc, "storage_name_after", after, d);
	if (r == 0)
		r = jf_hex(rc, "order_sha256", RDOC, "", order_dg, 32, d);
	if (r == 0)
		r = jf_u64(rc, "counter", RDOC, "", &counter, d);
	if (r == 0)
		r = jf_get(rc, "tpm_cleared", json_type_boolean, RDOC, "", &v, d);
	if (r < 0)
		goto out;
	cleared = json_object_get_boolean(v);
	if (CRYPTO_memcmp(id, s.appliance_id, sizeof(id)) != 0) {
		r = diag_set(d, DIAG_TRUST, EKEYREJECTED,
			     "zeroize receipt: names another appliance than its attestation key");
		goto out;
	}
	if (CRYPTO_memcmp(s.info.name, after, sizeof(after)) != 0 ||
	    (cleared && CRYPTO_memcmp(before, after, sizeof(after)) == 0) ||
	    (!cleared && CRYPTO_memcmp(before, after, sizeof(after)) != 0)) {
		r = diag_set(d, DIAG_CONTENT, EBADE,
			     "zeroize receipt: the storage primary the TPM certified does not "
			     "show the %s the receipt claims",
			     cleared ? "clear" : "kept TPM");
		goto out;
	}
	if (order) {
		struct zorder ord;
		uint8_t odg[32];

		SHA256((const unsigned char *)order, order_len, odg);
		r = zorder_parse(order, order_len, &ord, d);
		if (r < 0)
			goto out;
		if (CRYPTO_memcmp(odg, order_dg, 32) ||
		    CRYPTO_memcmp(ord.appliance_id, id, sizeof(id)) || ord.counter != counter ||
		    CRYPTO_memcmp(ord.storage_name, before, sizeof(before)) ||
		    ord.clear_tpm != cleared) {
			r = diag_set(d, DIAG_CONTENT, EBADE,
				     "zeroize receipt: answers another order than the one given");
			goto out;
		}
	}
	hex_encode(id, sizeof(id), idhex);
	if (asprintf(ret_summary, "zeroize receipt verified: appliance %s, order %s, %s", idhex,
		     order ? "matches" : "not checked (no --order)",
		     cleared ? "TPM cleared (the storage primary the TPM certifies is new)"
			     : "TPM kept (a saved header copy can still be unsealed)") < 0)
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
out:
	json_object_put(e);
	json_object_put(rc);
	return r;
}

/* --- the AK bound to the EK --- */

#define IDENTITY_FORMAT "sealboot-identity"
#define CREDENTIAL_FORMAT "sealboot-ak-credential"
#define IDOC "identity"
#define CDOC "ak credential"
#define EK_CERT_MAX 4096

int attest_identity(struct tpm *t, char **ret, struct diag *d)
{
	uint8_t name[TPMPOLICY_NAME_SIZE], *cert = NULL;
	size_t cert_len = 0;
	struct tpm_ak ak;
	char *pem = NULL;
	json_object *o;
	int r;

	r = ak_and_name(t, &ak, name, d);
	if (r == 0)
		r = attest_ak_pem(&ak, &pem, d);
	if (r == 0)
		r = tpm_ek_cert(t, &cert, &cert_len, d);
	if (r < 0) {
		free(pem);
		return r;
	}
	o = json_object_new_object();
	json_object_object_add(o, "format", json_object_new_string(IDENTITY_FORMAT));
	json_object_object_add(o, "format_version", json_object_new_int(1));
	put_ak(o, &ak, name);
	json_object_object_add(o, "ak_pem", json_object_new_string(pem));
	json_object_object_add(o, "ek_cert", b64_string(cert, cert_len));
	free(pem);
	free(cert);
	return dump(o, ret, d);
}

/* KDFa with SHA-256 (Part 1, 11.4.10.2): counter-mode HMAC over
 * i || label || 0 || contextU || contextV || bits. */
static int kdfa(const uint8_t *key, size_t klen, const char *label, const uint8_t *u, size_t ulen,
		uint8_t *out, size_t bytes)
{
	uint8_t msg[4 + 32 + 1 + 64 + 4], md[32];
	size_t ll = strlen(label), n;
	uint32_t bits = (uint32_t)bytes * 8;

	if (ll > 32 || ulen > 64)
		return -EINVAL;
	for (uint32_t i = 1, done = 0; done < bytes; i++) {
		unsigned mdl = 0;

		n = 0;
		msg[n++] = (uint8_t)(i >> 24), msg[n++] = (uint8_t)(i >> 16);
		msg[n++] = (uint8_t)(i >> 8), msg[n++] = (uint8_t)i;
		memcpy(msg + n, label, ll + 1); /* with its NUL */
		n += ll + 1;
		if (ulen)
			memcpy(msg + n, u, ulen);
		n += ulen;
		msg[n++] = (uint8_t)(bits >> 24), msg[n++] = (uint8_t)(bits >> 16);
		msg[n++] = (uint8_t)(bits >> 8), msg[n++] = (uint8_t)bits;
		if (!HMAC(EVP_sha256(), key, (int)klen, msg, n, md, &mdl))
			return -EIO;
		memcpy(out + done, md, bytes - done < 32 ? bytes - done : 32);
		done += bytes - done < 32 ? (uint32_t)(bytes - done) : 32;
	}
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

/* MakeCredential (Part 1, 24.4-24.5; Part 3, 12.6) for an RSA EK with
 * SHA-256 and AES-128-CFB: blob is a TPM2B_ID_OBJECT, secret a
 * TPM2B_ENCRYPTED_SECRET. */
static int make_credential(EVP_PKEY *ek, const uint8_t name[TPMPOLICY_NAME_SIZE],
			   const uint8_t cred[ATTEST_CREDENTIAL_SECRET], uint8_t *blob,
			   size_t *blob_len, uint8_t *secret, size_t *secret_len)
{
	static const unsigned char label[] = "IDENTITY"; /* sizeof includes the NUL */
	uint8_t seed[32], sym[16], hkey[32], plain[2 + ATTEST_CREDENTIAL_SECRET],
	    enc[sizeof(plain)], hmac[32], iv[16] = {0};
	unsigned char *lab = NULL;
	EVP_PKEY_CTX *pc = NULL;
	EVP_CIPHER_CTX *cc = NULL;
	size_t ct_len = 256;
	int r = -EIO, outl = 0, fl = 0;
	unsigned hl = 0;

	if (RAND_bytes(seed, sizeof(seed)) != 1)
		goto out;
	/* The seed, to the EK: RSA-OAEP SHA-256, label "IDENTITY\0". */
	lab = OPENSSL_memdup(label, sizeof(label));
	pc = EVP_PKEY_CTX_new(ek, NULL);
	if (!lab || !pc || EVP_PKEY_encrypt_init(pc) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set0_rsa_oaep_label(pc, lab, sizeof(label)) <= 0)
		goto out;
	lab = NULL; /* owned by pc now */
	if (EVP_PKEY_encrypt(pc, secret + 2, &ct_len, seed, sizeof(seed)) <= 0 || ct_len != 256)
		goto out;
	secret[0] = (uint8_t)(ct_len >> 8), secret[1] = (uint8_t)ct_len;
	*secret_len = 2 + ct_len;
	/* The credential, encrypted to the AK's Name: symKey from the seed. */
	if (kdfa(seed, sizeof(seed), "STORAGE", name, TPMPOLICY_NAME_SIZE, sym, sizeof(sym)) < 0 ||
	    kdfa(seed, sizeof(seed), "INTEGRITY", NULL, 0, hkey, sizeof(hkey)) < 0)
		goto out;
	plain[0] = 0, plain[1] = ATTEST_CREDENTIAL_SECRET;
	memcpy(plain + 2, cred, ATTEST_CREDENTIAL_SECRET);
	cc = EVP_CIPHER_CTX_new();
	if (!cc || EVP_EncryptInit_ex(cc, EVP_aes_128_cfb128(), NULL, sym, iv) != 1 ||
	    EVP_EncryptUpdate(cc, enc, &outl, plain, sizeof(plain)) != 1 ||
	    EVP_EncryptFinal_ex(cc, enc + outl, &fl) != 1 || outl + fl != (int)sizeof(plain))
		goto out;
	/* outerHMAC over encIdentity || Name. */
	{
		uint8_t m[sizeof(enc) + TPMPOLICY_NAME_SIZE];

		memcpy(m, enc, sizeof(enc));
		memcpy(m + sizeof(enc), name, TPMPOLICY_NAME_SIZE);
		if (!HMAC(EVP_sha256(), hkey, sizeof(hkey), m, sizeof(m), hmac, &hl) || hl != 32)
			goto out;
	}
	/* TPM2B_ID_OBJECT: size, then TPM2B_DIGEST(outerHMAC), then encIdentity. */
	{
		size_t total = 2 + 32 + sizeof(enc);

		blob[0] = (uint8_t)(total >> 8), blob[1] = (uint8_t)total;
		blob[2] = 0, blob[3] = 32;
		memcpy(blob + 4, hmac, 32);
		memcpy(blob + 36, enc, sizeof(enc));
		*blob_len = 2 + total;
	}
	r = 0;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(sym, sizeof(sym));
	OPENSSL_cleanse(hkey, sizeof(hkey));
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_free(lab);
	EVP_PKEY_CTX_free(pc);
	EVP_CIPHER_CTX_free(cc);
	return r;
}

static int ek_trusted(const uint8_t *der, size_t len, const char *ca_pem, size_t ca_len,
		      EVP_PKEY **ret, struct diag *d)
{
	const unsigned char *p = der;
	X509 *cert = d2i_X509(NULL, &p, (long)len);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	BIO *bio = BIO_new_mem_buf(ca_pem, (int)ca_len);
	X509 *ca;
	int r = 0, n = 0;

	if (!cert || p != der + len) {
		r = jf_fail(d, EBADMSG, IDOC, "ek_cert: not a DER certificate");
		goto out;
	}
	if (!store || !ctx || !bio) {
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
		goto out;
	}
	while ((ca = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		X509_STORE_add_cert(store, ca);
		X509_free(ca);
		n++;
	}
	ERR_clear_error();
	if (n == 0) {
		r = diag_set(d, DIAG_USAGE, EINVAL, "--ek-ca holds no certificate");
		goto out;
	}
	/* EK certificates carry a critical SAN naming the TPM maker; their
	 * chain may be an intermediate the maker publishes: partial chains. */
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	if (X509_STORE_CTX_init(ctx, store, cert, NULL) != 1 ||
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY) != 1 || X509_verify_cert(ctx) != 1) {
		r = diag_set(d, DIAG_TRUST, EKEYREJECTED,
			     "the EK certificate is not issued by the TPM maker's CA given (%s)",
			     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	*ret = X509_get_pubkey(cert);
	if (!*ret || EVP_PKEY_get_base_id(*ret) != EVP_PKEY_RSA ||
	    EVP_PKEY_get_bits(*ret) != 2048) {
		EVP_PKEY_free(*ret);
		*ret = NULL;
		r = jf_fail(d, EBADMSG, IDOC, "ek_cert: not an RSA 2048 EK");
	}
out:
	X509_free(cert);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	BIO_free(bio);
	return r;
}

int attest_credential(const char *identity, size_t len, const char *ca_pem, size_t ca_len,
		      char **ret_cred, uint8_t ret_secret[ATTEST_CREDENTIAL_SECRET],
		      char **ret_ak_pem, struct diag *d)
{
	static const char *const members[] = {
	    "format", "format_version", "appliance_id", "ak", "ak_pem", "ek_cert", NULL};
	static const char *const akm[] = {"x", "y", NULL};
	uint8_t *der = NULL, blob[128], sec[512], name[TPMPOLICY_NAME_SIZE];
	size_t der_len = 0, blob_len = 0, sec_len = 0;
	struct tpm_ak ak;
	uint8_t id[TPMPOLICY_NAME_SIZE];
	uint64_t version = 0;
	EVP_PKEY *ek = NULL;
	json_object *o = NULL, *k, *c;
	int r;

	r = jf_parse(identity, len, 3, IDOC, &o, d);
	if (r < 0)
		return r;
	der = malloc(EK_CERT_MAX);
	if (!der) {
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
		goto out;
	}
	if ((r = jf_only(o, members, IDOC, "", d)) < 0 ||
	    (r = jf_str_eq(o, "format", IDENTITY_FORMAT, IDOC, "", d)) < 0 ||
	    (r = jf_u64(o, "format_version", IDOC, "", &version, d)) < 0 ||
	    (version != 1 && (r = jf_fail(d, EBADMSG, IDOC, "format_version is not 1")) < 0) ||
	    (r = jf_hex(o, "appliance_id", IDOC, "", id, sizeof(id), d)) < 0 ||
	    (r = jf_get(o, "ak", json_type_object, IDOC, "", &k, d)) < 0 ||
	    (r = jf_only(k, akm, IDOC, "ak", d)) < 0 ||
	    (r = jf_hex(k, "x", IDOC, "ak", ak.x, 32, d)) < 0 ||
	    (r = jf_hex(k, "y", IDOC, "ak", ak.y, 32, d)) < 0 ||
	    (r = b64_get(o, "ek_cert", IDOC, der, EK_CERT_MAX, &der_len, d)) < 0 ||
	    (r = tpm_ak_name_of(&ak, name, d)) < 0)
		goto out;
	if (CRYPTO_memcmp(name, id, sizeof(id)) != 0) {
		r = jf_fail(d, EBADMSG, IDOC, "appliance_id is not the Name of the key in ak");
		goto out;
	}
	r = ek_trusted(der, der_len, ca_pem, ca_len, &ek, d);
	if (r < 0)
		goto out;
	if (RAND_bytes(ret_secret, ATTEST_CREDENTIAL_SECRET) != 1 ||
	    make_credential(ek, name, ret_secret, blob, &blob_len, sec, &sec_len) < 0) {
		r = diag_set(d, DIAG_INTERNAL, EIO, "cannot make the credential");
		goto out;
	}
	r = attest_ak_pem(&ak, ret_ak_pem, d);
	if (r < 0)
		goto out;
	c = json_object_new_object();
	json_object_object_add(c, "format", json_object_new_string(CREDENTIAL_FORMAT));
	json_object_object_add(c, "format_version", json_object_new_int(1));
	json_object_object_add(c, "appliance_id",
			       json_object_get(json_object_object_get(o, "appliance_id")));
	json_object_object_add(c, "credential", b64_string(blob, blob_len));
	json_object_object_add(c, "secret", b64_string(sec, sec_len));
	r = dump(c, ret_cred, d);
out:
	free(der);
	EVP_PKEY_free(ek);
	json_object_put(o);
	return r;
}

int attest_activate(struct tpm *t, const char *cred, size_t len, struct secret **ret,
		    struct diag *d)
{
	static const char *const members[] = {"format",	    "format_version", "appliance_id",
					      "credential", "secret",	      NULL};
	uint8_t blob[256], sec[512], id[TPMPOLICY_NAME_SIZE];
	size_t blob_len = 0, sec_len = 0;
	uint64_t version = 0;
	json_object *o = NULL;
	int r;

	r = jf_parse(cred, len, 2, CDOC, &o, d);
	if (r < 0)
		return r;
	if ((r = jf_only(o, members, CDOC, "", d)) == 0 &&
	    (r = jf_str_eq(o, "format", CREDENTIAL_FORMAT, CDOC, "", d)) == 0 &&
	    (r = jf_u64(o, "format_version", CDOC, "", &version, d)) == 0 &&
	    (version == 1 || (r = jf_fail(d, EBADMSG, CDOC, "format_version is not 1")) == 0) &&
	    (r = jf_hex(o, "appliance_id", CDOC, "", id, sizeof(id), d)) == 0 &&
	    (r = b64_get(o, "credential", CDOC, blob, sizeof(blob), &blob_len, d)) == 0 &&
	    (r = b64_get(o, "secret", CDOC, sec, sizeof(sec), &sec_len, d)) == 0)
		r = tpm_ak_activate(t, blob, blob_len, sec, sec_len, ret, d);
	json_object_put(o);
	return r;
}
