/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdio.h>

/*
 * For integration tests written as plain programs (not cmocka): a failed
 * CHECK prints where and why and counts, the test goes on to report every
 * failure, and main() returns CHECK_RESULT(name).
 */
static int check_failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);                                \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_RESULT(name)                                                                         \
	(printf("%s: %s (%d failures)\n", name, check_failures ? "FAILED" : "all checks passed",   \
		check_failures),                                                                   \
	 check_failures ? 1 : 0)
