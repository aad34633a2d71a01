/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Shared by the TPM adapter tests (run through tests/lib/with-swtpm): open
 * the simulator the fixture started, and prove at the end that the test left
 * nothing loaded in the TPM. Include after check.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tpm.h"

/* The TPM at SEALBOOT_TCTI; exits the test (status 1) if there is none. */
static inline struct tpm *tpm_test_open(void)
{
	const char *tcti = getenv("SEALBOOT_TCTI");
	struct diag d = {0};
	struct tpm *t = NULL;

	if (!tcti) {
		printf("SEALBOOT_TCTI is not set (run under tests/lib/with-swtpm)\n");
		exit(1);
	}
	if (tpm_open(tcti, &t, &d) < 0) {
		printf("FAIL: tpm_open: %s\n", d.msg);
		exit(1);
	}
	return t;
}

/* No transient object and no session may remain; then close. */
static inline void tpm_test_close_clean(struct tpm *t)
{
	unsigned transient = 99, sessions = 99;
	struct diag d = {0};

	CHECK(tpm_count_loaded(t, &transient, &sessions, &d) == 0, "count: %s", d.msg);
	CHECK(transient == 0 && sessions == 0, "left behind: %u objects, %u sessions", transient,
	      sessions);
	tpm_close(t);
}
