/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>

#include "diag.h"
#include "spec.h"

/*
 * struct spec -> libvirt domain XML (pure: no libvirt call, no file).
 *
 * The domain is a q35 x86_64 guest whose device list is exactly the spec's,
 * with every device libvirt would otherwise add by default made explicitly
 * absent (USB controller, memory balloon, video), QEMU's VMware backdoor
 * port and vmmouse off (<features><vmport state='off'/>), and the PCIe
 * topology written out: pcie-root and exactly one pcie-root-port per PCIe
 * device (domxml_pcie_ports), each with <target hotplug='off'/>. libvirt
 * then adds no spare root port (it adds one only when it lays the ports out
 * itself), so a device hot-plug finds no slot and QEMU refuses one on
 * pcie.0: hot-plug fails at the source. What q35 itself forces and
 * cannot be removed (pcie-root, the ICH9 SATA controller, the i8042 PS/2
 * keyboard and mouse) is left to libvirt and allowed, by name, in audit.h.
 * Every attribute and text is written through libxml2's xmlTextWriter, which
 * escapes it; the spec is also checked first, so nothing unexpected gets that
 * far.
 */

/* Sanity bounds; the same as the appliance policy's guest bounds
 * (policy.h), so every guest a valid policy describes can be built. */
#define DOMXML_VCPUS_MAX 256
#define DOMXML_MEMORY_MIB_MIN 64
#define DOMXML_MEMORY_MIB_MAX 1048576
#define DOMXML_PATH_MAX 4095	/* disks, kernel, initrd, console log: PATH_MAX - 1 */
#define DOMXML_CMDLINE_MAX 2047 /* x86 COMMAND_LINE_SIZE is 2048 with the NUL */
#define DOMXML_BRIDGE_MAX 15	/* IFNAMSIZ - 1 */
#define DOMXML_NETWORK_MAX 63

/*
 * Is the spec self-consistent? 0, or -EINVAL with d set (DIAG_USAGE) to one
 * line naming the member, e.g. "spec: disk 2 (vdc): duplicate target".
 * Rules: name 1..SPEC_NAME_MAX-1 of [A-Za-z0-9._-] starting with a letter or
 * digit; vcpus 1..DOMXML_VCPUS_MAX; memory DOMXML_MEMORY_MIB_MIN..MAX;
 * n_disks <= SPEC_MAX_DISKS; every path (disks, kernel, initrd, console_log)
 * absolute, normalized (no "." / ".." / empty component, no trailing '/')
 * and of [A-Za-z0-9._+/-]; disk targets "vd" + 1 or 2 of [a-z], unique;
 * disk paths unique; initrd/cmdline only with a kernel; cmdline printable
 * ASCII; something to boot (a kernel or a disk); net_source set exactly when
 * the network is isolated or bridged, of [A-Za-z0-9._-], at most 15 bytes
 * for a bridge and 63 for a network.
 */
int domxml_check_spec(const struct spec *s, struct diag *d);

/* How many PCIe root ports the domain of s has: one per virtio disk, the
 * NIC and the rng (each a PCIe device on its own port); the vTPM (CRB),
 * the serial port and the PS/2 inputs are not on PCIe. */
unsigned domxml_pcie_ports(const struct spec *s);

/* The <domain type=...> of an accelerator ("kvm", "qemu"), and back: 0, or
 * -EINVAL for a type the launcher never writes. The audit and the launcher
 * read the live domain's type with these. */
const char *domxml_virt_type(enum spec_virt v);
int domxml_virt_of_type(const char *type, enum spec_virt *ret);

/*
 * Write the domain XML for s. On success *ret_xml is a NUL-terminated string
 * the caller frees with free(). Errors: -EINVAL (spec, see above,
 * DIAG_USAGE), -ENOMEM / -EIO (DIAG_INTERNAL).
 */
int domxml_build(const struct spec *s, char **ret_xml, struct diag *d);
