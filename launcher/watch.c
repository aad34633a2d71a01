/* SPDX-License-Identifier: Apache-2.0 */
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "fsutil.h"

#define RECORD "watch.json"
#define RECORD_SCHEMA "sealboot-launch-watch/1"
/* Consecutive failed audits (libvirt errors, not offenders) before the
 * watch gives up on proving the guest and destroys it. */
#define WATCH_MAX_ERRORS 3
/* Without a pinned QEMU process (a URI other than qemu:///system): how long
 * a lost libvirt connection is retried to destroy the guest. */
#define WATCH_RECONNECT_S 10
/* How long a killed QEMU is waited for. */
#define WATCH_KILL_WAIT_MS 10000

/* ---- the audit -------------------------------------------------------------- */

enum watch_verdict watch_audit(struct virt *v, const struct spec *s, char *offender, size_t size,
			       struct diag *d)
{
	char *xml = NULL, **taints = NULL;
	size_t n = 0;
	bool persistent = false;
	int r = virt_live_xml(v, s->name, &xml, d);

	if (r < 0)
		return r == -ENOENT ? WATCH_ABSENT : WATCH_ERROR;
	r = audit_live_xml(xml, strlen(xml), s, offender, size, d);
	free(xml);
	if (r == 0) {
		/* What reached QEMU around the XML (monitor passthrough, custom
		 * argv) shows only in libvirt's taint flags. */
		r = virt_libvirt_state(v, s->name, &taints, &n, &persistent, d);
		if (r < 0)
			return r == -ENOENT ? WATCH_ABSENT : WATCH_ERROR;
		r = audit_libvirt_state((const char *const *)taints, n, persistent, offender, size,
					d);
		virt_free_strings(taints, n);
	}
	if (r == -EPERM)
		return WATCH_OFFENDER;
	return r < 0 ? WATCH_ERROR : WATCH_CLEAN;
}

/* ---- the record ------------------------------------------------------------- */

/* mkdir that also fixes the mode of one that exists (and refuses a
 * symlink in its place). */
static int make_dir(const char *path, mode_t mode, struct diag *d)
{
	int fd;

	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return diag_set(d, DIAG_INTERNAL, errno, "cannot make %s: %s", path,
				strerror(errno));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, mode) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return diag_set(d, DIAG_INTERNAL, e, "%s: not a directory of ours: %s", path,
				strerror(e));
	}
	close(fd);
	return 0;
}

int watch_prepare(const char *run_dir, const char *name, char **ret_dir, struct diag *d)
{
	char path[4200];
	int r;

	/* 0711: QEMU (the libvirt-qemu user) must pass through to the boot
	 * copies; nobody but root can list or write. */
	snprintf(path, sizeof(path), "%s/launch", run_dir);
	r = make_dir(path, 0711, d);
	snprintf(path, sizeof(path), "%s/launch/%s", run_dir, name);
	if (r == 0)
		r = make_dir(path, 0711, d);
	if (r == 0) {
		char boot[4300];

		snprintf(boot, sizeof(boot), "%s/boot", path);
		r = make_dir(boot, 0711, d);
	}
	if (r < 0)
		return r;
	*ret_dir = strdup(path);
	return *ret_dir ? 0 : diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
}

static int write_record(const char *dir, const char *name, const char *state, const char *event,
			const char *reason, long frozen_ms, long latency_ms, struct diag *d)
{
	json_object *j = json_object_new_object();
	char tmp[4300], path[4300];
	const char *text;
	FILE *f;
	int r = 0;

	if (!j)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	json_object_object_add(j, "schema", json_object_new_string(RECORD_SCHEMA));
	json_object_object_add(j, "name", json_object_new_string(name));
	json_object_object_add(j, "pid", json_object_new_int64((int64_t)getpid()));
	json_object_object_add(j, "state", json_object_new_string(state));
	json_object_object_add(j, "event", json_object_new_string(event ? event : ""));
	json_object_object_add(j, "reason", json_object_new_string(reason ? reason : ""));
	json_object_object_add(j, "frozen_ms", json_object_new_int64(frozen_ms));
	json_object_object_add(j, "latency_ms", json_object_new_int64(latency_ms));
	json_object_object_add(j, "time", json_object_new_int64((int64_t)time(NULL)));
	text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, RECORD);
	snprintf(path, sizeof(path), "%s/%s", dir, RECORD);
	f = fopen(tmp, "we");
	if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0 || rename(tmp, path) < 0)
		r = diag_set(d, DIAG_INTERNAL, errno ? errno : EIO, "cannot write %s: %s", path,
			     strerror(errno ? errno : EIO));
	json_object_put(j);
	return r;
}

int watch_record_start(const char *dir, const char *name, struct diag *d)
{
	return write_record(dir, name, "watching", "", "", 0, 0, d);
}

static void copy_str(json_object *j, const char *key, char *dst, size_t size)
{
	json_object *m = NULL;

	dst[0] = 0;
	if (json_object_object_get_ex(j, key, &m) && json_object_is_type(m, json_type_string))
		snprintf(dst, size, "%s", json_object_get_string(m));
}

int watch_read_record(const char *run_dir, const char *name, struct watch_record *ret,
		      struct diag *d)
{
	char path[4300];
	unsigned char *buf = NULL;
	size_t len = 0;
	json_object *j, *m = NULL;
	int r;

	memset(ret, 0, sizeof(*ret));
	snprintf(path, sizeof(path), "%s/launch/%s/%s", run_dir, name, RECORD);
	r = fs_read_file(path, 65536, &buf, &len);
	if (r < 0)
		return r == -ENOENT ? -ENOENT
				    : diag_set(d, DIAG_INTERNAL, -r, "cannot read %s: %s", path,
					       strerror(-r));
	j = json_tokener_parse((const char *)buf);
	free(buf);
	if (!j || !json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: not a watch record", path);
	}
	copy_str(j, "state", ret->state, sizeof(ret->state));
	copy_str(j, "event", ret->event, sizeof(ret->event));
	copy_str(j, "reason", ret->reason, sizeof(ret->reason));
	if (json_object_object_get_ex(j, "pid", &m))
		ret->pid = (long)json_object_get_int64(m);
	if (json_object_object_get_ex(j, "frozen_ms", &m))
		ret->frozen_ms = (long)json_object_get_int64(m);
	if (json_object_object_get_ex(j, "latency_ms", &m))
		ret->latency_ms = (long)json_object_get_int64(m);
	json_object_put(j);
	ret->pid_alive = ret->pid > 0 && kill((pid_t)ret->pid, 0) == 0;
	return 0;
}

/* ---- the loop ----------------------------------------------------------------- */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct watch {
	bool dirty, tick, gone, closed;
	char event[160], gone_how[160];
	struct timespec t_event, t_closed;
	/* QEMU's process, pinned at start (watch_pin_qemu); -1 when not */
	int qemu_fd;
	long qemu_pid;
};

static void on_event(void *opaque, enum virt_event_kind kind, const char *ev)
{
	struct watch *w = opaque;

	if (!w->dirty && !w->gone && !w->closed) {
		snprintf(w->event, sizeof(w->event), "%s", ev);
		clock_gettime(CLOCK_MONOTONIC, &w->t_event);
	}
	if (kind == VIRT_EV_GONE) {
		w->gone = true;
		snprintf(w->gone_how, sizeof(w->gone_how), "%s", ev);
	} else if (kind == VIRT_EV_CLOSED) {
		if (!w->closed)
			clock_gettime(CLOCK_MONOTONIC, &w->t_closed);
		w->closed = true;
	} else {
		w->dirty = true;
	}
}

static void on_tick(void *opaque)
{
	((struct watch *)opaque)->tick = true;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fprintf(stderr, "%s sealboot-launch: watch: ", stamp);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* SIGKILL to the pinned QEMU, then wait until it has exited (a pidfd polls
 * readable then, whoever its parent is). 0, 1 when it had already exited
 * (libvirtd killed it), -EBADF (nothing pinned) or -errno. */
static int kill_pinned(struct watch *w)
{
	struct pollfd p = {.fd = w->qemu_fd, .events = POLLIN};
	int n;

	if (w->qemu_fd < 0)
		return -EBADF;
	if (pidfd_send_signal(w->qemu_fd, SIGKILL, NULL, 0) < 0)
		return errno == ESRCH ? 1 : -errno;
	do
		n = poll(&p, 1, WATCH_KILL_WAIT_MS);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : n == 0 ? -ETIMEDOUT : -errno;
}

/* No pinned process: destroy through a new connection, for a bounded time. */
static int destroy_reconnecting(const char *uri, const char *name, char *why, size_t size)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	snprintf(why, size, "libvirtd did not answer");
	while (ms_since(&t0) < WATCH_RECONNECT_S * 1000) {
		struct virt *v = NULL;
		struct diag d = {0};

		if (virt_open(uri, &v, &d) == 0) {
			int r = virt_destroy(v, name, &d);

			virt_close(v);
			if (r == 0)
				return 0;
		}
		snprintf(why, size, "%.150s", d.msg);
		usleep(250 * 1000);
	}
	return -ETIMEDOUT;
}

/*
 * The connection to libvirtd closed under the watch: libvirtd was killed,
 * stopped or restarted, or this client was cut off. The guest must not run
 * unwatched, not even until libvirtd answers again: while libvirtd is away,
 * QEMU's monitor socket has no client and root can drive QEMU through it
 * unseen, and a restarted libvirtd has forgotten AUTODESTROY. So QEMU is
 * killed now, through the pidfd pinned at start; libvirt notices its death
 * by itself (at once, or when it comes back).
 */
static enum watch_verdict lost(struct watch *w, const struct spec *s, const char *uri,
			       const struct watch_cfg *cfg, struct diag *d)
{
	char reason[256], why[200];
	long ms;
	int r = kill_pinned(w);

	ms = ms_since(&w->t_closed);
	if (r >= 0) {
		snprintf(reason, sizeof(reason),
			 "the libvirt connection was lost; QEMU (pid %ld) %s %ld ms later",
			 w->qemu_pid, r == 0 ? "killed, gone" : "found already gone", ms);
	} else {
		if (w->qemu_fd >= 0)
			say("killing QEMU (pid %ld) failed: %s; destroying %s through libvirt",
			    w->qemu_pid, strerror(-r), s->name);
		r = destroy_reconnecting(uri, s->name, why, sizeof(why));
		ms = ms_since(&w->t_closed);
		if (r == 0)
			snprintf(reason, sizeof(reason),
				 "the libvirt connection was lost; destroyed through a new "
				 "connection %ld ms later",
				 ms);
		else
			snprintf(reason, sizeof(reason),
				 "the libvirt connection was lost; NOT destroyed: %.150s", why);
	}
	say("%s: %s", s->name, reason);
	(void)write_record(cfg->dir, s->name, "lost", "connection closed", reason, 0, ms, d);
	return WATCH_LOST;
}

/* One watch per process: the state the callbacks write and the loop reads
 * (libvirt runs the callbacks on this thread, inside virt_run_events). */
static struct watch the_watch;

int watch_subscribe(struct virt *v, const struct spec *s, struct diag *d)
{
	memset(&the_watch, 0, sizeof(the_watch));
	the_watch.qemu_fd = -1;
	return virt_subscribe(v, s->name, on_event, &the_watch, d);
}

int watch_pin_qemu(struct virt *v, const struct spec *s, struct diag *d)
{
	long pid = 0, again = 0;
	int fd, r = virt_qemu_pid(v, s->name, &pid, d);

	if (r < 0)
		return r;
	fd = pidfd_open((pid_t)pid, 0);
	if (fd < 0)
		return diag_set(d, DIAG_INTERNAL, errno, "cannot pin QEMU of %s (pid %ld): %s",
				s->name, pid, strerror(errno));
	/* The pid was read before the pidfd was opened: the pinned process is
	 * the one checked only if the check still holds now. */
	r = virt_qemu_pid(v, s->name, &again, d);
	if (r == 0 && (again != pid || pidfd_send_signal(fd, 0, NULL, 0) < 0))
		r = diag_set(d, DIAG_CONTENT, ESRCH, "QEMU of %s changed while it was pinned",
			     s->name);
	if (r < 0) {
		close(fd);
		return r;
	}
	the_watch.qemu_fd = fd;
	the_watch.qemu_pid = pid;
	return 0;
}

enum watch_verdict watch_run(struct virt *v, const struct spec *s, const char *uri,
			     const struct watch_cfg *cfg, struct diag *d)
{
	struct watch *w = &the_watch;
	struct sigaction sa = {.sa_handler = on_signal};
	unsigned errors = 0;
	int r;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = virt_add_timer(cfg->interval_ms, on_tick, w, d);
	if (r < 0)
		return WATCH_ERROR;
	say("watching %s (libvirt events, and an audit every %u ms)", s->name, cfg->interval_ms);
	for (;;) {
		char offender[256] = "", event[sizeof(the_watch.event)];
		struct timespec t_event;
		struct diag ad = {0};
		enum watch_verdict verdict;

		if (virt_run_events(d) < 0 && !w->closed) {
			clock_gettime(CLOCK_MONOTONIC, &w->t_closed);
			w->closed = true;
		}
		if (stop_signal) {
			struct diag dd = {0};

			if (virt_destroy(v, s->name, &dd) < 0)
				(void)kill_pinned(w);
			snprintf(offender, sizeof(offender), "the watch was stopped (signal %d)",
				 (int)stop_signal);
			say("%s: destroyed %s", offender, s->name);
			(void)write_record(cfg->dir, s->name, "destroyed", "signal", offender, 0, 0,
					   d);
			return WATCH_CLEAN;
		}
		if (w->gone) {
			say("%s stopped (%s)", s->name, w->gone_how);
			(void)write_record(cfg->dir, s->name, "stopped", w->event, w->gone_how, 0,
					   0, d);
			return WATCH_CLEAN;
		}
		if (w->closed)
			return lost(w, s, uri, cfg, d);
		if (!w->dirty && !w->tick)
			continue;
		if (w->dirty) {
			memcpy(event, w->event, sizeof(event));
			t_event = w->t_event;
		} else {
			snprintf(event, sizeof(event), "tick");
			clock_gettime(CLOCK_MONOTONIC, &t_event);
		}
		w->dirty = w->tick = false;
		verdict = watch_audit(v, s, offender, sizeof(offender), &ad);
		if (verdict == WATCH_CLEAN) {
			errors = 0;
			if (strcmp(event, "tick") != 0)
				say("%s: %s still matches the profile", event, s->name);
			continue;
		}
		if (verdict == WATCH_ABSENT) {
			say("%s is gone (%s)", s->name, event);
			(void)write_record(cfg->dir, s->name, "stopped", event, "gone", 0, 0, d);
			return WATCH_CLEAN;
		}
		if (verdict == WATCH_ERROR) {
			say("%s: audit failed: %s", event, ad.msg);
			if (++errors < WATCH_MAX_ERRORS)
				continue;
			snprintf(offender, sizeof(offender), "audit failed %d times: %.200s",
				 WATCH_MAX_ERRORS, ad.msg);
		}
		{
			struct diag dd = {0};
			long frozen_ms, ms;

			/* Frozen first: no vCPU runs and no device is served from here
			 * on, while the destroy waits for QEMU's teardown. A failed
			 * pause does not stop the destroy. */
			(void)virt_freeze(v, s->name, &dd);
			frozen_ms = ms_since(&t_event);
			r = virt_destroy(v, s->name, &dd);
			if (r < 0 && kill_pinned(w) >= 0)
				r = 0;
			ms = ms_since(&t_event);
			if (r < 0)
				say("%s: %s holds %s; destroying it failed: %s", event, s->name,
				    offender, dd.msg);
			else
				say("%s: %s holds %s, which the profile does not allow: paused %ld "
				    "ms "
				    "and destroyed %ld ms after the event",
				    event, s->name, offender, frozen_ms, ms);
			(void)write_record(cfg->dir, s->name, "destroyed", event, offender,
					   frozen_ms, ms, d);
			diag_set(d, DIAG_CONTENT, EPERM, "%s", offender);
			return WATCH_OFFENDER;
		}
	}
}
