/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "secret.h"

/*
 * The recovery passphrase `sealboot-admin provision --recovery-key` adds to
 * each newly sealed volume (sealboot-admin(8)): 200 random bits written as 8
 * groups of 5 characters joined by '-', each character 5 bits, most
 * significant first, from the alphabet 0-9 a-z without i, l, o and u (no two
 * characters a person could read as one another). Example:
 *   00000-00000-00000-00000-00000-00000-00000-00000 is 25 zero bytes.
 * Pure: no I/O but the randomness of recovery_key_new().
 */

#define RECOVERY_KEY_BYTES 25 /* 200 bits */
#define RECOVERY_KEY_LEN 47   /* 40 characters and 7 dashes, no NUL */

/* Write the text of raw into out (RECOVERY_KEY_LEN bytes, not terminated). */
void recovery_key_encode(const uint8_t raw[RECOVERY_KEY_BYTES], char out[RECOVERY_KEY_LEN]);

/*
 * Read a recovery key's text of len bytes back into raw. Errors, in the
 * order checked: -EINVAL when len is not RECOVERY_KEY_LEN, when a dash is
 * missing or misplaced, or when a character is outside the alphabet (upper
 * case included: the key is compared as a passphrase, byte for byte). raw is
 * written only on success.
 */
int recovery_key_decode(const char *text, size_t len, uint8_t raw[RECOVERY_KEY_BYTES]);

/* A new random recovery key's text in locked memory. -ENOMEM (no locked
 * memory), -EIO (no randomness). */
int recovery_key_new(struct secret **ret);
