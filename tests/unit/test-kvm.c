/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The KVM probe (adapters/kvm.c) on whatever host runs the tests: it must
 * answer within its timeout, agree with itself, and when it says no, say
 * why in one line. On this project's CI hosts KVM exists but cannot give a
 * guest an x86-64-v2 CPU, so the "no" path is the one exercised there; on a
 * host without /dev/kvm the reason says that.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kvm.h"

static void test_probe(void **state)
{
	char why[256] = "", why2[256] = "";
	struct timespec t0, t1;
	bool ok, ok2;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok = kvm_works(2000, why, sizeof(why));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec <= 3); /* bounded by its own timeout */
	ok2 = kvm_works(2000, why2, sizeof(why2));
	assert_int_equal(ok, ok2);
	if (ok) {
		printf("KVM works here\n");
		return;
	}
	printf("KVM not used here: %s\n", why);
	assert_true(why[0] != 0);
	assert_null(strchr(why, '\n'));
	assert_string_equal(why, why2);
	if (access("/dev/kvm", R_OK | W_OK) != 0)
		assert_string_equal(why, "no usable /dev/kvm");
}

/* The machine QEMU's TCG emulates: refused (its SVM passes the probe and
 * hangs real guests); KVM's and others', and bare metal, are probed. */
static void test_refused_under(void **state)
{
	char sig[KVM_HV_SIG_SIZE];

	assert_true(kvm_refused_under("TCGTCGTCGTCG"));
	assert_false(kvm_refused_under("KVMKVMKVM"));
	assert_false(kvm_refused_under("Microsoft Hv"));
	assert_false(kvm_refused_under("VMwareVMware"));
	assert_false(kvm_refused_under(""));
	assert_false(kvm_refused_under("TCGTCGTCGTC"));
	kvm_hypervisor_signature(sig);
	assert_int_equal(sig[KVM_HV_SIG_SIZE - 1], 0);
	printf("hypervisor signature here: '%s'\n", sig);
}

static void test_tiny_timeout(void **state)
{
	char why[256] = "";

	/* 0 ms: the child cannot finish in time, or finishes at once; either
	 * way the call returns and a "no" has a reason. */
	if (!kvm_works(0, why, sizeof(why)))
		assert_true(why[0] != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_probe),
	    cmocka_unit_test(test_refused_under),
	    cmocka_unit_test(test_tiny_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
