/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "tpmpolicy.h"

/*
 * The firmware's binary event log, pure: the TCG PC Client crypto-agile
 * format (TCG PC Client Platform Firmware Profile, section 10), as UEFI
 * firmware hands it to the OS and Linux shows it in
 * /sys/kernel/security/tpm0/binary_bios_measurements (what tpm2_eventlog
 * reads). Parsed strictly and bounded, then replayed for the sha256 bank.
 *
 * Layout (all integers little-endian):
 *   1. one TCG_PCR_EVENT in the SHA-1 format: PCRIndex 0, EventType
 *      EV_NO_ACTION, a 20-byte digest of zeros, EventSize, and as its data
 *      the TCG_EfiSpecIdEvent: "Spec ID Event03\0", platformClass,
 *      specVersionMinor, specVersionMajor (2), specErrata, uintnSize (1 or 2),
 *      numberOfAlgorithms, {algorithmId, digestSize} each, vendorInfoSize,
 *      vendorInfo;
 *   2. then TCG_PCR_EVENT2 records to the end: PCRIndex, EventType,
 *      TPML_DIGEST_VALUES (count, then {hashAlg, digest} with the size the
 *      Spec ID event declared for that algorithm), EventSize, Event.
 *
 * What is refused, each with one line naming the byte offset of the record:
 * a log over TCGLOG_MAX_BYTES or TCGLOG_MAX_EVENTS records; a first record
 * that is not the Spec ID event; an algorithm declared twice, with a digest
 * size of 0 or over 64, or more than TCGLOG_MAX_ALGS of them; no sha256 among
 * them (or sha256 not 32 bytes); a record on a PCR above 23; a digest of an
 * undeclared algorithm, or one algorithm twice; a measured record (any type
 * but EV_NO_ACTION) without its sha256 digest; a record that runs past the
 * end; a Spec ID event whose fields do not fill its EventSize exactly.
 * Errors: -EBADMSG (class malformed), -ENOMEM, -EINVAL (no buffer).
 */

#define TCGLOG_MAX_BYTES (16u * 1024u * 1024u)
#define TCGLOG_MAX_EVENTS 65536u
#define TCGLOG_MAX_ALGS 16u

/* Event types this code looks at (PC Client PFP, 10.4.1). */
#define TCGLOG_EV_NO_ACTION 0x00000003u
#define TCGLOG_EV_SEPARATOR 0x00000004u
#define TCGLOG_EV_EVENT_TAG 0x00000006u
#define TCGLOG_EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u

struct tcglog_event {
	uint32_t pcr;
	uint32_t type;
	bool has_sha256; /* always true unless type is EV_NO_ACTION */
	uint8_t sha256[TPMPOLICY_DIGEST_SIZE];
	const uint8_t *data; /* the Event bytes, inside the parsed buffer */
	uint32_t data_len;
	size_t offset; /* of the record, in the log */
};

struct tcglog {
	struct tcglog_event *ev; /* in log order, the Spec ID event not included */
	size_t n;
	uint8_t startup_locality; /* from a StartupLocality EV_NO_ACTION event, else 0 */
};

/* Parse buf (which must outlive the result: events point into it). *ret is
 * written only on success. */
int tcglog_parse(const uint8_t *buf, size_t len, struct tcglog **ret, struct diag *d);
void tcglog_free(struct tcglog *log);

/* The sha256 bank the log replays to: every PCR starts at zero (PCR 0 at the
 * startup locality in its last byte, PC Client PFP 10.4.5.3) and each
 * measured record extends its PCR: new = SHA-256(old || digest). EV_NO_ACTION
 * records extend nothing. PCRs 17-22 (dynamic root of trust, which start at
 * all ones) are left as the firmware log has them: zero, since firmware
 * never measures into them. */
int tcglog_replay(const struct tcglog *log, struct tpmpolicy_pcr_values *out, struct diag *d);

/* One extend of the sha256 bank: pcr = SHA-256(pcr || digest). */
int tcglog_extend(uint8_t pcr[TPMPOLICY_DIGEST_SIZE], const uint8_t digest[TPMPOLICY_DIGEST_SIZE],
		  struct diag *d);
