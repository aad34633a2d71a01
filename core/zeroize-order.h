/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "policy.h"
#include "tpmpolicy.h"

/*
 * The zeroize challenge and order (docs/formats/zeroize.md, sections 2 and
 * 3), pure: bytes in, struct out, and back. No file, no TPM, no key.
 *
 * The order is signed over its canonical bytes (zorder_serialize()); the
 * anchor verifies the signature over the raw bytes first and then reads them
 * with zorder_parse(), which refuses any text that is not exactly canonical,
 * so one signed text has one reading.
 *
 * Errors: one line naming the member, "zeroize order: counter: expected an
 * unsigned integer, got a string", class DIAG_MALFORMED, -EBADMSG.
 */
#define ZORDER_MAX_BYTES 4096
#define ZORDER_NAME_HEX (2 * TPMPOLICY_NAME_SIZE) /* "000b" + 64 hex digits */

struct zorder_challenge {
	uint8_t appliance_id[TPMPOLICY_NAME_SIZE]; /* the attestation key's Name */
	uint64_t counter;			   /* the zeroize counter, just incremented */
	uint8_t storage_name[TPMPOLICY_NAME_SIZE]; /* the storage primary's Name */
	uint64_t policy_serial;			   /* 0: no policy */
	size_t n_volumes;
	char volumes[POLICY_MAX_VOLUMES][POLICY_DM_NAME_MAX + 1];
	int64_t time;
};

struct zorder {
	uint8_t appliance_id[TPMPOLICY_NAME_SIZE];
	uint64_t counter;
	uint8_t storage_name[TPMPOLICY_NAME_SIZE];
	int64_t not_after;
	bool clear_tpm;
	size_t n_volumes; /* 1..POLICY_MAX_VOLUMES, each a dm name, each once */
	char volumes[POLICY_MAX_VOLUMES][POLICY_DM_NAME_MAX + 1];
};

/* One line of JSON and a newline; *ret malloc'd, NUL-terminated. 0, -EINVAL
 * (a volume name that is not [A-Za-z0-9_-]{1,32}, a duplicate, too many or
 * none for an order) or -ENOMEM. */
int zorder_challenge_serialize(const struct zorder_challenge *c, char **ret, size_t *ret_len);
int zorder_serialize(const struct zorder *o, char **ret, size_t *ret_len);

/* Strict parse ("zeroize challenge: ..."); any valid JSON layout. */
int zorder_challenge_parse(const char *buf, size_t len, struct zorder_challenge *ret,
			   struct diag *d);
/* Strict parse, then canonical form required ("zeroize order: not in
 * canonical form"). */
int zorder_parse(const char *buf, size_t len, struct zorder *ret, struct diag *d);

/* Does the order name volume `name`? */
bool zorder_has_volume(const struct zorder *o, const char *name);
