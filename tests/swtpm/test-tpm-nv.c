/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NV indices against a real swtpm (run through with-swtpm): a data index is
 * written, read back, write-locked (then refused with -EROFS, contents kept);
 * a counter only goes up; defining twice is -EEXIST; a missing index is
 * -ENOENT; undefine removes both; nothing is left loaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tpm-test.h"
#include "tpm.h"

#define DATA_INDEX 0x01500001u
#define COUNTER_INDEX 0x01500002u

int main(void)
{
	uint8_t want[32], got[32], evil[32];
	uint64_t c1 = 0, c2 = 0;
	struct tpm *t = NULL;
	struct diag d = {0};
	int r;

	t = tpm_test_open();
	for (int i = 0; i < 32; i++) {
		want[i] = (uint8_t)(i * 7 + 1);
		evil[i] = 0xee;
	}

	/* Data index: define, write, read back. */
	CHECK(tpm_nv_define(t, DATA_INDEX, TPM_NV_DATA, 32, &d) == 0, "define: %s", d.msg);
	memset(&d, 0, sizeof(d));
	r = tpm_nv_define(t, DATA_INDEX, TPM_NV_DATA, 32, &d);
	CHECK(r == -EEXIST && strstr(d.msg, "0x01500001"), "define twice: %d %s", r, d.msg);
	memset(&d, 0, sizeof(d));
	CHECK(tpm_nv_write(t, DATA_INDEX, want, 32, &d) == 0, "write: %s", d.msg);
	CHECK(tpm_nv_read(t, DATA_INDEX, got, 32, &d) == 0 && !memcmp(got, want, 32),
	      "read back: %s", d.msg);

	/* Write-locked: a later writer (one who can write the disk, say)
	 * cannot replace it, and it still reads. */
	CHECK(tpm_nv_write_lock(t, DATA_INDEX, &d) == 0, "lock: %s", d.msg);
	memset(&d, 0, sizeof(d));
	r = tpm_nv_write(t, DATA_INDEX, evil, 32, &d);
	CHECK(r == -EROFS && strstr(d.msg, "write-locked"), "write after lock: %d %s", r, d.msg);
	memset(&d, 0, sizeof(d));
	CHECK(tpm_nv_read(t, DATA_INDEX, got, 32, &d) == 0 && !memcmp(got, want, 32),
	      "contents changed after a refused write: %s", d.msg);

	/* Counter: unread before its first increment, then strictly +1. */
	memset(&d, 0, sizeof(d));
	CHECK(tpm_nv_define(t, COUNTER_INDEX, TPM_NV_COUNTER, 8, &d) == 0, "define counter: %s",
	      d.msg);
	memset(&d, 0, sizeof(d));
	r = tpm_nv_read_counter(t, COUNTER_INDEX, &c1, &d);
	CHECK(r == -ENODATA, "counter read before increment: %d %s", r, d.msg);
	memset(&d, 0, sizeof(d));
	CHECK(tpm_nv_increment(t, COUNTER_INDEX, &d) == 0, "increment: %s", d.msg);
	CHECK(tpm_nv_read_counter(t, COUNTER_INDEX, &c1, &d) == 0, "read: %s", d.msg);
	CHECK(tpm_nv_increment(t, COUNTER_INDEX, &d) == 0, "increment: %s", d.msg);
	CHECK(tpm_nv_read_counter(t, COUNTER_INDEX, &c2, &d) == 0, "read: %s", d.msg);
	CHECK(c2 == c1 + 1, "counter went %llu -> %llu", (unsigned long long)c1,
	      (unsigned long long)c2);
	/* A counter cannot be written down. */
	memset(&d, 0, sizeof(d));
	r = tpm_nv_write(t, COUNTER_INDEX, evil, 8, &d);
	CHECK(r < 0, "a counter accepted a plain write");

	/* Undefine; then they are gone. */
	memset(&d, 0, sizeof(d));
	CHECK(tpm_nv_undefine(t, DATA_INDEX, &d) == 0, "undefine: %s", d.msg);
	CHECK(tpm_nv_undefine(t, COUNTER_INDEX, &d) == 0, "undefine counter: %s", d.msg);
	memset(&d, 0, sizeof(d));
	r = tpm_nv_read(t, DATA_INDEX, got, 32, &d);
	CHECK(r == -ENOENT, "read after undefine: %d %s", r, d.msg);
	memset(&d, 0, sizeof(d));
	r = tpm_nv_define(t, 0x81000001u, TPM_NV_DATA, 32, &d);
	CHECK(r == -EINVAL, "persistent handle as NV index: %d %s", r, d.msg);

	tpm_test_close_clean(t);
	return CHECK_RESULT("tpm nv");
}
