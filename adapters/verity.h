/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "manifest.h"

/*
 * dm-verity hash trees for disk payloads, through libcryptsetup (the only
 * module of images/ with cryptsetup headers). The parameters are those
 * bundle.md's version 2 fixes (manifest.h, struct payload_verity): hash
 * type 1, sha256, 4096-byte blocks, no superblock, the tree at offset 0 of
 * its own file. Building a tree is userspace only; activation (below) needs
 * device-mapper.
 */

/* Write the hash tree of dirfd/data_rel to dirfd/tree_rel (replaced;
 * mode 0644) with a fresh random 32-byte salt, and fill v's data_blocks,
 * salt and root_hash (not hash_tree). The payload must be a regular file,
 * not empty, of a whole number of 4096-byte blocks. Errors: -EINVAL
 * (DIAG_USAGE) for the size, -errno (DIAG_INTERNAL) for I/O or
 * libcryptsetup. */
int verity_format(int dirfd, const char *data_rel, const char *tree_rel, struct payload_verity *v,
		  struct diag *d);

/*
 * Activation (the anchor, on the appliance): needs device-mapper and the
 * dm-verity target, which the host test machines lack.
 *
 * The mapping's name: verity_mapping_name (manifest.h).
 */

/* Is device-mapper with the verity target usable here? (/dev/mapper/control
 * exists and libcryptsetup can talk to the kernel.) */
bool verity_have_dm(void);

/*
 * Activate dirfd/data_rel (its hash tree dirfd/tree_rel) as the read-only
 * dm-verity mapping name with v's parameters and the signed root hash.
 * Nothing is read beyond the files' sizes: the kernel checks every block
 * against the tree, and the tree up to the root hash, when it is read.
 * Error mode: the default one, EIO: a corrupted block fails the read that
 * met it (docs/design.md, "dm-verity error mode"); no restart, no panic.
 * Files reach device-mapper through loop devices libcryptsetup attaches
 * (autoclear: they go with the mapping).
 * Errors: the data is not a regular file of v->data_blocks blocks, or the
 * tree not a regular file: -EINVAL (DIAG_CONTENT); a mapping of that name
 * exists: -EEXIST (DIAG_TRUST); no device-mapper: -ENODEV; others -errno
 * (DIAG_INTERNAL) with libcryptsetup's code.
 */
int verity_activate(int dirfd, const char *data_rel, const char *tree_rel,
		    const struct payload_verity *v, const char *name, struct diag *d);

/* Remove the mapping name, if any (best effort; 0 or -errno). */
int verity_deactivate(const char *name);
