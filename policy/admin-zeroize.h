/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

/*
 * sealboot-admin zeroize-authorize: a challenge from the appliance in, an
 * order signed by the zeroize key out (docs/formats/zeroize.md). Returns the
 * tool's exit code; prints one line on stderr.
 */
struct zeroize_authorize_opts {
	const char *prog;
	const char *key; /* the zeroize key (PEM), never the admin key */
	int secret_fd;	 /* its passphrase, or -1 */
	const char *challenge;
	const char *out; /* ORDER; the signature goes to ORDER.sig */
	const char *volumes[POLICY_MAX_VOLUMES];
	size_t n_volumes; /* 0: every volume the challenge lists */
	bool keep_tpm;
	uint64_t expires; /* seconds from now (default 3600) */
	int64_t at;	  /* "now", 0 = the clock */
};

int admin_zeroize_authorize(const struct zeroize_authorize_opts *o);

/* sealboot-admin attest-verify and zeroize-verify: offline checks of what
 * the appliance's attestation key signed (appliance/attest.h). ak: the
 * attestation key's SPKI PEM the owner recorded. Return the exit code. */
struct attest_verify_opts {
	const char *prog;
	const char *ak;
	const char *nonce_hex; /* attest-verify */
	const char *state_dir; /* attest-verify: pcr-policy.json for the approved state */
	const char *order;     /* zeroize-verify: the order the receipt answers */
	bool json;
};
int admin_attest_verify(const struct attest_verify_opts *o, const char *quote);
int admin_zeroize_verify(const struct attest_verify_opts *o, const char *receipt,
			 const char *evidence);

/* sealboot-admin ak-credential: check an appliance's identity (its EK
 * certificate against the TPM maker's CA) and make a credential only a TPM
 * holding both its EK and its attestation key can activate. Writes OUT and
 * the attestation key to AK_OUT; prints the answer to expect. */
int admin_ak_credential(const char *prog, const char *identity, const char *ek_ca, const char *out,
			const char *ak_out);
