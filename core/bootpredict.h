/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "bootpcr.h"

/*
 * The files side of the offline PCR prediction (core/bootpcr.h is the
 * pure core): reads a reference boot's firmware event log, the kernel image
 * and the initrd a person named, hashes them, and predicts. For
 * sealboot-admin's `pcr-policy predict` and `pcr-policy sign`.
 *
 * Errors: 0, or -errno with d set: a file that cannot be read (class usage,
 * naming it), a log or image that is malformed (class malformed), a
 * prediction the inputs cannot make (class usage, bootpcr_predict()).
 */

#define BOOTPREDICT_KERNEL_MAX (512u * 1024u * 1024u)

struct bootpredict_args {
	const char *event_log; /* binary TCG log of a reference boot, or NULL */
	const char *kernel;    /* the kernel's EFI image, or NULL */
	const char *initrd;    /* or NULL */
	const char *cmdline;   /* as /proc/cmdline shows it, or NULL */
	uint64_t qemu_ram_mib; /* non-zero: the kernel is started by QEMU's direct
				* kernel boot with this much RAM below 4 GiB
				* (bootpcr_qemu_patch_setup()); needs initrd */
};

struct bootpredict_result {
	struct tpmpolicy_pcr_values pcrs; /* the PCRs asked for; others zero */
	struct bootpcr_inputs in;	  /* the artifact digests used (in.ref NULL) */
};

/* Any artifact or log given? */
bool bootpredict_given(const struct bootpredict_args *a);

int bootpredict_run(const struct bootpredict_args *a, tpmpolicy_pcr_mask_t want,
		    struct bootpredict_result *ret, struct diag *d);
