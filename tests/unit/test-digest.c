/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/digest.c: known answers, chunk boundaries, every per-job error,
 * thread-count independence, and a silent stderr without --progress. Files
 * are made in a fresh mkdtemp() directory per test.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
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

/* 3 MiB + 7: three whole chunks and a short tail. */
#define BIG_SIZE ((3u << 20) + 7u)
_Static_assert(BIG_SIZE > 2 * DIGEST_CHUNK, "spans several chunks");

static char scratch[PATH_MAX];
static int dfd = -1;

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(scratch, sizeof(scratch), "%s/sealboot-digest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(scratch))
		return -1;
	dfd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dfd < 0 ? -1 : 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	close(dfd);
	dfd = -1;
	return nftw(scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *name, const void *data, size_t n)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

static void check_hex(const unsigned char *md, enum digest_alg alg, const char *want)
{
	char hex[2 * DIGEST_MAX_LEN + 1];

	hex_encode(md, digest_alg_len(alg), hex);
	assert_string_equal(hex, want);
}

static const EVP_MD *evp_of(enum digest_alg alg)
{
	return alg == DIGEST_SHA384 ? EVP_sha384() : EVP_sha256();
}

/* The reference: one-shot EVP over the same bytes in memory. */
static void one_shot(const void *buf, size_t n, enum digest_alg alg, unsigned char *out)
{
	unsigned int len = 0;

	assert_int_equal(EVP_Digest(buf, n, out, &len, evp_of(alg), NULL), 1);
	assert_int_equal(len, digest_alg_len(alg));
}

static unsigned char *pattern(size_t n)
{
	unsigned char *buf = malloc(n);

	assert_non_null(buf);
	/* Not periodic in the chunk size, so a chunk hashed twice or skipped
	 * changes the digest. */
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 131u + (i >> 11) + (i >> 20) * 7u);
	return buf;
}

static const char SHA256_EMPTY[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char SHA256_ABC[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char SHA384_EMPTY[] = "38b060a751ac96384cd9327eb1b1e36a21fdb71114be0743"
				   "4c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b";
static const char SHA384_ABC[] = "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
				 "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7";

/* FIPS 180-4 examples (NIST CSRC "SHA2 example values"), both entry points. */
static void test_known_answers(void **state)
{
	struct digest_job j[4] = {
	    {.path = "empty", .alg = DIGEST_SHA256, .expect_size = 0},
	    {.path = "abc", .alg = DIGEST_SHA256, .expect_size = 3},
	    {.path = "empty", .alg = DIGEST_SHA384, .expect_size = DIGEST_SIZE_ANY},
	    {.path = "abc", .alg = DIGEST_SHA384, .expect_size = DIGEST_SIZE_ANY},
	};
	const char *want[4] = {SHA256_EMPTY, SHA256_ABC, SHA384_EMPTY, SHA384_ABC};
	struct digest_opts o = {.threads = 2};

	put("empty", "", 0);
	put("abc", "abc", 3);
	assert_int_equal(digest_run(dfd, j, 4, &o), 0);
	for (int i = 0; i < 4; i++) {
		unsigned char md[DIGEST_MAX_LEN];
		uint64_t size = 99;
		int fd;

		assert_int_equal(j[i].error, 0);
		assert_int_equal(j[i].size, i % 2 ? 3 : 0);
		check_hex(j[i].md, j[i].alg, want[i]);

		fd = openat(dfd, j[i].path, O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(digest_fd(fd, j[i].alg, md, &size), 0);
		close(fd);
		assert_int_equal(size, i % 2 ? 3 : 0);
		check_hex(md, j[i].alg, want[i]);
	}
}

/* A file spanning several chunks, against one-shot EVP on the same bytes. */
static void test_multi_chunk(void **state)
{
	unsigned char *buf = pattern(BIG_SIZE);
	struct digest_job j[2] = {
	    {.path = "big", .alg = DIGEST_SHA256, .expect_size = BIG_SIZE},
	    {.path = "big", .alg = DIGEST_SHA384, .expect_size = BIG_SIZE},
	};

	put("big", buf, BIG_SIZE);
	assert_int_equal(digest_run(dfd, j, 2, NULL), 0);
	for (int i = 0; i < 2; i++) {
		unsigned char want[DIGEST_MAX_LEN], md[DIGEST_MAX_LEN];
		uint64_t size = 0;
		int fd;

		one_shot(buf, BIG_SIZE, j[i].alg, want);
		assert_int_equal(j[i].error, 0);
		assert_int_equal(j[i].size, BIG_SIZE);
		assert_memory_equal(j[i].md, want, digest_alg_len(j[i].alg));

		/* digest_fd hashes from the current offset, not from 0. */
		fd = openat(dfd, "big", O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(lseek(fd, 7, SEEK_SET), 7);
		assert_int_equal(digest_fd(fd, j[i].alg, md, &size), 0);
		close(fd);
		one_shot(buf + 7, BIG_SIZE - 7, j[i].alg, want);
		assert_int_equal(size, BIG_SIZE - 7);
		assert_memory_equal(md, want, digest_alg_len(j[i].alg));
	}
	free(buf);
}

/* Every kind of bad payload in one run: each job gets its own error, and the
 * good one after them is still hashed (no early stop). */
static void test_errors(void **state)
{
	struct digest_job j[] = {
	    {.path = "abc", .alg = DIGEST_SHA256, .expect_size = 2},	     /* larger */
	    {.path = "abc", .alg = DIGEST_SHA256, .expect_size = 4},	     /* smaller */
	    {.path = "nope", .alg = DIGEST_SHA256, .expect_size = 0},	     /* missing */
	    {.path = "nodir/abc", .alg = DIGEST_SHA256, .expect_size = 3},   /* missing dir */
	    {.path = "link", .alg = DIGEST_SHA256, .expect_size = 3},	     /* symlink */
	    {.path = "linkdir/abc", .alg = DIGEST_SHA256, .expect_size = 3}, /* under one */
	    {.path = "dir", .alg = DIGEST_SHA256, .expect_size = 0},	     /* directory */
	    {.path = "fifo", .alg = DIGEST_SHA256, .expect_size = 0},	     /* fifo */
	    {.path = "abc", .alg = _DIGEST_COUNT, .expect_size = 3},	     /* bad alg */
	    {.path = "dir/abc", .alg = DIGEST_SHA256, .expect_size = 3},     /* fine */
	};
	const int want[] = {-EFBIG, -ENODATA, -ENOENT, -ENOENT, -ELOOP,
			    -ELOOP, -EINVAL,  -EINVAL, -EINVAL, 0};
	const size_t n = sizeof(j) / sizeof(j[0]);
	struct digest_opts o = {.threads = 3};

	put("abc", "abc", 3);
	assert_int_equal(symlinkat("abc", dfd, "link"), 0);
	assert_int_equal(mkdirat(dfd, "dir", 0755), 0);
	assert_int_equal(symlinkat("dir", dfd, "linkdir"), 0);
	put("dir/abc", "abc", 3);
	/* No writer: opening it must neither block nor be hashed. */
	assert_int_equal(mkfifoat(dfd, "fifo", 0644), 0);

	assert_int_equal(digest_run(dfd, j, n, &o), 0);
	for (size_t i = 0; i < n; i++) {
		if (j[i].error != want[i])
			fail_msg("job %zu (%s): error %d, want %d", i, j[i].path, j[i].error,
				 want[i]);
		if (want[i])
			assert_int_equal(j[i].size, 0);
	}
	assert_int_equal(j[n - 1].size, 3);
	check_hex(j[n - 1].md, DIGEST_SHA256, SHA256_ABC);
}

/*
 * The size is checked twice: by fstat before hashing, and by what reading to
 * EOF actually gave. procfs and sysfs files lie to fstat (st_size 0 with
 * content; st_size 4096 with a few bytes), which exercises the second check
 * the way a file changed under us would.
 */
static void test_size_recheck_at_eof(void **state)
{
	struct digest_job grew = {.path = "status", .alg = DIGEST_SHA256, .expect_size = 0};
	struct digest_job shrank = {.path = "online", .alg = DIGEST_SHA256};
	struct stat st;
	int pfd, sfd;

	pfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sfd = open("/sys/devices/system/cpu", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0 || sfd < 0 || fstatat(pfd, "status", &st, 0) < 0 || st.st_size != 0 ||
	    fstatat(sfd, "online", &st, 0) < 0 || st.st_size < 64) {
		if (pfd >= 0)
			close(pfd);
		if (sfd >= 0)
			close(sfd);
		skip();
	}
	shrank.expect_size = (uint64_t)st.st_size;
	assert_int_equal(digest_run(pfd, &grew, 1, NULL), 0);
	assert_int_equal(grew.error, -EFBIG);
	assert_int_equal(digest_run(sfd, &shrank, 1, NULL), 0);
	assert_int_equal(shrank.error, -ENODATA);
	close(pfd);
	close(sfd);
}

/* 8 jobs of different sizes: 1, 2, all-CPU and more-threads-than-jobs pools
 * all give the one-shot answers. */
static void test_threads_agree(void **state)
{
	enum { N = 8 };
	static const unsigned counts[] = {1, 2, 0, 64};
	struct digest_job ref[N];
	unsigned char want[N][DIGEST_MAX_LEN];
	char names[N][16];

	for (int i = 0; i < N; i++) {
		size_t len = (size_t)i * 300000u + (size_t)i * 7u;
		unsigned char *buf = pattern(len + 1);

		buf[0] = (unsigned char)i; /* every file distinct */
		snprintf(names[i], sizeof(names[i]), "f%d", i);
		put(names[i], buf, len);
		ref[i] = (struct digest_job){.path = names[i],
					     .alg = i % 3 ? DIGEST_SHA256 : DIGEST_SHA384,
					     .expect_size = i % 2 ? len : DIGEST_SIZE_ANY};
		one_shot(buf, len, ref[i].alg, want[i]);
		free(buf);
	}
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		struct digest_job j[N];
		struct digest_opts o = {.threads = counts[c]};

		memcpy(j, ref, sizeof(j));
		assert_int_equal(digest_run(dfd, j, N, &o), 0);
		for (int i = 0; i < N; i++) {
			assert_int_equal(j[i].error, 0);
			assert_int_equal(j[i].size, (uint64_t)i * 300007u);
			assert_memory_equal(j[i].md, want[i], digest_alg_len(j[i].alg));
		}
	}
}

/* Run digest_run with stderr sent to a file; returns what was written. */
static char *run_capturing_stderr(struct digest_job *j, size_t n, const struct digest_opts *o,
				  size_t *ret_len)
{
	char *out;
	int saved, fd, r;
	off_t len;

	fd = openat(dfd, "stderr", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	r = digest_run(dfd, j, n, o);
	fflush(stderr);
	/* Restore before any assertion can print. */
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	assert_int_equal(r, 0);

	len = lseek(fd, 0, SEEK_END);
	assert_true(len >= 0);
	out = calloc(1, (size_t)len + 1);
	assert_non_null(out);
	assert_int_equal(pread(fd, out, (size_t)len, 0), len);
	close(fd);
	*ret_len = (size_t)len;
	return out;
}

/* No meter unless asked: not one byte on stderr. When asked, one line drawn
 * with \r and blanked at the end. */
static void test_progress_only_when_asked(void **state)
{
	unsigned char *buf = pattern(BIG_SIZE);
	struct digest_job j[3] = {
	    {.path = "p", .alg = DIGEST_SHA256, .expect_size = BIG_SIZE},
	    {.path = "p", .alg = DIGEST_SHA384, .expect_size = DIGEST_SIZE_ANY},
	    {.path = "missing", .alg = DIGEST_SHA256, .expect_size = 1}, /* errors quiet too */
	};
	struct digest_opts o = {.threads = 2, .progress = false};
	size_t len;
	char *out;

	put("p", buf, BIG_SIZE);
	free(buf);

	out = run_capturing_stderr(j, 3, &o, &len);
	assert_int_equal(len, 0);
	free(out);
	assert_int_equal(j[0].error, 0);
	assert_int_equal(j[2].error, -ENOENT);

	o.progress = true;
	out = run_capturing_stderr(j, 3, &o, &len);
	assert_true(len > 0);
	assert_int_equal(out[0], '\r');
	assert_non_null(strstr(out, "hashing  "));
	assert_non_null(strstr(out, " / "));
	assert_non_null(strstr(out, "MiB/s"));
	assert_null(strchr(out, '\n'));
	/* Blanked: the last thing written is spaces ending in \r. */
	assert_int_equal(out[len - 1], '\r');
	assert_int_equal(out[len - 2], ' ');
	free(out);
	assert_int_equal(j[0].error, 0);
	assert_int_equal(j[1].error, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_known_answers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_multi_chunk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_size_recheck_at_eof, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads_agree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_progress_only_when_asked, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
