/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cms.h"
#include "diag.h"
#include "manifest.h"

/*
 * The library API for signed image bundles (docs/formats/bundle.md). The
 * anchor links this; sealboot-sign is a thin CLI over it.
 *
 * A bundle is a directory holding manifest.json, its detached CMS signature
 * manifest.json.p7s (DER), and the payload files the manifest lists. Nothing
 * else may be in it.
 */

#define BUNDLE_MANIFEST "manifest.json"
#define BUNDLE_SIGNATURE "manifest.json.p7s"
#define BUNDLE_SIG_MAX (256u * 1024u)

struct bundle_verify_opts {
	const char *const *ca_files; /* trusted release CAs (PEM files) */
	size_t n_ca;
	const char *const *ca_pems; /* or: PEM texts (used when n_ca is 0) */
	size_t n_ca_pems;
	int64_t at;	  /* verification time, 0 = now */
	unsigned threads; /* 0 = online CPUs */
	bool progress;	  /* progress meter on stderr */
	/* Disk payloads with a signed dm-verity tree, and their trees, are
	 * not hashed here, only their sizes checked: the caller activates them
	 * with dm-verity (verity.h, verity_activate) and trusts no byte of
	 * them otherwise. Payloads without a tree are hashed as always. */
	bool verity_lazy;
};

struct bundle_verified {
	struct manifest *manifest;
	struct cms_signer_info signer;
	unsigned char manifest_sha256[32]; /* of the exact signed bytes */
};

/*
 * Verify a bundle, in this order, stopping at the first failure:
 *  1. read manifest.json (size-limited) and the signature, no symlinks;
 *  2. verify the CMS signature over the raw manifest bytes and the chain to
 *     one of the CAs (signature, trust);
 *  3. only then parse the manifest (malformed), check not_after (expired);
 *  4. check that the directory holds nothing the manifest does not list,
 *     then hash every payload (content); with verity_lazy, a payload that
 *     has a dm-verity tree and that tree only get their sizes checked.
 * On success *ret holds the verified manifest. On failure d says why, in one
 * line, and nothing is returned.
 */
int bundle_verify(const char *dir, const struct bundle_verify_opts *o, struct bundle_verified **ret,
		  struct diag *d);
void bundle_verified_free(struct bundle_verified *v);

struct bundle_payload_spec {
	const char *path; /* relative to the bundle directory */
	enum payload_role role;
	/* A disk payload's dm-verity tree (adapters/verity.h), computed by the
	 * caller; with any, the manifest is format_version 2. */
	const struct payload_verity *verity;
};

struct bundle_sign_opts {
	const char *name;
	uint64_t version;
	const char *appliance_class;
	bool has_not_after;
	int64_t not_after;
	enum digest_alg alg;
	const struct bundle_payload_spec *payloads;
	size_t n_payloads;
	bool force; /* replace an existing manifest and signature */
	unsigned threads;
	bool progress;
};

/* Hash the payloads in dir, write manifest.json and manifest.json.p7s
 * atomically (each file is replaced whole or not at all; a crash between the
 * two leaves a pair that fails verification, never one that passes).
 * Refuses (-EEXIST) to replace an existing manifest unless force. The
 * directory must hold nothing but the listed payloads. On success, and if
 * ret is not NULL, *ret is the signed manifest and ret_sha256 the SHA-256 of
 * its bytes. */
int bundle_sign(const char *dir, const struct bundle_sign_opts *o, struct cms_signer *s,
		struct manifest **ret, unsigned char ret_sha256[32], struct diag *d);
