/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "domxml.h"
#include "spec.h"

/* What virt-xml-validate(1) validates against; shipped by libvirt. */
#define LIBVIRT_DOMAIN_RNG "/usr/share/libvirt/schemas/domain.rng"

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		abort();
	return p;
}

static void add_disk(struct spec *s, const char *path, bool readonly, bool block)
{
	struct spec_disk *k = &s->disks[s->n_disks];

	k->path = xstrdup(path);
	k->readonly = readonly;
	k->block = block;
	snprintf(k->target, sizeof(k->target), "vd%c", (char)('a' + s->n_disks));
	s->n_disks++;
}

/* Everything on: KVM, direct kernel boot, a read-only image and a writable
 * volume, a bridge, a console log, rng and vTPM. */
static void spec_full(struct spec *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "workload-1");
	s->virt = SPEC_VIRT_KVM;
	s->vcpus = 2;
	s->memory_mib = 2048;
	s->kernel = xstrdup("/var/lib/sealboot/bundles/app/vmlinuz");
	s->initrd = xstrdup("/var/lib/sealboot/bundles/app/initrd.img");
	s->cmdline = xstrdup("console=ttyS0 root=/dev/vda ro");
	add_disk(s, "/var/lib/sealboot/bundles/app/disk.img", true, false);
	add_disk(s, "/dev/mapper/sb-data", false, true);
	s->net = SPEC_NET_BRIDGED;
	s->net_source = xstrdup("br0");
	s->console_log = xstrdup("/var/log/sealboot/console.log");
	s->rng = true;
	s->vtpm = true;
}

/* Everything off: TCG, boot from the one disk, no network, no console. */
static void spec_minimal(struct spec *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "min");
	s->virt = SPEC_VIRT_TCG;
	s->vcpus = 1;
	s->memory_mib = 256;
	add_disk(s, "/srv/guest.img", true, false);
}

static xmlDocPtr build_doc(const struct spec *s)
{
	struct diag d = {0};
	char *xml = NULL;
	xmlDocPtr doc;

	assert_int_equal(domxml_build(s, &xml, &d), 0);
	assert_int_equal(d.cls, DIAG_NONE);
	assert_non_null(xml);
	doc = xmlReadMemory(xml, (int)strlen(xml), "domxml.xml", NULL, XML_PARSE_NONET);
	if (!doc)
		fail_msg("domxml output does not parse:\n%s", xml);
	free(xml);
	return doc;
}

static double num(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o;
	double v;

	assert_non_null(ctx);
	o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	if (!o || o->type != XPATH_NUMBER)
		fail_msg("xpath %s is not a number", expr);
	v = o->floatval;
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return v;
}

static void assert_count(xmlDocPtr doc, const char *path, int want)
{
	char expr[512];
	double got;

	snprintf(expr, sizeof(expr), "count(%s)", path);
	got = num(doc, expr);
	if (got != (double)want)
		fail_msg("%s: %g, expected %d", path, got, want);
}

static void assert_str(xmlDocPtr doc, const char *path, const char *want)
{
	char expr[512];
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o;

	assert_count(doc, path, 1);
	snprintf(expr, sizeof(expr), "string(%s)", path);
	o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	assert_non_null(o);
	if (strcmp((const char *)o->stringval, want) != 0)
		fail_msg("%s: '%s', expected '%s'", path, o->stringval, want);
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
}

/* Nothing libvirt could otherwise add behind our back is in the document. */
static void assert_no_extras(xmlDocPtr doc)
{
	static const char *const absent[] = {
	    "graphics", "sound",   "input",    "parallel", "redirdev",	 "smartcard",
	    "hostdev",	"channel", "emulator", "watchdog", "filesystem", "shmem",
	    "hub",	"panic",   "audio",    "lease",	   "iommu"};

	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		char path[64];

		snprintf(path, sizeof(path), "/domain/devices/%s", absent[i]);
		assert_count(doc, path, 0);
	}
	assert_count(doc, "/domain/devices/controller[@type!='pci']", 1);
	assert_str(doc, "/domain/devices/controller[@type='usb']/@model", "none");
	/* the PCIe topology written out: pcie-root, root ports with hot-plug
	 * off, nothing else on PCI */
	assert_count(doc, "/domain/devices/controller[@type='pci'][@model='pcie-root']", 1);
	assert_str(doc, "/domain/devices/controller[@model='pcie-root']/@index", "0");
	assert_count(doc,
		     "/domain/devices/controller[@type='pci'][@model!='pcie-root']"
		     "[@model!='pcie-root-port']",
		     0);
	assert_count(
	    doc, "/domain/devices/controller[@model='pcie-root-port'][not(target/@hotplug='off')]",
	    0);
	assert_str(doc, "/domain/features/vmport/@state", "off");
	assert_count(doc, "/domain/features/*", 2);
	assert_str(doc, "/domain/devices/memballoon/@model", "none");
	assert_count(doc, "/domain/devices/video", 1);
	assert_count(doc, "/domain/devices/video/*", 1);
	assert_str(doc, "/domain/devices/video/model/@type", "none");
	assert_str(doc, "/domain/features/acpi", "");
	assert_str(doc, "/domain/on_poweroff", "destroy");
	assert_str(doc, "/domain/on_reboot", "destroy");
	assert_str(doc, "/domain/on_crash", "destroy");
}

static void test_full(void **state)
{
	struct spec s;
	xmlDocPtr doc;

	spec_full(&s);
	doc = build_doc(&s);
	assert_str(doc, "/domain/@type", "kvm");
	assert_str(doc, "/domain/name", "workload-1");
	assert_str(doc, "/domain/memory", "2048");
	assert_str(doc, "/domain/memory/@unit", "MiB");
	assert_str(doc, "/domain/vcpu", "2");
	assert_str(doc, "/domain/os/type", "hvm");
	assert_str(doc, "/domain/os/type/@arch", "x86_64");
	assert_str(doc, "/domain/os/type/@machine", "q35");
	assert_str(doc, "/domain/os/kernel", "/var/lib/sealboot/bundles/app/vmlinuz");
	assert_str(doc, "/domain/os/initrd", "/var/lib/sealboot/bundles/app/initrd.img");
	assert_str(doc, "/domain/os/cmdline", "console=ttyS0 root=/dev/vda ro");
	assert_count(doc, "/domain/os/boot", 0);
	assert_str(doc, "/domain/cpu/@mode", "host-passthrough");

	assert_count(doc, "/domain/devices/disk", 2);
	assert_str(doc, "/domain/devices/disk[1]/@type", "file");
	assert_str(doc, "/domain/devices/disk[1]/@device", "disk");
	assert_str(doc, "/domain/devices/disk[1]/driver/@name", "qemu");
	assert_str(doc, "/domain/devices/disk[1]/driver/@type", "raw");
	assert_str(doc, "/domain/devices/disk[1]/source/@file",
		   "/var/lib/sealboot/bundles/app/disk.img");
	assert_str(doc, "/domain/devices/disk[1]/target/@dev", "vda");
	assert_str(doc, "/domain/devices/disk[1]/target/@bus", "virtio");
	assert_count(doc, "/domain/devices/disk[1]/readonly", 1);
	assert_str(doc, "/domain/devices/disk[2]/@type", "block");
	assert_str(doc, "/domain/devices/disk[2]/source/@dev", "/dev/mapper/sb-data");
	assert_count(doc, "/domain/devices/disk[2]/source/@file", 0);
	assert_str(doc, "/domain/devices/disk[2]/target/@dev", "vdb");
	assert_count(doc, "/domain/devices/disk[2]/readonly", 0);

	assert_count(doc, "/domain/devices/interface", 1);
	assert_str(doc, "/domain/devices/interface/@type", "bridge");
	assert_str(doc, "/domain/devices/interface/source/@bridge", "br0");
	assert_str(doc, "/domain/devices/interface/model/@type", "virtio");

	assert_str(doc, "/domain/devices/serial/@type", "file");
	assert_str(doc, "/domain/devices/serial/source/@path", "/var/log/sealboot/console.log");
	assert_str(doc, "/domain/devices/serial/target/@port", "0");
	assert_str(doc, "/domain/devices/console/@type", "file");
	assert_str(doc, "/domain/devices/console/source/@path", "/var/log/sealboot/console.log");
	assert_str(doc, "/domain/devices/console/target/@type", "serial");

	assert_str(doc, "/domain/devices/rng/@model", "virtio");
	assert_str(doc, "/domain/devices/rng/backend/@model", "random");
	assert_str(doc, "/domain/devices/rng/backend", "/dev/urandom");
	assert_str(doc, "/domain/devices/tpm/@model", "tpm-crb");
	assert_str(doc, "/domain/devices/tpm/backend/@type", "emulator");
	assert_str(doc, "/domain/devices/tpm/backend/@version", "2.0");
	/* two disks, the NIC, the rng: four ports, no spare; the vTPM is CRB */
	assert_count(doc, "/domain/devices/controller[@model='pcie-root-port']", 4);
	assert_str(doc, "/domain/devices/controller[@model='pcie-root-port'][4]/@index", "4");
	assert_no_extras(doc);
	xmlFreeDoc(doc);
	spec_free_members(&s);
}

static void test_minimal(void **state)
{
	struct spec s;
	xmlDocPtr doc;

	spec_minimal(&s);
	doc = build_doc(&s);
	assert_str(doc, "/domain/@type", "qemu");
	assert_str(doc, "/domain/os/boot/@dev", "hd");
	assert_count(doc, "/domain/os/kernel", 0);
	assert_count(doc, "/domain/os/initrd", 0);
	assert_count(doc, "/domain/os/cmdline", 0);
	/* TCG keeps libvirt's default CPU model */
	assert_count(doc, "/domain/cpu", 0);
	assert_count(doc, "/domain/devices/disk", 1);
	assert_count(doc, "/domain/devices/interface", 0);
	assert_count(doc, "/domain/devices/serial", 0);
	assert_count(doc, "/domain/devices/console", 0);
	assert_count(doc, "/domain/devices/rng", 0);
	assert_count(doc, "/domain/devices/tpm", 0);
	/* disk, usb none, pcie-root, its root port, video none, balloon none */
	assert_count(doc, "/domain/devices/*", 6);
	assert_count(doc, "/domain/devices/controller[@model='pcie-root-port']", 1);
	assert_no_extras(doc);
	xmlFreeDoc(doc);
	spec_free_members(&s);
}

/* A disk the anchor made a dm-verity device: the block device, read-only,
 * by its /dev/mapper path; the bundle's file appears nowhere. */
static void test_verity_disk(void **state)
{
	struct spec s;
	xmlDocPtr doc;

	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "verity");
	s.virt = SPEC_VIRT_TCG;
	s.vcpus = 1;
	s.memory_mib = 256;
	add_disk(&s, "/dev/mapper/sealboot-verity.0.0", true, true);
	doc = build_doc(&s);
	assert_count(doc, "/domain/devices/disk", 1);
	assert_str(doc, "/domain/devices/disk/@type", "block");
	assert_str(doc, "/domain/devices/disk/source/@dev", "/dev/mapper/sealboot-verity.0.0");
	assert_count(doc, "/domain/devices/disk/source/@file", 0);
	assert_count(doc, "//*[@file]", 0);
	assert_count(doc, "/domain/devices/disk/readonly", 1);
	assert_str(doc, "/domain/devices/disk/driver/@type", "raw");
	assert_no_extras(doc);
	xmlFreeDoc(doc);
	spec_free_members(&s);
}

static void test_isolated_kernel_only(void **state)
{
	struct spec s;
	xmlDocPtr doc;

	spec_minimal(&s);
	free(s.disks[0].path);
	s.disks[0].path = NULL;
	s.n_disks = 0;
	s.kernel = xstrdup("/boot/vmlinuz");
	s.net = SPEC_NET_ISOLATED;
	s.net_source = xstrdup("sealboot-isolated");
	doc = build_doc(&s);
	assert_count(doc, "/domain/devices/disk", 0);
	assert_str(doc, "/domain/os/kernel", "/boot/vmlinuz");
	assert_count(doc, "/domain/os/initrd", 0);
	assert_count(doc, "/domain/os/boot", 0);
	assert_str(doc, "/domain/devices/interface/@type", "network");
	assert_str(doc, "/domain/devices/interface/source/@network", "sealboot-isolated");
	assert_count(doc, "/domain/devices/interface/source/@bridge", 0);
	assert_str(doc, "/domain/devices/interface/model/@type", "virtio");
	assert_no_extras(doc);
	xmlFreeDoc(doc);
	spec_free_members(&s);
}

/* Markup in the one free-text member comes back as the same text. */
static void test_cmdline_is_escaped(void **state)
{
	static const char nasty[] =
	    "console=ttyS0 x=\"a&b\" y='<c>' ]]> &amp; </cmdline><hostdev/>";
	struct spec s;
	xmlDocPtr doc;

	spec_full(&s);
	free(s.cmdline);
	s.cmdline = xstrdup(nasty);
	doc = build_doc(&s);
	assert_str(doc, "/domain/os/cmdline", nasty);
	assert_count(doc, "//hostdev", 0);
	xmlFreeDoc(doc);
	spec_free_members(&s);
}

/* ---- refusals ---------------------------------------------------------- */

struct refusal {
	const char *what;
	void (*mutate)(struct spec *s);
	const char *msg; /* a substring of the diagnosis */
};

static void m_name_empty(struct spec *s)
{
	s->name[0] = 0;
}
static void m_name_slash(struct spec *s)
{
	snprintf(s->name, sizeof(s->name), "a/b");
}
static void m_name_quote(struct spec *s)
{
	snprintf(s->name, sizeof(s->name), "a'b");
}
static void m_name_dash(struct spec *s)
{
	snprintf(s->name, sizeof(s->name), "-x");
}
static void m_name_unterminated(struct spec *s)
{
	memset(s->name, 'a', sizeof(s->name));
}
static void m_virt(struct spec *s)
{
	s->virt = (enum spec_virt)7;
}
static void m_vcpus0(struct spec *s)
{
	s->vcpus = 0;
}
static void m_vcpus_big(struct spec *s)
{
	s->vcpus = DOMXML_VCPUS_MAX + 1;
}
static void m_mem0(struct spec *s)
{
	s->memory_mib = 0;
}
static void m_mem_big(struct spec *s)
{
	s->memory_mib = UINT64_MAX / 2;
}
static void m_too_many_disks(struct spec *s)
{
	s->n_disks = SPEC_MAX_DISKS + 1;
}
static void m_disk_relative(struct spec *s)
{
	free(s->disks[0].path);
	s->disks[0].path = xstrdup("var/lib/x.img");
}
static void m_disk_dotdot(struct spec *s)
{
	free(s->disks[0].path);
	s->disks[0].path = xstrdup("/var/lib/../x.img");
}
static void m_disk_quote(struct spec *s)
{
	free(s->disks[0].path);
	s->disks[0].path = xstrdup("/var/lib/x'.img");
}
static void m_disk_space(struct spec *s)
{
	free(s->disks[0].path);
	s->disks[0].path = xstrdup("/var/lib/x y.img");
}
static void m_disk_double_slash(struct spec *s)
{
	free(s->disks[0].path);
	s->disks[0].path = xstrdup("/var//x.img");
}
static void m_disk_null(struct spec *s)
{
	free(s->disks[1].path);
	s->disks[1].path = NULL;
}
static void m_disk_dup_target(struct spec *s)
{
	memcpy(s->disks[1].target, "vda", 4);
}
static void m_disk_bad_target(struct spec *s)
{
	memcpy(s->disks[1].target, "sda", 4);
}
static void m_disk_dup_path(struct spec *s)
{
	free(s->disks[1].path);
	s->disks[1].path = xstrdup(s->disks[0].path);
}
static void m_kernel_relative(struct spec *s)
{
	free(s->kernel);
	s->kernel = xstrdup("vmlinuz");
}
static void m_initrd_alone(struct spec *s)
{
	free(s->kernel);
	s->kernel = NULL;
	free(s->cmdline);
	s->cmdline = NULL;
}
static void m_cmdline_alone(struct spec *s)
{
	free(s->kernel);
	s->kernel = NULL;
	free(s->initrd);
	s->initrd = NULL;
}
static void m_cmdline_newline(struct spec *s)
{
	free(s->cmdline);
	s->cmdline = xstrdup("console=ttyS0\nx");
}
static void m_nothing_to_boot(struct spec *s)
{
	free(s->kernel);
	free(s->initrd);
	free(s->cmdline);
	s->kernel = s->initrd = s->cmdline = NULL;
	for (size_t i = 0; i < s->n_disks; i++) {
		free(s->disks[i].path);
		s->disks[i].path = NULL;
	}
	s->n_disks = 0;
}
static void m_bridged_no_source(struct spec *s)
{
	free(s->net_source);
	s->net_source = NULL;
}
static void m_isolated_no_source(struct spec *s)
{
	m_bridged_no_source(s);
	s->net = SPEC_NET_ISOLATED;
}
static void m_bridge_too_long(struct spec *s)
{
	free(s->net_source);
	s->net_source = xstrdup("br0123456789abcd");
}
static void m_bridge_quote(struct spec *s)
{
	free(s->net_source);
	s->net_source = xstrdup("br'0");
}
static void m_none_with_source(struct spec *s)
{
	s->net = SPEC_NET_NONE;
}
static void m_net_bad(struct spec *s)
{
	s->net = (enum spec_net)9;
}
static void m_console_relative(struct spec *s)
{
	free(s->console_log);
	s->console_log = xstrdup("console.log");
}

static const struct refusal refusals[] = {
    {"empty name", m_name_empty, "spec: name"},
    {"name with /", m_name_slash, "spec: name"},
    {"name with quote", m_name_quote, "spec: name"},
    {"name starting with -", m_name_dash, "spec: name"},
    {"name not terminated", m_name_unterminated, "spec: name"},
    {"unknown virt", m_virt, "spec: virt"},
    {"0 vcpus", m_vcpus0, "spec: vcpus: 0"},
    {"too many vcpus", m_vcpus_big, "spec: vcpus"},
    {"memory 0", m_mem0, "spec: memory: 0"},
    {"memory huge", m_mem_big, "spec: memory"},
    {"17 disks", m_too_many_disks, "disks, at most 16"},
    {"relative disk", m_disk_relative, "spec: disk 0 (vda): path"},
    {"disk with ..", m_disk_dotdot, "spec: disk 0 (vda): path"},
    {"disk with quote", m_disk_quote, "spec: disk 0 (vda): path"},
    {"disk with space", m_disk_space, "spec: disk 0 (vda): path"},
    {"disk with //", m_disk_double_slash, "spec: disk 0 (vda): path"},
    {"disk without path", m_disk_null, "spec: disk 1 (vdb): path"},
    {"duplicate target", m_disk_dup_target, "spec: disk 1 (vda): duplicate target"},
    {"bad target", m_disk_bad_target, "spec: disk 1: target"},
    {"duplicate path", m_disk_dup_path, "same path as disk 0"},
    {"relative kernel", m_kernel_relative, "spec: kernel"},
    {"initrd without kernel", m_initrd_alone, "initrd without a kernel"},
    {"cmdline without kernel", m_cmdline_alone, "cmdline without a kernel"},
    {"cmdline with newline", m_cmdline_newline, "spec: cmdline"},
    {"nothing to boot", m_nothing_to_boot, "nothing to boot"},
    {"bridged without bridge", m_bridged_no_source, "bridged needs a bridge"},
    {"isolated without network", m_isolated_no_source, "isolated needs a libvirt network"},
    {"bridge name too long", m_bridge_too_long, "bridged needs a bridge"},
    {"bridge name with quote", m_bridge_quote, "bridged needs a bridge"},
    {"none with a source", m_none_with_source, "none, but a net_source"},
    {"unknown network", m_net_bad, "spec: network: unknown"},
    {"relative console log", m_console_relative, "spec: console_log"},
};

static void test_refusals(void **state)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *t = &refusals[i];
		struct diag d = {0};
		struct spec s;
		char *xml = NULL;
		int r;

		spec_full(&s);
		t->mutate(&s);
		r = domxml_build(&s, &xml, &d);
		if (r != -EINVAL || d.cls != DIAG_USAGE || !strstr(d.msg, t->msg))
			fail_msg("%s: r=%d class=%s msg='%s', expected -EINVAL usage '%s'", t->what,
				 r, diag_class_name(d.cls), d.msg, t->msg);
		assert_null(xml);
		assert_null(strchr(d.msg, '\n'));
		memset(d.msg, 0, sizeof(d.msg));
		d.cls = DIAG_NONE;
		assert_int_equal(domxml_check_spec(&s, &d), -EINVAL);
		spec_free_members(&s); /* every slot, whatever n_disks says */
	}
}

static void test_null_args(void **state)
{
	struct diag d = {0};
	struct spec s;
	char *xml = NULL;

	assert_int_equal(domxml_build(NULL, &xml, &d), -EINVAL);
	assert_int_equal(d.cls, DIAG_USAGE);
	spec_full(&s);
	d = (struct diag){0};
	assert_int_equal(domxml_build(&s, NULL, &d), -EINVAL);
	spec_free_members(&s);
	/* and freeing twice is harmless */
	spec_free_members(&s);
	spec_free_members(NULL);
	assert_null(s.kernel);
	assert_int_equal(s.n_disks, 0);
}

/* The output is valid against libvirt's own schema (what virt-xml-validate
 * checks), for every shape of spec. */
static void test_libvirt_schema(void **state)
{
	void (*specs[])(struct spec *) = {spec_full, spec_minimal};
	xmlRelaxNGParserCtxtPtr pc;
	xmlRelaxNGPtr schema;

	if (access(LIBVIRT_DOMAIN_RNG, R_OK) != 0) {
		print_message("skip: %s not installed (libvirt schemas)\n", LIBVIRT_DOMAIN_RNG);
		skip();
	}
	pc = xmlRelaxNGNewParserCtxt(LIBVIRT_DOMAIN_RNG);
	assert_non_null(pc);
	schema = xmlRelaxNGParse(pc);
	assert_non_null(schema);
	for (size_t v = 0; v < 4; v++) {
		struct spec s;
		xmlRelaxNGValidCtxtPtr vc;
		xmlDocPtr doc;

		specs[v % 2](&s);
		if (v == 2) { /* isolated network, no initrd, no rng */
			free(s.net_source);
			s.net = SPEC_NET_ISOLATED;
			s.net_source = xstrdup("sealboot-isolated");
			free(s.initrd);
			s.initrd = NULL;
			s.rng = false;
		}
		if (v == 3) { /* TCG with a console and a vTPM */
			s.console_log = xstrdup("/var/log/x.log");
			s.vtpm = true;
		}
		doc = build_doc(&s);
		vc = xmlRelaxNGNewValidCtxt(schema);
		assert_non_null(vc);
		if (xmlRelaxNGValidateDoc(vc, doc) != 0)
			fail_msg("variant %zu does not validate against %s", v, LIBVIRT_DOMAIN_RNG);
		xmlRelaxNGFreeValidCtxt(vc);
		xmlFreeDoc(doc);
		spec_free_members(&s);
	}
	xmlRelaxNGFree(schema);
	xmlRelaxNGFreeParserCtxt(pc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_minimal),
	    cmocka_unit_test(test_isolated_kernel_only),
	    cmocka_unit_test(test_verity_disk),
	    cmocka_unit_test(test_cmdline_is_escaped),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_null_args),
	    cmocka_unit_test(test_libvirt_schema),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	xmlCleanupParser();
	return r;
}
