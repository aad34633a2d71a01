/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "secret.h"

/*
 * The admin key: the ECDSA P-256 key that signs appliance policies and whose
 * public half provisioning binds into the TPM. OpenSSL 3 EVP; ECDSA P-256
 * with SHA-256 and nothing else: any other key type or curve is refused with
 * a one-line diagnosis.
 *
 * Errors: 0 or -errno with d set. -EBADMSG (DIAG_MALFORMED) for a key that is
 * not a P-256 key in the expected encoding, -EKEYREJECTED (DIAG_USAGE) for a
 * missing or wrong passphrase, -EBADMSG (DIAG_SIGNATURE) for a signature that
 * does not verify, -errno (DIAG_INTERNAL) for I/O and OpenSSL failures.
 */

#define ADMINKEY_FILE_MAX (16u * 1024u)
#define ADMINKEY_SIG_MAX 80	 /* DER ECDSA-Sig-Value for P-256: at most 72 */
#define ADMINKEY_SPKI_DER_LEN 91 /* named curve, uncompressed point */

/* A PEM private key file: PKCS#8 ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY") or
 * SEC 1 ("EC PRIVATE KEY", possibly with legacy PEM encryption). passphrase
 * may be NULL when the key is not encrypted; it is handed to OpenSSL through
 * a PEM password callback and never copied elsewhere. The file is read into
 * locked memory and wiped. */
int adminkey_load_private(const char *pem_path, const struct secret *passphrase, EVP_PKEY **ret,
			  struct diag *d);

/* A PEM SubjectPublicKeyInfo ("PUBLIC KEY") file of at most
 * ADMINKEY_FILE_MAX bytes. Messages name the file. */
int adminkey_load_public(const char *pem_path, EVP_PKEY **ret, struct diag *d);

/* The same from memory: exactly one "PUBLIC KEY" PEM block, optionally
 * surrounded by whitespace, no PEM headers, DER without trailing bytes, a
 * valid P-256 point. d is set to the reason alone, with no prefix, so the
 * caller can name the key: e.g. "a secp384r1 key; only ECDSA P-256
 * (prime256v1) keys are supported". */
int adminkey_public_from_pem(const char *pem, size_t len, EVP_PKEY **ret, struct diag *d);

/* SPKI PEM text of the public half (uncompressed point), NUL-terminated, the
 * NUL not counted. 0, -EINVAL (not a P-256 key) or -ENOMEM. */
int adminkey_public_pem(EVP_PKEY *key, char **ret, size_t *ret_len);

/* SHA-256 over the DER SubjectPublicKeyInfo with the named curve and the
 * uncompressed point (ADMINKEY_SPKI_DER_LEN bytes; what i2d_PUBKEY writes for
 * a key in the default point form): the value provisioning stores in the
 * TPM. The same for a key and its public half, whatever point form the key
 * was read in. 0 or -EINVAL / -ENOMEM / -EIO. */
int adminkey_digest(EVP_PKEY *key, uint8_t out[32]);

/* ECDSA-SHA256 over buf; *ret_sig is a DER ECDSA-Sig-Value. */
int adminkey_sign(EVP_PKEY *priv, const void *buf, size_t len, uint8_t **ret_sig, size_t *ret_len,
		  struct diag *d);

/* 0, or -EBADMSG with DIAG_SIGNATURE "policy signature does not verify with
 * the admin key". A signature of 0 or more than ADMINKEY_SIG_MAX bytes is
 * refused before OpenSSL sees it. */
int adminkey_verify(EVP_PKEY *pub, const void *buf, size_t len, const uint8_t *sig, size_t sig_len,
		    struct diag *d);

/* ECDSA over an already computed SHA-256 digest (not hashed again), with r
 * and s as big-endian 32-byte values, left-padded: what TPM2_VerifySignature
 * checks for a TPMT_SIGNATURE with TPM_ALG_ECDSA / TPM_ALG_SHA256. */
int adminkey_sign_digest(EVP_PKEY *priv, const uint8_t digest[32], uint8_t r[32], uint8_t s[32],
			 struct diag *d);

/* The public point's affine coordinates, big-endian, left-padded (the TPMS_ECC_POINT
 * of a TPM2B_PUBLIC). 0 or -EINVAL / -EIO. */
int adminkey_point(EVP_PKEY *key, uint8_t x[32], uint8_t y[32]);
