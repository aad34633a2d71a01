/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libvirt adapter (adapters/virt.c) against libvirt's own in-process
 * test driver (test:///default): real libvirt API calls, no daemon. The
 * isolated network is made when missing and refused when a network of that
 * name routes out; an absent domain is not an error for destroy, stop and
 * state; a bad URI is one clear error.
 */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virt.h"

static void test_isolated_network(void **state)
{
	struct virt *v = NULL;
	struct diag d = {0};

	assert_int_equal(virt_open("test:///default", &v, &d), 0);
	assert_int_equal(virt_isolated_network(v, "sb-isolated", &d), 0);
	/* Twice: it exists and is isolated. */
	assert_int_equal(virt_isolated_network(v, "sb-isolated", &d), 0);
	/* "default" of the test driver has a forward mode and a host address. */
	assert_int_equal(virt_isolated_network(v, "default", &d), -EEXIST);
	assert_non_null(strstr(d.msg, "network default exists but is not isolated"));
	virt_close(v);
}

static void test_absent_domain(void **state)
{
	struct virt *v = NULL;
	struct diag d = {0};
	enum virt_state st = VIRT_RUNNING;
	bool forced = true;
	char *xml = NULL;

	assert_int_equal(virt_open("test:///default", &v, &d), 0);
	assert_int_equal(virt_state(v, "no-such-guest", &st, &d), 0);
	assert_int_equal(st, VIRT_ABSENT);
	assert_int_equal(virt_destroy(v, "no-such-guest", &d), 0);
	assert_int_equal(virt_shutdown(v, "no-such-guest", 1, &forced, &d), 0);
	assert_false(forced);
	assert_int_equal(virt_live_xml(v, "no-such-guest", &xml, &d), -ENOENT);
	assert_null(xml);
	virt_close(v);
}

static void test_start_and_destroy(void **state)
{
	static const char xml[] = "<domain type='test'><name>sb-unit</name><memory>65536</memory>"
				  "<os><type>hvm</type></os></domain>";
	struct virt *v = NULL;
	struct diag d = {0};
	enum virt_state st;
	char *live = NULL;

	assert_int_equal(virt_open("test:///default", &v, &d), 0);
	assert_int_equal(virt_start(v, xml, false, &d), 0);
	assert_int_equal(virt_state(v, "sb-unit", &st, &d), 0);
	assert_int_equal(st, VIRT_RUNNING);
	assert_int_equal(virt_live_xml(v, "sb-unit", &live, &d), 0);
	assert_non_null(strstr(live, "<name>sb-unit</name>"));
	free(live);
	assert_int_equal(virt_destroy(v, "sb-unit", &d), 0);
	assert_int_equal(virt_state(v, "sb-unit", &st, &d), 0);
	assert_int_equal(st, VIRT_ABSENT);
	virt_close(v);
}

static void test_bad_uri(void **state)
{
	struct virt *v = NULL;
	struct diag d = {0};

	assert_int_equal(virt_open("nosuchdriver:///x", &v, &d), -EIO);
	assert_null(v);
	assert_non_null(strstr(d.msg, "connecting to libvirt at nosuchdriver:///x"));
	assert_null(strchr(d.msg, '\n'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_isolated_network),
	    cmocka_unit_test(test_absent_domain),
	    cmocka_unit_test(test_start_and_destroy),
	    cmocka_unit_test(test_bad_uri),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
