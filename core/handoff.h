/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "eventlog.h"
#include "tpmpolicy.h"

/*
 * The anchor's handoff (/run/sealboot/handoff.json, docs/formats/
 * eventlog.md), read by the launcher. The handoff is only an index: it is
 * believed as far as the event log confirms it, and the event log as far as
 * it replays to the TPM's PCRs now.
 */

#define HANDOFF_MAX_BUNDLES 8
#define HANDOFF_MAX_VOLUMES 8

#define HANDOFF_MAX_DISKS 16

/* How the anchor verified a disk payload (format_version 2; version 1
 * handoffs know only full-hash). */
enum handoff_method {
	HANDOFF_FULL_HASH, /* every byte hashed at boot; the launcher re-reads the file */
	HANDOFF_VERITY,	   /* a read-only dm-verity device with the signed root hash */
};

struct handoff_disk {
	char payload[256]; /* the payload's path in its manifest */
	enum handoff_method method;
	char device[64];       /* verity: /dev/mapper/NAME; else "" */
	uint8_t root_hash[32]; /* verity: the root hash the mapping was made with */
};

struct handoff_bundle {
	char name[129];
	char path[256];
	uint64_t version;
	uint8_t manifest_sha256[32];
	struct handoff_disk disks[HANDOFF_MAX_DISKS];
	size_t n_disks;
};

struct handoff_volume {
	char name[33];
	char uuid[37];
	char device[288];
	char mapper[64]; /* "" when not activated */
	bool activated;
};

struct handoff {
	unsigned format_version; /* 1: no disks members (all full-hash), 2 */
	char boot_id[40];
	uint64_t policy_serial;
	uint8_t policy_sha256[32];
	uint8_t pcr15[32], pcr13[32];
	struct handoff_bundle bundles[HANDOFF_MAX_BUNDLES];
	size_t n_bundles;
	struct handoff_volume volumes[HANDOFF_MAX_VOLUMES];
	size_t n_volumes;
};

/* Parse handoff.json strictly (format_version 1 or 2). 0 or -EBADMSG
 * (DIAG_MALFORMED); a verity disk whose device is not directly under
 * /dev/mapper/ is malformed. */
int handoff_parse(const char *buf, size_t len, struct handoff *ret, struct diag *d);

/*
 * Check a parsed handoff against what was measured (pure; the caller reads
 * the files and the TPM):
 *  - boot_id is this boot's (else it is stale);
 *  - the event log replays to now->v[13] and now->v[15], the TPM's PCRs,
 *    and to the handoff's pcr13/pcr15; its last sealing event is the cap;
 *  - the log's policy event names policy_sha256, and so does the handoff,
 *    and policy_bytes_sha256 (the policy file the launcher will read) too;
 *  - every bundle and volume of the handoff has its event in the log;
 *  - every disk the handoff calls verity has the anchor's verity event
 *    (bundle, payload, root hash, device) before the cap, and no disk it
 *    calls full-hash has one (the method is the measured one).
 * 0, or -ESTALE (stale) / -EBADE (differs) with DIAG_TRUST and one line.
 */
int handoff_check(const struct handoff *h, const char *boot_id, const struct eventlog *log,
		  const struct tpmpolicy_pcr_values *now, const uint8_t policy_bytes_sha256[32],
		  struct diag *d);
