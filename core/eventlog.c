/* SPDX-License-Identifier: Apache-2.0 */
#include "eventlog.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>

#include "hex.h"
#include "jsonfield.h"
#include "jsonout.h"
#include "jsonstrict.h"

int eventlog_add(struct eventlog *log, unsigned pcr, const char *text, struct diag *d)
{
	size_t len = strlen(text);
	struct eventlog_record *rec;

	if (log->n >= EVENTLOG_MAX)
		return diag_set(d, DIAG_INTERNAL, E2BIG, "event log full (%d records)",
				EVENTLOG_MAX);
	if (pcr >= TPMPOLICY_PCR_COUNT || len == 0 || len >= EVENTLOG_TEXT_MAX)
		return diag_set(d, DIAG_INTERNAL, EINVAL, "event text of %zu bytes refused", len);
	for (size_t i = 0; i < len; i++)
		if (text[i] < 0x20 || text[i] > 0x7e)
			return diag_set(d, DIAG_INTERNAL, EINVAL,
					"event text holds a non-printable byte");
	rec = &log->r[log->n++];
	rec->pcr = pcr;
	memcpy(rec->text, text, len + 1);
	SHA256((const unsigned char *)text, len, rec->digest);
	return 0;
}

void eventlog_replay(const struct eventlog *log, struct tpmpolicy_pcr_values *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < log->n; i++) {
		const struct eventlog_record *rec = &log->r[i];
		uint8_t buf[2 * TPMPOLICY_DIGEST_SIZE];

		/* TPM2_PCR_Extend: PCR := H(PCR || digest) */
		memcpy(buf, out->v[rec->pcr], TPMPOLICY_DIGEST_SIZE);
		memcpy(buf + TPMPOLICY_DIGEST_SIZE, rec->digest, TPMPOLICY_DIGEST_SIZE);
		SHA256(buf, sizeof(buf), out->v[rec->pcr]);
	}
}

/* Names in event texts come from validated policy and manifest fields
 * ([A-Za-z0-9._-]), so they hold no space or quote. Each text's leading
 * fields are one format for its builder and its matcher below, so the two
 * cannot drift. */
#define TEXT_POLICY_HEAD "sealboot policy serial=%" PRIu64 " sha256=%s admin="
#define TEXT_CONTENT "sealboot bundle-content name=%s version=%" PRIu64 " manifest=%s"
#define TEXT_VOLUME_HEAD "sealboot volume name=%s uuid=%s identity="
#define TEXT_VERITY_HEAD "sealboot verity bundle=%s payload=%s root="
#define TEXT_CAP "sealboot cap"
void eventlog_text_policy(char out[EVENTLOG_TEXT_MAX], uint64_t serial,
			  const uint8_t policy_sha256[32], const uint8_t admin_digest[32],
			  const uint8_t record_sha256[32])
{
	char p[65], a[65], n[65];

	hex_encode(policy_sha256, 32, p);
	hex_encode(admin_digest, 32, a);
	hex_encode(record_sha256, 32, n);
	snprintf(out, EVENTLOG_TEXT_MAX, TEXT_POLICY_HEAD "%s record=%s", serial, p, a, n);
}

void eventlog_text_authority(char out[EVENTLOG_TEXT_MAX], const char *bundle,
			     const uint8_t anchor_sha256[32], const char *appliance_class)
{
	char a[65];

	hex_encode(anchor_sha256, 32, a);
	snprintf(out, EVENTLOG_TEXT_MAX,
		 "sealboot bundle-authority name=%s ca=%s class=%s verdict=verified", bundle, a,
		 appliance_class);
}

void eventlog_text_content(char out[EVENTLOG_TEXT_MAX], const char *bundle, uint64_t version,
			   const uint8_t manifest_sha256[32])
{
	char m[65];

	hex_encode(manifest_sha256, 32, m);
	snprintf(out, EVENTLOG_TEXT_MAX, TEXT_CONTENT, bundle, version, m);
}

void eventlog_text_volume(char out[EVENTLOG_TEXT_MAX], const char *name, const char *uuid,
			  const uint8_t identity[32])
{
	char id[65];

	hex_encode(identity, 32, id);
	snprintf(out, EVENTLOG_TEXT_MAX, TEXT_VOLUME_HEAD "%s", name, uuid, id);
}

void eventlog_text_verity(char out[EVENTLOG_TEXT_MAX], const char *bundle, const char *payload,
			  const uint8_t root_hash[32], const char *device)
{
	char h[65];

	hex_encode(root_hash, 32, h);
	snprintf(out, EVENTLOG_TEXT_MAX, TEXT_VERITY_HEAD "%s device=%s", bundle, payload, h,
		 device);
}

void eventlog_text_cap(char out[EVENTLOG_TEXT_MAX])
{
	snprintf(out, EVENTLOG_TEXT_MAX, TEXT_CAP);
}

void eventlog_text_failure(char out[EVENTLOG_TEXT_MAX], const char *stage)
{
	snprintf(out, EVENTLOG_TEXT_MAX, "sealboot failure stage=%s", stage);
}

/* Matchers: the texts above, recognised by what their builder wrote. */
static bool starts_with(const char *text, const char *head)
{
	return strncmp(text, head, strlen(head)) == 0;
}

bool eventlog_is_policy(const char *text, uint64_t serial, const uint8_t policy_sha256[32])
{
	char head[EVENTLOG_TEXT_MAX], p[65];

	hex_encode(policy_sha256, 32, p);
	snprintf(head, sizeof(head), TEXT_POLICY_HEAD, serial, p);
	return starts_with(text, head);
}

bool eventlog_is_content(const char *text, const char *bundle, uint64_t version,
			 const uint8_t manifest_sha256[32])
{
	char want[EVENTLOG_TEXT_MAX];

	eventlog_text_content(want, bundle, version, manifest_sha256);
	return strcmp(text, want) == 0;
}

bool eventlog_is_volume(const char *text, const char *name, const char *uuid)
{
	char head[EVENTLOG_TEXT_MAX];

	snprintf(head, sizeof(head), TEXT_VOLUME_HEAD, name, uuid);
	return starts_with(text, head);
}

bool eventlog_is_verity(const char *text, const char *bundle, const char *payload,
			const uint8_t root_hash[32], const char *device)
{
	char want[EVENTLOG_TEXT_MAX];

	eventlog_text_verity(want, bundle, payload, root_hash, device);
	return strcmp(text, want) == 0;
}

bool eventlog_is_verity_of(const char *text, const char *bundle, const char *payload)
{
	char head[EVENTLOG_TEXT_MAX];

	snprintf(head, sizeof(head), TEXT_VERITY_HEAD, bundle, payload);
	return starts_with(text, head);
}

bool eventlog_is_cap(const char *text)
{
	return strcmp(text, TEXT_CAP) == 0;
}

int eventlog_write(const struct eventlog *log, FILE *f)
{
	for (size_t i = 0; i < log->n; i++) {
		const struct eventlog_record *rec = &log->r[i];
		char dg[65];

		hex_encode(rec->digest, 32, dg);
		/* The text is printable ASCII without quotes or backslashes
		 * from our builders; escape anyway so any text round-trips. */
		fprintf(
		    f,
		    "{\"recnum\":%zu,\"pcr\":%u,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":",
		    i, rec->pcr);
		json_write_string(f, dg);
		fputs("}],\"content_type\":\"sealboot\",\"content\":", f);
		json_write_string(f, rec->text);
		fputs("}\n", f);
	}
	return ferror(f) ? -EIO : 0;
}

int eventlog_parse(const char *buf, size_t len, struct eventlog *ret, struct diag *d)
{
	static const char *const members[] = {"recnum",	      "pcr",	 "digests",
					      "content_type", "content", NULL};
	static const char *const dmembers[] = {"hashAlg", "digest", NULL};
	struct eventlog *log = ret;
	size_t line = 0;
	const char *p = buf, *end = buf + len;

	memset(log, 0, sizeof(*log));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_object *o = NULL, *v = NULL, *dg = NULL, *arr = NULL;
		uint8_t want[32];
		uint64_t recnum = 0, pcr = 0;
		char doc[40]; /* every reason names the line: "event log line N: ..." */
		int r;

		snprintf(doc, sizeof(doc), "event log line %zu", ++line);
		r = jf_parse(p, n, 4, doc, &o, d);
		if (r == 0 && (r = jf_only(o, members, doc, "", d)) == 0 &&
		    (r = jf_u64(o, "recnum", doc, "", &recnum, d)) == 0 &&
		    (r = jf_u64(o, "pcr", doc, "", &pcr, d)) == 0 &&
		    (r = jf_get(o, "digests", json_type_array, doc, "", &arr, d)) == 0 &&
		    (r = jf_str_eq(o, "content_type", "sealboot", doc, "", d)) == 0 &&
		    (r = jf_get(o, "content", json_type_string, doc, "", &v, d)) == 0) {
			if (recnum != log->n)
				r = diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: recnum: expected %zu",
					     doc, log->n);
			else if (pcr >= TPMPOLICY_PCR_COUNT)
				r = diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: pcr: not 0..23", doc);
			else if (json_object_array_length(arr) != 1 ||
				 !json_object_is_type(dg = json_object_array_get_idx(arr, 0),
						      json_type_object))
				r = diag_set(d, DIAG_MALFORMED, EBADMSG,
					     "%s: digests: expected one object", doc);
		}
		if (r == 0 && (r = jf_only(dg, dmembers, doc, "digests[0]", d)) == 0 &&
		    (r = jf_str_eq(dg, "hashAlg", "sha256", doc, "digests[0]", d)) == 0)
			r = jf_hex(dg, "digest", doc, "digests[0]", want, 32, d);
		if (r == 0) {
			struct diag ad = {0};

			if (eventlog_add(log, (unsigned)pcr, json_object_get_string(v), &ad) < 0)
				r = diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s", doc, ad.msg);
			else if (CRYPTO_memcmp(log->r[log->n - 1].digest, want, 32) != 0)
				r = diag_set(d, DIAG_MALFORMED, EBADMSG,
					     "%s: digest does not match the content", doc);
		}
		json_object_put(o);
		if (r < 0)
			return r;
		p = nl ? nl + 1 : end;
	}
	return 0;
}
