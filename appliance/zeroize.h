/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "diag.h"

/*
 * Zeroize: the owner's signed order wipes the appliance back to factory
 * state (docs/design.md "Zeroize", docs/formats/zeroize.md). Steps, each
 * idempotent and recorded in STATE_DIR/zeroize.journal before the next:
 *   1 tpm          spend the order (zeroize counter + 1), TPM2_Clear if ordered
 *   2 guests       `sealboot-launch stop` (a child: the anchor has no libvirt)
 *   3..2+n volume  keyslots, tokens, both header copies, keyslot area; discard
 *   3+n nv         sealboot's NV indices that are left
 *   4+n files      policy, approvals, handoff, bundles
 *   5+n receipt    the receipt, the zeroized status; the journal removed
 * An order is checked completely before the journal is written: a refused
 * order erases nothing.
 */

/* Exit codes of `sealboot-anchor zeroize` and `zeroize-challenge`. */
enum zeroize_exit {
	ZEROIZE_OK = 0,
	ZEROIZE_INTERNAL = 1,
	ZEROIZE_USAGE = 2,     /* order file unreadable */
	ZEROIZE_SIGNATURE = 3, /* not signed by the policy's zeroize key, or edited */
	ZEROIZE_APPLIANCE = 4, /* for another appliance */
	ZEROIZE_MALFORMED = 5, /* not an order, or not canonical */
	ZEROIZE_REPLAYED = 6,  /* the counter moved on: used, superseded, TPM cleared since */
	ZEROIZE_EXPIRED = 7,
	ZEROIZE_TPM = 8,   /* no TPM, or it cannot be cleared */
	ZEROIZE_STATE = 9, /* no trusted policy; a volume the policy does not name */
};

#define ZEROIZE_LAUNCHER "/usr/sbin/sealboot-launch"

struct zeroize_opts {
	const char *state_dir;
	const char *run_dir;
	const char *tcti;
	const char *launcher; /* sealboot-launch, for step 2; NULL: ZEROIZE_LAUNCHER */
	int64_t at;	      /* the time to judge the order's expiry by; 0 = now */
	bool quiet;
	/* Test builds only (tests/anchor/zeroize-crash.c): called after step
	 * k's action, before the journal records it. Never set by
	 * sealboot-anchor. */
	void (*after_step)(unsigned step, void *arg);
	void *arg;
};

struct zeroize_result {
	enum zeroize_exit code;
	struct diag d;
	char *receipt; /* malloc'd JSON after a completed zeroize */
	bool resumed;  /* an interrupted zeroize was finished */
};

/* Print-ready challenge JSON (*ret malloc'd); increments the zeroize
 * counter, defining it on first use. */
int zeroize_challenge(const struct zeroize_opts *o, char **ret, struct zeroize_result *res);

/* Check the order at order_path (and order_path.sig), then wipe. A journal
 * already present is finished first, and the order is not used. */
int zeroize_run(const struct zeroize_opts *o, const char *order_path, struct zeroize_result *res);

/* Finish the zeroize the journal describes. */
int zeroize_resume(const struct zeroize_opts *o, struct zeroize_result *res);

/* Is a zeroize under way (journal present)? */
bool zeroize_pending(const char *state_dir);
/* Was the appliance zeroized and not provisioned since (a receipt, no
 * policy)? */
bool zeroize_done(const char *state_dir);

void zeroize_result_free(struct zeroize_result *res);
