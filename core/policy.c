/* SPDX-License-Identifier: Apache-2.0 */
#include "policy.h"

#include <errno.h>
#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adminkey.h"
#include "jsonfield.h"
#include "jsonstrict.h"
#include "text.h"
#include "pem.h"

static const char *const network_names[_POLICY_NET_COUNT] = {
    [POLICY_NET_NONE] = "none",
    [POLICY_NET_ISOLATED] = "isolated",
    [POLICY_NET_BRIDGED] = "bridged",
};

static const char *const purposes[] = {"data", "images", "state", NULL};

const char *policy_network_name(enum policy_network n)
{
	return (unsigned)n < _POLICY_NET_COUNT ? network_names[n] : "?";
}

int policy_network_from_name(const char *s, enum policy_network *ret)
{
	for (unsigned i = 0; i < _POLICY_NET_COUNT; i++)
		if (!strcmp(s, network_names[i])) {
			*ret = (enum policy_network)i;
			return 0;
		}
	return -EINVAL;
}

/* --- the small grammars: util/text.h, with this format's limits --- */

static bool name_valid(const char *s)
{
	return text_name_valid(s, POLICY_NAME_MAX, TEXT_NAME);
}

static bool dm_name_valid(const char *s)
{
	return text_name_valid(s, POLICY_DM_NAME_MAX, TEXT_NAME_DM);
}

/* An interface name a libvirt domain can name safely: starts with a letter
 * or digit (never an option-looking "-x", never "." or ".."). */
static bool ifname_valid(const char *s)
{
	return text_name_valid(s, POLICY_IFNAME_MAX, TEXT_NAME_HOST);
}

bool policy_path_valid(const char *path)
{
	return text_path_valid(path, POLICY_PATH_MAX, TEXT_PATH_ABSOLUTE);
}

bool policy_uuid_valid(const char *s)
{
	if (strlen(s) != POLICY_UUID_LEN)
		return false;
	for (size_t i = 0; i < POLICY_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	return true;
}

static bool purpose_valid(const char *s)
{
	for (size_t i = 0; purposes[i]; i++)
		if (!strcmp(s, purposes[i]))
			return true;
	return false;
}

/* A string from the document, for a message: text_shown() (util/text.h). */
#define SHOWN_MAX 64
#define SHOWN_BUF TEXT_SHOWN_SIZE(SHOWN_MAX)

/* The bytes are not a valid policy: -EBADMSG; the struct is not (policy_validate()):
 * -EINVAL. One line, "policy: ...". */
#define bad(d, ...) jf_fail(d, EBADMSG, "policy", __VA_ARGS__)
#define invalid(d, ...) jf_fail(d, EINVAL, "policy", __VA_ARGS__)

static int oom(struct diag *d)
{
	return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
}

/*
 * A release CA: exactly one "CERTIFICATE" PEM block (whitespace around it
 * allowed, nothing else: PEM readers skip text before a BEGIN line and
 * after an END line, we do not), no PEM headers, DER without trailing
 * bytes, well-formed extensions, basicConstraints CA:TRUE. 0, -EINVAL with
 * why filled in, or -ENOMEM.
 */
static int check_ca(const char *pem, char *why, size_t why_len)
{
	char *name = NULL;
	unsigned char *data = NULL;
	const unsigned char *p;
	BASIC_CONSTRAINTS *bc = NULL;
	X509 *x = NULL;
	long dlen = 0;
	int r, crit = 0;

	r = pem_one_block(pem, strlen(pem), PEM_STRING_X509, &name, &data, &dlen);
	switch (r) {
	case 0:
		break;
	case -ENOMEM:
		return r;
	case -EMEDIUMTYPE: {
		char s[SHOWN_BUF];

		snprintf(why, why_len, "a PEM \"%s\" block, not a \"CERTIFICATE\"",
			 text_shown(name, 40, TEXT_ESCAPED, s));
		OPENSSL_free(name);
		return -EINVAL;
	}
	case -ENOMSG:
		snprintf(why, why_len,
			 "not a PEM certificate (expected -----BEGIN CERTIFICATE----- first)");
		return -EINVAL;
	case -EPROTO:
		snprintf(why, why_len, "PEM headers are not allowed in a certificate");
		return -EINVAL;
	case -E2BIG:
		snprintf(why, why_len,
			 "trailing data after the certificate (one certificate per entry)");
		return -EINVAL;
	default:
		snprintf(why, why_len, "not a PEM certificate (no valid PEM block)");
		return -EINVAL;
	}
	r = -EINVAL;
	p = data;
	x = d2i_X509(NULL, &p, dlen);
	if (!x || p != data + dlen) {
		snprintf(why, why_len, "not a valid DER X.509 certificate inside the PEM block");
		goto out;
	}
	if (X509_get_extension_flags(x) & EXFLAG_INVALID) {
		snprintf(why, why_len, "the certificate has malformed or duplicate extensions");
		goto out;
	}
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	if (!bc || !bc->ca) {
		snprintf(why, why_len,
			 "not a CA certificate (basicConstraints CA:TRUE is missing)");
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	BASIC_CONSTRAINTS_free(bc);
	X509_free(x);
	OPENSSL_free(data);
	return r;
}

#define PATH_RULE                                                                                  \
	"(absolute, components of A-Z a-z 0-9 . _ + -, no . or .., no doubled or trailing /, "     \
	"at most 255 bytes)"

static int validate_head(const struct policy *p, struct diag *d)
{
	if (p->format_version != POLICY_FORMAT_VERSION)
		return invalid(d, "unsupported format_version %u (this verifier knows %d)",
			       p->format_version, POLICY_FORMAT_VERSION);
	if (!p->appliance_class || !name_valid(p->appliance_class))
		return invalid(d, "appliance_class must be 1 to %d characters of A-Z a-z 0-9 . _ -",
			       POLICY_NAME_MAX);
	if (p->serial == 0)
		return invalid(d, "serial: must be at least 1");
	return 0;
}

static int validate_release_cas(const struct policy *p, struct diag *d)
{
	char why[200];
	int r;

	if (p->n_release_cas == 0 || !p->release_cas)
		return invalid(d, "release_cas: at least one release CA is needed");
	if (p->n_release_cas > POLICY_MAX_RELEASE_CAS)
		return invalid(d, "release_cas: %zu entries, more than the %d allowed",
			       p->n_release_cas, POLICY_MAX_RELEASE_CAS);
	for (size_t i = 0; i < p->n_release_cas; i++) {
		if (!p->release_cas[i])
			return invalid(d, "release_cas[%zu]: missing", i);
		r = check_ca(p->release_cas[i], why, sizeof(why));
		if (r == -ENOMEM)
			return oom(d);
		if (r < 0)
			return invalid(d, "release_cas[%zu]: %s", i, why);
	}
	return 0;
}

static int validate_bundles(const struct policy *p, struct diag *d)
{
	char s1[SHOWN_BUF];

	if (p->n_bundles == 0 || !p->bundles)
		return invalid(d, "bundles: at least one bundle is needed");
	if (p->n_bundles > POLICY_MAX_BUNDLES)
		return invalid(d, "bundles: %zu entries, more than the %d allowed", p->n_bundles,
			       POLICY_MAX_BUNDLES);
	for (size_t i = 0; i < p->n_bundles; i++) {
		const struct policy_bundle *b = &p->bundles[i];

		if (!b->name || !name_valid(b->name))
			return invalid(
			    d,
			    "bundles[%zu].name: \"%s\" must be 1 to %d characters of "
			    "A-Z a-z 0-9 . _ -",
			    i, text_shown(b->name ? b->name : "", SHOWN_MAX, TEXT_ESCAPED, s1),
			    POLICY_NAME_MAX);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(p->bundles[j].name, b->name))
				return invalid(d, "bundles[%zu].name: \"%s\" is listed twice", i,
					       b->name);
		if (!b->path || !policy_path_valid(b->path))
			return invalid(
			    d, "bundles[%zu].path: \"%s\" is not a valid path " PATH_RULE, i,
			    text_shown(b->path ? b->path : "", SHOWN_MAX, TEXT_ESCAPED, s1));
	}
	return 0;
}

static int validate_seal_pcrs(const struct policy *p, struct diag *d)
{
	char why[TPMPOLICY_WHY_MAX];

	if (tpmpolicy_pcr_mask_why(p->seal_pcrs, why, sizeof(why)) < 0)
		return invalid(d, "seal_pcrs: %s", why);
	if (!(p->seal_pcrs & TPMPOLICY_PCR(POLICY_PCR_SEAL)))
		return invalid(d, "seal_pcrs: must include PCR %d, the PCR sealboot measures into",
			       POLICY_PCR_SEAL);
	if (p->allow_unmeasured_boot &&
	    policy_check_measured_boot(p->seal_pcrs, &(struct diag){0}) == 0)
		return invalid(d, "allow_unmeasured_boot: seal_pcrs covers the boot before the "
				  "anchor; leave the member out");
	return 0;
}

static int validate_volume(const struct policy *p, size_t i, struct diag *d)
{
	const struct policy_volume *v = &p->volumes[i];
	char s1[SHOWN_BUF];

	if (!memchr(v->uuid, 0, sizeof(v->uuid)) || !policy_uuid_valid(v->uuid))
		return invalid(d, "volumes[%zu].uuid: not a canonical lowercase UUID", i);
	for (size_t j = 0; j < i; j++)
		if (!strcmp(p->volumes[j].uuid, v->uuid))
			return invalid(d, "volumes[%zu].uuid: %s is listed twice", i, v->uuid);
	if (!v->name || !dm_name_valid(v->name))
		return invalid(d,
			       "volumes[%zu].name: \"%s\" must be 1 to %d characters of "
			       "A-Z a-z 0-9 _ -",
			       i, text_shown(v->name ? v->name : "", SHOWN_MAX, TEXT_ESCAPED, s1),
			       POLICY_DM_NAME_MAX);
	for (size_t j = 0; j < i; j++)
		if (!strcmp(p->volumes[j].name, v->name))
			return invalid(d, "volumes[%zu].name: \"%s\" is listed twice", i, v->name);
	if (!v->purpose || !purpose_valid(v->purpose))
		return invalid(d,
			       "volumes[%zu].purpose: unknown purpose \"%s\" (data, "
			       "images, state)",
			       i, text_shown(v->purpose ? v->purpose : "", 32, TEXT_ESCAPED, s1));
	if (v->device && !policy_path_valid(v->device))
		return invalid(d, "volumes[%zu].device: \"%s\" is not a valid path " PATH_RULE, i,
			       text_shown(v->device, SHOWN_MAX, TEXT_ESCAPED, s1));
	return 0;
}

static int validate_volumes(const struct policy *p, struct diag *d)
{
	int r = 0;

	if (p->n_volumes == 0 || !p->volumes)
		return invalid(d, "volumes: at least one volume is needed");
	if (p->n_volumes > POLICY_MAX_VOLUMES)
		return invalid(d, "volumes: %zu entries, more than the %d allowed", p->n_volumes,
			       POLICY_MAX_VOLUMES);
	for (size_t i = 0; r == 0 && i < p->n_volumes; i++)
		r = validate_volume(p, i, d);
	return r;
}

static int validate_guest(const struct policy *p, struct diag *d)
{
	char s1[SHOWN_BUF];

	if (p->guest.vcpus < 1 || p->guest.vcpus > POLICY_VCPUS_MAX)
		return invalid(d, "guest.vcpus: %u is outside 1..%d", p->guest.vcpus,
			       POLICY_VCPUS_MAX);
	if (p->guest.memory_mib < POLICY_MEMORY_MIB_MIN ||
	    p->guest.memory_mib > POLICY_MEMORY_MIB_MAX)
		return invalid(d, "guest.memory_mib: %llu is outside %d..%d",
			       (unsigned long long)p->guest.memory_mib, POLICY_MEMORY_MIB_MIN,
			       POLICY_MEMORY_MIB_MAX);
	if ((unsigned)p->guest.network >= _POLICY_NET_COUNT)
		return invalid(d, "guest.network: unknown network");
	if (p->guest.network == POLICY_NET_BRIDGED) {
		if (!p->guest.bridge)
			return invalid(d, "guest.bridge: missing (required when network is "
					  "\"bridged\")");
		if (!ifname_valid(p->guest.bridge))
			return invalid(
			    d,
			    "guest.bridge: \"%s\" is not an interface name (1 to %d "
			    "characters of A-Z a-z 0-9 _ . -, the first a letter or digit)",
			    text_shown(p->guest.bridge, SHOWN_MAX, TEXT_ESCAPED, s1),
			    POLICY_IFNAME_MAX);
	} else if (p->guest.bridge) {
		return invalid(d,
			       "guest.bridge: only allowed when network is \"bridged\" (network "
			       "is \"%s\")",
			       policy_network_name(p->guest.network));
	}
	return 0;
}

static int validate_zeroize_key(const struct policy *p, struct diag *d)
{
	struct diag kd = {0};
	EVP_PKEY *k = NULL;
	int r;

	if (!p->zeroize_key)
		return invalid(d, "zeroize_key: missing");
	r = adminkey_public_from_pem(p->zeroize_key, strlen(p->zeroize_key), &k, &kd);
	EVP_PKEY_free(k);
	if (r == -ENOMEM)
		return oom(d);
	if (r < 0)
		return invalid(d, "zeroize_key: %s", kd.msg);
	return 0;
}

/* Each part in turn; the first fault wins (one message naming the member). */
int policy_validate(const struct policy *p, struct diag *d)
{
	int r = validate_head(p, d);

	if (r == 0)
		r = validate_release_cas(p, d);
	if (r == 0)
		r = validate_bundles(p, d);
	if (r == 0)
		r = validate_seal_pcrs(p, d);
	if (r == 0)
		r = validate_volumes(p, d);
	if (r == 0)
		r = validate_guest(p, d);
	if (r == 0)
		r = validate_zeroize_key(p, d);
	return r;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	free(p->appliance_class);
	for (size_t i = 0; i < p->n_release_cas; i++)
		free(p->release_cas[i]);
	free(p->release_cas);
	for (size_t i = 0; i < p->n_bundles; i++) {
		free(p->bundles[i].name);
		free(p->bundles[i].path);
	}
	free(p->bundles);
	for (size_t i = 0; i < p->n_volumes; i++) {
		free(p->volumes[i].name);
		free(p->volumes[i].purpose);
		free(p->volumes[i].device);
	}
	free(p->volumes);
	free(p->guest.bridge);
	free(p->zeroize_key);
	free(p);
}

/* --- parsing --- */

#define DOC "policy"

/* Members are read with util/jsonfield.h, DOC naming this document in
 * every message. */
static int get_string(json_object *o, const char *key, const char *where, bool optional, char **ret,
		      struct diag *d)
{
	json_object *v;
	int r;

	r = optional ? jf_get_opt(o, key, json_type_string, DOC, where, &v, d)
		     : jf_get(o, key, json_type_string, DOC, where, &v, d);
	if (r < 0)
		return r;
	if (!v) {
		*ret = NULL;
		return 0;
	}
	*ret = strdup(json_object_get_string(v));
	return *ret ? 0 : oom(d);
}

static int get_bool(json_object *o, const char *key, const char *where, bool *ret, struct diag *d)
{
	json_object *v;
	int r;

	if ((r = jf_get(o, key, json_type_boolean, DOC, where, &v, d)) < 0)
		return r;
	*ret = json_object_get_boolean(v);
	return 0;
}

/* An array member of 0..max entries; more is refused before anything is
 * allocated for them. */
static int get_array(json_object *o, const char *key, size_t max, json_object **ret, size_t *ret_n,
		     struct diag *d)
{
	size_t n;
	int r;

	if ((r = jf_get(o, key, json_type_array, DOC, "", ret, d)) < 0)
		return r;
	n = json_object_array_length(*ret);
	if (n > max)
		return bad(d, "%s: %zu entries, more than the %zu allowed", key, n, max);
	*ret_n = n;
	return 0;
}

static int parse_release_cas(json_object *root, struct policy *p, struct diag *d)
{
	json_object *arr;
	size_t n;
	int r;

	if ((r = get_array(root, "release_cas", POLICY_MAX_RELEASE_CAS, &arr, &n, d)) < 0)
		return r;
	p->release_cas = calloc(n ? n : 1, sizeof(*p->release_cas));
	if (!p->release_cas)
		return oom(d);
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(v, json_type_string))
			return bad(d, "release_cas[%zu]: expected a string, got %s", i,
				   jf_type_name(json_object_get_type(v)));
		p->release_cas[i] = strdup(json_object_get_string(v));
		if (!p->release_cas[i])
			return oom(d);
		p->n_release_cas++;
	}
	return 0;
}

static int parse_bundles(json_object *root, struct policy *p, struct diag *d)
{
	static const char *const members[] = {"name", "path", "min_version", NULL};
	json_object *arr;
	size_t n;
	int r;

	if ((r = get_array(root, "bundles", POLICY_MAX_BUNDLES, &arr, &n, d)) < 0)
		return r;
	p->bundles = calloc(n ? n : 1, sizeof(*p->bundles));
	if (!p->bundles)
		return oom(d);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		struct policy_bundle *b = &p->bundles[i];
		char where[32];

		snprintf(where, sizeof(where), "bundles[%zu]", i);
		p->n_bundles++;
		if (!json_object_is_type(o, json_type_object))
			return bad(d, "%s: expected an object, got %s", where,
				   jf_type_name(json_object_get_type(o)));
		if ((r = jf_only(o, members, DOC, where, d)) < 0 ||
		    (r = get_string(o, "name", where, false, &b->name, d)) < 0 ||
		    (r = get_string(o, "path", where, false, &b->path, d)) < 0 ||
		    (r = jf_u64(o, "min_version", DOC, where, &b->min_version, d)) < 0)
			return r;
	}
	return 0;
}

/* seal_pcrs is read into a mask; what the mask cannot show (order,
 * duplicates, numbers above 31) is checked here. */
static int parse_seal_pcrs(json_object *root, struct policy *p, struct diag *d)
{
	json_object *arr;
	size_t n;
	int r;

	if ((r = get_array(root, "seal_pcrs", TPMPOLICY_PCR_COUNT, &arr, &n, d)) < 0)
		return r;
	if (n == 0)
		return bad(d, "seal_pcrs: empty; a seal must bind at least PCR %d",
			   POLICY_PCR_SEAL);
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		uint64_t pcr, prev;

		if (!json_object_is_type(v, json_type_int))
			return bad(d, "seal_pcrs[%zu]: expected an integer, got %s", i,
				   jf_type_name(json_object_get_type(v)));
		if (json_object_get_int64(v) < 0)
			return bad(d, "seal_pcrs[%zu]: %lld is not a PCR (0..%d)", i,
				   (long long)json_object_get_int64(v), TPMPOLICY_PCR_COUNT - 1);
		pcr = json_object_get_uint64(v);
		if (pcr >= TPMPOLICY_PCR_COUNT)
			return bad(d, "seal_pcrs[%zu]: %llu is not a PCR (0..%d)", i,
				   (unsigned long long)pcr, TPMPOLICY_PCR_COUNT - 1);
		if (i > 0) {
			prev = json_object_get_uint64(json_object_array_get_idx(arr, i - 1));
			if (pcr == prev)
				return bad(d, "seal_pcrs[%zu]: PCR %llu is listed twice", i,
					   (unsigned long long)pcr);
			if (pcr < prev)
				return bad(d,
					   "seal_pcrs[%zu]: PCR %llu after PCR %llu; list PCRs in "
					   "ascending order",
					   i, (unsigned long long)pcr, (unsigned long long)prev);
		}
		p->seal_pcrs |= TPMPOLICY_PCR(pcr);
	}
	return 0;
}

static int parse_volumes(json_object *root, struct policy *p, struct diag *d)
{
	static const char *const members[] = {"uuid", "name", "purpose", "device", NULL};
	json_object *arr;
	size_t n;
	int r;

	if ((r = get_array(root, "volumes", POLICY_MAX_VOLUMES, &arr, &n, d)) < 0)
		return r;
	p->volumes = calloc(n ? n : 1, sizeof(*p->volumes));
	if (!p->volumes)
		return oom(d);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *v;
		struct policy_volume *vol = &p->volumes[i];
		char where[32];

		snprintf(where, sizeof(where), "volumes[%zu]", i);
		p->n_volumes++;
		if (!json_object_is_type(o, json_type_object))
			return bad(d, "%s: expected an object, got %s", where,
				   jf_type_name(json_object_get_type(o)));
		if ((r = jf_only(o, members, DOC, where, d)) < 0 ||
		    (r = jf_get(o, "uuid", json_type_string, DOC, where, &v, d)) < 0)
			return r;
		/* The struct holds a canonical UUID or nothing. */
		if (!policy_uuid_valid(json_object_get_string(v)))
			return bad(d, "%s.uuid: not a canonical lowercase UUID", where);
		memcpy(vol->uuid, json_object_get_string(v), sizeof(vol->uuid));
		if ((r = get_string(o, "name", where, false, &vol->name, d)) < 0 ||
		    (r = get_string(o, "purpose", where, false, &vol->purpose, d)) < 0 ||
		    (r = get_string(o, "device", where, true, &vol->device, d)) < 0)
			return r;
	}
	return 0;
}

static int parse_guest(json_object *root, struct policy *p, struct diag *d)
{
	static const char *const members[] = {"vcpus",	 "memory_mib", "network", "bridge",
					      "console", "rng",	       "vtpm",	  NULL};
	struct policy_guest *g = &p->guest;
	char s[SHOWN_BUF];
	json_object *o, *v;
	uint64_t vcpus;
	int r;

	if ((r = jf_get(root, "guest", json_type_object, DOC, "", &o, d)) < 0 ||
	    (r = jf_only(o, members, DOC, "guest", d)) < 0)
		return r;
	if ((r = jf_u64(o, "vcpus", DOC, "guest", &vcpus, d)) < 0)
		return r;
	if (vcpus < 1 || vcpus > POLICY_VCPUS_MAX)
		return bad(d, "guest.vcpus: %llu is outside 1..%d", (unsigned long long)vcpus,
			   POLICY_VCPUS_MAX);
	g->vcpus = (unsigned)vcpus;
	if ((r = jf_u64(o, "memory_mib", DOC, "guest", &g->memory_mib, d)) < 0)
		return r;
	if ((r = jf_get(o, "network", json_type_string, DOC, "guest", &v, d)) < 0)
		return r;
	if (policy_network_from_name(json_object_get_string(v), &g->network) < 0)
		return bad(d, "guest.network: unknown network \"%s\" (none, isolated, bridged)",
			   text_shown(json_object_get_string(v), 32, TEXT_ESCAPED, s));
	if ((r = get_string(o, "bridge", "guest", true, &g->bridge, d)) < 0)
		return r;
	if ((r = jf_get(o, "console", json_type_string, DOC, "guest", &v, d)) < 0)
		return r;
	if (!strcmp(json_object_get_string(v), "log"))
		g->console_log = true;
	else if (strcmp(json_object_get_string(v), "none"))
		return bad(d, "guest.console: unknown console \"%s\" (none, log)",
			   text_shown(json_object_get_string(v), 32, TEXT_ESCAPED, s));
	if ((r = get_bool(o, "rng", "guest", &g->rng, d)) < 0 ||
	    (r = get_bool(o, "vtpm", "guest", &g->vtpm, d)) < 0)
		return r;
	return 0;
}

/* Optional; present only as true (absent means false, the canonical form). */
static int parse_allow_unmeasured(json_object *root, struct policy *p, struct diag *d)
{
	json_object *v;
	int r;

	r = jf_get_opt(root, "allow_unmeasured_boot", json_type_boolean, DOC, "", &v, d);
	if (r < 0 || !v)
		return r;
	if (!json_object_get_boolean(v))
		return bad(d,
			   "allow_unmeasured_boot: only true is meaningful; leave it out instead");
	p->allow_unmeasured_boot = true;
	return 0;
}

int policy_check_measured_boot(tpmpolicy_pcr_mask_t seal, struct diag *d)
{
	static const struct {
		unsigned pcr;
		const char *what;
	} need[] = {
	    {4, "the kernel or boot image the firmware started"},
	    {7, "the Secure Boot state and keys"},
	    {POLICY_PCR_SEAL, "sealboot's own measurements"},
	};
	char list[TPMPOLICY_PCR_COUNT * 4 + 1] = "";
	size_t at = 0;

	for (unsigned n = 0; n < TPMPOLICY_PCR_COUNT; n++)
		if (seal & TPMPOLICY_PCR(n))
			at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%u", at ? ", " : "",
					       n);
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!(seal & TPMPOLICY_PCR(need[i].pcr)))
			return diag_set(
			    d, DIAG_MALFORMED, EPERM,
			    "policy: seal_pcrs [%s] leaves code before the anchor "
			    "unmeasured: PCR %u (%s) is missing; seal to at least 4, 7, 9 "
			    "and 15, or sign with --allow-unmeasured-boot (docs/pcrs.md)",
			    list, need[i].pcr, need[i].what);
	if ((seal & POLICY_PCRS_BOOT_STUB) != POLICY_PCRS_BOOT_STUB &&
	    (seal & POLICY_PCRS_BOOT_UKI) != POLICY_PCRS_BOOT_UKI)
		return diag_set(d, DIAG_MALFORMED, EPERM,
				"policy: seal_pcrs [%s] leaves code before the anchor unmeasured: "
				"PCR 9 (the initramfs and kernel command line) is missing; seal to "
				"at least 4, 7, 9 and 15 (4, 7, 11, 12 and 15 for a unified kernel "
				"image), or sign with --allow-unmeasured-boot (docs/pcrs.md)",
				list);
	return 0;
}

int policy_parse(const char *buf, size_t len, struct policy **ret, struct diag *d)
{
	static const char *const members[] = {"format",
					      "format_version",
					      "appliance_class",
					      "serial",
					      "release_cas",
					      "bundles",
					      "seal_pcrs",
					      "volumes",
					      "guest",
					      "zeroize_key",
					      "allow_unmeasured_boot",
					      NULL};
	char show[SHOWN_BUF];
	json_object *root = NULL, *v;
	struct policy *p = NULL;
	uint64_t fv;
	int r;

	if (len == 0)
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "policy is empty");
	if (len > POLICY_MAX_BYTES)
		return diag_set(d, DIAG_MALFORMED, EBADMSG,
				"policy is %zu bytes, more than the %u allowed", len,
				POLICY_MAX_BYTES);
	r = jf_parse(buf, len, POLICY_MAX_DEPTH, DOC, &root, d);
	if (r < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p) {
		r = oom(d);
		goto out;
	}
	/* The format and its version first: an unknown version explains
	 * every other difference better than a complaint about a member. */
	if ((r = jf_get(root, "format", json_type_string, DOC, "", &v, d)) < 0)
		goto out;
	if (strcmp(json_object_get_string(v), POLICY_FORMAT)) {
		r = bad(d, "format is \"%s\", not \"%s\"",
			text_shown(json_object_get_string(v), SHOWN_MAX, TEXT_ESCAPED, show),
			POLICY_FORMAT);
		goto out;
	}
	if ((r = jf_u64(root, "format_version", DOC, "", &fv, d)) < 0)
		goto out;
	if (fv != POLICY_FORMAT_VERSION) {
		r = bad(d, "unsupported format_version %llu (this verifier knows %d)",
			(unsigned long long)fv, POLICY_FORMAT_VERSION);
		goto out;
	}
	p->format_version = (unsigned)fv;
	if ((r = jf_only(root, members, DOC, "top level", d)) < 0 ||
	    (r = get_string(root, "appliance_class", "", false, &p->appliance_class, d)) < 0 ||
	    (r = jf_u64(root, "serial", DOC, "", &p->serial, d)) < 0 ||
	    (r = parse_release_cas(root, p, d)) < 0 || (r = parse_bundles(root, p, d)) < 0 ||
	    (r = parse_seal_pcrs(root, p, d)) < 0 || (r = parse_allow_unmeasured(root, p, d)) < 0 ||
	    (r = parse_volumes(root, p, d)) < 0 || (r = parse_guest(root, p, d)) < 0 ||
	    (r = get_string(root, "zeroize_key", "", false, &p->zeroize_key, d)) < 0)
		goto out;
	{
		struct diag vd = {0};

		/* A struct that fails validation came from bytes that are not
		 * a valid policy. */
		r = policy_validate(p, &vd);
		if (r == -ENOMEM) {
			r = oom(d);
			goto out;
		}
		if (r < 0) {
			r = diag_set(d, DIAG_MALFORMED, EBADMSG, "%s", vd.msg);
			goto out;
		}
	}
	*ret = p;
	p = NULL;
	r = 0;
out:
	policy_free(p);
	json_object_put(root);
	return r;
}

int policy_parse_canonical(const char *buf, size_t len, struct policy **ret, struct diag *d)
{
	struct policy *p = NULL;
	char *canon = NULL;
	size_t n = 0;
	int r;

	r = policy_parse(buf, len, &p, d);
	if (r < 0)
		return r;
	r = policy_serialize(p, &canon, &n);
	if (r < 0) {
		policy_free(p);
		return r == -ENOMEM ? oom(d)
				    : diag_set(d, DIAG_INTERNAL, -r,
					       "policy: cannot serialize a parsed policy");
	}
	if (n != len || memcmp(canon, buf, len)) {
		free(canon);
		policy_free(p);
		return diag_set(d, DIAG_MALFORMED, EBADMSG,
				"policy: not in canonical form (re-sign it with sealboot-admin "
				"policy sign)");
	}
	free(canon);
	*ret = p;
	return 0;
}

/* --- serializing --- */

/* Add v under key to o; a NULL v (allocation failed) or a failed add
 * marks the build failed. */
static void add(json_object *o, const char *key, json_object *v, bool *failed)
{
	if (!v) {
		*failed = true;
		return;
	}
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		*failed = true;
	}
}

static void append(json_object *a, json_object *v, bool *failed)
{
	if (!v) {
		*failed = true;
		return;
	}
	if (json_object_array_add(a, v) < 0) {
		json_object_put(v);
		*failed = true;
	}
}

static json_object *str(const char *s)
{
	return json_object_new_string(s ? s : "");
}

int policy_to_json(const struct policy *p, struct json_object **ret)
{
	json_object *o = json_object_new_object(), *a, *e, *g;
	bool failed = false;

	if (!o)
		return -ENOMEM;
	/* json-c keeps members in insertion order: this is the canonical
	 * order, the order of the struct and of the format description. */
	add(o, "format", str(POLICY_FORMAT), &failed);
	add(o, "format_version", json_object_new_int((int)p->format_version), &failed);
	add(o, "appliance_class", str(p->appliance_class), &failed);
	add(o, "serial", json_object_new_uint64(p->serial), &failed);

	a = json_object_new_array();
	for (size_t i = 0; a && i < p->n_release_cas; i++)
		append(a, str(p->release_cas[i]), &failed);
	add(o, "release_cas", a, &failed);

	a = json_object_new_array();
	for (size_t i = 0; a && i < p->n_bundles; i++) {
		const struct policy_bundle *b = &p->bundles[i];

		e = json_object_new_object();
		if (e) {
			add(e, "name", str(b->name), &failed);
			add(e, "path", str(b->path), &failed);
			add(e, "min_version", json_object_new_uint64(b->min_version), &failed);
		}
		append(a, e, &failed);
	}
	add(o, "bundles", a, &failed);

	a = json_object_new_array();
	for (unsigned n = 0; a && n < TPMPOLICY_PCR_COUNT; n++)
		if (p->seal_pcrs & TPMPOLICY_PCR(n))
			append(a, json_object_new_int((int)n), &failed);
	add(o, "seal_pcrs", a, &failed);
	if (p->allow_unmeasured_boot)
		add(o, "allow_unmeasured_boot", json_object_new_boolean(1), &failed);

	a = json_object_new_array();
	for (size_t i = 0; a && i < p->n_volumes; i++) {
		const struct policy_volume *v = &p->volumes[i];

		e = json_object_new_object();
		if (e) {
			add(e, "uuid",
			    json_object_new_string_len(v->uuid,
						       (int)strnlen(v->uuid, sizeof(v->uuid))),
			    &failed);
			add(e, "name", str(v->name), &failed);
			add(e, "purpose", str(v->purpose), &failed);
			if (v->device)
				add(e, "device", str(v->device), &failed);
		}
		append(a, e, &failed);
	}
	add(o, "volumes", a, &failed);

	g = json_object_new_object();
	if (g) {
		add(g, "vcpus", json_object_new_int64((int64_t)p->guest.vcpus), &failed);
		add(g, "memory_mib", json_object_new_uint64(p->guest.memory_mib), &failed);
		add(g, "network", str(policy_network_name(p->guest.network)), &failed);
		if (p->guest.bridge)
			add(g, "bridge", str(p->guest.bridge), &failed);
		add(g, "console", str(p->guest.console_log ? "log" : "none"), &failed);
		add(g, "rng", json_object_new_boolean(p->guest.rng), &failed);
		add(g, "vtpm", json_object_new_boolean(p->guest.vtpm), &failed);
	}
	add(o, "guest", g, &failed);
	add(o, "zeroize_key", str(p->zeroize_key), &failed);

	if (failed) {
		json_object_put(o);
		return -ENOMEM;
	}
	*ret = o;
	return 0;
}

int policy_serialize(const struct policy *p, char **ret, size_t *ret_len)
{
	json_object *o = NULL;
	const char *s;
	char *out;
	size_t n = 0;
	int r;

	r = policy_validate(p, NULL);
	if (r < 0)
		return r == -ENOMEM ? r : -EINVAL;
	r = policy_to_json(p, &o);
	if (r < 0)
		return r;
	/* PLAIN: no whitespace at all; NOSLASHESCAPE: "/" as is (paths). */
	s = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (!s) {
		json_object_put(o);
		return -ENOMEM;
	}
	out = malloc(n + 2);
	if (!out) {
		json_object_put(o);
		return -ENOMEM;
	}
	memcpy(out, s, n);
	out[n] = '\n';
	out[n + 1] = 0;
	json_object_put(o);
	*ret = out;
	*ret_len = n + 1;
	return 0;
}
