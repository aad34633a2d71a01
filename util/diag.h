/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdarg.h>

/*
 * A diagnosis: why an operation failed, in one line a person can act on, plus
 * the class of failure that a CLI turns into its documented exit code. Library
 * code fills one in where the failure is detected (where the most is known)
 * and returns -errno; the program prints it once. The first diagnosis set
 * wins, so a low-level reason is not overwritten by a vaguer caller.
 */
enum diag_class {
	DIAG_NONE = 0,
	DIAG_INTERNAL,	/* I/O, memory, unexpected library failure */
	DIAG_USAGE,	/* the caller asked for something impossible */
	DIAG_SIGNATURE, /* a signature does not verify / is not a signature */
	DIAG_TRUST,	/* signer not trusted: chain, validity, key usage */
	DIAG_MALFORMED, /* signed content is not a valid document */
	DIAG_CONTENT,	/* content differs from what was signed */
	DIAG_EXPIRED,	/* the document itself is no longer (or not yet) valid */
};

struct diag {
	enum diag_class cls;
	char msg[512];
};

/* Set the diagnosis unless one is already set. Returns -err (pass a positive
 * errno) so a caller can write: return diag_set(d, DIAG_X, EBADMSG, "..."); */
int diag_set(struct diag *d, enum diag_class cls, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const char *diag_class_name(enum diag_class cls);

/* The exit status the tools give each class (sealboot-sign(1),
 * sealboot-admin(8)): 0 none, 1 internal, 2 usage, 3 signature, 4 trust,
 * 5 malformed, 6 content, 7 expired. */
int diag_exit_code(enum diag_class cls);
