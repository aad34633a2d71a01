/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sealboot-anchor: runs in the initramfs. `boot` measures, verifies,
 * unseals, unlocks and caps (boot.c); `status` gives the verdict in one
 * line, and checks the event log against the TPM. Exit codes are the
 * verdicts of boot.h; sealboot-anchor(8).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "appliance.h"
#include "attest.h"
#include "boot.h"
#include "cli.h"
#include "config.h"
#include "eventlog.h"
#include "fsutil.h"
#include "hex.h"
#include "jsonfield.h"
#include "tpm.h"
#include "zeroize.h"

static const char *prog = "sealboot-anchor";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s boot [OPTIONS]\n"
		"       %s status [--json] [OPTIONS]\n"
		"       %s zeroize-challenge [OPTIONS]\n"
		"       %s zeroize --order FILE [--launcher PATH] [OPTIONS]\n"
		"       %s attest --nonce HEX [OPTIONS]\n"
		"       %s identity [OPTIONS]\n"
		"       %s ak-activate --credential FILE [OPTIONS]\n"
		"\n"
		"Measured unlock for a sealboot appliance.\n"
		"\n"
		"  boot     verify the policy and bundles, unseal the volume keys, open the\n"
		"           volumes, cap the PCRs, write the event log and the handoff\n"
		"  status   the verdict of this boot in one line (--json: the whole record);\n"
		"           with a TPM, also checks the event log against the PCRs\n"
		"  zeroize-challenge  print a challenge naming this appliance and a fresh TPM\n"
		"           counter value, for sealboot-admin zeroize-authorize\n"
		"  zeroize  check the signed order FILE (and FILE.sig), then wipe: clear the\n"
		"           TPM, stop the guest, erase every volume, remove sealboot's state;\n"
		"           prints the receipt; an interrupted zeroize is finished first\n"
		"  attest   a quote by the attestation key over the sealing PCRs and PCR 13,\n"
		"           with the event log, for sealboot-admin attest-verify\n"
		"  identity the attestation key and the TPM maker's EK certificate, for\n"
		"           sealboot-admin ak-credential\n"
		"  ak-activate  activate the owner's credential with the EK and the\n"
		"           attestation key; prints the secret (proves both are in this TPM)\n"
		"\n"
		"Options:\n"
		"  --state DIR     appliance state (default %s)\n"
		"  --run DIR       run-time directory (default %s)\n"
		"  --tcti TCTI     TPM connection (default device:/dev/tpmrm0; also\n"
		"                  $SEALBOOT_TCTI)\n"
		"  --no-activate   create no device-mapper devices: only check volume keys,\n"
		"                  and hash disk payloads whole instead of dm-verity\n"
		"  --at TIME       judge certificates (and a zeroize order's expiry) at TIME\n"
		"                  (seconds since the epoch)\n"
		"  --order FILE    (zeroize) the signed order; its signature is FILE.sig\n"
		"  --nonce HEX     (attest) the verifier's fresh value, 1 to 64 bytes in hex\n"
		"  --credential FILE  (ak-activate) the credential from sealboot-admin\n"
		"  --launcher PATH (zeroize, boot) sealboot-launch, to stop the guest when a\n"
		"                  zeroize runs or is finished (default\n"
		"                  %s)\n"
		"  -q, --quiet     no progress lines\n"
		"  --json          (status) print the status record as JSON\n"
		"  -h, --help      show this help\n"
		"  -V, --version   show the version\n"
		"\n"
		"Exit status: 0 ok, 1 internal, 2 usage, 3 policy, 4 bundle, 5 rollback,\n"
		"6 unseal refused, 7 volume, 8 TPM unavailable or locked out, 9 state not\n"
		"fresh, 10 (boot) already done in this boot: nothing changed, 11 (boot)\n"
		"another run holds the lock: nothing changed, 12 zeroized: ready for\n"
		"provisioning. zeroize: 0 done, 1 internal, 2 usage, 3 not signed by the\n"
		"zeroize key, 4 another appliance, 5 malformed, 6 replayed, 7 expired,\n"
		"8 TPM, 9 no trusted policy. See sealboot-anchor(8).\n",
		prog, prog, prog, prog, prog, prog, prog, APPLIANCE_STATE_DIR, APPLIANCE_RUN_DIR,
		ZEROIZE_LAUNCHER);
}

#define usage_error(...) cli_usage_error(prog, ANCHOR_USAGE, __VA_ARGS__)

/* The one place a command's -errno becomes its exit status (the boot's own
 * verdicts come from boot.c, the zeroize's from zeroize.c): no TPM or a TPM
 * in lockout is 8, an untrusted input 3, anything else internal. Prints the
 * diagnosis. */
static int cmd_failed(const char *what, int r, const struct diag *d)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, d->msg);
	if (r == -ENODEV || r == -ENOLCK)
		return ANCHOR_TPM;
	return d->cls == DIAG_TRUST ? ANCHOR_POLICY : ANCHOR_INTERNAL;
}

static int cmd_zeroize(const struct anchor_opts *ao, const char *order, const char *launcher,
		       bool challenge)
{
	struct zeroize_opts o = {
	    .state_dir = ao->state_dir,
	    .run_dir = ao->run_dir,
	    .tcti = ao->tcti,
	    .launcher = launcher,
	    .at = ao->at,
	    .quiet = ao->quiet,
	};
	struct zeroize_result res;
	char *text = NULL;
	int r;

	if (challenge)
		r = zeroize_challenge(&o, &text, &res);
	else
		r = zeroize_run(&o, order, &res);
	if (r < 0) {
		fprintf(stderr, "%s: zeroize%s: %s\n", prog, challenge ? "-challenge" : "",
			res.d.msg);
		zeroize_result_free(&res);
		return res.code ? (int)res.code : ZEROIZE_INTERNAL;
	}
	if (text)
		fputs(text, stdout);
	if (res.receipt) {
		fputs(res.receipt, stdout); /* exactly the bytes the TPM certified */
		fprintf(stderr, "%s: zeroized: ready for provisioning (receipt in %s/%s)\n", prog,
			o.state_dir, APPLIANCE_ZEROIZE_RECEIPT);
	}
	free(text);
	zeroize_result_free(&res);
	return ZEROIZE_OK;
}

static int cmd_attest(const struct anchor_opts *o, const char *nonce_hex)
{
	tpmpolicy_pcr_mask_t mask =
	    TPMPOLICY_PCR(EVENTLOG_PCR_SEAL) | TPMPOLICY_PCR(EVENTLOG_PCR_LOG);
	uint8_t nonce[ATTEST_NONCE_MAX];
	size_t n = strlen(nonce_hex) / 2;
	unsigned char *log = NULL;
	size_t log_len = 0;
	struct appliance a = {0};
	struct diag d = {0}, ignore = {0};
	struct tpm *t = NULL;
	char *doc = NULL, path[4096];
	int r;

	if (n == 0 || n > ATTEST_NONCE_MAX || strlen(nonce_hex) % 2 ||
	    hex_decode(nonce_hex, nonce, n) < 0)
		return usage_error("--nonce '%s' is not 1 to %d bytes of lowercase hex", nonce_hex,
				   ATTEST_NONCE_MAX);
	/* The PCRs the policy seals to, when there is one: which PCRs to
	 * quote is no secret and needs no trust. */
	if (appliance_load(o->state_dir, NULL, NULL, &a, &ignore) == 0)
		mask |= a.policy->seal_pcrs;
	appliance_free(&a);
	snprintf(path, sizeof(path), "%s/eventlog.jsonl", o->run_dir);
	(void)fs_read_file(path, 1 << 20, &log, &log_len);
	r = tpm_open(o->tcti, &t, &d);
	if (r == 0)
		r = attest_quote(t, mask, nonce, n, log ? (const char *)log : "", &doc, &d);
	tpm_close(t);
	free(log);
	if (r < 0)
		return cmd_failed("attest", r, &d);
	fputs(doc, stdout);
	free(doc);
	return 0;
}

static int cmd_identity(const struct anchor_opts *o, const char *credential)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	struct secret *sec = NULL;
	struct diag d = {0};
	struct tpm *t = NULL;
	char *doc = NULL;
	int r = 0;

	if (credential) {
		r = fs_read_file(credential, 64 * 1024, &buf, &len);
		if (r < 0)
			return usage_error("cannot read %s: %s", credential, strerror(-r));
	}
	r = tpm_open(o->tcti, &t, &d);
	if (r == 0 && credential)
		r = attest_activate(t, (const char *)buf, len, &sec, &d);
	else if (r == 0)
		r = attest_identity(t, &doc, &d);
	tpm_close(t);
	free(buf);
	if (r < 0)
		return cmd_failed(credential ? "ak-activate" : "identity", r, &d);
	if (sec) {
		char hex[2 * ATTEST_CREDENTIAL_SECRET + 1];

		if (sec->len != ATTEST_CREDENTIAL_SECRET) {
			secret_free(sec);
			fprintf(stderr, "%s: ak-activate: the credential is not %d bytes\n", prog,
				ATTEST_CREDENTIAL_SECRET);
			return ANCHOR_INTERNAL;
		}
		hex_encode(sec->data, sec->len, hex);
		printf("%s\n", hex);
		secret_free(sec);
	} else {
		fputs(doc, stdout);
		free(doc);
	}
	return 0;
}

static int cmd_boot(const struct anchor_opts *o)
{
	struct anchor_report rep;

	anchor_boot(o, &rep);
	if (rep.verdict == ANCHOR_DONE) {
		fprintf(stderr, "%s: ALREADY DONE: %s\n", prog, rep.d.msg);
		return rep.verdict;
	}
	if (rep.verdict == ANCHOR_BUSY) {
		fprintf(stderr, "%s: BUSY: %s\n", prog, rep.d.msg);
		return rep.verdict;
	}
	if (rep.verdict == ANCHOR_ZEROIZED) {
		fprintf(stderr,
			"%s: zeroized: ready for provisioning (no policy; receipt in "
			"%s/%s)\n",
			prog, o->state_dir, APPLIANCE_ZEROIZE_RECEIPT);
		return rep.verdict;
	}
	if (rep.verdict != ANCHOR_OK) {
		fprintf(stderr, "%s: FAILED (%s): %s\n", prog, rep.stage, rep.d.msg);
		/* Say what happened to any key the TPM did release before the
		 * failure: it was used for nothing and is gone. */
		if (rep.released)
			fprintf(stderr,
				"%s: the TPM released %u volume key(s) before this failure; they "
				"unlocked nothing and were wiped from memory; %s; the appliance "
				"stays locked\n",
				prog, rep.released,
				rep.capped ? "the failure was measured, so the PCRs are capped and "
					     "nothing unseals again in this boot"
					   : "the failure could not be measured (the TPM did not "
					     "answer)");
		else
			fprintf(stderr, "%s: no key was released; the appliance stays locked\n",
				prog);
		return rep.verdict;
	}
	fprintf(stderr, "%s: OK: %u bundle(s) verified, %u volume(s) %s; PCRs capped\n", prog,
		rep.bundles, rep.volumes,
		rep.activated ? "opened" : "key-checked (no device-mapper here: not activated)");
	return ANCHOR_OK;
}

/* Does the event log replay to the TPM's PCR 13 and 15? 1 yes, 0 no, -errno. */
static int log_matches_tpm(const struct anchor_opts *o, const char *log_buf, size_t log_len,
			   struct diag *d)
{
	const tpmpolicy_pcr_mask_t mask =
	    TPMPOLICY_PCR(EVENTLOG_PCR_SEAL) | TPMPOLICY_PCR(EVENTLOG_PCR_LOG);
	struct tpmpolicy_pcr_values replay, now;
	struct eventlog *log;
	struct tpm *t = NULL;
	int r;

	log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	r = eventlog_parse(log_buf, log_len, log, d);
	if (r == 0)
		r = tpm_open(o->tcti, &t, d);
	if (r == 0)
		r = tpm_pcr_read(t, mask, &now, d);
	tpm_close(t);
	if (r == 0) {
		eventlog_replay(log, &replay);
		r = !CRYPTO_memcmp(replay.v[EVENTLOG_PCR_SEAL], now.v[EVENTLOG_PCR_SEAL], 32) &&
		    !CRYPTO_memcmp(replay.v[EVENTLOG_PCR_LOG], now.v[EVENTLOG_PCR_LOG], 32);
	}
	free(log);
	return r;
}

/* No verdict to give (status exit 9): reason for --json, line for people. */
static int no_verdict(bool json, const char *reason, const char *line)
{
	if (json)
		printf("{\"format\":\"sealboot-status\",\"format_version\":1,"
		       "\"verdict\":\"none\",\"exit_code\":%d,\"reason\":\"%s\"}\n",
		       ANCHOR_STATE, reason);
	else
		printf("sealboot: NO VERDICT: %s\n", line);
	return ANCHOR_STATE;
}

/* Is the status this boot's? */
static bool from_this_boot(json_object *st)
{
	char now[FS_BOOT_ID_SIZE];
	json_object *v;

	fs_boot_id(now);
	return json_object_object_get_ex(st, "boot_id", &v) &&
	       json_object_is_type(v, json_type_string) &&
	       strcmp(json_object_get_string(v), now) == 0;
}

static int cmd_status(const struct anchor_opts *o, bool json)
{
	static const char *const members[] = {
	    "format", "format_version",	  "boot_id",	  "verdict",   "exit_code",   "stage",
	    "reason", "bundles_verified", "volumes_open", "activated", "tpm_lockout", "time",
	    NULL};
	unsigned char *buf = NULL, *log_buf = NULL;
	size_t len = 0, log_len = 0;
	json_object *st = NULL, *v;
	struct diag d = {0}, ld = {0};
	uint64_t code = ANCHOR_INTERNAL, nb = 0, nv = 0;
	const char *verdict, *stage, *reason;
	bool activated;
	int dirfd, r, match = -1;

	dirfd = open(o->run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	r = dirfd < 0 ? -errno : fs_read_file_at(dirfd, "status.json", 65536, &buf, &len);
	if (r < 0) {
		char line[4400];

		if (dirfd >= 0)
			close(dirfd);
		snprintf(line, sizeof(line), "the anchor has not run in this boot (%s/%s: %s)",
			 o->run_dir, "status.json", strerror(-r));
		return no_verdict(json, "the anchor has not run in this boot", line);
	}
	r = jf_parse((const char *)buf, len, 4, "status", &st, &d);
	if (r == 0 && (r = jf_only(st, members, "status", "", &d)) == 0 &&
	    (r = jf_u64(st, "exit_code", "status", "", &code, &d)) == 0 &&
	    (r = jf_u64(st, "bundles_verified", "status", "", &nb, &d)) == 0 &&
	    (r = jf_u64(st, "volumes_open", "status", "", &nv, &d)) == 0)
		r = jf_get(st, "verdict", json_type_string, "status", "", &v, &d);
	if (r < 0 || code > ANCHOR_ZEROIZED) {
		fprintf(stderr, "%s: %s/status.json is damaged: %s\n", prog, o->run_dir, d.msg);
		close(dirfd);
		free(buf);
		json_object_put(st);
		return ANCHOR_INTERNAL;
	}
	verdict = json_object_get_string(v);
	/* A verdict from an earlier boot (a /run that is not a tmpfs, or a
	 * file put there) says nothing about this one. */
	if (!from_this_boot(st)) {
		char line[4400];

		snprintf(line, sizeof(line), "%s/status.json is from an earlier boot", o->run_dir);
		close(dirfd);
		free(buf);
		json_object_put(st);
		return no_verdict(json, "the status is from an earlier boot", line);
	}
	stage = json_object_object_get_ex(st, "stage", &v) ? json_object_get_string(v) : "";
	activated = json_object_object_get_ex(st, "activated", &v) &&
		    json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
	reason = json_object_object_get_ex(st, "reason", &v) ? json_object_get_string(v) : "";

	/* On success, the log must still replay to the TPM's PCRs. */
	if (code == ANCHOR_OK) {
		r = fs_read_file_at(dirfd, "eventlog.jsonl", 1 << 20, &log_buf, &log_len);
		match = r < 0 ? 0 : log_matches_tpm(o, (const char *)log_buf, log_len, &ld);
		if (r < 0)
			snprintf(ld.msg, sizeof(ld.msg), "the event log is missing");
	}
	close(dirfd);
	if (json) {
		json_object_object_add(st, "eventlog_matches_tpm",
				       match < 0 ? NULL : json_object_new_boolean(match == 1));
		printf("%s\n", json_object_to_json_string_ext(
				   st, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (code == ANCHOR_OK && match == 1) {
		printf("sealboot: OK: %llu bundle(s) verified, %llu volume(s) %s; event log "
		       "matches the TPM\n",
		       (unsigned long long)nb, (unsigned long long)nv,
		       activated ? "unlocked"
				 : "key-checked (no device-mapper here: not activated)");
	} else if (code == ANCHOR_OK) {
		printf("sealboot: SUSPECT: the boot succeeded but the event log does not match "
		       "the TPM (%s)\n",
		       ld.msg[0] ? ld.msg : "PCR values differ from the log");
	} else if (code == ANCHOR_ZEROIZED) {
		printf("sealboot: zeroized: ready for provisioning\n");
	} else {
		printf("sealboot: FAILED at %s (exit %llu): %s\n", stage, (unsigned long long)code,
		       reason);
	}
	(void)verdict;
	free(buf);
	free(log_buf);
	json_object_put(st);
	if (code == ANCHOR_OK && match != 1)
		return ANCHOR_STATE;
	return (int)code;
}

enum {
	OPT_STATE = 256,
	OPT_RUN,
	OPT_TCTI,
	OPT_NO_ACTIVATE,
	OPT_AT,
	OPT_JSON,
	OPT_ORDER,
	OPT_LAUNCHER,
	OPT_NONCE,
	OPT_CREDENTIAL
};

static const struct option options[] = {
    {"state", required_argument, NULL, OPT_STATE},
    {"run", required_argument, NULL, OPT_RUN},
    {"tcti", required_argument, NULL, OPT_TCTI},
    {"no-activate", no_argument, NULL, OPT_NO_ACTIVATE},
    {"at", required_argument, NULL, OPT_AT},
    {"json", no_argument, NULL, OPT_JSON},
    {"order", required_argument, NULL, OPT_ORDER},
    {"launcher", required_argument, NULL, OPT_LAUNCHER},
    {"nonce", required_argument, NULL, OPT_NONCE},
    {"credential", required_argument, NULL, OPT_CREDENTIAL},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {0},
};

/* What the command line asked for. */
struct args {
	struct anchor_opts o;
	bool json;
	const char *order, *launcher, *nonce, *credential;
};

/* An option parser's answers besides an exit status (never negative). */
#define GO_ON (-1)

/* One option into a: GO_ON, or the usage exit status. */
static int parse_option(int c, struct args *a)
{
	switch (c) {
	case OPT_STATE:
		a->o.state_dir = optarg;
		break;
	case OPT_RUN:
		a->o.run_dir = optarg;
		break;
	case OPT_TCTI:
		a->o.tcti = optarg;
		break;
	case OPT_NO_ACTIVATE:
		a->o.no_activate = true;
		break;
	case OPT_AT: {
		char *end;
		errno = 0;
		long long at = strtoll(optarg, &end, 10);
		if (errno || *end || at <= 0)
			return usage_error("--at '%s' is not a positive number of seconds", optarg);
		a->o.at = at;
		break;
	}
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_ORDER:
		a->order = optarg;
		break;
	case OPT_LAUNCHER:
		a->launcher = optarg;
		break;
	case OPT_NONCE:
		a->nonce = optarg;
		break;
	case OPT_CREDENTIAL:
		a->credential = optarg;
		break;
	case 'q':
		a->o.quiet = true;
		break;
	}
	return GO_ON;
}

/* The one command, with the options it requires. */
static int dispatch(struct args *a, const char *cmd)
{
	if (!strcmp(cmd, "boot")) {
		if (a->json)
			return usage_error("--json is for status");
		a->o.launcher = a->launcher;
		return cmd_boot(&a->o);
	}
	if (!strcmp(cmd, "status"))
		return cmd_status(&a->o, a->json);
	if (!strcmp(cmd, "zeroize-challenge"))
		return cmd_zeroize(&a->o, NULL, NULL, true);
	if (!strcmp(cmd, "zeroize")) {
		if (!a->order)
			return usage_error("zeroize: --order FILE is required");
		return cmd_zeroize(&a->o, a->order, a->launcher, false);
	}
	if (!strcmp(cmd, "attest")) {
		if (!a->nonce)
			return usage_error("attest: --nonce HEX is required");
		return cmd_attest(&a->o, a->nonce);
	}
	if (!strcmp(cmd, "identity"))
		return cmd_identity(&a->o, NULL);
	if (!strcmp(cmd, "ak-activate")) {
		if (!a->credential)
			return usage_error("ak-activate: --credential FILE is required");
		return cmd_identity(&a->o, a->credential);
	}
	return usage_error(
	    "unknown command '%s' (boot, status, zeroize-challenge, zeroize, attest, "
	    "identity, ak-activate)",
	    cmd);
}

int main(int argc, char **argv)
{
	struct args a = {
	    .o =
		{
		    .state_dir = APPLIANCE_STATE_DIR,
		    .run_dir = APPLIANCE_RUN_DIR,
		    .tcti = getenv("SEALBOOT_TCTI"),
		},
	};
	int c, r;

	/* No core dump may hold a volume key. */
	(void)prctl(PR_SET_DUMPABLE, 0);
	opterr = 0; /* one line per mistake: ours (cli_bad_option) */
	while ((c = getopt_long(argc, argv, ":qhV", options, NULL)) != -1) {
		if (cli_help_or_version(c, prog, usage))
			return ANCHOR_OK;
		if (c != 'q' && c < OPT_STATE) {
			char bad[160];

			return usage_error("%s", cli_bad_option(c, argv, bad, sizeof(bad)));
		}
		r = parse_option(c, &a);
		if (r != GO_ON)
			return r;
	}
	/* GNU getopt permutes: options may come before or after the command. */
	if (argc - optind != 1)
		return usage_error(optind >= argc ? "expected a command: boot or status"
						  : "expected one command, got '%s' too",
				   optind < argc - 1 ? argv[optind + 1] : "");
	return dispatch(&a, argv[optind]);
}
