/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/*
 * The OpenSSL CMS adapter: the only module that touches X.509 and CMS. It
 * makes and checks detached CMS (PKCS#7) SignedData in DER over raw bytes, the
 * form stock `openssl cms -verify -binary -inform DER -content F` accepts.
 * OpenSSL errors are decoded here, once, into a diagnosis.
 */

struct cms_signer_opts {
	const char *key;	   /* PEM file path, or a "pkcs11:" URI (RFC 7512) */
	const char *cert;	   /* signer certificate, PEM */
	const char *chain;	   /* optional PEM file of intermediate CA certs */
	const char *pkcs11_module; /* optional PKCS#11 module path for pkcs11: keys */
	int secret_fd;		   /* fd to read the key passphrase or token PIN
				    * from, or -1 to ask on the terminal when
				    * one is needed (never argv or environment) */
};

struct cms_signer;

/* Load key, certificate and chain; check the key matches the certificate,
 * the certificate carries the codeSigning extended key usage and has not
 * expired (DIAG_TRUST for both). */
int cms_signer_load(const struct cms_signer_opts *o, struct cms_signer **ret, struct diag *d);
void cms_signer_free(struct cms_signer *s);

/* Sign data[0..len) detached: SHA-256, signed attributes including
 * signingTime, signer certificate and chain embedded. DER into *ret_der
 * (free with free()). */
int cms_sign_detached(struct cms_signer *s, const void *data, size_t len, unsigned char **ret_der,
		      size_t *ret_len, struct diag *d);

struct cms_trust;

/* Trusted CA certificates, each file PEM with one or more certificates. A CA
 * that is not self-signed (a release CA under an offline root) is a trust
 * anchor in its own right (partial chains accepted). */
int cms_trust_load(const char *const *ca_files, size_t n, struct cms_trust **ret, struct diag *d);
/* The same, from PEM texts in memory (the release CAs an appliance policy
 * carries). */
int cms_trust_load_pem(const char *const *pems, size_t n, struct cms_trust **ret, struct diag *d);
void cms_trust_free(struct cms_trust *t);

struct cms_signer_info {
	char subject[256]; /* signer certificate subject, RFC 2253 */
	char issuer[256];
	unsigned char cert_sha256[32]; /* of the signer certificate DER */
	char anchor_subject[256];      /* the trusted CA the chain ended at */
	unsigned char anchor_sha256[32];
	int64_t signing_time; /* from the signed attributes, -1 if absent */
};

/*
 * Verify sig (DER) as a detached signature over data at time at (seconds
 * since the epoch; 0 = now): exactly one signer; signature valid; chain to a
 * CA in t; every certificate valid at that time; signer certificate has the
 * codeSigning extended key usage. Diagnosis classes: DIAG_SIGNATURE (not a
 * CMS SignedData, or the bytes were changed), DIAG_TRUST (untrusted CA,
 * expired or not yet valid, key usage). Returns 0 or -EBADMSG (signature),
 * -EKEYREJECTED (trust), -EKEYEXPIRED (validity), -ENOMEM.
 */
int cms_verify_detached(const struct cms_trust *t, const unsigned char *sig, size_t sig_len,
			const void *data, size_t len, int64_t at, struct cms_signer_info *ret_info,
			struct diag *d);
