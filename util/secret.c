/* SPDX-License-Identifier: Apache-2.0 */
#include "secret.h"
#include "fsutil.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t page_round(size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (len == 0)
		len = 1;
	return (len + pg - 1) / pg * pg;
}

int secret_new(size_t len, struct secret **ret)
{
	struct secret *s;
	size_t cap = page_round(len);
	void *p;

	if (cap < len)
		return -EOVERFLOW;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		free(s);
		return -ENOMEM;
	}
	if (mlock(p, cap) < 0) {
		int r = -errno;

		munmap(p, cap);
		free(s);
		return r;
	}
	/* Best effort: older kernels lack these; the mlock above is the hard
	 * requirement. */
	(void)madvise(p, cap, MADV_DONTDUMP);
	(void)madvise(p, cap, MADV_DONTFORK);
	s->data = p;
	s->len = len;
	s->cap = cap;
	*ret = s;
	return 0;
}

void secret_free(struct secret *s)
{
	if (!s)
		return;
	if (s->data) {
		OPENSSL_cleanse(s->data, s->cap);
		munlock(s->data, s->cap);
		munmap(s->data, s->cap);
	}
	free(s);
}

int secret_read_fd(int fd, size_t max, struct secret **ret)
{
	_cleanup_secret_ struct secret *s = NULL;
	size_t n = 0;
	int r;

	r = secret_new(max, &s);
	if (r < 0)
		return r;
	for (;;) {
		ssize_t k;

		if (n == max) {
			/* One more byte would not fit: the input is too long,
			 * and silently truncating a passphrase is worse. */
			char c;

			k = fs_read(fd, &c, 1);
			if (k != 0)
				return k < 0 ? (int)k : -EMSGSIZE;
			break;
		}
		k = fs_read(fd, s->data + n, max - n);
		if (k < 0)
			return (int)k;
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (n > 0 && s->data[n - 1] == '\n')
		s->data[--n] = 0;
	s->len = n;
	*ret = s;
	s = NULL;
	return 0;
}
