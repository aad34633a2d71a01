/* SPDX-License-Identifier: Apache-2.0 */
#include "approval.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "jsonfield.h"
#include "jsonout.h"

#define DOC "pcr policy"

int approval_serialize(const struct approval *a, char **ret, size_t *ret_len)
{
	char *buf = NULL, r[65], s[65];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bool first = true;

	if (!f)
		return -ENOMEM;
	hex_encode(a->sig_r, 32, r);
	hex_encode(a->sig_s, 32, s);
	fputs("{\n  \"format\": ", f);
	json_write_string(f, APPROVAL_FORMAT);
	fprintf(f, ",\n  \"format_version\": %d,\n  \"serial\": %" PRIu64 ",\n  \"pcrs\": [",
		APPROVAL_FORMAT_VERSION, a->serial);
	for (unsigned i = 0; i < TPMPOLICY_PCR_COUNT; i++) {
		char v[65];

		if (!(a->mask & TPMPOLICY_PCR(i)))
			continue;
		hex_encode(a->values.v[i], 32, v);
		fprintf(f, "%s\n    {\"pcr\": %u, \"sha256\": ", first ? "" : ",", i);
		json_write_string(f, v);
		fputc('}', f);
		first = false;
	}
	fputs("\n  ],\n  \"signature\": {\"r\": ", f);
	json_write_string(f, r);
	fputs(", \"s\": ", f);
	json_write_string(f, s);
	fputs("}\n}\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

int approval_parse(const char *buf, size_t len, struct approval *ret, struct diag *d)
{
	static const char *const members[] = {"format", "format_version", "serial",
					      "pcrs",	"signature",	  NULL};
	static const char *const pmembers[] = {"pcr", "sha256", NULL};
	static const char *const smembers[] = {"r", "s", NULL};
	struct approval a = {0};
	json_object *o = NULL, *v, *arr;
	uint64_t version = 0;
	int r;

	if (len > APPROVAL_MAX_BYTES)
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: larger than %u bytes", DOC,
				APPROVAL_MAX_BYTES);
	r = jf_parse(buf, len, 4, DOC, &o, d);
	if (r < 0)
		return r;
	if ((r = jf_only(o, members, DOC, "", d)) < 0 ||
	    (r = jf_str_eq(o, "format", APPROVAL_FORMAT, DOC, "", d)) < 0 ||
	    (r = jf_u64(o, "format_version", DOC, "", &version, d)) < 0)
		goto out;
	if (version != APPROVAL_FORMAT_VERSION) {
		r = diag_set(d, DIAG_MALFORMED, EBADMSG,
			     "%s: format_version %" PRIu64 " is not supported", DOC, version);
		goto out;
	}
	if ((r = jf_u64(o, "serial", DOC, "", &a.serial, d)) < 0 ||
	    (r = jf_get(o, "pcrs", json_type_array, DOC, "", &arr, d)) < 0)
		goto out;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *p = json_object_array_get_idx(arr, i);
		char where[32];
		uint64_t pcr = 0;

		snprintf(where, sizeof(where), "pcrs[%zu]", i);
		if (!json_object_is_type(p, json_type_object)) {
			r = diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s: expected an object", DOC,
				     where);
			goto out;
		}
		if ((r = jf_only(p, pmembers, DOC, where, d)) < 0 ||
		    (r = jf_u64(p, "pcr", DOC, where, &pcr, d)) < 0)
			goto out;
		if (pcr >= TPMPOLICY_PCR_COUNT || (a.mask >> pcr) != 0) {
			r = diag_set(d, DIAG_MALFORMED, EBADMSG,
				     "%s: %s.pcr: PCRs must be 0..23, ascending, each once", DOC,
				     where);
			goto out;
		}
		a.mask |= TPMPOLICY_PCR(pcr);
		if ((r = jf_hex(p, "sha256", DOC, where, a.values.v[pcr], 32, d)) < 0)
			goto out;
	}
	{
		char why[TPMPOLICY_WHY_MAX];

		/* tpmpolicy's reason, as this document's fault. */
		if (tpmpolicy_pcr_mask_why(a.mask, why, sizeof(why)) < 0) {
			r = diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: pcrs: %s", DOC, why);
			goto out;
		}
	}
	if ((r = jf_get(o, "signature", json_type_object, DOC, "", &v, d)) < 0 ||
	    (r = jf_only(v, smembers, DOC, "signature", d)) < 0 ||
	    (r = jf_hex(v, "r", DOC, "signature", a.sig_r, 32, d)) < 0 ||
	    (r = jf_hex(v, "s", DOC, "signature", a.sig_s, 32, d)) < 0)
		goto out;
	*ret = a;
out:
	json_object_put(o);
	return r;
}

tpmpolicy_pcr_mask_t approval_differs(const struct approval *a,
				      const struct tpmpolicy_pcr_values *now)
{
	tpmpolicy_pcr_mask_t differ = 0;

	for (unsigned i = 0; i < TPMPOLICY_PCR_COUNT; i++)
		if ((a->mask & TPMPOLICY_PCR(i)) &&
		    CRYPTO_memcmp(a->values.v[i], now->v[i], TPMPOLICY_DIGEST_SIZE) != 0)
			differ |= TPMPOLICY_PCR(i);
	return differ;
}
