/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "diag.h"

/*
 * The measured-unlock sequence of sealboot-anchor (docs/man/sealboot-anchor.8,
 * docs/pcrs.md). Fails closed: on any failure a failure event is extended
 * into the sealing PCR (so nothing later in this boot can unseal), every
 * unsealed key is wiped, no handoff is written, and the report names the
 * stage and the one reason.
 */

/* The verdict, also the exit code of `sealboot-anchor boot` and `status`. */
enum anchor_verdict {
	ANCHOR_OK = 0,
	ANCHOR_INTERNAL = 1,
	ANCHOR_USAGE = 2,
	ANCHOR_POLICY = 3,   /* policy signature, admin key record, format */
	ANCHOR_BUNDLE = 4,   /* a bundle failed verification */
	ANCHOR_ROLLBACK = 5, /* a bundle older than one already run */
	ANCHOR_UNSEAL = 6,   /* the TPM refused the keys: not the approved boot */
	ANCHOR_VOLUME = 7,   /* a volume did not open with its key */
	ANCHOR_TPM = 8,	     /* no TPM, or in dictionary-attack lockout */
	ANCHOR_STATE = 9,    /* run state not fresh: PCRs already used, planted files */
	/* Not verdicts of a boot: this run did nothing, and wrote nothing
	 * (status.json keeps the verdict of the run that did the work). */
	ANCHOR_DONE = 10,     /* the anchor already ran in this boot (its event log
			       * replays to the TPM); its verdict stands */
	ANCHOR_BUSY = 11,     /* another sealboot-anchor holds the run lock */
	ANCHOR_ZEROIZED = 12, /* zeroized: ready for provisioning (a state, not a fault) */
};

struct anchor_opts {
	const char *state_dir; /* default APPLIANCE_STATE_DIR */
	const char *run_dir;   /* default APPLIANCE_RUN_DIR */
	const char *tcti;      /* NULL: the kernel resource manager */
	int64_t at;	       /* certificate time, 0 = now */
	bool no_activate;      /* key-check volumes even where device-mapper exists */
	const char *launcher;  /* finishing a zeroize: sealboot-launch (NULL: default) */
	bool quiet;
};

struct anchor_report {
	enum anchor_verdict verdict;
	char stage[16];
	struct diag d;
	unsigned bundles;
	unsigned volumes;
	bool activated;
	bool da_lockout;   /* the TPM was in dictionary-attack lockout */
	unsigned released; /* volume keys the TPM released (wiped since) */
	bool capped;	   /* a failure was measured into the sealing PCR */
};

/* One run at a time: the lock file in the run directory (flock). */
#define ANCHOR_LOCK "anchor.lock"

int anchor_boot(const struct anchor_opts *o, struct anchor_report *rep);
const char *anchor_verdict_name(enum anchor_verdict v);
