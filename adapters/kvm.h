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
 * Before that it refuses KVM on a machine that QEMU itself emulates (TCG,
 * kvm_refused_under): QEMU's TCG offers SVM with -cpu max, the probe's
 * `hlt` works, but a real guest's kernel hangs (seen: "kvm: Unhandled
 * WRMSR(0xc0010007)" in the appliance test's nested guest).
 * why gets the reason when false.
 */
bool kvm_works(unsigned timeout_ms, char *why, size_t why_size);

enum { KVM_HV_SIG_SIZE = 13 };

/* The signature of the hypervisor this machine runs under (CPUID leaf
 * 0x40000000, when CPUID.1:ECX bit 31 says there is one), 12 characters and
 * a NUL; "" on bare metal or another architecture. */
void kvm_hypervisor_signature(char sig[KVM_HV_SIG_SIZE]);

/* Is KVM refused under the hypervisor with this signature? Only QEMU's TCG
 * ("TCGTCGTCGTCG"): its nested virtualization is emulated and unreliable. */
bool kvm_refused_under(const char *sig);
