/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sealboot-sign: release staff turn a VM image into a signed bundle, and
 * anyone verifies one. A thin CLI over the bundle library (bundle.h): parse
 * arguments, call the library, print. Exit codes: sealboot-sign(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "bundle.h"
#include "cli.h"
#include "fsutil.h"
#include "verity.h"
#include "config.h"
#include "hex.h"

/* Exit statuses (sealboot-sign(1)): 0 ok, 1 internal, 2 usage; 3 to 7 are
 * the failure classes' (diag_exit_code()). */
enum {
	EXIT_OK = 0,
	EXIT_INTERNAL = 1,
	EXIT_USAGE = 2,
};

/* The one place a failure class becomes an exit code (util/diag.h). */
static int exit_code(enum diag_class cls)
{
	return diag_exit_code(cls);
}

static const char *prog = "sealboot-sign";

static void usage_main(FILE *f)
{
	fprintf(f,
		"Usage: %s COMMAND [OPTIONS] BUNDLE_DIR\n"
		"\n"
		"Sign VM image bundles and verify them.\n"
		"\n"
		"Commands:\n"
		"  sign     hash the payloads in BUNDLE_DIR, write and sign manifest.json\n"
		"  verify   check a bundle's signature, signer, manifest and every payload\n"
		"\n"
		"  -h, --help     show this help (COMMAND --help for a command's options)\n"
		"  -V, --version  show the version\n"
		"\n"
		"Exit status: 0 ok, 1 internal or I/O error, 2 usage, 3 signature invalid,\n"
		"4 signer not trusted, 5 manifest malformed, 6 content mismatch, 7 expired.\n"
		"See sealboot-sign(1).\n",
		prog);
}

static void usage_sign(FILE *f)
{
	fprintf(f,
		"Usage: %s sign --key KEY --cert CERT --name NAME --version N --class CLASS\n"
		"                   --payload ROLE:PATH [--payload ROLE:PATH ...] [OPTIONS] "
		"BUNDLE_DIR\n"
		"\n"
		"Hash the payload files already in BUNDLE_DIR and write manifest.json and its\n"
		"detached CMS signature manifest.json.p7s.\n"
		"\n"
		"  --key KEY            signer key: a PEM file or a pkcs11: URI\n"
		"  --cert CERT          signer certificate (PEM, codeSigning EKU)\n"
		"  --chain PEM          intermediate CA certificates to embed\n"
		"  --pkcs11-module SO   PKCS#11 module for a pkcs11: key\n"
		"  --secret-fd N        read the key passphrase or token PIN from fd N\n"
		"                       (default: ask on the terminal if one is needed)\n"
		"  --name NAME          bundle name, [A-Za-z0-9._-]{1,128}\n"
		"  --version N          bundle version, unsigned 64-bit, never reused\n"
		"  --class CLASS        appliance class the bundle is for\n"
		"  --not-after TIME     last valid moment, YYYY-MM-DDTHH:MM:SSZ\n"
		"  --payload ROLE:PATH  a payload (roles: disk kernel initrd cmdline data),\n"
		"                       PATH relative to BUNDLE_DIR\n"
		"  --digest ALG         sha256 (default) or sha384\n"
		"  --verity             a dm-verity hash tree for each disk payload, written\n"
		"                       as PATH.verity (manifest format_version 2, which\n"
		"                       anchors before it do not accept)\n"
		"  --force              replace an existing manifest and signature\n"
		"  --threads N          payloads hashed at once (default: online CPUs)\n"
		"  --no-progress        no progress meter on a terminal\n"
		"  --json               print the result as JSON on stdout\n"
		"  -h, --help           show this help\n",
		prog);
}

static void usage_verify(FILE *f)
{
	fprintf(f,
		"Usage: %s verify --ca CA.pem [--ca CA.pem ...] [OPTIONS] BUNDLE_DIR\n"
		"\n"
		"Verify the signature over the raw manifest, the chain to a trusted CA, the\n"
		"codeSigning key usage, the manifest, and every payload's size and digest.\n"
		"\n"
		"  --ca FILE        a trusted release CA (PEM); repeatable\n"
		"  --at TIME        verify as of TIME (YYYY-MM-DDTHH:MM:SSZ), default now\n"
		"  --threads N      payloads hashed at once (default: online CPUs)\n"
		"  --no-progress    no progress meter on a terminal\n"
		"  --json           print the result as JSON on stdout\n"
		"  -h, --help       show this help\n",
		prog);
}

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", prog, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '%s %s --help')\n", prog, cmd);
	return EXIT_USAGE;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s[0] || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_threads(const char *s, unsigned *ret)
{
	uint64_t v;

	if (parse_u64(s, &v) < 0 || v == 0 || v > 256)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

static json_object *payloads_json(const struct manifest *m)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < m->n_payloads; i++) {
		const struct payload *p = &m->payloads[i];
		json_object *o = json_object_new_object(), *dg = json_object_new_object();
		char hex[2 * DIGEST_MAX_LEN + 1];

		hex_encode(p->digest, digest_alg_len(p->alg), hex);
		json_object_object_add(o, "path", json_object_new_string(p->path));
		json_object_object_add(o, "role",
				       json_object_new_string(payload_role_name(p->role)));
		json_object_object_add(o, "size", json_object_new_uint64(p->size));
		json_object_object_add(dg, "alg", json_object_new_string(digest_alg_name(p->alg)));
		json_object_object_add(dg, "value", json_object_new_string(hex));
		json_object_object_add(o, "digest", dg);
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *time_or_null(bool has, int64_t t)
{
	char buf[32];

	if (!has)
		return NULL;
	manifest_time_format(t, buf);
	return json_object_new_string(buf);
}

static void print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* Print a failure once: a line on stderr, and the JSON error object when
 * asked. Returns the exit code. */
static int report_failure(const char *cmd, const char *schema, const char *dir, bool json,
			  const struct diag *d)
{
	int code = exit_code(d->cls == DIAG_NONE ? DIAG_INTERNAL : d->cls);
	const char *msg = d->msg[0] ? d->msg : "failed for an unknown reason";

	fprintf(stderr, "%s: %s: %s\n", prog, cmd, msg);
	if (json) {
		json_object *o = json_object_new_object(), *e = json_object_new_object();

		json_object_object_add(o, "schema", json_object_new_string(schema));
		json_object_object_add(o, "bundle", json_object_new_string(dir));
		if (!strcmp(cmd, "verify"))
			json_object_object_add(o, "verified", json_object_new_boolean(0));
		json_object_object_add(e, "class", json_object_new_string(diag_class_name(d->cls)));
		json_object_object_add(e, "exit_code", json_object_new_int(code));
		json_object_object_add(e, "message", json_object_new_string(msg));
		json_object_object_add(o, "error", e);
		print_json(o);
	}
	return code;
}

#define VERIFY_SCHEMA "sealboot-sign-verify/1"
#define SIGN_SCHEMA "sealboot-sign-sign/1"

enum {
	OPT_CA = 0x100,
	OPT_AT,
	OPT_THREADS,
	OPT_NO_PROGRESS,
	OPT_JSON,
	OPT_VERITY,
	OPT_KEY,
	OPT_CERT,
	OPT_CHAIN,
	OPT_MODULE,
	OPT_SECRET_FD,
	OPT_NAME,
	OPT_VERSION,
	OPT_CLASS,
	OPT_NOT_AFTER,
	OPT_PAYLOAD,
	OPT_DIGEST,
	OPT_FORCE,
};

/* A parsing step's "carry on": no exit status is negative. */
#define GO_ON (-1)

/* The options sign and verify share, and help: GO_ON, or the exit status
 * to stop with. */
static int common_option(int c, char **argv, const char *cmd, void (*usage)(FILE *),
			 unsigned *threads, bool *progress, bool *json)
{
	switch (c) {
	case OPT_THREADS:
		if (parse_threads(optarg, threads) < 0)
			return usage_error(cmd, "--threads '%s' is not 1..256", optarg);
		break;
	case OPT_NO_PROGRESS:
		*progress = false;
		break;
	case OPT_JSON:
		*json = true;
		break;
	case 'h':
		usage(stdout);
		return EXIT_OK;
	default: {
		char bad[160];

		return usage_error(cmd, "%s", cli_bad_option(c, argv, bad, sizeof(bad)));
	}
	}
	return GO_ON;
}

/* What `verify` was asked to do; cas has room for each --ca. */
struct verify_args {
	struct bundle_verify_opts vo;
	const char **cas;
	bool json, progress;
	const char *dir;
};

/* One option of `verify`: GO_ON, or the exit status to stop with. */
static int verify_option(int c, char **argv, struct verify_args *a)
{
	switch (c) {
	case OPT_CA:
		a->cas[a->vo.n_ca++] = optarg;
		break;
	case OPT_AT:
		if (manifest_time_parse(optarg, &a->vo.at) < 0 || a->vo.at <= 0)
			return usage_error(
			    "verify", "--at '%s' is not a time like 2027-01-31T12:00:00Z", optarg);
		break;
	default:
		return common_option(c, argv, "verify", usage_verify, &a->vo.threads, &a->progress,
				     &a->json);
	}
	return GO_ON;
}

/* The options and the one BUNDLE_DIR: GO_ON, or the exit status to stop with. */
static int verify_parse(int argc, char **argv, struct verify_args *a)
{
	static const struct option opts[] = {
	    {"ca", required_argument, NULL, OPT_CA},
	    {"at", required_argument, NULL, OPT_AT},
	    {"threads", required_argument, NULL, OPT_THREADS},
	    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c, code;

	opterr = 0; /* one line per mistake: ours (cli_bad_option) */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1)
		if ((code = verify_option(c, argv, a)) != GO_ON)
			return code;
	if (optind != argc - 1)
		return usage_error("verify", "%s", "expected exactly one BUNDLE_DIR");
	a->dir = argv[optind];
	if (a->vo.n_ca == 0)
		return usage_error("verify", "%s", "--ca is required: the release CA to trust");
	a->vo.ca_files = a->cas;
	a->vo.progress = a->progress && isatty(STDERR_FILENO);
	return GO_ON;
}

static void verify_print_json(const char *dir, const struct bundle_verified *v)
{
	const struct manifest *m = v->manifest;
	json_object *o = json_object_new_object(), *jm = json_object_new_object(),
		    *js = json_object_new_object();
	char mhex[65], certhex[65], anchorhex[65];

	hex_encode(v->manifest_sha256, 32, mhex);
	hex_encode(v->signer.cert_sha256, 32, certhex);
	hex_encode(v->signer.anchor_sha256, 32, anchorhex);
	json_object_object_add(o, "schema", json_object_new_string(VERIFY_SCHEMA));
	json_object_object_add(o, "bundle", json_object_new_string(dir));
	json_object_object_add(o, "verified", json_object_new_boolean(1));
	json_object_object_add(jm, "name", json_object_new_string(m->name));
	json_object_object_add(jm, "version", json_object_new_uint64(m->version));
	json_object_object_add(jm, "appliance_class", json_object_new_string(m->appliance_class));
	json_object_object_add(jm, "not_after", time_or_null(m->has_not_after, m->not_after));
	json_object_object_add(jm, "sha256", json_object_new_string(mhex));
	json_object_object_add(jm, "payloads", payloads_json(m));
	json_object_object_add(o, "manifest", jm);
	json_object_object_add(js, "subject", json_object_new_string(v->signer.subject));
	json_object_object_add(js, "issuer", json_object_new_string(v->signer.issuer));
	json_object_object_add(js, "cert_sha256", json_object_new_string(certhex));
	json_object_object_add(js, "anchor_subject",
			       json_object_new_string(v->signer.anchor_subject));
	json_object_object_add(js, "anchor_sha256", json_object_new_string(anchorhex));
	json_object_object_add(js, "signing_time",
			       time_or_null(v->signer.signing_time >= 0, v->signer.signing_time));
	json_object_object_add(o, "signer", js);
	print_json(o);
}

static void verify_print(const struct verify_args *a, const struct bundle_verified *v)
{
	const struct manifest *m = v->manifest;
	uint64_t total = 0;

	if (a->json) {
		verify_print_json(a->dir, v);
		return;
	}
	for (size_t i = 0; i < m->n_payloads; i++)
		total += m->payloads[i].size;
	fprintf(stderr,
		"%s: verified bundle %s version %llu for %s: %zu payload%s, %llu bytes\n"
		"  signed by %s\n  trusted via %s\n",
		prog, m->name, (unsigned long long)m->version, m->appliance_class, m->n_payloads,
		m->n_payloads == 1 ? "" : "s", (unsigned long long)total, v->signer.subject,
		v->signer.anchor_subject);
}

static int cmd_verify(int argc, char **argv)
{
	struct verify_args a = {.progress = true};
	struct bundle_verified *v = NULL;
	struct diag d = {0};
	int code;

	a.cas = calloc((size_t)argc, sizeof(*a.cas));
	if (!a.cas)
		return EXIT_INTERNAL;
	code = verify_parse(argc, argv, &a);
	if (code != GO_ON)
		goto out;
	if (bundle_verify(a.dir, &a.vo, &v, &d) < 0) {
		code = report_failure("verify", VERIFY_SCHEMA, a.dir, a.json, &d);
		goto out;
	}
	verify_print(&a, v);
	code = EXIT_OK;
out:
	bundle_verified_free(v);
	free(a.cas);
	return code;
}

static int parse_payload(const char *arg, struct bundle_payload_spec *ret)
{
	const char *colon = strchr(arg, ':');
	char role[32];

	if (!colon || (size_t)(colon - arg) >= sizeof(role))
		return -EINVAL;
	memcpy(role, arg, (size_t)(colon - arg));
	role[colon - arg] = 0;
	/* verity trees are the signer's own payloads, never given */
	if (payload_role_from_name(role, &ret->role) < 0 || ret->role == ROLE_VERITY)
		return -EINVAL;
	ret->path = colon + 1;
	return 0;
}

/*
 * Every disk payload gets a dm-verity hash tree, written beside it as
 * PATH.verity by libcryptsetup and listed as a payload of role verity
 * (bundle.md, version 2). specs has room for it (argc entries). Nothing is
 * written while a signed manifest is there without --force (bundle_sign
 * then refuses).
 */
static int add_verity(const char *dir, struct bundle_sign_opts *bo,
		      struct bundle_payload_spec *specs, struct payload_verity **ret_v,
		      char ***ret_paths, struct diag *d)
{
	size_t n = bo->n_payloads;
	struct payload_verity *v;
	char **paths;
	int dirfd, r = 0;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return diag_set(d, DIAG_USAGE, errno, "cannot open %s: %s", dir, strerror(errno));
	if (!bo->force && faccessat(dirfd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		close(dirfd);
		return 0;
	}
	v = calloc(n ? n : 1, sizeof(*v));
	paths = calloc(n + 1, sizeof(*paths)); /* NULL-terminated */
	*ret_v = v;
	*ret_paths = paths;
	if (!v || !paths) {
		close(dirfd);
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		if (specs[i].role != ROLE_DISK)
			continue;
		if (asprintf(&paths[i], "%s.verity", specs[i].path) < 0) {
			paths[i] = NULL;
			r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
			break;
		}
		r = verity_format(dirfd, specs[i].path, paths[i], &v[i], d);
		if (r < 0)
			break;
		v[i].hash_tree = paths[i];
		specs[i].verity = &v[i];
		specs[bo->n_payloads].path = paths[i];
		specs[bo->n_payloads].role = ROLE_VERITY;
		bo->n_payloads++;
	}
	close(dirfd);
	return r;
}

/* What `sign` was asked to do; specs has room for each --payload and a
 * verity tree for each. */
struct sign_args {
	struct cms_signer_opts so;
	struct bundle_sign_opts bo;
	struct bundle_payload_spec *specs;
	bool json, progress, have_version, with_verity;
	const char *dir;
};

/* One option of `sign`: GO_ON, or the usage exit status. */
static int sign_option(int c, char **argv, struct sign_args *a)
{
	uint64_t v;

	switch (c) {
	case OPT_KEY:
		a->so.key = optarg;
		break;
	case OPT_CERT:
		a->so.cert = optarg;
		break;
	case OPT_CHAIN:
		a->so.chain = optarg;
		break;
	case OPT_MODULE:
		a->so.pkcs11_module = optarg;
		break;
	case OPT_SECRET_FD:
		if (parse_u64(optarg, &v) < 0 || v > INT_MAX)
			return usage_error("sign", "--secret-fd '%s' is not a file descriptor",
					   optarg);
		a->so.secret_fd = (int)v;
		break;
	case OPT_NAME:
		a->bo.name = optarg;
		break;
	case OPT_VERSION:
		if (parse_u64(optarg, &a->bo.version) < 0)
			return usage_error(
			    "sign", "--version '%s' is not an unsigned 64-bit integer", optarg);
		a->have_version = true;
		break;
	case OPT_CLASS:
		a->bo.appliance_class = optarg;
		break;
	case OPT_NOT_AFTER:
		if (manifest_time_parse(optarg, &a->bo.not_after) < 0)
			return usage_error(
			    "sign", "--not-after '%s' is not a time like 2027-01-31T12:00:00Z",
			    optarg);
		a->bo.has_not_after = true;
		break;
	case OPT_PAYLOAD:
		if (parse_payload(optarg, &a->specs[a->bo.n_payloads]) < 0)
			return usage_error("sign",
					   "--payload '%s' is not ROLE:PATH with ROLE one of disk, "
					   "kernel, initrd, cmdline, data",
					   optarg);
		a->bo.n_payloads++;
		break;
	case OPT_DIGEST:
		if (digest_alg_from_name(optarg, &a->bo.alg) < 0)
			return usage_error("sign", "--digest '%s' is not sha256 or sha384", optarg);
		break;
	case OPT_FORCE:
		a->bo.force = true;
		break;
	case OPT_VERITY:
		a->with_verity = true;
		break;
	default:
		return common_option(c, argv, "sign", usage_sign, &a->bo.threads, &a->progress,
				     &a->json);
	}
	return GO_ON;
}

/* The options, the one BUNDLE_DIR and the required options: GO_ON, or the
 * exit status to stop with (usage, or 0 after --help). */
static int sign_parse(int argc, char **argv, struct sign_args *a)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, OPT_KEY},
	    {"cert", required_argument, NULL, OPT_CERT},
	    {"chain", required_argument, NULL, OPT_CHAIN},
	    {"pkcs11-module", required_argument, NULL, OPT_MODULE},
	    {"secret-fd", required_argument, NULL, OPT_SECRET_FD},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"version", required_argument, NULL, OPT_VERSION},
	    {"class", required_argument, NULL, OPT_CLASS},
	    {"not-after", required_argument, NULL, OPT_NOT_AFTER},
	    {"payload", required_argument, NULL, OPT_PAYLOAD},
	    {"digest", required_argument, NULL, OPT_DIGEST},
	    {"force", no_argument, NULL, OPT_FORCE},
	    {"threads", required_argument, NULL, OPT_THREADS},
	    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"verity", no_argument, NULL, OPT_VERITY},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *missing;
	int c, code;

	opterr = 0; /* one line per mistake: ours (cli_bad_option) */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1)
		if ((code = sign_option(c, argv, a)) != GO_ON)
			return code;
	if (optind != argc - 1)
		return usage_error("sign", "%s", "expected exactly one BUNDLE_DIR");
	a->dir = argv[optind];
	missing = !a->so.key		   ? "--key"
		  : !a->so.cert		   ? "--cert"
		  : !a->bo.name		   ? "--name"
		  : !a->have_version	   ? "--version"
		  : !a->bo.appliance_class ? "--class"
		  : a->bo.n_payloads == 0  ? "--payload"
					   : NULL;
	if (missing)
		return usage_error("sign", "%s is required", missing);
	a->bo.progress = a->progress && isatty(STDERR_FILENO);
	return GO_ON;
}

static void sign_print(const struct sign_args *a, const struct manifest *m,
		       const unsigned char sha[32])
{
	char hex[65];

	hex_encode(sha, 32, hex);
	if (a->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "schema", json_object_new_string(SIGN_SCHEMA));
		json_object_object_add(o, "bundle", json_object_new_string(a->dir));
		json_object_object_add(o, "manifest_sha256", json_object_new_string(hex));
		json_object_object_add(o, "payloads", payloads_json(m));
		print_json(o);
	} else {
		fprintf(
		    stderr,
		    "%s: signed bundle %s version %llu for %s: %zu payload%s, manifest sha256 %s\n",
		    prog, m->name, (unsigned long long)m->version, m->appliance_class,
		    m->n_payloads, m->n_payloads == 1 ? "" : "s", hex);
	}
}

static int cmd_sign(int argc, char **argv)
{
	struct sign_args a = {
	    .so = {.secret_fd = -1}, .bo = {.alg = DIGEST_SHA256}, .progress = true};
	struct payload_verity *verity = NULL;
	char **tree_paths = NULL;
	struct cms_signer *signer = NULL;
	struct manifest *m = NULL;
	unsigned char sha[32];
	struct diag d = {0};
	size_t n_given;
	int code;

	a.specs = calloc(2 * (size_t)argc, sizeof(*a.specs));
	if (!a.specs)
		return EXIT_INTERNAL;
	a.bo.payloads = a.specs;
	code = sign_parse(argc, argv, &a);
	if (code != GO_ON)
		goto out;
	/* Key material is about to be in this process: no core dumps, no
	 * ptrace by other users' processes. */
	(void)prctl(PR_SET_DUMPABLE, 0);
	n_given = a.bo.n_payloads;
	if (cms_signer_load(&a.so, &signer, &d) < 0 ||
	    (a.with_verity && add_verity(a.dir, &a.bo, a.specs, &verity, &tree_paths, &d) < 0) ||
	    bundle_sign(a.dir, &a.bo, signer, &m, sha, &d) < 0) {
		code = report_failure("sign", SIGN_SCHEMA, a.dir, a.json, &d);
	} else {
		sign_print(&a, m, sha);
		code = EXIT_OK;
	}
	for (size_t i = 0; tree_paths && i < n_given; i++)
		free(tree_paths[i]);
out:
	manifest_free(m);
	cms_signer_free(signer);
	free(tree_paths);
	free(verity);
	free(a.specs);
	return code;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
	    {"sign", cmd_sign},
	    {"verify", cmd_verify},
	};

	if (argc < 2) {
		usage_main(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage_main(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("%s %s\n", prog, SEALBOOT_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s' (see '%s --help')\n", prog, argv[1], prog);
	return EXIT_USAGE;
}
