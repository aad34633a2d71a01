/* SPDX-License-Identifier: Apache-2.0 */
/* The one grammar for names and paths, and the one way to show untrusted
 * text in a message (util/text.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_names(void **state)
{
	static const struct {
		const char *s;
		bool name, dm, host;
	} cases[] = {
	    {"a", true, true, true},
	    {"Web-1_x", true, true, true},
	    {"app.v2", true, false, true},
	    {"_x", true, true, false},	/* host: the first a letter or digit */
	    {"-rf", true, true, false}, /* never option-looking to a host tool */
	    {".hidden", true, false, false},
	    {".", true, false, false},
	    {"..", true, false, false},
	    {"", false, false, false},
	    {"a b", false, false, false},
	    {"a/b", false, false, false},
	    {"a+b", false, false, false},
	    {"caf\xc3\xa9", false, false, false},
	    {"a\nb", false, false, false},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		assert_int_equal(text_name_valid(cases[i].s, 32, TEXT_NAME), cases[i].name);
		assert_int_equal(text_name_valid(cases[i].s, 32, TEXT_NAME_DM), cases[i].dm);
		assert_int_equal(text_name_valid(cases[i].s, 32, TEXT_NAME_HOST), cases[i].host);
	}
	assert_false(text_name_valid(NULL, 32, TEXT_NAME));
	/* max bytes exactly, one more refused */
	assert_true(text_name_valid("abcd", 4, TEXT_NAME));
	assert_false(text_name_valid("abcde", 4, TEXT_NAME));
	assert_false(text_name_valid("abcde", 4, TEXT_NAME_HOST));
}

static void test_paths(void **state)
{
	static const char *const rel_ok[] = {"a",   "disk.img", "dir/a+b_c-1.img", "a/b/c", ".x",
					     "..x", "x.."};
	static const char *const rel_no[] = {"",    "/a",   "a/",	   "a//b",   ".",
					     "..",  "./a",  "a/./b",	   "a/../b", "a/..",
					     "a b", "a\\b", "caf\xc3\xa9", "a:b"};
	static const char *const abs_ok[] = {"/a", "/var/lib/sealboot", "/dev/vdb", "/a/.x",
					     "/a/b+c"};
	static const char *const abs_no[] = {"",     "/",	"//",	 "a",	"a/b",
					     "/a/",  "//a",	"/a//b", "/.",	"/..",
					     "/a/.", "/a/../b", "/a b",	 "/a\n"};
	char longp[300];

	(void)state;
	for (size_t i = 0; i < N(rel_ok); i++)
		assert_true(text_path_valid(rel_ok[i], 255, TEXT_PATH_RELATIVE));
	for (size_t i = 0; i < N(rel_no); i++)
		assert_false(text_path_valid(rel_no[i], 255, TEXT_PATH_RELATIVE));
	for (size_t i = 0; i < N(abs_ok); i++) {
		assert_true(text_path_valid(abs_ok[i], 255, TEXT_PATH_ABSOLUTE));
		/* the same without its '/' is relative, not absolute */
		assert_false(text_path_valid(abs_ok[i] + 1, 255, TEXT_PATH_ABSOLUTE));
		assert_true(text_path_valid(abs_ok[i] + 1, 255, TEXT_PATH_RELATIVE));
	}
	for (size_t i = 0; i < N(abs_no); i++)
		assert_false(text_path_valid(abs_no[i], 255, TEXT_PATH_ABSOLUTE));
	assert_false(text_path_valid(NULL, 255, TEXT_PATH_ABSOLUTE));
	/* max bytes exactly, one more refused */
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[255] = 0;
	assert_true(text_path_valid(longp, 255, TEXT_PATH_ABSOLUTE));
	longp[255] = 'a';
	longp[256] = 0;
	assert_false(text_path_valid(longp, 255, TEXT_PATH_ABSOLUTE));
}

static void test_shown(void **state)
{
	char out[TEXT_SHOWN_SIZE(8)], m[TEXT_MASKED_SIZE(8)];

	(void)state;
	assert_string_equal(text_shown("plain", 8, TEXT_ESCAPED, out), "plain");
	assert_string_equal(text_shown("a\"b\\c\n", 8, TEXT_ESCAPED, out), "a\\x22b\\x5cc\\x0a");
	assert_string_equal(text_shown("caf\xc3\xa9", 8, TEXT_ESCAPED, out), "caf\\xc3\\xa9");
	assert_string_equal(text_shown("\x7f\x01", 8, TEXT_ESCAPED, out), "\\x7f\\x01");
	assert_string_equal(text_shown("123456789", 8, TEXT_ESCAPED, out), "12345678...");
	assert_string_equal(text_shown("12345678", 8, TEXT_ESCAPED, out), "12345678");
	/* the worst case fills the documented size exactly */
	assert_string_equal(text_shown("\n\n\n\n\n\n\n\nx", 8, TEXT_ESCAPED, out),
			    "\\x0a\\x0a\\x0a\\x0a\\x0a\\x0a\\x0a\\x0a...");
	assert_int_equal(strlen(out) + 1, sizeof(out));

	assert_string_equal(text_shown("a\"b\\c\n", 8, TEXT_MASKED, m), "a?b?c?");
	assert_string_equal(text_shown("vnc\n\x1b[31m", 8, TEXT_MASKED, m), "vnc??[31...");
	assert_string_equal(text_shown("", 8, TEXT_MASKED, m), "");
	assert_int_equal(strlen(text_shown("123456789", 8, TEXT_MASKED, m)) + 1, sizeof(m));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_shown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
