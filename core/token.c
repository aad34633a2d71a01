/* SPDX-License-Identifier: Apache-2.0 */
#include "token.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "jsonfield.h"
#include "jsonout.h"

#define DOC "LUKS2 token " TOKEN_TYPE

int token_to_json(const struct tpm_sealed *s, char **ret)
{
	char pub[2 * TPM_SEALED_MAX], priv[2 * TPM_SEALED_MAX], name[2 * TPMPOLICY_NAME_SIZE + 1];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (s->pub_len > TPM_SEALED_MAX || s->priv_len > TPM_SEALED_MAX)
		return -EINVAL;
	EVP_EncodeBlock((unsigned char *)pub, s->pub, (int)s->pub_len);
	EVP_EncodeBlock((unsigned char *)priv, s->priv, (int)s->priv_len);
	hex_encode(s->primary_name, TPMPOLICY_NAME_SIZE, name);
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fputs("{\"type\":", f);
	json_write_string(f, TOKEN_TYPE);
	fprintf(f, ",\"keyslots\":[],\"sealboot_format_version\":%d,\"tpm2_public\":",
		TOKEN_FORMAT_VERSION);
	json_write_string(f, pub);
	fputs(",\"tpm2_private\":", f);
	json_write_string(f, priv);
	fputs(",\"tpm2_primary_name\":", f);
	json_write_string(f, name);
	fputc('}', f);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

/* Strict base64 (padding required, no whitespace) into at most cap bytes. */
static int b64(json_object *o, const char *key, uint8_t *out, size_t cap, size_t *ret_len,
	       struct diag *d)
{
	json_object *v;
	const char *s;
	size_t len, n, pad = 0;
	uint8_t tmp[TPM_SEALED_MAX + 4];
	int r;

	r = jf_get(o, key, json_type_string, DOC, "", &v, d);
	if (r < 0)
		return r;
	s = json_object_get_string(v);
	len = strlen(s);
	if (len == 0 || len % 4 != 0 || len / 4 * 3 > sizeof(tmp) ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != len)
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s: not base64", DOC, key);
	for (size_t i = len; i > 0 && s[i - 1] == '='; i--)
		pad++;
	if (pad > 2 || memchr(s, '=', len - pad))
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s: not base64", DOC, key);
	if (EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)len) < 0)
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s: not base64", DOC, key);
	n = len / 4 * 3 - pad;
	if (n > cap)
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s: too large", DOC, key);
	memcpy(out, tmp, n);
	*ret_len = n;
	return 0;
}

int token_parse(const char *json, struct tpm_sealed *ret, struct diag *d)
{
	static const char *const members[] = {
	    "type",	   "keyslots",	   "sealboot_format_version",
	    "tpm2_public", "tpm2_private", "tpm2_primary_name",
	    NULL};
	struct tpm_sealed s = {0};
	json_object *o = NULL, *v;
	uint64_t version = 0;
	int r;

	r = jf_parse(json, strlen(json), 4, DOC, &o, d);
	if (r < 0)
		return r;
	if ((r = jf_only(o, members, DOC, "", d)) < 0 ||
	    (r = jf_str_eq(o, "type", TOKEN_TYPE, DOC, "", d)) < 0 ||
	    (r = jf_get(o, "keyslots", json_type_array, DOC, "", &v, d)) < 0 ||
	    (r = jf_u64(o, "sealboot_format_version", DOC, "", &version, d)) < 0)
		goto out;
	for (size_t i = 0; i < json_object_array_length(v); i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string)) {
			r = diag_set(d, DIAG_MALFORMED, EBADMSG,
				     "%s: keyslots: expected an array of strings", DOC);
			goto out;
		}
	if (version != TOKEN_FORMAT_VERSION) {
		r = diag_set(d, DIAG_MALFORMED, EBADMSG,
			     "%s: sealboot_format_version %llu is not supported (want %d)", DOC,
			     (unsigned long long)version, TOKEN_FORMAT_VERSION);
		goto out;
	}
	if ((r = b64(o, "tpm2_public", s.pub, sizeof(s.pub), &s.pub_len, d)) < 0 ||
	    (r = b64(o, "tpm2_private", s.priv, sizeof(s.priv), &s.priv_len, d)) < 0 ||
	    (r = jf_hex(o, "tpm2_primary_name", DOC, "", s.primary_name, TPMPOLICY_NAME_SIZE, d)) <
		0)
		goto out;
	*ret = s;
out:
	json_object_put(o);
	return r;
}
