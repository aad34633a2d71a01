/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdint.h>
#include <sys/types.h>

#include "diag.h"
#include "manifest.h"

/*
 * The launcher's device-mapper adapter (the kernel's DM ioctls through
 * /dev/mapper/control, no library): the live table of a verity device the
 * handoff names, checked against the signed manifest before QEMU gets the
 * device. Root on the box could otherwise reload the mapping's table (or
 * put another block node at its /dev/mapper path) after the anchor made it.
 */

/*
 * The table a verity mapping must have (pure; the kernel's text, as
 * `dmsetup table` prints it): one target from sector 0 over the whole
 * payload, type "verity", version 1, 4096-byte data and hash blocks, the
 * signed block count, sha256, the signed root hash and salt, and no
 * optional arguments (the anchor sets none: the error mode is EIO, and
 * ignore_corruption, restart/panic_on_corruption or ignore_zero_blocks are
 * not the anchor's). 0 or -EBADE (DIAG_TRUST) naming the first difference.
 */
int dmverity_check_table(uint64_t start, uint64_t length, const char *type, const char *params,
			 const struct payload_verity *v, struct diag *d);

/*
 * The live mapping name: the kernel's table checked with
 * dmverity_check_table, and path (its /dev/mapper node) a block device with
 * the mapping's device number. Errors: -ENODEV (DIAG_TRUST) no such mapping
 * or no device-mapper; -EBADE (DIAG_TRUST) a table or node that is not
 * the anchor's; -errno (DIAG_INTERNAL) for the ioctl.
 */
int dmverity_check(const char *name, const char *path, const struct payload_verity *v,
		   struct diag *d);
