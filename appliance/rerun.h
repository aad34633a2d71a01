/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>

#include "diag.h"

/*
 * A second sealboot-anchor in one boot (a restarted unit, an operator, two
 * at once): what the run directory says about an earlier run, and the lock
 * that keeps two runs apart (docs/design.md, "Reruns and the run lock").
 */

/* The run directory's files (docs/formats/eventlog.md). */
#define ANCHOR_RUN_HANDOFF "handoff.json"
#define ANCHOR_RUN_STATUS "status.json"
#define ANCHOR_RUN_EVENTLOG "eventlog.jsonl"
#define ANCHOR_RUN_LOCK "anchor.lock"

/*
 * Take the run lock: flock(LOCK_EX | LOCK_NB) on ANCHOR_RUN_LOCK in the run
 * directory (created 0600, never a symlink), held until *ret_fd is closed
 * (or the process ends). Errors: another run holds it -EWOULDBLOCK (no
 * diagnosis: the caller words it); cannot create or lock it -errno.
 */
int rerun_lock(int run_fd, int *ret_fd, struct diag *d);

enum rerun_found {
	RERUN_NONE,   /* no run of the anchor in this boot that the TPM confirms */
	RERUN_OK,     /* an earlier run in this boot succeeded */
	RERUN_FAILED, /* an earlier run in this boot failed */
};

struct rerun {
	enum rerun_found found;
	/* RERUN_OK: a handoff.json is there, and it names this boot and the
	 * PCR values the event log replays to. */
	bool handoff, handoff_matches;
	unsigned exit_code; /* the earlier run's */
	char verdict[600];  /* the earlier run's verdict, one line */
};

/*
 * Did the anchor already run in this boot? Yes when status.json names this
 * boot and the event log beside it replays to the TPM's PCRs 13 and 15 now
 * (so it is the log of the runs that extended them; a status.json from an
 * earlier boot, or one with no such log, is no earlier run). Reads only;
 * opens its own TPM connection. Errors: the TPM cannot be asked: those of
 * tpm_open() and tpm_pcr_read() (-ENODEV: no TPM answers); out of memory
 * -ENOMEM.
 */
int rerun_inspect(int run_fd, const char *tcti, struct rerun *ret, struct diag *d);
