/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/*
 * Does KVM really run a guest here? /dev/kvm existing is not enough (on some
 * hosts, nested or restricted, a KVM guest hangs or fails). The probe makes
 * checks that KVM offers the x86-64-v2 CPU baseline distribution kernels
 * need (a nested KVM seen here offers no SSE3, and a Debian kernel then
 * hangs at boot), then makes a VM with one vCPU whose first instruction is
 * `hlt` and expects the vCPU to exit with KVM_EXIT_HLT, all in a child
 * process given timeout_ms: a probe that hangs cannot hang the launcher.
 * why gets the reason when false.
 */
bool kvm_works(unsigned timeout_ms, char *why, size_t why_size);
