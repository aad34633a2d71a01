/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "secret.h"

/*
 * The LUKS2 adapter (libcryptsetup): the only module with cryptsetup
 * headers. The anchor's secret is a volume's key itself (luks_format_vk,
 * luks_unlock); passphrase keyslots (recovery, an admin's passphrase) sit
 * next to it. Full-entropy secrets get PBKDF2 at the minimum cost instead of
 * Argon2: key stretching adds nothing to a random 200- or 512-bit secret,
 * and the initramfs stays fast and small in memory.
 *
 * Errors: wrong key -EPERM, not a LUKS2 device -EINVAL, missing -ENOENT,
 * others -EIO with libcryptsetup's text (DIAG_INTERNAL unless noted).
 */
#define LUKS_UUID_MAX 40

/* Format path (a file or block device) as LUKS2, AES-XTS, with one keyslot
 * for key. Refuses (-EEXIST) a device that already holds a LUKS header. */
int luks_format(const char *path, const struct secret *key, char ret_uuid[LUKS_UUID_MAX],
		struct diag *d);

/* Add a keyslot for key to an existing LUKS2 volume, authorized by one of
 * its current passphrases. Returns the new keyslot number. */
int luks_enroll(const char *path, const struct secret *current, const struct secret *key,
		struct diag *d);

/* Does key open a keyslot of path? Activates nothing (no device-mapper
 * needed): the keyslot is only decrypted and checked. Returns the slot. */
int luks_check_key(const char *path, const struct secret *key, struct diag *d);

/* The volume's LUKS UUID. */
int luks_uuid(const char *path, char ret_uuid[LUKS_UUID_MAX], struct diag *d);

/* Add a token (LUKS2 JSON; docs/formats/luks-token.md), bound to keyslot,
 * or to none when keyslot is negative. Returns the token id. */
int luks_token_add(const char *path, const char *json, int keyslot, struct diag *d);

/* The JSON of the first token of this type (*ret_json malloc'd). Returns the
 * token id, or -ENOENT (DIAG_MALFORMED) when there is none. */
int luks_token_find(const char *path, const char *type, char **ret_json, struct diag *d);

/* Is device-mapper usable here (activation possible)? */
bool luks_have_dm(void);

/*
 * What the anchor seals is the volume key itself (as BitLocker seals its
 * volume master key): unlocking then needs no keyslot, so no PBKDF and no
 * anti-forensic merge, only the check against the header's digest.
 * Passphrase keyslots (the recovery key, an admin's passphrase) stay
 * possible next to it.
 */

/* Format path as LUKS2 (AES-XTS, 512-bit volume key vk, the given UUID)
 * with no keyslot, and add token (its LUKS2 token JSON) in the same session.
 * Refuses (-EEXIST) a device that holds a LUKS header. */
int luks_format_vk(const char *path, const struct secret *vk, const char *uuid, const char *token,
		   struct diag *d);

/* The volume key of an existing volume, through one of its passphrases. */
int luks_volume_key(const char *path, const struct secret *passphrase, struct secret **ret,
		    struct diag *d);

/* Add a passphrase keyslot for vk (the recovery key). Returns the slot. */
int luks_add_passphrase(const char *path, const struct secret *vk, const struct secret *passphrase,
			struct diag *d);

/*
 * Open a volume with its volume key: with name, activate it as
 * /dev/mapper/<name>; with name NULL, only check the key against the
 * header's digest (no device-mapper). Either way ret_identity is
 * HMAC-SHA256 keyed with the volume key over "sealboot volume identity",
 * NUL, UUID: what the anchor measures, so a look-alike volume (same UUID,
 * another key) changes the PCRs. Wrong key -EPERM.
 */
int luks_unlock(const char *path, const struct secret *vk, const char *name,
		uint8_t ret_identity[32], struct diag *d);

/* --- zeroize --- */

/* What a volume's header holds now: LUKS2 or not, the bytes from 0 to the
 * data offset (both binary headers, both JSON areas, the keyslot area),
 * active keyslots and tokens, UUID. Not LUKS2: luks2 false, header_bytes
 * LUKS_HEADER_DEFAULT (cut to the device size), 0 returned. Missing: -ENOENT. */
#define LUKS_HEADER_DEFAULT (16u * 1024u * 1024u)
struct luks_header_info {
	bool luks2;
	uint64_t header_bytes;
	uint64_t device_bytes;
	unsigned keyslots, tokens;
	char uuid[LUKS_UUID_MAX];
};
int luks_header_info(const char *path, struct luks_header_info *ret, struct diag *d);

/*
 * Cryptographic erase of one volume: deactivate dm_name if it is active
 * (NULL: none), destroy every keyslot (recovery passphrases too) and every
 * token through libcryptsetup, zero bytes [0, header_bytes) and sync, then
 * discard the rest (BLKDISCARD on a block device, a punched hole in a file);
 * ret_data says which ("discarded", "hole punched", "not supported").
 * Idempotent: a header already (partly) gone is zeroed again. Verified: if
 * libcryptsetup still finds a LUKS header afterwards, -EIO.
 */
int luks_erase(const char *path, uint64_t header_bytes, const char *dm_name, char ret_data[24],
	       struct diag *d);
