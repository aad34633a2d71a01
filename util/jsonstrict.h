/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>

#include "diag.h"

/*
 * Gate in front of json-c for signed documents. json-c silently keeps the last
 * of duplicate member names and is lenient about UTF-8, so two verifiers could
 * read one signed text two ways. This pure checker accepts buf[0..len) only if
 * it is exactly one RFC 8259 JSON text (surrounding whitespace allowed) that
 * is valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF), holds no NUL byte and no \u0000 escape, no unpaired surrogate
 * escape, no duplicate member name in any object (compared after unescaping),
 * and nests at most max_depth arrays/objects.
 *
 * Returns 0, or -EBADMSG with d set (class DIAG_MALFORMED) to one line naming
 * the problem and its byte offset, e.g.
 *   "duplicate member name \"version\" at byte 57".
 */
int json_strict_check(const char *buf, size_t len, unsigned max_depth, struct diag *d);
