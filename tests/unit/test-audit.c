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

#include <cmocka.h>

#include <libxml/parser.h>

#include "audit.h"
#include "domxml.h"
#include "spec.h"

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		abort();
	return p;
}

/*
 * The spec of the fixture below: KVM, kernel boot, a read-only image (vda)
 * and a writable volume (vdb), no network, a console log, rng and vTPM.
 */
static void spec_fixture(struct spec *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "workload");
	s->virt = SPEC_VIRT_KVM;
	s->vcpus = 2;
	s->memory_mib = 2048;
	s->kernel = xstrdup("/var/lib/sealboot/bundles/app/vmlinuz");
	s->initrd = xstrdup("/var/lib/sealboot/bundles/app/initrd.img");
	s->cmdline = xstrdup("console=ttyS0 root=/dev/vda ro");
	s->disks[0].path = xstrdup("/var/lib/sealboot/bundles/app/disk.img");
	memcpy(s->disks[0].target, "vda", 4);
	s->disks[0].readonly = true;
	s->disks[1].path = xstrdup("/dev/mapper/sb-data");
	memcpy(s->disks[1].target, "vdb", 4);
	s->disks[1].block = true;
	s->n_disks = 2;
	s->net = SPEC_NET_NONE;
	s->console_log = xstrdup("/var/log/sealboot/console.log");
	s->rng = true;
	s->vtpm = true;
}

/*
 * Written by hand after what libvirt 9.0 (Debian 12) returns from
 * virDomainGetXMLDesc(dom, 0) for that domain once running on q35: ids,
 * uuid, KiB units, the machine type expanded, <backingStore/>, aliases, PCI
 * addresses, the root ports domxml lists (hot-plug off, no spare: one each
 * for vda, vdb and the rng), the ICH9 SATA controller, the
 * PS/2 inputs, an <audio type='none'/>, security labels.
 */
/* Split in lines: ISO C only promises 4095-byte string literals. */
static const char *const live_lines[] = {
    "<domain type='kvm' id='7'>\n",
    "  <name>workload</name>\n",
    "  <uuid>6f1d3e0a-2b7c-4d1e-9a51-3c2f0b7e8d41</uuid>\n",
    "  <memory unit='KiB'>2097152</memory>\n",
    "  <currentMemory unit='KiB'>2097152</currentMemory>\n",
    "  <vcpu placement='static'>2</vcpu>\n",
    "  <resource>\n",
    "    <partition>/machine</partition>\n",
    "  </resource>\n",
    "  <os>\n",
    "    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>\n",
    "    <kernel>/var/lib/sealboot/bundles/app/vmlinuz</kernel>\n",
    "    <initrd>/var/lib/sealboot/bundles/app/initrd.img</initrd>\n",
    "    <cmdline>console=ttyS0 root=/dev/vda ro</cmdline>\n",
    "    <boot dev='hd'/>\n",
    "  </os>\n",
    "  <features>\n",
    "    <acpi/>\n",
    "    <vmport state='off'/>\n",
    "  </features>\n",
    "  <cpu mode='host-passthrough' check='none' migratable='on'/>\n",
    "  <clock offset='utc'/>\n",
    "  <on_poweroff>destroy</on_poweroff>\n",
    "  <on_reboot>destroy</on_reboot>\n",
    "  <on_crash>destroy</on_crash>\n",
    "  <devices>\n",
    "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n",
    "    <disk type='file' device='disk'>\n",
    "      <driver name='qemu' type='raw'/>\n",
    "      <source file='/var/lib/sealboot/bundles/app/disk.img' index='2'/>\n",
    "      <backingStore/>\n",
    "      <target dev='vda' bus='virtio'/>\n",
    "      <readonly/>\n",
    "      <alias name='virtio-disk0'/>\n",
    "      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n",
    "    </disk>\n",
    "    <disk type='block' device='disk'>\n",
    "      <driver name='qemu' type='raw'/>\n",
    "      <source dev='/dev/mapper/sb-data' index='1'/>\n",
    "      <backingStore/>\n",
    "      <target dev='vdb' bus='virtio'/>\n",
    "      <alias name='virtio-disk1'/>\n",
    "      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>\n",
    "    </disk>\n",
    "    <controller type='usb' index='0' model='none'>\n",
    "      <alias name='usb'/>\n",
    "    </controller>\n",
    "    <controller type='sata' index='0'>\n",
    "      <alias name='ide'/>\n",
    "      <address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/>\n",
    "    </controller>\n",
    "    <controller type='pci' index='0' model='pcie-root'>\n",
    "      <alias name='pcie.0'/>\n",
    "    </controller>\n",
    "    <controller type='pci' index='1' model='pcie-root-port'>\n",
    "      <model name='pcie-root-port'/>\n",
    "      <target chassis='1' port='0x8' hotplug='off'/>\n",
    "      <alias name='pci.1'/>\n",
    "      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0' "
    "multifunction='on'/>\n",
    "    </controller>\n",
    "    <controller type='pci' index='2' model='pcie-root-port'>\n",
    "      <model name='pcie-root-port'/>\n",
    "      <target chassis='2' port='0x9' hotplug='off'/>\n",
    "      <alias name='pci.2'/>\n",
    "      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x1'/>\n",
    "    </controller>\n",
    "    <controller type='pci' index='3' model='pcie-root-port'>\n",
    "      <model name='pcie-root-port'/>\n",
    "      <target chassis='3' port='0xa' hotplug='off'/>\n",
    "      <alias name='pci.3'/>\n",
    "      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/>\n",
    "    </controller>\n",
    "    <serial type='file'>\n",
    "      <source path='/var/log/sealboot/console.log'/>\n",
    "      <target type='isa-serial' port='0'>\n",
    "        <model name='isa-serial'/>\n",
    "      </target>\n",
    "      <alias name='serial0'/>\n",
    "    </serial>\n",
    "    <console type='file'>\n",
    "      <source path='/var/log/sealboot/console.log'/>\n",
    "      <target type='serial' port='0'/>\n",
    "      <alias name='serial0'/>\n",
    "    </console>\n",
    "    <input type='mouse' bus='ps2'>\n",
    "      <alias name='input0'/>\n",
    "    </input>\n",
    "    <input type='keyboard' bus='ps2'>\n",
    "      <alias name='input1'/>\n",
    "    </input>\n",
    "    <tpm model='tpm-crb'>\n",
    "      <backend type='emulator' version='2.0'/>\n",
    "      <alias name='tpm0'/>\n",
    "    </tpm>\n",
    "    <audio id='1' type='none'/>\n",
    "    <video>\n",
    "      <model type='none'/>\n",
    "      <alias name='video0'/>\n",
    "    </video>\n",
    "    <memballoon model='none'/>\n",
    "    <rng model='virtio'>\n",
    "      <backend model='random'>/dev/urandom</backend>\n",
    "      <alias name='rng0'/>\n",
    "      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>\n",
    "    </rng>\n",
    "  </devices>\n",
    "  <seclabel type='dynamic' model='apparmor' relabel='yes'>\n",
    "    <label>libvirt-6f1d3e0a-2b7c-4d1e-9a51-3c2f0b7e8d41</label>\n",
    "    <imagelabel>libvirt-6f1d3e0a-2b7c-4d1e-9a51-3c2f0b7e8d41</imagelabel>\n",
    "  </seclabel>\n",
    "  <seclabel type='dynamic' model='dac' relabel='yes'>\n",
    "    <label>+64055:+64055</label>\n",
    "    <imagelabel>+64055:+64055</imagelabel>\n",
    "  </seclabel>\n",
    "</domain>\n",
    NULL,
};
static char live_clean[8192];

static int setup_fixture(void **state)
{
	size_t n = 0;

	for (size_t i = 0; live_lines[i]; i++) {
		size_t l = strlen(live_lines[i]);

		if (n + l >= sizeof(live_clean))
			return -1;
		memcpy(live_clean + n, live_lines[i], l);
		n += l;
	}
	live_clean[n] = 0;
	return 0;
}

/* live_clean with the one occurrence of `from` replaced by `to`. */
static char *edit(const char *xml, const char *from, const char *to)
{
	const char *at = strstr(xml, from);
	size_t n;
	char *out;

	if (!at || strstr(at + 1, from))
		fail_msg("fixture edit: '%s' not found exactly once", from);
	n = strlen(xml) - strlen(from) + strlen(to) + 1;
	out = malloc(n);
	if (!out)
		abort();
	snprintf(out, n, "%.*s%s%s", (int)(at - xml), xml, to, at + strlen(from));
	return out;
}

/* A device added at the end of <devices>. */
static char *inject(const char *device)
{
	char *to = malloc(strlen(device) + 16);
	char *out;

	if (!to)
		abort();
	sprintf(to, "%s</devices>", device);
	out = edit(live_clean, "</devices>", to);
	free(to);
	return out;
}

static int audit(const char *xml, const struct spec *s, char *off, size_t offsz, struct diag *d)
{
	return audit_live_xml(xml, strlen(xml), s, off, offsz, d);
}

static void test_clean_passes(void **state)
{
	struct spec s;
	struct diag d = {0};
	char off[128] = "junk";

	spec_fixture(&s);
	assert_int_equal(audit(live_clean, &s, off, sizeof(off), &d), 0);
	assert_int_equal(d.cls, DIAG_NONE);
	assert_string_equal(off, "");
	spec_free_members(&s);
}

/* What domxml writes passes its own audit (the inactive XML has no PCI
 * topology yet, and that must not matter). */
static void test_domxml_output_passes(void **state)
{
	for (int v = 0; v < 3; v++) {
		struct spec s;
		struct diag d = {0};
		char off[128], *xml = NULL;

		spec_fixture(&s);
		if (v == 1) {
			s.net = SPEC_NET_BRIDGED;
			s.net_source = xstrdup("br0");
			s.rng = s.vtpm = false;
			s.virt = SPEC_VIRT_TCG;
		} else if (v == 2) {
			s.net = SPEC_NET_ISOLATED;
			s.net_source = xstrdup("sealboot-isolated");
			free(s.console_log);
			s.console_log = NULL;
		}
		assert_int_equal(domxml_build(&s, &xml, &d), 0);
		if (audit(xml, &s, off, sizeof(off), &d) != 0)
			fail_msg("variant %d: %s", v, d.msg);
		free(xml);
		spec_free_members(&s);
	}
}

struct offender {
	const char *what;
	const char *from, *to; /* edit live_clean: from -> to; from NULL: inject `to` */
	const char *expect;    /* the exact offender */
};

static const struct offender offenders[] = {
    {"pci passthrough", NULL,
     "<hostdev mode='subsystem' type='pci' managed='yes'><driver name='vfio'/>"
     "<source><address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source>"
     "<alias name='hostdev0'/><address type='pci' domain='0x0000' bus='0x05' "
     "slot='0x00' function='0x0'/></hostdev>",
     "hostdev (pci 0000:03:00.0)"},
    {"usb passthrough", NULL,
     "<hostdev mode='subsystem' type='usb' managed='yes'><source><vendor id='0x0781'/>"
     "<product id='0x5567'/></source></hostdev>",
     "hostdev (usb 0x0781:0x5567)"},
    {"extra disk", NULL,
     "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
     "<source file='/var/lib/x.img' index='3'/><backingStore/>"
     "<target dev='vdc' bus='virtio'/><alias name='virtio-disk2'/></disk>",
     "disk vdc (/var/lib/x.img)"},
    {"cdrom", NULL,
     "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
     "<target dev='sda' bus='sata'/><readonly/></disk>",
     "disk sda (no source)"},
    {"second disk on vda", NULL,
     "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
     "<source file='/var/lib/sealboot/bundles/app/disk.img'/>"
     "<target dev='vda' bus='virtio'/><readonly/></disk>",
     "disk vda (/var/lib/sealboot/bundles/app/disk.img): a second disk on that target"},
    {"readonly dropped", "      <readonly/>\n", "",
     "disk vda (/var/lib/sealboot/bundles/app/disk.img): writable, spec: read-only"},
    {"image swapped", "file='/var/lib/sealboot/bundles/app/disk.img'", "file='/var/lib/evil.img'",
     "disk vda (/var/lib/evil.img): spec: /var/lib/sealboot/bundles/app/disk.img"},
    {"backing file", "<backingStore/>\n      <target dev='vda'",
     "<backingStore type='file'><format type='qcow2'/><source file='/x.qcow2'/>"
     "</backingStore><target dev='vda'",
     "disk vda (/var/lib/sealboot/bundles/app/disk.img): has a backing store"},
    {"disk on usb bus", "<target dev='vdb' bus='virtio'/>", "<target dev='vdb' bus='usb'/>",
     "disk vdb (/dev/mapper/sb-data): bus usb, spec: virtio"},
    {"shareable disk", "<target dev='vdb' bus='virtio'/>",
     "<target dev='vdb' bus='virtio'/><shareable/>",
     "disk vdb (/dev/mapper/sb-data): unexpected <shareable>"},
    {"usb controller qemu-xhci", "<controller type='usb' index='0' model='none'>",
     "<controller type='usb' index='0' model='qemu-xhci' ports='15'>",
     "controller usb (qemu-xhci)"},
    {"virtio-serial controller", NULL,
     "<controller type='virtio-serial' index='0'><alias name='virtio-serial0'/>"
     "</controller>",
     "controller virtio-serial (default model)"},
    {"second sata controller", NULL, "<controller type='sata' index='1'/>",
     "controller sata (index 1)"},
    {"graphics vnc", NULL,
     "<graphics type='vnc' port='5900' autoport='yes' listen='0.0.0.0'>"
     "<listen type='address' address='0.0.0.0'/></graphics>",
     "graphics (vnc)"},
    {"sound", NULL, "<sound model='ich9'><alias name='sound0'/></sound>", "sound (ich9)"},
    {"interface when none", NULL,
     "<interface type='network'><mac address='52:54:00:12:34:56'/>"
     "<source network='default' portid='1c9b' bridge='virbr0'/><target dev='vnet0'/>"
     "<model type='virtio'/><alias name='net0'/></interface>",
     "interface (network default)"},
    {"memballoon virtio", "<memballoon model='none'/>",
     "<memballoon model='virtio'><alias name='balloon0'/></memballoon>", "memballoon (virtio)"},
    {"usb tablet", NULL, "<input type='tablet' bus='usb'><alias name='input2'/></input>",
     "input tablet (usb)"},
    {"second ps2 keyboard", NULL, "<input type='keyboard' bus='ps2'/>", "input keyboard (ps2)"},
    {"channel spicevmc", NULL,
     "<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/>"
     "</channel>",
     "channel (spicevmc com.redhat.spice.0)"},
    {"video cirrus", "<model type='none'/>", "<model type='cirrus' vram='16384'/>",
     "video (cirrus)"},
    {"audio backend", "<audio id='1' type='none'/>", "<audio id='1' type='pulseaudio'/>",
     "audio (pulseaudio)"},
    {"watchdog", NULL, "<watchdog model='i6300esb' action='reset'/>", "watchdog (i6300esb)"},
    {"shared filesystem", NULL,
     "<filesystem type='mount' accessmode='passthrough'><source dir='/'/>"
     "<target dir='host'/></filesystem>",
     "filesystem (mount)"},
    {"serial to a pty",
     "<serial type='file'>\n      <source path='/var/log/sealboot/console.log'/>",
     "<serial type='pty'>\n      <source path='/dev/pts/3'/>",
     "serial (pty /dev/pts/3): spec: file /var/log/sealboot/console.log"},
    {"second serial", NULL,
     "<serial type='tcp'><source mode='bind' host='0.0.0.0' service='4444'/>"
     "<target port='1'/></serial>",
     "serial (tcp -)"},
    {"virtio console", NULL, "<console type='pty'><target type='virtio' port='1'/></console>",
     "console (pty -)"},
    {"rng from hardware", "<backend model='random'>/dev/urandom</backend>",
     "<backend model='random'>/dev/hwrng</backend>",
     "rng (virtio random): spec: virtio from /dev/urandom"},
    {"rng without backend", "<backend model='random'>/dev/urandom</backend>", "",
     "rng (virtio -): spec: virtio from /dev/urandom"},
    {"tpm passthrough", "<backend type='emulator' version='2.0'/>",
     "<backend type='passthrough'><device path='/dev/tpm0'/></backend>",
     "tpm (tpm-crb passthrough): spec: tpm-crb, emulator 2.0"},
    {"qemu:commandline", "</devices>",
     "</devices><qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
     "<qemu:arg value='-device'/><qemu:arg value='vfio-pci,host=03:00.0'/>"
     "</qemu:commandline>",
     "qemu:commandline (foreign namespace)"},
    {"spare root port", NULL,
     "<controller type='pci' index='4' model='pcie-root-port'><model name='pcie-root-port'/>"
     "<target chassis='4' port='0xb' hotplug='off'/><alias name='pci.4'/></controller>",
     "controller pci: 4 pcie-root-ports for 3 PCIe devices (a spare port is a hot-plug "
     "slot)"},
    {"root port hot-plug on", "<target chassis='2' port='0x9' hotplug='off'/>",
     "<target chassis='2' port='0x9'/>", "controller pci (pcie-root-port index 2): hot-plug on"},
    {"root port hot-plug explicitly on", "<target chassis='2' port='0x9' hotplug='off'/>",
     "<target chassis='2' port='0x9' hotplug='on'/>",
     "controller pci (pcie-root-port index 2): hot-plug on"},
    {"ioh3420 root port", "<model name='pcie-root-port'/>\n      <target chassis='3'",
     "<model name='ioh3420'/>\n      <target chassis='3'",
     "controller pci (pcie-root-port index 3): model ioh3420"},
    {"pci bridge", NULL,
     "<controller type='pci' index='5' model='pcie-to-pci-bridge'><alias name='pci.5'/>"
     "</controller>",
     "controller pci (pcie-to-pci-bridge)"},
    {"second pcie-root", NULL, "<controller type='pci' index='6' model='pcie-root'/>",
     "controller pci (pcie-root index 6)"},
    {"vmport on", "<vmport state='off'/>", "<vmport state='on'/>", "features: vmport on"},
    {"vmport default", "    <vmport state='off'/>\n", "", "features: vmport not off"},
    {"no features", "  <features>\n    <acpi/>\n    <vmport state='off'/>\n  </features>\n", "",
     "features: vmport not off"},
    {"smm feature", "<vmport state='off'/>", "<vmport state='off'/><smm state='on'/>",
     "features: unexpected <smm>"},
    {"hyperv feature", "<acpi/>", "<acpi/><hyperv mode='passthrough'/>",
     "features: unexpected <hyperv>"},
    {"vcpus", "<vcpu placement='static'>2</vcpu>", "<vcpu placement='static'>4</vcpu>",
     "vcpu 4 (spec: 2)"},
    {"vcpu hotplug", "<vcpu placement='static'>2</vcpu>",
     "<vcpu placement='static' current='1'>2</vcpu>", "vcpu current 1 (spec: 2)"},
    {"memory", "<memory unit='KiB'>2097152</memory>", "<memory unit='KiB'>4194304</memory>",
     "memory 4194304 KiB (spec: 2048 MiB)"},
    {"name", "<name>workload</name>", "<name>other</name>", "domain name other (spec: workload)"},
    {"disk missing",
     "    <disk type='block' device='disk'>\n"
     "      <driver name='qemu' type='raw'/>\n"
     "      <source dev='/dev/mapper/sb-data' index='1'/>\n"
     "      <backingStore/>\n"
     "      <target dev='vdb' bus='virtio'/>\n"
     "      <alias name='virtio-disk1'/>\n"
     "      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>\n"
     "    </disk>\n",
     "", "disk vdb (/dev/mapper/sb-data): missing"},
    {"tpm missing",
     "    <tpm model='tpm-crb'>\n"
     "      <backend type='emulator' version='2.0'/>\n"
     "      <alias name='tpm0'/>\n"
     "    </tpm>\n",
     "", "tpm (tpm-crb): missing"},
};

static void test_offenders(void **state)
{
	for (size_t i = 0; i < sizeof(offenders) / sizeof(offenders[0]); i++) {
		const struct offender *t = &offenders[i];
		struct spec s;
		struct diag d = {0};
		char off[128] = "", *xml;
		int r;

		spec_fixture(&s);
		xml = t->from ? edit(live_clean, t->from, t->to) : inject(t->to);
		r = audit(xml, &s, off, sizeof(off), &d);
		if (r != -EPERM || d.cls != DIAG_CONTENT || strcmp(off, t->expect) != 0)
			fail_msg("%s: r=%d class=%s offender '%s', expected -EPERM content '%s'",
				 t->what, r, diag_class_name(d.cls), off, t->expect);
		assert_non_null(strstr(d.msg, t->expect));
		assert_null(strchr(d.msg, '\n'));
		free(xml);
		spec_free_members(&s);
	}
}

/* The same live domain under a spec that asked for TCG. */
static void test_kvm_vs_qemu(void **state)
{
	struct spec s;
	struct diag d = {0};
	char off[128];

	spec_fixture(&s);
	s.virt = SPEC_VIRT_TCG;
	assert_int_equal(audit(live_clean, &s, off, sizeof(off), &d), -EPERM);
	assert_string_equal(off, "domain type kvm (spec: qemu)");
	assert_int_equal(d.cls, DIAG_CONTENT);
	spec_free_members(&s);
}

/* Devices the spec did not ask for are offenders even when they are
 * otherwise exactly right. */
static void test_spec_without_extras(void **state)
{
	struct spec s;
	struct diag d = {0};
	char off[128];

	spec_fixture(&s);
	s.rng = false;
	assert_int_equal(audit(live_clean, &s, off, sizeof(off), &d), -EPERM);
	assert_string_equal(off, "rng (virtio random)");
	spec_free_members(&s);

	d = (struct diag){0};
	spec_fixture(&s);
	s.vtpm = false;
	assert_int_equal(audit(live_clean, &s, off, sizeof(off), &d), -EPERM);
	assert_string_equal(off, "tpm (tpm-crb emulator)");
	spec_free_members(&s);

	d = (struct diag){0};
	spec_fixture(&s);
	free(s.console_log);
	s.console_log = NULL;
	assert_int_equal(audit(live_clean, &s, off, sizeof(off), &d), -EPERM);
	assert_string_equal(off, "serial (file /var/log/sealboot/console.log)");
	spec_free_members(&s);

	/* and a disk the spec has read-write is not allowed read-only either */
	d = (struct diag){0};
	spec_fixture(&s);
	s.disks[0].readonly = false;
	assert_int_equal(audit(live_clean, &s, off, sizeof(off), &d), -EPERM);
	assert_string_equal(off,
			    "disk vda (/var/lib/sealboot/bundles/app/disk.img): read-only, spec: "
			    "writable");
	spec_free_members(&s);
}

static void test_interface(void **state)
{
	static const char iface[] =
	    "<interface type='bridge'><mac address='52:54:00:aa:bb:cc'/>"
	    "<source bridge='br0'/><target dev='vnet3'/><model type='virtio'/>"
	    "<alias name='net0'/><address type='pci' domain='0x0000' bus='0x01' slot='0x00' "
	    "function='0x0'/></interface>";
	struct spec s;
	struct diag d = {0};
	char off[128], *xml = inject(iface), *two, *other;

	spec_fixture(&s);
	s.net = SPEC_NET_BRIDGED;
	s.net_source = xstrdup("br0");
	assert_int_equal(audit(xml, &s, off, sizeof(off), &d), 0);
	/* without it: missing */
	assert_int_equal(audit(live_clean, &s, off, sizeof(off), &d), -EPERM);
	assert_string_equal(off, "interface (bridge br0): missing");
	/* twice: the second is an offender */
	two = edit(xml, "</devices>",
		   "<interface type='bridge'><source bridge='br0'/>"
		   "<model type='virtio'/></interface></devices>");
	d = (struct diag){0};
	assert_int_equal(audit(two, &s, off, sizeof(off), &d), -EPERM);
	assert_string_equal(off, "interface (bridge br0)");
	/* another bridge */
	other = edit(xml, "<source bridge='br0'/>", "<source bridge='br1'/>");
	d = (struct diag){0};
	assert_int_equal(audit(other, &s, off, sizeof(off), &d), -EPERM);
	assert_string_equal(off, "interface (bridge br1): spec: bridge br0");
	free(other);
	/* e1000 instead of virtio */
	other = edit(xml, "<model type='virtio'/>", "<model type='e1000e'/>");
	d = (struct diag){0};
	assert_int_equal(audit(other, &s, off, sizeof(off), &d), -EPERM);
	assert_string_equal(off, "interface (bridge br0): model e1000e, spec: virtio");
	free(other);
	free(two);
	free(xml);
	spec_free_members(&s);
}

/* Units libvirt may use for <memory>. */
static void test_memory_units(void **state)
{
	static const char *const same[] = {
	    "<memory unit='MiB'>2048</memory>",
	    "<memory unit='G'>2</memory>",
	    "<memory>2097152</memory>",
	    "<memory unit='bytes'>2147483648</memory>",
	};
	struct spec s;

	spec_fixture(&s);
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		struct diag d = {0};
		char off[128];
		char *xml = edit(live_clean, "<memory unit='KiB'>2097152</memory>", same[i]);

		if (audit(xml, &s, off, sizeof(off), &d) != 0)
			fail_msg("%s: %s", same[i], d.msg);
		free(xml);
	}
	spec_free_members(&s);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *what, *from, *to;
	} bad[] = {
	    {"unclosed", "</domain>\n", ""},
	    {"mismatched tag", "</devices>", "</device>"},
	    {"external entity (XXE)", "<domain type='kvm' id='7'>",
	     "<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
	     "<domain type='kvm' id='7'><description>&x;</description>"},
	    {"internal DTD", "<domain type='kvm' id='7'>",
	     "<!DOCTYPE domain [<!ELEMENT domain ANY>]><domain type='kvm' id='7'>"},
	    {"undefined entity", "<name>workload</name>", "<name>&wl;</name>"},
	    {"not a domain", "<domain type='kvm' id='7'>", "<network type='kvm' id='7'>"},
	    {"no vcpu", "  <vcpu placement='static'>2</vcpu>\n", ""},
	};
	struct spec s;

	spec_fixture(&s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct diag d = {0};
		char off[128] = "junk";
		char *xml = edit(live_clean, bad[i].from, bad[i].to);
		int r;

		if (strcmp(bad[i].what, "not a domain") == 0) {
			char *fixed = edit(xml, "</domain>", "</network>");

			free(xml);
			xml = fixed;
		}
		r = audit(xml, &s, off, sizeof(off), &d);
		if (r != -EBADMSG || d.cls != DIAG_MALFORMED)
			fail_msg("%s: r=%d class=%s '%s'", bad[i].what, r, diag_class_name(d.cls),
				 d.msg);
		assert_string_equal(off, "");
		assert_null(strchr(d.msg, '\n'));
		free(xml);
	}
	{
		struct diag d = {0};

		assert_int_equal(audit_live_xml(live_clean, 0, &s, NULL, 0, &d), -EBADMSG);
		d = (struct diag){0};
		/* a truncated buffer is malformed, not read past */
		assert_int_equal(audit_live_xml(live_clean, 100, &s, NULL, 0, &d), -EBADMSG);
		d = (struct diag){0};
		assert_int_equal(audit_live_xml(NULL, 10, &s, NULL, 0, &d), -EINVAL);
		d = (struct diag){0};
		s.vcpus = 0;
		assert_int_equal(audit(live_clean, &s, NULL, 0, &d), -EINVAL);
		assert_int_equal(d.cls, DIAG_USAGE);
	}
	spec_free_members(&s);
}

/* A hostile value cannot put control characters into the report. */
static void test_offender_is_printable(void **state)
{
	struct spec s;
	struct diag d = {0};
	char off[24], *xml = inject("<graphics type='vnc&#10;[31m&#9;x\xc3\xa9'/>");

	spec_fixture(&s);
	assert_int_equal(audit(xml, &s, off, sizeof(off), &d), -EPERM);
	assert_string_equal(off, "graphics (vnc?[31m?x?"
				 "?)");
	for (const char *p = d.msg; *p; p++)
		assert_true(*p >= 0x20 && *p <= 0x7e);
	free(xml);
	spec_free_members(&s);
}

/* libvirt's taint flags and persistence: any taint, a definition. */
static void test_libvirt_state(void **state)
{
	static const char *const monitor[] = {"tainted: custom monitor control commands issued"};
	static const char *const two[] = {"tainted: custom configuration parameters specified",
					  "tainted: custom monitor control commands issued"};
	static const char *const odd[] = {"something\tnew\x1b[31m"};
	struct diag d = {0};
	char off[128] = "junk";

	assert_int_equal(audit_libvirt_state(NULL, 0, false, off, sizeof(off), &d), 0);
	assert_string_equal(off, "");
	assert_int_equal(d.cls, DIAG_NONE);

	assert_int_equal(audit_libvirt_state(monitor, 1, false, off, sizeof(off), &d), -EPERM);
	assert_string_equal(off, "taint (custom monitor control commands issued)");
	assert_int_equal(d.cls, DIAG_CONTENT);
	assert_non_null(strstr(d.msg, off));

	d = (struct diag){0};
	assert_int_equal(audit_libvirt_state(two, 2, true, off, sizeof(off), &d), -EPERM);
	assert_string_equal(off, "taint (custom configuration parameters specified)");

	d = (struct diag){0};
	assert_int_equal(audit_libvirt_state(odd, 1, false, off, sizeof(off), &d), -EPERM);
	assert_string_equal(off, "taint (something?new?[31m)");

	d = (struct diag){0};
	assert_int_equal(audit_libvirt_state(NULL, 0, true, off, sizeof(off), &d), -EPERM);
	assert_string_equal(off, "persistent definition (defined behind the launcher)");

	d = (struct diag){0};
	assert_int_equal(audit_libvirt_state(NULL, 1, false, off, sizeof(off), &d), -EINVAL);
	assert_int_equal(d.cls, DIAG_USAGE);
}

/* The accelerator is read from the parsed root element, not from the
 * text's first bytes: attribute order, a comment or spacing do not fool it. */
static void test_domain_virt(void **state)
{
	static const struct {
		const char *xml;
		int r;
		enum spec_virt virt;
	} cases[] = {
	    {"<domain type='kvm' id='3'><name>g</name></domain>", 0, SPEC_VIRT_KVM},
	    {"<domain type='qemu'><name>g</name></domain>", 0, SPEC_VIRT_TCG},
	    {"<domain id='3' type='kvm'/>", 0, SPEC_VIRT_KVM},
	    {"<?xml version='1.0'?>\n<!-- c --><domain  type=\"kvm\"/>", 0, SPEC_VIRT_KVM},
	    {"<domain type='hvf'/>", -EINVAL, SPEC_VIRT_TCG},
	    {"<domain/>", -EINVAL, SPEC_VIRT_TCG},
	    {"<domainx type='kvm'/>", -EBADMSG, SPEC_VIRT_TCG},
	    {"<domain type='kvm'", -EBADMSG, SPEC_VIRT_TCG},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum spec_virt v = SPEC_VIRT_TCG;
		struct diag d = {0};

		assert_int_equal(audit_domain_virt(cases[i].xml, strlen(cases[i].xml), &v, &d),
				 cases[i].r);
		assert_int_equal(v, cases[i].virt);
		if (cases[i].r == -EINVAL)
			assert_int_equal(d.cls, DIAG_CONTENT);
		if (cases[i].r == -EBADMSG)
			assert_int_equal(d.cls, DIAG_MALFORMED);
	}
	/* the builder's words and the reader's agree */
	for (int k = SPEC_VIRT_KVM; k <= SPEC_VIRT_TCG; k++) {
		enum spec_virt v;

		assert_int_equal(domxml_virt_of_type(domxml_virt_type((enum spec_virt)k), &v), 0);
		assert_int_equal(v, k);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean_passes),
	    cmocka_unit_test(test_domxml_output_passes),
	    cmocka_unit_test(test_offenders),
	    cmocka_unit_test(test_kvm_vs_qemu),
	    cmocka_unit_test(test_spec_without_extras),
	    cmocka_unit_test(test_interface),
	    cmocka_unit_test(test_memory_units),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_offender_is_printable),
	    cmocka_unit_test(test_libvirt_state),
	    cmocka_unit_test(test_domain_virt),
	};
	int r = cmocka_run_group_tests(tests, setup_fixture, NULL);

	xmlCleanupParser();
	return r;
}
