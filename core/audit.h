/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>

#include "diag.h"
#include "spec.h"

/*
 * Audit a running domain's XML (virDomainGetXMLDesc of the live domain)
 * against the spec it was started from. Pure: bytes in, verdict out.
 *
 * It proves that the guest has every device it needs and nothing else. Each
 * child of <devices> must be on an ALLOW-LIST; anything not named here is an
 * offender, including device kinds that do not exist yet:
 *  - <emulator>;
 *  - each spec disk exactly once: same target (bus virtio), device 'disk',
 *    type file/block, source path, raw driver, read-only flag, and an empty
 *    <backingStore/> (nothing else behind the image);
 *  - the spec's interface (type network/bridge, that source, model virtio),
 *    only when the spec has one;
 *  - serial port 0 and its <console> mirror, type 'file' to the spec's
 *    console_log, only when it is set;
 *  - <rng model='virtio'> from /dev/urandom if spec.rng; <tpm model=
 *    'tpm-crb'> with an emulator 2.0 backend if spec.vtpm;
 *  - what q35 always has and cannot remove: <controller type='pci'> (any
 *    model: the PCIe topology libvirt lays out), <controller type='sata'
 *    index='0'> (ICH9's built-in AHCI), and at most one each of <input
 *    type='keyboard' bus='ps2'> and <input type='mouse' bus='ps2'> (the
 *    i8042 on the board);
 *  - the explicit absences domxml writes: <controller type='usb'
 *    model='none'>, <memballoon model='none'>, <video> with only <model
 *    type='none'>, and <audio type='none'> should libvirt add one.
 * A virtio-serial controller is NOT allowed: it only carries channels and
 * virtio consoles, which a spec never has. Within an allowed device only the
 * children listed in audit.c are accepted (plus <alias> and <address>).
 * Elements of another namespace are refused at the top level and inside
 * <devices> (<qemu:commandline> can add any device behind libvirt's back).
 * The PCIe topology is pcie-root and exactly domxml_pcie_ports(s)
 * pcie-root-ports, each with <target hotplug='off'/> (a spare port is a
 * hot-plug slot: "controller pci: 4 pcie-root-ports for 3 PCIe devices
 * ..."); any other PCI controller is an offender. <features> holds <acpi/>
 * and <vmport state='off'/> and nothing else ("features: vmport not off",
 * "features: unexpected <smm>").
 * The domain's type, name, vcpu count and memory must match the spec, and
 * every device the spec asks for must be there.
 *
 * Returns 0 when the domain matches; -EPERM (DIAG_CONTENT) for an offender
 * or a mismatch, with ret_offender (when not NULL) set to a short
 * description, e.g. "hostdev (pci 0000:03:00.0)", "disk vdc (/var/lib/x.img)",
 * "graphics (vnc)"; -EBADMSG (DIAG_MALFORMED) for XML that is malformed, has
 * a DTD or is not a domain; -EINVAL (DIAG_USAGE) for a bad spec
 * (domxml_check_spec) or arguments; -ENOMEM. ret_offender is set to "" on
 * any other outcome. The XML is parsed with no network, no DTD and no
 * entity substitution.
 */
int audit_live_xml(const char *xml, size_t len, const struct spec *s, char *ret_offender,
		   size_t offender_size, struct diag *d);

/*
 * The accelerator the live domain runs under: its root <domain type=...>,
 * read by the same parser as audit_live_xml(). 0; -EBADMSG (DIAG_MALFORMED)
 * for XML that is malformed, has a DTD or is not a domain; -EINVAL
 * (DIAG_CONTENT) for a type the launcher never writes; -ENOMEM.
 */
int audit_domain_virt(const char *xml, size_t len, enum spec_virt *ret, struct diag *d);

/*
 * What libvirt knows about the domain beyond its XML (pure: the adapter
 * reads them). taints: the domain's tainting messages, as
 * virDomainGetMessages(VIR_DOMAIN_MESSAGE_TAINTING) returns them (libvirt >=
 * 7.1), e.g. "tainted: custom monitor control commands issued"; persistent:
 * whether the domain has a persistent definition.
 *
 * Any taint is an offender, whatever its kind: libvirt taints a domain when
 * something reached QEMU around its XML (monitor or agent passthrough,
 * custom argv, a hook or shell script, host privileges), and what that did
 * the XML cannot show. "taint (custom monitor control commands issued)".
 * A persistent definition is an offender too: the launcher's domains are
 * transient, so one means someone ran `virsh define` under the guest's
 * name ("persistent definition (defined behind the launcher)").
 *
 * 0 clean; -EPERM (DIAG_CONTENT) with ret_offender set; -EINVAL
 * (DIAG_USAGE) for n_taints > 0 with taints NULL.
 */
int audit_libvirt_state(const char *const *taints, size_t n_taints, bool persistent,
			char *ret_offender, size_t offender_size, struct diag *d);
