/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

/*
 * The libvirt adapter: the only module with libvirt headers. Any URI libvirt
 * takes (default qemu:///system). The launcher checks the handoff against
 * the local TPM, so start, status and audit belong on the appliance itself;
 * stop works over libvirt's remote transports too. libvirt's errors become one line here; its own
 * stderr printing is silenced. Domains are transient: created from XML, gone when they stop.
 */

struct virt;

enum virt_state {
	VIRT_ABSENT,  /* no such domain */
	VIRT_RUNNING, /* running, blocked or paused: it exists */
	VIRT_STOPPED, /* shut off or crashed (transient domains vanish instead) */
};

int virt_open(const char *uri, struct virt **ret, struct diag *d);
void virt_close(struct virt *v);

/* Create and start a transient domain from xml. autodestroy: libvirtd
 * destroys it when this connection closes (VIR_DOMAIN_START_AUTODESTROY),
 * so a guest never outlives the process that watches it. */
int virt_start(struct virt *v, const char *xml, bool autodestroy, struct diag *d);

/*
 * Domain events. virt_events_init() registers libvirt's default event loop
 * and must come before virt_open(). virt_subscribe() registers, for the
 * domain called name (whether it runs yet or not, so nothing between create
 * and subscribe is missed), every event that can change what the live
 * domain holds or whether it runs: lifecycle (defined, undefined, started,
 * suspended, stopped...), reboot, device added / removed / removal failed,
 * metadata change, block job, tunable, job completed, I/O error; and the
 * connection closing. fn gets a short name for the event ("device-added
 * vdz", "lifecycle defined", "connection closed") and its kind.
 * virt_add_timer() calls tick every ms milliseconds. virt_run_events() runs
 * the loop once: it returns after one or more callbacks ran.
 */
enum virt_event_kind {
	VIRT_EV_CHANGE, /* the domain may have changed: re-audit */
	VIRT_EV_GONE,	/* it stopped (shut down, destroyed, crashed) */
	VIRT_EV_CLOSED, /* the connection to libvirtd closed */
};
typedef void (*virt_event_fn)(void *opaque, enum virt_event_kind kind, const char *event);

int virt_events_init(struct diag *d);
int virt_subscribe(struct virt *v, const char *name, virt_event_fn fn, void *opaque,
		   struct diag *d);
int virt_add_timer(unsigned ms, void (*tick)(void *opaque), void *opaque, struct diag *d);
int virt_run_events(struct diag *d);

/* The live XML of a running domain (*ret malloc'd). */
int virt_live_xml(struct virt *v, const char *name, char **ret, struct diag *d);

int virt_state(struct virt *v, const char *name, enum virt_state *ret, struct diag *d);

/* libvirt's own record of a running domain: its tainting messages
 * (virDomainGetMessages, VIR_DOMAIN_MESSAGE_TAINTING; *ret_taints is a
 * NULL-terminated malloc'd array of n strings, free with virt_free_strings)
 * and whether it has a persistent definition. -ENOENT when it is gone. */
int virt_libvirt_state(struct virt *v, const char *name, char ***ret_taints, size_t *ret_n,
		       bool *ret_persistent, struct diag *d);
void virt_free_strings(char **list, size_t n);

/*
 * The pid of the running domain's QEMU process, so that the watch can kill
 * it without libvirtd (docs/design.md, "A lost connection kills QEMU").
 * Only for the local system daemon (qemu:///system): libvirt's pid file
 * /run/libvirt/qemu/NAME.pid, checked against that process's command line
 * (QEMU's `-name guest=NAME,...`). Errors: -EOPNOTSUPP another URI (QEMU
 * may not even run on this host); -ENOENT no pid file or no such process;
 * -ESRCH the process the pid file names is not this domain's QEMU.
 */
int virt_qemu_pid(struct virt *v, const char *name, long *ret_pid, struct diag *d);

/* Pull the plug. Absent is not an error. A persistent definition someone
 * made under the name (`virsh define`; the launcher's domains are
 * transient) is undefined as well. */
int virt_destroy(struct virt *v, const char *name, struct diag *d);

/* Stop its vCPUs and devices now (virDomainSuspend: QEMU's `stop`, tens of
 * ms), before the destroy, which waits until QEMU's process is gone (about
 * 1.3 s on the test machines, whose init reaps orphans slowly). Absent or already stopped is not an
 * error. */
int virt_freeze(struct virt *v, const char *name, struct diag *d);

/* ACPI shutdown, then destroy if it is still there after timeout_s.
 * *ret_forced says which. Absent is not an error. */
int virt_shutdown(struct virt *v, const char *name, unsigned timeout_s, bool *ret_forced,
		  struct diag *d);

/* A libvirt network with no forward mode (guests on it reach only each
 * other), created transient if it does not exist. */
int virt_isolated_network(struct virt *v, const char *name, struct diag *d);
