/* SPDX-License-Identifier: Apache-2.0 */
#include "verity.h"

#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

#define SALT_LEN 32

static void quiet(int level, const char *msg, void *usrptr)
{
	(void)level;
	(void)msg;
	(void)usrptr;
}

/* libcryptsetup's last error line, for the one-line diagnosis. */
static void keep_error(int level, const char *msg, void *usrptr)
{
	char *buf = usrptr;
	size_t n;

	if (level != CRYPT_LOG_ERROR || !msg)
		return;
	snprintf(buf, 160, "%s", msg);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '.'))
		buf[--n] = 0;
}

/* libcryptsetup takes paths: give it our already opened, checked files. */
static void fd_path(int fd, char out[32])
{
	snprintf(out, 32, "/proc/self/fd/%d", fd);
}

static void params(struct crypt_params_verity *p, const char *data, const unsigned char *salt,
		   size_t salt_len, uint64_t blocks, uint32_t flags)
{
	memset(p, 0, sizeof(*p));
	p->hash_name = "sha256";
	p->data_device = data;
	p->salt = (const char *)salt;
	p->salt_size = (uint32_t)salt_len;
	p->hash_type = 1;
	p->data_block_size = VERITY_BLOCK_SIZE;
	p->hash_block_size = VERITY_BLOCK_SIZE;
	p->data_size = blocks;
	p->hash_area_offset = 0;
	p->flags = CRYPT_VERITY_NO_HEADER | flags;
}

/* The payload, opened beneath dirfd: a regular file of whole blocks. */
static int open_data(int dirfd, const char *rel, uint64_t *ret_blocks, struct diag *d)
{
	struct stat st;
	int fd = fs_open_beneath(dirfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return diag_set(d, DIAG_USAGE, -fd, "payload %s: cannot open it: %s", rel,
				strerror(-fd));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size % VERITY_BLOCK_SIZE) {
		close(fd);
		return diag_set(d, DIAG_USAGE, EINVAL,
				"payload %s: dm-verity needs a regular file of a whole number of "
				"%d-byte blocks (pad it, or sign without --verity)",
				rel, VERITY_BLOCK_SIZE);
	}
	*ret_blocks = (uint64_t)st.st_size / VERITY_BLOCK_SIZE;
	return fd;
}

int verity_format(int dirfd, const char *data_rel, const char *tree_rel, struct payload_verity *v,
		  struct diag *d)
{
	struct crypt_params_verity p;
	struct crypt_device *cd = NULL;
	char dpath[32], tpath[32], root[VERITY_ROOT_HASH_LEN];
	size_t root_len = sizeof(root);
	uint64_t blocks = 0;
	int dfd, tfd = -1, r;

	crypt_set_log_callback(NULL, quiet, NULL);
	dfd = open_data(dirfd, data_rel, &blocks, d);
	if (dfd < 0)
		return dfd;
	if (unlinkat(dirfd, tree_rel, 0) < 0 && errno != ENOENT) {
		r = diag_set(d, DIAG_INTERNAL, errno, "cannot replace %s: %s", tree_rel,
			     strerror(errno));
		goto out;
	}
	tfd = openat(dirfd, tree_rel, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (tfd < 0) {
		r = diag_set(d, DIAG_INTERNAL, errno, "cannot create %s: %s", tree_rel,
			     strerror(errno));
		goto out;
	}
	if (RAND_bytes(v->salt, SALT_LEN) != 1) {
		r = diag_set(d, DIAG_INTERNAL, EIO, "no random salt");
		goto out;
	}
	v->salt_len = SALT_LEN;
	fd_path(dfd, dpath);
	fd_path(tfd, tpath);
	params(&p, dpath, v->salt, v->salt_len, blocks, CRYPT_VERITY_CREATE_HASH);
	r = crypt_init_data_device(&cd, tpath, dpath);
	if (r == 0)
		r = crypt_format(cd, CRYPT_VERITY, NULL, NULL, NULL, NULL, 0, &p);
	if (r == 0)
		r = crypt_volume_key_get(cd, CRYPT_ANY_SLOT, root, &root_len, NULL, 0);
	if (r < 0 || root_len != VERITY_ROOT_HASH_LEN) {
		r = diag_set(d, DIAG_INTERNAL, r < 0 ? -r : EIO,
			     "payload %s: libcryptsetup could not build its dm-verity tree: %s",
			     data_rel, strerror(r < 0 ? -r : EIO));
		(void)unlinkat(dirfd, tree_rel, 0);
		goto out;
	}
	memcpy(v->root_hash, root, VERITY_ROOT_HASH_LEN);
	v->data_blocks = blocks;
	r = 0;
out:
	crypt_free(cd);
	if (tfd >= 0)
		close(tfd);
	close(dfd);
	return r;
}

bool verity_have_dm(void)
{
	/* /dev/mapper/control can exist on a kernel without device-mapper;
	 * the kernel lists the driver in /proc/devices only when it is there.
	 * The verity target itself loads on demand (dm-verity.ko). */
	char line[128];
	bool found = false;
	FILE *f;

	if (access("/dev/mapper/control", R_OK | W_OK) != 0)
		return false;
	f = fopen("/proc/devices", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " device-mapper\n") != NULL;
	fclose(f);
	return found;
}

/* The hash tree, opened beneath dirfd: a regular file, not empty. */
static int open_tree(int dirfd, const char *rel, struct diag *d)
{
	struct stat st;
	int fd = fs_open_beneath(dirfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return diag_set(d, DIAG_CONTENT, -fd, "hash tree %s: cannot open it: %s", rel,
				strerror(-fd));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < VERITY_BLOCK_SIZE) {
		close(fd);
		return diag_set(d, DIAG_CONTENT, EINVAL,
				"hash tree %s is not a regular file of at least one block", rel);
	}
	return fd;
}

int verity_activate(int dirfd, const char *data_rel, const char *tree_rel,
		    const struct payload_verity *v, const char *name, struct diag *d)
{
	struct crypt_params_verity p;
	struct crypt_device *cd = NULL;
	char dpath[32], tpath[32], why[160] = "";
	uint64_t blocks = 0;
	int dfd, tfd = -1, r;

	crypt_set_log_callback(NULL, keep_error, why);
	if (!verity_have_dm())
		return diag_set(d, DIAG_INTERNAL, ENODEV, "no device-mapper in this kernel");
	dfd = open_data(dirfd, data_rel, &blocks, d);
	if (dfd < 0) {
		d->cls = DIAG_CONTENT;
		return dfd;
	}
	if (blocks != v->data_blocks) {
		r = diag_set(d, DIAG_CONTENT, EINVAL,
			     "payload %s holds %llu blocks, its signed dm-verity tree %llu",
			     data_rel, (unsigned long long)blocks,
			     (unsigned long long)v->data_blocks);
		goto out;
	}
	tfd = open_tree(dirfd, tree_rel, d);
	if (tfd < 0) {
		r = tfd;
		goto out;
	}
	if (crypt_status(NULL, name) != CRYPT_INACTIVE) {
		r = diag_set(
		    d, DIAG_TRUST, EEXIST,
		    "a device-mapper device %s exists before the anchor made it (planted?)", name);
		goto out;
	}
	fd_path(dfd, dpath);
	fd_path(tfd, tpath);
	/* With no superblock there is nothing to load: crypt_format without
	 * CRYPT_VERITY_CREATE_HASH only sets the parameters (and writes
	 * nothing), as veritysetup open --no-superblock does. No
	 * CRYPT_VERITY_CHECK_HASH: checking the tree now would read all of it,
	 * which is what verity spares the boot; the kernel checks lazily. */
	params(&p, dpath, v->salt, v->salt_len, v->data_blocks, 0);
	r = crypt_init_data_device(&cd, tpath, dpath);
	if (r == 0)
		r = crypt_format(cd, CRYPT_VERITY, NULL, NULL, NULL, NULL, 0, &p);
	if (r == 0)
		r = crypt_activate_by_volume_key(cd, name, (const char *)v->root_hash,
						 VERITY_ROOT_HASH_LEN, CRYPT_ACTIVATE_READONLY);
	if (r < 0) {
		r = diag_set(
		    d, DIAG_INTERNAL, -r,
		    "payload %s: libcryptsetup could not activate its dm-verity device %s: "
		    "%s%s%s",
		    data_rel, name, strerror(-r), why[0] ? ": " : "", why);
		goto out;
	}
	r = 0;
out:
	crypt_free(cd);
	crypt_set_log_callback(NULL, quiet, NULL);
	if (tfd >= 0)
		close(tfd);
	close(dfd);
	return r;
}

int verity_deactivate(const char *name)
{
	crypt_set_log_callback(NULL, quiet, NULL);
	if (crypt_status(NULL, name) == CRYPT_INACTIVE)
		return 0;
	return crypt_deactivate(NULL, name);
}
