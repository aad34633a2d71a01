/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "spec.h"
#include "virt.h"

/*
 * The watch: while the guest runs, `sealboot-launch start` stays resident
 * on the libvirt connection that created the guest (with AUTODESTROY, so
 * the guest cannot outlive it), re-audits the live domain on every libvirt
 * event for it and on a periodic tick, and destroys the guest as soon as it
 * leaves the profile. docs/design.md ("The watch") says why it is start
 * itself and not a separate service.
 *
 * Its record is RUN/launch/NAME/watch.json (schema sealboot-launch-watch/1,
 * written whole by rename), which `status` reads:
 *   {"schema":..., "name":..., "pid": N, "state": "watching" | "stopped" |
 *    "destroyed" | "lost", "event": "device-added vdz" | "tick" | ..., "reason":
 *    "<offender, or why it stopped>", "frozen_ms": N, "latency_ms": N,
 *    "time": unix seconds}; frozen_ms and latency_ms: from the event (or the
 *    tick's start) to the guest paused and to it destroyed.
 */

enum watch_verdict {
	WATCH_CLEAN,	/* audit: nothing beyond the profile */
	WATCH_OFFENDER, /* audit: the live domain left the profile */
	WATCH_ABSENT,	/* audit: no such domain */
	WATCH_ERROR,	/* audit: libvirt or the XML failed (d set) */
	WATCH_LOST,	/* watch_run: the libvirt connection was lost and QEMU killed */
};

/* One audit of the live domain: its XML (audit_live_xml) and what libvirt
 * records beside it (taints, persistence: audit_libvirt_state). */
enum watch_verdict watch_audit(struct virt *v, const struct spec *s, char *offender, size_t size,
			       struct diag *d);

struct watch_cfg {
	const char *dir;      /* RUN/launch/NAME, made by watch_prepare */
	unsigned interval_ms; /* the periodic re-audit */
};

/* RUN/launch, RUN/launch/NAME and RUN/launch/NAME/boot (the verified
 * copies of kernel and initrd QEMU boots, verified.h), root's, mode 0711:
 * QEMU's user passes through, only root lists or writes. *ret_dir (NAME)
 * is malloc'd. */
int watch_prepare(const char *run_dir, const char *name, char **ret_dir, struct diag *d);

/* Subscribe to the domain's events (before it is started). */
int watch_subscribe(struct virt *v, const struct spec *s, struct diag *d);

/*
 * Pin the started guest's QEMU process (virt_qemu_pid, then a pidfd: the
 * handle stays on that process even if its pid is reused), so a lost
 * libvirt connection can kill it without libvirtd. Call after the start,
 * while the connection that started it is up. -EOPNOTSUPP (a URI other than
 * qemu:///system): not pinned, the watch falls back to reconnecting; any
 * other error (no such process, the pid file names another process, no
 * pidfd): d set, the caller destroys the guest.
 */
int watch_pin_qemu(struct virt *v, const struct spec *s, struct diag *d);

/*
 * Watch the running guest until it stops or is destroyed. Returns
 * WATCH_CLEAN when it stopped on its own or by `stop` (state "stopped"),
 * WATCH_OFFENDER when the watch destroyed it (state "destroyed", reason the
 * offender). SIGTERM, SIGINT and SIGHUP destroy the guest too (fail
 * closed). A lost libvirt connection (libvirtd killed, stopped or
 * restarted, the client cut off): QEMU is killed at once through the pinned
 * pidfd, without waiting for libvirtd (state "lost", WATCH_LOST); without a
 * pin, reconnect for up to 10 s and destroy. libvirtd itself destroys an
 * AUTODESTROY guest only when it is alive to see the connection drop.
 */
enum watch_verdict watch_run(struct virt *v, const struct spec *s, const char *uri,
			     const struct watch_cfg *cfg, struct diag *d);

/* What watch.json in RUN/launch/NAME says. 0, -ENOENT (no record) or
 * -EBADMSG. pid_alive: the pid it names still runs. */
struct watch_record {
	char state[16], event[160], reason[256];
	long pid;
	bool pid_alive;
	long frozen_ms, latency_ms;
};
int watch_read_record(const char *run_dir, const char *name, struct watch_record *ret,
		      struct diag *d);

/* Write watch.json (state "watching") for this process. */
int watch_record_start(const char *dir, const char *name, struct diag *d);
