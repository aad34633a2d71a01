/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "tpmpolicy.h"

/*
 * The anchor's event log (docs/formats/eventlog.md), pure: every extend the
 * anchor makes is one record, so replaying the records from all-zero PCRs
 * gives the PCR values the TPM holds. A record's digest is SHA-256 over its
 * content, a one-line ASCII text ("sealboot policy serial=3 ..."); the same
 * builders serve the anchor at boot and the admin who predicts the sealing
 * PCR offline, so the two cannot drift apart.
 *
 * On disk: JSON Lines in the spirit of TCG's Canonical Event Log, one record
 * per line:
 *   {"recnum":0,"pcr":15,"digests":[{"hashAlg":"sha256","digest":"<hex>"}],
 *    "content_type":"sealboot","content":"<text>"}
 */

#define EVENTLOG_MAX 64
#define EVENTLOG_TEXT_MAX 512

/* PCR allocation (docs/pcrs.md). */
#define EVENTLOG_PCR_SEAL 15 /* signer authorities and verdicts: sealing */
#define EVENTLOG_PCR_LOG 13  /* exact content digests: log only */

struct eventlog_record {
	unsigned pcr;
	uint8_t digest[TPMPOLICY_DIGEST_SIZE];
	char text[EVENTLOG_TEXT_MAX];
};

struct eventlog {
	size_t n;
	struct eventlog_record r[EVENTLOG_MAX];
};

/* Append a record for text on pcr, its digest SHA-256(text). 0 or -E2BIG
 * (log full) / -EINVAL (text too long or not printable ASCII). */
int eventlog_add(struct eventlog *log, unsigned pcr, const char *text, struct diag *d);

/* The PCR values the records give, starting from all zero. */
void eventlog_replay(const struct eventlog *log, struct tpmpolicy_pcr_values *out);

/* Event texts. Hex digests are lowercase. */
void eventlog_text_policy(char out[EVENTLOG_TEXT_MAX], uint64_t serial,
			  const uint8_t policy_sha256[32], const uint8_t admin_digest[32],
			  const uint8_t record_sha256[32]);
void eventlog_text_authority(char out[EVENTLOG_TEXT_MAX], const char *bundle,
			     const uint8_t anchor_sha256[32], const char *appliance_class);
void eventlog_text_content(char out[EVENTLOG_TEXT_MAX], const char *bundle, uint64_t version,
			   const uint8_t manifest_sha256[32]);
void eventlog_text_volume(char out[EVENTLOG_TEXT_MAX], const char *name, const char *uuid,
			  const uint8_t identity[32]);
/* A disk payload activated as a dm-verity device (log-only PCR 13, before
 * the cap): bundle, the payload's path in its manifest, the signed root hash
 * the mapping was made with, and the mapping's device path. */
void eventlog_text_verity(char out[EVENTLOG_TEXT_MAX], const char *bundle, const char *payload,
			  const uint8_t root_hash[32], const char *device);
void eventlog_text_cap(char out[EVENTLOG_TEXT_MAX]);
void eventlog_text_failure(char out[EVENTLOG_TEXT_MAX], const char *stage);

/* Matchers beside the builders, for readers of a log (the launcher's
 * handoff check): true when text is what the builder wrote for these
 * values. The policy and volume texts are matched on the fields given (the
 * admin/record and identity digests that follow are not compared). */
bool eventlog_is_policy(const char *text, uint64_t serial, const uint8_t policy_sha256[32]);
bool eventlog_is_content(const char *text, const char *bundle, uint64_t version,
			 const uint8_t manifest_sha256[32]);
bool eventlog_is_volume(const char *text, const char *name, const char *uuid);
bool eventlog_is_verity(const char *text, const char *bundle, const char *payload,
			const uint8_t root_hash[32], const char *device);
/* Any verity event for this bundle's payload (whatever hash and device). */
bool eventlog_is_verity_of(const char *text, const char *bundle, const char *payload);
bool eventlog_is_cap(const char *text);

/* Write as JSON Lines. 0 or -errno. */
int eventlog_write(const struct eventlog *log, FILE *f);

/* Parse JSON Lines written by eventlog_write, checking each digest against
 * its content. 0 or -EBADMSG with d naming the line. */
int eventlog_parse(const char *buf, size_t len, struct eventlog *ret, struct diag *d);
