/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* read(2) that retries on EINTR: bytes read (0 at EOF) or -errno. */
ssize_t fs_read(int fd, void *buf, size_t n);

/*
 * Open relpath beneath dirfd without following a symlink in any component
 * (each directory is opened O_NOFOLLOW|O_DIRECTORY in turn; the last one with
 * O_NOFOLLOW|flags). relpath must already satisfy manifest_path_valid(): no
 * "..", no absolute path. Returns an fd or -errno (-ELOOP for a symlink).
 */
int fs_open_beneath(int dirfd, const char *relpath, int flags);

/* Read a whole regular file (no symlink) into a new buffer with a trailing
 * NUL not counted in *ret_len. -EFBIG when it is larger than max bytes. */
int fs_read_file_at(int dirfd, const char *relpath, size_t max, unsigned char **ret,
		    size_t *ret_len);

/* This boot's ID (/proc/sys/kernel/random/boot_id, the newline cut), or ""
 * when it cannot be read. */
#define FS_BOOT_ID_SIZE 40
void fs_boot_id(char out[FS_BOOT_ID_SIZE]);

/* The same for a path a person gave (symlinks followed, as any tool does). */
int fs_read_file(const char *path, size_t max, unsigned char **ret, size_t *ret_len);

/* Write buf to dirfd/name atomically: a temporary file in the same directory,
 * fsync, rename into place, fsync the directory. With replace false an
 * existing name is left untouched and -EEXIST returned. A crash leaves either
 * the old file or the new one, never a torn one. */
int fs_write_atomic_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
		       bool replace);
