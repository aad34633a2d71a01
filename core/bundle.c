/* SPDX-License-Identifier: Apache-2.0 */
#include "bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "fsutil.h"

/* A bundle directory with more entries than this is not one we made. */
#define BUNDLE_MAX_ENTRIES 100000

void bundle_verified_free(struct bundle_verified *v)
{
	if (!v)
		return;
	manifest_free(v->manifest);
	free(v);
}

static int open_bundle_dir(const char *dir, struct diag *d)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return diag_set(d, errno == ENOENT || errno == ENOTDIR ? DIAG_USAGE : DIAG_INTERNAL,
				errno, "cannot open bundle directory %s: %s", dir, strerror(errno));
	return fd;
}

/* Is path one of the bundle's own files or a listed payload? */
static bool is_listed_file(const struct manifest *m, const char *path)
{
	if (!strcmp(path, BUNDLE_MANIFEST) || !strcmp(path, BUNDLE_SIGNATURE))
		return true;
	for (size_t i = 0; i < m->n_payloads; i++)
		if (!strcmp(m->payloads[i].path, path))
			return true;
	return false;
}

/* Is path a directory some listed payload lies under? */
/* What a directory entry is, for a message ("a FIFO", "a directory"). */
static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "of another kind";
}

static bool is_listed_dir(const struct manifest *m, const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < m->n_payloads; i++)
		if (!strncmp(m->payloads[i].path, path, n) && m->payloads[i].path[n] == '/')
			return true;
	return false;
}

/*
 * Walk the bundle and refuse anything the manifest does not account for: an
 * extra file, an empty or unlisted directory, a symlink, a device. Done
 * before hashing so a bad layout fails in milliseconds, not after reading
 * gigabytes.
 */
static int check_layout(int dirfd, const char *prefix, const struct manifest *m, unsigned *budget,
			enum diag_class cls, struct diag *d)
{
	struct dirent *de;
	DIR *dir;
	int fd, r = 0;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return diag_set(d, DIAG_INTERNAL, errno, "cannot read bundle directory: %s",
				strerror(errno));
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return diag_set(d, DIAG_INTERNAL, errno, "cannot read bundle directory: %s",
				strerror(errno));
	}
	while ((errno = 0, de = readdir(dir))) {
		char path[PATH_MAX];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((*budget)-- == 0) {
			r = diag_set(d, cls, E2BIG, "bundle holds more than %d entries",
				     BUNDLE_MAX_ENTRIES);
			break;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "/" : "",
				     de->d_name) >= sizeof(path)) {
			r = diag_set(d, cls, ENAMETOOLONG,
				     "bundle holds a path too long to be listed");
			break;
		}
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = diag_set(d, DIAG_INTERNAL, errno, "cannot stat %s in bundle: %s", path,
				     strerror(errno));
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			r = diag_set(d, cls, ELOOP,
				     "bundle holds %s, a symlink; bundles may not contain symlinks",
				     path);
			break;
		}
		if (S_ISDIR(st.st_mode) && is_listed_dir(m, path)) {
			int sub = openat(dirfd, de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0) {
				r = diag_set(d, DIAG_INTERNAL, errno,
					     "cannot open %s in bundle: %s", path, strerror(errno));
				break;
			}
			r = check_layout(sub, path, m, budget, cls, d);
			close(sub);
			if (r < 0)
				break;
			continue;
		}
		if (S_ISREG(st.st_mode) && is_listed_file(m, path))
			continue;
		/* Listed, but not a file we can hash: say what it is. */
		if (is_listed_file(m, path)) {
			r = diag_set(d, cls, EINVAL, "payload %s is %s, not a regular file", path,
				     file_kind(st.st_mode));
			break;
		}
		r = diag_set(d, cls, EEXIST, "bundle holds %s%s, which the manifest does not list",
			     path, S_ISDIR(st.st_mode) ? "/" : "");
		break;
	}
	if (r == 0 && errno != 0)
		r = diag_set(d, DIAG_INTERNAL, errno, "cannot read bundle directory: %s",
			     strerror(errno));
	closedir(dir);
	return r;
}

static const char *job_error_text(int err)
{
	switch (err) {
	case -ENOENT:
		return "is missing";
	case -ELOOP:
		return "is a symlink or lies under one";
	case -EINVAL:
		return "is not a regular file";
	case -EFBIG:
		return "is larger than the signed size (extended)";
	case -ENODATA:
		return "is smaller than the signed size (truncated)";
	default:
		return NULL;
	}
}

/* Is payload i checked by dm-verity at read time (a disk payload with a
 * tree, or a tree)? */
static bool verity_checked(const struct manifest *m, size_t i)
{
	const struct payload *p = &m->payloads[i];

	if (p->verity)
		return true;
	for (size_t j = 0; j < m->n_payloads; j++)
		if (m->payloads[j].verity && strcmp(m->payloads[j].verity->hash_tree, p->path) == 0)
			return true;
	return false;
}

/* A payload left to dm-verity: a regular file of its signed size. */
static int check_size(int dirfd, const struct payload *p, struct diag *d)
{
	struct stat st;
	int fd = fs_open_beneath(dirfd, p->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return diag_set(d, DIAG_CONTENT, -fd, "payload %s %s", p->path,
				job_error_text(fd) ? job_error_text(fd) : strerror(-fd));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return diag_set(d, DIAG_CONTENT, EINVAL, "payload %s is not a regular file",
				p->path);
	}
	close(fd);
	if ((uint64_t)st.st_size != p->size)
		return diag_set(d, DIAG_CONTENT, (uint64_t)st.st_size > p->size ? EFBIG : ENODATA,
				"payload %s %s", p->path,
				job_error_text((uint64_t)st.st_size > p->size ? -EFBIG : -ENODATA));
	return 0;
}

/* Hash every payload (with lazy, all but those dm-verity checks: their
 * sizes only); report the first bad one and how many others failed. */
static int check_payloads(int dirfd, const struct manifest *m, unsigned threads, bool progress,
			  bool lazy, struct diag *d)
{
	struct digest_opts dopts = {.threads = threads, .progress = progress};
	struct digest_job *jobs;
	size_t bad = 0, first = 0, n = 0;
	size_t *which;
	int r = 0;

	jobs = calloc(m->n_payloads + 1, sizeof(*jobs));
	which = calloc(m->n_payloads + 1, sizeof(*which));
	if (!jobs || !which) {
		free(jobs);
		free(which);
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < m->n_payloads && r == 0; i++) {
		if (lazy && verity_checked(m, i)) {
			r = check_size(dirfd, &m->payloads[i], d);
			continue;
		}
		which[n] = i;
		jobs[n].path = m->payloads[i].path;
		jobs[n].alg = m->payloads[i].alg;
		jobs[n].expect_size = m->payloads[i].size;
		n++;
	}
	if (r < 0)
		goto out;
	r = n ? digest_run(dirfd, jobs, n, &dopts) : 0;
	if (r < 0) {
		diag_set(d, DIAG_INTERNAL, -r, "hashing payloads failed: %s", strerror(-r));
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		const struct payload *p = &m->payloads[which[k]];
		size_t i = k;

		if (jobs[i].error == 0 &&
		    CRYPTO_memcmp(jobs[i].md, p->digest, digest_alg_len(p->alg)) == 0)
			continue;
		if (bad++ == 0)
			first = i;
	}
	if (bad) {
		const struct payload *p = &m->payloads[which[first]];
		const char *why = job_error_text(jobs[first].error);
		char more[64] = "";
		char buf[128];

		if (bad > 1)
			snprintf(more, sizeof(more), " (and %zu more bad payloads)", bad - 1);
		if (jobs[first].error == 0)
			snprintf(buf, sizeof(buf), "does not match its signed %s digest",
				 digest_alg_name(p->alg));
		else if (why)
			snprintf(buf, sizeof(buf), "%s", why);
		else
			snprintf(buf, sizeof(buf), "cannot be read: %s",
				 strerror(-jobs[first].error));
		r = diag_set(d, why || jobs[first].error == 0 ? DIAG_CONTENT : DIAG_INTERNAL,
			     jobs[first].error ? -jobs[first].error : EILSEQ, "payload %s %s%s",
			     p->path, buf, more);
	}
out:
	free(jobs);
	free(which);
	return r;
}

/* missing: the class when the file is absent or too large for what it
 * claims to be (a manifest that big is malformed; a signature that big is not
 * a signature). */
static int read_bundle_file(int dirfd, const char *name, size_t max, enum diag_class missing,
			    unsigned char **ret, size_t *ret_len, struct diag *d)
{
	int r = fs_read_file_at(dirfd, name, max, ret, ret_len);

	switch (r) {
	case 0:
		return 0;
	case -ENOENT:
		return diag_set(d, missing, ENOENT, "bundle has no %s", name);
	case -ELOOP:
		return diag_set(d, DIAG_CONTENT, ELOOP, "%s is a symlink; refusing to follow it",
				name);
	case -EINVAL:
		return diag_set(d, DIAG_CONTENT, EINVAL, "%s is not a regular file", name);
	case -EFBIG:
		return diag_set(d, missing, EFBIG, "%s is larger than the %zu bytes allowed", name,
				max);
	default:
		return diag_set(d, DIAG_INTERNAL, -r, "cannot read %s: %s", name, strerror(-r));
	}
}

int bundle_verify(const char *dir, const struct bundle_verify_opts *o, struct bundle_verified **ret,
		  struct diag *d)
{
	unsigned char *mbytes = NULL, *sig = NULL;
	size_t mlen = 0, siglen = 0;
	struct cms_trust *trust = NULL;
	struct bundle_verified *v = NULL;
	unsigned budget = BUNDLE_MAX_ENTRIES;
	int64_t at = o->at ? o->at : (int64_t)time(NULL);
	int dirfd, r;

	if (o->n_ca == 0 && o->n_ca_pems == 0)
		return diag_set(d, DIAG_USAGE, EINVAL, "no trusted CA given");
	dirfd = open_bundle_dir(dir, d);
	if (dirfd < 0)
		return dirfd;
	v = calloc(1, sizeof(*v));
	if (!v) {
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
		goto out;
	}

	/* 1. Raw bytes, bounded, no symlinks. */
	r = read_bundle_file(dirfd, BUNDLE_MANIFEST, MANIFEST_MAX_BYTES, DIAG_MALFORMED, &mbytes,
			     &mlen, d);
	if (r < 0)
		goto out;
	r = read_bundle_file(dirfd, BUNDLE_SIGNATURE, BUNDLE_SIG_MAX, DIAG_SIGNATURE, &sig, &siglen,
			     d);
	if (r < 0)
		goto out;

	/* 2. Signature and chain over the raw bytes, before any parsing. */
	r = o->n_ca ? cms_trust_load(o->ca_files, o->n_ca, &trust, d)
		    : cms_trust_load_pem(o->ca_pems, o->n_ca_pems, &trust, d);
	if (r < 0)
		goto out;
	r = cms_verify_detached(trust, sig, siglen, mbytes, mlen, o->at, &v->signer, d);
	if (r < 0)
		goto out;
	SHA256(mbytes, mlen, v->manifest_sha256);

	/* 3. Only authenticated bytes reach the parser. */
	r = manifest_parse((const char *)mbytes, mlen, &v->manifest, d);
	if (r < 0)
		goto out;
	if (v->manifest->has_not_after && at > v->manifest->not_after) {
		char when[32];

		manifest_time_format(v->manifest->not_after, when);
		r = diag_set(d, DIAG_EXPIRED, ESTALE, "bundle %s version %llu expired at %s",
			     v->manifest->name, (unsigned long long)v->manifest->version, when);
		goto out;
	}

	/* 4. Layout first (cheap), then every byte of every payload. */
	r = check_layout(dirfd, "", v->manifest, &budget, DIAG_CONTENT, d);
	if (r < 0)
		goto out;
	r = check_payloads(dirfd, v->manifest, o->threads, o->progress, o->verity_lazy, d);
	if (r < 0)
		goto out;

	*ret = v;
	v = NULL;
out:
	bundle_verified_free(v);
	cms_trust_free(trust);
	free(mbytes);
	free(sig);
	close(dirfd);
	return r;
}

static bool exists_at(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int build_manifest(const struct bundle_sign_opts *o, struct manifest **ret, struct diag *d)
{
	struct manifest *m = calloc(1, sizeof(*m));

	if (!m)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	m->format_version = MANIFEST_FORMAT_VERSION;
	m->name = strdup(o->name ? o->name : "");
	m->appliance_class = strdup(o->appliance_class ? o->appliance_class : "");
	m->version = o->version;
	m->has_not_after = o->has_not_after;
	m->not_after = o->not_after;
	m->payloads = calloc(o->n_payloads ? o->n_payloads : 1, sizeof(*m->payloads));
	if (!m->name || !m->appliance_class || !m->payloads) {
		manifest_free(m);
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < o->n_payloads; i++) {
		struct payload *p = &m->payloads[i];

		p->path = strdup(o->payloads[i].path);
		if (!p->path) {
			manifest_free(m);
			return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
		}
		m->n_payloads++;
		p->role = o->payloads[i].role;
		p->alg = o->alg;
		if (o->payloads[i].verity) {
			p->verity = malloc(sizeof(*p->verity));
			if (p->verity) {
				*p->verity = *o->payloads[i].verity;
				p->verity->hash_tree = strdup(o->payloads[i].verity->hash_tree);
			}
			if (!p->verity || !p->verity->hash_tree) {
				manifest_free(m);
				return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
			}
			m->format_version = MANIFEST_FORMAT_VERSION_VERITY;
			/* the size the tree was built for; hashing sets the real one,
			 * and serializing checks they agree */
			p->size = p->verity->data_blocks * VERITY_BLOCK_SIZE;
		}
	}
	*ret = m;
	return 0;
}

/* Every payload's size and digest into m (in parallel, digest.h). */
static int hash_payloads(int dirfd, struct manifest *m, const struct bundle_sign_opts *o,
			 struct diag *d)
{
	struct digest_opts dopts = {.threads = o->threads, .progress = o->progress};
	struct digest_job *jobs = calloc(m->n_payloads, sizeof(*jobs));
	int r;

	if (!jobs)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	for (size_t i = 0; i < m->n_payloads; i++) {
		jobs[i].path = m->payloads[i].path;
		jobs[i].alg = m->payloads[i].alg;
		jobs[i].expect_size = DIGEST_SIZE_ANY;
	}
	r = digest_run(dirfd, jobs, m->n_payloads, &dopts);
	if (r < 0)
		diag_set(d, DIAG_INTERNAL, -r, "hashing payloads failed: %s", strerror(-r));
	for (size_t i = 0; r == 0 && i < m->n_payloads; i++) {
		struct payload *p = &m->payloads[i];

		if (jobs[i].error) {
			const char *why = job_error_text(jobs[i].error);

			r = diag_set(d, why ? DIAG_USAGE : DIAG_INTERNAL, -jobs[i].error,
				     "payload %s %s", p->path,
				     why ? why : strerror(-jobs[i].error));
			break;
		}
		p->size = jobs[i].size;
		memcpy(p->digest, jobs[i].md, digest_alg_len(p->alg));
	}
	free(jobs);
	return r;
}

int bundle_sign(const char *dir, const struct bundle_sign_opts *o, struct cms_signer *s,
		struct manifest **ret, unsigned char ret_sha256[32], struct diag *d)
{
	struct manifest *m = NULL;
	unsigned char *der = NULL;
	char *text = NULL;
	size_t textlen = 0, derlen = 0;
	unsigned budget = BUNDLE_MAX_ENTRIES;
	bool wrote_manifest = false;
	int dirfd, r;

	dirfd = open_bundle_dir(dir, d);
	if (dirfd < 0)
		return dirfd;
	if (!o->force &&
	    (exists_at(dirfd, BUNDLE_MANIFEST) || exists_at(dirfd, BUNDLE_SIGNATURE))) {
		r = diag_set(d, DIAG_USAGE, EEXIST,
			     "%s already holds a signed manifest; use --force to replace it", dir);
		goto out;
	}
	r = build_manifest(o, &m, d);
	if (r < 0)
		goto out;
	/* Names, paths and limits are checked before any byte is hashed; here
	 * a bad one is the caller's mistake, not a malformed document. */
	{
		struct diag vd = {0};

		r = manifest_validate(m, &vd);
		if (r < 0) {
			diag_set(d, DIAG_USAGE, -r, "%s", vd.msg);
			goto out;
		}
	}
	r = check_layout(dirfd, "", m, &budget, DIAG_USAGE, d);
	if (r < 0)
		goto out;

	r = hash_payloads(dirfd, m, o, d);
	if (r < 0)
		goto out;

	r = manifest_serialize(m, &text, &textlen);
	if (r < 0) {
		diag_set(d, DIAG_INTERNAL, -r, "cannot serialize manifest: %s", strerror(-r));
		goto out;
	}
	r = cms_sign_detached(s, text, textlen, &der, &derlen, d);
	if (r < 0)
		goto out;

	r = fs_write_atomic_at(dirfd, BUNDLE_MANIFEST, text, textlen, 0644, o->force);
	if (r < 0) {
		diag_set(d, DIAG_INTERNAL, -r, "cannot write %s/%s: %s", dir, BUNDLE_MANIFEST,
			 strerror(-r));
		goto out;
	}
	wrote_manifest = true;
	r = fs_write_atomic_at(dirfd, BUNDLE_SIGNATURE, der, derlen, 0644, o->force);
	if (r < 0) {
		diag_set(d, DIAG_INTERNAL, -r, "cannot write %s/%s: %s", dir, BUNDLE_SIGNATURE,
			 strerror(-r));
		goto out;
	}
	if (ret_sha256)
		SHA256((const unsigned char *)text, textlen, ret_sha256);
	if (ret) {
		*ret = m;
		m = NULL;
	}
out:
	/* Never leave a manifest without its signature from this run. */
	if (r < 0 && wrote_manifest)
		(void)unlinkat(dirfd, BUNDLE_MANIFEST, 0);
	manifest_free(m);
	free(text);
	free(der);
	close(dirfd);
	return r;
}
