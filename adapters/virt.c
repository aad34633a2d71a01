/* SPDX-License-Identifier: Apache-2.0 */
#include "virt.h"

#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"

#define VIRT_MAX_SUBS 16

struct virt {
	virConnectPtr conn;
	char uri[256];
	/* virt_subscribe: the domain name, the callback, libvirt's ids */
	char sub_name[256];
	virt_event_fn sub_fn;
	void *sub_opaque;
	int sub_ids[VIRT_MAX_SUBS];
	size_t n_subs;
	bool close_cb;
};

static void quiet(void *userdata, virErrorPtr err)
{
	(void)userdata;
	(void)err;
}

/* The one place a libvirt error becomes a message. */
static int fail(struct diag *d, const char *what)
{
	virErrorPtr e = virGetLastError();
	int err = EIO;

	if (e && e->code == VIR_ERR_NO_DOMAIN)
		err = ENOENT;
	return diag_set(d, DIAG_INTERNAL, err, "%s: %s", what,
			e && e->message ? e->message : "libvirt failed");
}

int virt_open(const char *uri, struct virt **ret, struct diag *d)
{
	struct virt *v;

	virSetErrorFunc(NULL, quiet);
	if (virInitialize() < 0)
		return fail(d, "initializing libvirt");
	v = calloc(1, sizeof(*v));
	if (!v)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	snprintf(v->uri, sizeof(v->uri), "%s", uri);
	v->conn = virConnectOpen(uri);
	if (!v->conn) {
		char what[300];

		snprintf(what, sizeof(what), "connecting to libvirt at %s", uri);
		free(v);
		return fail(d, what);
	}
	*ret = v;
	return 0;
}

static void close_cb(virConnectPtr conn, int reason, void *opaque);

void virt_close(struct virt *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_subs; i++)
		(void)virConnectDomainEventDeregisterAny(v->conn, v->sub_ids[i]);
	if (v->close_cb)
		(void)virConnectUnregisterCloseCallback(v->conn, close_cb);
	virConnectClose(v->conn);
	free(v);
}

int virt_start(struct virt *v, const char *xml, bool autodestroy, struct diag *d)
{
	virDomainPtr dom = virDomainCreateXML(
	    v->conn, xml, autodestroy ? VIR_DOMAIN_START_AUTODESTROY : VIR_DOMAIN_NONE);

	if (!dom)
		return fail(d, "starting the guest");
	virDomainFree(dom);
	return 0;
}

static virDomainPtr lookup(struct virt *v, const char *name)
{
	return virDomainLookupByName(v->conn, name);
}

int virt_live_xml(struct virt *v, const char *name, char **ret, struct diag *d)
{
	virDomainPtr dom = lookup(v, name);
	char *xml;

	if (!dom)
		return fail(d, "looking up the guest");
	xml = virDomainGetXMLDesc(dom, 0);
	virDomainFree(dom);
	if (!xml)
		return fail(d, "reading the guest's live XML");
	*ret = xml;
	return 0;
}

int virt_state(struct virt *v, const char *name, enum virt_state *ret, struct diag *d)
{
	virDomainPtr dom = lookup(v, name);
	int state = 0, reason = 0;

	if (!dom) {
		virErrorPtr e = virGetLastError();

		if (e && e->code == VIR_ERR_NO_DOMAIN) {
			*ret = VIRT_ABSENT;
			return 0;
		}
		return fail(d, "looking up the guest");
	}
	if (virDomainGetState(dom, &state, &reason, 0) < 0) {
		virDomainPtr again;

		virDomainFree(dom);
		/* A transient domain that powered off between the two calls. */
		again = lookup(v, name);
		if (!again) {
			*ret = VIRT_ABSENT;
			return 0;
		}
		virDomainFree(again);
		return fail(d, "reading the guest's state");
	}
	virDomainFree(dom);
	*ret = state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_CRASHED ? VIRT_STOPPED
									  : VIRT_RUNNING;
	return 0;
}

int virt_libvirt_state(struct virt *v, const char *name, char ***ret_taints, size_t *ret_n,
		       bool *ret_persistent, struct diag *d)
{
	virDomainPtr dom = lookup(v, name);
	char **msgs = NULL;
	int n, pers;

	if (!dom)
		return fail(d, "looking up the guest");
	n = virDomainGetMessages(dom, &msgs, VIR_DOMAIN_MESSAGE_TAINTING);
	if (n < 0) {
		virDomainFree(dom);
		return fail(d, "reading the guest's taint flags");
	}
	pers = virDomainIsPersistent(dom);
	virDomainFree(dom);
	if (pers < 0) {
		virt_free_strings(msgs, (size_t)n);
		return fail(d, "reading whether the guest is persistent");
	}
	*ret_taints = msgs;
	*ret_n = (size_t)n;
	*ret_persistent = pers == 1;
	return 0;
}

void virt_free_strings(char **list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

int virt_destroy(struct virt *v, const char *name, struct diag *d)
{
	virDomainPtr dom = lookup(v, name);
	int r = 0;

	if (!dom)
		return 0;
	if (virDomainDestroy(dom) < 0) {
		virErrorPtr e = virGetLastError();

		if (!e || e->code != VIR_ERR_OPERATION_INVALID) /* already off */
			r = fail(d, "destroying the guest");
	}
	if (r == 0 && virDomainIsPersistent(dom) == 1 &&
	    virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_NVRAM |
					    VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
					    VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
					    VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA) < 0)
		r = fail(d, "undefining the guest's persistent definition");
	virDomainFree(dom);
	return r;
}

int virt_freeze(struct virt *v, const char *name, struct diag *d)
{
	virDomainPtr dom = lookup(v, name);
	int r = 0;

	if (!dom)
		return 0;
	if (virDomainSuspend(dom) < 0) {
		virErrorPtr e = virGetLastError();

		if (!e || e->code != VIR_ERR_OPERATION_INVALID) /* not running */
			r = fail(d, "pausing the guest");
	}
	virDomainFree(dom);
	return r;
}

int virt_shutdown(struct virt *v, const char *name, unsigned timeout_s, bool *ret_forced,
		  struct diag *d)
{
	virDomainPtr dom = lookup(v, name);
	struct timespec start, now;
	enum virt_state st;
	int r;

	*ret_forced = false;
	if (!dom)
		return 0;
	(void)virDomainShutdown(dom); /* a guest without ACPI ignores it */
	virDomainFree(dom);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		r = virt_state(v, name, &st, d);
		if (r < 0)
			return r;
		if (st != VIRT_RUNNING)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)timeout_s)
			break;
		usleep(200 * 1000);
	}
	*ret_forced = true;
	return virt_destroy(v, name, d);
}

int virt_isolated_network(struct virt *v, const char *name, struct diag *d)
{
	virNetworkPtr net = virNetworkLookupByName(v->conn, name);
	char xml[512];

	if (net) {
		char *have = virNetworkGetXMLDesc(net, 0);
		int active;

		/* One made by someone else under our name must be what we would
		 * make: no forward mode (no route out), no host address. */
		if (!have || strstr(have, "<forward") || strstr(have, "<ip")) {
			free(have);
			virNetworkFree(net);
			return diag_set(d, DIAG_TRUST, EEXIST,
					"network %s exists but is not isolated (it has a forward "
					"mode or a host address)",
					name);
		}
		free(have);
		active = virNetworkIsActive(net);
		if (active == 0 && virNetworkCreate(net) < 0) {
			virNetworkFree(net);
			return fail(d, "starting the isolated network");
		}
		virNetworkFree(net);
		return 0;
	}
	/* No <forward>: an isolated network. No <ip>: no DHCP, no host address. */
	snprintf(xml, sizeof(xml), "<network><name>%s</name></network>", name);
	net = virNetworkCreateXML(v->conn, xml);
	if (!net)
		return fail(d, "creating the isolated network");
	virNetworkFree(net);
	return 0;
}

/* libvirt's own pid file for a system domain, and what QEMU's command line
 * holds for it (libvirt passes `-name guest=NAME,debug-threads=on`). */
#define VIRT_QEMU_PID_DIR "/run/libvirt/qemu"

int virt_qemu_pid(struct virt *v, const char *name, long *ret_pid, struct diag *d)
{
	char path[4300], want[300];
	unsigned char *buf = NULL;
	size_t len = 0;
	bool found = false;
	long pid;
	int r;

	if (strcmp(v->uri, "qemu:///system") != 0)
		return diag_set(d, DIAG_USAGE, EOPNOTSUPP,
				"QEMU's process is known only for qemu:///system, not %s", v->uri);
	snprintf(path, sizeof(path), "%s/%s.pid", VIRT_QEMU_PID_DIR, name);
	r = fs_read_file(path, 64, &buf, &len);
	if (r < 0)
		return diag_set(d, DIAG_INTERNAL, -r, "cannot read %s: %s", path, strerror(-r));
	pid = strtol((const char *)buf, NULL, 10);
	free(buf);
	if (pid <= 1)
		return diag_set(d, DIAG_INTERNAL, ENOENT, "%s names no process", path);
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	r = fs_read_file(path, 1 << 20, &buf, &len);
	if (r < 0)
		return diag_set(d, DIAG_INTERNAL, ENOENT, "QEMU of %s (pid %ld) is gone", name,
				pid);
	/* argv is NUL-separated: the argument itself must begin with it */
	snprintf(want, sizeof(want), "guest=%s,", name);
	for (size_t i = 0; i < len && !found; i += strlen((const char *)buf + i) + 1)
		found = buf[len - 1] == 0 && !strncmp((const char *)buf + i, want, strlen(want));
	free(buf);
	if (!found)
		return diag_set(d, DIAG_CONTENT, ESRCH,
				"pid %ld from libvirt's pid file is not the QEMU of %s", pid, name);
	*ret_pid = pid;
	return 0;
}

/* ---- events --------------------------------------------------------------- */

int virt_events_init(struct diag *d)
{
	virSetErrorFunc(NULL, quiet);
	if (virEventRegisterDefaultImpl() < 0)
		return fail(d, "starting libvirt's event loop");
	return 0;
}

/* Our domain? The subscription is for all domains (so it can be made before
 * the domain exists); filter by name. */
static bool ours(struct virt *v, virDomainPtr dom)
{
	const char *n = dom ? virDomainGetName(dom) : NULL;

	return n && strcmp(n, v->sub_name) == 0;
}

static void emit(struct virt *v, virDomainPtr dom, enum virt_event_kind kind, const char *what,
		 const char *detail)
{
	char ev[160];

	if (!ours(v, dom))
		return;
	snprintf(ev, sizeof(ev), "%s%s%s", what, detail && *detail ? " " : "",
		 detail ? detail : "");
	v->sub_fn(v->sub_opaque, kind, ev);
}

static void on_lifecycle(virConnectPtr c, virDomainPtr dom, int event, int detail, void *opaque)
{
	static const char *const names[] = {
	    [VIR_DOMAIN_EVENT_DEFINED] = "defined",
	    [VIR_DOMAIN_EVENT_UNDEFINED] = "undefined",
	    [VIR_DOMAIN_EVENT_STARTED] = "started",
	    [VIR_DOMAIN_EVENT_SUSPENDED] = "suspended",
	    [VIR_DOMAIN_EVENT_RESUMED] = "resumed",
	    [VIR_DOMAIN_EVENT_STOPPED] = "stopped",
	    [VIR_DOMAIN_EVENT_SHUTDOWN] = "shutdown",
	    [VIR_DOMAIN_EVENT_PMSUSPENDED] = "pmsuspended",
	    [VIR_DOMAIN_EVENT_CRASHED] = "crashed",
	};
	static const char *const stopped[] = {
	    [VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN] = "shut down",
	    [VIR_DOMAIN_EVENT_STOPPED_DESTROYED] = "destroyed",
	    [VIR_DOMAIN_EVENT_STOPPED_CRASHED] = "crashed",
	    [VIR_DOMAIN_EVENT_STOPPED_MIGRATED] = "migrated",
	    [VIR_DOMAIN_EVENT_STOPPED_SAVED] = "saved",
	    [VIR_DOMAIN_EVENT_STOPPED_FAILED] = "failed",
	    [VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT] = "from snapshot",
	};
	const char *name =
	    event >= 0 && (size_t)event < sizeof(names) / sizeof(names[0]) && names[event]
		? names[event]
		: "other";
	char what[64];

	(void)c;
	snprintf(what, sizeof(what), "lifecycle %s", name);
	if (event == VIR_DOMAIN_EVENT_STOPPED)
		emit(opaque, dom, VIRT_EV_GONE, what,
		     detail >= 0 && (size_t)detail < sizeof(stopped) / sizeof(stopped[0]) &&
			     stopped[detail]
			 ? stopped[detail]
			 : "");
	else
		emit(opaque, dom, VIRT_EV_CHANGE, what, NULL);
}

static void on_generic(virConnectPtr c, virDomainPtr dom, void *opaque)
{
	(void)c;
	emit(opaque, dom, VIRT_EV_CHANGE, "reboot", NULL);
}

static void on_device_added(virConnectPtr c, virDomainPtr dom, const char *alias, void *opaque)
{
	(void)c;
	emit(opaque, dom, VIRT_EV_CHANGE, "device-added", alias);
}

static void on_device_removed(virConnectPtr c, virDomainPtr dom, const char *alias, void *opaque)
{
	(void)c;
	emit(opaque, dom, VIRT_EV_CHANGE, "device-removed", alias);
}

static void on_removal_failed(virConnectPtr c, virDomainPtr dom, const char *alias, void *opaque)
{
	(void)c;
	emit(opaque, dom, VIRT_EV_CHANGE, "device-removal-failed", alias);
}

static void on_metadata(virConnectPtr c, virDomainPtr dom, int type, const char *nsuri,
			void *opaque)
{
	(void)c;
	(void)type;
	(void)nsuri;
	emit(opaque, dom, VIRT_EV_CHANGE, "metadata-change", NULL);
}

static void on_block_job(virConnectPtr c, virDomainPtr dom, const char *disk, int type, int status,
			 void *opaque)
{
	(void)c;
	(void)type;
	(void)status;
	emit(opaque, dom, VIRT_EV_CHANGE, "block-job", disk);
}

static void on_params(virConnectPtr c, virDomainPtr dom, virTypedParameterPtr params, int n,
		      void *opaque)
{
	(void)c;
	(void)params;
	(void)n;
	emit(opaque, dom, VIRT_EV_CHANGE, "tunable-or-job", NULL);
}

static void on_io_error(virConnectPtr c, virDomainPtr dom, const char *path, const char *alias,
			int action, void *opaque)
{
	(void)c;
	(void)path;
	(void)action;
	emit(opaque, dom, VIRT_EV_CHANGE, "io-error", alias);
}

static void close_cb(virConnectPtr conn, int reason, void *opaque)
{
	struct virt *v = opaque;

	(void)conn;
	(void)reason;
	v->sub_fn(v->sub_opaque, VIRT_EV_CLOSED, "connection closed");
}

int virt_subscribe(struct virt *v, const char *name, virt_event_fn fn, void *opaque, struct diag *d)
{
	static const struct {
		int id;
		virConnectDomainEventGenericCallback cb;
	} evs[] = {
	    {VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle)},
	    {VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(on_generic)},
	    {VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(on_device_added)},
	    {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(on_device_removed)},
	    {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
	     VIR_DOMAIN_EVENT_CALLBACK(on_removal_failed)},
	    {VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(on_metadata)},
	    {VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, VIR_DOMAIN_EVENT_CALLBACK(on_block_job)},
	    {VIR_DOMAIN_EVENT_ID_TUNABLE, VIR_DOMAIN_EVENT_CALLBACK(on_params)},
	    {VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, VIR_DOMAIN_EVENT_CALLBACK(on_params)},
	    {VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON, VIR_DOMAIN_EVENT_CALLBACK(on_io_error)},
	};

	if (v->sub_fn)
		return diag_set(d, DIAG_USAGE, EBUSY, "virt: already subscribed");
	snprintf(v->sub_name, sizeof(v->sub_name), "%s", name);
	v->sub_fn = fn;
	v->sub_opaque = opaque;
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		int id =
		    virConnectDomainEventRegisterAny(v->conn, NULL, evs[i].id, evs[i].cb, v, NULL);

		if (id < 0)
			return fail(d, "subscribing to the guest's events");
		v->sub_ids[v->n_subs++] = id;
	}
	if (virConnectRegisterCloseCallback(v->conn, close_cb, v, NULL) < 0)
		return fail(d, "watching the libvirt connection");
	v->close_cb = true;
	return 0;
}

struct timer {
	void (*tick)(void *opaque);
	void *opaque;
};

static void on_timer(int id, void *opaque)
{
	struct timer *t = opaque;

	(void)id;
	t->tick(t->opaque);
}

int virt_add_timer(unsigned ms, void (*tick)(void *opaque), void *opaque, struct diag *d)
{
	struct timer *t = malloc(sizeof(*t));

	if (!t)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	t->tick = tick;
	t->opaque = opaque;
	if (virEventAddTimeout((int)ms, on_timer, t, free) < 0) {
		free(t);
		return fail(d, "adding the watch's timer");
	}
	return 0;
}

int virt_run_events(struct diag *d)
{
	if (virEventRunDefaultImpl() < 0)
		return fail(d, "running libvirt's event loop");
	return 0;
}
