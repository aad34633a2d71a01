/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's check of a verity device's live table (adapters/
 * dmverity.c, dmverity_check_table): only the table the anchor makes from
 * the signed manifest passes; a reloaded table (another root hash, salt,
 * size, target, an error mode other than EIO) is refused with its reason.
 * The tables are the kernel's text, as `dmsetup table` printed it in the
 * appliance test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dmverity.h"
#include "hex.h"

#define ROOT "548c24d9aa1f39e0b1a53df417c03f872b3ae9f399005e8daa2502350a3c3e8a"
#define SALT "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define GOOD "1 7:1 7:0 4096 4096 2048 0 sha256 " ROOT " " SALT

static void signed_params(struct payload_verity *v)
{
	memset(v, 0, sizeof(*v));
	v->data_blocks = 2048;
	assert_int_equal(hex_decode(ROOT, v->root_hash, 32), 0);
	v->salt_len = 32;
	assert_int_equal(hex_decode(SALT, v->salt, 32), 0);
}

static void refused(uint64_t start, uint64_t length, const char *type, const char *params,
		    const char *why)
{
	struct payload_verity v;
	struct diag d = {0};

	signed_params(&v);
	assert_int_equal(dmverity_check_table(start, length, type, params, &v, &d), -EBADE);
	assert_int_equal(d.cls, DIAG_TRUST);
	if (!strstr(d.msg, why))
		fail_msg("message '%s' lacks '%s'", d.msg, why);
}

static void test_anchors_table(void **state)
{
	struct payload_verity v;
	struct diag d = {0};

	signed_params(&v);
	assert_int_equal(dmverity_check_table(0, 16384, "verity", GOOD, &v, &d), 0);
}

static void test_reloaded(void **state)
{
	refused(0, 16384, "linear", "7:2 0", "not a verity target");
	refused(0, 16383, "verity", GOOD, "does not cover exactly the signed payload");
	refused(8, 16384, "verity", GOOD, "does not cover exactly");
	refused(0, 16384, "verity",
		"1 7:1 7:0 4096 4096 2048 0 sha256 "
		"648c24d9aa1f39e0b1a53df417c03f872b3ae9f399005e8daa2502350a3c3e8a " SALT,
		"another root hash than the signed one");
	refused(0, 16384, "verity", "1 7:1 7:0 4096 4096 2048 0 sha256 " ROOT " -", "another salt");
	refused(0, 16384, "verity", "1 7:1 7:0 4096 4096 2047 0 sha256 " ROOT " " SALT,
		"another data block count");
	refused(0, 16384, "verity", "0 7:1 7:0 4096 4096 2048 0 sha256 " ROOT " " SALT,
		"not hash type 1");
	refused(0, 16384, "verity", "1 7:1 7:0 4096 4096 2048 0 sha1 " ROOT " " SALT, "sha256");
	refused(0, 16384, "verity", GOOD " 1 ignore_corruption", "optional arguments");
	refused(0, 16384, "verity", GOOD " 1 restart_on_corruption", "optional arguments");
	refused(0, 16384, "verity", "1 7:1 7:0", "not a verity table");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_anchors_table),
	    cmocka_unit_test(test_reloaded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
