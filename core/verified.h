/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>

#include "diag.h"
#include "manifest.h"

/*
 * What the guest boots is what was verified. The anchor verified each
 * bundle's payloads at boot; anything may have happened to the files since.
 * So the launcher reads each payload it gives QEMU once more, hashing it
 * against the signed digest of the measured manifest as it reads:
 *  - kernel and initrd are copied, while being hashed, into a directory the
 *    launcher owns (RUN/launch/NAME/boot), and QEMU is given the copies: the
 *    bundle's files are never opened by QEMU, so a swap after this read does
 *    not reach the guest;
 *  - the command line is read into memory and hashed; the domain XML gets
 *    those bytes;
 *  - a disk image attached as a file is hashed in place (it is too big to
 *    copy; dm-verity is the way to not read it whole).
 * Every file is opened beneath the bundle directory without following a
 * symlink, must be a regular file of the signed size, and is read to EOF.
 */

/* Copy bundle_dirfd/p->path into dst_dirfd/name (replacing an old copy;
 * created O_EXCL, mode 0444), hashing it; the copy stays only when size and
 * digest are the signed ones. Errors: -EBADE (DIAG_TRUST) "payload P: ...
 * is not the file that was verified", -errno (DIAG_INTERNAL) for the copy. */
int verified_copy(int bundle_dirfd, const struct payload *p, int dst_dirfd, const char *name,
		  struct diag *d);

/* Read bundle_dirfd/p->path whole (at most max bytes) into *ret (NUL-
 * terminated, malloc'd), checked against the signed size and digest. */
int verified_read(int bundle_dirfd, const struct payload *p, size_t max, unsigned char **ret,
		  size_t *ret_len, struct diag *d);

/* Hash bundle_dirfd/p->path in place against the signed size and digest. */
int verified_check(int bundle_dirfd, const struct payload *p, struct diag *d);
