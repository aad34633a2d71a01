/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/*
 * Strict member access for sealboot's small JSON documents (LUKS token, PCR
 * policy, handoff, status). Errors are one line, class DIAG_MALFORMED,
 * -EBADMSG, and name the document and member: "pcr policy: serial: expected
 * an unsigned integer, got a string". where is "" at the top level or a
 * member path such as "volumes[1]".
 */

/* "a string", "an integer", ... for messages. */
const char *jf_type_name(json_type t);

/* "doc: <formatted>", class DIAG_MALFORMED, returns -err: a document's own
 * refusals (manifest.c and policy.c wrap it as bad() and invalid()). */
int jf_fail(struct diag *d, int err, const char *doc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* json_strict_check() then json-c in strict mode; the text must be one
 * object ("doc: expected an object at the top, got an array", "doc: not
 * valid JSON (...)"). *ret is owned by the caller (json_object_put). */
int jf_parse(const char *buf, size_t len, unsigned max_depth, const char *doc, json_object **ret,
	     struct diag *d);

/* Every member of o is in allowed (NULL-terminated). */
int jf_only(json_object *o, const char *const *allowed, const char *doc, const char *where,
	    struct diag *d);

/* A required member of type want. */
int jf_get(json_object *o, const char *key, json_type want, const char *doc, const char *where,
	   json_object **ret, struct diag *d);

/* The same for an optional member: *ret is NULL when it is absent. */
int jf_get_opt(json_object *o, const char *key, json_type want, const char *doc, const char *where,
	       json_object **ret, struct diag *d);

int jf_u64(json_object *o, const char *key, const char *doc, const char *where, uint64_t *ret,
	   struct diag *d);

/* A string member that equals want exactly. */
int jf_str_eq(json_object *o, const char *key, const char *want, const char *doc, const char *where,
	      struct diag *d);

/* A string member of exactly 2n lowercase hex digits. */
int jf_hex(json_object *o, const char *key, const char *doc, const char *where, uint8_t *out,
	   size_t n, struct diag *d);
