/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include "diag.h"
#include "manifest.h"

/*
 * dm-verity hash trees for disk payloads, through libcryptsetup (the only
 * module of images/ with cryptsetup headers). The parameters are those
 * bundle.md's version 2 fixes (manifest.h, struct payload_verity): hash
 * type 1, sha256, 4096-byte blocks, no superblock, the tree at offset 0 of
 * its own file. Everything here is userspace: no device-mapper needed.
 */

/* Write the hash tree of dirfd/data_rel to dirfd/tree_rel (replaced;
 * mode 0644) with a fresh random 32-byte salt, and fill v's data_blocks,
 * salt and root_hash (not hash_tree). The payload must be a regular file,
 * not empty, of a whole number of 4096-byte blocks. Errors: -EINVAL
 * (DIAG_USAGE) for the size, -errno (DIAG_INTERNAL) for I/O or
 * libcryptsetup. */
int verity_format(int dirfd, const char *data_rel, const char *tree_rel, struct payload_verity *v,
		  struct diag *d);
