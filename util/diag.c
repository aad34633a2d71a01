/* SPDX-License-Identifier: Apache-2.0 */
#include "diag.h"

#include <stdio.h>

int diag_set(struct diag *d, enum diag_class cls, int err, const char *fmt, ...)
{
	va_list ap;

	if (d && d->cls == DIAG_NONE) {
		d->cls = cls;
		va_start(ap, fmt);
		vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
		va_end(ap);
	}
	return -err;
}

const char *diag_class_name(enum diag_class cls)
{
	switch (cls) {
	case DIAG_NONE:
		return "ok";
	case DIAG_INTERNAL:
		return "internal";
	case DIAG_USAGE:
		return "usage";
	case DIAG_SIGNATURE:
		return "signature";
	case DIAG_TRUST:
		return "trust";
	case DIAG_MALFORMED:
		return "malformed";
	case DIAG_CONTENT:
		return "content";
	case DIAG_EXPIRED:
		return "expired";
	}
	return "internal";
}

int diag_exit_code(enum diag_class cls)
{
	switch (cls) {
	case DIAG_NONE:
		return 0;
	case DIAG_USAGE:
		return 2;
	case DIAG_SIGNATURE:
		return 3;
	case DIAG_TRUST:
		return 4;
	case DIAG_MALFORMED:
		return 5;
	case DIAG_CONTENT:
		return 6;
	case DIAG_EXPIRED:
		return 7;
	case DIAG_INTERNAL:
		break;
	}
	return 1;
}
