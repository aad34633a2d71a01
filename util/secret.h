/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>

/*
 * Key material lives only in a struct secret: page-locked so it is never
 * swapped, excluded from core dumps, and wiped with OPENSSL_cleanse before its
 * pages go back to the allocator. A secret is never printed, logged, put in
 * argv or the environment, or written to a file outside tmpfs.
 */
struct secret {
	unsigned char *data;
	size_t len; /* bytes in use */
	size_t cap; /* bytes allocated (whole pages) */
};

/* Allocate a zeroed secret of len bytes. 0 or -errno (-ENOMEM; -EPERM or
 * -EAGAIN when the pages cannot be locked: we refuse rather than hold a key in
 * swappable memory). */
int secret_new(size_t len, struct secret **ret);
/* Wipe and free; NULL is fine. */
void secret_free(struct secret *s);
/* Read at most max bytes from fd until EOF into a new secret, stripping one
 * trailing newline (for passphrases and PINs passed on a file descriptor). */
int secret_read_fd(int fd, size_t max, struct secret **ret);

static inline void secret_freep(struct secret **s)
{
	secret_free(*s);
	*s = NULL;
}
#define _cleanup_secret_ __attribute__((cleanup(secret_freep)))
