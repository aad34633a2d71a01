/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A TCP proxy in front of swtpm, for the tests and the benchmarks (one
 * fixture, not a copy per user). It listens on a free port pair Q (TPM
 * commands) and Q+1 (control: tpm2-tss's swtpm TCTI sends CMD_SET_LOCALITY
 * there once per init), and forwards each connection to swtpm's P and P+1
 * in a thread of its own.
 *
 * It counts TPM commands by parsing the client->server stream (10-byte
 * header: tag u16, commandSize u32, commandCode u32, big-endian) and
 * responses by parsing the server->client stream (tag u16, responseSize
 * u32), and times each command from its last request byte forwarded to its
 * last response byte received (the TPM's own time).
 *
 * Fault injection (tpmproxy_cut_after): right after the k-th TPM response
 * has been forwarded whole, the proxy SIGKILLs swtpm (when given its pid),
 * closes every connection and refuses all later ones: from the client's
 * side, the TPM stopped answering between two commands.
 */

/* TPM command codes are 0x11F..0x19x (Part 2, 6.5.2): one slot per code in
 * 0x100..0x1FF, the rest in "other". */
#define TPMPROXY_CC_BASE 0x100u
#define TPMPROXY_CC_SLOTS 256u

struct tpmproxy_counts {
	unsigned long cmds;  /* TPM commands, client -> swtpm */
	unsigned long rsps;  /* TPM responses forwarded whole, swtpm -> client */
	unsigned long conns; /* TCP connections to the TPM port */
	unsigned long ctrl;  /* connections to the control port */
	unsigned long cc[TPMPROXY_CC_SLOTS + 1]; /* per commandCode; [SLOTS] other */
	/* Per commandCode, the commands whose response came back, and their
	 * time from the last request byte forwarded to swtpm to the last
	 * response byte received from it (ns). */
	unsigned long timed[TPMPROXY_CC_SLOTS + 1];
	unsigned long long ns[TPMPROXY_CC_SLOTS + 1];
	unsigned long long ns_all; /* sum of ns[] */
};

/* Arm the fault before tpmproxy_start: cut after the k-th response (k >= 1),
 * and SIGKILL kill_pid then when it is > 0. */
void tpmproxy_cut_after(unsigned long k, pid_t kill_pid);

/* Start the proxy thread in front of swtpm's port pair upstream; *ret_port
 * is Q. 0 or -errno. */
int tpmproxy_start(uint16_t upstream, uint16_t *ret_port);

/* Has the armed fault fired? */
bool tpmproxy_cut_done(void);

void tpmproxy_snap(struct tpmproxy_counts *c);
/* acc += (b - a) */
void tpmproxy_add_diff(struct tpmproxy_counts *acc, const struct tpmproxy_counts *a,
		       const struct tpmproxy_counts *b);
size_t tpmproxy_cc_slot(uint32_t code);

/* The command codes seen, in order (at most the first ORDER_MAX). */
#define TPMPROXY_ORDER_MAX 1024
size_t tpmproxy_order(const uint32_t **ret);

/* Loopback helpers: a connected socket to / a listening socket on
 * 127.0.0.1:port, or -errno. */
int tpmproxy_connect(uint16_t port);
int tpmproxy_listen(uint16_t port);
/* Write all n bytes (retrying short writes and EINTR); false on failure. */
bool tpmproxy_write_all(int fd, const void *buf, size_t n);
