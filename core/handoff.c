/* SPDX-License-Identifier: Apache-2.0 */
#include "handoff.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "jsonfield.h"
#include "manifest.h"

#define DOC "handoff"

static int str_into(json_object *o, const char *key, const char *where, char *out, size_t size,
		    bool nullable, struct diag *d)
{
	json_object *v;
	const char *s;

	if (nullable && json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_null)) {
		out[0] = 0;
		return 0;
	}
	int r = jf_get(o, key, json_type_string, DOC, where, &v, d);
	if (r < 0)
		return r;
	s = json_object_get_string(v);
	if (strlen(s) >= size || strlen(s) != (size_t)json_object_get_string_len(v))
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s%s%s: too long", DOC, where,
				where[0] ? "." : "", key);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* A verity device: /dev/mapper/NAME, NAME one plain component. */
static bool mapper_path(const char *s)
{
	const char *n = s + strlen(VERITY_MAPPER_DIR);

	return strncmp(s, VERITY_MAPPER_DIR, strlen(VERITY_MAPPER_DIR)) == 0 && n[0] &&
	       strcmp(n, ".") != 0 && strcmp(n, "..") != 0 && !strchr(n, '/');
}

/* bundles[i].disks (version 2): how each disk payload was verified. */
static int parse_disks(json_object *b, const char *bwhere, struct handoff_bundle *hb,
		       struct diag *d)
{
	static const char *const members[] = {"payload", "method", "device", "root_hash", NULL};
	json_object *arr, *v;
	int r;

	r = jf_get(b, "disks", json_type_array, DOC, bwhere, &arr, d);
	if (r < 0)
		return r;
	if (json_object_array_length(arr) > HANDOFF_MAX_DISKS)
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s.disks: too many", DOC, bwhere);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		struct handoff_disk *hd = &hb->disks[hb->n_disks++];
		char where[64];

		snprintf(where, sizeof(where), "%s.disks[%zu]", bwhere, i);
		if (!json_object_is_type(o, json_type_object))
			return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s: expected an object",
					DOC, where);
		if ((r = jf_only(o, members, DOC, where, d)) < 0 ||
		    (r = str_into(o, "payload", where, hd->payload, sizeof(hd->payload), false,
				  d)) < 0 ||
		    (r = jf_get(o, "method", json_type_string, DOC, where, &v, d)) < 0)
			return r;
		if (strcmp(json_object_get_string(v), "verity") == 0) {
			hd->method = HANDOFF_VERITY;
			if ((r = str_into(o, "device", where, hd->device, sizeof(hd->device), false,
					  d)) < 0 ||
			    (r = jf_hex(o, "root_hash", DOC, where, hd->root_hash, 32, d)) < 0)
				return r;
			if (!mapper_path(hd->device))
				return diag_set(d, DIAG_MALFORMED, EBADMSG,
						"%s: %s.device: %s is not a device-mapper device "
						"(/dev/mapper/NAME)",
						DOC, where, hd->device);
		} else if (strcmp(json_object_get_string(v), "full-hash") == 0) {
			hd->method = HANDOFF_FULL_HASH;
			if (!json_object_object_get_ex(o, "device", &v) ||
			    !json_object_is_type(v, json_type_null) ||
			    !json_object_object_get_ex(o, "root_hash", &v) ||
			    !json_object_is_type(v, json_type_null))
				return diag_set(d, DIAG_MALFORMED, EBADMSG,
						"%s: %s: a full-hash disk has null device and "
						"root_hash",
						DOC, where);
		} else
			return diag_set(d, DIAG_MALFORMED, EBADMSG,
					"%s: %s.method: expected \"verity\" or \"full-hash\"", DOC,
					where);
	}
	return 0;
}

/* One entry of bundles[]; version 1 knew only full hashing and had no
 * disks member. */
static int parse_bundle(json_object *b, size_t i, uint64_t version, struct handoff_bundle *hb,
			struct diag *d)
{
	static const char *const members[] = {"name",  "path", "version", "manifest_sha256",
					      "disks", NULL};
	char where[32];
	int r;

	snprintf(where, sizeof(where), "bundles[%zu]", i);
	if (!json_object_is_type(b, json_type_object))
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s: expected an object", DOC,
				where);
	if ((r = jf_only(b, members, DOC, where, d)) < 0 ||
	    (r = str_into(b, "name", where, hb->name, sizeof(hb->name), false, d)) < 0 ||
	    (r = str_into(b, "path", where, hb->path, sizeof(hb->path), false, d)) < 0 ||
	    (r = jf_u64(b, "version", DOC, where, &hb->version, d)) < 0 ||
	    (r = jf_hex(b, "manifest_sha256", DOC, where, hb->manifest_sha256, 32, d)) < 0)
		return r;
	if (version == 1 && json_object_object_get_ex(b, "disks", NULL))
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s.disks: not in version 1", DOC,
				where);
	if (version >= 2)
		return parse_disks(b, where, hb, d);
	return 0;
}

/* One entry of volumes[]: a mapper name exactly when activated. */
static int parse_volume(json_object *b, size_t i, struct handoff_volume *hv, struct diag *d)
{
	static const char *const members[] = {"name",	"uuid",	     "device",
					      "mapper", "activated", NULL};
	json_object *v;
	char where[32];
	int r;

	snprintf(where, sizeof(where), "volumes[%zu]", i);
	if (!json_object_is_type(b, json_type_object))
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s: expected an object", DOC,
				where);
	if ((r = jf_only(b, members, DOC, where, d)) < 0 ||
	    (r = str_into(b, "name", where, hv->name, sizeof(hv->name), false, d)) < 0 ||
	    (r = str_into(b, "uuid", where, hv->uuid, sizeof(hv->uuid), false, d)) < 0 ||
	    (r = str_into(b, "device", where, hv->device, sizeof(hv->device), false, d)) < 0 ||
	    (r = str_into(b, "mapper", where, hv->mapper, sizeof(hv->mapper), true, d)) < 0 ||
	    (r = jf_get(b, "activated", json_type_boolean, DOC, where, &v, d)) < 0)
		return r;
	hv->activated = json_object_get_boolean(v);
	if (hv->activated != (hv->mapper[0] != 0))
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s: mapper and activated disagree",
				DOC, where);
	return 0;
}

int handoff_parse(const char *buf, size_t len, struct handoff *ret, struct diag *d)
{
	static const char *const members[] = {
	    "format",	     "format_version", "boot_id", "policy_serial",
	    "policy_sha256", "pcr15",	       "pcr13",	  "eventlog",
	    "bundles",	     "volumes",	       NULL};
	struct handoff h;
	json_object *o = NULL, *arr;
	uint64_t version = 0;
	int r;

	memset(&h, 0, sizeof(h));
	if (len > 65536)
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: larger than 64 KiB", DOC);
	r = jf_parse(buf, len, 6, DOC, &o, d);
	if (r < 0)
		return r;
	if ((r = jf_only(o, members, DOC, "", d)) < 0 ||
	    (r = jf_str_eq(o, "format", "sealboot-handoff", DOC, "", d)) < 0 ||
	    (r = jf_u64(o, "format_version", DOC, "", &version, d)) < 0)
		goto out;
	h.format_version = (unsigned)version;
	if (version != 1 && version != 2) {
		r = diag_set(d, DIAG_MALFORMED, EBADMSG,
			     "%s: format_version %" PRIu64 " is not supported", DOC, version);
		goto out;
	}
	if ((r = str_into(o, "boot_id", "", h.boot_id, sizeof(h.boot_id), false, d)) < 0 ||
	    (r = jf_u64(o, "policy_serial", DOC, "", &h.policy_serial, d)) < 0 ||
	    (r = jf_hex(o, "policy_sha256", DOC, "", h.policy_sha256, 32, d)) < 0 ||
	    (r = jf_hex(o, "pcr15", DOC, "", h.pcr15, 32, d)) < 0 ||
	    (r = jf_hex(o, "pcr13", DOC, "", h.pcr13, 32, d)) < 0 ||
	    /* Never a path: the log sits next to the handoff. */
	    (r = jf_str_eq(o, "eventlog", "eventlog.jsonl", DOC, "", d)) < 0 ||
	    (r = jf_get(o, "bundles", json_type_array, DOC, "", &arr, d)) < 0)
		goto out;
	if (json_object_array_length(arr) > HANDOFF_MAX_BUNDLES) {
		r = diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: too many bundles", DOC);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if ((r = parse_bundle(json_object_array_get_idx(arr, i), i, version,
				      &h.bundles[h.n_bundles++], d)) < 0)
			goto out;
	if ((r = jf_get(o, "volumes", json_type_array, DOC, "", &arr, d)) < 0)
		goto out;
	if (json_object_array_length(arr) > HANDOFF_MAX_VOLUMES) {
		r = diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: too many volumes", DOC);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if ((r = parse_volume(json_object_array_get_idx(arr, i), i,
				      &h.volumes[h.n_volumes++], d)) < 0)
			goto out;
	*ret = h;
out:
	json_object_put(o);
	return r;
}

static int differs(struct diag *d, const char *what)
{
	return diag_set(d, DIAG_TRUST, EBADE, "the handoff does not match what was measured: %s",
			what);
}

/* Each disk's method is the measured one: a verity disk's event (its root
 * hash and device) stands in the log before the cap (extends after the cap
 * are not the anchor's); a full-hash disk has none. */
static int check_disks(const struct handoff *h, const struct eventlog *log, size_t cap,
		       struct diag *d)
{
	char buf[400];

	for (size_t b = 0; b < h->n_bundles; b++)
		for (size_t k = 0; k < h->bundles[b].n_disks; k++) {
			const struct handoff_bundle *hb = &h->bundles[b];
			const struct handoff_disk *hd = &hb->disks[k];
			bool seen = false, any = false;

			for (size_t i = 0; i < cap; i++) {
				if (log->r[i].pcr != EVENTLOG_PCR_LOG)
					continue;
				any = any ||
				      eventlog_is_verity_of(log->r[i].text, hb->name, hd->payload);
				seen = seen ||
				       eventlog_is_verity(log->r[i].text, hb->name, hd->payload,
							  hd->root_hash, hd->device);
			}
			if (hd->method == HANDOFF_VERITY && !seen)
				snprintf(buf, sizeof(buf),
					 "bundle %s: disk %s was not activated by the anchor as %s "
					 "with that root hash",
					 hb->name, hd->payload, hd->device);
			else if (hd->method == HANDOFF_FULL_HASH && any)
				snprintf(buf, sizeof(buf),
					 "bundle %s: disk %s was activated as a dm-verity device, "
					 "the handoff says full-hash",
					 hb->name, hd->payload);
			else
				continue;
			return differs(d, buf);
		}
	return 0;
}

int handoff_check(const struct handoff *h, const char *boot_id, const struct eventlog *log,
		  const struct tpmpolicy_pcr_values *now, const uint8_t policy_bytes_sha256[32],
		  struct diag *d)
{
	struct tpmpolicy_pcr_values replay;
	const struct eventlog_record *last15 = NULL;
	char buf[200];
	bool policy_seen = false;
	int r;

	if (strcmp(h->boot_id, boot_id) != 0)
		return diag_set(d, DIAG_TRUST, ESTALE,
				"the handoff is from another boot (%s, this is %s)", h->boot_id,
				boot_id);
	eventlog_replay(log, &replay);
	if (CRYPTO_memcmp(replay.v[EVENTLOG_PCR_SEAL], now->v[EVENTLOG_PCR_SEAL], 32) ||
	    CRYPTO_memcmp(replay.v[EVENTLOG_PCR_LOG], now->v[EVENTLOG_PCR_LOG], 32))
		return differs(d, "the event log does not replay to the TPM's PCRs 13 and 15 "
				  "(something was measured after the anchor)");
	if (CRYPTO_memcmp(replay.v[EVENTLOG_PCR_SEAL], h->pcr15, 32) ||
	    CRYPTO_memcmp(replay.v[EVENTLOG_PCR_LOG], h->pcr13, 32))
		return differs(d, "its PCR values are not the event log's");
	for (size_t i = 0; i < log->n; i++)
		if (log->r[i].pcr == EVENTLOG_PCR_SEAL)
			last15 = &log->r[i];
	if (!last15 || !eventlog_is_cap(last15->text))
		return differs(d, "the event log does not end with the anchor's cap");
	if (CRYPTO_memcmp(h->policy_sha256, policy_bytes_sha256, 32) != 0)
		return differs(d, "the policy file is not the one the anchor verified");
	for (size_t i = 0; i < log->n; i++)
		if (eventlog_is_policy(log->r[i].text, h->policy_serial, h->policy_sha256))
			policy_seen = true;
	if (!policy_seen)
		return differs(d, "the event log never measured this policy");
	for (size_t b = 0; b < h->n_bundles; b++) {
		bool seen = false;

		for (size_t i = 0; i < log->n && !seen; i++)
			seen = eventlog_is_content(log->r[i].text, h->bundles[b].name,
						   h->bundles[b].version,
						   h->bundles[b].manifest_sha256);
		if (!seen) {
			snprintf(buf, sizeof(buf), "bundle %s was not measured as the handoff says",
				 h->bundles[b].name);
			return differs(d, buf);
		}
	}
	r = check_disks(h, log, (size_t)(last15 - log->r), d);
	if (r < 0)
		return r;
	for (size_t v = 0; v < h->n_volumes; v++) {
		bool seen = false;

		for (size_t i = 0; i < log->n && !seen; i++)
			seen = eventlog_is_volume(log->r[i].text, h->volumes[v].name,
						  h->volumes[v].uuid);
		if (!seen) {
			snprintf(buf, sizeof(buf), "volume %s was not opened by the anchor",
				 h->volumes[v].name);
			return differs(d, buf);
		}
	}
	return 0;
}
