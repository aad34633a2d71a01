/* SPDX-License-Identifier: Apache-2.0 */
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Child exit codes: what went wrong, for the message. */
enum {
	PROBE_OK = 0,
	PROBE_NO_DEVICE = 10,
	PROBE_API,
	PROBE_VM,
	PROBE_MEMORY,
	PROBE_VCPU,
	PROBE_REGS,
	PROBE_RUN,
	PROBE_EXIT,
	PROBE_CPUID,
};

static const char *probe_reason(int code)
{
	switch (code) {
	case PROBE_NO_DEVICE:
		return "cannot open /dev/kvm";
	case PROBE_API:
		return "/dev/kvm speaks another KVM API version";
	case PROBE_VM:
		return "KVM_CREATE_VM failed";
	case PROBE_MEMORY:
		return "cannot give the test VM memory";
	case PROBE_VCPU:
		return "KVM_CREATE_VCPU failed";
	case PROBE_REGS:
		return "cannot set the test vCPU's registers";
	case PROBE_RUN:
		return "KVM_RUN failed";
	case PROBE_EXIT:
		return "the test vCPU did not halt as it should";
	case PROBE_CPUID:
		return "KVM here cannot give a guest an x86-64-v2 CPU (SSE3, SSSE3, SSE4.1/4.2, "
		       "POPCNT, CX16, LAHF, long mode), which distribution kernels need";
	default:
		return "the probe failed";
	}
}

/* Does KVM offer the x86-64-v2 baseline? A nested or restricted KVM may
 * not (seen: no SSE3), and a kernel built for it then hangs early. */
static bool cpuid_baseline(int kvm)
{
	enum { N = 128 };
	struct {
		struct kvm_cpuid2 head;
		struct kvm_cpuid_entry2 e[N];
	} c = {.head.nent = N};
	const uint32_t ecx1 = 1u << 0 | 1u << 9 | 1u << 13 | 1u << 19 | 1u << 20 | 1u << 23;
	bool leaf1 = false, ext = false;

	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, &c) < 0)
		return false;
	for (unsigned i = 0; i < c.head.nent && i < N; i++) {
		const struct kvm_cpuid_entry2 *e = &c.e[i];

		if (e->function == 1)
			leaf1 = (e->ecx & ecx1) == ecx1;
		else if (e->function == 0x80000001)
			ext = (e->edx & (1u << 29)) && (e->ecx & 1u); /* LM, LAHF */
	}
	return leaf1 && ext;
}

/* In the child: one vCPU in real mode at 0x1000, where `hlt` waits. */
static int probe(void)
{
	static const uint8_t code[] = {0xf4}; /* hlt */
	struct kvm_userspace_memory_region region = {0};
	struct kvm_sregs sregs;
	struct kvm_regs regs = {0};
	struct kvm_run *run;
	void *mem;
	int kvm, vm, vcpu, size;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return PROBE_NO_DEVICE;
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return PROBE_API;
	if (!cpuid_baseline(kvm))
		return PROBE_CPUID;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return PROBE_VM;
	mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return PROBE_MEMORY;
	memcpy(mem, code, sizeof(code));
	region.slot = 0;
	region.guest_phys_addr = 0x1000;
	region.memory_size = 0x1000;
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return PROBE_MEMORY;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || size <= 0)
		return PROBE_VCPU;
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return PROBE_VCPU;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return PROBE_REGS;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	regs.rip = 0x1000;
	regs.rflags = 0x2;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return PROBE_REGS;
	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		return PROBE_RUN;
	return run->exit_reason == KVM_EXIT_HLT ? PROBE_OK : PROBE_EXIT;
}

bool kvm_works(unsigned timeout_ms, char *why, size_t why_size)
{
	struct timespec start, now;
	int status = 0;
	pid_t pid, got;

	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		snprintf(why, why_size, "no usable /dev/kvm");
		return false;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, why_size, "cannot fork the KVM probe: %s", strerror(errno));
		return false;
	}
	if (pid == 0)
		_exit(probe());
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		got = waitpid(pid, &status, WNOHANG);
		if (got == pid)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
		    (long)timeout_ms) {
			kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			snprintf(why, why_size, "a test KVM guest did not halt within %u ms",
				 timeout_ms);
			return false;
		}
		usleep(1000);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == PROBE_OK)
		return true;
	snprintf(why, why_size, "%s",
		 WIFEXITED(status) ? probe_reason(WEXITSTATUS(status)) : "the KVM probe crashed");
	return false;
}
