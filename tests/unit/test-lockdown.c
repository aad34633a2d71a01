/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host USB lockdown (adapters/lockdown.c) against a fake sysfs tree: root
 * hubs get authorized_default=0, every device authorized=0, interfaces are
 * left alone, Thunderbolt devices too are deauthorized, a missing bus is
 * fine, and a file that cannot be written is one clear error.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lockdown.h"

static char root[64];

static void put(const char *rel, const char *content)
{
	char path[512], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void expect(const char *rel, const char *want)
{
	char path[512], got[16] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	assert_non_null(f);
	if (!fgets(got, sizeof(got), f))
		got[0] = 0;
	fclose(f);
	if (strcmp(got, want))
		fail_msg("%s is '%s', want '%s'", rel, got, want);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/sealboot-sysfs.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_usb_and_thunderbolt(void **state)
{
	struct diag d = {0};
	unsigned changed = 0;

	put("bus/usb/devices/usb1/authorized_default", "1");
	put("bus/usb/devices/usb1/authorized", "1");
	put("bus/usb/devices/usb2/authorized_default", "1");
	put("bus/usb/devices/usb2/authorized", "1");
	put("bus/usb/devices/1-1/authorized", "1");
	put("bus/usb/devices/1-1.4/authorized", "1");
	put("bus/usb/devices/1-1:1.0/authorized", "1"); /* an interface */
	put("bus/thunderbolt/devices/0-1/authorized", "1");
	assert_int_equal(lockdown_usb(root, &changed, &d), 0);
	expect("bus/usb/devices/usb1/authorized_default", "0");
	expect("bus/usb/devices/usb2/authorized_default", "0");
	expect("bus/usb/devices/usb1/authorized", "1"); /* the hub itself stays */
	expect("bus/usb/devices/1-1/authorized", "0");
	expect("bus/usb/devices/1-1.4/authorized", "0");
	expect("bus/usb/devices/1-1:1.0/authorized", "1");
	expect("bus/thunderbolt/devices/0-1/authorized", "0");
	assert_int_equal(changed, 5);
}

static void test_no_bus(void **state)
{
	struct diag d = {0};
	unsigned changed = 9;

	/* A host without USB or Thunderbolt: nothing to do, no error. */
	assert_int_equal(lockdown_usb(root, &changed, &d), 0);
	assert_int_equal(changed, 0);
}

static void test_unwritable(void **state)
{
	struct diag d = {0};
	unsigned changed = 0;
	char path[512];

	/* A file that cannot be written, also by root: a directory. */
	put("bus/usb/devices/1-2/placeholder", "");
	snprintf(path, sizeof(path), "%s/bus/usb/devices/1-2/authorized", root);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(lockdown_usb(root, &changed, &d), -EISDIR);
	assert_non_null(strstr(d.msg, "1-2/authorized"));
	assert_null(strchr(d.msg, '\n'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_usb_and_thunderbolt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_bus, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
