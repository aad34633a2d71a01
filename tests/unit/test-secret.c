/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "secret.h"

/* Is every page of [p, p+len) resident and locked? mincore tells resident;
 * /proc/self/smaps would tell locked, but a lock that failed would have made
 * secret_new fail, which is what the API promises. */
static void test_new_is_zeroed_and_locked(void **state)
{
	struct secret *s = NULL;
	unsigned char vec[4];

	assert_int_equal(secret_new(100, &s), 0);
	assert_non_null(s);
	assert_int_equal(s->len, 100);
	assert_true(s->cap >= 100);
	assert_int_equal((uintptr_t)s->data % (uintptr_t)sysconf(_SC_PAGESIZE), 0);
	for (size_t i = 0; i < s->cap; i++)
		assert_int_equal(s->data[i], 0);
	assert_int_equal(mincore(s->data, s->cap, vec), 0);
	assert_true(vec[0] & 1);
	secret_free(s);
	secret_free(NULL);
}

static void test_read_fd_strips_one_newline(void **state)
{
	_cleanup_secret_ struct secret *s = NULL;
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "hunter2\n\n", 9), 9);
	close(p[1]);
	assert_int_equal(secret_read_fd(p[0], 64, &s), 0);
	close(p[0]);
	assert_int_equal(s->len, 8);
	assert_memory_equal(s->data, "hunter2\n", 8);
}

static void test_read_fd_too_long_is_refused(void **state)
{
	struct secret *s = NULL;
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "0123456789", 10), 10);
	close(p[1]);
	assert_int_equal(secret_read_fd(p[0], 9, &s), -EMSGSIZE);
	assert_null(s);
	close(p[0]);
}

static void test_read_fd_exact_fit(void **state)
{
	_cleanup_secret_ struct secret *s = NULL;
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "012345678", 9), 9);
	close(p[1]);
	assert_int_equal(secret_read_fd(p[0], 9, &s), 0);
	close(p[0]);
	assert_int_equal(s->len, 9);
}

static void test_read_fd_bad_fd(void **state)
{
	struct secret *s = NULL;

	assert_int_equal(secret_read_fd(-1, 16, &s), -EBADF);
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_is_zeroed_and_locked),
	    cmocka_unit_test(test_read_fd_strips_one_newline),
	    cmocka_unit_test(test_read_fd_too_long_is_refused),
	    cmocka_unit_test(test_read_fd_exact_fit),
	    cmocka_unit_test(test_read_fd_bad_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
