/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * What the launcher will start: the guest's whole device set, decided from
 * the signed policy's device profile, the verified bundles and the opened
 * volumes (docs/formats/device-profile.md). Pure data. domxml.h turns it
 * into libvirt domain XML in which everything not listed here is explicitly
 * absent; audit.h checks a live domain's XML against it.
 */

#define SPEC_MAX_DISKS 16
#define SPEC_NAME_MAX 64

enum spec_virt {
	SPEC_VIRT_KVM, /* <domain type='kvm'>, hardware acceleration */
	SPEC_VIRT_TCG, /* <domain type='qemu'>, emulation */
};

enum spec_net {
	SPEC_NET_NONE,	   /* no interface at all */
	SPEC_NET_ISOLATED, /* one virtio NIC on a libvirt network with no forward */
	SPEC_NET_BRIDGED,  /* one virtio NIC on host bridge `bridge` */
};

struct spec_disk {
	char *path;	/* absolute host path: a verified payload or /dev/mapper/NAME */
	char target[8]; /* "vda", "vdb", ... in order */
	bool readonly;	/* verified images are attached read-only */
	bool block;	/* a block device (mapping) rather than a regular file */
};

struct spec {
	char name[SPEC_NAME_MAX]; /* libvirt domain name, [A-Za-z0-9._-] */
	enum spec_virt virt;
	unsigned vcpus;
	uint64_t memory_mib;
	/* Direct kernel boot when kernel is set (from a verified bundle);
	 * otherwise boot from the first disk. */
	char *kernel, *initrd, *cmdline;
	struct spec_disk disks[SPEC_MAX_DISKS];
	size_t n_disks;
	enum spec_net net;
	char *net_source;  /* bridge name (BRIDGED) or libvirt network name (ISOLATED) */
	char *console_log; /* serial console to this file; NULL: no serial at all */
	bool rng;	   /* virtio-rng from /dev/urandom */
	bool vtpm;	   /* an emulated TPM (swtpm) for the guest */
};

void spec_free_members(struct spec *s);
