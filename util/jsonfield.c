/* SPDX-License-Identifier: Apache-2.0 */
#include "jsonfield.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "jsonstrict.h"
#include "text.h"

const char *jf_type_name(json_type t)
{
	switch (t) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a fractional number";
	case json_type_int:
		return "an integer";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "something else";
}

int jf_fail(struct diag *d, int err, const char *doc, const char *fmt, ...)
{
	char msg[440];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return diag_set(d, DIAG_MALFORMED, err, "%s: %s", doc, msg);
}

/* "doc: where.key: why", leaving out what is empty. */
static int bad(struct diag *d, const char *doc, const char *where, const char *key, const char *fmt,
	       ...) __attribute__((format(printf, 5, 6)));
static int bad(struct diag *d, const char *doc, const char *where, const char *key, const char *fmt,
	       ...)
{
	char why[440];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!where[0] && !key[0])
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s", doc, why);
	return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s%s%s: %s", doc, where,
			where[0] && key[0] ? "." : "", key, why);
}

int jf_parse(const char *buf, size_t len, unsigned max_depth, const char *doc, json_object **ret,
	     struct diag *d)
{
	struct diag jd = {0};
	struct json_tokener *tok;
	json_object *o;
	size_t i = 0;
	int r;

	r = json_strict_check(buf, len, max_depth, &jd);
	if (r < 0)
		return diag_set(d, jd.cls, -r, "%s: %s", doc, jd.msg);
	/* Well-formed JSON now, so its first byte tells its type; json-c
	 * would wait for more input after a bare number. */
	while (i < len && strchr(" \t\r\n", buf[i]))
		i++;
	if (buf[i] != '{')
		return jf_fail(d, EBADMSG, doc, "expected an object at the top, got %s",
			       buf[i] == '['			? "an array"
			       : buf[i] == '"'			? "a string"
			       : buf[i] == 'n'			? "null"
			       : buf[i] == 't' || buf[i] == 'f' ? "a boolean"
								: "a number");
	tok = json_tokener_new_ex((int)max_depth + 1);
	if (!tok)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		r = jf_fail(d, EBADMSG, doc, "not valid JSON (%s)",
			    json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		json_object_put(o);
		return r;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(o, json_type_object)) {
		r = jf_fail(d, EBADMSG, doc, "expected an object at the top, got %s",
			    jf_type_name(json_object_get_type(o)));
		json_object_put(o);
		return r;
	}
	*ret = o;
	return 0;
}

int jf_only(json_object *o, const char *const *allowed, const char *doc, const char *where,
	    struct diag *d)
{
	json_object_object_foreach(o, key, val)
	{
		bool ok = false;

		(void)val;
		for (size_t i = 0; allowed[i]; i++)
			ok = ok || !strcmp(key, allowed[i]);
		if (!ok) {
			char buf[TEXT_SHOWN_SIZE(64)];

			return bad(d, doc, where, "", "unknown member \"%s\"",
				   text_shown(key, 64, TEXT_ESCAPED, buf));
		}
	}
	return 0;
}

int jf_get(json_object *o, const char *key, json_type want, const char *doc, const char *where,
	   json_object **ret, struct diag *d)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return bad(d, doc, where, key, "missing");
	if (!json_object_is_type(v, want))
		return bad(d, doc, where, key, "expected %s, got %s", jf_type_name(want),
			   jf_type_name(json_object_get_type(v)));
	*ret = v;
	return 0;
}

int jf_get_opt(json_object *o, const char *key, json_type want, const char *doc, const char *where,
	       json_object **ret, struct diag *d)
{
	if (!json_object_object_get_ex(o, key, NULL)) {
		*ret = NULL;
		return 0;
	}
	return jf_get(o, key, want, doc, where, ret, d);
}

int jf_u64(json_object *o, const char *key, const char *doc, const char *where, uint64_t *ret,
	   struct diag *d)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return bad(d, doc, where, key, "missing");
	if (!json_object_is_type(v, json_type_int))
		return bad(d, doc, where, key, "expected an unsigned integer, got %s",
			   jf_type_name(json_object_get_type(v)));
	/* json_strict_check() refused what json-c cannot hold exactly. */
	if (json_object_get_int64(v) < 0)
		return bad(d, doc, where, key, "expected an unsigned integer, got a negative one");
	*ret = json_object_get_uint64(v);
	return 0;
}

int jf_str_eq(json_object *o, const char *key, const char *want, const char *doc, const char *where,
	      struct diag *d)
{
	json_object *v;
	int r = jf_get(o, key, json_type_string, doc, where, &v, d);

	if (r < 0)
		return r;
	if (strcmp(json_object_get_string(v), want) != 0)
		return bad(d, doc, where, key, "expected \"%s\"", want);
	return 0;
}

int jf_hex(json_object *o, const char *key, const char *doc, const char *where, uint8_t *out,
	   size_t n, struct diag *d)
{
	json_object *v;
	int r = jf_get(o, key, json_type_string, doc, where, &v, d);

	if (r < 0)
		return r;
	if (hex_decode(json_object_get_string(v), out, n) < 0)
		return bad(d, doc, where, key, "expected %zu lowercase hex digits", 2 * n);
	return 0;
}
