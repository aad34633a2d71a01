/* SPDX-License-Identifier: Apache-2.0 */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

ssize_t fs_read(int fd, void *buf, size_t n)
{
	for (;;) {
		ssize_t k = read(fd, buf, n);

		if (k >= 0)
			return k;
		if (errno != EINTR)
			return -errno;
	}
}

int fs_open_beneath(int dirfd, const char *relpath, int flags)
{
	char buf[PATH_MAX];
	char *comp, *slash;
	int fd = -1, cur = dirfd;

	if (!relpath[0] || relpath[0] == '/' || strlen(relpath) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, relpath, strlen(relpath) + 1);

	comp = buf;
	while ((slash = strchr(comp, '/'))) {
		int next;

		*slash = 0;
		if (!strcmp(comp, "..") || !strcmp(comp, ".") || !comp[0]) {
			fd = -EINVAL;
			goto out;
		}
		next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			/* O_NOFOLLOW|O_DIRECTORY on a symlink fails with
			 * ENOTDIR on some kernels and ELOOP on others: name
			 * it what it is. */
			int err = errno;
			struct stat st;

			if (err == ENOTDIR && fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				err = ELOOP;
			fd = -err;
			goto out;
		}
		if (cur != dirfd)
			close(cur);
		cur = next;
		comp = slash + 1;
	}
	if (!strcmp(comp, "..") || !strcmp(comp, ".") || !comp[0]) {
		fd = -EINVAL;
		goto out;
	}
	fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
out:
	if (cur != dirfd)
		close(cur);
	return fd;
}

static int read_whole(int fd, size_t max, unsigned char **ret, size_t *ret_len);

int fs_read_file_at(int dirfd, const char *relpath, size_t max, unsigned char **ret,
		    size_t *ret_len)
{
	int fd = fs_open_beneath(dirfd, relpath, O_RDONLY | O_NONBLOCK);

	return fd < 0 ? fd : read_whole(fd, max, ret, ret_len);
}

int fs_read_file(const char *path, size_t max, unsigned char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	return fd < 0 ? -errno : read_whole(fd, max, ret, ret_len);
}

/* Read all of fd (a regular file, at most max bytes) and close it. */
static int read_whole(int fd, size_t max, unsigned char **ret, size_t *ret_len)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t n = 0;
	int r;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = -EFBIG;
		goto out;
	}
	/* One byte beyond max is read so a file that grew since fstat is
	 * still caught as too large. */
	buf = malloc(max + 2);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t k = fs_read(fd, buf + n, max + 1 - n);

		if (k < 0) {
			r = (int)k;
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > max) {
			r = -EFBIG;
			goto out;
		}
	}
	buf[n] = 0;
	*ret = buf;
	*ret_len = n;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len) {
		ssize_t k = write(fd, p, len);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

int fs_write_atomic_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
		       bool replace)
{
	char tmp[NAME_MAX + 1];
	int fd, r;

	if (strchr(name, '/') || strlen(name) + 16 > sizeof(tmp))
		return -EINVAL;
	/* O_TMPFILE would avoid the name, but not every filesystem (overlay,
	 * some FUSE) has it; a dot-name with O_EXCL is portable. */
	for (unsigned i = 0;; i++) {
		snprintf(tmp, sizeof(tmp), ".%s.tmp%u", name, i);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0)
			break;
		if (errno != EEXIST || i >= 100)
			return -errno;
	}
	r = write_all(fd, buf, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		goto fail;
	if (replace) {
		if (renameat(dirfd, tmp, dirfd, name) < 0) {
			r = -errno;
			goto fail;
		}
	} else {
		/* link() fails with EEXIST instead of replacing: the
		 * no-clobber rename every filesystem has. */
		if (linkat(dirfd, tmp, dirfd, name, 0) < 0) {
			r = -errno;
			goto fail;
		}
		(void)unlinkat(dirfd, tmp, 0);
	}
	if (fsync(dirfd) < 0)
		return -errno;
	return 0;
fail:
	(void)unlinkat(dirfd, tmp, 0);
	return r;
}

void fs_boot_id(char out[FS_BOOT_ID_SIZE])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	out[0] = 0;
	if (f) {
		if (!fgets(out, FS_BOOT_ID_SIZE, f))
			out[0] = 0;
		fclose(f);
	}
	out[strcspn(out, "\n")] = 0;
}
