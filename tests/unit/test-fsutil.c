/* SPDX-License-Identifier: Apache-2.0 */
/* util/fsutil: opening beneath a directory without following symlinks,
 * bounded whole-file reads, atomic writes with and without replace, and the
 * boot ID. Each test works in a fresh directory under $TMPDIR. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#include "fsutil.h"

struct dir {
	char path[PATH_MAX];
	int fd;
};

static int dir_setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));
	const char *tmp = getenv("TMPDIR");

	assert_non_null(d);
	snprintf(d->path, sizeof(d->path), "%s/sealboot-fsutil.XXXXXX", tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(d->path));
	d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(d->fd >= 0);
	*state = d;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dir *d = *state;
	char cmd[PATH_MAX + 16];

	close(d->fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	assert_int_equal(system(cmd), 0);
	free(d);
	return 0;
}

static mode_t umask_now(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

static void put(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_open_beneath_plain_and_nested(void **state)
{
	struct dir *d = *state;
	unsigned char *buf = NULL;
	size_t len = 0;

	assert_int_equal(mkdirat(d->fd, "a", 0700), 0);
	assert_int_equal(mkdirat(d->fd, "a/b", 0700), 0);
	put(d->fd, "a/b/f", "hello");
	assert_int_equal(fs_read_file_at(d->fd, "a/b/f", 100, &buf, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(buf[5], 0); /* the NUL the contract promises */
	free(buf);
}

static void test_open_beneath_refuses_symlinks_anywhere(void **state)
{
	struct dir *d = *state;

	assert_int_equal(mkdirat(d->fd, "real", 0700), 0);
	put(d->fd, "real/f", "x");
	assert_int_equal(symlinkat("real", d->fd, "link"), 0);
	assert_int_equal(symlinkat("f", d->fd, "real/flink"), 0);
	/* a symlink as a directory component and as the last one */
	assert_int_equal(fs_open_beneath(d->fd, "link/f", O_RDONLY), -ELOOP);
	assert_int_equal(fs_open_beneath(d->fd, "real/flink", O_RDONLY), -ELOOP);
	/* control: the same file by its real path opens */
	int fd = fs_open_beneath(d->fd, "real/f", O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
}

static void test_open_beneath_refuses_escapes_and_empty_parts(void **state)
{
	struct dir *d = *state;
	static const char *const bad[] = {"",	  "/etc/passwd", "../x", "a/../b", "./x",
					  "a//b", "a/.",	 "a/..", "a/"};

	assert_int_equal(mkdirat(d->fd, "a", 0700), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(fs_open_beneath(d->fd, bad[i], O_RDONLY), -EINVAL);
	assert_int_equal(fs_open_beneath(d->fd, "missing", O_RDONLY), -ENOENT);
}

static void test_read_file_bounds_and_types(void **state)
{
	struct dir *d = *state;
	unsigned char *buf = NULL;
	size_t len = 0;

	put(d->fd, "ten", "0123456789");
	assert_int_equal(fs_read_file_at(d->fd, "ten", 9, &buf, &len), -EFBIG);
	assert_null(buf);
	assert_int_equal(fs_read_file_at(d->fd, "ten", 10, &buf, &len), 0);
	assert_int_equal(len, 10);
	free(buf);
	buf = NULL;
	put(d->fd, "empty", "");
	assert_int_equal(fs_read_file_at(d->fd, "empty", 10, &buf, &len), 0);
	assert_int_equal(len, 0);
	free(buf);
	buf = NULL;
	/* a directory and a FIFO are not files (and a FIFO does not block) */
	assert_int_equal(mkdirat(d->fd, "dir", 0700), 0);
	assert_int_equal(fs_read_file_at(d->fd, "dir", 10, &buf, &len), -EINVAL);
	assert_int_equal(mkfifoat(d->fd, "fifo", 0600), 0);
	assert_int_equal(fs_read_file_at(d->fd, "fifo", 10, &buf, &len), -EINVAL);
	assert_null(buf);
}

static void test_read_file_by_path_follows_symlinks(void **state)
{
	struct dir *d = *state;
	char path[PATH_MAX + 8];
	unsigned char *buf = NULL;
	size_t len = 0;

	put(d->fd, "f", "abc");
	assert_int_equal(symlinkat("f", d->fd, "l"), 0);
	snprintf(path, sizeof(path), "%s/l", d->path);
	assert_int_equal(fs_read_file(path, 10, &buf, &len), 0);
	assert_int_equal(len, 3);
	free(buf);
	snprintf(path, sizeof(path), "%s/nothing", d->path);
	assert_int_equal(fs_read_file(path, 10, &buf, &len), -ENOENT);
}

static void test_write_atomic_replace_and_no_clobber(void **state)
{
	struct dir *d = *state;
	unsigned char *buf = NULL;
	size_t len = 0;
	struct stat st;

	assert_int_equal(fs_write_atomic_at(d->fd, "out", "one", 3, 0640, false), 0);
	assert_int_equal(fstatat(d->fd, "out", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0640 & ~umask_now());
	/* no clobber: the old contents stay */
	assert_int_equal(fs_write_atomic_at(d->fd, "out", "two", 3, 0640, false), -EEXIST);
	assert_int_equal(fs_read_file_at(d->fd, "out", 10, &buf, &len), 0);
	assert_memory_equal(buf, "one", 3);
	free(buf);
	/* replace */
	assert_int_equal(fs_write_atomic_at(d->fd, "out", "three", 5, 0640, true), 0);
	assert_int_equal(fs_read_file_at(d->fd, "out", 10, &buf, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "three", 5);
	free(buf);
	/* no temporary file is left behind either way */
	assert_int_equal(faccessat(d->fd, ".out.tmp0", F_OK, 0), -1);
	assert_int_equal(errno, ENOENT);
	/* a name with a slash is not a name */
	assert_int_equal(fs_write_atomic_at(d->fd, "a/b", "x", 1, 0600, true), -EINVAL);
}

static void test_write_atomic_does_not_follow_a_planted_temporary(void **state)
{
	struct dir *d = *state;
	unsigned char *buf = NULL;
	size_t len = 0;

	/* someone planted the first temporary name as a symlink to a victim:
	 * the write must neither follow it nor fail */
	put(d->fd, "victim", "keep");
	assert_int_equal(symlinkat("victim", d->fd, ".out.tmp0"), 0);
	assert_int_equal(fs_write_atomic_at(d->fd, "out", "new", 3, 0600, true), 0);
	assert_int_equal(fs_read_file_at(d->fd, "victim", 10, &buf, &len), 0);
	assert_memory_equal(buf, "keep", 4);
	free(buf);
	assert_int_equal(fs_read_file_at(d->fd, "out", 10, &buf, &len), 0);
	assert_memory_equal(buf, "new", 3);
	free(buf);
}

static void test_boot_id_is_a_uuid(void **state)
{
	char id[FS_BOOT_ID_SIZE];

	fs_boot_id(id);
	assert_int_equal(strlen(id), 36);
	assert_int_equal(id[8], '-');
	assert_null(strchr(id, '\n'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_beneath_plain_and_nested, dir_setup,
					    dir_teardown),
	    cmocka_unit_test_setup_teardown(test_open_beneath_refuses_symlinks_anywhere, dir_setup,
					    dir_teardown),
	    cmocka_unit_test_setup_teardown(test_open_beneath_refuses_escapes_and_empty_parts,
					    dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_read_file_bounds_and_types, dir_setup,
					    dir_teardown),
	    cmocka_unit_test_setup_teardown(test_read_file_by_path_follows_symlinks, dir_setup,
					    dir_teardown),
	    cmocka_unit_test_setup_teardown(test_write_atomic_replace_and_no_clobber, dir_setup,
					    dir_teardown),
	    cmocka_unit_test_setup_teardown(test_write_atomic_does_not_follow_a_planted_temporary,
					    dir_setup, dir_teardown),
	    cmocka_unit_test(test_boot_id_is_a_uuid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
