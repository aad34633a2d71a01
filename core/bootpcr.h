/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "tcglog.h"
#include "tpmpolicy.h"

/*
 * The measured chain before the anchor, predicted offline and pure
 * (docs/pcrs.md): what UEFI firmware measures into PCR 4 for the kernel it
 * starts, and what Linux's EFI stub measures into PCR 9, computed from the
 * artifacts (kernel image, initrd, command line) and, for everything the
 * artifacts do not decide, a reference boot's firmware event log.
 *
 * Errors: 0, or -EINVAL (bad input; d names it, class usage unless said
 * otherwise), -ENOMEM, -EIO (OpenSSL failed).
 */

/* PCRs the kernel's boot measures into: the firmware (image), the EFI stub. */
#define BOOTPCR_PCR_KERNEL 4
#define BOOTPCR_PCR_STUB 9

/* EV_EVENT_TAG IDs of Linux's EFI stub (drivers/firmware/efi/libstub,
 * efi_measure_tagged_event; Linux 5.17 initrd, 6.1 load options). The event
 * data is TCG_PCClientTaggedEvent: taggedEventID, taggedEventDataSize, then
 * the NUL-terminated description; the digest is of the measured bytes. */
#define BOOTPCR_TAG_INITRD 0x8F3B22ECu	     /* "Linux initrd" */
#define BOOTPCR_TAG_LOAD_OPTIONS 0x8F3B22EDu /* "LOADED_IMAGE::LoadOptions" */

/* The longest command line accepted (Linux x86 COMMAND_LINE_SIZE). */
#define BOOTPCR_CMDLINE_MAX 2048

/*
 * The PE/COFF Authenticode SHA-256 of an EFI image (Microsoft, "Windows
 * Authenticode Portable Executable Signature Format", "Calculating the PE
 * Image Hash"): the whole file except the optional header's CheckSum, the
 * Certificate Table data directory entry and the attribute certificate table
 * itself, with sections hashed in file order. This is the digest UEFI
 * firmware records for EV_EFI_BOOT_SERVICES_APPLICATION in PCR 4 (and what
 * `osslsigncode verify` prints as "Calculated message digest").
 *
 * Strict: an MZ header with e_lfanew inside the file, "PE\0\0", a PE32 or
 * PE32+ optional header inside the file with at least 5 data directories,
 * SizeOfHeaders inside the file and not overlapping a section, every
 * section's raw data inside the file, a certificate table (if any) that ends
 * the file and starts after the last section. Anything else: -EINVAL
 * "kernel image: ..." (class malformed).
 */
int bootpcr_authenticode(const uint8_t *img, size_t len, uint8_t out[TPMPOLICY_DIGEST_SIZE],
			 struct diag *d);

/*
 * QEMU's direct kernel boot (-kernel, x86): before OVMF sees the kernel,
 * QEMU 7.2 (Debian 12; hw/i386/x86.c, x86_load_linux) writes into the Linux
 * setup header: type_of_loader (0x210) = 0xb0, CAN_USE_HEAP in loadflags
 * (0x211), heap_end_ptr (0x224) = 0xfe00, cmd_line_ptr (0x228) = 0x20000,
 * and the initrd's address (0x218) and size (0x21c). The address is
 * (initrd_max - size) rounded down to 4 KiB, initrd_max being the lower of
 * the header's initrd_addr_max and the RAM below 4 GiB less 0x28000 bytes of
 * ACPI tables, minus 1. OVMF then measures the patched image. This applies
 * that patch to img in place (a copy of the kernel file), for an initrd of
 * initrd_size bytes and ram_below_4g bytes of guest RAM below 4 GiB (-m 512
 * on q35: 512 MiB). Kernels with boot protocol 2.03 or later, loaded high.
 */
int bootpcr_qemu_patch_setup(uint8_t *img, size_t len, uint64_t initrd_size, uint64_t ram_below_4g,
			     struct diag *d);

/* The digest of the stub's LoadOptions event: SHA-256 of the command line
 * as UTF-16LE including its terminating NUL (2 bytes), which is how OVMF
 * and boot managers pass LOADED_IMAGE::LoadOptions. Give the command line
 * as the kernel received it (/proc/cmdline; under OVMF's direct kernel boot
 * that ends in " initrd=initrd", which OVMF appends). Printable ASCII only
 * (0x20-0x7e), at most BOOTPCR_CMDLINE_MAX bytes. */
int bootpcr_cmdline_digest(const char *cmdline, uint8_t out[TPMPOLICY_DIGEST_SIZE], struct diag *d);

/* What a prediction may substitute; anything not given comes from the
 * reference log. */
struct bootpcr_inputs {
	const struct tcglog *ref; /* may be NULL: then only PCR 9 is predictable */
	bool has_kernel;
	uint8_t kernel[TPMPOLICY_DIGEST_SIZE]; /* the image digest OVMF measures */
	bool has_initrd;
	uint8_t initrd[TPMPOLICY_DIGEST_SIZE]; /* SHA-256 of the initrd bytes */
	bool has_cmdline;
	uint8_t cmdline[TPMPOLICY_DIGEST_SIZE]; /* bootpcr_cmdline_digest() */
};

/*
 * The values of the PCRs in want after the boot, before anything after the
 * kernel's EFI stub measures:
 *  - with a reference log: its records replayed, with the digest of the last
 *    EV_EFI_BOOT_SERVICES_APPLICATION record on PCR 4 (the last image the
 *    firmware starts is the kernel) replaced by kernel, and those of the
 *    stub's EV_EVENT_TAG records on PCR 9 by initrd and cmdline. A
 *    substitution the log has no record for is refused (-ENOENT, naming it):
 *    the reference boot must have the same shape;
 *  - without one: only PCR 9, from zero: the stub's LoadOptions event, then
 *    its initrd event (the order of Linux 6.1), so both must be given. That
 *    holds when the firmware starts the kernel itself (OVMF's direct boot, a
 *    UEFI boot entry for the kernel); a boot loader in between (GRUB)
 *    measures into PCR 9 as well: use a reference log.
 * A PCR the inputs do not decide (no log, PCR other than 9) is -EINVAL
 * naming it. out is written only on success; PCRs not in want are zero.
 */
int bootpcr_predict(const struct bootpcr_inputs *in, tpmpolicy_pcr_mask_t want,
		    struct tpmpolicy_pcr_values *out, struct diag *d);
