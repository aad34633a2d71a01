/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>

#include "appliance.h"
#include "diag.h"
#include "handoff.h"
#include "spec.h"

/*
 * From the measured state to the guest's spec: load the handoff, the event
 * log and the policy; check them against each other and the TPM
 * (handoff_check); check each bundle's manifest is the measured one; then
 * derive the spec from the policy's device profile, the bundles' payloads
 * and the opened volumes (docs/formats/device-profile.md). Each volume's
 * device, mapping and UUID must be the policy's. A disk the anchor made a
 * dm-verity device (handoff method "verity") is attached as that block
 * device, read-only, never the file: its device must be the one the anchor
 * makes for that payload (verity_mapping_name), its root hash the signed
 * manifest's, and its live table the anchor's (dmverity.h); a "full-hash" disk is the
 * bundle's file, hashed in place again when starting.
 */

struct guest_opts {
	const char *state_dir, *run_dir, *tcti;
	const char *name;	 /* libvirt domain name */
	const char *console_log; /* where the serial console goes */
	enum spec_virt virt;
	bool without_volumes; /* start although volumes were only key-checked */
	bool reverify;	      /* re-verify every bundle's signature and content */
	/* start: the launcher's own directory for the guest's boot files
	 * (verified.h): kernel and initrd are copied there while hashed against
	 * the measured manifest, and the spec points at the copies; the command
	 * line and disk images are hashed too. NULL (status, audit, xml): the
	 * bundle's paths, sizes checked only. */
	const char *copy_dir;
};

/* Classes of failure, for sealboot-launch's exit codes. */
enum guest_fail {
	GUEST_OK,
	GUEST_HANDOFF, /* missing, stale, or not the measured state */
	GUEST_PROFILE, /* the profile asks for something not allowed */
	GUEST_INTERNAL,
};

/* 0, or -EBADE (GUEST_HANDOFF), -EINVAL (GUEST_PROFILE), -EIO (GUEST_INTERNAL)
 * with *ret_class and d set; each step of the derivation has its own class. */
int guest_spec(const struct guest_opts *o, struct spec *ret, enum guest_fail *ret_class,
	       struct diag *d);
