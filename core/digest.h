/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

/*
 * Streaming, parallel payload hashing. Each file is read in fixed-size chunks
 * (memory stays flat whatever its size) and hashed with OpenSSL's EVP; up to
 * `threads` files are hashed at once, one file per thread (a single file's
 * hash is inherently sequential).
 */

#define DIGEST_CHUNK (1024u * 1024u)

struct digest_job {
	/* in */
	const char *path; /* relative to dirfd, already manifest_path_valid() */
	enum digest_alg alg;
	uint64_t expect_size; /* DIGEST_SIZE_ANY when signing */
	/* out */
	uint64_t size;			  /* bytes hashed */
	unsigned char md[DIGEST_MAX_LEN]; /* digest_alg_len(alg) bytes */
	int error;			  /* 0, or -errno: -ENOENT missing, -ELOOP symlink in path,
					   * -EINVAL not a regular file, -EFBIG larger than expect_size,
					   * -ENODATA smaller than expect_size (checked with fstat before
					   * hashing, and again by reading to EOF), other -errno on I/O */
};

#define DIGEST_SIZE_ANY UINT64_MAX

struct digest_opts {
	unsigned threads; /* 0: number of online CPUs, capped at the job count */
	bool progress;	  /* draw a one-line progress meter on stderr (caller
			   * decides, normally isatty(STDERR_FILENO)) */
};

/* Hash all jobs. Returns 0 when every job ran (each job's own error says
 * whether that file hashed), or -errno if the machinery failed (threads,
 * memory). Never stops early: a caller reports every bad payload at once. */
int digest_run(int dirfd, struct digest_job *jobs, size_t n, const struct digest_opts *o);

/* One open file, from its current offset to EOF. For benchmarks and tests. */
int digest_fd(int fd, enum digest_alg alg, unsigned char *md, uint64_t *ret_size);
