/* SPDX-License-Identifier: Apache-2.0 */
#include "domxml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "text.h"

/* ---- spec checks ---------------------------------------------------------- */

/* Names and paths: util/text.h. A name's first byte is alphanumeric so it
 * can never look like an option or a hidden/relative file; a path is
 * normalized because audit.c compares the live domain's paths with these
 * textually. */
static bool name_ok(const char *n, size_t max)
{
	return text_name_valid(n, max, TEXT_NAME_HOST);
}

static bool path_ok(const char *p)
{
	return text_path_valid(p, DOMXML_PATH_MAX, TEXT_PATH_ABSOLUTE);
}

static bool target_ok(const char t[8])
{
	size_t len = strnlen(t, 8);

	if (len < 3 || len > 4 || t[0] != 'v' || t[1] != 'd')
		return false;
	for (size_t i = 2; i < len; i++)
		if (t[i] < 'a' || t[i] > 'z')
			return false;
	return true;
}

static bool cmdline_ok(const char *c)
{
	size_t len = strnlen(c, DOMXML_CMDLINE_MAX + 1);

	if (len > DOMXML_CMDLINE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (c[i] < 0x20 || c[i] > 0x7e)
			return false;
	return true;
}

#define USAGE(...) diag_set(d, DIAG_USAGE, EINVAL, __VA_ARGS__)

static const char *const virt_types[] = {
    [SPEC_VIRT_KVM] = "kvm",
    [SPEC_VIRT_TCG] = "qemu",
};

const char *domxml_virt_type(enum spec_virt v)
{
	return (unsigned)v < sizeof(virt_types) / sizeof(virt_types[0]) ? virt_types[v] : "?";
}

int domxml_virt_of_type(const char *type, enum spec_virt *ret)
{
	for (size_t i = 0; type && i < sizeof(virt_types) / sizeof(virt_types[0]); i++)
		if (!strcmp(type, virt_types[i])) {
			*ret = (enum spec_virt)i;
			return 0;
		}
	return -EINVAL;
}

int domxml_check_spec(const struct spec *s, struct diag *d)
{
	if (!s)
		return USAGE("spec: missing");
	if (!name_ok(s->name, SPEC_NAME_MAX - 1))
		return USAGE("spec: name: empty, longer than %d bytes or not of [A-Za-z0-9._-]",
			     SPEC_NAME_MAX - 1);
	if (s->virt != SPEC_VIRT_KVM && s->virt != SPEC_VIRT_TCG)
		return USAGE("spec: virt: unknown value %d", (int)s->virt);
	if (s->vcpus < 1 || s->vcpus > DOMXML_VCPUS_MAX)
		return USAGE("spec: vcpus: %u is not in 1..%d", s->vcpus, DOMXML_VCPUS_MAX);
	if (s->memory_mib < DOMXML_MEMORY_MIB_MIN || s->memory_mib > DOMXML_MEMORY_MIB_MAX)
		return USAGE("spec: memory: %llu MiB is not in %d..%d",
			     (unsigned long long)s->memory_mib, DOMXML_MEMORY_MIB_MIN,
			     DOMXML_MEMORY_MIB_MAX);

	if (s->kernel && !path_ok(s->kernel))
		return USAGE("spec: kernel: not an absolute normalized path of [A-Za-z0-9._+/-]");
	if (s->initrd && !s->kernel)
		return USAGE("spec: initrd without a kernel");
	if (s->initrd && !path_ok(s->initrd))
		return USAGE("spec: initrd: not an absolute normalized path of [A-Za-z0-9._+/-]");
	if (s->cmdline && !s->kernel)
		return USAGE("spec: cmdline without a kernel");
	if (s->cmdline && !cmdline_ok(s->cmdline))
		return USAGE("spec: cmdline: longer than %d bytes or not printable ASCII",
			     DOMXML_CMDLINE_MAX);

	if (s->n_disks > SPEC_MAX_DISKS)
		return USAGE("spec: %zu disks, at most %d", s->n_disks, SPEC_MAX_DISKS);
	if (s->n_disks == 0 && !s->kernel)
		return USAGE("spec: nothing to boot: no kernel and no disk");
	for (size_t i = 0; i < s->n_disks; i++) {
		const struct spec_disk *k = &s->disks[i];

		if (!target_ok(k->target))
			return USAGE("spec: disk %zu: target is not vd[a-z] or vd[a-z][a-z]", i);
		if (!path_ok(k->path))
			return USAGE("spec: disk %zu (%s): path is not absolute, normalized and of "
				     "[A-Za-z0-9._+/-]",
				     i, k->target);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(s->disks[j].target, k->target) == 0)
				return USAGE("spec: disk %zu (%s): duplicate target", i, k->target);
			if (strcmp(s->disks[j].path, k->path) == 0)
				return USAGE("spec: disk %zu (%s): same path as disk %zu (%s)", i,
					     k->target, j, s->disks[j].target);
		}
	}

	switch (s->net) {
	case SPEC_NET_NONE:
		if (s->net_source)
			return USAGE("spec: network: none, but a net_source is set");
		break;
	case SPEC_NET_ISOLATED:
		if (!name_ok(s->net_source, DOMXML_NETWORK_MAX))
			return USAGE("spec: network: isolated needs a libvirt network name of "
				     "[A-Za-z0-9._-], at most %d bytes",
				     DOMXML_NETWORK_MAX);
		break;
	case SPEC_NET_BRIDGED:
		if (!name_ok(s->net_source, DOMXML_BRIDGE_MAX))
			return USAGE("spec: network: bridged needs a bridge name of "
				     "[A-Za-z0-9._-], at most %d bytes",
				     DOMXML_BRIDGE_MAX);
		break;
	default:
		return USAGE("spec: network: unknown value %d", (int)s->net);
	}

	if (s->console_log && !path_ok(s->console_log))
		return USAGE("spec: console_log: not an absolute normalized path of "
			     "[A-Za-z0-9._+/-]");
	return 0;
}

/* ---- writer --------------------------------------------------------------- */

/* xmlTextWriter with a sticky error, so the document reads top to bottom:
 * after the first failure every call is a no-op and w->err stays set. */
struct xw {
	xmlTextWriterPtr w;
	bool err;
};

static void open_el(struct xw *x, const char *name)
{
	if (!x->err && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
		x->err = true;
}

static void close_el(struct xw *x)
{
	if (!x->err && xmlTextWriterEndElement(x->w) < 0)
		x->err = true;
}

static void attr(struct xw *x, const char *name, const char *value)
{
	if (!x->err && xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
		x->err = true;
}

static void text_el(struct xw *x, const char *name, const char *text)
{
	if (!x->err && xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST text) < 0)
		x->err = true;
}

/* <name a1='v1' .../> from NULL-terminated name/value pairs */
static void empty_el(struct xw *x, const char *name, ...)
{
	va_list ap;
	const char *a;

	open_el(x, name);
	va_start(ap, name);
	while ((a = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);

		attr(x, a, v);
	}
	va_end(ap);
	close_el(x);
}

static void comment(struct xw *x, const char *text)
{
	if (!x->err && xmlTextWriterWriteComment(x->w, BAD_CAST text) < 0)
		x->err = true;
}

static void write_os(struct xw *x, const struct spec *s)
{
	open_el(x, "os");
	open_el(x, "type");
	attr(x, "arch", "x86_64");
	attr(x, "machine", "q35");
	if (!x->err && xmlTextWriterWriteString(x->w, BAD_CAST "hvm") < 0)
		x->err = true;
	close_el(x);
	if (s->kernel) {
		text_el(x, "kernel", s->kernel);
		if (s->initrd)
			text_el(x, "initrd", s->initrd);
		if (s->cmdline)
			text_el(x, "cmdline", s->cmdline);
	} else {
		empty_el(x, "boot", "dev", "hd", NULL);
	}
	close_el(x);
}

static void write_disk(struct xw *x, const struct spec_disk *k)
{
	open_el(x, "disk");
	attr(x, "type", k->block ? "block" : "file");
	attr(x, "device", "disk");
	empty_el(x, "driver", "name", "qemu", "type", "raw", NULL);
	empty_el(x, "source", k->block ? "dev" : "file", k->path, NULL);
	empty_el(x, "target", "dev", k->target, "bus", "virtio", NULL);
	if (k->readonly)
		empty_el(x, "readonly", NULL);
	close_el(x);
}

/*
 * The serial console is a chardev of type 'file': output only, so the host
 * side has no way to type into the guest (a pty, even with <log file=...>,
 * is an interactive console anyone with access to libvirt can attach to).
 * With qemu:///system libvirt labels the file for the qemu user (dynamic
 * ownership, and Debian's virt-aa-helper adds it to the AppArmor profile);
 * the directory must exist. The <console> mirrors serial port 0, as libvirt
 * itself would write it.
 */
static void write_console(struct xw *x, const char *path)
{
	open_el(x, "serial");
	attr(x, "type", "file");
	empty_el(x, "source", "path", path, NULL);
	empty_el(x, "target", "port", "0", NULL);
	close_el(x);

	open_el(x, "console");
	attr(x, "type", "file");
	empty_el(x, "source", "path", path, NULL);
	empty_el(x, "target", "type", "serial", "port", "0", NULL);
	close_el(x);
}

static void write_interface(struct xw *x, const struct spec *s)
{
	bool bridged = s->net == SPEC_NET_BRIDGED;

	open_el(x, "interface");
	attr(x, "type", bridged ? "bridge" : "network");
	empty_el(x, "source", bridged ? "bridge" : "network", s->net_source, NULL);
	empty_el(x, "model", "type", "virtio", NULL);
	close_el(x);
}

unsigned domxml_pcie_ports(const struct spec *s)
{
	return (unsigned)s->n_disks + (s->net != SPEC_NET_NONE) + (s->rng ? 1 : 0);
}

/*
 * pcie-root and one pcie-root-port per PCIe device, hot-plug off on each.
 * Left to itself libvirt lays out one root port per device plus a spare,
 * and the spare is exactly what `virsh attach-device` plugs into; with the
 * ports listed it adds none (libvirt 9.0). hotplug='off' (libvirt >= 6.3,
 * QEMU's pcie-root-port hotplug=off) also stops a device being unplugged
 * from, or re-plugged into, a port the guest already uses.
 */
static void write_pcie(struct xw *x, const struct spec *s)
{
	unsigned n = domxml_pcie_ports(s);
	char idx[16];

	empty_el(x, "controller", "type", "pci", "index", "0", "model", "pcie-root", NULL);
	for (unsigned i = 1; i <= n; i++) {
		snprintf(idx, sizeof(idx), "%u", i);
		open_el(x, "controller");
		attr(x, "type", "pci");
		attr(x, "index", idx);
		attr(x, "model", "pcie-root-port");
		empty_el(x, "target", "hotplug", "off", NULL);
		close_el(x);
	}
}

static void write_devices(struct xw *x, const struct spec *s)
{
	/* No <emulator>: libvirt picks the one its capabilities name. */
	open_el(x, "devices");
	comment(x, " Every device libvirt would add by default is explicitly absent. "
		   "Machine type q35 itself always has pcie-root, the ICH9 SATA "
		   "controller and the i8042 PS/2 keyboard and mouse; they cannot be "
		   "removed and the audit allows exactly those. ");
	for (size_t i = 0; i < s->n_disks; i++)
		write_disk(x, &s->disks[i]);
	if (s->net != SPEC_NET_NONE)
		write_interface(x, s);
	if (s->console_log)
		write_console(x, s->console_log);
	/* libvirt adds a USB controller (and on q35 a qemu-xhci) unless told */
	empty_el(x, "controller", "type", "usb", "model", "none", NULL);
	write_pcie(x, s);
	/* no <graphics>, so no display; and no default VGA either */
	open_el(x, "video");
	empty_el(x, "model", "type", "none", NULL);
	close_el(x);
	/* libvirt adds a virtio balloon unless told */
	empty_el(x, "memballoon", "model", "none", NULL);
	if (s->rng) {
		open_el(x, "rng");
		attr(x, "model", "virtio");
		open_el(x, "backend");
		attr(x, "model", "random");
		if (!x->err && xmlTextWriterWriteString(x->w, BAD_CAST "/dev/urandom") < 0)
			x->err = true;
		close_el(x);
		close_el(x);
	}
	if (s->vtpm) {
		open_el(x, "tpm");
		attr(x, "model", "tpm-crb");
		empty_el(x, "backend", "type", "emulator", "version", "2.0", NULL);
		close_el(x);
	}
	close_el(x);
}

int domxml_build(const struct spec *s, char **ret_xml, struct diag *d)
{
	xmlBufferPtr buf = NULL;
	struct xw x = {0};
	char mem[32], vcpus[16];
	char *out;
	int r;

	if (!ret_xml)
		return USAGE("domxml: no place for the result");
	r = domxml_check_spec(s, d);
	if (r < 0)
		return r;

	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)s->memory_mib);
	snprintf(vcpus, sizeof(vcpus), "%u", s->vcpus);

	buf = xmlBufferCreate();
	if (!buf)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "domxml: out of memory");
	x.w = xmlNewTextWriterMemory(buf, 0);
	if (!x.w) {
		xmlBufferFree(buf);
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "domxml: out of memory");
	}
	if (xmlTextWriterSetIndent(x.w, 1) < 0 ||
	    xmlTextWriterSetIndentString(x.w, BAD_CAST "  ") < 0)
		x.err = true;

	open_el(&x, "domain");
	attr(&x, "type", domxml_virt_type(s->virt));
	text_el(&x, "name", s->name);
	open_el(&x, "memory");
	attr(&x, "unit", "MiB");
	if (!x.err && xmlTextWriterWriteString(x.w, BAD_CAST mem) < 0)
		x.err = true;
	close_el(&x);
	text_el(&x, "vcpu", vcpus);
	write_os(&x, s);
	open_el(&x, "features");
	empty_el(&x, "acpi", NULL);
	/* QEMU's vmport=auto gives a q35/pc guest the VMware backdoor I/O port
	 * and a vmmouse behind it; nothing here needs either. */
	empty_el(&x, "vmport", "state", "off", NULL);
	close_el(&x);
	/* TCG keeps libvirt's default CPU model: host-passthrough needs KVM. */
	if (s->virt == SPEC_VIRT_KVM)
		empty_el(&x, "cpu", "mode", "host-passthrough", NULL);
	/* The launcher owns the lifecycle: a guest that stops stays stopped. */
	text_el(&x, "on_poweroff", "destroy");
	text_el(&x, "on_reboot", "destroy");
	text_el(&x, "on_crash", "destroy");
	write_devices(&x, s);
	close_el(&x);
	if (!x.err && xmlTextWriterEndDocument(x.w) < 0)
		x.err = true;
	xmlFreeTextWriter(x.w); /* flushes into buf */

	if (x.err) {
		xmlBufferFree(buf);
		return diag_set(d, DIAG_INTERNAL, EIO, "domxml: writing the domain XML failed");
	}
	out = strdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	if (!out)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "domxml: out of memory");
	*ret_xml = out;
	return 0;
}
