/* SPDX-License-Identifier: Apache-2.0 */
#include "manifest.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hex.h"
#include "jsonfield.h"
#include "jsonstrict.h"
#include "text.h"

static const char *const role_names[_ROLE_COUNT] = {
    [ROLE_DISK] = "disk",	[ROLE_KERNEL] = "kernel", [ROLE_INITRD] = "initrd",
    [ROLE_CMDLINE] = "cmdline", [ROLE_DATA] = "data",	  [ROLE_VERITY] = "verity",
};

static const struct {
	const char *name;
	size_t len;
} algs[_DIGEST_COUNT] = {
    [DIGEST_SHA256] = {"sha256", 32},
    [DIGEST_SHA384] = {"sha384", 48},
};

const char *payload_role_name(enum payload_role r)
{
	return (unsigned)r < _ROLE_COUNT ? role_names[r] : "?";
}

int payload_role_from_name(const char *s, enum payload_role *ret)
{
	for (unsigned i = 0; i < _ROLE_COUNT; i++)
		if (!strcmp(s, role_names[i])) {
			*ret = (enum payload_role)i;
			return 0;
		}
	return -EINVAL;
}

const char *digest_alg_name(enum digest_alg a)
{
	return (unsigned)a < _DIGEST_COUNT ? algs[a].name : "?";
}

int digest_alg_from_name(const char *s, enum digest_alg *ret)
{
	for (unsigned i = 0; i < _DIGEST_COUNT; i++)
		if (!strcmp(s, algs[i].name)) {
			*ret = (enum digest_alg)i;
			return 0;
		}
	return -EINVAL;
}

size_t digest_alg_len(enum digest_alg a)
{
	return (unsigned)a < _DIGEST_COUNT ? algs[a].len : 0;
}

static bool name_valid(const char *s)
{
	return text_name_valid(s, MANIFEST_NAME_MAX, TEXT_NAME);
}

bool manifest_path_valid(const char *path)
{
	/* The bundle's own files are not payloads. */
	if (!strcmp(path, "manifest.json") || !strcmp(path, "manifest.json.p7s"))
		return false;
	return text_path_valid(path, MANIFEST_PATH_MAX, TEXT_PATH_RELATIVE);
}

int manifest_time_parse(const char *s, int64_t *ret)
{
	static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	struct tm tm = {0};
	int v[6];
	time_t t;

	/* YYYY-MM-DDTHH:MM:SSZ, nothing else */
	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		return -EINVAL;
	for (int i = 0; i < 19; i++)
		if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && (s[i] < '0' || s[i] > '9'))
			return -EINVAL;
	v[0] = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	for (int i = 1; i < 6; i++)
		v[i] = (s[2 + 3 * i] - '0') * 10 + (s[3 + 3 * i] - '0');
	if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > mdays[v[1] - 1] ||
	    v[3] > 23 || v[4] > 59 || v[5] > 59)
		return -EINVAL;
	if (v[1] == 2 && v[2] == 29 && !((v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0))
		return -EINVAL;
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret = (int64_t)t;
	return 0;
}

void manifest_time_format(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "@%lld", (long long)t);
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_payloads; i++) {
		free(m->payloads[i].path);
		if (m->payloads[i].verity)
			free(m->payloads[i].verity->hash_tree);
		free(m->payloads[i].verity);
	}
	free(m->payloads);
	free(m->name);
	free(m->appliance_class);
	free(m);
}

/* The bytes are not a valid manifest: -EBADMSG; the struct is not (manifest_validate()):
 * -EINVAL. One line, "manifest: ...". */
#define bad(d, ...) jf_fail(d, EBADMSG, "manifest", __VA_ARGS__)
#define invalid(d, ...) jf_fail(d, EINVAL, "manifest", __VA_ARGS__)

/* 9999-12-31T23:59:59Z, the last time the format can express. */
#define MANIFEST_TIME_MAX INT64_C(253402300799)

/* Is a a directory prefix of b ("a" vs "a/b")? */
static bool dir_prefix(const char *a, const char *b)
{
	size_t n = strlen(a);

	return !strncmp(a, b, n) && b[n] == '/';
}

/* Version 2's verity rules for payload i (see manifest.h). */
static int validate_verity(const struct manifest *m, size_t i, struct diag *d)
{
	const struct payload *p = &m->payloads[i];
	const struct payload_verity *v = p->verity;
	size_t users = 0, tree = m->n_payloads;

	if (p->role == ROLE_VERITY) {
		for (size_t j = 0; j < m->n_payloads; j++)
			if (m->payloads[j].verity && m->payloads[j].verity->hash_tree &&
			    !strcmp(m->payloads[j].verity->hash_tree, p->path))
				users++;
		if (users != 1)
			return invalid(
			    d,
			    "payloads[%zu]: a verity hash tree must belong to exactly one "
			    "disk payload (%zu do)",
			    i, users);
	}
	if (!v)
		return 0;
	if (p->role != ROLE_DISK)
		return invalid(d, "payloads[%zu].verity: only a disk payload has one", i);
	for (size_t j = 0; v->hash_tree && j < m->n_payloads; j++)
		if (!strcmp(m->payloads[j].path, v->hash_tree))
			tree = j;
	if (tree == m->n_payloads || m->payloads[tree].role != ROLE_VERITY)
		return invalid(d,
			       "payloads[%zu].verity.hash_tree: not the path of a payload of role "
			       "verity in this manifest",
			       i);
	if (v->salt_len < 1 || v->salt_len > VERITY_SALT_MAX)
		return invalid(d, "payloads[%zu].verity.salt: 1 to %d bytes", i, VERITY_SALT_MAX);
	if (v->data_blocks == 0 || v->data_blocks > UINT64_MAX / VERITY_BLOCK_SIZE ||
	    v->data_blocks * VERITY_BLOCK_SIZE != p->size)
		return invalid(
		    d,
		    "payloads[%zu].verity.data_blocks: %llu blocks of %d bytes is not the "
		    "payload's size %llu",
		    i, (unsigned long long)v->data_blocks, VERITY_BLOCK_SIZE,
		    (unsigned long long)p->size);
	return 0;
}

int manifest_validate(const struct manifest *m, struct diag *d)
{
	if (m->format_version < MANIFEST_FORMAT_VERSION ||
	    m->format_version > MANIFEST_FORMAT_VERSION_MAX)
		return invalid(d, "unsupported format_version %u (this verifier knows %d to %d)",
			       m->format_version, MANIFEST_FORMAT_VERSION,
			       MANIFEST_FORMAT_VERSION_MAX);
	if (!m->name || !name_valid(m->name))
		return invalid(d, "name must be 1 to %d characters of A-Z a-z 0-9 . _ -",
			       MANIFEST_NAME_MAX);
	if (!m->appliance_class || !name_valid(m->appliance_class))
		return invalid(d, "appliance_class must be 1 to %d characters of A-Z a-z 0-9 . _ -",
			       MANIFEST_NAME_MAX);
	/* Only what manifest_time_parse() accepts, so that what is signed
	 * reads back: 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z. */
	if (m->has_not_after && (m->not_after < 0 || m->not_after > MANIFEST_TIME_MAX))
		return invalid(d, "not_after: %lld is outside 1970 to 9999",
			       (long long)m->not_after);
	if (m->n_payloads == 0 || !m->payloads)
		return invalid(d, "payloads: a bundle needs at least one payload");
	if (m->n_payloads > MANIFEST_MAX_PAYLOADS)
		return invalid(d, "payloads: %zu entries, more than the %d allowed", m->n_payloads,
			       MANIFEST_MAX_PAYLOADS);
	for (size_t i = 0; i < m->n_payloads; i++) {
		const struct payload *p = &m->payloads[i];

		if (!p->path || !manifest_path_valid(p->path)) {
			char buf[4 * 64 + 4];

			return invalid(d,
				       "payloads[%zu].path: \"%s\" is not a valid payload path "
				       "(relative, components of A-Z a-z 0-9 . _ + -, no . or ..)",
				       i,
				       text_shown(p->path ? p->path : "", 64, TEXT_ESCAPED, buf));
		}
		if ((unsigned)p->role >= _ROLE_COUNT)
			return invalid(d, "payloads[%zu].role: unknown role", i);
		if ((unsigned)p->alg >= _DIGEST_COUNT)
			return invalid(d, "payloads[%zu].digest.alg: unknown algorithm", i);
		if (m->format_version < MANIFEST_FORMAT_VERSION_VERITY &&
		    (p->role == ROLE_VERITY || p->verity))
			return invalid(d, "payloads[%zu]: dm-verity needs format_version %d", i,
				       MANIFEST_FORMAT_VERSION_VERITY);
		for (size_t j = 0; j < i; j++) {
			const char *q = m->payloads[j].path;

			if (!strcmp(q, p->path))
				return invalid(d, "payloads[%zu].path: \"%s\" is listed twice", i,
					       p->path);
			if (dir_prefix(q, p->path) || dir_prefix(p->path, q))
				return invalid(
				    d,
				    "payloads[%zu].path: \"%s\" and \"%s\" conflict (one "
				    "is a directory of the other)",
				    i, p->path, q);
		}
	}
	for (size_t i = 0; i < m->n_payloads; i++) {
		int r = validate_verity(m, i, d);

		if (r < 0)
			return r;
	}
	return 0;
}

/* --- parsing --- */

#define DOC "manifest"

/* Members are read with util/jsonfield.h, DOC naming this document in
 * every message. */
static int dup_string(json_object *v, char **ret, struct diag *d)
{
	*ret = strdup(json_object_get_string(v));
	return *ret ? 0 : diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
}

/* Version 2: "verity": {"hash_tree", "data_blocks", "salt", "root_hash"} */
static int parse_verity(json_object *o, const char *where, struct payload *p, struct diag *d)
{
	static const char *const members[] = {"hash_tree", "data_blocks", "salt", "root_hash",
					      NULL};
	struct payload_verity *v;
	json_object *x;
	const char *hex;
	size_t hexlen;
	int r;

	if ((r = jf_only(o, members, DOC, where, d)) < 0)
		return r;
	v = calloc(1, sizeof(*v));
	if (!v)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	p->verity = v;
	if ((r = jf_get(o, "hash_tree", json_type_string, DOC, where, &x, d)) < 0 ||
	    (r = dup_string(x, &v->hash_tree, d)) < 0)
		return r;
	if ((r = jf_u64(o, "data_blocks", DOC, where, &v->data_blocks, d)) < 0)
		return r;
	if ((r = jf_get(o, "salt", json_type_string, DOC, where, &x, d)) < 0)
		return r;
	hex = json_object_get_string(x);
	hexlen = strlen(hex);
	if (hexlen < 2 || hexlen > 2 * VERITY_SALT_MAX || hexlen % 2 ||
	    hex_decode(hex, v->salt, hexlen / 2) < 0)
		return bad(d, "%s.salt: expected 2 to %d lowercase hex digits, an even number",
			   where, 2 * VERITY_SALT_MAX);
	v->salt_len = hexlen / 2;
	if ((r = jf_get(o, "root_hash", json_type_string, DOC, where, &x, d)) < 0)
		return r;
	if (hex_decode(json_object_get_string(x), v->root_hash, VERITY_ROOT_HASH_LEN) < 0)
		return bad(d, "%s.root_hash: expected %d lowercase hex digits", where,
			   2 * VERITY_ROOT_HASH_LEN);
	return 0;
}

static int parse_payload(json_object *o, size_t i, unsigned fv, struct payload *p, struct diag *d)
{
	static const char *const members[] = {"path", "role", "size", "digest", NULL};
	static const char *const members2[] = {"path", "role", "size", "digest", "verity", NULL};
	static const char *const dmembers[] = {"alg", "value", NULL};
	char where[48], dwhere[64], show[4 * 64 + 4];
	json_object *v, *dg;
	int r;

	snprintf(where, sizeof(where), "payloads[%zu]", i);
	snprintf(dwhere, sizeof(dwhere), "payloads[%zu].digest", i);
	if (!json_object_is_type(o, json_type_object))
		return bad(d, "%s: expected an object, got %s", where,
			   jf_type_name(json_object_get_type(o)));
	if ((r = jf_only(o, fv >= MANIFEST_FORMAT_VERSION_VERITY ? members2 : members, DOC, where,
			 d)) < 0)
		return r;
	if ((r = jf_get(o, "path", json_type_string, DOC, where, &v, d)) < 0)
		return r;
	if ((r = dup_string(v, &p->path, d)) < 0)
		return r;
	if ((r = jf_get(o, "role", json_type_string, DOC, where, &v, d)) < 0)
		return r;
	if (payload_role_from_name(json_object_get_string(v), &p->role) < 0 ||
	    (p->role == ROLE_VERITY && fv < MANIFEST_FORMAT_VERSION_VERITY))
		return bad(d,
			   "%s.role: unknown role \"%s\" (disk, kernel, initrd, cmdline, "
			   "data%s)",
			   where, text_shown(json_object_get_string(v), 32, TEXT_ESCAPED, show),
			   fv >= MANIFEST_FORMAT_VERSION_VERITY ? ", verity" : "");
	if ((r = jf_u64(o, "size", DOC, where, &p->size, d)) < 0)
		return r;
	if ((r = jf_get(o, "digest", json_type_object, DOC, where, &dg, d)) < 0)
		return r;
	if ((r = jf_only(dg, dmembers, DOC, dwhere, d)) < 0)
		return r;
	if ((r = jf_get(dg, "alg", json_type_string, DOC, dwhere, &v, d)) < 0)
		return r;
	if (digest_alg_from_name(json_object_get_string(v), &p->alg) < 0)
		return bad(d, "%s.alg: unknown algorithm \"%s\" (sha256, sha384)", dwhere,
			   text_shown(json_object_get_string(v), 32, TEXT_ESCAPED, show));
	if ((r = jf_get(dg, "value", json_type_string, DOC, dwhere, &v, d)) < 0)
		return r;
	if (hex_decode(json_object_get_string(v), p->digest, digest_alg_len(p->alg)) < 0)
		return bad(d, "%s.value: expected %zu lowercase hex digits", dwhere,
			   2 * digest_alg_len(p->alg));
	if (fv >= MANIFEST_FORMAT_VERSION_VERITY) {
		char vwhere[64];

		snprintf(vwhere, sizeof(vwhere), "payloads[%zu].verity", i);
		if ((r = jf_get_opt(o, "verity", json_type_object, DOC, where, &v, d)) < 0)
			return r;
		if (v && (r = parse_verity(v, vwhere, p, d)) < 0)
			return r;
	}
	return 0;
}

/* "format" and "format_version": this format, a version this verifier knows. */
static int parse_head(json_object *root, struct manifest *m, struct diag *d)
{
	char show[TEXT_SHOWN_SIZE(64)];
	json_object *v;
	uint64_t fv;
	int r;

	if ((r = jf_get(root, "format", json_type_string, DOC, "", &v, d)) < 0)
		return r;
	if (strcmp(json_object_get_string(v), MANIFEST_FORMAT))
		return bad(d, "format is \"%s\", not \"%s\"",
			   text_shown(json_object_get_string(v), 64, TEXT_ESCAPED, show),
			   MANIFEST_FORMAT);
	if ((r = jf_u64(root, "format_version", DOC, "", &fv, d)) < 0)
		return r;
	if (fv < MANIFEST_FORMAT_VERSION || fv > MANIFEST_FORMAT_VERSION_MAX)
		return bad(d, "unsupported format_version %llu (this verifier knows %d to %d)",
			   (unsigned long long)fv, MANIFEST_FORMAT_VERSION,
			   MANIFEST_FORMAT_VERSION_MAX);
	m->format_version = (unsigned)fv;
	return 0;
}

/* "payloads": at most MANIFEST_MAX_PAYLOADS, each parsed in turn. */
static int parse_payloads(json_object *root, struct manifest *m, struct diag *d)
{
	json_object *arr;
	size_t n;
	int r;

	if ((r = jf_get(root, "payloads", json_type_array, DOC, "", &arr, d)) < 0)
		return r;
	n = json_object_array_length(arr);
	if (n > MANIFEST_MAX_PAYLOADS)
		return bad(d, "payloads: %zu entries, more than the %d allowed", n,
			   MANIFEST_MAX_PAYLOADS);
	m->payloads = calloc(n ? n : 1, sizeof(*m->payloads));
	if (!m->payloads)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		m->n_payloads++;
		r = parse_payload(json_object_array_get_idx(arr, i), i, m->format_version,
				  &m->payloads[i], d);
		if (r < 0)
			return r;
	}
	return 0;
}

int manifest_parse(const char *buf, size_t len, struct manifest **ret, struct diag *d)
{
	static const char *const members[] = {
	    "format",	       "format_version", "name",     "version",
	    "appliance_class", "not_after",	 "payloads", NULL};
	char show[4 * 64 + 4];
	json_object *root = NULL, *v;
	struct manifest *m = NULL;
	int r;

	if (len == 0)
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "manifest is empty");
	if (len > MANIFEST_MAX_BYTES)
		return diag_set(d, DIAG_MALFORMED, EBADMSG,
				"manifest is %zu bytes, more than the %u allowed", len,
				MANIFEST_MAX_BYTES);
	r = jf_parse(buf, len, MANIFEST_MAX_DEPTH, DOC, &root, d);
	if (r < 0)
		return r;
	m = calloc(1, sizeof(*m));
	if (!m) {
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
		goto out;
	}
	/* The format and its version first: an unknown version explains
	 * every other difference better than a complaint about a member. */
	if ((r = parse_head(root, m, d)) < 0)
		goto out;
	if ((r = jf_only(root, members, DOC, "top level", d)) < 0)
		goto out;
	if ((r = jf_get(root, "name", json_type_string, DOC, "", &v, d)) < 0 ||
	    (r = dup_string(v, &m->name, d)) < 0)
		goto out;
	if ((r = jf_u64(root, "version", DOC, "", &m->version, d)) < 0)
		goto out;
	if ((r = jf_get(root, "appliance_class", json_type_string, DOC, "", &v, d)) < 0 ||
	    (r = dup_string(v, &m->appliance_class, d)) < 0)
		goto out;
	if ((r = jf_get_opt(root, "not_after", json_type_string, DOC, "", &v, d)) < 0)
		goto out;
	if (v) {
		if (manifest_time_parse(json_object_get_string(v), &m->not_after) < 0) {
			r = bad(d, "not_after: \"%s\" is not a time like 2027-06-30T00:00:00Z",
				text_shown(json_object_get_string(v), 40, TEXT_ESCAPED, show));
			goto out;
		}
		m->has_not_after = true;
	}
	if ((r = parse_payloads(root, m, d)) < 0)
		goto out;
	{
		struct diag vd = {0};

		/* A struct that fails validation came from bytes that are
		 * not a valid manifest. */
		if (manifest_validate(m, &vd) < 0) {
			r = diag_set(d, DIAG_MALFORMED, EBADMSG, "%s", vd.msg);
			goto out;
		}
	}
	*ret = m;
	m = NULL;
	r = 0;
out:
	manifest_free(m);
	json_object_put(root);
	return r;
}

/* --- serializing --- */

struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->s && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t nc = (b->cap ? b->cap : 1024) * 2 + (size_t)n;
		char *ns = realloc(b->s, nc);

		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = nc;
	}
}

int manifest_serialize(const struct manifest *m, char **ret, size_t *ret_len)
{
	struct sbuf b = {0};

	/* Every string written here is from a restricted alphabet (names,
	 * paths, roles, hex) checked by manifest_validate(): no escaping is
	 * ever needed. */
	if (manifest_validate(m, NULL) < 0)
		return -EINVAL;
	sb_printf(&b, "{\n  \"format\": \"%s\",\n  \"format_version\": %u,\n", MANIFEST_FORMAT,
		  m->format_version);
	sb_printf(&b, "  \"name\": \"%s\",\n  \"version\": %llu,\n  \"appliance_class\": \"%s\",\n",
		  m->name, (unsigned long long)m->version, m->appliance_class);
	if (m->has_not_after) {
		char t[32];

		manifest_time_format(m->not_after, t);
		sb_printf(&b, "  \"not_after\": \"%s\",\n", t);
	}
	sb_printf(&b, "  \"payloads\": [\n");
	for (size_t i = 0; i < m->n_payloads; i++) {
		const struct payload *p = &m->payloads[i];
		char hex[2 * DIGEST_MAX_LEN + 1];

		hex_encode(p->digest, digest_alg_len(p->alg), hex);
		sb_printf(&b,
			  "    {\n      \"path\": \"%s\",\n      \"role\": \"%s\",\n"
			  "      \"size\": %llu,\n      \"digest\": {\n        \"alg\": \"%s\",\n"
			  "        \"value\": \"%s\"\n      }",
			  p->path, payload_role_name(p->role), (unsigned long long)p->size,
			  digest_alg_name(p->alg), hex);
		if (p->verity) {
			char salt[2 * VERITY_SALT_MAX + 1], root[2 * VERITY_ROOT_HASH_LEN + 1];

			hex_encode(p->verity->salt, p->verity->salt_len, salt);
			hex_encode(p->verity->root_hash, VERITY_ROOT_HASH_LEN, root);
			sb_printf(&b,
				  ",\n      \"verity\": {\n        \"hash_tree\": \"%s\",\n"
				  "        \"data_blocks\": %llu,\n        \"salt\": \"%s\",\n"
				  "        \"root_hash\": \"%s\"\n      }",
				  p->verity->hash_tree, (unsigned long long)p->verity->data_blocks,
				  salt, root);
		}
		sb_printf(&b, "\n    }%s\n", i + 1 < m->n_payloads ? "," : "");
	}
	sb_printf(&b, "  ]\n}\n");
	if (b.oom) {
		free(b.s);
		return -ENOMEM;
	}
	*ret = b.s;
	*ret_len = b.len;
	return 0;
}

void verity_mapping_name(size_t bundle, size_t payload, char out[VERITY_NAME_MAX])
{
	snprintf(out, VERITY_NAME_MAX, "sealboot-verity.%zu.%zu", bundle, payload);
}
