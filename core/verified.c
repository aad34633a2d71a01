/* SPDX-License-Identifier: Apache-2.0 */
#include "verified.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

#define CHUNK (1024u * 1024u)

static int not_verified(const struct payload *p, const char *why, struct diag *d)
{
	return diag_set(d, DIAG_TRUST, EBADE,
			"payload %s: %s; it is not the file that was verified", p->path, why);
}

/*
 * Read the payload through: to dst_fd (when >= 0), into mem (when not NULL,
 * room for p->size + 1 bytes), hashing; the result must be the signed size
 * and digest.
 */
static int pass(int bundle_dirfd, const struct payload *p, int dst_fd, unsigned char *mem,
		struct diag *d)
{
	const char *mdname = p->alg == DIGEST_SHA384 ? "SHA2-384" : "SHA2-256";
	unsigned char md[EVP_MAX_MD_SIZE], *buf = NULL;
	EVP_MD_CTX *ctx = NULL;
	EVP_MD *alg = NULL;
	uint64_t total = 0;
	struct stat st;
	int fd, r = 0;

	fd = fs_open_beneath(bundle_dirfd, p->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return diag_set(d, DIAG_TRUST, -fd, "payload %s: cannot open it: %s", p->path,
				strerror(-fd));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != p->size) {
		r = not_verified(p, "not a regular file of the signed size", d);
		goto out;
	}
	buf = malloc(CHUNK);
	ctx = EVP_MD_CTX_new();
	alg = EVP_MD_fetch(NULL, mdname, NULL);
	if (!buf || !ctx || !alg || EVP_DigestInit_ex(ctx, alg, NULL) != 1) {
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "payload %s: cannot hash it", p->path);
		goto out;
	}
	for (;;) {
		ssize_t k = fs_read(fd, buf, CHUNK);

		if (k < 0) {
			r = diag_set(d, DIAG_TRUST, (int)-k, "payload %s: reading it: %s", p->path,
				     strerror((int)-k));
			goto out;
		}
		if (k == 0)
			break;
		if (total + (uint64_t)k > p->size) {
			r = not_verified(p, "it grew while being read", d);
			goto out;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)k) != 1) {
			r = diag_set(d, DIAG_INTERNAL, EIO, "payload %s: cannot hash it", p->path);
			goto out;
		}
		if (mem)
			memcpy(mem + total, buf, (size_t)k);
		for (ssize_t off = 0; dst_fd >= 0 && off < k;) {
			ssize_t w = write(dst_fd, buf + off, (size_t)(k - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				r = diag_set(d, DIAG_INTERNAL, w < 0 ? errno : EIO,
					     "payload %s: writing its copy: %s", p->path,
					     strerror(w < 0 ? errno : EIO));
				goto out;
			}
			off += w;
		}
		total += (uint64_t)k;
	}
	if (total != p->size) {
		r = not_verified(p, "it shrank while being read", d);
		goto out;
	}
	if (EVP_DigestFinal_ex(ctx, md, NULL) != 1) {
		r = diag_set(d, DIAG_INTERNAL, EIO, "payload %s: cannot hash it", p->path);
		goto out;
	}
	if (CRYPTO_memcmp(md, p->digest, digest_alg_len(p->alg)) != 0)
		r = not_verified(p, "its content does not hash to the signed digest", d);
	if (mem)
		mem[total] = 0;
out:
	EVP_MD_free(alg);
	EVP_MD_CTX_free(ctx);
	free(buf);
	close(fd);
	return r;
}

int verified_copy(int bundle_dirfd, const struct payload *p, int dst_dirfd, const char *name,
		  struct diag *d)
{
	int fd, r;

	if (unlinkat(dst_dirfd, name, 0) < 0 && errno != ENOENT)
		return diag_set(d, DIAG_INTERNAL, errno, "cannot replace the old copy %s: %s", name,
				strerror(errno));
	fd = openat(dst_dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (fd < 0)
		return diag_set(d, DIAG_INTERNAL, errno, "cannot create the copy %s: %s", name,
				strerror(errno));
	r = pass(bundle_dirfd, p, fd, NULL, d);
	if (close(fd) < 0 && r == 0)
		r = diag_set(d, DIAG_INTERNAL, errno, "writing the copy %s: %s", name,
			     strerror(errno));
	if (r < 0)
		(void)unlinkat(dst_dirfd, name, 0);
	return r;
}

int verified_read(int bundle_dirfd, const struct payload *p, size_t max, unsigned char **ret,
		  size_t *ret_len, struct diag *d)
{
	unsigned char *mem;
	int r;

	if (p->size > max)
		return diag_set(d, DIAG_CONTENT, EFBIG, "payload %s: larger than %zu bytes",
				p->path, max);
	mem = malloc((size_t)p->size + 1);
	if (!mem)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	r = pass(bundle_dirfd, p, -1, mem, d);
	if (r < 0) {
		free(mem);
		return r;
	}
	*ret = mem;
	*ret_len = (size_t)p->size;
	return 0;
}

int verified_check(int bundle_dirfd, const struct payload *p, struct diag *d)
{
	return pass(bundle_dirfd, p, -1, NULL, d);
}
