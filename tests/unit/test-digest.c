/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
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

#include "digest.h"
#include "hex.h"

static char scratch[64];
static int dfd = -1;

static int setup(void **state)
{
	snprintf(scratch, sizeof(scratch), "/tmp/sealboot-digest.XXXXXX");
	if (!mkdtemp(scratch))
		return -1;
	dfd = open(scratch, O_RDONLY | O_DIRECTORY);
	return dfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	close(dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	return system(cmd);
}

static void put(const char *name, const void *data, size_t n)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static void check_hex(const struct digest_job *j, const char *want)
{
	char hex[2 * DIGEST_MAX_LEN + 1];

	assert_int_equal(j->error, 0);
	hex_encode(j->md, digest_alg_len(j->alg), hex);
	assert_string_equal(hex, want);
}

/* FIPS 180-2 examples. */
static void test_known_answers(void **state)
{
	struct digest_job j[4] = {
		{.path = "empty", .alg = DIGEST_SHA256, .expect_size = 0},
		{.path = "abc", .alg = DIGEST_SHA256, .expect_size = 3},
		{.path = "empty", .alg = DIGEST_SHA384, .expect_size = DIGEST_SIZE_ANY},
		{.path = "abc", .alg = DIGEST_SHA384, .expect_size = DIGEST_SIZE_ANY},
	};
	struct digest_opts o = {.threads = 2};

	put("empty", "", 0);
	put("abc", "abc", 3);
	assert_int_equal(digest_run(dfd, j, 4, &o), 0);
	check_hex(&j[0], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_hex(&j[1], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_hex(&j[2], "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
			 "274edebfe76f65fbd51ad2f14898b95b");
	check_hex(&j[3], "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
			 "8086072ba1e7cc2358baeca134c825a7");
	assert_int_equal(j[3].size, 3);
}

/* A file spanning several chunks, checked against a one-shot digest. */
static void test_multi_chunk(void **state)
{
	size_t n = 3 * DIGEST_CHUNK + 7;
	unsigned char *buf = malloc(n), want[32];
	struct digest_job j = {.path = "big", .alg = DIGEST_SHA256, .expect_size = n};
	uint64_t size = 0;
	unsigned char md[32];
	int fd;

	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 131 + (i >> 11));
	put("big", buf, n);
	assert_int_equal(EVP_Digest(buf, n, want, NULL, EVP_sha256(), NULL), 1);
	assert_int_equal(digest_run(dfd, &j, 1, NULL), 0);
	assert_int_equal(j.error, 0);
	assert_int_equal(j.size, n);
	assert_memory_equal(j.md, want, 32);

	fd = openat(dfd, "big", O_RDONLY);
	assert_int_equal(digest_fd(fd, DIGEST_SHA256, md, &size), 0);
	close(fd);
	assert_int_equal(size, n);
	assert_memory_equal(md, want, 32);
	free(buf);
}

static void test_errors(void **state)
{
	struct digest_job j[7] = {
		{.path = "abc", .alg = DIGEST_SHA256, .expect_size = 2},       /* larger */
		{.path = "abc", .alg = DIGEST_SHA256, .expect_size = 4},       /* smaller */
		{.path = "nope", .alg = DIGEST_SHA256, .expect_size = 0},      /* missing */
		{.path = "link", .alg = DIGEST_SHA256, .expect_size = 3},      /* symlink */
		{.path = "linkdir/abc", .alg = DIGEST_SHA256, .expect_size = 3}, /* under one */
		{.path = "dir", .alg = DIGEST_SHA256, .expect_size = 0},       /* directory */
		{.path = "fifo", .alg = DIGEST_SHA256, .expect_size = 0},      /* fifo */
	};
	struct digest_opts o = {.threads = 3};

	put("abc", "abc", 3);
	assert_int_equal(symlinkat("abc", dfd, "link"), 0);
	assert_int_equal(mkdirat(dfd, "dir", 0755), 0);
	assert_int_equal(symlinkat("dir", dfd, "linkdir"), 0);
	put("dir/abc", "abc", 3);
	assert_int_equal(mkfifoat(dfd, "fifo", 0644), 0);
	assert_int_equal(digest_run(dfd, j, 7, &o), 0);
	assert_int_equal(j[0].error, -EFBIG);
	assert_int_equal(j[1].error, -ENODATA);
	assert_int_equal(j[2].error, -ENOENT);
	assert_int_equal(j[3].error, -ELOOP);
	assert_int_equal(j[4].error, -ELOOP);
	assert_int_equal(j[5].error, -EINVAL);
	assert_int_equal(j[6].error, -EINVAL);
}

/* Many jobs over 1 or 2 threads give the same answers. */
static void test_threads_agree(void **state)
{
	struct digest_job a[8], b[8];
	struct digest_opts one = {.threads = 1}, two = {.threads = 2};
	char name[16];

	for (int i = 0; i < 8; i++) {
		unsigned char buf[10000];

		memset(buf, 'a' + i, sizeof(buf));
		snprintf(name, sizeof(name), "f%d", i);
		put(name, buf, sizeof(buf) - (size_t)i * 100);
	}
	for (int i = 0; i < 8; i++) {
		char *p = malloc(16);

		snprintf(p, 16, "f%d", i);
		a[i] = (struct digest_job){.path = p, .alg = DIGEST_SHA256,
					   .expect_size = DIGEST_SIZE_ANY};
		b[i] = a[i];
	}
	assert_int_equal(digest_run(dfd, a, 8, &one), 0);
	assert_int_equal(digest_run(dfd, b, 8, &two), 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(a[i].error, 0);
		assert_int_equal(a[i].size, 10000 - i * 100);
		assert_memory_equal(a[i].md, b[i].md, 32);
		if (i)
			assert_memory_not_equal(a[i].md, a[i - 1].md, 32);
		free((char *)a[i].path);
	}
}

/* No progress meter unless asked: stderr stays empty. */
static void test_quiet_without_progress(void **state)
{
	struct digest_job j = {.path = "q", .alg = DIGEST_SHA256, .expect_size = DIGEST_SIZE_ANY};
	struct digest_opts o = {.threads = 1, .progress = false};
	int saved = dup(STDERR_FILENO), fd;
	char path[128];
	struct stat st;

	put("q", "quiet", 5);
	snprintf(path, sizeof(path), "%s/stderr", scratch);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0 && saved >= 0);
	dup2(fd, STDERR_FILENO);
	assert_int_equal(digest_run(dfd, &j, 1, &o), 0);
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	assert_int_equal(st.st_size, 0);

	/* ... and with it, something is drawn. */
	o.progress = true;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	assert_int_equal(digest_run(dfd, &j, 1, &o), 0);
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	assert_true(st.st_size > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_known_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multi_chunk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_agree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiet_without_progress, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
