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
				fail_msg("%s: message \"%s\" lacks \"%s\"", de->d_name, d.msg, want);
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
	assert_true(good >= 5);
	assert_true(bad >= 30);
}

static void test_oversized(void **state)
{
	size_t n = MANIFEST_MAX_BYTES + 1;
	char *buf = malloc(n);
	struct manifest *m = NULL;
	struct diag d = {0};

	assert_non_null(buf);
	memset(buf, ' ', n);
	buf[0] = '{';
	buf[n - 1] = '}';
	assert_int_equal(manifest_parse(buf, n, &m, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "larger than the 1048576 allowed"));
	free(buf);
}

static void test_path_rules(void **state)
{
	static const char *const ok[] = {"disk.img", "a/b/c", "boot/vmlinuz-6.1.0+deb",
					 ".hidden", "..a", "a..", "manifest.json.bak",
					 "sub/manifest.json"};
	static const char *const no[] = {
		"", "/abs", "a/", "a//b", ".", "..", "./a", "a/.", "a/..", "../a", "a/../b",
		"manifest.json", "manifest.json.p7s", "sp ace", "back\\slash", "tab\t",
		"\xc3\xa9", "a:b", "a*",
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
		"2027-06-30", "2027-06-30T00:00:00", "2027-06-30T00:00:00+00:00",
		"2027-06-30t00:00:00Z", "2027-13-01T00:00:00Z", "2027-02-29T00:00:00Z",
		"2027-04-31T00:00:00Z", "2027-06-30T24:00:00Z", "2027-06-30T00:60:00Z",
		"2027-06-30T00:00:60Z", "1969-12-31T23:59:59Z", "2027-06-30T00:00:00.5Z",
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
		.format_version = 1, .name = "n", .appliance_class = "c",
		.n_payloads = 1, .payloads = p,
	};
	struct diag d = {0};
	char *s;
	size_t n;

	assert_int_equal(manifest_validate(&m, &d), 0);
	round_trip(&m);
	m.n_payloads = 2;
	assert_int_equal(manifest_validate(&m, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "conflict"));
	assert_int_equal(manifest_serialize(&m, &s, &n), -EINVAL);
	m.n_payloads = 1;
	m.name = "";
	memset(&d, 0, sizeof(d));
	assert_int_equal(manifest_validate(&m, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),  cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_path_rules), cmocka_unit_test(test_time),
		cmocka_unit_test(test_names),     cmocka_unit_test(test_validate_struct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
