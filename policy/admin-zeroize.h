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
	const char *key;    /* the zeroize key (PEM), never the admin key */
	int secret_fd;      /* its passphrase, or -1 */
	const char *challenge;
	const char *out;    /* ORDER; the signature goes to ORDER.sig */
	const char *volumes[POLICY_MAX_VOLUMES];
	size_t n_volumes;   /* 0: every volume the challenge lists */
	bool keep_tpm;
	uint64_t expires;   /* seconds from now (default 3600) */
	int64_t at;         /* "now", 0 = the clock */
};

int admin_zeroize_authorize(const struct zeroize_authorize_opts *o);
