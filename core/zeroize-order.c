/* SPDX-License-Identifier: Apache-2.0 */
#include "zeroize-order.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "jsonfield.h"
#include "jsonout.h"
#include "text.h"

#define CHALLENGE_FORMAT "sealboot-zeroize-challenge"
#define ORDER_FORMAT "sealboot-zeroize-order"
#define FORMAT_VERSION 1

static bool dm_name_valid(const char *s)
{
	return text_name_valid(s, POLICY_DM_NAME_MAX, TEXT_NAME_DM);
}

static int names_valid(const char (*v)[POLICY_DM_NAME_MAX + 1], size_t n)
{
	if (n > POLICY_MAX_VOLUMES)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!dm_name_valid(v[i]))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(v[i], v[j]))
				return -EINVAL;
	}
	return 0;
}

static void put_names(FILE *f, const char (*v)[POLICY_DM_NAME_MAX + 1], size_t n)
{
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		json_write_string(f, v[i]);
	}
	fputc(']', f);
}

/* The members both documents open with, in this order. */
static void put_head(FILE *f, const char *format, const uint8_t appliance_id[TPMPOLICY_NAME_SIZE],
		     uint64_t counter, const uint8_t storage_name[TPMPOLICY_NAME_SIZE])
{
	char hex[ZORDER_NAME_HEX + 1];

	fputs("{\"format\":", f);
	json_write_string(f, format);
	fprintf(f, ",\"format_version\":%d,\"appliance_id\":", FORMAT_VERSION);
	hex_encode(appliance_id, TPMPOLICY_NAME_SIZE, hex);
	json_write_string(f, hex);
	fprintf(f, ",\"counter\":%" PRIu64 ",\"storage_name\":", counter);
	hex_encode(storage_name, TPMPOLICY_NAME_SIZE, hex);
	json_write_string(f, hex);
}

/* Close the memstream; its buffer is only final after fclose. */
static int finish(FILE *f, char **buf, size_t *len, char **ret, size_t *ret_len)
{
	if (fclose(f) != 0) {
		free(*buf);
		return -ENOMEM;
	}
	*ret = *buf;
	*ret_len = *len;
	return 0;
}

int zorder_challenge_serialize(const struct zorder_challenge *c, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (names_valid(c->volumes, c->n_volumes) < 0)
		return -EINVAL;
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	put_head(f, CHALLENGE_FORMAT, c->appliance_id, c->counter, c->storage_name);
	fprintf(f, ",\"policy_serial\":%" PRIu64 ",\"volumes\":", c->policy_serial);
	put_names(f, c->volumes, c->n_volumes);
	fprintf(f, ",\"time\":%" PRId64 "}\n", c->time);
	return finish(f, &buf, &len, ret, ret_len);
}

int zorder_serialize(const struct zorder *o, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (o->n_volumes == 0 || names_valid(o->volumes, o->n_volumes) < 0 || o->not_after < 0)
		return -EINVAL;
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	put_head(f, ORDER_FORMAT, o->appliance_id, o->counter, o->storage_name);
	fprintf(f, ",\"not_after\":%" PRId64 ",\"clear_tpm\":%s,\"volumes\":", o->not_after,
		o->clear_tpm ? "true" : "false");
	put_names(f, o->volumes, o->n_volumes);
	fputs("}\n", f);
	return finish(f, &buf, &len, ret, ret_len);
}

/* The members both documents share, in a parsed object. */
static int get_names(json_object *o, const char *doc, bool need_one,
		     char (*out)[POLICY_DM_NAME_MAX + 1], size_t *n, struct diag *d)
{
	json_object *arr;
	size_t len;
	int r;

	r = jf_get(o, "volumes", json_type_array, doc, "", &arr, d);
	if (r < 0)
		return r;
	len = json_object_array_length(arr);
	if (len > POLICY_MAX_VOLUMES || (need_one && len == 0))
		return jf_fail(d, EBADMSG, doc, "volumes: %s 1 to %d names",
			       len ? "more than" : "expected", POLICY_MAX_VOLUMES);
	for (size_t i = 0; i < len; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		const char *s;

		if (!json_object_is_type(v, json_type_string))
			return jf_fail(d, EBADMSG, doc, "volumes[%zu]: expected a string, got %s",
				       i, jf_type_name(json_object_get_type(v)));
		s = json_object_get_string(v);
		if (!dm_name_valid(s))
			return jf_fail(d, EBADMSG, doc,
				       "volumes[%zu]: not a volume name ([A-Za-z0-9_-], 1 to %d)",
				       i, POLICY_DM_NAME_MAX);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(out[j], s))
				return jf_fail(d, EBADMSG, doc, "volumes[%zu]: \"%s\" named twice",
					       i, s);
		snprintf(out[i], POLICY_DM_NAME_MAX + 1, "%s", s);
	}
	*n = len;
	return 0;
}

static int get_i64(json_object *o, const char *key, const char *doc, int64_t *ret, struct diag *d)
{
	uint64_t v;
	int r = jf_u64(o, key, doc, "", &v, d);

	if (r < 0)
		return r;
	if (v > INT64_MAX)
		return jf_fail(d, EBADMSG, doc, "%s: out of range", key);
	*ret = (int64_t)v;
	return 0;
}

static int head(json_object *o, const char *const *members, const char *format, const char *doc,
		struct diag *d)
{
	uint64_t version = 0;
	int r;

	if ((r = jf_only(o, members, doc, "", d)) < 0 ||
	    (r = jf_str_eq(o, "format", format, doc, "", d)) < 0 ||
	    (r = jf_u64(o, "format_version", doc, "", &version, d)) < 0)
		return r;
	if (version != FORMAT_VERSION)
		return jf_fail(d, EBADMSG, doc, "format_version %" PRIu64 " is not supported",
			       version);
	return 0;
}

int zorder_challenge_parse(const char *buf, size_t len, struct zorder_challenge *ret,
			   struct diag *d)
{
	static const char *const members[] = {"format",	 "format_version", "appliance_id",
					      "counter", "storage_name",   "policy_serial",
					      "volumes", "time",	   NULL};
	static const char *doc = "zeroize challenge";
	struct zorder_challenge c = {0};
	json_object *o = NULL;
	int r;

	if (len > ZORDER_MAX_BYTES)
		return jf_fail(d, EBADMSG, doc, "larger than %d bytes", ZORDER_MAX_BYTES);
	r = jf_parse(buf, len, 3, doc, &o, d);
	if (r < 0)
		return r;
	if ((r = head(o, members, CHALLENGE_FORMAT, doc, d)) == 0 &&
	    (r = jf_hex(o, "appliance_id", doc, "", c.appliance_id, TPMPOLICY_NAME_SIZE, d)) == 0 &&
	    (r = jf_u64(o, "counter", doc, "", &c.counter, d)) == 0 &&
	    (r = jf_hex(o, "storage_name", doc, "", c.storage_name, TPMPOLICY_NAME_SIZE, d)) == 0 &&
	    (r = jf_u64(o, "policy_serial", doc, "", &c.policy_serial, d)) == 0 &&
	    (r = get_names(o, doc, false, c.volumes, &c.n_volumes, d)) == 0)
		r = get_i64(o, "time", doc, &c.time, d);
	json_object_put(o);
	if (r == 0)
		*ret = c;
	return r;
}

int zorder_parse(const char *buf, size_t len, struct zorder *ret, struct diag *d)
{
	static const char *const members[] = {"format",	   "format_version", "appliance_id",
					      "counter",   "storage_name",   "not_after",
					      "clear_tpm", "volumes",	     NULL};
	static const char *doc = "zeroize order";
	struct zorder z = {0};
	json_object *o = NULL, *v;
	char *canon = NULL;
	size_t canon_len = 0;
	int r;

	if (len > ZORDER_MAX_BYTES)
		return jf_fail(d, EBADMSG, doc, "larger than %d bytes", ZORDER_MAX_BYTES);
	r = jf_parse(buf, len, 3, doc, &o, d);
	if (r < 0)
		return r;
	if ((r = head(o, members, ORDER_FORMAT, doc, d)) == 0 &&
	    (r = jf_hex(o, "appliance_id", doc, "", z.appliance_id, TPMPOLICY_NAME_SIZE, d)) == 0 &&
	    (r = jf_u64(o, "counter", doc, "", &z.counter, d)) == 0 &&
	    (r = jf_hex(o, "storage_name", doc, "", z.storage_name, TPMPOLICY_NAME_SIZE, d)) == 0 &&
	    (r = get_i64(o, "not_after", doc, &z.not_after, d)) == 0 &&
	    (r = jf_get(o, "clear_tpm", json_type_boolean, doc, "", &v, d)) == 0) {
		z.clear_tpm = json_object_get_boolean(v);
		r = get_names(o, doc, true, z.volumes, &z.n_volumes, d);
	}
	json_object_put(o);
	if (r < 0)
		return r;
	r = zorder_serialize(&z, &canon, &canon_len);
	if (r < 0)
		return diag_set(d, DIAG_INTERNAL, -r, "%s: cannot serialize", doc);
	if (canon_len != len || memcmp(canon, buf, len) != 0)
		r = jf_fail(
		    d, EBADMSG, doc,
		    "not in canonical form (as sealboot-admin zeroize-authorize writes it)");
	free(canon);
	if (r == 0)
		*ret = z;
	return r;
}

bool zorder_has_volume(const struct zorder *o, const char *name)
{
	for (size_t i = 0; i < o->n_volumes; i++)
		if (!strcmp(o->volumes[i], name))
			return true;
	return false;
}
