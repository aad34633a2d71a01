/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming, parallel payload hashing (digest.h).
 *
 * One buffer of DIGEST_CHUNK bytes per worker thread, reused for every file
 * that thread hashes: memory does not grow with the size of an image. Files
 * are read with read(2), not mmap(2): a payload truncated by someone else
 * while we hash it must give a short read and -ENODATA, not SIGBUS.
 */
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

/* Redraw the progress line this often (~5 times a second). */
#define PROGRESS_NSEC (200 * 1000 * 1000L)

struct pool {
	int dirfd;
	struct digest_job *jobs;
	size_t n;
	atomic_size_t next;		 /* next job index to hand out */
	atomic_uint_fast64_t done_bytes; /* hashed so far, for the meter */

	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled when a worker exits */
	unsigned running;    /* workers still running, under lock */
};

static EVP_MD *md_fetch(enum digest_alg alg)
{
	switch (alg) {
	case DIGEST_SHA256:
		return EVP_MD_fetch(NULL, "SHA2-256", NULL);
	case DIGEST_SHA384:
		return EVP_MD_fetch(NULL, "SHA2-384", NULL);
	default:
		return NULL;
	}
}

static unsigned char *chunk_alloc(void)
{
	void *p = NULL;

	/* Page-aligned: the kernel copies from the page cache page by page. */
	if (posix_memalign(&p, 4096, DIGEST_CHUNK) != 0)
		return NULL;
	return p;
}

/*
 * Hash fd from its offset to EOF with md into out, through buf. More than
 * limit bytes is -EFBIG (the file grew since it was sized); reading stops one
 * chunk past limit at most. Bytes hashed go to *ret_size, and are added to
 * *progress as they are hashed when progress is not NULL.
 */
static int hash_stream(int fd, const EVP_MD *md, unsigned char *buf, uint64_t limit,
		       unsigned char *out, uint64_t *ret_size, atomic_uint_fast64_t *progress)
{
	EVP_MD_CTX *ctx;
	uint64_t total = 0;
	int r = 0;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
		r = -EIO;
		goto out;
	}
	/* Read-ahead hint; fails harmlessly (ESPIPE) on a pipe. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		ssize_t k = fs_read(fd, buf, DIGEST_CHUNK);

		if (k < 0) {
			r = (int)k;
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

/*
 * Open beneath dirfd without following symlinks. O_NONBLOCK so that opening
 * a FIFO cannot hang waiting for a writer (it is refused as not regular
 * right after), O_NOCTTY so a terminal device never becomes ours.
 */
static int open_payload(int dirfd, const char *path)
{
	return fs_open_beneath(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
}

static int run_job(struct pool *pl, struct digest_job *j, unsigned char *buf)
{
	EVP_MD *md = NULL;
	struct stat st;
	uint64_t size = 0;
	int fd, fl, r;

	if (!j->path || (unsigned)j->alg >= _DIGEST_COUNT)
		return -EINVAL;
	fd = open_payload(pl->dirfd, j->path);
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
	/* Plain blocking reads from here on. */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		r = -errno;
		goto out;
	}
	md = md_fetch(j->alg);
	if (!md) {
		r = -EOPNOTSUPP;
		goto out;
	}
	r = hash_stream(fd, md, buf, j->expect_size, j->md, &size, &pl->done_bytes);
	if (r < 0)
		goto out;
	/* Read to EOF, then checked again: the file may have shrunk since
	 * fstat, and what was hashed is what counts. (Growth is -EFBIG in
	 * hash_stream.) */
	if (j->expect_size != DIGEST_SIZE_ANY && size != j->expect_size) {
		r = size > j->expect_size ? -EFBIG : -ENODATA;
		goto out;
	}
	j->size = size;
out:
	EVP_MD_free(md);
	close(fd);
	return r;
}

static void *worker(void *arg)
{
	struct pool *pl = arg;
	unsigned char *buf = chunk_alloc();

	for (;;) {
		size_t i = atomic_fetch_add_explicit(&pl->next, 1, memory_order_relaxed);

		if (i >= pl->n)
			break;
		/* Never stop early: each job gets its own result, even when
		 * the buffer could not be had. */
		pl->jobs[i].error = buf ? run_job(pl, &pl->jobs[i], buf) : -ENOMEM;
	}
	free(buf);

	pthread_mutex_lock(&pl->lock);
	pl->running--;
	pthread_cond_signal(&pl->cond);
	pthread_mutex_unlock(&pl->lock);
	return NULL;
}

/* "1.2 GiB": binary units, one decimal. */
static void fmt_bytes(uint64_t b, char *out, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)b;
	unsigned u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%u B", (unsigned)b);
	else
		snprintf(out, len, "%.1f %s", v, unit[u]);
}

static double elapsed_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* One line, redrawn in place; returns its width so it can be blanked. */
static int progress_draw(uint64_t done, uint64_t total, double secs, int last_width)
{
	char a[32], b[32], line[128];
	double pct = total ? 100.0 * (double)done / (double)total : 0.0;
	double rate = secs > 0 ? (double)done / secs / (1024.0 * 1024.0) : 0.0;
	int w;

	if (pct > 100.0)
		pct = 100.0; /* a file that grew; it fails, the meter need not */
	fmt_bytes(done, a, sizeof(a));
	fmt_bytes(total, b, sizeof(b));
	w = snprintf(line, sizeof(line), "hashing  %s / %s  %3.0f%%  %.0f MiB/s", a, b, pct, rate);
	if (w < 0)
		return last_width;
	if (w >= (int)sizeof(line))
		w = (int)sizeof(line) - 1;
	/* Pad over the tail of a longer previous line. */
	fprintf(stderr, "\r%s%*s", line, last_width > w ? last_width - w : 0, "");
	fflush(stderr);
	return w > last_width ? w : last_width;
}

static void progress_clear(int width)
{
	fprintf(stderr, "\r%*s\r", width, "");
	fflush(stderr);
}

/* Bytes the meter counts toward 100%: the expected sizes, or when signing
 * (size unknown) the current size. Display only; the workers check for real. */
static uint64_t progress_total(int dirfd, const struct digest_job *jobs, size_t n)
{
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++) {
		struct stat st;
		int fd;

		if (jobs[i].expect_size != DIGEST_SIZE_ANY) {
			total += jobs[i].expect_size;
			continue;
		}
		if (!jobs[i].path)
			continue;
		fd = open_payload(dirfd, jobs[i].path);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
		close(fd);
	}
	return total;
}

static void progress_loop(struct pool *pl, uint64_t total)
{
	struct timespec t0, dl;
	int width = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	dl = t0;
	pthread_mutex_lock(&pl->lock);
	while (pl->running > 0) {
		uint64_t done = atomic_load_explicit(&pl->done_bytes, memory_order_relaxed);

		pthread_mutex_unlock(&pl->lock);
		width = progress_draw(done, total, elapsed_since(&t0), width);
		pthread_mutex_lock(&pl->lock);

		dl.tv_nsec += PROGRESS_NSEC;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		/* The last worker to leave signals: a run that ends
		 * between ticks is not padded out to the next one. */
		while (pl->running > 0 &&
		       pthread_cond_timedwait(&pl->cond, &pl->lock, &dl) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&pl->lock);
	progress_clear(width);
}

static unsigned pool_threads(const struct digest_opts *o, size_t n)
{
	unsigned nt = o ? o->threads : 0;

	if (nt == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		nt = cpus > 0 ? (unsigned)cpus : 1;
	}
	if (nt > n)
		nt = (unsigned)n;
	return nt;
}

int digest_run(int dirfd, struct digest_job *jobs, size_t n, const struct digest_opts *o)
{
	struct pool pl = {.dirfd = dirfd, .jobs = jobs, .n = n};
	bool progress = o && o->progress;
	pthread_condattr_t ca;
	pthread_t *tids = NULL;
	uint64_t total = 0;
	unsigned nt, started = 0;
	int r;

	if (n == 0)
		return 0;
	if (!jobs)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		jobs[i].error = 0;
		jobs[i].size = 0;
		memset(jobs[i].md, 0, sizeof(jobs[i].md));
	}
	nt = pool_threads(o, n);
	if (progress)
		total = progress_total(dirfd, jobs, n);

	tids = calloc(nt, sizeof(*tids));
	if (!tids)
		return -ENOMEM;
	r = -pthread_condattr_init(&ca);
	if (r < 0)
		goto out_free;
	r = -pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (r == 0)
		r = -pthread_cond_init(&pl.cond, &ca);
	pthread_condattr_destroy(&ca);
	if (r < 0)
		goto out_free;
	r = -pthread_mutex_init(&pl.lock, NULL);
	if (r < 0)
		goto out_cond;

	pthread_mutex_lock(&pl.lock);
	for (; started < nt; started++) {
		r = -pthread_create(&tids[started], NULL, worker, &pl);
		if (r < 0)
			break; /* the ones that did start drain the queue */
		pl.running++;
	}
	pthread_mutex_unlock(&pl.lock);
	if (started == 0)
		goto out_mutex;
	r = 0;

	if (progress)
		progress_loop(&pl, total);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
out_mutex:
	pthread_mutex_destroy(&pl.lock);
out_cond:
	pthread_cond_destroy(&pl.cond);
out_free:
	free(tids);
	return r;
}

int digest_fd(int fd, enum digest_alg alg, unsigned char *md, uint64_t *ret_size)
{
	unsigned char *buf = NULL;
	EVP_MD *m;
	uint64_t size = 0;
	int r;

	m = md_fetch(alg);
	if (!m)
		return (unsigned)alg >= _DIGEST_COUNT ? -EINVAL : -EOPNOTSUPP;
	buf = chunk_alloc();
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	r = hash_stream(fd, m, buf, UINT64_MAX, md, &size, NULL);
	if (r == 0 && ret_size)
		*ret_size = size;
out:
	free(buf);
	EVP_MD_free(m);
	return r;
}
