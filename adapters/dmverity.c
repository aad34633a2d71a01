/* SPDX-License-Identifier: Apache-2.0 */
#include "dmverity.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/dm-ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "hex.h"

#define SECTORS_PER_BLOCK (VERITY_BLOCK_SIZE / 512)

static int differs(struct diag *d, const char *what)
{
	return diag_set(d, DIAG_TRUST, EBADE,
			"its live dm-verity table is not the one the anchor made: %s", what);
}

int dmverity_check_table(uint64_t start, uint64_t length, const char *type, const char *params,
			 const struct payload_verity *v, struct diag *d)
{
	char ver[8], data[32], hash[32], alg[16], root[2 * VERITY_ROOT_HASH_LEN + 2];
	char salt[2 * VERITY_SALT_MAX + 2], want_root[2 * VERITY_ROOT_HASH_LEN + 1];
	char want_salt[2 * VERITY_SALT_MAX + 1], extra[2];
	unsigned dbs = 0, hbs = 0;
	uint64_t blocks = 0, hstart = 0;
	int n;

	if (strcmp(type, "verity") != 0)
		return differs(d, "not a verity target");
	if (start != 0 || length != v->data_blocks * SECTORS_PER_BLOCK)
		return differs(d, "it does not cover exactly the signed payload");
	n = sscanf(params, "%7s %31s %31s %u %u %" SCNu64 " %" SCNu64 " %15s %65s %513s %1s", ver,
		   data, hash, &dbs, &hbs, &blocks, &hstart, alg, root, salt, extra);
	if (n < 10)
		return differs(d, "not a verity table");
	if (n > 10)
		return differs(d,
			       "optional arguments (the anchor sets none: its error mode is EIO)");
	if (strcmp(ver, "1") != 0 || dbs != VERITY_BLOCK_SIZE || hbs != VERITY_BLOCK_SIZE ||
	    strcmp(alg, "sha256") != 0)
		return differs(d, "not hash type 1, sha256, 4096-byte blocks");
	if (blocks != v->data_blocks)
		return differs(d, "another data block count");
	hex_encode(v->root_hash, VERITY_ROOT_HASH_LEN, want_root);
	if (strcmp(root, want_root) != 0)
		return differs(d, "another root hash than the signed one");
	hex_encode(v->salt, v->salt_len, want_salt);
	if (strcmp(salt, want_salt) != 0)
		return differs(d, "another salt than the signed one");
	return 0;
}

/* DM_TABLE_STATUS with the table flag: the one target's start, length,
 * type and parameters. */
static int live_table(const char *name, dev_t *ret_dev, uint64_t *start, uint64_t *length,
		      char type[DM_MAX_TYPE_NAME], char **ret_params, struct diag *d)
{
	size_t size = 16384;
	struct dm_ioctl *io = calloc(1, size);
	struct dm_target_spec *t;
	int fd, r = 0;

	if (!io)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		free(io);
		return diag_set(d, DIAG_TRUST, ENODEV,
				"no device-mapper here (/dev/mapper/control: %s)", strerror(errno));
	}
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = 0;
	io->version[2] = 0;
	io->data_size = (uint32_t)size;
	io->data_start = sizeof(*io);
	io->flags = DM_STATUS_TABLE_FLAG;
	snprintf(io->name, sizeof(io->name), "%s", name);
	if (ioctl(fd, DM_TABLE_STATUS, io) < 0) {
		r = errno == ENXIO
			? diag_set(d, DIAG_TRUST, ENODEV, "no device-mapper device %s", name)
			: diag_set(d, DIAG_INTERNAL, errno, "DM_TABLE_STATUS %s: %s", name,
				   strerror(errno));
		goto out;
	}
	if (io->flags & DM_BUFFER_FULL_FLAG) {
		r = differs(d, "its table is larger than any the anchor makes");
		goto out;
	}
	if (io->target_count != 1) {
		r = differs(d, "not exactly one target");
		goto out;
	}
	t = (struct dm_target_spec *)((char *)io + io->data_start);
	if (io->data_start + sizeof(*t) >= size) {
		r = differs(d, "the kernel's answer is malformed");
		goto out;
	}
	*start = t->sector_start;
	*length = t->length;
	snprintf(type, DM_MAX_TYPE_NAME, "%s", t->target_type);
	*ret_dev = (dev_t)io->dev;
	*ret_params = strndup((char *)(t + 1), size - io->data_start - sizeof(*t));
	if (!*ret_params)
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
out:
	close(fd);
	free(io);
	return r;
}

int dmverity_check(const char *name, const char *path, const struct payload_verity *v,
		   struct diag *d)
{
	char type[DM_MAX_TYPE_NAME], *params = NULL;
	uint64_t start = 0, length = 0;
	struct stat st;
	dev_t dev = 0;
	int r;

	r = live_table(name, &dev, &start, &length, type, &params, d);
	if (r == 0)
		r = dmverity_check_table(start, length, type, params, v, d);
	free(params);
	if (r < 0)
		return r;
	if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != dev)
		return diag_set(d, DIAG_TRUST, EBADE,
				"%s is not the block device of the mapping %s (%u:%u)", path, name,
				major(dev), minor(dev));
	return 0;
}
