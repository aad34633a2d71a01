/* SPDX-License-Identifier: Apache-2.0 */
/* core/verified.c on real files: a payload is copied, read or checked
 * only when it is the signed size and digest; a same-size swap, a size
 * change, a symlink or a non-regular file is refused and leaves no copy. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
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

#include "verified.h"

static char dir[64];
static int bfd, cfd;

static void put(const char *name, const char *text)
{
	int fd = openat(bfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* A payload entry as the manifest would have it for text. */
static struct payload signed_as(char *path, const char *text)
{
	struct payload p = {.path = path, .size = strlen(text), .alg = DIGEST_SHA256};

	SHA256((const unsigned char *)text, strlen(text), p.digest);
	return p;
}

static int setup(void **state)
{
	char copies[80];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sb-test-verified.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	bfd = open(dir, O_RDONLY | O_DIRECTORY);
	snprintf(copies, sizeof(copies), "%s/copies", dir);
	mkdir(copies, 0711);
	cfd = open(copies, O_RDONLY | O_DIRECTORY);
	return bfd >= 0 && cfd >= 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	close(bfd);
	close(cfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_copy(void **state)
{
	struct payload p = signed_as("vmlinuz", "the verified kernel");
	struct diag d = {0};
	char buf[64] = "";
	struct stat st;
	int fd;

	(void)state;
	put("vmlinuz", "the verified kernel");
	assert_int_equal(verified_copy(bfd, &p, cfd, "kernel", &d), 0);
	fd = openat(cfd, "kernel", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 19);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	close(fd);
	assert_string_equal(buf, "the verified kernel");

	/* same size, other bytes: refused, and the old copy is gone too */
	put("vmlinuz", "the swapped kernel!");
	d = (struct diag){0};
	assert_int_equal(verified_copy(bfd, &p, cfd, "kernel", &d), -EBADE);
	assert_int_equal(d.cls, DIAG_TRUST);
	assert_non_null(strstr(d.msg, "payload vmlinuz: its content does not hash to the signed "
				      "digest"));
	assert_int_equal(faccessat(cfd, "kernel", F_OK, 0), -1);

	/* another size */
	put("vmlinuz", "the verified kernel, longer");
	d = (struct diag){0};
	assert_int_equal(verified_copy(bfd, &p, cfd, "kernel", &d), -EBADE);
	assert_non_null(strstr(d.msg, "not a regular file of the signed size"));
	assert_int_equal(faccessat(cfd, "kernel", F_OK, 0), -1);
}

static void test_symlink_and_fifo(void **state)
{
	struct payload p = signed_as("link", "x");
	struct diag d = {0};

	(void)state;
	put("target", "x");
	assert_int_equal(symlinkat("target", bfd, "link"), 0);
	assert_true(verified_check(bfd, &p, &d) < 0);
	assert_int_equal(d.cls, DIAG_TRUST);

	p = signed_as("fifo", "");
	assert_int_equal(mkfifoat(bfd, "fifo", 0644), 0);
	d = (struct diag){0};
	assert_int_equal(verified_check(bfd, &p, &d), -EBADE); /* not regular, no hang */
}

static void test_read_and_check(void **state)
{
	struct payload p = signed_as("cmdline", "console=ttyS0\n");
	struct diag d = {0};
	unsigned char *buf = NULL;
	size_t len = 0;

	(void)state;
	put("cmdline", "console=ttyS0\n");
	assert_int_equal(verified_read(bfd, &p, 4096, &buf, &len, &d), 0);
	assert_int_equal(len, 14);
	assert_string_equal((char *)buf, "console=ttyS0\n");
	free(buf);
	assert_int_equal(verified_check(bfd, &p, &d), 0);
	/* larger than the caller allows: refused before reading */
	buf = NULL;
	assert_int_equal(verified_read(bfd, &p, 4, &buf, &len, &d), -EFBIG);
	assert_null(buf);
	put("cmdline", "console=ttyS1\n");
	d = (struct diag){0};
	assert_int_equal(verified_read(bfd, &p, 4096, &buf, &len, &d), -EBADE);
	assert_null(buf);
	d = (struct diag){0};
	assert_int_equal(verified_check(bfd, &p, &d), -EBADE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copy),
	    cmocka_unit_test(test_symlink_and_fifo),
	    cmocka_unit_test(test_read_and_check),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
