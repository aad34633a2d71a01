/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"
#include "jsonstrict.h"
#include "manifest.h"

/* The tests run with tests/unit as their working directory. */
#define FIXTURES "../fixtures/manifests"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static bool manifests_equal(const struct manifest *a, const struct manifest *b)
{
	if (a->format_version != b->format_version || strcmp(a->name, b->name) ||
	    a->version != b->version || strcmp(a->appliance_class, b->appliance_class) ||
	    a->has_not_after != b->has_not_after ||
	    (a->has_not_after && a->not_after != b->not_after) || a->n_payloads != b->n_payloads)
		return false;
	for (size_t i = 0; i < a->n_payloads; i++) {
		const struct payload *p = &a->payloads[i], *q = &b->payloads[i];

		if (strcmp(p->path, q->path) || p->size != q->size || p->role != q->role ||
		    p->alg != q->alg || memcmp(p->digest, q->digest, digest_alg_len(p->alg)))
			return false;
	}
	return true;
}

/* parse -> serialize -> parse gives the same manifest, and serializing is
 * deterministic. */
static void round_trip(const struct manifest *m)
{
	struct manifest *m2 = NULL;
	struct diag d = {0};
	char *s1, *s2;
	size_t n1, n2;

	assert_int_equal(manifest_serialize(m, &s1, &n1), 0);
	assert_true(n1 > 0 && s1[n1 - 1] == '\n' && strlen(s1) == n1);
	if (json_strict_check(s1, n1, MANIFEST_MAX_DEPTH, &d) < 0)
		fail_msg("serialized manifest fails the strict gate: %s", d.msg);
	if (manifest_parse(s1, n1, &m2, &d) < 0)
		fail_msg("re-parse failed: %s\n%s", d.msg, s1);
	assert_true(manifests_equal(m, m2));
	assert_int_equal(manifest_serialize(m2, &s2, &n2), 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(s1, s2, n1);
	free(s1);
	free(s2);
	manifest_free(m2);
}

/* Every fixture: good-*.json parses and round-trips; bad-*.json is refused
 * with the message in bad-*.expect. Adding a fixture adds a test. */
static void test_fixtures(void **state)
{
	DIR *dir = opendir(FIXTURES);
	struct dirent *de;
	unsigned good = 0, bad = 0;

	assert_non_null(dir);
	while ((de = readdir(dir))) {
		char path[512], expath[512];
		size_t len = strlen(de->d_name), n, en;
		struct manifest *m = NULL;
		struct diag d = {0};
		char *buf, *want;
		int r;

		if (len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", FIXTURES, de->d_name);
		buf = slurp(path, &n);
		r = manifest_parse(buf, n, &m, &d);
		if (!strncmp(de->d_name, "good-", 5)) {
			if (r < 0)
				fail_msg("%s refused: %s", de->d_name, d.msg);
			round_trip(m);
			manifest_free(m);
			good++;
		} else if (!strncmp(de->d_name, "bad-", 4)) {
			snprintf(expath, sizeof(expath), "%s/%.*s.expect", FIXTURES, (int)len - 5,
				 de->d_name);
			want = slurp(expath, &en);
			while (en && want[en - 1] == '\n')
				want[--en] = 0;
			if (r != -EBADMSG)
				fail_msg("%s: got %d, want -EBADMSG", de->d_name, r);
			assert_null(m);
			assert_int_equal(d.cls, DIAG_MALFORMED);
			if (!strstr(d.msg, want))
				fail_msg("%s: message \"%s\" lacks \"%s\"", de->d_name, d.msg,
					 want);
			if (strchr(d.msg, '\n'))
				fail_msg("%s: message is not one line: \"%s\"", de->d_name, d.msg);
			if (strncmp(d.msg, "manifest", 8))
				fail_msg("%s: message \"%s\" does not start with manifest",
					 de->d_name, d.msg);
			free(want);
			bad++;
		} else {
			fail_msg("fixture %s is neither good- nor bad-", de->d_name);
		}
		free(buf);
	}
	closedir(dir);
	print_message("%u good and %u bad manifest fixtures\n", good, bad);
	assert_true(good >= 7);
	assert_true(bad >= 70);
}

#define HEX64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* A valid manifest with one member's text replaced: TEMPLATE holds the
 * markers @FV@, @NAME@, @VERSION@, @CLASS@, @EXTRA@ (top-level members
 * before payloads) and @P@ (the payload list). */
#define TEMPLATE                                                                                   \
	"{\"format\":\"sealboot-bundle-manifest\",\"format_version\":@FV@,\"name\":@NAME@,"        \
	"\"version\":@VERSION@,\"appliance_class\":@CLASS@,@EXTRA@\"payloads\":@P@}"
#define PAYLOAD(path)                                                                              \
	"{\"path\":\"" path "\",\"role\":\"disk\",\"size\":1,\"digest\":{\"alg\":\"sha256\","      \
	"\"value\":\"" HEX64 "\"}}"

struct subst {
	const char *fv, *name, *version, *cls, *extra, *payloads;
};

static char *build(const struct subst *in)
{
	const char *fields[][2] = {
	    {"@FV@", in->fv ? in->fv : "1"},
	    {"@NAME@", in->name ? in->name : "\"n\""},
	    {"@VERSION@", in->version ? in->version : "3"},
	    {"@CLASS@", in->cls ? in->cls : "\"c\""},
	    {"@EXTRA@", in->extra ? in->extra : ""},
	    {"@P@", in->payloads ? in->payloads : "[" PAYLOAD("disk.img") "]"},
	};
	size_t cap = strlen(TEMPLATE) + 1;
	char *out, *o;
	const char *t = TEMPLATE;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		cap += strlen(fields[i][1]);
	out = o = malloc(cap);
	assert_non_null(out);
	while (*t) {
		size_t i;

		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (!strncmp(t, fields[i][0], strlen(fields[i][0])))
				break;
		if (i < sizeof(fields) / sizeof(fields[0])) {
			o = stpcpy(o, fields[i][1]);
			t += strlen(fields[i][0]);
		} else {
			*o++ = *t++;
		}
	}
	*o = 0;
	return out;
}

/* Parse; with want NULL expect success (returned), else -EBADMSG with a
 * message that starts with "manifest: " and contains want. */
static struct manifest *expect_parse(const struct subst *in, const char *want)
{
	char *text = build(in);
	struct manifest *m = NULL;
	struct diag d = {0};
	int r = manifest_parse(text, strlen(text), &m, &d);

	if (!want) {
		if (r < 0)
			fail_msg("refused %s: %s", text, d.msg);
		assert_non_null(m);
	} else {
		if (r != -EBADMSG)
			fail_msg("got %d for %s, want -EBADMSG", r, text);
		assert_null(m);
		assert_int_equal(d.cls, DIAG_MALFORMED);
		if (strncmp(d.msg, "manifest: ", 10) || !strstr(d.msg, want))
			fail_msg("%s: message \"%s\" lacks \"%s\"", text, d.msg, want);
		if (strchr(d.msg, '\n'))
			fail_msg("message is not one line: \"%s\"", d.msg);
	}
	free(text);
	return m;
}

static void test_template_is_valid(void **state)
{
	struct manifest *m = expect_parse(&(struct subst){0}, NULL);

	assert_string_equal(m->name, "n");
	assert_int_equal(m->version, 3);
	assert_string_equal(m->appliance_class, "c");
	assert_false(m->has_not_after);
	assert_int_equal(m->n_payloads, 1);
	assert_string_equal(m->payloads[0].path, "disk.img");
	assert_int_equal(m->payloads[0].role, ROLE_DISK);
	assert_int_equal(m->payloads[0].size, 1);
	assert_int_equal(m->payloads[0].alg, DIGEST_SHA256);
	assert_int_equal(m->payloads[0].digest[0], 0xe3);
	assert_int_equal(m->payloads[0].digest[31], 0x55);
	round_trip(m);
	manifest_free(m);
}

/* Each member with each wrong JSON type. */
static void test_wrong_types(void **state)
{
	static const char *const wrong[] = {"null", "true", "1", "1.5", "\"s\"", "[]", "{}"};

	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		char w[8]; /* a copy: gcc -fsanitize=undefined thinks wrong[i] may be NULL */
		bool is_string = wrong[i][0] == '"', is_int = !strcmp(wrong[i], "1");
		char extra[64], payloads[512];

		snprintf(w, sizeof(w), "%s", wrong[i]);
		if (!is_int)
			manifest_free(expect_parse(&(struct subst){.fv = w},
						   "format_version: expected an unsigned integer"));
		if (!is_int)
			manifest_free(expect_parse(&(struct subst){.version = w},
						   "version: expected an unsigned integer"));
		if (!is_string) {
			manifest_free(
			    expect_parse(&(struct subst){.name = w}, "name: expected a string"));
			manifest_free(expect_parse(&(struct subst){.cls = w},
						   "appliance_class: expected a string"));
			snprintf(extra, sizeof(extra), "\"not_after\":%s,", w);
			manifest_free(expect_parse(&(struct subst){.extra = extra},
						   "not_after: expected a string"));
			snprintf(payloads, sizeof(payloads),
				 "[{\"path\":%s,\"role\":\"disk\",\"size\":1,\"digest\":{\"alg\":"
				 "\"sha256\",\"value\":\"" HEX64 "\"}}]",
				 w);
			manifest_free(expect_parse(&(struct subst){.payloads = payloads},
						   "payloads[0].path: expected a string"));
			snprintf(payloads, sizeof(payloads),
				 "[{\"path\":\"p\",\"role\":%s,\"size\":1,\"digest\":{\"alg\":"
				 "\"sha256\",\"value\":\"" HEX64 "\"}}]",
				 w);
			manifest_free(expect_parse(&(struct subst){.payloads = payloads},
						   "payloads[0].role: expected a string"));
			snprintf(
			    payloads, sizeof(payloads),
			    "[{\"path\":\"p\",\"role\":\"disk\",\"size\":1,\"digest\":{\"alg\":"
			    "%s,\"value\":\"" HEX64 "\"}}]",
			    w);
			manifest_free(expect_parse(&(struct subst){.payloads = payloads},
						   "payloads[0].digest.alg: expected a string"));
			snprintf(
			    payloads, sizeof(payloads),
			    "[{\"path\":\"p\",\"role\":\"disk\",\"size\":1,\"digest\":{\"alg\":"
			    "\"sha256\",\"value\":%s}}]",
			    w);
			manifest_free(expect_parse(&(struct subst){.payloads = payloads},
						   "payloads[0].digest.value: expected a string"));
		}
		if (!is_int) {
			snprintf(
			    payloads, sizeof(payloads),
			    "[{\"path\":\"p\",\"role\":\"disk\",\"size\":%s,\"digest\":{\"alg\":"
			    "\"sha256\",\"value\":\"" HEX64 "\"}}]",
			    w);
			manifest_free(
			    expect_parse(&(struct subst){.payloads = payloads},
					 "payloads[0].size: expected an unsigned integer"));
		}
		if (strcmp(w, "{}")) {
			snprintf(payloads, sizeof(payloads),
				 "[{\"path\":\"p\",\"role\":\"disk\",\"size\":1,\"digest\":%s}]",
				 w);
			manifest_free(expect_parse(&(struct subst){.payloads = payloads},
						   "payloads[0].digest: expected an object"));
			snprintf(payloads, sizeof(payloads), "[" PAYLOAD("a") ",%s]", w);
			manifest_free(expect_parse(&(struct subst){.payloads = payloads},
						   "payloads[1]: expected an object"));
		}
		if (strcmp(w, "[]")) {
			manifest_free(expect_parse(&(struct subst){.payloads = w},
						   "payloads: expected an array"));
		}
	}
	/* The top level itself. */
	{
		static const char *const tops[] = {"[]", "1", "\"x\"", "null", "true"};

		for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
			struct manifest *m = NULL;
			struct diag d = {0};

			assert_int_equal(manifest_parse(tops[i], strlen(tops[i]), &m, &d),
					 -EBADMSG);
			assert_non_null(strstr(d.msg, "expected an object at the top"));
		}
	}
}

static void test_missing_members(void **state)
{
	static const char *const gone[] = {"path", "role", "size", "digest"};

	manifest_free(expect_parse(&(struct subst){.payloads = "[]"}, "at least one payload"));
	manifest_free(expect_parse(
	    &(struct subst){.payloads = "[{\"path\":\"p\",\"role\":\"disk\",\"size\":1,"
					"\"digest\":{\"value\":\"" HEX64 "\"}}]"},
	    "payloads[0].digest.alg: missing"));
	manifest_free(expect_parse(
	    &(struct subst){.payloads = "[{\"path\":\"p\",\"role\":\"disk\",\"size\":1,"
					"\"digest\":{\"alg\":\"sha256\"}}]"},
	    "payloads[0].digest.value: missing"));
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
		char payloads[512], want[64];
		int n = snprintf(payloads, sizeof(payloads), "[{");

		if (i != 0)
			n +=
			    snprintf(payloads + n, sizeof(payloads) - (size_t)n, "\"path\":\"p\",");
		if (i != 1)
			n += snprintf(payloads + n, sizeof(payloads) - (size_t)n,
				      "\"role\":\"data\",");
		if (i != 2)
			n += snprintf(payloads + n, sizeof(payloads) - (size_t)n, "\"size\":1,");
		if (i != 3)
			n += snprintf(payloads + n, sizeof(payloads) - (size_t)n,
				      "\"digest\":{\"alg\":\"sha256\",\"value\":\"" HEX64 "\"},");
		payloads[n - 1] = 0;
		strcat(payloads, "}]");
		snprintf(want, sizeof(want), "payloads[0].%s: missing", gone[i]);
		manifest_free(expect_parse(&(struct subst){.payloads = payloads}, want));
	}
}

static void test_unknown_members(void **state)
{
	manifest_free(expect_parse(&(struct subst){.extra = "\"Name\":\"x\","},
				   "top level: unknown member \"Name\""));
	manifest_free(expect_parse(&(struct subst){.extra = "\"signature\":null,"},
				   "unknown member \"signature\""));
	manifest_free(expect_parse(
	    &(struct subst){.payloads =
				"[" PAYLOAD("a") ",{\"path\":\"b\",\"role\":\"disk\","
						 "\"size\":1,\"offset\":0,\"digest\":{\"alg\":"
						 "\"sha256\",\"value\":\"" HEX64 "\"}}]"},
	    "payloads[1]: unknown member \"offset\""));
	manifest_free(expect_parse(
	    &(struct subst){.payloads = "[{\"path\":\"b\",\"role\":\"disk\",\"size\":1,"
					"\"digest\":{\"alg\":\"sha256\",\"value\":\"" HEX64
					"\",\"alg2\":\"sha384\"}}]"},
	    "payloads[0].digest: unknown member \"alg2\""));
	/* An unknown format_version explains itself before its members do. */
	manifest_free(expect_parse(&(struct subst){.fv = "3", .extra = "\"v3only\":1,"},
				   "unsupported format_version 3"));
	/* version 2 knows "verity"; version 1 does not */
	manifest_free(expect_parse(&(struct subst){.fv = "2", .extra = "\"v2only\":1,"},
				   "top level: unknown member \"v2only\""));
	manifest_free(expect_parse(&(struct subst){.fv = "18446744073709551615"},
				   "unsupported format_version 18446744073709551615"));
}

/* version and size: the full unsigned 64-bit range, nothing else. json-c
 * 0.16 reads 18446744073709551616 as 18446744073709551615 and -0 as 0; the
 * strict gate refuses those literals before json-c sees them. */
static void test_u64_range(void **state)
{
	static const struct {
		const char *lit;
		const char *want;
	} bad[] = {
	    {"18446744073709551616", "integer out of the 64-bit range"},
	    {"18446744073709551617", "integer out of the 64-bit range"},
	    {"99999999999999999999", "integer out of the 64-bit range"},
	    {"100000000000000000000000000000000000000", "integer out of the 64-bit range"},
	    {"-1", "version: expected an unsigned integer, got a negative one"},
	    {"-9223372036854775808", "got a negative one"},
	    {"-9223372036854775809", "integer out of the 64-bit range"},
	    {"-0", "-0 is not allowed"},
	    {"1.0", "version: expected an unsigned integer, got a fractional number"},
	    {"1e3", "got a fractional number"},
	    {"1E0", "got a fractional number"},
	    {"0.0", "got a fractional number"},
	    {"18446744073709551616.0", "got a fractional number"},
	    {"\"5\"", "got a string"},
	};
	struct manifest *m;
	char payloads[512];

	m = expect_parse(&(struct subst){.version = "0"}, NULL);
	assert_int_equal(m->version, 0);
	round_trip(m);
	manifest_free(m);
	m = expect_parse(&(struct subst){.version = "18446744073709551615"}, NULL);
	assert_true(m->version == UINT64_MAX);
	round_trip(m);
	manifest_free(m);
	m = expect_parse(&(struct subst){.version = "9223372036854775808"}, NULL);
	assert_true(m->version == (uint64_t)INT64_MAX + 1);
	manifest_free(m);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		manifest_free(expect_parse(&(struct subst){.version = bad[i].lit}, bad[i].want));

	snprintf(payloads, sizeof(payloads),
		 "[" PAYLOAD("a") ",{\"path\":\"b\",\"role\":\"disk\",\"size\":%s,\"digest\":{"
				  "\"alg\":\"sha256\",\"value\":\"" HEX64 "\"}}]",
		 "18446744073709551615");
	m = expect_parse(&(struct subst){.payloads = payloads}, NULL);
	assert_true(m->payloads[1].size == UINT64_MAX);
	round_trip(m);
	manifest_free(m);
	snprintf(payloads, sizeof(payloads),
		 "[" PAYLOAD("a") ",{\"path\":\"b\",\"role\":\"disk\",\"size\":%s,\"digest\":{"
				  "\"alg\":\"sha256\",\"value\":\"" HEX64 "\"}}]",
		 "18446744073709551616");
	manifest_free(expect_parse(&(struct subst){.payloads = payloads},
				   "at byte 283: integer out of the 64-bit range"));
	/* Out of range in an unknown member: refused either way. */
	manifest_free(expect_parse(&(struct subst){.extra = "\"x\":[1,{\"y\":1e999,"
							    "\"z\":-0}],"},
				   "at byte 123: -0 is not allowed"));
	/* Digits inside strings are not numbers. */
	manifest_free(expect_parse(&(struct subst){.name = "\"99999999999999999999\""}, NULL));
}

static void test_oversized(void **state)
{
	size_t n = MANIFEST_MAX_BYTES + 1;
	char *buf = malloc(n), *text = build(&(struct subst){0});
	size_t tn = strlen(text);
	struct manifest *m = NULL;
	struct diag d = {0};

	assert_non_null(buf);
	/* A valid manifest padded with whitespace to exactly the limit passes... */
	memset(buf, ' ', n);
	memcpy(buf, text, tn);
	assert_int_equal(manifest_parse(buf, n - 1, &m, &d), 0);
	manifest_free(m);
	m = NULL;
	/* ...one byte more does not, and is refused for its size alone. */
	assert_int_equal(manifest_parse(buf, n, &m, &d), -EBADMSG);
	assert_null(m);
	assert_int_equal(d.cls, DIAG_MALFORMED);
	assert_string_equal(d.msg, "manifest is 1048577 bytes, more than the 1048576 allowed");
	memset(&d, 0, sizeof(d));
	memset(buf, 0xff, n); /* not even UTF-8: the size is reported, not the content */
	assert_int_equal(manifest_parse(buf, n, &m, &d), -EBADMSG);
	assert_string_equal(d.msg, "manifest is 1048577 bytes, more than the 1048576 allowed");
	free(buf);
	free(text);
}

static void test_empty(void **state)
{
	struct manifest *m = NULL;
	struct diag d = {0};

	assert_int_equal(manifest_parse("", 0, &m, &d), -EBADMSG);
	assert_string_equal(d.msg, "manifest is empty");
	assert_int_equal(d.cls, DIAG_MALFORMED);
	memset(&d, 0, sizeof(d));
	assert_int_equal(manifest_parse(" \n", 2, &m, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "truncated"));
	assert_null(m);
}

/* Every prefix of a valid manifest is refused (truncation anywhere). */
static void test_truncated(void **state)
{
	char *text = build(&(struct subst){0});
	size_t n = strlen(text);

	for (size_t i = 1; i < n; i++) {
		struct manifest *m = NULL;
		struct diag d = {0};

		if (manifest_parse(text, i, &m, &d) != -EBADMSG)
			fail_msg("accepted the first %zu bytes of %s", i, text);
		assert_true(!strncmp(d.msg, "manifest: ", 10));
	}
	free(text);
}

static void test_paths_in_manifest(void **state)
{
	static const char *const bad[] = {
	    "../x", "/abs", "a//b", "a/./b", "",    "manifest.json", "manifest.json.p7s", "a/",
	    "./a",  "a/..", "..",   ".",     "a b", "a\\\\b",	     "\\u00e9",
	};
	static const struct {
		const char *a, *b, *want;
	} pairs[] = {
	    {"a", "a", "\"a\" is listed twice"},
	    {"a", "a/b", "\"a/b\" and \"a\" conflict"},
	    {"a/b", "a", "\"a\" and \"a/b\" conflict"},
	    {"x/y/z", "x/y", "conflict"},
	    {"x/y", "x/y/z/w", "conflict"},
	    {"boot/k", "boot/k", "listed twice"},
	};
	static const char *const fine[][2] = {
	    {"a", "ab"}, {"a/b", "a.b"}, {"a/b", "a/c"}, {"ab/c", "a"}, {"manifest.json/x", "y"},
	};
	char payloads[1024], want[400];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(payloads, sizeof(payloads), "[" PAYLOAD("ok") ",%s]", "@");
		snprintf(payloads, sizeof(payloads),
			 "[" PAYLOAD("ok") ",{\"path\":\"%s\",\"role\":\"data\",\"size\":1,"
					   "\"digest\":{\"alg\":\"sha256\",\"value\":\"" HEX64
					   "\"}}]",
			 bad[i]);
		snprintf(want, sizeof(want), "payloads[1].path: \"");
		manifest_free(expect_parse(&(struct subst){.payloads = payloads}, want));
		manifest_free(expect_parse(&(struct subst){.payloads = payloads},
					   "is not a valid payload path"));
	}
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		snprintf(payloads, sizeof(payloads),
			 "[" PAYLOAD("other") ",{\"path\":\"%s\",\"role\":\"data\",\"size\":1,"
					      "\"digest\":{\"alg\":\"sha256\",\"value\":\"" HEX64
					      "\"}},{\"path\":"
					      "\"%s\",\"role\":\"data\",\"size\":1,\"digest\":{"
					      "\"alg\":\"sha256\","
					      "\"value\":\"" HEX64 "\"}}]",
			 pairs[i].a, pairs[i].b);
		manifest_free(
		    expect_parse(&(struct subst){.payloads = payloads}, "payloads[2].path"));
		manifest_free(expect_parse(&(struct subst){.payloads = payloads}, pairs[i].want));
	}
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		struct manifest *m;

		snprintf(payloads, sizeof(payloads),
			 "[{\"path\":\"%s\",\"role\":\"data\",\"size\":1,\"digest\":{\"alg\":"
			 "\"sha256\",\"value\":\"" HEX64 "\"}},{\"path\":\"%s\",\"role\":\"data\","
			 "\"size\":1,\"digest\":{\"alg\":\"sha256\",\"value\":\"" HEX64 "\"}}]",
			 fine[i][0], fine[i][1]);
		m = expect_parse(&(struct subst){.payloads = payloads}, NULL);
		round_trip(m);
		manifest_free(m);
	}
}

static void test_names_and_digests_in_manifest(void **state)
{
	char longname[MANIFEST_NAME_MAX + 4], payloads[512];
	struct manifest *m;

	longname[0] = '"';
	memset(longname + 1, 'x', MANIFEST_NAME_MAX);
	strcpy(longname + 1 + MANIFEST_NAME_MAX, "\"");
	m = expect_parse(&(struct subst){.name = longname, .cls = "\"A-z_0.9\""}, NULL);
	round_trip(m);
	manifest_free(m);
	strcpy(longname + 1 + MANIFEST_NAME_MAX, "x\"");
	manifest_free(expect_parse(&(struct subst){.name = longname}, "name must be 1 to 128"));
	manifest_free(expect_parse(&(struct subst){.name = "\"\""}, "name must be"));
	manifest_free(expect_parse(&(struct subst){.name = "\"a b\""}, "name must be"));
	manifest_free(
	    expect_parse(&(struct subst){.cls = "\"\\u00e9\""}, "appliance_class must be"));
	manifest_free(expect_parse(&(struct subst){.cls = "\"\""}, "appliance_class must be"));

	snprintf(payloads, sizeof(payloads),
		 "[{\"path\":\"p\",\"role\":\"kernel\",\"size\":1,\"digest\":{\"alg\":\"sha384\","
		 "\"value\":\"%s\"}}]",
		 HEX64 "0123456789abcdef0123456789abcdef");
	m = expect_parse(&(struct subst){.payloads = payloads}, NULL);
	assert_int_equal(m->payloads[0].alg, DIGEST_SHA384);
	assert_int_equal(m->payloads[0].role, ROLE_KERNEL);
	assert_int_equal(m->payloads[0].digest[47], 0xef);
	round_trip(m);
	manifest_free(m);
	/* sha384 with a sha256-sized value, and the reverse. */
	snprintf(payloads, sizeof(payloads),
		 "[{\"path\":\"p\",\"role\":\"kernel\",\"size\":1,\"digest\":{\"alg\":\"sha384\","
		 "\"value\":\"%s\"}}]",
		 HEX64);
	manifest_free(expect_parse(&(struct subst){.payloads = payloads},
				   "payloads[0].digest.value: expected 96 lowercase hex digits"));
	snprintf(payloads, sizeof(payloads),
		 "[{\"path\":\"p\",\"role\":\"kernel\",\"size\":1,\"digest\":{\"alg\":\"sha256\","
		 "\"value\":\"%s\"}}]",
		 HEX64 "00");
	manifest_free(expect_parse(&(struct subst){.payloads = payloads},
				   "expected 64 lowercase hex digits"));
	manifest_free(expect_parse(
	    &(struct subst){.payloads =
				"[{\"path\":\"p\",\"role\":\"initrd\",\"size\":1,"
				"\"digest\":{\"alg\":\"SHA256\",\"value\":\"" HEX64 "\"}}]"},
	    "unknown algorithm \"SHA256\""));
	manifest_free(expect_parse(
	    &(struct subst){.payloads = "[{\"path\":\"p\",\"role\":\"initrd\",\"size\":1,"
					"\"digest\":{\"alg\":\"sha1\",\"value\":\"" HEX64 "\"}}]"},
	    "unknown algorithm \"sha1\""));
	manifest_free(expect_parse(
	    &(struct subst){.payloads =
				"[{\"path\":\"p\",\"role\":\"\",\"size\":1,"
				"\"digest\":{\"alg\":\"sha256\",\"value\":\"" HEX64 "\"}}]"},
	    "payloads[0].role: unknown role \"\""));
	manifest_free(expect_parse(
	    &(struct subst){.extra = "\"not_after\":\"2027-06-30T00:00:00Z\","}, NULL));
	manifest_free(expect_parse(&(struct subst){.extra = "\"not_after\":\"2027-06-30\","},
				   "not_after: \"2027-06-30\" is not a time"));
}

static void test_payload_count(void **state)
{
	size_t cap = (MANIFEST_MAX_PAYLOADS + 1) * 200, n = 0;
	char *payloads = malloc(cap);
	struct manifest *m;

	assert_non_null(payloads);
	payloads[n++] = '[';
	for (unsigned i = 0; i < MANIFEST_MAX_PAYLOADS; i++)
		n += (size_t)snprintf(payloads + n, cap - n,
				      "%s{\"path\":\"d/%u\",\"role\":\"data\",\"size\":%u,"
				      "\"digest\":{\"alg\":\"sha256\",\"value\":\"" HEX64 "\"}}",
				      i ? "," : "", i, i);
	strcpy(payloads + n, "]");
	m = expect_parse(&(struct subst){.payloads = payloads}, NULL);
	assert_int_equal(m->n_payloads, MANIFEST_MAX_PAYLOADS);
	assert_string_equal(m->payloads[1023].path, "d/1023");
	round_trip(m);
	manifest_free(m);
	snprintf(payloads + n, cap - n,
		 ",{\"path\":\"x\",\"role\":\"data\",\"size\":1,"
		 "\"digest\":{\"alg\":\"sha256\",\"value\":\"" HEX64 "\"}}]");
	manifest_free(expect_parse(&(struct subst){.payloads = payloads},
				   "payloads: 1025 entries, more than the 1024 allowed"));
	free(payloads);
}

/* The exact text that gets signed. */
static void test_serialize_golden(void **state)
{
	static const char want[] =
	    "{\n"
	    "  \"format\": \"sealboot-bundle-manifest\",\n"
	    "  \"format_version\": 1,\n"
	    "  \"name\": \"edge-web\",\n"
	    "  \"version\": 18446744073709551615,\n"
	    "  \"appliance_class\": \"acme-edge-v1\",\n"
	    "  \"not_after\": \"2027-06-30T00:00:00Z\",\n"
	    "  \"payloads\": [\n"
	    "    {\n"
	    "      \"path\": \"disk.img\",\n"
	    "      \"role\": \"disk\",\n"
	    "      \"size\": 1073741824,\n"
	    "      \"digest\": {\n"
	    "        \"alg\": \"sha256\",\n"
	    "        \"value\": \"" HEX64 "\"\n"
	    "      }\n"
	    "    },\n"
	    "    {\n"
	    "      \"path\": \"boot/vmlinuz\",\n"
	    "      \"role\": \"kernel\",\n"
	    "      \"size\": 0,\n"
	    "      \"digest\": {\n"
	    "        \"alg\": \"sha384\",\n"
	    "        \"value\": \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	    "202122232425262728292a2b2c2d2e2f\"\n"
	    "      }\n"
	    "    }\n"
	    "  ]\n"
	    "}\n";
	struct payload p[2] = {
	    {.path = "disk.img", .size = 1073741824, .role = ROLE_DISK, .alg = DIGEST_SHA256},
	    {.path = "boot/vmlinuz", .size = 0, .role = ROLE_KERNEL, .alg = DIGEST_SHA384},
	};
	struct manifest m = {
	    .format_version = 1,
	    .name = "edge-web",
	    .version = UINT64_MAX,
	    .appliance_class = "acme-edge-v1",
	    .has_not_after = true,
	    .not_after = 1814313600, /* 2027-06-30T00:00:00Z */
	    .n_payloads = 2,
	    .payloads = p,
	};
	struct manifest *back = NULL;
	struct diag d = {0};
	char *s;
	size_t n;

	for (unsigned i = 0; i < 48; i++)
		p[1].digest[i] = (unsigned char)i;
	assert_int_equal(hex_decode(HEX64, p[0].digest, 32), 0);
	assert_int_equal(manifest_serialize(&m, &s, &n), 0);
	assert_int_equal(n, sizeof(want) - 1);
	assert_string_equal(s, want);
	assert_int_equal(manifest_parse(s, n, &back, &d), 0);
	assert_true(manifests_equal(&m, back));
	manifest_free(back);
	free(s);
	round_trip(&m);
}

static void test_path_rules(void **state)
{
	static const char *const ok[] = {
	    "disk.img", "a/b/c", "boot/vmlinuz-6.1.0+deb", ".hidden",
	    "..a",	"a..",	 "manifest.json.bak",	   "sub/manifest.json"};
	static const char *const no[] = {
	    "",
	    "/abs",
	    "a/",
	    "a//b",
	    ".",
	    "..",
	    "./a",
	    "a/.",
	    "a/..",
	    "../a",
	    "a/../b",
	    "manifest.json",
	    "manifest.json.p7s",
	    "sp ace",
	    "back\\slash",
	    "tab\t",
	    "\xc3\xa9",
	    "a:b",
	    "a*",
	};
	char longp[MANIFEST_PATH_MAX + 2];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!manifest_path_valid(ok[i]))
			fail_msg("refused good path \"%s\"", ok[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (manifest_path_valid(no[i]))
			fail_msg("accepted bad path \"%s\"", no[i]);
	memset(longp, 'a', sizeof(longp));
	longp[MANIFEST_PATH_MAX] = 0;
	assert_true(manifest_path_valid(longp));
	longp[MANIFEST_PATH_MAX] = 'a';
	longp[MANIFEST_PATH_MAX + 1] = 0;
	assert_false(manifest_path_valid(longp));
}

static void test_time(void **state)
{
	static const char *const bad[] = {
	    "2027-06-30",
	    "2027-06-30T00:00:00",
	    "2027-06-30T00:00:00+00:00",
	    "2027-06-30t00:00:00Z",
	    "2027-13-01T00:00:00Z",
	    "2027-02-29T00:00:00Z",
	    "2027-04-31T00:00:00Z",
	    "2027-06-30T24:00:00Z",
	    "2027-06-30T00:60:00Z",
	    "2027-06-30T00:00:60Z",
	    "1969-12-31T23:59:59Z",
	    "2027-06-30T00:00:00.5Z",
	    " 2027-06-30T00:00:00Z",
	};
	int64_t t;
	char out[32];

	assert_int_equal(manifest_time_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(manifest_time_parse("2028-02-29T12:34:56Z", &t), 0);
	assert_int_equal(t, 1835440496);
	manifest_time_format(t, out);
	assert_string_equal(out, "2028-02-29T12:34:56Z");
	assert_int_equal(manifest_time_parse("2000-02-29T00:00:00Z", &t), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (manifest_time_parse(bad[i], &t) != -EINVAL)
			fail_msg("accepted time \"%s\"", bad[i]);
}

static void test_names(void **state)
{
	enum payload_role r;
	enum digest_alg a;

	assert_int_equal(payload_role_from_name("kernel", &r), 0);
	assert_int_equal(r, ROLE_KERNEL);
	assert_string_equal(payload_role_name(ROLE_CMDLINE), "cmdline");
	assert_int_equal(payload_role_from_name("Disk", &r), -EINVAL);
	assert_int_equal(digest_alg_from_name("sha384", &a), 0);
	assert_int_equal(digest_alg_len(a), 48);
	assert_int_equal(digest_alg_from_name("sha1", &a), -EINVAL);
}

static void test_validate_struct(void **state)
{
	struct payload p[2] = {
	    {.path = "disk.img", .role = ROLE_DISK, .alg = DIGEST_SHA256},
	    {.path = "disk.img/x", .role = ROLE_DATA, .alg = DIGEST_SHA256},
	};
	struct manifest m = {
	    .format_version = 1,
	    .name = "n",
	    .appliance_class = "c",
	    .n_payloads = 1,
	    .payloads = p,
	};
	struct diag d = {0};
	char *s;
	size_t n;

#define EXPECT_INVALID(want)                                                                       \
	do {                                                                                       \
		memset(&d, 0, sizeof(d));                                                          \
		assert_int_equal(manifest_validate(&m, &d), -EINVAL);                              \
		assert_int_equal(d.cls, DIAG_MALFORMED);                                           \
		if (!strstr(d.msg, want) || strncmp(d.msg, "manifest: ", 10))                      \
			fail_msg("message \"%s\" lacks \"%s\"", d.msg, want);                      \
		assert_int_equal(manifest_serialize(&m, &s, &n), -EINVAL);                         \
	} while (0)

	assert_int_equal(manifest_validate(&m, &d), 0);
	round_trip(&m);
	m.n_payloads = 2;
	EXPECT_INVALID("conflict");
	m.n_payloads = 1;
	m.name = "";
	EXPECT_INVALID("name");
	m.name = NULL;
	EXPECT_INVALID("name");
	m.name = "n";
	m.appliance_class = "c/d";
	EXPECT_INVALID("appliance_class");
	m.appliance_class = "c";
	m.format_version = 3;
	EXPECT_INVALID("unsupported format_version 3");
	m.format_version = 1;
	m.has_not_after = true;
	m.not_after = -1;
	EXPECT_INVALID("not_after");
	m.not_after = INT64_C(253402300800); /* 10000-01-01 */
	EXPECT_INVALID("not_after");
	m.not_after = INT64_C(253402300799);
	assert_int_equal(manifest_validate(&m, &d), 0);
	round_trip(&m);
	m.has_not_after = false;
	m.n_payloads = 0;
	EXPECT_INVALID("at least one payload");
	m.n_payloads = MANIFEST_MAX_PAYLOADS + 1;
	EXPECT_INVALID("more than the 1024 allowed");
	m.n_payloads = 1;
	p[0].path = "../x";
	EXPECT_INVALID("payloads[0].path");
	p[0].path = "disk.img";
	p[0].role = _ROLE_COUNT;
	EXPECT_INVALID("payloads[0].role");
	p[0].role = ROLE_DISK;
	p[0].alg = _DIGEST_COUNT;
	EXPECT_INVALID("payloads[0].digest.alg");
	p[0].alg = DIGEST_SHA256;
	assert_int_equal(manifest_validate(&m, NULL), 0);
#undef EXPECT_INVALID
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixtures),
	    cmocka_unit_test(test_oversized),
	    cmocka_unit_test(test_path_rules),
	    cmocka_unit_test(test_time),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_validate_struct),
	    cmocka_unit_test(test_template_is_valid),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_missing_members),
	    cmocka_unit_test(test_unknown_members),
	    cmocka_unit_test(test_u64_range),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_paths_in_manifest),
	    cmocka_unit_test(test_names_and_digests_in_manifest),
	    cmocka_unit_test(test_payload_count),
	    cmocka_unit_test(test_serialize_golden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
