/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

/*
 * The libvirt adapter: the only module with libvirt headers. Any URI libvirt
 * takes (default qemu:///system). The launcher checks the handoff against
 * the local TPM, so start, status and audit belong on the appliance itself;
 * stop works over libvirt's remote transports too. libvirt's errors become one line here; its own stderr
 * printing is silenced. Domains are transient: created from XML, gone when
 * they stop.
 */

struct virt;

enum virt_state {
	VIRT_ABSENT,  /* no such domain */
	VIRT_RUNNING, /* running, blocked or paused: it exists */
	VIRT_STOPPED, /* shut off or crashed (transient domains vanish instead) */
};

int virt_open(const char *uri, struct virt **ret, struct diag *d);
void virt_close(struct virt *v);

/* Create and start a transient domain from xml. */
int virt_start(struct virt *v, const char *xml, struct diag *d);

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

/* Pull the plug. Absent is not an error. */
int virt_destroy(struct virt *v, const char *name, struct diag *d);

/* ACPI shutdown, then destroy if it is still there after timeout_s.
 * *ret_forced says which. Absent is not an error. */
int virt_shutdown(struct virt *v, const char *name, unsigned timeout_s, bool *ret_forced,
		  struct diag *d);

/* A libvirt network with no forward mode (guests on it reach only each
 * other), created transient if it does not exist. */
int virt_isolated_network(struct virt *v, const char *name, struct diag *d);
