/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sealboot-admin: the security admin's tool. Signs the appliance policy,
 * provisions an appliance's TPM and volumes, and signs the PCR policies that
 * let the TPM release the volume keys. sealboot-admin(8).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin-zeroize.h"
#include "adminkey.h"
#include "appliance.h"
#include "bootpredict.h"
#include "cli.h"
#include "config.h"
#include "fsutil.h"
#include "hex.h"
#include "provision.h"
#include "recoverykey.h"

static const char *prog = "sealboot-admin";

/* Exit statuses (sealboot-admin(8)): 0 ok, 2 usage; 1 and 3 to 7 are the
 * failure classes' (diag_exit_code()); 8 and 9 this tool's own. */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 2,
	EXIT_TPM = 8,
	EXIT_REFUSED = 9, /* would destroy data or another admin's provisioning */
};

static int exit_code(const struct diag *d)
{
	return diag_exit_code(d->cls);
}

static int report(const struct diag *d)
{
	fprintf(stderr, "%s: %s\n", prog, d->msg[0] ? d->msg : "failed");
	return exit_code(d);
}

/*
 * The one place a command's -errno becomes the exit status (sealboot-admin(8)):
 * -EEXIST is a refusal (it would destroy data or another admin's
 * provisioning), -ENODEV and -ENOLCK the TPM (none, or in lockout), anything
 * else the class of the diagnosis. Prints the diagnosis.
 */
static int exit_for(const struct diag *d, int r)
{
	if (r >= 0)
		return EXIT_OK;
	report(d);
	if (r == -EEXIST)
		return EXIT_REFUSED;
	if (r == -ENODEV || r == -ENOLCK)
		return EXIT_TPM;
	return exit_code(d);
}

/* Long on purpose: the help text, which check-man.sh holds against the
 * man page; there is nothing to split but prose. */
static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s policy sign --key KEY [--secret-fd N] [--force]\n"
		"                      [--allow-unmeasured-boot] POLICY.json STATE_DIR\n"
		"       %s policy verify [--json] STATE_DIR\n"
		"       %s policy show [--json] STATE_DIR\n"
		"       %s provision --key KEY [OPTIONS] STATE_DIR\n"
		"       %s pcr-policy sign --key KEY [--serial N] [--pcr N=HEX]... [--from-tpm]\n"
		"                          [--event-log FILE] [--kernel FILE] [--initrd FILE]\n"
		"                          [--cmdline STRING] [--qemu-memory MIB] STATE_DIR\n"
		"       %s pcr-policy activate STATE_DIR\n"
		"       %s pcr-policy predict [--event-log FILE] [--kernel FILE] [--initrd FILE]\n"
		"                          [--cmdline STRING] [--qemu-memory MIB] [--pcrs LIST]\n"
		"                          [--json]\n"
		"       %s zeroize-authorize --key ZEROIZE_KEY --challenge FILE --out ORDER\n"
		"                          [--volume NAME]... [--keep-tpm] [--expires SECONDS]\n"
		"       %s attest-verify --ak AK.pem --nonce HEX [--state STATE_DIR] QUOTE\n"
		"       %s zeroize-verify --ak AK.pem [--order ORDER] RECEIPT EVIDENCE\n"
		"       %s ak-credential --identity FILE --ek-ca CA.pem --out CREDENTIAL\n"
		"                          --ak-out AK.pem\n"
		"\n"
		"The security admin's tool for sealboot appliances.\n"
		"\n"
		"  policy sign       check POLICY.json, write it in canonical form to\n"
		"                    STATE_DIR/policy.json with the admin's signature and\n"
		"                    STATE_DIR/admin.pub; a replacement needs a higher serial\n"
		"  policy verify     check the signature and the policy; exit status says why not\n"
		"  policy show       verify, then print the policy (--json: as signed)\n"
		"  provision         on the appliance: record the admin key in the TPM, define\n"
		"                    the rollback counters, sign the first PCR policy, and seal\n"
		"                    a key per volume (format or enroll LUKS2); idempotent\n"
		"  pcr-policy sign   approve the PCR values of a good boot: the sealing PCR is\n"
		"                    predicted from the policy and bundles, others are taken\n"
		"                    from --pcr, predicted from the boot artifacts (below), or,\n"
		"                    with --from-tpm, read from the appliance's TPM\n"
		"  pcr-policy activate  on the appliance: raise the TPM counter to the serial\n"
		"                    of STATE_DIR/pcr-policy.json, retiring every older one\n"
		"  pcr-policy predict  print the PCR values a boot of these artifacts reaches\n"
		"                    before the anchor runs (offline, no TPM), one N=HEX a line\n"
		"  zeroize-authorize turn an appliance's zeroize challenge into an order signed\n"
		"                    by the zeroize key (ORDER and ORDER.sig)\n"
		"  attest-verify     check an appliance's quote offline: the attestation key's\n"
		"                    signature, the nonce, the event log against the PCRs and,\n"
		"                    with --state, the approved PCR policy\n"
		"  zeroize-verify    check a zeroize receipt and its TPM evidence offline\n"
		"  ak-credential     check an appliance's EK certificate and make a credential\n"
		"                    for its attestation key; prints the answer to expect from\n"
		"                    sealboot-anchor ak-activate\n"
		"\n",
		prog, prog, prog, prog, prog, prog, prog, prog, prog, prog, prog);
	/* Several strings: one would pass the 4095 bytes C11 compilers must accept. */
	fputs("Options:\n"
	      "  --key KEY         the admin's private key (PEM, ECDSA P-256)\n"
	      "  --secret-fd N     read the key's passphrase from file descriptor N\n"
	      "  --tcti TCTI       TPM connection (default device:/dev/tpmrm0; also\n"
	      "                    $SEALBOOT_TCTI)\n"
	      "  --format NAME     provision: format volume NAME as a new LUKS2 volume\n"
	      "                    (destroys what is on it; repeat per volume)\n"
	      "  --passphrase-fd N provision: the current passphrase of volumes to enroll\n"
	      "  --recovery-key    provision: add a recovery passphrase to each newly sealed\n"
	      "                    volume and print it once on stdout\n"
	      "  --serial N        pcr-policy sign: the serial (default: current + 1)\n"
	      "  --pcr N=HEX       pcr-policy sign: the approved SHA-256 value of PCR N\n"
	      "  --from-tpm        pcr-policy sign, on the appliance: take PCRs not given\n"
	      "                    with --pcr, and the NV record, from its TPM\n"
	      "  --event-log FILE  pcr-policy predict/sign: a reference boot's firmware event\n"
	      "                    log (binary TCG format, binary_bios_measurements); the\n"
	      "                    artifacts given replace its kernel and PCR 9 events\n"
	      "  --kernel FILE     the kernel's EFI image (its Authenticode digest: PCR 4)\n"
	      "  --initrd FILE     the initramfs (PCR 9)\n"
	      "  --cmdline STRING  the kernel command line as /proc/cmdline shows it (PCR 9)\n"
	      "  --qemu-memory MIB the kernel is started by QEMU's direct kernel boot with MIB\n"
	      "                    of RAM below 4 GiB: model the setup header QEMU rewrites\n"
	      "  --pcrs LIST       pcr-policy predict: the PCRs to print, e.g. 4,9 or 0-7,9\n"
	      "                    (default 0-9 with --event-log, else 9)\n"
	      "  --at TIME         judge bundle certificates at TIME (seconds since the epoch);\n"
	      "                    zeroize-authorize: the time the expiry counts from\n"
	      "  --challenge FILE  zeroize-authorize: the appliance's challenge\n"
	      "  --out ORDER       zeroize-authorize: where the order goes (and ORDER.sig)\n"
	      "  --volume NAME     zeroize-authorize: a volume to wipe (repeat; default every\n"
	      "                    volume the challenge lists)\n"
	      "  --keep-tpm        zeroize-authorize: do not clear the TPM (saved header copies\n"
	      "                    stay unsealable: not a cryptographic erase)\n"
	      "  --expires SECONDS zeroize-authorize: the order's lifetime (default 3600)\n"
	      "  --ak AK.pem       attest-verify, zeroize-verify: the appliance's attestation\n"
	      "                    key as recorded (SPKI PEM)\n"
	      "  --nonce HEX       attest-verify: the nonce given to sealboot-anchor attest\n"
	      "  --state DIR       attest-verify: check the quote against DIR/pcr-policy.json\n"
	      "  --order ORDER     zeroize-verify: the order the receipt must answer\n"
	      "  --identity FILE   ak-credential: the appliance's identity\n"
	      "  --ek-ca CA.pem    ak-credential: the TPM maker's CA certificate(s)\n"
	      "  --ak-out AK.pem   ak-credential: where the attestation key goes\n",
	      f);
	fputs("  --force           policy sign: replace a policy with the same serial\n"
	      "  --allow-unmeasured-boot  policy sign: sign a seal_pcrs without 4, 7, 9 and 15\n"
	      "                    (or 4, 7, 11, 12, 15): code before the anchor could then\n"
	      "                    unseal; recorded in the policy, shown by policy show\n"
	      "  --json            machine-readable output (schema sealboot-admin-policy/1;\n"
	      "                    pcr-policy predict: sealboot-admin-predict/1)\n"
	      "  -h, --help        show this help\n"
	      "  -V, --version     show the version\n"
	      "\n"
	      "Exit status: 0 ok, 1 internal, 2 usage, 3 signature, 4 trust, 5 malformed,\n"
	      "6 content, 7 expired, 8 TPM, 9 refused (would destroy data or another\n"
	      "admin's provisioning). See sealboot-admin(8).\n",
	      f);
}

#define usage_error(...) cli_usage_error(prog, EXIT_USAGE, __VA_ARGS__)

struct opts {
	const char *key;
	int secret_fd;
	int passphrase_fd;
	const char *tcti;
	const char *format[POLICY_MAX_VOLUMES];
	size_t n_format;
	bool recovery;
	bool has_serial;
	uint64_t serial;
	tpmpolicy_pcr_mask_t pcr_given;
	struct tpmpolicy_pcr_values pcr;
	int64_t at;
	bool force;
	bool json;
	bool from_tpm; /* pcr-policy sign: read unlisted PCRs and the record from the TPM */
	struct bootpredict_args boot; /* pcr-policy predict/sign: the boot artifacts */
	tpmpolicy_pcr_mask_t pcrs;    /* pcr-policy predict --pcrs, 0 if not given */
	bool allow_unmeasured;	      /* policy sign --allow-unmeasured-boot */
	struct zeroize_authorize_opts z;
	struct attest_verify_opts v;
	const char *identity, *ek_ca, *ak_out;
};

static int load_key(const struct opts *o, EVP_PKEY **ret, struct diag *d)
{
	struct secret *pass = NULL;
	int r;

	if (!o->key)
		return diag_set(d, DIAG_USAGE, EINVAL,
				"--key is required: the admin's private key");
	if (o->secret_fd >= 0) {
		r = secret_read_fd(o->secret_fd, 1024, &pass);
		if (r < 0)
			return diag_set(d, DIAG_USAGE, -r,
					"cannot read the passphrase from fd %d: %s", o->secret_fd,
					strerror(-r));
	}
	r = adminkey_load_private(o->key, pass, ret, d);
	secret_free(pass);
	return r;
}

/* The admin's key and the state it signed: admin.pub must be that key. */
static int load_own_state(const struct opts *o, const char *dir, EVP_PKEY **ret_key,
			  struct appliance *ret, struct diag *d)
{
	uint8_t dg[32];
	int r = load_key(o, ret_key, d);

	if (r == 0 && adminkey_digest(*ret_key, dg) < 0)
		r = diag_set(d, DIAG_INTERNAL, EIO, "cannot digest the admin key");
	if (r == 0)
		r = appliance_load(dir, dg, "given with --key", ret, d);
	return r;
}

static int open_dir(const char *dir, struct diag *d)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return diag_set(d, DIAG_USAGE, errno, "cannot open directory %s: %s", dir,
				strerror(errno));
	return fd;
}

/* --- policy --- */

/* A replacement must be newer: an older policy must not come back. */
static int check_newer(const struct opts *o, const struct policy *p, int dirfd, const char *dir,
		       struct diag *d)
{
	struct policy *old = NULL;
	unsigned char *oldbuf = NULL;
	size_t old_len = 0;
	struct diag od = {0};
	int r = 0;

	if (fs_read_file_at(dirfd, APPLIANCE_POLICY, POLICY_MAX_BYTES, &oldbuf, &old_len) == 0 &&
	    policy_parse((const char *)oldbuf, old_len, &old, &od) == 0 &&
	    (p->serial < old->serial || (p->serial == old->serial && !o->force)))
		r = diag_set(d, DIAG_USAGE, EINVAL,
			     "%s/%s has serial %" PRIu64 "; the new policy's serial %" PRIu64
			     " must be higher%s",
			     dir, APPLIANCE_POLICY, old->serial, p->serial,
			     p->serial == old->serial ? " (or give --force)" : "");
	policy_free(old);
	free(oldbuf);
	return r;
}

static int policy_sign(const struct opts *o, const char *in, const char *dir)
{
	struct policy *p = NULL;
	unsigned char *buf = NULL;
	char *canon = NULL, *pub = NULL;
	uint8_t *sig = NULL;
	size_t len = 0, canon_len = 0, sig_len = 0, pub_len = 0;
	EVP_PKEY *key = NULL;
	struct diag d = {0};
	int dirfd = -1, r;

	r = fs_read_file(in, POLICY_MAX_BYTES, &buf, &len);
	if (r < 0) {
		diag_set(&d, DIAG_USAGE, -r, "cannot read %s: %s", in,
			 r == -EFBIG ? "too large" : strerror(-r));
		goto out;
	}
	r = policy_parse((const char *)buf, len, &p, &d);
	if (r < 0)
		goto out;
	/* A seal that leaves the kernel, initramfs or command line unmeasured
	 * is signed only when the admin says so, and the policy says it was. */
	p->allow_unmeasured_boot = false;
	if (policy_check_measured_boot(p->seal_pcrs, &d) < 0) {
		if (!o->allow_unmeasured) {
			r = -EPERM;
			goto out;
		}
		memset(&d, 0, sizeof(d));
		p->allow_unmeasured_boot = true;
	} else if (o->allow_unmeasured) {
		fprintf(stderr,
			"%s: --allow-unmeasured-boot: not needed, seal_pcrs covers the "
			"boot before the anchor\n",
			prog);
	}
	r = load_key(o, &key, &d);
	if (r < 0)
		goto out;
	dirfd = open_dir(dir, &d);
	if (dirfd < 0)
		goto out;
	r = check_newer(o, p, dirfd, dir, &d);
	if (r < 0)
		goto out;
	r = policy_serialize(p, &canon, &canon_len);
	if (r < 0) {
		diag_set(&d, DIAG_INTERNAL, -r, "cannot serialize the policy");
		goto out;
	}
	r = adminkey_sign(key, canon, canon_len, &sig, &sig_len, &d);
	if (r < 0)
		goto out;
	r = adminkey_public_pem(key, &pub, &pub_len);
	if (r < 0) {
		diag_set(&d, DIAG_INTERNAL, -r, "cannot write the admin public key");
		goto out;
	}
	/* Public key first, signature last: a crash in between leaves a pair
	 * that fails verification, never a wrong one that passes. */
	r = fs_write_atomic_at(dirfd, APPLIANCE_ADMIN_PUB, pub, pub_len, 0644, true);
	if (r == 0)
		r = fs_write_atomic_at(dirfd, APPLIANCE_POLICY, canon, canon_len, 0644, true);
	if (r == 0)
		r = fs_write_atomic_at(dirfd, APPLIANCE_POLICY_SIG, sig, sig_len, 0644, true);
	if (r < 0) {
		diag_set(&d, DIAG_INTERNAL, -r, "cannot write in %s: %s", dir, strerror(-r));
		goto out;
	}
	uint8_t dg[32];
	char hex[65];
	adminkey_digest(key, dg);
	hex_encode(dg, 32, hex);
	fprintf(stderr,
		"%s: signed policy serial %" PRIu64 " for class %s into %s (admin key %s)\n", prog,
		p->serial, p->appliance_class, dir, hex);
	if (p->allow_unmeasured_boot)
		fprintf(stderr,
			"%s: WARNING: the policy allows an unmeasured boot: code that runs "
			"before the anchor can replay PCR 15 and unseal (docs/pcrs.md)\n",
			prog);
out:
	if (dirfd >= 0)
		close(dirfd);
	policy_free(p);
	free(buf);
	free(canon);
	free(sig);
	free(pub);
	EVP_PKEY_free(key);
	return exit_for(&d, r);
}

static int policy_verify_show(const struct opts *o, const char *dir, bool show)
{
	struct appliance a = {0};
	struct diag d = {0};
	char hex[65], admin[65];
	int r;

	r = appliance_load(dir, NULL, NULL, &a, &d);
	if (r < 0)
		return exit_for(&d, r);
	hex_encode(a.policy_sha256, 32, hex);
	hex_encode(a.admin_digest, 32, admin);
	if (o->json) {
		json_object *root = json_object_new_object(), *pj = NULL;

		json_object_object_add(root, "schema",
				       json_object_new_string("sealboot-admin-policy/1"));
		json_object_object_add(root, "verified", json_object_new_boolean(1));
		json_object_object_add(root, "policy_sha256", json_object_new_string(hex));
		json_object_object_add(root, "admin_key_sha256", json_object_new_string(admin));
		if (show && policy_to_json(a.policy, &pj) == 0)
			json_object_object_add(root, "policy", pj);
		printf("%s\n", json_object_to_json_string_ext(
				   root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
	} else {
		const struct policy *p = a.policy;

		printf("policy %s: verified (serial %" PRIu64 ", class %s, admin key %s)\n", dir,
		       p->serial, p->appliance_class, admin);
		if (show) {
			printf("  sha256 %s\n", hex);
			printf("  release CAs: %zu\n", p->n_release_cas);
			for (size_t i = 0; i < p->n_bundles; i++)
				printf("  bundle %s at %s, version >= %" PRIu64 "\n",
				       p->bundles[i].name, p->bundles[i].path,
				       p->bundles[i].min_version);
			printf("  sealing PCRs:");
			for (unsigned i = 0; i < TPMPOLICY_PCR_COUNT; i++)
				if (p->seal_pcrs & TPMPOLICY_PCR(i))
					printf(" %u", i);
			printf("%s\n", p->allow_unmeasured_boot
					   ? " (UNMEASURED BOOT ALLOWED: signed with "
					     "--allow-unmeasured-boot; code before the anchor "
					     "is not all sealed to)"
					   : "");
			for (size_t i = 0; i < p->n_volumes; i++)
				printf("  volume %s (%s) uuid %s%s%s\n", p->volumes[i].name,
				       p->volumes[i].purpose, p->volumes[i].uuid,
				       p->volumes[i].device ? " at " : "",
				       p->volumes[i].device ? p->volumes[i].device : "");
			printf("  guest: %u vCPU, %" PRIu64 " MiB, network %s%s%s, console %s, "
			       "rng %s, vtpm %s\n",
			       p->guest.vcpus, p->guest.memory_mib,
			       policy_network_name(p->guest.network), p->guest.bridge ? " " : "",
			       p->guest.bridge ? p->guest.bridge : "",
			       p->guest.console_log ? "log" : "none", p->guest.rng ? "yes" : "no",
			       p->guest.vtpm ? "yes" : "no");
		}
	}
	appliance_free(&a);
	return EXIT_OK;
}

/* --- PCR policy --- */

static int open_tpm(const struct opts *o, struct tpm **t, struct diag *d)
{
	return tpm_open(o->tcti, t, d);
}

/* Predict the PCR values of a good boot, sign them (provision.h) and say so. */
static int sign_approval(const struct opts *o, struct tpm *t, const struct appliance *a,
			 EVP_PKEY *key, uint64_t serial, const char *dir, struct diag *d)
{
	const struct provision_approval_opts ao = {
	    .at = o->at, .pcr_given = o->pcr_given, .pcr = &o->pcr, .boot = &o->boot};
	tpmpolicy_pcr_mask_t predicted_boot = 0;
	int r = provision_sign_approval(&ao, t, a, key, serial, dir, &predicted_boot, d);

	if (r < 0)
		return r;
	fprintf(stderr, "%s: signed PCR policy serial %" PRIu64 " into %s/%s", prog, serial, dir,
		APPLIANCE_APPROVAL);
	if (predicted_boot) {
		fprintf(stderr, " (predicted from the boot artifacts: PCR");
		for (unsigned i = 0; i < TPMPOLICY_PCR_COUNT; i++)
			if (predicted_boot & TPMPOLICY_PCR(i))
				fprintf(stderr, " %u", i);
		fprintf(stderr, ")");
	}
	fprintf(stderr, "\n");
	return 0;
}

static int pcr_policy_sign(const struct opts *o, const char *dir)
{
	struct appliance a = {0};
	struct approval old;
	struct tpm *t = NULL;
	EVP_PKEY *key = NULL;
	struct diag d = {0};
	uint64_t serial = o->serial;
	int r;

	r = load_own_state(o, dir, &key, &a, &d);
	if (r < 0)
		goto out;
	if (!o->has_serial) {
		struct diag od = {0};

		if (appliance_load_approval(dir, &old, &od) < 0) {
			r = diag_set(&d, DIAG_USAGE, EINVAL, "no %s/%s to follow: give --serial",
				     dir, APPLIANCE_APPROVAL);
			goto out;
		}
		serial = old.serial + 1;
	}
	/* Only when asked: on a workstation its own TPM holds the wrong PCRs. */
	if (o->from_tpm)
		r = open_tpm(o, &t, &d);
	if (r == 0)
		r = sign_approval(o, t, &a, key, serial, dir, &d);
out:
	r = exit_for(&d, r);
	tpm_close(t);
	appliance_free(&a);
	EVP_PKEY_free(key);
	return r;
}

/* The PCRs a boot of the given artifacts reaches before the anchor. */
static int pcr_policy_predict(const struct opts *o)
{
	tpmpolicy_pcr_mask_t want = o->pcrs;
	struct bootpredict_result br;
	struct diag d = {0};
	char hex[65], key[4];
	int r;

	if (!bootpredict_given(&o->boot))
		return usage_error("pcr-policy predict: give --event-log and/or the artifacts "
				   "(--kernel, --initrd, --cmdline)");
	if (!want)
		want = o->boot.event_log ? 0x3ff : TPMPOLICY_PCR(BOOTPCR_PCR_STUB);
	if (want & (TPMPOLICY_PCR(EVENTLOG_PCR_SEAL) | TPMPOLICY_PCR(EVENTLOG_PCR_LOG)))
		return usage_error("--pcrs: PCRs %d and %d are sealboot's own; pcr-policy sign "
				   "predicts PCR %d from the policy",
				   EVENTLOG_PCR_LOG, EVENTLOG_PCR_SEAL, EVENTLOG_PCR_SEAL);
	r = bootpredict_run(&o->boot, want, &br, &d);
	if (r < 0)
		return exit_for(&d, r);
	if (o->json) {
		json_object *root = json_object_new_object(), *pcrs = json_object_new_object();
		const struct {
			bool has;
			const uint8_t *dg;
			const char *name;
		} in[] = {
		    {br.in.has_kernel, br.in.kernel, "kernel_authenticode_sha256"},
		    {br.in.has_initrd, br.in.initrd, "initrd_sha256"},
		    {br.in.has_cmdline, br.in.cmdline, "cmdline_sha256"},
		};

		json_object_object_add(root, "schema",
				       json_object_new_string("sealboot-admin-predict/1"));
		for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
			if (!in[i].has)
				continue;
			hex_encode(in[i].dg, 32, hex);
			json_object_object_add(root, in[i].name, json_object_new_string(hex));
		}
		for (unsigned i = 0; i < TPMPOLICY_PCR_COUNT; i++) {
			if (!(want & TPMPOLICY_PCR(i)))
				continue;
			hex_encode(br.pcrs.v[i], 32, hex);
			snprintf(key, sizeof(key), "%u", i);
			json_object_object_add(pcrs, key, json_object_new_string(hex));
		}
		json_object_object_add(root, "pcrs", pcrs);
		printf("%s\n", json_object_to_json_string_ext(
				   root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
		return EXIT_OK;
	}
	for (unsigned i = 0; i < TPMPOLICY_PCR_COUNT; i++) {
		if (!(want & TPMPOLICY_PCR(i)))
			continue;
		hex_encode(br.pcrs.v[i], 32, hex);
		printf("%u=%s\n", i, hex);
	}
	return EXIT_OK;
}

static int pcr_policy_activate(const struct opts *o, const char *dir)
{
	struct appliance a = {0};
	struct approval ap;
	struct tpm *t = NULL;
	struct diag d = {0};
	uint64_t counter = 0, n = 0;
	int r;

	/* Raising the counter retires every older PCR policy: only for one
	 * the admin really signed. */
	r = appliance_load(dir, NULL, NULL, &a, &d);
	if (r == 0)
		r = appliance_load_approval(dir, &ap, &d);
	if (r == 0)
		r = appliance_check_approval(&a, &ap, &d);
	appliance_free(&a);
	if (r < 0)
		return exit_for(&d, r);
	r = open_tpm(o, &t, &d);
	if (r == 0)
		r = tpm_nv_read_counter(t, APPLIANCE_NV_PCR, &counter, &d);
	if (r < 0)
		goto out;
	if (counter > ap.serial) {
		r = diag_set(&d, DIAG_EXPIRED, ESTALE,
			     "PCR policy serial %" PRIu64 " was already retired (the counter is at "
			     "%" PRIu64 ")",
			     ap.serial, counter);
		goto out;
	}
	if (ap.serial - counter > APPLIANCE_MAX_VERSION_STEP) {
		r = diag_set(&d, DIAG_USAGE, ERANGE,
			     "serial %" PRIu64 " is more than %d above the counter (%" PRIu64 ")",
			     ap.serial, APPLIANCE_MAX_VERSION_STEP, counter);
		goto out;
	}
	for (; counter < ap.serial; counter++, n++) {
		r = tpm_nv_increment(t, APPLIANCE_NV_PCR, &d);
		if (r < 0)
			goto out;
	}
	fprintf(stderr,
		"%s: PCR policy serial %" PRIu64 " is the oldest the TPM accepts now "
		"(%" PRIu64 " older serial(s) retired)\n",
		prog, ap.serial, n);
out:
	tpm_close(t);
	return exit_for(&d, r);
}

/* --- provision --- */

/* What provisioning holds from step to step. */
struct provisioning {
	const struct opts *o;
	const char *dir;
	struct appliance a;
	EVP_PKEY *key;
	struct secret *current;	 /* --passphrase-fd: the volumes' passphrase */
	struct secret *recovery; /* --recovery-key */
	struct tpm *t;
	size_t sealed; /* volumes newly sealed */
};

/* Step: the volumes' current passphrase, when given. */
static int provision_secrets(struct provisioning *p, struct diag *d)
{
	int r;

	if (p->o->passphrase_fd >= 0) {
		r = secret_read_fd(p->o->passphrase_fd, 512, &p->current);
		if (r < 0)
			return diag_set(d, DIAG_USAGE, -r, "cannot read the passphrase from fd %d",
					p->o->passphrase_fd);
	}
	return 0;
}

/* Step: the TPM's record and counters, and its copy in STATE_DIR. */
static int provision_step_tpm(struct provisioning *p, struct diag *d)
{
	bool fresh = false;
	int r = open_tpm(p->o, &p->t, d);

	if (r == 0)
		r = provision_tpm(p->t, &p->a, &fresh, d);
	if (r < 0)
		return r;
	fprintf(stderr, "%s: TPM %s for this admin key\n", prog,
		fresh ? "provisioned" : "was already provisioned");
	return provision_record(p->t, p->dir, d);
}

/* Step: the first PCR policy, unless STATE_DIR has one. */
static int provision_step_approval(struct provisioning *p, struct diag *d)
{
	struct approval ap;
	uint64_t serial = 0;
	int r;

	if (appliance_load_approval(p->dir, &ap, &(struct diag){0}) == 0)
		return 0;
	r = tpm_nv_read_counter(p->t, APPLIANCE_NV_PCR, &serial, d);
	if (r == 0)
		r = sign_approval(p->o, p->t, &p->a, p->key, serial, p->dir, d);
	return r;
}

static bool listed(const struct opts *o, const char *name)
{
	for (size_t i = 0; i < o->n_format; i++)
		if (!strcmp(o->format[i], name))
			return true;
	return false;
}

/* Step: a sealed key on every volume. */
static int provision_step_volumes(struct provisioning *p, struct diag *d)
{
	static const char *const done[] = {
	    [PROVISION_VOLUME_FORMATTED] = "formatted as LUKS2",
	    [PROVISION_VOLUME_ENROLLED] = "enrolled",
	};

	if (p->o->recovery) {
		int r = recovery_key_new(&p->recovery);

		if (r < 0)
			return diag_set(d, DIAG_INTERNAL, ENOMEM, "cannot make a recovery key");
	}
	for (size_t i = 0; i < p->a.policy->n_volumes; i++) {
		const char *name = p->a.policy->volumes[i].name;
		enum provision_volume_outcome how;
		int r = provision_volume(p->t, &p->a, i, listed(p->o, name), p->current,
					 p->recovery, &how, d);

		if (r < 0)
			return r;
		if (how == PROVISION_VOLUME_KEPT) {
			fprintf(stderr,
				"%s: volume %s: already sealed to this appliance, left as is\n",
				prog, name);
			continue;
		}
		fprintf(stderr, "%s: volume %s: %s, volume key sealed%s\n", prog, name, done[how],
			p->recovery ? ", recovery keyslot added" : "");
		p->sealed++;
	}
	return 0;
}

/* Step: show the recovery key once, if a volume got it. */
static void provision_show_recovery(const struct provisioning *p)
{
	if (!p->recovery)
		return;
	if (p->sealed == 0) {
		fprintf(stderr, "%s: no volume was newly sealed, so no recovery key was made\n",
			prog);
		return;
	}
	fprintf(stderr,
		"%s: recovery key (shown once; store it offline, it opens every "
		"volume newly sealed above):\n",
		prog);
	fwrite(p->recovery->data, 1, p->recovery->len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

static int provision(const struct opts *o, const char *dir)
{
	struct provisioning p = {.o = o, .dir = dir};
	struct diag d = {0};
	const char *unknown;
	int r;

	/* The policy must be this admin's. */
	r = load_own_state(o, dir, &p.key, &p.a, &d);
	if (r < 0) {
		EVP_PKEY_free(p.key);
		return exit_for(&d, r);
	}
	unknown = provision_unknown_volume(&p.a, o->format, o->n_format);
	if (unknown) {
		r = usage_error("--format %s: the policy names no such volume", unknown);
		goto done;
	}
	r = provision_secrets(&p, &d);
	if (r == 0)
		r = provision_step_tpm(&p, &d);
	if (r == 0)
		r = provision_step_approval(&p, &d);
	if (r == 0)
		r = provision_step_volumes(&p, &d);
	if (r == 0) {
		provision_show_recovery(&p);
		fprintf(stderr,
			"%s: provisioned: %zu volume(s); the appliance unlocks on a boot "
			"matching %s/%s\n",
			prog, p.a.policy->n_volumes, dir, APPLIANCE_APPROVAL);
	}
	r = exit_for(&d, r);
done:
	secret_free(p.current);
	secret_free(p.recovery);
	tpm_close(p.t);
	appliance_free(&p.a);
	EVP_PKEY_free(p.key);
	return r;
}

/* --- arguments --- */

static int parse_pcr(const char *arg, struct opts *o)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno || end == arg || *end != '=' || n >= TPMPOLICY_PCR_COUNT)
		return -1;
	if (hex_decode(end + 1, o->pcr.v[n], 32) < 0)
		return -1;
	o->pcr_given |= TPMPOLICY_PCR(n);
	return 0;
}

/* "4,9" or "0-7,9": PCRs 0..23, ascending ranges. */
static int parse_pcr_list(const char *arg, tpmpolicy_pcr_mask_t *ret)
{
	tpmpolicy_pcr_mask_t mask = 0;
	const char *p = arg;

	for (;;) {
		unsigned long a, b;
		char *end;

		if (*p < '0' || *p > '9')
			return -1;
		a = b = strtoul(p, &end, 10);
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				return -1;
			b = strtoul(p, &end, 10);
		}
		if (a > b || b >= TPMPOLICY_PCR_COUNT)
			return -1;
		for (unsigned long n = a; n <= b; n++)
			mask |= TPMPOLICY_PCR(n);
		if (*end == 0)
			break;
		if (*end != ',')
			return -1;
		p = end + 1;
	}
	*ret = mask;
	return 0;
}

static int parse_fd(const char *arg, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < 0 || v > 1 << 20)
		return -1;
	*ret = (int)v;
	return 0;
}

/* The commands: words 0 and 1 name them (word 1 only in a group), the rest
 * are their arguments. */
static int run_policy_sign(struct opts *o, char **args)
{
	return policy_sign(o, args[2], args[3]);
}

static int run_policy_verify(struct opts *o, char **args)
{
	return policy_verify_show(o, args[2], false);
}

static int run_policy_show(struct opts *o, char **args)
{
	return policy_verify_show(o, args[2], true);
}

static int run_pcr_policy_predict(struct opts *o, char **args)
{
	(void)args;
	return pcr_policy_predict(o);
}

static int run_pcr_policy_sign(struct opts *o, char **args)
{
	return pcr_policy_sign(o, args[2]);
}

static int run_pcr_policy_activate(struct opts *o, char **args)
{
	return pcr_policy_activate(o, args[2]);
}

static int run_zeroize_authorize(struct opts *o, char **args)
{
	(void)args;
	o->z.prog = prog;
	o->z.key = o->key;
	o->z.secret_fd = o->secret_fd;
	o->z.at = o->at;
	if (!o->z.expires)
		o->z.expires = 3600;
	return admin_zeroize_authorize(&o->z);
}

static int run_attest_verify(struct opts *o, char **args)
{
	o->v.prog = prog;
	o->v.json = o->json;
	return admin_attest_verify(&o->v, args[1]);
}

static int run_zeroize_verify(struct opts *o, char **args)
{
	o->v.prog = prog;
	o->v.json = o->json;
	return admin_zeroize_verify(&o->v, args[1], args[2]);
}

static int run_ak_credential(struct opts *o, char **args)
{
	(void)args;
	return admin_ak_credential(prog, o->identity, o->ek_ca, o->z.out, o->ak_out);
}

static int run_provision(struct opts *o, char **args)
{
	return provision(o, args[1]);
}

static const struct command {
	const char *group; /* the first word of a two-word command, or NULL */
	const char *name;
	int nargs;	   /* words in all, names included */
	const char *arity; /* the usage error when the count differs */
	int (*run)(struct opts *o, char **args);
} commands[] = {
    {"policy", "sign", 4, "policy sign: expected POLICY.json STATE_DIR", run_policy_sign},
    {"policy", "verify", 3, "policy verify: expected STATE_DIR", run_policy_verify},
    {"policy", "show", 3, "policy show: expected STATE_DIR", run_policy_show},
    {"pcr-policy", "predict", 2, "pcr-policy predict: takes no STATE_DIR", run_pcr_policy_predict},
    {"pcr-policy", "sign", 3, "pcr-policy sign: expected STATE_DIR", run_pcr_policy_sign},
    {"pcr-policy", "activate", 3, "pcr-policy activate: expected STATE_DIR",
     run_pcr_policy_activate},
    {NULL, "zeroize-authorize", 1, "zeroize-authorize takes no arguments, only options",
     run_zeroize_authorize},
    {NULL, "attest-verify", 2, "attest-verify: expected QUOTE", run_attest_verify},
    {NULL, "zeroize-verify", 3, "zeroize-verify: expected RECEIPT EVIDENCE", run_zeroize_verify},
    {NULL, "ak-credential", 1, "ak-credential takes no arguments, only options", run_ak_credential},
    {NULL, "provision", 2, "provision: expected STATE_DIR", run_provision},
};

/* The two-word commands' first words, taken as such only when a second word
 * follows. When that word names none of the group's commands, the error
 * lists them; in pcr-policy, a count other than STATE_DIR's is named first. */
static const struct {
	const char *name;
	const char *list;
	int unknown_nargs; /* 0: any count */
} groups[] = {
    {"policy", "sign, verify, show", 0},
    {"pcr-policy", "sign, activate, predict", 3},
};

static int dispatch(struct opts *o, char **args, int nargs)
{
	const size_t n_commands = sizeof(commands) / sizeof(commands[0]);

	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		if (nargs < 2 || strcmp(args[0], groups[g].name))
			continue;
		for (size_t i = 0; i < n_commands; i++)
			if (commands[i].group && !strcmp(commands[i].group, args[0]) &&
			    !strcmp(commands[i].name, args[1]))
				return nargs == commands[i].nargs
					   ? commands[i].run(o, args)
					   : usage_error("%s", commands[i].arity);
		if (groups[g].unknown_nargs && nargs != groups[g].unknown_nargs)
			return usage_error("%s %s: expected STATE_DIR", args[0], args[1]);
		return usage_error("unknown command '%s %s' (%s)", args[0], args[1],
				   groups[g].list);
	}
	for (size_t i = 0; i < n_commands; i++)
		if (!commands[i].group && !strcmp(commands[i].name, args[0]))
			return nargs == commands[i].nargs ? commands[i].run(o, args)
							  : usage_error("%s", commands[i].arity);
	return usage_error(
	    "unknown command '%s' (policy, provision, pcr-policy, zeroize-authorize, "
	    "attest-verify, zeroize-verify, ak-credential)",
	    args[0]);
}

enum {
	OPT_KEY = 256,
	OPT_SECRET_FD,
	OPT_PASS_FD,
	OPT_TCTI,
	OPT_FORMAT,
	OPT_RECOVERY,
	OPT_SERIAL,
	OPT_PCR,
	OPT_AT,
	OPT_FORCE,
	OPT_JSON,
	OPT_FROM_TPM,
	OPT_EVENT_LOG,
	OPT_KERNEL,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_QEMU_MEMORY,
	OPT_PCRS,
	OPT_ALLOW_UNMEASURED,
	OPT_CHALLENGE,
	OPT_OUT,
	OPT_VOLUME,
	OPT_KEEP_TPM,
	OPT_EXPIRES,
	OPT_AK,
	OPT_NONCE,
	OPT_STATE,
	OPT_ORDER,
	OPT_IDENTITY,
	OPT_EK_CA,
	OPT_AK_OUT,
};

static const struct option options[] = {
    {"key", required_argument, NULL, OPT_KEY},
    {"secret-fd", required_argument, NULL, OPT_SECRET_FD},
    {"passphrase-fd", required_argument, NULL, OPT_PASS_FD},
    {"tcti", required_argument, NULL, OPT_TCTI},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"recovery-key", no_argument, NULL, OPT_RECOVERY},
    {"serial", required_argument, NULL, OPT_SERIAL},
    {"pcr", required_argument, NULL, OPT_PCR},
    {"at", required_argument, NULL, OPT_AT},
    {"force", no_argument, NULL, OPT_FORCE},
    {"json", no_argument, NULL, OPT_JSON},
    {"from-tpm", no_argument, NULL, OPT_FROM_TPM},
    {"event-log", required_argument, NULL, OPT_EVENT_LOG},
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"initrd", required_argument, NULL, OPT_INITRD},
    {"cmdline", required_argument, NULL, OPT_CMDLINE},
    {"qemu-memory", required_argument, NULL, OPT_QEMU_MEMORY},
    {"pcrs", required_argument, NULL, OPT_PCRS},
    {"allow-unmeasured-boot", no_argument, NULL, OPT_ALLOW_UNMEASURED},
    {"challenge", required_argument, NULL, OPT_CHALLENGE},
    {"out", required_argument, NULL, OPT_OUT},
    {"volume", required_argument, NULL, OPT_VOLUME},
    {"keep-tpm", no_argument, NULL, OPT_KEEP_TPM},
    {"expires", required_argument, NULL, OPT_EXPIRES},
    {"ak", required_argument, NULL, OPT_AK},
    {"nonce", required_argument, NULL, OPT_NONCE},
    {"state", required_argument, NULL, OPT_STATE},
    {"order", required_argument, NULL, OPT_ORDER},
    {"identity", required_argument, NULL, OPT_IDENTITY},
    {"ek-ca", required_argument, NULL, OPT_EK_CA},
    {"ak-out", required_argument, NULL, OPT_AK_OUT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {0},
};

/* An option parser's answers besides an exit status (never negative). */
#define GO_ON (-1)
#define NOT_MINE (-2)

/* The options of policy, provision and pcr-policy sign/activate: GO_ON, NOT_MINE, or the usage exit
 * status. */
static int option_admin(int c, struct opts *o)
{
	char *end;

	switch (c) {
	case OPT_KEY:
		o->key = optarg;
		break;
	case OPT_SECRET_FD:
		if (parse_fd(optarg, &o->secret_fd) < 0)
			return usage_error("--secret-fd '%s' is not a file descriptor", optarg);
		break;
	case OPT_PASS_FD:
		if (parse_fd(optarg, &o->passphrase_fd) < 0)
			return usage_error("--passphrase-fd '%s' is not a file descriptor", optarg);
		break;
	case OPT_TCTI:
		o->tcti = optarg;
		break;
	case OPT_FORMAT:
		if (o->n_format == POLICY_MAX_VOLUMES)
			return usage_error("too many --format");
		o->format[o->n_format++] = optarg;
		break;
	case OPT_RECOVERY:
		o->recovery = true;
		break;
	case OPT_SERIAL:
		errno = 0;
		o->serial = strtoull(optarg, &end, 10);
		if (errno || *end || end == optarg || optarg[0] == '-')
			return usage_error("--serial '%s' is not an unsigned integer", optarg);
		o->has_serial = true;
		break;
	case OPT_PCR:
		if (parse_pcr(optarg, o) < 0)
			return usage_error("--pcr '%s' is not N=<64 lowercase hex digits> with "
					   "N in 0..23",
					   optarg);
		break;
	case OPT_AT:
		errno = 0;
		o->at = strtoll(optarg, &end, 10);
		if (errno || *end || o->at <= 0)
			return usage_error("--at '%s' is not a positive number of seconds", optarg);
		break;
	case OPT_FORCE:
		o->force = true;
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_FROM_TPM:
		o->from_tpm = true;
		break;
	case OPT_ALLOW_UNMEASURED:
		o->allow_unmeasured = true;
		break;
	default:
		return NOT_MINE;
	}
	return GO_ON;
}

/* The boot artifacts of pcr-policy predict/sign: GO_ON, NOT_MINE, or the usage exit status. */
static int option_boot(int c, struct opts *o)
{
	char *end;

	switch (c) {
	case OPT_EVENT_LOG:
		o->boot.event_log = optarg;
		break;
	case OPT_KERNEL:
		o->boot.kernel = optarg;
		break;
	case OPT_INITRD:
		o->boot.initrd = optarg;
		break;
	case OPT_CMDLINE:
		o->boot.cmdline = optarg;
		break;
	case OPT_QEMU_MEMORY:
		errno = 0;
		o->boot.qemu_ram_mib = strtoull(optarg, &end, 10);
		if (errno || *end || end == optarg || optarg[0] == '-' ||
		    o->boot.qemu_ram_mib == 0 || o->boot.qemu_ram_mib > 4096)
			return usage_error("--qemu-memory '%s' is not a number of MiB in "
					   "1..4096",
					   optarg);
		break;
	case OPT_PCRS:
		if (parse_pcr_list(optarg, &o->pcrs) < 0)
			return usage_error("--pcrs '%s' is not a list of PCRs 0..23 such as "
					   "4,9 or 0-7,9",
					   optarg);
		break;
	default:
		return NOT_MINE;
	}
	return GO_ON;
}

/* The offline commands' options (zeroize-authorize, attest-verify, zeroize-verify, ak-credential):
 * GO_ON, NOT_MINE, or the usage exit status. */
static int option_offline(int c, struct opts *o)
{
	char *end;

	switch (c) {
	case OPT_CHALLENGE:
		o->z.challenge = optarg;
		break;
	case OPT_OUT:
		o->z.out = optarg;
		break;
	case OPT_VOLUME:
		if (o->z.n_volumes == POLICY_MAX_VOLUMES)
			return usage_error("too many --volume");
		o->z.volumes[o->z.n_volumes++] = optarg;
		break;
	case OPT_KEEP_TPM:
		o->z.keep_tpm = true;
		break;
	case OPT_AK:
		o->v.ak = optarg;
		break;
	case OPT_NONCE:
		o->v.nonce_hex = optarg;
		break;
	case OPT_STATE:
		o->v.state_dir = optarg;
		break;
	case OPT_ORDER:
		o->v.order = optarg;
		break;
	case OPT_IDENTITY:
		o->identity = optarg;
		break;
	case OPT_EK_CA:
		o->ek_ca = optarg;
		break;
	case OPT_AK_OUT:
		o->ak_out = optarg;
		break;
	case OPT_EXPIRES:
		errno = 0;
		o->z.expires = strtoull(optarg, &end, 10);
		if (errno || *end || end == optarg || optarg[0] == '-' || o->z.expires == 0)
			return usage_error("--expires '%s' is not a positive number of seconds",
					   optarg);
		break;
	default:
		return NOT_MINE;
	}
	return GO_ON;
}

int main(int argc, char **argv)
{
	struct opts o = {.secret_fd = -1, .passphrase_fd = -1, .tcti = getenv("SEALBOOT_TCTI")};
	char *args[4];
	int nargs, c, r;

	(void)prctl(PR_SET_DUMPABLE, 0);
	opterr = 0; /* one line per mistake: ours (cli_bad_option) */
	while ((c = getopt_long(argc, argv, ":hV", options, NULL)) != -1) {
		if (cli_help_or_version(c, prog, usage))
			return EXIT_OK;
		r = option_admin(c, &o);
		if (r == NOT_MINE)
			r = option_boot(c, &o);
		if (r == NOT_MINE)
			r = option_offline(c, &o);
		if (r == NOT_MINE) {
			char bad[160];

			return usage_error("%s", cli_bad_option(c, argv, bad, sizeof(bad)));
		}
		if (r != GO_ON)
			return r;
	}
	nargs = argc - optind;
	if (nargs < 1)
		return usage_error("expected a command");
	if (nargs > 4)
		return usage_error("too many arguments");
	for (int i = 0; i < nargs; i++)
		args[i] = argv[optind + i];

	return dispatch(&o, args, nargs);
}
