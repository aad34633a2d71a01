/* SPDX-License-Identifier: Apache-2.0 */
/* The zeroize challenge and order formats (docs/formats/zeroize.md):
 * canonical bytes, round trips, and one clear refusal per kind of bad
 * input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "zeroize-order.h"

#define ID                                                                                         \
	"000b"                                                                                     \
	"1111111111111111111111111111111111111111111111111111111111111111"
#define SN                                                                                         \
	"000b"                                                                                     \
	"2222222222222222222222222222222222222222222222222222222222222222"
#define GOOD                                                                                       \
	"{\"format\":\"sealboot-zeroize-order\",\"format_version\":1,\"appliance_id\":\"" ID       \
	"\",\"counter\":37,\"storage_name\":\"" SN "\",\"not_after\":1796003600,"                  \
	"\"clear_tpm\":true,\"volumes\":[\"data\",\"images\"]}\n"

static struct zorder good_order(void)
{
	struct zorder o = {
	    .counter = 37, .not_after = 1796003600, .clear_tpm = true, .n_volumes = 2};

	o.appliance_id[1] = 0x0b;
	memset(o.appliance_id + 2, 0x11, 32);
	o.storage_name[1] = 0x0b;
	memset(o.storage_name + 2, 0x22, 32);
	strcpy(o.volumes[0], "data");
	strcpy(o.volumes[1], "images");
	return o;
}

static void test_canonical(void **state)
{
	struct zorder o = good_order(), back;
	struct diag d = {0};
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(zorder_serialize(&o, &text, &len), 0);
	assert_string_equal(text, GOOD);
	assert_int_equal(len, strlen(GOOD));
	assert_int_equal(zorder_parse(text, len, &back, &d), 0);
	assert_memory_equal(&o, &back, sizeof(o));
	assert_true(zorder_has_volume(&back, "images"));
	assert_false(zorder_has_volume(&back, "image"));
	free(text);
}

static void refused(const char *text, const char *want)
{
	struct zorder o;
	struct diag d = {0};

	assert_int_equal(zorder_parse(text, strlen(text), &o, &d), -EBADMSG);
	assert_int_equal(d.cls, DIAG_MALFORMED);
	if (!strstr(d.msg, want))
		fail_msg("'%s' lacks '%s'", d.msg, want);
}

static char *edit(const char *from, const char *to)
{
	static char buf[2048];
	const char *at = strstr(GOOD, from);

	assert_non_null(at);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - GOOD), GOOD, to, at + strlen(from));
	return buf;
}

static void test_refusals(void **state)
{
	(void)state;
	refused("[]", "zeroize order: expected an object");
	refused("{", "zeroize order: invalid JSON");
	refused(edit("\"clear_tpm\":true", "\"clear_tpm\":true,\"x\":1"), "unknown member \"x\"");
	refused(edit("\"format_version\":1", "\"format_version\":2"), "format_version 2");
	refused(edit("sealboot-zeroize-order", "sealboot-zeroize-orders"), "format");
	refused(edit("\"counter\":37", "\"counter\":\"37\""), "counter");
	refused(edit("\"counter\":37", "\"counter\":-1"), "counter");
	refused(edit("\"clear_tpm\":true", "\"clear_tpm\":1"), "clear_tpm");
	refused(edit("000b1111", "000B1111"), "appliance_id");
	refused(edit("[\"data\",\"images\"]", "[]"), "volumes");
	refused(edit("[\"data\",\"images\"]", "[\"data\",\"data\"]"), "named twice");
	refused(edit("[\"data\",\"images\"]", "[\"../x\"]"), "not a volume name");
	refused(edit("\"counter\":37", "\"counter\":37,\"counter\":38"), "duplicate");
	/* Valid JSON, same meaning, not the signed bytes' layout. */
	refused(edit("\"counter\":37", "\"counter\": 37"), "not in canonical form");
	refused(edit("}\n", "}"), "not in canonical form");
}

static void test_challenge(void **state)
{
	struct zorder_challenge c = {.counter = 5,
				     .policy_serial = 3,
				     .n_volumes = 1,
				     .time = 1700000000},
				back;
	struct diag d = {0};
	char *text = NULL;
	size_t len = 0;

	(void)state;
	strcpy(c.volumes[0], "data");
	assert_int_equal(zorder_challenge_serialize(&c, &text, &len), 0);
	assert_int_equal(zorder_challenge_parse(text, len, &back, &d), 0);
	assert_memory_equal(&c, &back, sizeof(c));
	free(text);
	/* The challenge is not signed: any layout, still strict. */
	assert_int_equal(
	    zorder_challenge_parse("{\"format\":\"sealboot-zeroize-challenge\"}", 39, &back, &d),
	    -EBADMSG);
	strcpy(c.volumes[0], "bad name");
	assert_int_equal(zorder_challenge_serialize(&c, &text, &len), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canonical),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_challenge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
