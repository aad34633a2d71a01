/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test-only: `sealboot-anchor zeroize` that pulls its own plug. Runs the
 * same zeroize library as the anchor with the after_step hook set, and
 * SIGKILLs itself right after step STEP's action, before the journal
 * records it (step 0: right after the journal was first written). Not
 * installed; the anchor itself never sets the hook (docs/design.md).
 *
 *   zeroize-crash STEP ORDER STATE_DIR RUN_DIR LAUNCHER
 *
 * Exits 0 if it got past STEP without crashing (the zeroize ended first),
 * the zeroize's code if that failed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "zeroize.h"

static void crash(unsigned step, void *arg)
{
	if (step == *(unsigned *)arg) {
		fprintf(stderr, "zeroize-crash: killed after step %u\n", step);
		fflush(stderr);
		raise(SIGKILL);
	}
}

int main(int argc, char **argv)
{
	struct zeroize_result res;
	unsigned step;
	int r;

	if (argc != 6) {
		fprintf(stderr, "usage: zeroize-crash STEP ORDER STATE_DIR RUN_DIR LAUNCHER\n");
		return 2;
	}
	step = (unsigned)strtoul(argv[1], NULL, 10);
	struct zeroize_opts o = {
	    .state_dir = argv[3],
	    .run_dir = argv[4],
	    .tcti = getenv("SEALBOOT_TCTI"),
	    .launcher = argv[5],
	    .after_step = crash,
	    .arg = &step,
	};
	r = zeroize_run(&o, argv[2], &res);
	if (r < 0)
		fprintf(stderr, "zeroize-crash: %s\n", res.d.msg);
	zeroize_result_free(&res);
	return r < 0 ? (int)res.code : 0;
}
