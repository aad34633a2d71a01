/* SPDX-License-Identifier: Apache-2.0 */
#include "audit.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "domxml.h"
#include "text.h"

/* Longest piece of live XML quoted in an offender or a message. */
#define QUOTE_MAX 72

struct audit {
	const struct spec *s;
	char off[192]; /* the offender, once found */
	bool disk_seen[SPEC_MAX_DISKS];
	unsigned n_emulator, n_iface, n_serial, n_console, n_rng, n_tpm;
	unsigned n_kbd, n_mouse, n_video, n_audio, n_balloon, n_usb, n_sata;
	unsigned n_pcie_root, n_root_ports;
	bool vmport_off;
};

static int offend(struct audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int offend(struct audit *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->off, sizeof(a->off), fmt, ap);
	va_end(ap);
	return -EPERM;
}

/* A value from the live XML made fit to print (text_shown(), masked: one
 * byte for one), truncated; NULL (absent) becomes "-". */
struct quoted {
	char s[TEXT_MASKED_SIZE(QUOTE_MAX - 3)]; /* QUOTE_MAX with "..." */
};

static struct quoted q(const char *v)
{
	struct quoted r;

	text_shown(v ? v : "-", QUOTE_MAX - 3, TEXT_MASKED, r.s);
	return r;
}

static bool is_el(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !n->ns &&
	       strcmp((const char *)n->name, name) == 0;
}

/* An attribute without namespace: its value, "" when empty, NULL when
 * absent (or n is NULL). A value that is not one plain text node (it never is, without
 * entity substitution; be safe) reads as "\x01", which matches nothing. */
static const char *attr(const xmlNode *n, const char *name)
{
	if (!n)
		return NULL;
	for (const xmlAttr *a = n->properties; a; a = a->next) {
		if (a->ns || strcmp((const char *)a->name, name) != 0)
			continue;
		if (!a->children)
			return "";
		if (a->children->type == XML_TEXT_NODE && !a->children->next &&
		    a->children->content)
			return (const char *)a->children->content;
		return "\x01";
	}
	return NULL;
}

static bool attr_is(const xmlNode *n, const char *name, const char *want)
{
	const char *v = attr(n, name);

	return v && strcmp(v, want) == 0;
}

/* An element's text when it is one plain text node ("" when empty), else
 * NULL. */
static const char *text(const xmlNode *n)
{
	const xmlNode *c = n->children;

	if (!c)
		return "";
	if (c->type == XML_TEXT_NODE && !c->next && c->content)
		return (const char *)c->content;
	return NULL;
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is_el(c, name))
			return c;
	return NULL;
}

/* The first element child not in the NULL-terminated list (and not <alias>
 * or <address>, which only name and place a device), or NULL. */
static const xmlNode *unexpected_child(const xmlNode *n, const char *const *allowed)
{
	for (const xmlNode *c = n->children; c; c = c->next) {
		bool ok = false;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_el(c, "alias") || is_el(c, "address"))
			continue;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = is_el(c, allowed[i]);
		if (!ok)
			return c;
	}
	return NULL;
}

static int check_children(struct audit *a, const xmlNode *n, const char *what,
			  const char *const *allowed)
{
	const xmlNode *c = unexpected_child(n, allowed);

	if (c)
		return offend(a, "%s: unexpected <%s>", what, q((const char *)c->name).s);
	return 0;
}

/* Strict decimal, no sign, no space. */
static bool parse_u64(const char *t, uint64_t *ret)
{
	uint64_t v = 0;

	if (!t || !*t)
		return false;
	for (; *t; t++) {
		if (*t < '0' || *t > '9' || v > (UINT64_MAX - (uint64_t)(*t - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*t - '0');
	}
	*ret = v;
	return true;
}

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static bool ieq(const char *x, const char *y)
{
	for (; *x && *y; x++, y++)
		if (lower((unsigned char)*x) != lower((unsigned char)*y))
			return false;
	return *x == *y;
}

/* libvirt's scaled integers (virScaleInteger): no unit is KiB; "b"/"bytes";
 * a letter k/m/g/t/p/e alone or with "iB" is a power of 1024, with "B" a
 * power of 1000; case-insensitive. */
static bool memory_bytes(const char *num, const char *unit, uint64_t *ret)
{
	static const char letters[] = "kmgtpe";
	uint64_t v, base, scale = 1;
	const char *p;

	if (!parse_u64(num, &v))
		return false;
	if (!unit) {
		scale = 1024;
	} else if (ieq(unit, "b") || ieq(unit, "byte") || ieq(unit, "bytes")) {
		scale = 1;
	} else {
		if (!unit[0])
			return false;
		if (!unit[1] || ieq(unit + 1, "iB"))
			base = 1024;
		else if (lower((unsigned char)unit[1]) == 'b' && !unit[2])
			base = 1000;
		else
			return false;
		p = strchr(letters, lower((unsigned char)unit[0])); /* unit[0] != 0 */
		if (!p)
			return false;
		for (ptrdiff_t i = 0; i <= p - letters; i++)
			scale *= base;
	}
	if (v > UINT64_MAX / scale)
		return false;
	*ret = v * scale;
	return true;
}

/* ---- devices -------------------------------------------------------------- */

static const char *disk_source(const xmlNode *disk)
{
	const xmlNode *src = child(disk, "source");
	const char *p;

	if (!src)
		return NULL;
	if ((p = attr(src, "file")) || (p = attr(src, "dev")) || (p = attr(src, "dir")) ||
	    (p = attr(src, "name")) || (p = attr(src, "volume")))
		return p;
	return attr(src, "protocol");
}

static int check_disk(struct audit *a, const xmlNode *n)
{
	static const char *const allowed[] = {"driver", "source",   "backingStore",
					      "target", "readonly", NULL};
	const xmlNode *tgt = child(n, "target"), *src = child(n, "source"),
		      *drv = child(n, "driver"), *back = child(n, "backingStore");
	const char *dev = tgt ? attr(tgt, "dev") : NULL, *path = disk_source(n);
	const struct spec_disk *k = NULL;
	char what[160];
	size_t i;

	for (i = 0; dev && i < a->s->n_disks; i++)
		if (strcmp(a->s->disks[i].target, dev) == 0) {
			k = &a->s->disks[i];
			break;
		}
	if (!k)
		return offend(a, "disk %s (%s)", q(dev).s, q(path ? path : "no source").s);
	snprintf(what, sizeof(what), "disk %s (%s)", q(dev).s, q(path).s);
	if (a->disk_seen[i])
		return offend(a, "%s: a second disk on that target", what);
	a->disk_seen[i] = true;

	if (!attr_is(n, "type", k->block ? "block" : "file"))
		return offend(a, "%s: type %s, spec: %s", what, q(attr(n, "type")).s,
			      k->block ? "block" : "file");
	if (!attr_is(n, "device", "disk"))
		return offend(a, "%s: device %s, spec: disk", what, q(attr(n, "device")).s);
	if (!src || !attr_is(src, k->block ? "dev" : "file", k->path))
		return offend(a, "%s: spec: %s", what, q(k->path).s);
	if (!attr_is(tgt, "bus", "virtio"))
		return offend(a, "%s: bus %s, spec: virtio", what, q(attr(tgt, "bus")).s);
	if (!drv || !attr_is(drv, "type", "raw"))
		return offend(a, "%s: format %s, spec: raw", what,
			      q(drv ? attr(drv, "type") : NULL).s);
	if (!!child(n, "readonly") != k->readonly)
		return offend(a, "%s: %s, spec: %s", what, k->readonly ? "writable" : "read-only",
			      k->readonly ? "read-only" : "writable");
	/* A raw image has nothing behind it: libvirt writes <backingStore/>. */
	if (back && (back->children || back->properties))
		return offend(a, "%s: has a backing store", what);
	return check_children(a, n, what, allowed);
}

/*
 * The PCIe topology: pcie-root once (index 0) and pcie-root-ports, each
 * with hot-plug off; how many is checked once all devices are seen
 * (check_present). Any other PCI controller (pci-bridge, a switch, an
 * expander bus, dmi-to-pci) is a bus the spec never asks for, and the way
 * to hang further devices somewhere.
 */
static int check_pci_controller(struct audit *a, const xmlNode *n)
{
	static const char *const root_children[] = {"model", "target", NULL};
	static const char *const none[] = {NULL};
	const char *model = attr(n, "model");
	const xmlNode *tgt = child(n, "target"), *m = child(n, "model");
	char what[160];

	if (model && strcmp(model, "pcie-root") == 0) {
		if (!attr_is(n, "index", "0") || ++a->n_pcie_root > 1)
			return offend(a, "controller pci (pcie-root index %s)",
				      q(attr(n, "index")).s);
		return check_children(a, n, "controller pci (pcie-root)", none);
	}
	if (!model || strcmp(model, "pcie-root-port") != 0)
		return offend(a, "controller pci (%s)", q(model ? model : "default model").s);
	snprintf(what, sizeof(what), "controller pci (pcie-root-port index %s)",
		 q(attr(n, "index")).s);
	a->n_root_ports++;
	/* QEMU's own pcie-root-port, not ioh3420 (which has no hotplug knob) */
	if (m && !attr_is(m, "name", "pcie-root-port"))
		return offend(a, "%s: model %s", what, q(attr(m, "name")).s);
	if (!tgt || !attr_is(tgt, "hotplug", "off"))
		return offend(a, "%s: hot-plug %s", what,
			      tgt && attr(tgt, "hotplug") ? q(attr(tgt, "hotplug")).s : "on");
	return check_children(a, n, what, root_children);
}

static int check_controller(struct audit *a, const xmlNode *n)
{
	static const char *const none[] = {NULL};
	const char *type = attr(n, "type"), *model = attr(n, "model");

	if (type && strcmp(type, "pci") == 0)
		return check_pci_controller(a, n);
	/* q35's ICH9 has a built-in AHCI controller at 00:1f.2 that cannot be
	 * removed; libvirt lists it as sata index 0. It has no disk here. */
	if (type && strcmp(type, "sata") == 0 && attr_is(n, "index", "0") && ++a->n_sata == 1)
		return check_children(a, n, "controller sata", none);
	if (type && strcmp(type, "usb") == 0 && model && strcmp(model, "none") == 0 &&
	    ++a->n_usb == 1)
		return check_children(a, n, "controller usb (none)", none);
	if (type && strcmp(type, "sata") == 0)
		return offend(a, "controller sata (index %s)", q(attr(n, "index")).s);
	return offend(a, "controller %s (%s)", q(type).s, q(model ? model : "default model").s);
}

static int check_interface(struct audit *a, const xmlNode *n)
{
	static const char *const allowed[] = {"mac", "source", "target", "model", NULL};
	const struct spec *s = a->s;
	const xmlNode *src = child(n, "source"), *model = child(n, "model");
	const char *type = attr(n, "type"), *name = NULL;
	bool bridged = s->net == SPEC_NET_BRIDGED;
	char what[160];

	if (src && !((name = attr(src, "network")) || (name = attr(src, "bridge"))))
		name = attr(src, "dev");
	snprintf(what, sizeof(what), "interface (%s %s)", q(type).s, q(name).s);
	if (s->net == SPEC_NET_NONE || ++a->n_iface > 1)
		return offend(a, "%s", what);
	if (!type || strcmp(type, bridged ? "bridge" : "network") != 0 || !src ||
	    !attr_is(src, bridged ? "bridge" : "network", s->net_source))
		return offend(a, "%s: spec: %s %s", what, bridged ? "bridge" : "network",
			      q(s->net_source).s);
	if (!model || !attr_is(model, "type", "virtio"))
		return offend(a, "%s: model %s, spec: virtio", what,
			      q(model ? attr(model, "type") : NULL).s);
	return check_children(a, n, what, allowed);
}

/* <serial> and <console>: type 'file' to the spec's log, port 0. */
static int check_chr(struct audit *a, const xmlNode *n, bool console)
{
	static const char *const allowed[] = {"source", "target", NULL};
	const char *kind = console ? "console" : "serial";
	const xmlNode *src = child(n, "source"), *tgt = child(n, "target");
	const char *path = src ? attr(src, "path") : NULL;
	char what[160];

	snprintf(what, sizeof(what), "%s (%s %s)", kind, q(attr(n, "type")).s, q(path).s);
	if (!a->s->console_log || ++*(console ? &a->n_console : &a->n_serial) > 1)
		return offend(a, "%s", what);
	if (!attr_is(n, "type", "file") || !path || strcmp(path, a->s->console_log) != 0)
		return offend(a, "%s: spec: file %s", what, q(a->s->console_log).s);
	if (!tgt || !attr_is(tgt, "port", "0"))
		return offend(a, "%s: not port 0", what);
	/* A console that is not the serial port (virtio, xen, ...) would be a
	 * second device. */
	if (console && !attr_is(tgt, "type", "serial"))
		return offend(a, "%s: target %s, spec: serial", what, q(attr(tgt, "type")).s);
	if (!console) {
		const xmlNode *m = child(tgt, "model");

		/* libvirt 9 adds <target type='isa-serial'><model name='isa-serial'/> */
		if ((attr(tgt, "type") && !attr_is(tgt, "type", "isa-serial")) ||
		    (m && !attr_is(m, "name", "isa-serial")))
			return offend(a, "%s: target %s, spec: isa-serial", what,
				      q(attr(tgt, "type")).s);
	}
	return check_children(a, n, what, allowed);
}

/*
 * q35 has an i8042 PS/2 controller on the board, so QEMU always creates a
 * PS/2 keyboard and mouse and libvirt always lists them (there is no way to
 * drop them on this machine type; i440fx is no better). They are allowed, one
 * of each and nothing else: a USB tablet, a virtio input or a passthrough
 * evdev is an offender.
 */
static int check_input(struct audit *a, const xmlNode *n)
{
	static const char *const none[] = {NULL};
	const char *type = attr(n, "type");
	unsigned *count = NULL;

	if (attr_is(n, "bus", "ps2") && type && strcmp(type, "keyboard") == 0)
		count = &a->n_kbd;
	else if (attr_is(n, "bus", "ps2") && type && strcmp(type, "mouse") == 0)
		count = &a->n_mouse;
	if (!count || ++*count > 1)
		return offend(a, "input %s (%s)", q(type).s, q(attr(n, "bus")).s);
	return check_children(a, n, "input (ps2)", none);
}

static int check_video(struct audit *a, const xmlNode *n)
{
	static const char *const allowed[] = {"model", NULL};
	const xmlNode *m = child(n, "model");

	if (!m || !attr_is(m, "type", "none") || ++a->n_video > 1)
		return offend(a, "video (%s)", q(m ? attr(m, "type") : NULL).s);
	return check_children(a, n, "video (none)", allowed);
}

static int check_simple_none(struct audit *a, const xmlNode *n, const char *attrname,
			     unsigned *count)
{
	static const char *const none[] = {NULL};
	const char *v = attr(n, attrname);
	char what[160];

	snprintf(what, sizeof(what), "%s (%s)", (const char *)n->name, q(v).s);
	if (!v || strcmp(v, "none") != 0 || ++*count > 1)
		return offend(a, "%s", what);
	return check_children(a, n, what, none);
}

static int check_rng(struct audit *a, const xmlNode *n)
{
	static const char *const allowed[] = {"backend", NULL};
	const xmlNode *b = child(n, "backend");
	const char *src = b ? text(b) : NULL;
	char what[160];

	snprintf(what, sizeof(what), "rng (%s %s)", q(attr(n, "model")).s,
		 q(b ? attr(b, "model") : NULL).s);
	if (!a->s->rng || ++a->n_rng > 1)
		return offend(a, "%s", what);
	if (!attr_is(n, "model", "virtio") || !b || !attr_is(b, "model", "random") || !src ||
	    strcmp(src, "/dev/urandom") != 0)
		return offend(a, "%s: spec: virtio from /dev/urandom", what);
	return check_children(a, n, what, allowed);
}

static int check_tpm(struct audit *a, const xmlNode *n)
{
	static const char *const allowed[] = {"backend", NULL};
	const xmlNode *b = child(n, "backend");
	char what[160];

	snprintf(what, sizeof(what), "tpm (%s %s)", q(attr(n, "model")).s,
		 q(b ? attr(b, "type") : NULL).s);
	if (!a->s->vtpm || ++a->n_tpm > 1)
		return offend(a, "%s", what);
	if (!attr_is(n, "model", "tpm-crb") || !b || !attr_is(b, "type", "emulator") ||
	    !attr_is(b, "version", "2.0"))
		return offend(a, "%s: spec: tpm-crb, emulator 2.0", what);
	return check_children(a, n, what, allowed);
}

static unsigned long hexval(const char *v)
{
	char *end;
	unsigned long r;

	if (!v || !*v)
		return ULONG_MAX;
	errno = 0;
	r = strtoul(v, &end, 16);
	return (errno || *end) ? ULONG_MAX : r;
}

static int offend_hostdev(struct audit *a, const xmlNode *n)
{
	const char *type = attr(n, "type");
	const xmlNode *src = child(n, "source");
	const xmlNode *addr = src ? child(src, "address") : NULL;

	if (type && strcmp(type, "pci") == 0 && addr) {
		unsigned long dom = hexval(attr(addr, "domain")), bus = hexval(attr(addr, "bus")),
			      slot = hexval(attr(addr, "slot")),
			      fn = hexval(attr(addr, "function"));

		if (dom <= 0xffff && bus <= 0xff && slot <= 0x1f && fn <= 7)
			return offend(a, "hostdev (pci %04lx:%02lx:%02lx.%lx)", dom, bus, slot, fn);
	}
	if (type && strcmp(type, "usb") == 0 && src) {
		const xmlNode *v = child(src, "vendor"), *p = child(src, "product");

		if (v && p)
			return offend(a, "hostdev (usb %s:%s)", q(attr(v, "id")).s,
				      q(attr(p, "id")).s);
		if (addr)
			return offend(a, "hostdev (usb bus %s device %s)", q(attr(addr, "bus")).s,
				      q(attr(addr, "device")).s);
	}
	return offend(a, "hostdev (%s)", q(type).s);
}

/* Anything not allowed: name it as specifically as its kind allows. */
static int offend_other(struct audit *a, const xmlNode *n)
{
	const char *name = (const char *)n->name;
	const char *type = attr(n, "type"), *model = attr(n, "model");

	if (is_el(n, "hostdev"))
		return offend_hostdev(a, n);
	if (is_el(n, "channel")) {
		const xmlNode *t = child(n, "target");
		const char *tn = t ? attr(t, "name") : NULL;

		return offend(a, "channel (%s%s%s)", q(type).s, tn ? " " : "", tn ? q(tn).s : "");
	}
	if (is_el(n, "sound") || is_el(n, "watchdog") || is_el(n, "panic"))
		return offend(a, "%s (%s)", name, q(model).s);
	return offend(a, "%s (%s)", q(name).s, q(type ? type : model).s);
}

static int check_device(struct audit *a, const xmlNode *n)
{
	if (is_el(n, "emulator"))
		return ++a->n_emulator > 1 ? offend(a, "emulator (second)") : 0;
	if (is_el(n, "disk"))
		return check_disk(a, n);
	if (is_el(n, "controller"))
		return check_controller(a, n);
	if (is_el(n, "interface"))
		return check_interface(a, n);
	if (is_el(n, "serial"))
		return check_chr(a, n, false);
	if (is_el(n, "console"))
		return check_chr(a, n, true);
	if (is_el(n, "input"))
		return check_input(a, n);
	if (is_el(n, "video"))
		return check_video(a, n);
	/* libvirt adds an <audio> backend only for graphics or a sound device;
	 * 'none' means no host audio, so that one is allowed should it appear. */
	if (is_el(n, "audio"))
		return check_simple_none(a, n, "type", &a->n_audio);
	if (is_el(n, "memballoon"))
		return check_simple_none(a, n, "model", &a->n_balloon);
	if (is_el(n, "rng"))
		return check_rng(a, n);
	if (is_el(n, "tpm"))
		return check_tpm(a, n);
	return offend_other(a, n);
}

/* Every device the spec asks for is there. */
static int check_present(struct audit *a)
{
	const struct spec *s = a->s;

	for (size_t i = 0; i < s->n_disks; i++)
		if (!a->disk_seen[i])
			return offend(a, "disk %s (%s): missing", s->disks[i].target,
				      q(s->disks[i].path).s);
	if (s->net != SPEC_NET_NONE && !a->n_iface)
		return offend(a, "interface (%s %s): missing",
			      s->net == SPEC_NET_BRIDGED ? "bridge" : "network",
			      q(s->net_source).s);
	if (s->console_log && !a->n_serial)
		return offend(a, "serial (file %s): missing", q(s->console_log).s);
	if (s->rng && !a->n_rng)
		return offend(a, "rng (virtio): missing");
	if (s->vtpm && !a->n_tpm)
		return offend(a, "tpm (tpm-crb): missing");
	/* One root port per PCIe device and no more: a spare one is a free
	 * hot-plug slot. (Fewer cannot hold the devices; libvirt would have
	 * refused the domain.) */
	if (a->n_root_ports > domxml_pcie_ports(s))
		return offend(a,
			      "controller pci: %u pcie-root-ports for %u PCIe devices (a spare "
			      "port is a hot-plug slot)",
			      a->n_root_ports, domxml_pcie_ports(s));
	if (!a->vmport_off)
		return offend(a, "features: vmport not off");
	return 0;
}

/*
 * <features>: ACPI (the power button stop uses) and vmport off, nothing
 * else. Every other feature is a hypervisor knob the spec never turns
 * (Hyper-V enlightenments, KVM hidden state, SMM, IOAPIC, PMU...), so it is
 * refused rather than judged.
 */
static int check_features(struct audit *a, const xmlNode *f)
{
	static const char *const none[] = {NULL};

	for (const xmlNode *c = f->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_el(c, "acpi")) {
			if (c->properties || c->children)
				return offend(a, "features: acpi with settings");
			continue;
		}
		if (is_el(c, "vmport")) {
			if (!attr_is(c, "state", "off"))
				return offend(a, "features: vmport %s",
					      q(attr(c, "state") ? attr(c, "state") : "on").s);
			if (a->vmport_off)
				return offend(a, "features: a second vmport");
			a->vmport_off = true;
			if (check_children(a, c, "features: vmport", none) < 0)
				return -EPERM;
			continue;
		}
		return offend(a, "features: unexpected <%s>", q((const char *)c->name).s);
	}
	return 0;
}

/* ---- the domain ----------------------------------------------------------- */

/*
 * No element or attribute in a namespace anywhere outside <metadata> (where
 * applications keep their own, inert, data): libvirt keeps hypervisor
 * pass-through there, e.g. <qemu:commandline> adds arbitrary -device options
 * that <devices> never shows. libxml2 bounds the depth (256) so this
 * recursion is bounded.
 */
static int check_namespaces(struct audit *a, const xmlNode *n, bool top)
{
	for (const xmlNode *c = n->children; c; c = c->next) {
		int r;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (c->ns)
			return offend(a, "%s:%s (foreign namespace)",
				      q(c->ns->prefix ? (const char *)c->ns->prefix : "").s,
				      q((const char *)c->name).s);
		for (const xmlAttr *at = c->properties; at; at = at->next)
			if (at->ns)
				return offend(
				    a, "%s (attribute %s:%s)", q((const char *)c->name).s,
				    q(at->ns->prefix ? (const char *)at->ns->prefix : "").s,
				    q((const char *)at->name).s);
		if (top && is_el(c, "metadata"))
			continue;
		r = check_namespaces(a, c, false);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_domain(struct audit *a, const xmlNode *root, struct diag *d)
{
	const struct spec *s = a->s;
	const char *want = domxml_virt_type(s->virt);
	const char *type = attr(root, "type");
	bool have_name = false, have_vcpu = false, have_memory = false, have_devices = false;
	unsigned have_features = 0;
	int r;

	r = check_namespaces(a, root, true);
	if (r < 0)
		return r;
	for (const xmlAttr *at = root->properties; at; at = at->next)
		if (at->ns)
			return offend(a, "domain (attribute %s)", q((const char *)at->name).s);
	if (!type || strcmp(type, want) != 0)
		return offend(a, "domain type %s (spec: %s)", q(type).s, want);

	for (const xmlNode *c = root->children; c; c = c->next) {
		if (is_el(c, "name")) {
			const char *t = text(c);

			have_name = true;
			if (!t || strcmp(t, s->name) != 0)
				return offend(a, "domain name %s (spec: %s)", q(t).s, s->name);
		} else if (is_el(c, "vcpu")) {
			const char *t = text(c), *cur = attr(c, "current");
			uint64_t v, vc;

			have_vcpu = true;
			if (!parse_u64(t, &v) || v != s->vcpus)
				return offend(a, "vcpu %s (spec: %u)", q(t).s, s->vcpus);
			if (cur && (!parse_u64(cur, &vc) || vc != s->vcpus))
				return offend(a, "vcpu current %s (spec: %u)", q(cur).s, s->vcpus);
		} else if (is_el(c, "memory")) {
			const char *t = text(c), *unit = attr(c, "unit");
			uint64_t b;

			have_memory = true;
			if (!memory_bytes(t, unit, &b) || b != s->memory_mib * 1024 * 1024)
				return offend(a, "memory %s %s (spec: %llu MiB)", q(t).s,
					      q(unit ? unit : "KiB").s,
					      (unsigned long long)s->memory_mib);
		} else if (is_el(c, "features")) {
			if (have_features++)
				return offend(a, "features: a second <features>");
			r = check_features(a, c);
			if (r < 0)
				return r;
		} else if (is_el(c, "devices")) {
			have_devices = true;
			for (const xmlNode *dev = c->children; dev; dev = dev->next) {
				if (dev->type != XML_ELEMENT_NODE)
					continue;
				r = check_device(a, dev);
				if (r < 0)
					return r;
			}
		}
	}
	if (!have_name || !have_vcpu || !have_memory || !have_devices)
		return diag_set(d, DIAG_MALFORMED, EBADMSG,
				"live domain XML: no <%s>; not a libvirt domain",
				!have_name     ? "name"
				: !have_vcpu   ? "vcpu"
				: !have_memory ? "memory"
					       : "devices");
	return check_present(a);
}

static void parse_error(xmlParserCtxtPtr ctxt, struct diag *d)
{
	const xmlError *e = xmlCtxtGetLastError(ctxt);
	struct quoted m = q(e && e->message ? e->message : "unknown error");
	size_t n = strlen(m.s);

	/* libxml2 ends its messages with a newline (now a '?') */
	while (n && (m.s[n - 1] == '?' || m.s[n - 1] == ' '))
		m.s[--n] = 0;
	diag_set(d, DIAG_MALFORMED, EBADMSG, "live domain XML: line %d: %s", e ? e->line : 0, m.s);
}

/* The live XML parsed, its root a <domain>: *ret_doc, freed by the caller. */
static int parse_live(const char *xml, size_t len, xmlDocPtr *ret_doc, struct diag *d)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	const xmlNode *root;
	int r = 0;

	if (!xml)
		return diag_set(d, DIAG_USAGE, EINVAL, "audit: no XML");
	if (len == 0 || len > INT_MAX)
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "live domain XML: %s",
				len ? "too large" : "empty");

	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "audit: out of memory");
	/* No XML_PARSE_NOENT: that flag *substitutes* entities (the XXE door);
	 * without it, and with any DTD refused below, nothing outside the
	 * buffer is ever read. NONET on top, and no DTD loading or validation
	 * flags. */
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "live-domain.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA |
				    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		parse_error(ctxt, d);
		xmlFreeParserCtxt(ctxt);
		return -EBADMSG;
	}
	xmlFreeParserCtxt(ctxt);

	root = xmlDocGetRootElement(doc);
	if (doc->intSubset || doc->extSubset)
		r = diag_set(d, DIAG_MALFORMED, EBADMSG,
			     "live domain XML: has a DTD; libvirt never sends one");
	else if (!root || !is_el(root, "domain"))
		r = diag_set(d, DIAG_MALFORMED, EBADMSG,
			     "live domain XML: the root element is not <domain>");
	if (r < 0)
		xmlFreeDoc(doc);
	else
		*ret_doc = doc;
	return r;
}

int audit_domain_virt(const char *xml, size_t len, enum spec_virt *ret, struct diag *d)
{
	xmlDocPtr doc = NULL;
	const char *type;
	int r = parse_live(xml, len, &doc, d);

	if (r < 0)
		return r;
	type = attr(xmlDocGetRootElement(doc), "type");
	if (domxml_virt_of_type(type, ret) < 0)
		r = diag_set(d, DIAG_CONTENT, EINVAL, "live domain type %s is neither kvm nor qemu",
			     q(type).s);
	xmlFreeDoc(doc);
	return r;
}

int audit_live_xml(const char *xml, size_t len, const struct spec *s, char *ret_offender,
		   size_t offender_size, struct diag *d)
{
	struct audit a = {.s = s};
	xmlDocPtr doc = NULL;
	int r;

	if (ret_offender && offender_size)
		ret_offender[0] = 0;
	if (!xml)
		return diag_set(d, DIAG_USAGE, EINVAL, "audit: no XML");
	r = domxml_check_spec(s, d);
	if (r == 0)
		r = parse_live(xml, len, &doc, d);
	if (r < 0)
		return r;
	r = check_domain(&a, xmlDocGetRootElement(doc), d);
	xmlFreeDoc(doc);

	if (r == -EPERM) {
		if (ret_offender && offender_size)
			snprintf(ret_offender, offender_size, "%s", a.off);
		diag_set(d, DIAG_CONTENT, EPERM, "live domain %s does not match its spec: %s",
			 s->name, a.off);
	}
	return r;
}

int audit_libvirt_state(const char *const *taints, size_t n_taints, bool persistent,
			char *ret_offender, size_t offender_size, struct diag *d)
{
	static const char prefix[] = "tainted: ";
	char off[192] = "";

	if (ret_offender && offender_size)
		ret_offender[0] = 0;
	if (n_taints && !taints)
		return diag_set(d, DIAG_USAGE, EINVAL, "audit: taints missing");
	if (n_taints) {
		const char *t = taints[0] ? taints[0] : "";

		/* libvirt writes "tainted: <why>"; quote the why */
		if (strncmp(t, prefix, sizeof(prefix) - 1) == 0)
			t += sizeof(prefix) - 1;
		snprintf(off, sizeof(off), "taint (%s)", q(t).s);
	} else if (persistent) {
		snprintf(off, sizeof(off), "persistent definition (defined behind the launcher)");
	} else {
		return 0;
	}
	if (ret_offender && offender_size)
		snprintf(ret_offender, offender_size, "%s", off);
	return diag_set(d, DIAG_CONTENT, EPERM, "live domain: %s", off);
}
