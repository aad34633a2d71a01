/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "adminkey.h"
#include "jsonstrict.h"
#include "policy.h"

/* Never NULL: the compiler can see it, so fortified sprintf stays quiet. */
static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	return p;
}

/* The tests run with tests/unit as their working directory. */
#define PKI "../fixtures/pki"
#define FIXTURES "../fixtures/policies"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

/* Text as a JSON string literal, escaped the way json-c escapes it (enough
 * for PEM: quote, backslash, newline). */
static char *quoted(const char *s)
{
	char *out = xmalloc(2 * strlen(s) + 3), *o = out;

	assert_non_null(out);
	*o++ = '"';
	for (; *s; s++) {
		if (*s == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (*s == '"' || *s == '\\') {
			*o++ = '\\';
			*o++ = *s;
		} else {
			*o++ = *s;
		}
	}
	*o++ = '"';
	*o = 0;
	return out;
}

static char *key_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *mem, *out;
	long n;

	assert_non_null(b);
	assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
	n = BIO_get_mem_data(b, &mem);
	/* Not strndup: the BIO's memory is not NUL-terminated, and ASan's
	 * strict_string_checks holds strndup to that. */
	out = xmalloc((size_t)n + 1);
	assert_non_null(out);
	memcpy(out, mem, (size_t)n);
	out[n] = 0;
	BIO_free(b);
	return out;
}

/* PEM texts and their JSON literals, read or made once. */
static char *release_ca, *root_ca, *leaf, *zkey, *p384key, *edkey;
static char *q_release_ca, *q_root_ca, *q_leaf, *q_zkey, *q_p384key, *q_edkey;

static int setup(void **state)
{
	EVP_PKEY *k;

	release_ca = slurp(PKI "/release-ca.crt", NULL);
	root_ca = slurp(PKI "/root.crt", NULL);
	leaf = slurp(PKI "/signer.crt", NULL);
	k = EVP_EC_gen("P-256");
	zkey = key_pem(k);
	EVP_PKEY_free(k);
	k = EVP_EC_gen("P-384");
	p384key = key_pem(k);
	EVP_PKEY_free(k);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	edkey = key_pem(k);
	EVP_PKEY_free(k);
	q_release_ca = quoted(release_ca);
	q_root_ca = quoted(root_ca);
	q_leaf = quoted(leaf);
	q_zkey = quoted(zkey);
	q_p384key = quoted(p384key);
	q_edkey = quoted(edkey);
	return 0;
}

static int teardown(void **state)
{
	char *all[] = {release_ca,   root_ca,	leaf,	zkey,	p384key,   edkey,
		       q_release_ca, q_root_ca, q_leaf, q_zkey, q_p384key, q_edkey};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		free(all[i]);
	return 0;
}

#define UUID1 "0f4c2a3e-1b2c-4d5e-8f90-a1b2c3d4e5f6"
#define UUID2 "5d0e7a14-93b1-4c55-a2f6-0123456789ab"
#define BUNDLE_OS "{\"name\":\"os\",\"path\":\"/var/lib/sealboot/bundles/os\",\"min_version\":1}"
#define VOLUME_DATA                                                                                \
	"{\"uuid\":\"" UUID1 "\",\"name\":\"data\",\"purpose\":\"data\","                          \
	"\"device\":\"/dev/disk/by-partlabel/data\"}"
#define GUEST                                                                                      \
	"{\"vcpus\":1,\"memory_mib\":512,\"network\":\"none\",\"console\":\"log\",\"rng\":true,"   \
	"\"vtpm\":false}"

/* A valid policy in canonical form, with one member's text replaceable. */
struct subst {
	const char *format, *fv, *cls, *serial, *cas, *bundles, *pcrs, *volumes, *guest, *zk,
	    *extra;
};

static char *build(const struct subst *in)
{
	char cas[8192];
	char *out;
	size_t cap;
	int n;

	snprintf(cas, sizeof(cas), "[%s]", q_release_ca);
	cap = 65536 + (in->cas ? strlen(in->cas) : 0) + (in->extra ? strlen(in->extra) : 0) +
	      (in->zk ? strlen(in->zk) : 0);
	out = xmalloc(cap);
	assert_non_null(out);
	n = snprintf(out, cap,
		     "{\"format\":%s,\"format_version\":%s,\"appliance_class\":%s,\"serial\":%s,"
		     "\"release_cas\":%s,\"bundles\":%s,\"seal_pcrs\":%s,\"volumes\":%s,"
		     "\"guest\":%s,\"zeroize_key\":%s%s}\n",
		     in->format ? in->format : "\"" POLICY_FORMAT "\"", in->fv ? in->fv : "1",
		     in->cls ? in->cls : "\"acme-edge\"", in->serial ? in->serial : "7",
		     in->cas ? in->cas : cas, in->bundles ? in->bundles : "[" BUNDLE_OS "]",
		     in->pcrs ? in->pcrs : "[7,15]",
		     in->volumes ? in->volumes : "[" VOLUME_DATA "]", in->guest ? in->guest : GUEST,
		     in->zk ? in->zk : q_zkey, in->extra ? in->extra : "");
	assert_true(n > 0 && (size_t)n < cap);
	return out;
}

/* Parse; with want NULL expect success (returned), else -EBADMSG with
 * exactly the message want (or, with contains, a message holding it). */
static struct policy *parse_as(const struct subst *in, const char *want, bool contains)
{
	char *text = build(in);
	struct policy *p = NULL;
	struct diag d = {0};
	int r = policy_parse(text, strlen(text), &p, &d);

	if (!want) {
		if (r < 0)
			fail_msg("refused: %s\n%s", d.msg, text);
		assert_non_null(p);
	} else {
		if (r != -EBADMSG)
			fail_msg("got %d, want -EBADMSG for \"%s\"\n%s", r, want, text);
		assert_null(p);
		assert_int_equal(d.cls, DIAG_MALFORMED);
		if (contains ? (strncmp(d.msg, "policy", 6) || !strstr(d.msg, want))
			     : strcmp(d.msg, want) != 0)
			fail_msg("message \"%s\"\n   want \"%s\"", d.msg, want);
		if (strchr(d.msg, '\n'))
			fail_msg("message is not one line: \"%s\"", d.msg);
	}
	free(text);
	return p;
}

#define OK(...) parse_as(&(struct subst){__VA_ARGS__}, NULL, false)
#define REFUSED(want, ...) policy_free(parse_as(&(struct subst){__VA_ARGS__}, want, false))
#define REFUSED_WITH(want, ...) policy_free(parse_as(&(struct subst){__VA_ARGS__}, want, true))

static void serialize_ok(const struct policy *p, char **s, size_t *n)
{
	assert_int_equal(policy_serialize(p, s, n), 0);
	assert_true(*n > 0 && (*s)[*n - 1] == '\n' && strlen(*s) == *n);
}

/* parse -> serialize -> parse_canonical -> serialize: same bytes. */
static void round_trip(const struct policy *p)
{
	struct policy *p2 = NULL;
	struct diag d = {0};
	char *s1, *s2;
	size_t n1, n2;

	serialize_ok(p, &s1, &n1);
	if (json_strict_check(s1, n1, POLICY_MAX_DEPTH, &d) < 0)
		fail_msg("serialized policy fails the strict gate: %s", d.msg);
	if (policy_parse_canonical(s1, n1, &p2, &d) < 0)
		fail_msg("canonical re-parse failed: %s\n%s", d.msg, s1);
	serialize_ok(p2, &s2, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(s1, s2, n1);
	free(s1);
	free(s2);
	policy_free(p2);
}

static void test_template(void **state)
{
	char *text = build(&(struct subst){0}), *s = NULL;
	struct policy *p = OK(0), *c = NULL;
	struct diag d = {0};
	size_t n;

	assert_int_equal(p->format_version, 1);
	assert_string_equal(p->appliance_class, "acme-edge");
	assert_true(p->serial == 7);
	assert_int_equal(p->n_release_cas, 1);
	assert_string_equal(p->release_cas[0], release_ca); /* the PEM text as given */
	assert_int_equal(p->n_bundles, 1);
	assert_string_equal(p->bundles[0].name, "os");
	assert_string_equal(p->bundles[0].path, "/var/lib/sealboot/bundles/os");
	assert_true(p->bundles[0].min_version == 1);
	assert_int_equal(p->seal_pcrs, TPMPOLICY_PCR(7) | TPMPOLICY_PCR(15));
	assert_int_equal(p->n_volumes, 1);
	assert_string_equal(p->volumes[0].uuid, UUID1);
	assert_string_equal(p->volumes[0].name, "data");
	assert_string_equal(p->volumes[0].purpose, "data");
	assert_string_equal(p->volumes[0].device, "/dev/disk/by-partlabel/data");
	assert_int_equal(p->guest.vcpus, 1);
	assert_true(p->guest.memory_mib == 512);
	assert_int_equal(p->guest.network, POLICY_NET_NONE);
	assert_null(p->guest.bridge);
	assert_true(p->guest.console_log);
	assert_true(p->guest.rng);
	assert_false(p->guest.vtpm);
	assert_string_equal(p->zeroize_key, zkey);

	/* The template is the canonical text: serializing gives it back. */
	serialize_ok(p, &s, &n);
	assert_int_equal(n, strlen(text));
	assert_memory_equal(s, text, n);
	assert_int_equal(policy_parse_canonical(text, strlen(text), &c, &d), 0);
	assert_non_null(c);
	round_trip(p);
	free(s);
	free(text);
	policy_free(c);
	policy_free(p);
}

/* A richer policy: every optional member, several entries, extremes. */
static void test_full_round_trip(void **state)
{
	char cas[16384], zk[2048];
	struct policy *p;

	snprintf(cas, sizeof(cas), "[%s,%s]", q_release_ca, q_root_ca);
	p = OK(.cas = cas, .serial = "18446744073709551615",
	       .bundles = "[" BUNDLE_OS ",{\"name\":\"Web-1.2_x\",\"path\":\"/a/b+c/d.e-f_g\","
			  "\"min_version\":18446744073709551615}]",
	       .pcrs = "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,17,18,19,20,21,22]",
	       .volumes =
		   "[" VOLUME_DATA ",{\"uuid\":\"" UUID2 "\",\"name\":\"img_2-x\","
		   "\"purpose\":\"images\"},{\"uuid\":\"00000000-0000-0000-0000-000000000000\","
		   "\"name\":\"s\",\"purpose\":\"state\"}]",
	       .guest =
		   "{\"vcpus\":256,\"memory_mib\":1048576,\"network\":\"bridged\","
		   "\"bridge\":\"br0.v-1_x\",\"console\":\"none\",\"rng\":false,\"vtpm\":true}");
	assert_int_equal(p->n_release_cas, 2);
	assert_true(p->serial == UINT64_MAX);
	assert_true(p->bundles[1].min_version == UINT64_MAX);
	assert_int_equal(p->seal_pcrs, 0x7fffffu & ~TPMPOLICY_PCR(16));
	assert_int_equal(p->n_volumes, 3);
	assert_null(p->volumes[1].device);
	assert_string_equal(p->volumes[2].purpose, "state");
	assert_int_equal(p->guest.network, POLICY_NET_BRIDGED);
	assert_string_equal(p->guest.bridge, "br0.v-1_x");
	assert_false(p->guest.console_log);
	assert_true(p->guest.vtpm);
	round_trip(p);
	policy_free(p);

	/* Whitespace around the PEM texts is kept as given. */
	{
		char *ws = xmalloc(strlen(zkey) + 8), *q;

		sprintf(ws, "\n %s\n", zkey);
		q = quoted(ws);
		snprintf(zk, sizeof(zk), "%s", q);
		p = OK(.zk = zk);
		assert_string_equal(p->zeroize_key, ws);
		round_trip(p);
		policy_free(p);
		free(ws);
		free(q);
	}
	/* isolated network, no bridge */
	p = OK(.guest = "{\"vcpus\":2,\"memory_mib\":64,\"network\":\"isolated\",\"console\":"
			"\"none\",\"rng\":false,\"vtpm\":false}");
	assert_int_equal(p->guest.network, POLICY_NET_ISOLATED);
	round_trip(p);
	policy_free(p);
}

/* Accepted by policy_parse, refused by policy_parse_canonical. */
static void not_canonical(const char *text)
{
	struct policy *p = NULL;
	struct diag d = {0};

	if (policy_parse(text, strlen(text), &p, &d) < 0)
		fail_msg("refused: %s", d.msg);
	policy_free(p);
	p = NULL;
	assert_int_equal(policy_parse_canonical(text, strlen(text), &p, &d), -EBADMSG);
	assert_null(p);
	assert_int_equal(d.cls, DIAG_MALFORMED);
	assert_string_equal(d.msg, "policy: not in canonical form (re-sign it with "
				   "sealboot-admin policy sign)");
}

static void test_canonical(void **state)
{
	char *text = build(&(struct subst){0}), *alt, *s;
	struct policy *p = NULL;
	json_object *o;
	size_t n;

	if (!text)
		abort();
	n = strlen(text);

	/* Pretty-printed by json-c. */
	o = json_tokener_parse(text);
	assert_non_null(o);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	not_canonical(s);
	free(s);
	/* Compact but with slashes escaped. */
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	not_canonical(s);
	free(s);
	json_object_put(o);

	/* One space; no trailing newline; two trailing newlines; CRLF. */
	alt = xmalloc(n + 3);
	assert_non_null(alt);
	sprintf(alt, "{ %s", text + 1);
	not_canonical(alt);
	memcpy(alt, text, n - 1);
	alt[n - 1] = 0;
	not_canonical(alt);
	sprintf(alt, "%s\n", text);
	not_canonical(alt);
	memcpy(alt, text, n - 1);
	strcpy(alt + n - 1, "\r\n");
	not_canonical(alt);
	free(alt);
	free(text);

	/* Members reordered: serial before appliance_class. */
	{
		char buf[65536], *a = build(&(struct subst){0});
		char *cls = strstr(a, "\"appliance_class\":\"acme-edge\",");
		char *ser = strstr(a, "\"serial\":7,");

		assert_non_null(cls);
		assert_true(ser == cls + strlen("\"appliance_class\":\"acme-edge\","));
		snprintf(buf, sizeof(buf), "%.*s\"serial\":7,\"appliance_class\":\"acme-edge\",%s",
			 (int)(cls - a), a, ser + strlen("\"serial\":7,"));
		not_canonical(buf);
		free(a);
	}
	/* Guest members reordered, an escape where none is needed, a
	 * redundant PCR order cannot happen (refused). */
	text =
	    build(&(struct subst){.guest = "{\"memory_mib\":512,\"vcpus\":1,\"network\":\"none\","
					   "\"console\":\"log\",\"rng\":true,\"vtpm\":false}"});
	not_canonical(text);
	free(text);
	text = build(&(struct subst){.cls = "\"acme\\u002dedge\""});
	not_canonical(text);
	free(text);
	text =
	    build(&(struct subst){.bundles = "[{\"name\":\"os\",\"path\":\"\\/var\\/lib\\/sealboot"
					     "\\/bundles\\/os\",\"min_version\":1}]"});
	not_canonical(text);
	free(text);
	text = build(&(struct subst){.serial = "7", .fv = "1"});
	assert_int_equal(policy_parse_canonical(text, strlen(text), &p, NULL), 0);
	policy_free(p);
	free(text);
}

static void test_gate(void **state)
{
	char deep[64];

	/* Duplicate keys are refused by the strict gate, at any level. */
	REFUSED_WITH("duplicate member name \"serial\"", .extra = ",\"serial\":8");
	REFUSED_WITH("duplicate member name \"rng\"",
		     .guest = "{\"vcpus\":1,\"memory_mib\":512,\"network\":\"none\",\"console\":"
			      "\"log\",\"rng\":true,\"rng\":false,\"vtpm\":false}");
	REFUSED_WITH("duplicate member name \"name\"",
		     .bundles =
			 "[{\"name\":\"os\",\"path\":\"/a\",\"min_version\":1,\"name\":\"x\"}]");
	REFUSED_WITH("policy: invalid JSON at byte ", .extra = ",\"serial\":8");
	/* Depth 8 passes the gate (and then the member is unknown); 9 does not. */
	snprintf(deep, sizeof(deep), ",\"x\":[[[[[[[1]]]]]]]");
	REFUSED("policy: top level: unknown member \"x\"", .extra = deep);
	snprintf(deep, sizeof(deep), ",\"x\":[[[[[[[[1]]]]]]]]");
	REFUSED_WITH("nested too deeply", .extra = deep);
	REFUSED_WITH("nested too deeply", .extra = ",\"x\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{"
						   "\"f\":{\"g\":{}}}}}}}}");
	/* Not JSON at all, or not an object. */
	{
		static const char *const bad[][2] = {
		    {"", "policy is empty"},
		    {"[]", "policy: expected an object at the top, got an array"},
		    {"1", "policy: expected an object at the top, got a number"},
		    {"{", "policy: invalid JSON at byte 1: truncated object"},
		    {"{}", "policy: format: missing"},
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct policy *p = NULL;
			struct diag d = {0};

			assert_int_equal(policy_parse(bad[i][0], strlen(bad[i][0]), &p, &d),
					 -EBADMSG);
			if (strncmp(d.msg, bad[i][1], strlen(bad[i][1])))
				fail_msg("%s: \"%s\" want \"%s\"", bad[i][0], d.msg, bad[i][1]);
			assert_int_equal(d.cls, DIAG_MALFORMED);
		}
	}
	/* Size: 256 KiB with padding passes, one byte more does not. */
	{
		char *text = build(&(struct subst){0}), *buf = xmalloc(POLICY_MAX_BYTES + 1);
		struct policy *p = NULL;
		struct diag d = {0};

		assert_non_null(buf);
		memset(buf, ' ', POLICY_MAX_BYTES + 1);
		memcpy(buf, text, strlen(text));
		assert_int_equal(policy_parse(buf, POLICY_MAX_BYTES, &p, &d), 0);
		policy_free(p);
		p = NULL;
		assert_int_equal(policy_parse(buf, POLICY_MAX_BYTES + 1, &p, &d), -EBADMSG);
		assert_string_equal(d.msg, "policy is 262145 bytes, more than the 262144 allowed");
		assert_null(p);
		free(buf);
		free(text);
	}
}

static void test_members(void **state)
{
	static const char *const top[] = {
	    "format",  "format_version", "appliance_class", "serial", "release_cas",
	    "bundles", "seal_pcrs",	 "volumes",	    "guest",  "zeroize_key"};

	REFUSED("policy: top level: unknown member \"extra\"", .extra = ",\"extra\":1");
	REFUSED("policy: top level: unknown member \"signature\"", .extra = ",\"signature\":null");
	REFUSED("policy: bundles[1]: unknown member \"sig\"",
		.bundles = "[" BUNDLE_OS ",{\"name\":\"b\",\"path\":\"/b\",\"min_version\":1,"
			   "\"sig\":1}]");
	REFUSED("policy: volumes[0]: unknown member \"cipher\"",
		.volumes = "[{\"uuid\":\"" UUID1 "\",\"name\":\"d\",\"purpose\":\"data\","
			   "\"cipher\":\"aes\"}]");
	REFUSED("policy: guest: unknown member \"cpus\"",
		.guest = "{\"vcpus\":1,\"cpus\":1,\"memory_mib\":512,\"network\":\"none\","
			 "\"console\":\"log\",\"rng\":true,\"vtpm\":false}");
	/* The format and its version are checked before unknown members. */
	REFUSED("policy: format is \"sealboot-bundle-manifest\", not "
		"\"sealboot-appliance-policy\"",
		.format = "\"sealboot-bundle-manifest\"", .extra = ",\"x\":1");
	REFUSED("policy: unsupported format_version 2 (this verifier knows 1)", .fv = "2",
		.extra = ",\"v2\":1");
	REFUSED("policy: unsupported format_version 0 (this verifier knows 1)", .fv = "0");
	REFUSED("policy: format_version: expected an unsigned integer, got a string",
		.fv = "\"1\"");
	REFUSED("policy: format: expected a string, got an integer", .format = "1");

	/* Each top-level member missing. */
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		char *text = build(&(struct subst){0}), want[128], key[64];
		char *at, *end;
		struct policy *p = NULL;
		struct diag d = {0};

		/* Cut "key":value, from the compact text. */
		snprintf(key, sizeof(key), "\"%s\":", top[i]);
		at = strstr(text, key);
		assert_non_null(at);
		if (i + 1 < sizeof(top) / sizeof(top[0])) {
			char next[64];

			snprintf(next, sizeof(next), ",\"%s\":", top[i + 1]);
			end = strstr(at, next) + 1;
		} else {
			at--; /* the comma before the last member */
			end = strrchr(text, '}');
		}
		memmove(at, end, strlen(end) + 1);
		snprintf(want, sizeof(want), "policy: %s: missing", top[i]);
		assert_int_equal(policy_parse(text, strlen(text), &p, &d), -EBADMSG);
		assert_string_equal(d.msg, want);
		free(text);
	}
	/* Each guest member missing (bridge is optional). */
	{
		static const char *const gm[] = {"vcpus",   "memory_mib", "network",
						 "console", "rng",	  "vtpm"};
		static const char *const gv[] = {"1",	    "512",  "\"none\"",
						 "\"log\"", "true", "false"};

		for (size_t i = 0; i < 6; i++) {
			char g[256], want[64];
			int n = snprintf(g, sizeof(g), "{");

			for (size_t j = 0; j < 6; j++)
				if (j != i)
					n += snprintf(g + n, sizeof(g) - (size_t)n, "%s\"%s\":%s",
						      n > 1 ? "," : "", gm[j], gv[j]);
			snprintf(g + n, sizeof(g) - (size_t)n, "}");
			snprintf(want, sizeof(want), "policy: guest.%s: missing", gm[i]);
			REFUSED(want, .guest = g);
		}
	}
	REFUSED("policy: bundles[0].min_version: missing",
		.bundles = "[{\"name\":\"os\",\"path\":\"/a\"}]");
	REFUSED("policy: volumes[0].purpose: missing",
		.volumes = "[{\"uuid\":\"" UUID1 "\",\"name\":\"d\"}]");
}

static void test_types(void **state)
{
	REFUSED("policy: appliance_class: expected a string, got null", .cls = "null");
	REFUSED("policy: serial: expected an unsigned integer, got a string", .serial = "\"7\"");
	REFUSED("policy: serial: expected an unsigned integer, got a negative one", .serial = "-1");
	REFUSED("policy: serial: expected an unsigned integer, got a fractional number",
		.serial = "7.0");
	REFUSED_WITH("integer out of the 64-bit range", .serial = "18446744073709551616");
	REFUSED("policy: release_cas: expected an array, got a string", .cas = q_release_ca);
	REFUSED("policy: release_cas[0]: expected a string, got an integer", .cas = "[1]");
	REFUSED("policy: bundles: expected an array, got an object", .bundles = BUNDLE_OS);
	REFUSED("policy: bundles[0]: expected an object, got an array", .bundles = "[[]]");
	REFUSED("policy: bundles[0].name: expected a string, got a boolean",
		.bundles = "[{\"name\":true,\"path\":\"/a\",\"min_version\":1}]");
	REFUSED("policy: bundles[0].min_version: expected an unsigned integer, got a negative one",
		.bundles = "[{\"name\":\"a\",\"path\":\"/a\",\"min_version\":-1}]");
	REFUSED("policy: seal_pcrs: expected an array, got an integer", .pcrs = "15");
	REFUSED("policy: seal_pcrs[0]: expected an integer, got a string", .pcrs = "[\"15\"]");
	REFUSED("policy: seal_pcrs[1]: expected an integer, got a fractional number",
		.pcrs = "[7,15.0]");
	REFUSED("policy: volumes[0]: expected an object, got null", .volumes = "[null]");
	REFUSED("policy: volumes[0].device: expected a string, got null",
		.volumes = "[{\"uuid\":\"" UUID1 "\",\"name\":\"d\",\"purpose\":\"data\","
			   "\"device\":null}]");
	REFUSED("policy: guest: expected an object, got an array", .guest = "[]");
	REFUSED("policy: guest.rng: expected a boolean, got a string",
		.guest = "{\"vcpus\":1,\"memory_mib\":512,\"network\":\"none\",\"console\":\"log\","
			 "\"rng\":\"true\",\"vtpm\":false}");
	REFUSED("policy: guest.vtpm: expected a boolean, got an integer",
		.guest = "{\"vcpus\":1,\"memory_mib\":512,\"network\":\"none\",\"console\":\"log\","
			 "\"rng\":true,\"vtpm\":0}");
	REFUSED("policy: guest.network: expected a string, got null",
		.guest = "{\"vcpus\":1,\"memory_mib\":512,\"network\":null,\"console\":\"log\","
			 "\"rng\":true,\"vtpm\":false}");
	REFUSED("policy: zeroize_key: expected a string, got an object", .zk = "{}");
}

static void test_scalars(void **state)
{
	char longname[POLICY_NAME_MAX + 4];
	struct policy *p;

	REFUSED("policy: serial: must be at least 1", .serial = "0");
	p = OK(.serial = "1");
	policy_free(p);

	longname[0] = '"';
	memset(longname + 1, 'x', POLICY_NAME_MAX);
	strcpy(longname + 1 + POLICY_NAME_MAX, "\"");
	policy_free(OK(.cls = longname));
	strcpy(longname + 1 + POLICY_NAME_MAX, "x\"");
	REFUSED("policy: appliance_class must be 1 to 128 characters of A-Z a-z 0-9 . _ -",
		.cls = longname);
	REFUSED("policy: appliance_class must be 1 to 128 characters of A-Z a-z 0-9 . _ -",
		.cls = "\"\"");
	REFUSED("policy: appliance_class must be 1 to 128 characters of A-Z a-z 0-9 . _ -",
		.cls = "\"acme/edge\"");
	REFUSED("policy: appliance_class must be 1 to 128 characters of A-Z a-z 0-9 . _ -",
		.cls = "\"\\u00e9\"");
}

static void test_release_cas(void **state)
{
	char cas[65536];
	char *s, *q;
	int n;

	REFUSED("policy: release_cas: at least one release CA is needed", .cas = "[]");
	n = snprintf(cas, sizeof(cas), "[");
	for (int i = 0; i < 9; i++)
		n += snprintf(cas + n, sizeof(cas) - (size_t)n, "%s%s", i ? "," : "", q_release_ca);
	snprintf(cas + n, sizeof(cas) - (size_t)n, "]");
	REFUSED("policy: release_cas: 9 entries, more than the 8 allowed", .cas = cas);
	/* 8 is fine (duplicates are not refused). */
	*strrchr(cas, ',') = 0;
	strcat(cas, "]");
	policy_free(OK(.cas = cas));

	/* A leaf where a CA belongs. */
	snprintf(cas, sizeof(cas), "[%s,%s]", q_release_ca, q_leaf);
	REFUSED("policy: release_cas[1]: not a CA certificate (basicConstraints CA:TRUE is "
		"missing)",
		.cas = cas);

	/* Garbage in many shapes. */
	{
		static const struct {
			const char *text, *why;
		} bad[] = {
		    {"", "not a PEM certificate (expected -----BEGIN CERTIFICATE----- first)"},
		    {"hello", "not a PEM certificate (expected -----BEGIN CERTIFICATE----- first)"},
		    {"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
		     "not a PEM certificate (no valid PEM block)"},
		    {"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		     "not a valid DER X.509 certificate inside the PEM block"},
		    {"-----BEGIN CERTIFICATE-----\nMIIB\n",
		     "not a PEM certificate (no valid PEM block)"},
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char want[256];

			q = quoted(bad[i].text);
			snprintf(cas, sizeof(cas), "[%s]", q);
			snprintf(want, sizeof(want), "policy: release_cas[0]: %s", bad[i].why);
			REFUSED(want, .cas = cas);
			free(q);
		}
	}
	/* Two certificates in one entry; text before or after. */
	s = xmalloc(strlen(release_ca) * 2 + 16);
	assert_non_null(s);
	sprintf(s, "%s%s", release_ca, root_ca);
	q = quoted(s);
	snprintf(cas, sizeof(cas), "[%s]", q);
	REFUSED("policy: release_cas[0]: trailing data after the certificate (one certificate per "
		"entry)",
		.cas = cas);
	free(q);
	sprintf(s, "%sx", release_ca);
	q = quoted(s);
	snprintf(cas, sizeof(cas), "[%s]", q);
	REFUSED("policy: release_cas[0]: trailing data after the certificate (one certificate per "
		"entry)",
		.cas = cas);
	free(q);
	sprintf(s, "Subject: x\n%s", release_ca);
	q = quoted(s);
	snprintf(cas, sizeof(cas), "[%s]", q);
	REFUSED("policy: release_cas[0]: not a PEM certificate (expected -----BEGIN "
		"CERTIFICATE----- first)",
		.cas = cas);
	free(q);
	/* Whitespace around it is fine and kept. */
	sprintf(s, "\n%s\n \n", release_ca);
	q = quoted(s);
	snprintf(cas, sizeof(cas), "[%s]", q);
	{
		struct policy *p = OK(.cas = cas);

		assert_string_equal(p->release_cas[0], s);
		round_trip(p);
		policy_free(p);
	}
	free(q);
	free(s);
	/* A key is not a certificate. */
	snprintf(cas, sizeof(cas), "[%s]", q_zkey);
	REFUSED("policy: release_cas[0]: a PEM \"PUBLIC KEY\" block, not a \"CERTIFICATE\"",
		.cas = cas);
}

static void test_bundles(void **state)
{
	static const char *const bad_paths[] = {
	    "var/lib/x", "/var/../x", "/var/lib/..", "/..",	  "/.",
	    "/./x",	 "//var",     "/var//lib",   "/var/lib/", "/",
	    "",		 "/a b",      "/a\\\\b",     "/\\u00e9",  "/a/x:y",
	};
	char b[1024], want[600], longpath[POLICY_PATH_MAX + 2];

	REFUSED("policy: bundles: at least one bundle is needed", .bundles = "[]");
	REFUSED("policy: bundles[1].name: \"os\" is listed twice",
		.bundles = "[" BUNDLE_OS ",{\"name\":\"os\",\"path\":\"/b\",\"min_version\":1}]");
	REFUSED("policy: bundles[0].name: \"a b\" must be 1 to 128 characters of A-Z a-z 0-9 . _ -",
		.bundles = "[{\"name\":\"a b\",\"path\":\"/b\",\"min_version\":1}]");
	REFUSED("policy: bundles[0].name: \"\" must be 1 to 128 characters of A-Z a-z 0-9 . _ -",
		.bundles = "[{\"name\":\"\",\"path\":\"/b\",\"min_version\":1}]");
	{
		char nine[2048];
		int n = snprintf(nine, sizeof(nine), "[");

		for (int i = 0; i < 9; i++)
			n += snprintf(nine + n, sizeof(nine) - (size_t)n,
				      "%s{\"name\":\"b%d\",\"path\":\"/b\",\"min_version\":%d}",
				      i ? "," : "", i, i);
		snprintf(nine + n, sizeof(nine) - (size_t)n, "]");
		REFUSED("policy: bundles: 9 entries, more than the 8 allowed", .bundles = nine);
	}
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
		struct policy *p;

		snprintf(b, sizeof(b), "[{\"name\":\"os\",\"path\":\"%s\",\"min_version\":1}]",
			 bad_paths[i]);
		p = parse_as(&(struct subst){.bundles = b}, "policy: bundles[0].path: \"", true);
		policy_free(p);
	}
	snprintf(
	    want, sizeof(want),
	    "policy: bundles[0].path: \"var/lib/x\" is not a valid path (absolute, components "
	    "of A-Z a-z 0-9 . _ + -, no . or .., no doubled or trailing /, at most 255 bytes)");
	REFUSED(want, .bundles = "[{\"name\":\"os\",\"path\":\"var/lib/x\",\"min_version\":1}]");
	REFUSED_WITH("bundles[0].path: \"/var/../x\" is not a valid path",
		     .bundles = "[{\"name\":\"os\",\"path\":\"/var/../x\",\"min_version\":1}]");
	/* 255 bytes pass, 256 do not. */
	longpath[0] = '/';
	memset(longpath + 1, 'p', POLICY_PATH_MAX - 1);
	longpath[POLICY_PATH_MAX] = 0;
	snprintf(b, sizeof(b), "[{\"name\":\"os\",\"path\":\"%s\",\"min_version\":1}]", longpath);
	policy_free(OK(.bundles = b));
	strcat(longpath, "p");
	snprintf(b, sizeof(b), "[{\"name\":\"os\",\"path\":\"%s\",\"min_version\":1}]", longpath);
	REFUSED_WITH("bundles[0].path: \"/ppp", .bundles = b);
	/* Dots inside names are fine. */
	policy_free(
	    OK(.bundles = "[{\"name\":\"os\",\"path\":\"/a/.b/c../...\",\"min_version\":0}]"));
}

static void test_seal_pcrs(void **state)
{
	REFUSED("policy: seal_pcrs: refusing to seal to PCR 16: it can be reset from software "
		"(PCR 16 debug, PCR 23 application), so anyone could replay its value",
		.pcrs = "[15,16]");
	REFUSED("policy: seal_pcrs: refusing to seal to PCR 23: it can be reset from software "
		"(PCR 16 debug, PCR 23 application), so anyone could replay its value",
		.pcrs = "[15,23]");
	REFUSED("policy: seal_pcrs[1]: 24 is not a PCR (0..23)", .pcrs = "[15,24]");
	REFUSED("policy: seal_pcrs[0]: 32 is not a PCR (0..23)", .pcrs = "[32]");
	REFUSED("policy: seal_pcrs[0]: 18446744073709551615 is not a PCR (0..23)",
		.pcrs = "[18446744073709551615]");
	REFUSED("policy: seal_pcrs[0]: -1 is not a PCR (0..23)", .pcrs = "[-1,15]");
	REFUSED("policy: seal_pcrs[1]: PCR 15 is listed twice", .pcrs = "[15,15]");
	REFUSED("policy: seal_pcrs[2]: PCR 7 is listed twice", .pcrs = "[0,7,7,15]");
	REFUSED("policy: seal_pcrs[1]: PCR 7 after PCR 15; list PCRs in ascending order",
		.pcrs = "[15,7]");
	REFUSED("policy: seal_pcrs: must include PCR 15, the PCR sealboot measures into",
		.pcrs = "[7]");
	REFUSED("policy: seal_pcrs: empty; a seal must bind at least PCR 15", .pcrs = "[]");
	REFUSED("policy: seal_pcrs: 25 entries, more than the 24 allowed",
		.pcrs = "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]");
	policy_free(OK(.pcrs = "[15]"));
	policy_free(OK(.pcrs = "[0,15,22]"));
}

/* The sealing set must cover the code before the anchor (docs/pcrs.md):
 * 4, 7, 15 and 9 (or 11 and 12 for a UKI); anything less is signed only
 * with an override the policy then carries. */
static void test_measured_boot(void **state)
{
	static const struct {
		tpmpolicy_pcr_mask_t pcrs;
		const char *missing; /* NULL: covered */
	} cases[] = {
	    {0x8290, NULL}, /* 4, 7, 9, 15 */
	    {0x8295, NULL}, /* 0, 2, 4, 7, 9, 15 */
	    {0x9890, NULL}, /* 4, 7, 11, 12, 15 */
	    {0x8080, "PCR 4 (the kernel or boot image the firmware started) is missing"},
	    {0x8091, "PCR 9 (the initramfs and kernel command line) is missing"},
	    {0x8210, "PCR 7 (the Secure Boot state and keys) is missing"},
	    {0x0290, "PCR 15 (sealboot's own measurements) is missing"},
	    {0x8890, "PCR 9 (the initramfs and kernel command line) is missing"}, /* 11 alone */
	    {0x8000, "PCR 4 "},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag d = {0};
		int r = policy_check_measured_boot(cases[i].pcrs, &d);

		if (!cases[i].missing) {
			assert_int_equal(r, 0);
			continue;
		}
		assert_int_equal(r, -EPERM);
		assert_int_equal(d.cls, DIAG_MALFORMED);
		if (!strstr(d.msg, cases[i].missing) || !strstr(d.msg, "--allow-unmeasured-boot"))
			fail_msg("0x%x: \"%s\"", (unsigned)cases[i].pcrs, d.msg);
	}
	{
		struct diag d = {0};

		policy_check_measured_boot(0x8091, &d);
		assert_string_equal(
		    d.msg, "policy: seal_pcrs [0, 4, 7, 15] leaves code before the anchor "
			   "unmeasured: PCR 9 (the initramfs and kernel command line) is "
			   "missing; seal to at least 4, 7, 9 and 15 (4, 7, 11, 12 and 15 for "
			   "a unified kernel image), or sign with --allow-unmeasured-boot "
			   "(docs/pcrs.md)");
	}
	/* The override in the document: only true, only with a weak set, and
	 * in canonical form right after seal_pcrs. */
	{
		struct policy *p = OK(.pcrs = "[7,15]", .extra = ",\"allow_unmeasured_boot\":true");
		char *text;
		size_t n;

		assert_true(p->allow_unmeasured_boot);
		serialize_ok(p, &text, &n);
		assert_non_null(
		    strstr(text, "\"seal_pcrs\":[7,15],\"allow_unmeasured_boot\":true,"));
		free(text);
		p->allow_unmeasured_boot = false;
		serialize_ok(p, &text, &n);
		assert_null(strstr(text, "allow_unmeasured_boot"));
		free(text);
		policy_free(p);
	}
	REFUSED("policy: allow_unmeasured_boot: only true is meaningful; leave it out instead",
		.extra = ",\"allow_unmeasured_boot\":false");
	REFUSED("policy: allow_unmeasured_boot: seal_pcrs covers the boot before the anchor; "
		"leave the member out",
		.pcrs = "[4,7,9,15]", .extra = ",\"allow_unmeasured_boot\":true");
	REFUSED_WITH("allow_unmeasured_boot", .extra = ",\"allow_unmeasured_boot\":1");
	policy_free(OK(.pcrs = "[4,7,9,15]"));
}

static void test_volumes(void **state)
{
	static const char *const bad_uuids[] = {
	    "0F4C2A3E-1B2C-4D5E-8F90-A1B2C3D4E5F6",  /* uppercase */
	    "0f4c2a3e-1b2c-4d5e-8f90-a1b2c3d4e5f",   /* short */
	    "0f4c2a3e-1b2c-4d5e-8f90-a1b2c3d4e5f6a", /* long */
	    "0f4c2a3e1b2c4d5e8f90a1b2c3d4e5f6",	     /* no dashes */
	    "0f4c2a3e-1b2c-4d5e-8f90a-1b2c3d4e5f6",  /* dash misplaced */
	    "{0f4c2a3e-1b2c-4d5e-8f90-a1b2c3d4e5f}", "0f4c2a3e-1b2c-4d5e-8f90-a1b2c3d4e5g6", "",
	};
	char v[1024];

	for (size_t i = 0; i < sizeof(bad_uuids) / sizeof(bad_uuids[0]); i++) {
		snprintf(v, sizeof(v),
			 "[" VOLUME_DATA ",{\"uuid\":\"%s\",\"name\":\"x\",\"purpose\":\"data\"}]",
			 bad_uuids[i]);
		REFUSED("policy: volumes[1].uuid: not a canonical lowercase UUID", .volumes = v);
	}
	REFUSED("policy: volumes: at least one volume is needed", .volumes = "[]");
	REFUSED("policy: volumes[1].uuid: " UUID1 " is listed twice",
		.volumes = "[" VOLUME_DATA ",{\"uuid\":\"" UUID1
			   "\",\"name\":\"other\",\"purpose\":\"data\"}]");
	REFUSED("policy: volumes[1].name: \"data\" is listed twice",
		.volumes = "[" VOLUME_DATA ",{\"uuid\":\"" UUID2
			   "\",\"name\":\"data\",\"purpose\":\"state\"}]");
	REFUSED("policy: volumes[0].name: \"a.b\" must be 1 to 32 characters of A-Z a-z 0-9 _ -",
		.volumes = "[{\"uuid\":\"" UUID1 "\",\"name\":\"a.b\",\"purpose\":\"data\"}]");
	REFUSED("policy: volumes[0].name: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\" must be 1 to 32 "
		"characters of A-Z a-z 0-9 _ -",
		.volumes =
		    "[{\"uuid\":\"" UUID1 "\",\"name\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\","
		    "\"purpose\":\"data\"}]");
	policy_free(OK(.volumes = "[{\"uuid\":\"" UUID1 "\",\"name\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				  "xxxx\",\"purpose\":\"data\"}]"));
	REFUSED("policy: volumes[0].purpose: unknown purpose \"swap\" (data, images, state)",
		.volumes = "[{\"uuid\":\"" UUID1 "\",\"name\":\"d\",\"purpose\":\"swap\"}]");
	REFUSED("policy: volumes[0].purpose: unknown purpose \"Data\" (data, images, state)",
		.volumes = "[{\"uuid\":\"" UUID1 "\",\"name\":\"d\",\"purpose\":\"Data\"}]");
	REFUSED("policy: volumes[0].device: \"dev/sda\" is not a valid path (absolute, components "
		"of A-Z a-z 0-9 . _ + -, no . or .., no doubled or trailing /, at most 255 bytes)",
		.volumes = "[{\"uuid\":\"" UUID1 "\",\"name\":\"d\",\"purpose\":\"data\","
			   "\"device\":\"dev/sda\"}]");
	REFUSED_WITH("volumes[0].device: \"/dev/../sda\" is not a valid path",
		     .volumes = "[{\"uuid\":\"" UUID1 "\",\"name\":\"d\",\"purpose\":\"data\","
				"\"device\":\"/dev/../sda\"}]");
	{
		char nine[4096];
		int n = snprintf(nine, sizeof(nine), "[");

		for (int i = 0; i < 9; i++)
			n += snprintf(
			    nine + n, sizeof(nine) - (size_t)n,
			    "%s{\"uuid\":\"0f4c2a3e-1b2c-4d5e-8f90-a1b2c3d4e5f%d\",\"name\":"
			    "\"v%d\",\"purpose\":\"data\"}",
			    i ? "," : "", i, i);
		snprintf(nine + n, sizeof(nine) - (size_t)n, "]");
		REFUSED("policy: volumes: 9 entries, more than the 8 allowed", .volumes = nine);
	}
}

#define G(net, extra)                                                                              \
	"{\"vcpus\":1,\"memory_mib\":512,\"network\":\"" net "\"" extra ",\"console\":\"log\","    \
	"\"rng\":true,\"vtpm\":false}"

static void test_guest(void **state)
{
	REFUSED("policy: guest.bridge: missing (required when network is \"bridged\")",
		.guest = G("bridged", ""));
	REFUSED("policy: guest.bridge: only allowed when network is \"bridged\" (network is "
		"\"none\")",
		.guest = G("none", ",\"bridge\":\"br0\""));
	REFUSED("policy: guest.bridge: only allowed when network is \"bridged\" (network is "
		"\"isolated\")",
		.guest = G("isolated", ",\"bridge\":\"br0\""));
	REFUSED("policy: guest.bridge: \"br0123456789abcd\" is not an interface name (1 to 15 "
		"characters of A-Z a-z 0-9 _ . -, the first a letter or digit)",
		.guest = G("bridged", ",\"bridge\":\"br0123456789abcd\""));
	policy_free(OK(.guest = G("bridged", ",\"bridge\":\"br0123456789abc\"")));
	REFUSED_WITH("guest.bridge: \"br 0\" is not an interface name",
		     .guest = G("bridged", ",\"bridge\":\"br 0\""));
	REFUSED_WITH("guest.bridge: \"..\" is not an interface name",
		     .guest = G("bridged", ",\"bridge\":\"..\""));
	REFUSED_WITH("guest.bridge: \"\" is not an interface name",
		     .guest = G("bridged", ",\"bridge\":\"\""));
	REFUSED_WITH("guest.bridge: \"-br0\" is not an interface name",
		     .guest = G("bridged", ",\"bridge\":\"-br0\""));
	REFUSED_WITH("guest.bridge: \"_x\" is not an interface name",
		     .guest = G("bridged", ",\"bridge\":\"_x\""));
	REFUSED("policy: guest.network: unknown network \"nat\" (none, isolated, bridged)",
		.guest = G("nat", ""));
	REFUSED("policy: guest.console: unknown console \"serial\" (none, log)",
		.guest = "{\"vcpus\":1,\"memory_mib\":512,\"network\":\"none\",\"console\":"
			 "\"serial\",\"rng\":true,\"vtpm\":false}");
	REFUSED("policy: guest.vcpus: 0 is outside 1..256",
		.guest = "{\"vcpus\":0,\"memory_mib\":512,\"network\":\"none\",\"console\":\"log\","
			 "\"rng\":true,\"vtpm\":false}");
	REFUSED("policy: guest.vcpus: 257 is outside 1..256",
		.guest = "{\"vcpus\":257,\"memory_mib\":512,\"network\":\"none\",\"console\":"
			 "\"log\",\"rng\":true,\"vtpm\":false}");
	REFUSED("policy: guest.vcpus: 4294967297 is outside 1..256",
		.guest = "{\"vcpus\":4294967297,\"memory_mib\":512,\"network\":\"none\","
			 "\"console\":\"log\",\"rng\":true,\"vtpm\":false}");
	REFUSED("policy: guest.memory_mib: 63 is outside 64..1048576",
		.guest = "{\"vcpus\":1,\"memory_mib\":63,\"network\":\"none\",\"console\":\"log\","
			 "\"rng\":true,\"vtpm\":false}");
	REFUSED("policy: guest.memory_mib: 1048577 is outside 64..1048576",
		.guest = "{\"vcpus\":1,\"memory_mib\":1048577,\"network\":\"none\",\"console\":"
			 "\"log\",\"rng\":true,\"vtpm\":false}");
}

static void test_zeroize_key(void **state)
{
	char *q;

	REFUSED("policy: zeroize_key: a secp384r1 key; only ECDSA P-256 (prime256v1) keys are "
		"supported",
		.zk = q_p384key);
	REFUSED("policy: zeroize_key: a key of type ED25519; only ECDSA P-256 (prime256v1) keys "
		"are supported",
		.zk = q_edkey);
	REFUSED("policy: zeroize_key: not a PEM public key (expected -----BEGIN PUBLIC KEY-----)",
		.zk = "\"garbage\"");
	REFUSED("policy: zeroize_key: not a PEM public key (expected -----BEGIN PUBLIC KEY-----)",
		.zk = "\"-----BEGIN PUBLIC KEY-----\\nnot base64!\\n-----END PUBLIC KEY-----\\n\"");
	REFUSED("policy: zeroize_key: not a valid DER SubjectPublicKeyInfo inside the PEM block",
		.zk = "\"-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\\n\"");
	REFUSED("policy: zeroize_key: a PEM \"CERTIFICATE\" block, not a \"PUBLIC KEY\" "
		"(SubjectPublicKeyInfo)",
		.zk = q_release_ca);
	/* Two keys in one. */
	{
		char *two = xmalloc(2 * strlen(zkey) + 1);

		sprintf(two, "%s%s", zkey, zkey);
		q = quoted(two);
		REFUSED("policy: zeroize_key: trailing data after the public key", .zk = q);
		free(q);
		free(two);
	}
}

/* The struct side: validate and serialize refuse what parse would. */
static void test_validate_struct(void **state)
{
	struct policy *p = OK(0);
	struct diag d = {0};
	char *s = NULL;
	size_t n;

	assert_int_equal(policy_validate(p, &d), 0);

	p->seal_pcrs = TPMPOLICY_PCR(7);
	assert_int_equal(policy_validate(p, &d), -EINVAL);
	assert_string_equal(
	    d.msg, "policy: seal_pcrs: must include PCR 15, the PCR sealboot measures into");
	assert_int_equal(d.cls, DIAG_MALFORMED);
	assert_int_equal(policy_serialize(p, &s, &n), -EINVAL);
	assert_null(s);
	p->seal_pcrs = TPMPOLICY_PCR(15) | TPMPOLICY_PCR(24);
	memset(&d, 0, sizeof(d));
	assert_int_equal(policy_validate(p, &d), -EINVAL);
	assert_string_equal(d.msg, "policy: seal_pcrs: PCR 24 does not exist (PCRs are 0..23)");
	p->seal_pcrs = TPMPOLICY_PCR(15);

	p->guest.bridge = strdup("br0");
	memset(&d, 0, sizeof(d));
	assert_int_equal(policy_validate(p, &d), -EINVAL);
	assert_string_equal(d.msg, "policy: guest.bridge: only allowed when network is "
				   "\"bridged\" (network is \"none\")");
	p->guest.network = POLICY_NET_BRIDGED;
	assert_int_equal(policy_validate(p, NULL), 0);
	p->guest.network = (enum policy_network)7;
	memset(&d, 0, sizeof(d));
	assert_int_equal(policy_validate(p, &d), -EINVAL);
	assert_string_equal(d.msg, "policy: guest.network: unknown network");
	p->guest.network = POLICY_NET_BRIDGED;

	p->format_version = 2;
	memset(&d, 0, sizeof(d));
	assert_int_equal(policy_validate(p, &d), -EINVAL);
	assert_string_equal(d.msg, "policy: unsupported format_version 2 (this verifier knows 1)");
	p->format_version = 1;

	p->volumes[0].uuid[0] = 'A';
	memset(&d, 0, sizeof(d));
	assert_int_equal(policy_validate(p, &d), -EINVAL);
	assert_string_equal(d.msg, "policy: volumes[0].uuid: not a canonical lowercase UUID");
	p->volumes[0].uuid[0] = '0';

	free(p->volumes[0].device);
	p->volumes[0].device = NULL;
	serialize_ok(p, &s, &n);
	assert_null(strstr(s, "\"device\""));
	assert_non_null(strstr(s, "\"network\":\"bridged\",\"bridge\":\"br0\",\"console\""));
	round_trip(p);
	free(s);
	policy_free(p);

	assert_string_equal(policy_network_name(POLICY_NET_NONE), "none");
	assert_string_equal(policy_network_name(POLICY_NET_ISOLATED), "isolated");
	assert_string_equal(policy_network_name(POLICY_NET_BRIDGED), "bridged");
	assert_string_equal(policy_network_name((enum policy_network)9), "?");
}

/* A struct built by hand serializes to the exact canonical bytes. */
static void test_serialize_golden(void **state)
{
	char *cas[] = {release_ca};
	struct policy_bundle b[] = {
	    {.name = "os", .path = "/var/lib/sealboot/bundles/os", .min_version = 1}};
	struct policy_volume v[] = {{.uuid = UUID1,
				     .name = "data",
				     .purpose = "data",
				     .device = "/dev/disk/by-partlabel/data"}};
	struct policy p = {
	    .format_version = 1,
	    .appliance_class = "acme-edge",
	    .serial = 7,
	    .release_cas = cas,
	    .n_release_cas = 1,
	    .bundles = b,
	    .n_bundles = 1,
	    .seal_pcrs = TPMPOLICY_PCR(15) | TPMPOLICY_PCR(7),
	    .volumes = v,
	    .n_volumes = 1,
	    .guest = {.vcpus = 1,
		      .memory_mib = 512,
		      .network = POLICY_NET_NONE,
		      .console_log = true,
		      .rng = true},
	    .zeroize_key = zkey,
	};
	char *want = build(&(struct subst){0}), *s, *s2;
	size_t n, n2;
	json_object *o = NULL;

	serialize_ok(&p, &s, &n);
	assert_string_equal(s, want);
	serialize_ok(&p, &s2, &n2);
	assert_int_equal(n, n2);
	assert_memory_equal(s, s2, n);
	/* It starts exactly so; no whitespace outside strings. */
	assert_true(!strncmp(s,
			     "{\"format\":\"sealboot-appliance-policy\",\"format_version\":1,"
			     "\"appliance_class\":\"acme-edge\",\"serial\":7,\"release_cas\":"
			     "[\"-----BEGIN CERTIFICATE-----\\n",
			     120));
	assert_int_equal(policy_to_json(&p, &o), 0);
	assert_int_equal(json_object_get_int(json_object_object_get(o, "serial")), 7);
	json_object_put(o);
	free(s);
	free(s2);
	free(want);
}

/* Every fixture: good-*.json parses and round-trips (good-canonical-* is
 * also accepted as is by policy_parse_canonical); bad-*.json is refused with
 * the message in bad-*.expect. Adding a fixture adds a test. */
static void test_fixtures(void **state)
{
	DIR *dir = opendir(FIXTURES);
	struct dirent *de;
	unsigned good = 0, bad = 0;

	assert_non_null(dir);
	while ((de = readdir(dir))) {
		char path[512], expath[512];
		size_t len = strlen(de->d_name), n, en;
		struct policy *p = NULL;
		struct diag d = {0};
		char *buf, *want;
		int r;

		if (len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", FIXTURES, de->d_name);
		buf = slurp(path, &n);
		r = policy_parse(buf, n, &p, &d);
		if (!strncmp(de->d_name, "good-", 5)) {
			if (r < 0)
				fail_msg("%s refused: %s", de->d_name, d.msg);
			round_trip(p);
			policy_free(p);
			p = NULL;
			r = policy_parse_canonical(buf, n, &p, &d);
			if (!strncmp(de->d_name, "good-canonical-", 15) && r < 0)
				fail_msg("%s: not canonical: %s", de->d_name, d.msg);
			if (strncmp(de->d_name, "good-canonical-", 15) && r == 0)
				fail_msg("%s: canonical, name it good-canonical-", de->d_name);
			policy_free(p);
			good++;
		} else if (!strncmp(de->d_name, "bad-", 4)) {
			snprintf(expath, sizeof(expath), "%s/%.*s.expect", FIXTURES, (int)len - 5,
				 de->d_name);
			want = slurp(expath, &en);
			while (en && want[en - 1] == '\n')
				want[--en] = 0;
			if (r != -EBADMSG)
				fail_msg("%s: got %d, want -EBADMSG", de->d_name, r);
			assert_null(p);
			assert_int_equal(d.cls, DIAG_MALFORMED);
			if (strcmp(d.msg, want))
				fail_msg("%s: message \"%s\"\n   want \"%s\"", de->d_name, d.msg,
					 want);
			free(want);
			bad++;
		} else {
			fail_msg("fixture %s is neither good- nor bad-", de->d_name);
		}
		free(buf);
	}
	closedir(dir);
	print_message("%u good and %u bad policy fixtures\n", good, bad);
	assert_true(good >= 2);
	assert_true(bad >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_template),	    cmocka_unit_test(test_full_round_trip),
	    cmocka_unit_test(test_canonical),	    cmocka_unit_test(test_gate),
	    cmocka_unit_test(test_members),	    cmocka_unit_test(test_types),
	    cmocka_unit_test(test_scalars),	    cmocka_unit_test(test_release_cas),
	    cmocka_unit_test(test_bundles),	    cmocka_unit_test(test_seal_pcrs),
	    cmocka_unit_test(test_measured_boot),   cmocka_unit_test(test_volumes),
	    cmocka_unit_test(test_guest),	    cmocka_unit_test(test_zeroize_key),
	    cmocka_unit_test(test_validate_struct), cmocka_unit_test(test_serialize_golden),
	    cmocka_unit_test(test_fixtures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
