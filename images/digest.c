/* SPDX-License-Identifier: Apache-2.0 */
#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"

static const EVP_MD *md_of(enum digest_alg alg)
{
	switch (alg) {
	case DIGEST_SHA256:
		return EVP_sha256();
	case DIGEST_SHA384:
		return EVP_sha384();
	default:
		return NULL;
	}
}

struct pool {
	int dirfd;
	struct digest_job *jobs;
	size_t n;
	atomic_size_t next;
	atomic_uint_fast64_t done_bytes;
	atomic_uint running;
};

/* Hash fd from its offset to EOF, at most limit bytes plus one (so a file
 * longer than expected is noticed). Counts progress into *progress. */
static int hash_stream(int fd, const EVP_MD *md, unsigned char *buf, uint64_t limit,
		       unsigned char *out, uint64_t *ret_size, atomic_uint_fast64_t *progress)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint64_t total = 0;
	int r = 0;

	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
		r = -EIO;
		goto out;
	}
	for (;;) {
		ssize_t k = read(fd, buf, DIGEST_CHUNK);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (k == 0)
			break;
		total += (uint64_t)k;
		if (total > limit) {
			r = -EFBIG;
			goto out;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)k) != 1) {
			r = -EIO;
			goto out;
		}
		if (progress)
			atomic_fetch_add_explicit(progress, (uint64_t)k, memory_order_relaxed);
	}
	if (EVP_DigestFinal_ex(ctx, out, NULL) != 1) {
		r = -EIO;
		goto out;
	}
	*ret_size = total;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

static void *alloc_chunk(void)
{
	void *p = NULL;

	/* Page-aligned so the kernel can copy whole pages. */
	if (posix_memalign(&p, 4096, DIGEST_CHUNK) != 0)
		return NULL;
	return p;
}

static int run_job(struct pool *pl, struct digest_job *j, unsigned char *buf)
{
	const EVP_MD *md = md_of(j->alg);
	struct stat st;
	uint64_t size = 0;
	int fd, r;

	if (!md)
		return -EINVAL;
	fd = fs_open_beneath(pl->dirfd, j->path, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	/* Fail fast on a size mismatch, before reading gigabytes. */
	if (j->expect_size != DIGEST_SIZE_ANY) {
		if ((uint64_t)st.st_size > j->expect_size) {
			r = -EFBIG;
			goto out;
		}
		if ((uint64_t)st.st_size < j->expect_size) {
			r = -ENODATA;
			goto out;
		}
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	r = hash_stream(fd, md, buf, j->expect_size, j->md, &size, &pl->done_bytes);
	if (r < 0)
		goto out;
	/* The file changed between fstat and EOF: what was hashed is not
	 * what was sized. */
	if (j->expect_size != DIGEST_SIZE_ANY && size < j->expect_size) {
		r = -ENODATA;
		goto out;
	}
	j->size = size;
out:
	close(fd);
	return r;
}

static void *worker(void *arg)
{
	struct pool *pl = arg;
	unsigned char *buf = alloc_chunk();

	for (;;) {
		size_t i = atomic_fetch_add(&pl->next, 1);

		if (i >= pl->n)
			break;
		pl->jobs[i].error = buf ? run_job(pl, &pl->jobs[i], buf) : -ENOMEM;
	}
	free(buf);
	atomic_fetch_sub(&pl->running, 1);
	return NULL;
}

static void human(uint64_t b, char *out, size_t n)
{
	if (b >= (1ull << 30))
		snprintf(out, n, "%.1f GiB", (double)b / (1ull << 30));
	else
		snprintf(out, n, "%.1f MiB", (double)b / (1ull << 20));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void draw_progress(uint64_t done, uint64_t total, double elapsed)
{
	char a[32], b[32];
	double rate = elapsed > 0 ? (double)done / elapsed / (1 << 20) : 0;

	human(done, a, sizeof(a));
	human(total, b, sizeof(b));
	fprintf(stderr, "\rhashing  %s / %s  %3u%%  %.0f MiB/s ", a, b,
		total ? (unsigned)(done * 100 / total) : 100, rate);
	fflush(stderr);
}

int digest_run(int dirfd, struct digest_job *jobs, size_t n, const struct digest_opts *o)
{
	struct pool pl = {.dirfd = dirfd, .jobs = jobs, .n = n};
	pthread_t *tids;
	unsigned nt = o && o->threads ? o->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	unsigned started = 0;
	uint64_t total = 0;
	double t0 = now_s();
	int r = 0;

	if (n == 0)
		return 0;
	if (nt == 0)
		nt = 1;
	if (nt > n)
		nt = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		jobs[i].error = 0;
		jobs[i].size = 0;
		if (jobs[i].expect_size != DIGEST_SIZE_ANY)
			total += jobs[i].expect_size;
	}
	tids = calloc(nt, sizeof(*tids));
	if (!tids)
		return -ENOMEM;
	atomic_store(&pl.running, nt);
	for (; started < nt; started++) {
		r = -pthread_create(&tids[started], NULL, worker, &pl);
		if (r < 0) {
			/* Fewer threads is fine as long as one runs; the
			 * ones that did start drain the queue. */
			atomic_fetch_sub(&pl.running, nt - started);
			break;
		}
	}
	if (started == 0) {
		free(tids);
		return r;
	}
	r = 0;
	if (o && o->progress) {
		if (total == 0) {
			/* Signing: sizes unknown until opened; sum them now. */
			for (size_t i = 0; i < n; i++) {
				int fd = fs_open_beneath(dirfd, jobs[i].path, O_RDONLY | O_NONBLOCK);
				struct stat st;

				if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
					total += (uint64_t)st.st_size;
				if (fd >= 0)
					close(fd);
			}
		}
		while (atomic_load(&pl.running) > 0) {
			struct timespec ts = {0, 200 * 1000 * 1000};

			draw_progress(atomic_load(&pl.done_bytes), total, now_s() - t0);
			nanosleep(&ts, NULL);
		}
		draw_progress(atomic_load(&pl.done_bytes), total, now_s() - t0);
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	return r;
}

int digest_fd(int fd, enum digest_alg alg, unsigned char *md, uint64_t *ret_size)
{
	const EVP_MD *m = md_of(alg);
	unsigned char *buf;
	int r;

	if (!m)
		return -EINVAL;
	buf = alloc_chunk();
	if (!buf)
		return -ENOMEM;
	r = hash_stream(fd, m, buf, UINT64_MAX - 1, md, ret_size, NULL);
	free(buf);
	return r;
}
