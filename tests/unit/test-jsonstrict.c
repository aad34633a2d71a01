/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonstrict.h"

static int check(const char *s, size_t len, struct diag *d)
{
	memset(d, 0, sizeof(*d));
	return json_strict_check(s, len, 8, d);
}

#define ACCEPT(lit)                                                                                \
	do {                                                                                       \
		struct diag d_;                                                                    \
		int r_ = check(lit, sizeof(lit) - 1, &d_);                                         \
		if (r_ != 0)                                                                       \
			fail_msg("rejected %s: %s", #lit, d_.msg);                                 \
	} while (0)

/* Rejected, with msg containing want. */
#define REJECT(lit, want)                                                                          \
	do {                                                                                       \
		struct diag d_;                                                                    \
		int r_ = check(lit, sizeof(lit) - 1, &d_);                                         \
		if (r_ != -EBADMSG)                                                                \
			fail_msg("accepted %s", #lit);                                             \
		assert_int_equal(d_.cls, DIAG_MALFORMED);                                          \
		if (!strstr(d_.msg, want))                                                         \
			fail_msg("%s: message \"%s\" lacks \"%s\"", #lit, d_.msg, want);           \
	} while (0)

static void test_accepts_valid(void **state)
{
	ACCEPT("{}");
	ACCEPT("[]");
	ACCEPT(" \n\t{\"a\": [1, -2, 3.5, 1e10, -0.5E-3, true, false, null, \"x\"]}\r\n");
	ACCEPT("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\"");
	ACCEPT("\"\\u00e9\\ud83d\\udd12\\\"\\\\\\/\\b\\f\\n\\r\\t\"");
	ACCEPT("{\"a\": {\"a\": 1}, \"b\": {\"a\": 2}}"); /* same name, different objects */
	ACCEPT("18446744073709551615");
	ACCEPT("-9223372036854775808");
	ACCEPT("123456789012345678901234567890.5"); /* not an integer: no 64-bit rule */
}

static void test_rejects_bad_utf8(void **state)
{
	REJECT("\"\xc0\xaf\"", "UTF-8");	 /* overlong '/' */
	REJECT("\"\xe0\x80\xaf\"", "UTF-8");	 /* overlong, 3 bytes */
	REJECT("\"\x80\"", "UTF-8");		 /* lone continuation */
	REJECT("\"\xed\xa0\x80\"", "UTF-8");	 /* UTF-8 encoded surrogate */
	REJECT("\"\xf4\x90\x80\x80\"", "UTF-8"); /* above U+10FFFF */
	REJECT("\"\xf0\x9f\x94\"", "UTF-8");	 /* truncated sequence */
	REJECT("\"\xf0\x80\x80\xaf\"", "UTF-8"); /* overlong, 4 bytes */
	REJECT("\"\xc1\xbf\"", "UTF-8");	 /* overlong U+007F */
	REJECT("\"\xed\xbf\xbf\"", "UTF-8");	 /* UTF-8 encoded U+DFFF */
	REJECT("\"\xf5\x80\x80\x80\"", "UTF-8"); /* lead byte F5 */
	REJECT("\"\xff\"", "UTF-8");
	REJECT("\"\xc3\"", "UTF-8");		      /* cut before the quote */
	REJECT("{\"\xc0\xae\": 1}", "UTF-8");	      /* in a member name */
	REJECT("[\xc3\xa9]", "unexpected character"); /* valid UTF-8, outside a string */
	ACCEPT("\"\xed\x9f\xbf \xee\x80\x80 \xf4\x8f\xbf\xbf \xc2\x80\""); /* edges */
	REJECT("\xef\xbb\xbf{}", "unexpected character");		   /* a BOM is not JSON */
}

static void test_rejects_escapes(void **state)
{
	REJECT("\"\\ud800\"", "surrogate");
	REJECT("\"\\udc00\\ud800\"", "surrogate");
	REJECT("\"\\ud800\\u0041\"", "surrogate");
	REJECT("\"\\uDBFF\"", "surrogate");
	REJECT("\"\\ud800\\ud800\"", "surrogate");
	REJECT("\"\\ud800\\", "surrogate");
	REJECT("\"\\udfff x\"", "surrogate");
	ACCEPT("\"\\uD83D\\uDD12\\uDBFF\\uDFFF\"");
	REJECT("\"\\u0000\"", "\\u0000");
	REJECT("\"\\x41\"", "escape");
	REJECT("\"\\u12\"", "escape");
	REJECT("\"a\tb\"", "control character");
}

static void test_rejects_nul(void **state)
{
	struct diag d;
	static const char with_nul[] = "{\"a\": \"b\0c\"}";

	assert_int_equal(check(with_nul, sizeof(with_nul) - 1, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "NUL"));
	assert_int_equal(check("{}\0", 3, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "NUL byte"));
	assert_int_equal(check("\0{}", 3, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "NUL byte"));
}

static void test_rejects_duplicates(void **state)
{
	REJECT("{\"a\": 1, \"a\": 2}", "duplicate member name \"a\"");
	REJECT("{\"a\": 1, \"\\u0061\": 2}", "duplicate member name \"a\"");
	REJECT("{\"x\": {\"k\": 1, \"j\": 2, \"k\": 3}}", "duplicate member name \"k\"");
	REJECT("[{}, {\"b\": 1, \"c\": 2, \"b\": 1}]", "duplicate");
	REJECT("{\"\\u00e9\": 1, \"\xc3\xa9\": 2}", "duplicate member name \"??\"");
	REJECT("{\"\\ud83d\\udd12\": 1, \"\xf0\x9f\x94\x92\": 2}", "duplicate");
	REJECT("{\"a\\/b\": 1, \"a/b\": 2}", "duplicate member name \"a/b\"");
	ACCEPT("{\"a\": 1, \"A\": 2, \"a \": 3, \"\": 4}");
	REJECT("{\"\": 1, \"\": 2}", "duplicate member name \"\"");
	/* The reported offset is the second occurrence. */
	{
		struct diag d;
		static const char s[] = "{\"v\": 1, \"v\": 2}";

		assert_int_equal(check(s, sizeof(s) - 1, &d), -EBADMSG);
		assert_non_null(strstr(d.msg, "at byte 9"));
	}
}

static void test_rejects_grammar(void **state)
{
	struct diag d;

	assert_int_equal(check("", 0, &d), -EBADMSG);
	REJECT("{", "truncated");
	REJECT("{\"a\": 1", "truncated");
	REJECT("{\"a\" 1}", "expected ':'");
	REJECT("{\"a\": 1,}", "expected member name");
	REJECT("[1,]", "unexpected character");
	REJECT("[1 2]", "expected ','");
	REJECT("{} {}", "trailing data");
	REJECT("{'a': 1}", "expected member name");
	REJECT("01", "leading zero");
	REJECT("1.", "fraction");
	REJECT("1e", "exponent");
	REJECT("+1", "unexpected character");
	REJECT("tru", "unexpected character");
	REJECT("NaN", "unexpected character");
	REJECT("\"abc", "truncated string");
}

/* RFC 8259 leaves the range of numbers to implementations. json-c
 * saturates integers beyond 64 bits and reads -0 as 0, so the gate refuses
 * both; fractions and exponents are not integers and are left alone. */
static void test_integer_range(void **state)
{
	ACCEPT("18446744073709551615");
	ACCEPT("-9223372036854775808");
	ACCEPT("[0, -0.0, 1E+2, 1e-2, 123456789012345678901234567890.5]");
	REJECT("18446744073709551616", "integer out of the 64-bit range");
	REJECT("-9223372036854775809", "integer out of the 64-bit range");
	REJECT("{\"v\": 99999999999999999999999}", "at byte 6: integer out of the 64-bit range");
	REJECT("-0", "-0 is not allowed");
	REJECT("[1, -0]", "at byte 4: -0 is not allowed");
}

static void test_depth(void **state)
{
	struct diag d;

	assert_int_equal(check("[[[[[[[[1]]]]]]]]", 17, &d), 0);	  /* 8 deep */
	assert_int_equal(check("[[[[[[[[[1]]]]]]]]]", 19, &d), -EBADMSG); /* 9 deep */
	assert_non_null(strstr(d.msg, "nested too deeply"));
	REJECT("{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}}}}}",
	       "nested too deeply");
	memset(&d, 0, sizeof(d));
	assert_int_equal(json_strict_check("[]", 2, 0, &d), -EBADMSG);
	memset(&d, 0, sizeof(d));
	assert_int_equal(json_strict_check("1", 1, 0, &d), 0);
}

/* A caller asking for no limit still gets a bounded recursion: a million
 * '[' must be refused, not blow the stack. */
static void test_depth_hard_cap(void **state)
{
	size_t n = 1000000;
	char *buf = malloc(2 * n);
	struct diag d = {0};

	assert_non_null(buf);
	memset(buf, '[', n);
	memset(buf + n, ']', n);
	assert_int_equal(json_strict_check(buf, 2 * n, UINT_MAX, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "nested too deeply"));
	/* 500 deep is allowed when asked for. */
	memset(&d, 0, sizeof(d));
	assert_int_equal(json_strict_check(buf + n - 500, 1000, 500, &d), 0);
	free(buf);
}

/* Many members: duplicates are still found (sorting, not pairwise), and a
 * large valid object passes quickly. */
static void test_many_members(void **state)
{
	size_t count = 100000, cap = count * 16 + 16, n = 0;
	char *buf = malloc(cap);
	struct diag d = {0};

	assert_non_null(buf);
	buf[n++] = '{';
	for (size_t i = 0; i < count; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s\"k%zu\":%zu", i ? "," : "", i, i);
	buf[n++] = '}';
	assert_int_equal(json_strict_check(buf, n, 8, &d), 0);
	/* Turn the last name into a copy of the first: "k99999" -> "k0", padded with spaces. */
	{
		char *last = strstr(buf, "\"k99999\"");

		assert_non_null(last);
		memcpy(last, "\"k0\"    ", 8);
	}
	assert_int_equal(json_strict_check(buf, n, 8, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "duplicate member name \"k0\""));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts_valid),      cmocka_unit_test(test_rejects_bad_utf8),
	    cmocka_unit_test(test_rejects_escapes),    cmocka_unit_test(test_rejects_nul),
	    cmocka_unit_test(test_rejects_duplicates), cmocka_unit_test(test_rejects_grammar),
	    cmocka_unit_test(test_integer_range),      cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_depth_hard_cap),     cmocka_unit_test(test_many_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
