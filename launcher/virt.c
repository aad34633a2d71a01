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

struct virt {
	virConnectPtr conn;
	char uri[256];
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

void virt_close(struct virt *v)
{
	if (!v)
		return;
	virConnectClose(v->conn);
	free(v);
}

int virt_start(struct virt *v, const char *xml, struct diag *d)
{
	virDomainPtr dom = virDomainCreateXML(v->conn, xml, VIR_DOMAIN_NONE);

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
