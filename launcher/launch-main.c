/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sealboot-launch: starts the owner's workload as a libvirt guest with every
 * device it does not need removed, from the anchor's handoff and the
 * policy's device profile, and proves it by auditing the live domain.
 * sealboot-launch(8).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "config.h"
#include "domxml.h"
#include "guest.h"
#include "kvm.h"
#include "lockdown.h"
#include "virt.h"
#include "text.h"
#include "watch.h"

static const char *prog = "sealboot-launch";

enum {
	EXIT_OK = 0,
	EXIT_INTERNAL = 1,
	EXIT_USAGE = 2,
	EXIT_HANDOFF = 3, /* missing, stale, or not the measured state */
	EXIT_PROFILE = 4, /* the profile asks for what may not be */
	EXIT_LIBVIRT = 5, /* libvirt refused or failed */
	EXIT_AUDIT = 6,	  /* the live domain held a device not allowed: destroyed */
	EXIT_NOT_RUNNING = 7,
	EXIT_LOST = 8, /* the watch lost libvirt and killed the guest (fail closed) */
};

struct opts {
	struct guest_opts g;
	const char *uri;
	const char *virt; /* auto, kvm, tcg */
	const char *sysfs_root;
	bool no_lockdown;
	unsigned timeout_s;
	bool json;
	bool foreground;      /* start: watch in this process, log to stderr */
	unsigned interval_ms; /* start: the watch's periodic re-audit */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s start [OPTIONS]\n"
		"       %s stop [OPTIONS]\n"
		"       %s status [--json] [OPTIONS]\n"
		"       %s audit [OPTIONS]\n"
		"       %s xml [OPTIONS]\n"
		"\n"
		"Start the appliance's guest through libvirt with only the devices its\n"
		"policy allows, and prove it from the live domain.\n"
		"\n"
		"  start    check the anchor's handoff against the TPM and the event log,\n"
		"           lock down host USB, start the guest, audit its live XML; then\n"
		"           stay resident as its watch (in the background unless\n"
		"           --foreground): every libvirt event for it and every\n"
		"           --interval ms, audit again; destroy it when it leaves the\n"
		"           profile. The guest dies with the watch (AUTODESTROY)\n"
		"  stop     ACPI shutdown; destroyed after --timeout seconds\n"
		"  status   is it running, does its live XML pass the audit, what did the\n"
		"           watch do (--json)\n"
		"  audit    the same check; a guest that fails it is destroyed\n"
		"  xml      print the domain XML start would use (after the same checks)\n"
		"\n"
		"Options:\n"
		"  --state DIR        appliance state (default %s)\n"
		"  --run DIR          the anchor's run directory (default %s)\n"
		"  --uri URI          libvirt URI (default qemu:///system)\n"
		"  --tcti TCTI        TPM connection (default device:/dev/tpmrm0; also\n"
		"                     $SEALBOOT_TCTI)\n"
		"  --name NAME        the domain name (default sealboot-guest)\n"
		"  --console-log PATH where the guest's serial console goes (default\n"
		"                     /var/log/sealboot/console.log)\n"
		"  --virt MODE        auto (KVM when it works here, else TCG), kvm or tcg\n"
		"  --without-volumes  start although the volumes were only key-checked\n"
		"  --reverify         re-verify each bundle's signature and content first\n"
		"  --sysfs-root DIR   where sysfs is, for the USB lockdown (default /sys)\n"
		"  --no-lockdown      leave host USB as it is\n"
		"  --timeout N        stop: seconds to wait for a clean shutdown (default 30)\n"
		"  --foreground       start: watch in this process, log to stderr\n"
		"  --interval MS      start: the watch's periodic audit, 100..60000 ms\n"
		"                     (default 500)\n"
		"  --json             status: print JSON (schema sealboot-launch-status/2)\n"
		"  -h, --help         show this help\n"
		"  -V, --version      show the version\n"
		"\n"
		"Exit status: 0 ok, 1 internal, 2 usage, 3 handoff missing, stale or not\n"
		"the measured state, 4 profile refused, 5 libvirt failed, 6 the live domain\n"
		"held a device not allowed (destroyed; status: the watch destroyed it), 7 not\n"
		"running, 8 the watch lost its libvirt connection and killed the guest\n"
		"(status, start --foreground). See sealboot-launch(8).\n",
		prog, prog, prog, prog, prog, APPLIANCE_STATE_DIR, APPLIANCE_RUN_DIR);
}

#define usage_error(...) cli_usage_error(prog, EXIT_USAGE, __VA_ARGS__)

static int report(const struct diag *d, int code)
{
	fprintf(stderr, "%s: %s\n", prog, d->msg[0] ? d->msg : "failed");
	return code;
}

static int spec_or_fail(struct opts *o, struct spec *s, struct diag *d)
{
	enum guest_fail cls = GUEST_INTERNAL;
	int r = guest_spec(&o->g, s, &cls, d);

	if (r == 0)
		return EXIT_OK;
	return report(d, cls == GUEST_HANDOFF	? EXIT_HANDOFF
			 : cls == GUEST_PROFILE ? EXIT_PROFILE
						: EXIT_INTERNAL);
}

/* The live domain against the spec. 0 clean, EXIT_AUDIT with *offender, or
 * another exit code. */
static int audit_domain(struct virt *v, const struct spec *s, char *offender, size_t size,
			struct diag *d)
{
	switch (watch_audit(v, s, offender, size, d)) {
	case WATCH_CLEAN:
		return EXIT_OK;
	case WATCH_OFFENDER:
		return EXIT_AUDIT;
	case WATCH_ABSENT:
		return EXIT_NOT_RUNNING;
	default:
		break;
	}
	/* libvirt failed (the adapter's class), or the XML could not be read */
	return d->cls == DIAG_INTERNAL ? EXIT_LIBVIRT : EXIT_INTERNAL;
}

/*
 * start runs in a child that stays as the watch; the parent only waits for
 * the child's verdict on the start (one byte: the exit code) and exits with
 * it, so `sealboot-launch start` still returns once the guest is up and
 * audited. The child then detaches: stdin/stdout to /dev/null, stderr to
 * RUN/launch/NAME/watch.log.
 */
static int ready_fd = -1;

static void report_ready(int code, const char *dir)
{
	unsigned char c = (unsigned char)code;
	int null, log = -1;

	if (ready_fd < 0)
		return;
	fflush(stdout);
	fflush(stderr);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (code == EXIT_OK && dir) {
		char path[4300];

		snprintf(path, sizeof(path), "%s/watch.log", dir);
		log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(log >= 0 ? log : null, STDERR_FILENO);
		close(null);
	}
	if (log >= 0)
		close(log);
	/* the verdict last, after our copies of the caller's files are gone */
	if (write(ready_fd, &c, 1) != 1) {
		/* the parent is gone; nothing to tell */
	}
	close(ready_fd);
	ready_fd = -1;
}

/* Fork the watch. Returns -1 in the child (carry on), else the exit code
 * for the parent. */
static int fork_watch(void)
{
	int p[2];
	pid_t pid;
	unsigned char c;
	ssize_t n;

	fflush(stdout);
	fflush(stderr);
	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
		return EXIT_INTERNAL;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		return EXIT_INTERNAL;
	}
	if (pid == 0) {
		close(p[0]);
		ready_fd = p[1];
		setsid();
		return -1;
	}
	close(p[1]);
	do
		n = read(p[0], &c, 1);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n == 1)
		return c;
	/* the child died before its verdict: reap it and say so */
	(void)waitpid(pid, NULL, 0);
	fprintf(stderr, "%s: the watch exited before the guest was up\n", prog);
	return EXIT_INTERNAL;
}

/* USB deauthorized on the host before the guest exists (unless asked not to). */
static int host_lockdown(const struct opts *o, struct diag *d)
{
	unsigned changed = 0;

	if (o->no_lockdown)
		return EXIT_OK;
	if (lockdown_usb(o->sysfs_root, &changed, d) < 0)
		return report(d, EXIT_INTERNAL);
	fprintf(stderr, "%s: host USB locked down (%u setting(s) written under %s)\n", prog,
		changed, o->sysfs_root);
	return EXIT_OK;
}

/* The guest just started: audit what libvirt really made, not what we asked
 * for, then pin QEMU's process so that a lost libvirt connection can kill it
 * without libvirtd (watch.h). On any failure the guest is destroyed and the
 * exit status returned. */
static int check_started(struct virt *v, const struct spec *s, struct diag *d)
{
	char offender[256] = "";
	struct diag dd = {0};
	int code;

	code = audit_domain(v, s, offender, sizeof(offender), d);
	if (code != EXIT_OK) {
		(void)virt_destroy(v, s->name, &dd);
		if (code == EXIT_AUDIT)
			fprintf(stderr,
				"%s: the started guest holds %s, which the profile does not "
				"allow: destroyed it\n",
				prog, offender);
		else
			report(d, code);
		return code;
	}
	code = watch_pin_qemu(v, s, d);
	if (code == -EOPNOTSUPP) {
		fprintf(stderr, "%s: %s: a lost connection is answered by reconnecting\n", prog,
			d->msg);
	} else if (code < 0) {
		(void)virt_destroy(v, s->name, &dd);
		return report(d, EXIT_LIBVIRT);
	}
	return EXIT_OK;
}

static int cmd_start(struct opts *o)
{
	struct spec s;
	struct virt *v = NULL;
	struct diag d = {0};
	char why[256] = "", *xml = NULL, *dir = NULL, copy_dir[4400];
	struct timespec t0, t1;
	struct watch_cfg cfg = {.interval_ms = o->interval_ms};
	int code;

	if (!o->foreground) {
		code = fork_watch();
		if (code >= 0)
			return code;
	}
	memset(&s, 0, sizeof(s));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!strcmp(o->virt, "auto"))
		o->g.virt = kvm_works(2000, why, sizeof(why)) ? SPEC_VIRT_KVM : SPEC_VIRT_TCG;
	if (watch_prepare(o->g.run_dir, o->g.name, &dir, &d) < 0) {
		code = report(&d, EXIT_INTERNAL);
		goto out;
	}
	cfg.dir = dir;
	/* kernel and initrd: QEMU gets the copies read (and hashed) now */
	snprintf(copy_dir, sizeof(copy_dir), "%s/boot", dir);
	o->g.copy_dir = copy_dir;
	code = spec_or_fail(o, &s, &d);
	if (code)
		goto out;
	if (domxml_build(&s, &xml, &d) < 0) {
		code = report(&d, EXIT_PROFILE);
		goto out;
	}
	code = host_lockdown(o, &d);
	if (code)
		goto out;
	/* The events are subscribed to before the guest exists, so nothing that
	 * happens to it after create goes unseen. */
	if (virt_events_init(&d) < 0 || virt_open(o->uri, &v, &d) < 0 ||
	    watch_subscribe(v, &s, &d) < 0) {
		code = report(&d, EXIT_LIBVIRT);
		goto out;
	}
	if (s.net == SPEC_NET_ISOLATED && virt_isolated_network(v, s.net_source, &d) < 0) {
		code = report(&d, EXIT_LIBVIRT);
		goto out;
	}
	if (watch_record_start(dir, s.name, &d) < 0) {
		code = report(&d, EXIT_INTERNAL);
		goto out;
	}
	/* AUTODESTROY: the guest lives only as long as this connection, i.e.
	 * as long as the watch. */
	if (virt_start(v, xml, true, &d) < 0) {
		code = report(&d, EXIT_LIBVIRT);
		goto out;
	}
	code = check_started(v, &s, &d);
	if (code != EXIT_OK)
		goto out;
	memset(&d, 0, sizeof(d));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr,
		"%s: guest %s running (%s%s%s), audit clean, in %.0f ms%s%s; watched by pid %ld "
		"(log in %s/watch.log)\n",
		prog, s.name, s.virt == SPEC_VIRT_KVM ? "KVM" : "TCG", why[0] ? ": " : "", why,
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		s.console_log ? "; console in " : "", s.console_log ? s.console_log : "",
		(long)getpid(), dir);
	report_ready(EXIT_OK, dir);
	memset(&d, 0, sizeof(d));
	switch (watch_run(v, &s, o->uri, &cfg, &d)) {
	case WATCH_CLEAN:
		code = EXIT_OK;
		break;
	case WATCH_OFFENDER:
		code = EXIT_AUDIT;
		break;
	case WATCH_LOST:
		code = EXIT_LOST;
		break;
	default:
		code = report(&d, EXIT_LIBVIRT);
		break;
	}
out:
	report_ready(code, NULL);
	free(xml);
	free(dir);
	virt_close(v);
	spec_free_members(&s);
	return code;
}

static int cmd_xml(struct opts *o)
{
	struct spec s;
	struct diag d = {0};
	char why[256], *xml = NULL;
	int code;

	if (!strcmp(o->virt, "auto"))
		o->g.virt = kvm_works(2000, why, sizeof(why)) ? SPEC_VIRT_KVM : SPEC_VIRT_TCG;
	code = spec_or_fail(o, &s, &d);
	if (code)
		return code;
	if (domxml_build(&s, &xml, &d) < 0)
		code = report(&d, EXIT_PROFILE);
	else
		fputs(xml, stdout);
	free(xml);
	spec_free_members(&s);
	return code;
}

static int cmd_stop(struct opts *o)
{
	struct virt *v = NULL;
	struct diag d = {0};
	bool forced = false;
	enum virt_state st;

	if (virt_open(o->uri, &v, &d) < 0)
		return report(&d, EXIT_LIBVIRT);
	if (virt_state(v, o->g.name, &st, &d) < 0 ||
	    (st == VIRT_RUNNING && virt_shutdown(v, o->g.name, o->timeout_s, &forced, &d) < 0)) {
		virt_close(v);
		return report(&d, EXIT_LIBVIRT);
	}
	virt_close(v);
	if (st != VIRT_RUNNING) {
		fprintf(stderr, "%s: guest %s is not running\n", prog, o->g.name);
		return EXIT_NOT_RUNNING;
	}
	fprintf(stderr, "%s: guest %s stopped%s\n", prog, o->g.name,
		forced ? " (forced: it did not shut down within the timeout)" : "");
	return EXIT_OK;
}

/* The spec's accelerator for status and audit. With --virt auto it is the
 * one start chose (the live domain's type): a probe run again now could
 * answer otherwise under load, and the audit is about devices, not about
 * the accelerator. EXIT_OK, or the usage error when --virt names another. */
static int live_virt(struct opts *o, struct virt *v)
{
	struct diag d = {0};
	char *live = NULL;
	enum spec_virt runs = SPEC_VIRT_TCG;
	/* Unreadable, or a type of its own: the audit names it. */
	bool have = virt_live_xml(v, o->g.name, &live, &d) == 0 &&
		    audit_domain_virt(live, strlen(live), &runs, &d) == 0;

	free(live);
	if (!strcmp(o->virt, "auto"))
		o->g.virt = runs;
	else if (have && runs != o->g.virt)
		/* Not a device the profile forbids: the options ask for
		 * another accelerator than the guest runs under. */
		return usage_error("guest %s runs under %s, not the --virt %s asked for; "
				   "nothing was audited (leave --virt out, or give --virt %s)",
				   o->g.name, runs == SPEC_VIRT_KVM ? "KVM" : "TCG", o->virt,
				   runs == SPEC_VIRT_KVM ? "kvm" : "tcg");
	return EXIT_OK;
}

/* status --json (schema sealboot-launch-status/2). rec: the watch's record,
 * or NULL. */
static void print_check_json(const struct spec *s, enum virt_state st, int code,
			     const char *offender, bool destroyed, const struct watch_record *rec)
{
	json_object *j = json_object_new_object(), *w = json_object_new_object();

	json_object_object_add(j, "schema", json_object_new_string("sealboot-launch-status/2"));
	json_object_object_add(j, "name", json_object_new_string(s->name));
	json_object_object_add(j, "running", json_object_new_boolean(st == VIRT_RUNNING));
	json_object_object_add(j, "audit",
			       json_object_new_string(code == EXIT_OK		 ? "clean"
						      : code == EXIT_AUDIT	 ? "failed"
						      : code == EXIT_NOT_RUNNING ? "not-running"
						      : code == EXIT_LOST	 ? "unwatched"
										 : "error"));
	json_object_object_add(j, "offender", json_object_new_string(offender));
	json_object_object_add(j, "destroyed", json_object_new_boolean(destroyed));
	json_object_object_add(
	    w, "state",
	    json_object_new_string(!rec ? "none"
				   : (!strcmp(rec->state, "watching") && !rec->pid_alive)
				       ? "dead"
				       : rec->state));
	json_object_object_add(w, "pid", json_object_new_int64(rec ? rec->pid : 0));
	json_object_object_add(w, "event", json_object_new_string(rec ? rec->event : ""));
	json_object_object_add(w, "reason", json_object_new_string(rec ? rec->reason : ""));
	json_object_object_add(w, "frozen_ms", json_object_new_int64(rec ? rec->frozen_ms : 0));
	json_object_object_add(w, "latency_ms", json_object_new_int64(rec ? rec->latency_ms : 0));
	json_object_object_add(j, "watch", w);
	printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
}

/* status and audit: the same check; audit also acts on a failure. */
static int cmd_check(struct opts *o, bool act)
{
	struct spec s;
	struct virt *v = NULL;
	struct diag d = {0};
	char offender[256] = "";
	enum virt_state st = VIRT_ABSENT;
	struct watch_record rec;
	bool have_rec = false, watch_destroyed = false, watch_lost = false;
	int code;

	/* The spec the guest must match, from the same measured state. */
	if (virt_open(o->uri, &v, &d) < 0)
		return report(&d, EXIT_LIBVIRT);
	code = live_virt(o, v);
	if (code) {
		virt_close(v);
		return code;
	}
	code = spec_or_fail(o, &s, &d);
	if (code) {
		virt_close(v);
		return code;
	}
	if (virt_state(v, s.name, &st, &d) < 0) {
		code = report(&d, EXIT_LIBVIRT);
		goto out;
	}
	code = st == VIRT_RUNNING ? audit_domain(v, &s, offender, sizeof(offender), &d)
				  : EXIT_NOT_RUNNING;
	if (code == EXIT_AUDIT && act) {
		struct diag dd = {0};

		(void)virt_destroy(v, s.name, &dd);
	}
	/* What the watch recorded: a guest it destroyed is a failed audit
	 * (exit 6) with its reason, not just "not running". */
	{
		struct diag wd = {0};

		if (watch_read_record(o->g.run_dir, s.name, &rec, &wd) == 0)
			have_rec = true;
	}
	if (code == EXIT_NOT_RUNNING && have_rec && !strcmp(rec.state, "destroyed")) {
		code = EXIT_AUDIT;
		watch_destroyed = true;
		snprintf(offender, sizeof(offender), "%s", rec.reason);
	} else if (code == EXIT_NOT_RUNNING && have_rec && !strcmp(rec.state, "lost")) {
		code = EXIT_LOST;
		watch_lost = true;
	}
	if (o->json) {
		print_check_json(&s, st, code, offender,
				 (code == EXIT_AUDIT && act) || watch_destroyed || watch_lost,
				 have_rec ? &rec : NULL);
	} else if (code == EXIT_OK) {
		printf("sealboot-launch: %s running; live devices match the profile%s\n", s.name,
		       have_rec && !strcmp(rec.state, "watching") && rec.pid_alive
			   ? "; watched"
			   : "; NOT watched");
	} else if (watch_destroyed) {
		printf("sealboot-launch: %s is not running: the watch destroyed it: it held %s "
		       "(event: %s; paused %ld ms, destroyed %ld ms after it)\n",
		       s.name, rec.reason, rec.event, rec.frozen_ms, rec.latency_ms);
	} else if (watch_lost) {
		printf("sealboot-launch: %s is not running: the watch lost its libvirt connection "
		       "and killed it: %s\n",
		       s.name, rec.reason);
	} else if (code == EXIT_AUDIT) {
		printf("sealboot-launch: %s holds %s, which the profile does not allow%s\n", s.name,
		       offender, act ? ": destroyed it" : "");
	} else if (code == EXIT_NOT_RUNNING) {
		printf("sealboot-launch: %s is not running\n", s.name);
	} else {
		report(&d, code);
	}
out:
	virt_close(v);
	spec_free_members(&s);
	return code;
}

static int cmd_status(struct opts *o)
{
	return cmd_check(o, false);
}

static int cmd_audit(struct opts *o)
{
	return cmd_check(o, true);
}

enum {
	OPT_STATE = 256,
	OPT_RUN,
	OPT_URI,
	OPT_TCTI,
	OPT_NAME,
	OPT_CONSOLE,
	OPT_VIRT,
	OPT_WITHOUT_VOLUMES,
	OPT_REVERIFY,
	OPT_SYSFS,
	OPT_NO_LOCKDOWN,
	OPT_TIMEOUT,
	OPT_JSON,
	OPT_FOREGROUND,
	OPT_INTERVAL,
};

static const struct option longopts[] = {
    {"state", required_argument, NULL, OPT_STATE},
    {"run", required_argument, NULL, OPT_RUN},
    {"uri", required_argument, NULL, OPT_URI},
    {"tcti", required_argument, NULL, OPT_TCTI},
    {"name", required_argument, NULL, OPT_NAME},
    {"console-log", required_argument, NULL, OPT_CONSOLE},
    {"virt", required_argument, NULL, OPT_VIRT},
    {"without-volumes", no_argument, NULL, OPT_WITHOUT_VOLUMES},
    {"reverify", no_argument, NULL, OPT_REVERIFY},
    {"sysfs-root", required_argument, NULL, OPT_SYSFS},
    {"no-lockdown", no_argument, NULL, OPT_NO_LOCKDOWN},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"json", no_argument, NULL, OPT_JSON},
    {"foreground", no_argument, NULL, OPT_FOREGROUND},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {0},
};

/* An option parser's answers besides an exit status (never negative). */
#define GO_ON (-1)

/* One long option into o: GO_ON, or the usage exit status. */
static int parse_option(int c, struct opts *o)
{
	switch (c) {
	case OPT_STATE:
		o->g.state_dir = optarg;
		break;
	case OPT_RUN:
		o->g.run_dir = optarg;
		break;
	case OPT_URI:
		o->uri = optarg;
		break;
	case OPT_TCTI:
		o->g.tcti = optarg;
		break;
	case OPT_NAME:
		if (!text_name_valid(optarg, SPEC_NAME_MAX - 1, TEXT_NAME_HOST))
			return usage_error("--name '%s' is not 1 to %d characters of A-Z a-z "
					   "0-9 . _ - starting with a letter or digit",
					   optarg, SPEC_NAME_MAX - 1);
		o->g.name = optarg;
		break;
	case OPT_CONSOLE:
		o->g.console_log = optarg;
		break;
	case OPT_VIRT:
		if (strcmp(optarg, "auto") && strcmp(optarg, "kvm") && strcmp(optarg, "tcg"))
			return usage_error("--virt '%s' is not auto, kvm or tcg", optarg);
		o->virt = optarg;
		o->g.virt = !strcmp(optarg, "kvm") ? SPEC_VIRT_KVM : SPEC_VIRT_TCG;
		break;
	case OPT_WITHOUT_VOLUMES:
		o->g.without_volumes = true;
		break;
	case OPT_REVERIFY:
		o->g.reverify = true;
		break;
	case OPT_SYSFS:
		o->sysfs_root = optarg;
		break;
	case OPT_NO_LOCKDOWN:
		o->no_lockdown = true;
		break;
	case OPT_TIMEOUT: {
		char *end;
		unsigned long t;

		errno = 0;
		t = strtoul(optarg, &end, 10);
		if (errno || *end || end == optarg || t > 3600)
			return usage_error("--timeout '%s' is not 0..3600 seconds", optarg);
		o->timeout_s = (unsigned)t;
		break;
	}
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_FOREGROUND:
		o->foreground = true;
		break;
	case OPT_INTERVAL: {
		char *end;
		unsigned long t;

		errno = 0;
		t = strtoul(optarg, &end, 10);
		if (errno || *end || end == optarg || t < 100 || t > 60000)
			return usage_error("--interval '%s' is not 100..60000 ms", optarg);
		o->interval_ms = (unsigned)t;
		break;
	}
	}
	return GO_ON;
}

/* Each command with the long options it uses: 0 is every option; any
 * other option given would be silently ignored, so it is refused. */
static const struct command {
	const char *name;
	int (*run)(struct opts *o);
	unsigned used; /* 1 << (val - OPT_STATE) */
	const char *used_text;
} cmds[] = {
    {"start", cmd_start, 0, NULL},
    {"stop", cmd_stop,
     1u << (OPT_URI - OPT_STATE) | 1u << (OPT_NAME - OPT_STATE) | 1u << (OPT_TIMEOUT - OPT_STATE),
     "--uri, --name and --timeout"},
    {"status", cmd_status, 0, NULL},
    {"audit", cmd_audit, 0, NULL},
    {"xml", cmd_xml, 0, NULL},
};

/* The one command, refusing options it would ignore. */
static int dispatch(struct opts *o, const char *cmd, unsigned given)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmd, cmds[i].name))
			continue;
		for (const struct option *lo = longopts; cmds[i].used && lo->name; lo++)
			if (lo->val >= OPT_STATE && lo->val <= OPT_JSON &&
			    (given & ~cmds[i].used & 1u << (lo->val - OPT_STATE)))
				return usage_error("%s takes only %s; --%s does nothing there", cmd,
						   cmds[i].used_text, lo->name);
		return cmds[i].run(o);
	}
	return usage_error("unknown command '%s' (start, stop, status, audit, xml)", cmd);
}

int main(int argc, char **argv)
{
	struct opts o = {
	    .g = {.state_dir = APPLIANCE_STATE_DIR,
		  .run_dir = APPLIANCE_RUN_DIR,
		  .tcti = getenv("SEALBOOT_TCTI"),
		  .name = "sealboot-guest",
		  .console_log = "/var/log/sealboot/console.log"},
	    .uri = "qemu:///system",
	    .virt = "auto",
	    .sysfs_root = "/sys",
	    .timeout_s = 30,
	    .interval_ms = 500,
	};
	unsigned given = 0; /* the long options given, 1 << (val - OPT_STATE) */
	int c, r;

	opterr = 0; /* one line per mistake: ours (cli_bad_option) */
	while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
		if (c >= OPT_STATE && c <= OPT_JSON)
			given |= 1u << (c - OPT_STATE);
		if (cli_help_or_version(c, prog, usage))
			return EXIT_OK;
		if (c < OPT_STATE) {
			char bad[160];

			return usage_error("%s", cli_bad_option(c, argv, bad, sizeof(bad)));
		}
		r = parse_option(c, &o);
		if (r != GO_ON)
			return r;
	}
	if (argc - optind != 1)
		return usage_error("expected one command: start, stop, status, audit or xml");
	return dispatch(&o, argv[optind], given);
}
