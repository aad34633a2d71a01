/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>

#include "diag.h"
#include "sealed.h"

/*
 * The LUKS2 token that carries a volume's sealed key (docs/formats/
 * luks-token.md): the TPM public and private blobs (base64) and the Name of
 * the storage primary they were sealed under (hex). Nothing in it is secret:
 * only this TPM, in a boot the admin approved, can unseal it.
 *
 *   {"type":"sealboot-tpm2","keyslots":["1"],"sealboot_format_version":1,
 *    "tpm2_public":"...","tpm2_private":"...","tpm2_primary_name":"000b..."}
 */
#define TOKEN_TYPE "sealboot-tpm2"
#define TOKEN_FORMAT_VERSION 1

/* JSON for luks_token_add() (keyslots empty: libcryptsetup fills it). */
int token_to_json(const struct tpm_sealed *s, char **ret);

/* Parse a token's JSON (as libcryptsetup returns it). 0 or -EBADMSG. */
int token_parse(const char *json, struct tpm_sealed *ret, struct diag *d);
