/* SPDX-License-Identifier: Apache-2.0 */
/* util/jsonout: every string written into hand-made JSON is escaped, the
 * output passes the strict checker and reads back to the input (or, for
 * bytes that are not UTF-8, to U+FFFD in their place). */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonout.h"
#include "jsonstrict.h"

/* What json_write_string writes for s. */
static char *quoted(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	json_write_string(f, s);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* s written, checked strictly, parsed back: the string json-c reads. */
static void assert_reads_back(const char *s, const char *want)
{
	char *out = quoted(s), *doc;
	struct diag d = {0};
	json_object *o;

	assert_true(asprintf(&doc, "{\"v\":%s}", out) > 0);
	assert_int_equal(json_strict_check(doc, strlen(doc), 4, &d), 0);
	o = json_tokener_parse(doc);
	assert_non_null(o);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "v")), want);
	json_object_put(o);
	free(doc);
	free(out);
}

#define ASSERT_WRITES(in, want)                                                                    \
	do {                                                                                       \
		char *out_ = quoted(in);                                                           \
		assert_string_equal(out_, (want));                                                 \
		free(out_);                                                                        \
	} while (0)

static void test_plain(void **state)
{
	(void)state;
	ASSERT_WRITES("", "\"\"");
	ASSERT_WRITES("/dev/vdb", "\"/dev/vdb\"");
	ASSERT_WRITES("0b5e2f1c-9d4a-4c6e-8f1a-2b3c4d5e6f70",
		      "\"0b5e2f1c-9d4a-4c6e-8f1a-2b3c4d5e6f70\"");
	assert_reads_back("bundle os: a 'name' <here>", "bundle os: a 'name' <here>");
}

static void test_quotes_backslash(void **state)
{
	(void)state;
	ASSERT_WRITES("a\"b", "\"a\\\"b\"");
	ASSERT_WRITES("a\\b", "\"a\\\\b\"");
	ASSERT_WRITES("\"}, \"verdict\": \"ok", "\"\\\"}, \\\"verdict\\\": \\\"ok\"");
	assert_reads_back("\\\"\\", "\\\"\\");
}

static void test_control(void **state)
{
	(void)state;
	ASSERT_WRITES("a\nb", "\"a\\u000ab\"");
	ASSERT_WRITES("\t\r\x01\x1f\x7f", "\"\\u0009\\u000d\\u0001\\u001f\\u007f\"");
	ASSERT_WRITES("\x1b[2J", "\"\\u001b[2J\"");
	assert_reads_back("line1\nline2\x7f", "line1\nline2\x7f");
}

static void test_non_ascii(void **state)
{
	(void)state;
	/* Well-formed UTF-8 is kept: 2, 3 and 4 bytes. */
	ASSERT_WRITES("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	ASSERT_WRITES("\xe2\x82\xac\xf0\x9f\x94\x92", "\"\xe2\x82\xac\xf0\x9f\x94\x92\"");
	assert_reads_back("caf\xc3\xa9 \xf0\x9f\x94\x92", "caf\xc3\xa9 \xf0\x9f\x94\x92");
	/* Anything else becomes U+FFFD, byte by byte: a stray continuation,
	 * a Latin-1 byte, a truncated sequence, an overlong '/', a surrogate,
	 * above U+10FFFF, 0xff. */
	ASSERT_WRITES("\x80", "\"\\ufffd\"");
	ASSERT_WRITES("caf\xe9", "\"caf\\ufffd\"");
	ASSERT_WRITES("\xe2\x82", "\"\\ufffd\\ufffd\"");
	ASSERT_WRITES("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	ASSERT_WRITES("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	ASSERT_WRITES("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	ASSERT_WRITES("\xff", "\"\\ufffd\"");
	/* A truncated sequence does not swallow the quote after it. */
	ASSERT_WRITES("\xe2\"", "\"\\ufffd\\\"\"");
	assert_reads_back("caf\xe9", "caf\xef\xbf\xbd");
}

static void test_chars_unquoted(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	fputs("\"/dev/mapper/", f);
	json_write_chars(f, "a\"b");
	fputc('"', f);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "\"/dev/mapper/a\\\"b\"");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),	   cmocka_unit_test(test_quotes_backslash),
	    cmocka_unit_test(test_control),	   cmocka_unit_test(test_non_ascii),
	    cmocka_unit_test(test_chars_unquoted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
