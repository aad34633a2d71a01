/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "tpmpolicy.h"

/*
 * The sealed object as it is stored, shared by the format that carries it
 * (token.h, the LUKS2 token) and the adapter that makes and loads it
 * (tpm.h). A plain struct in the core layer, so the token format does not
 * include the TPM adapter.
 *
 * A sealed secret: the TPM2B_PUBLIC and TPM2B_PRIVATE of a keyed-hash object
 * under the owner-hierarchy storage primary, marshalled. Only the TPM that
 * made it can load it.
 */
#define TPM_SEALED_MAX 1024
struct tpm_sealed {
	uint8_t pub[TPM_SEALED_MAX];
	size_t pub_len;
	uint8_t priv[TPM_SEALED_MAX];
	size_t priv_len;
	/* Name of the storage primary the object was sealed under, checked
	 * before a salted session trusts that key (an interposer or another
	 * TPM answers with a different one). */
	uint8_t primary_name[TPMPOLICY_NAME_SIZE];
};
