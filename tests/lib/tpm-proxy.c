/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tpm-proxy: the TPM proxy fixture (tpmproxy.h) as a program for the shell
 * tests.
 *
 *   tpm-proxy --upstream P --port-file FILE [--cut-after K [--kill PID]]
 *
 * Forwards 127.0.0.1:Q and Q+1 to swtpm's P and P+1, writes Q to FILE once
 * it listens, and runs until SIGTERM or SIGINT; then prints
 * "commands N responses M" and "order CC CC ..." (the command codes, in
 * order) on stdout and exits 0. With --cut-after K, right
 * after the K-th TPM response it kills PID (SIGKILL) and answers nothing
 * more.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tpmproxy.h"

static unsigned long number(const char *opt, const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || v == 0) {
		fprintf(stderr, "tpm-proxy: %s '%s' is not a positive number\n", opt, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"upstream", required_argument, NULL, 'u'},
	    {"port-file", required_argument, NULL, 'p'},
	    {"cut-after", required_argument, NULL, 'k'},
	    {"kill", required_argument, NULL, 'K'},
	    {0},
	};
	unsigned long upstream = 0, k = 0, pid = 0;
	const char *port_file = NULL;
	struct tpmproxy_counts c;
	char tmp[4200];
	sigset_t set;
	uint16_t port;
	FILE *f;
	int opt, r, sig;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			upstream = number("--upstream", optarg);
			break;
		case 'p':
			port_file = optarg;
			break;
		case 'k':
			k = number("--cut-after", optarg);
			break;
		case 'K':
			pid = number("--kill", optarg);
			break;
		default:
			return 2;
		}
	}
	if (optind != argc || !port_file || upstream == 0 || upstream > 65534) {
		fprintf(stderr, "usage: tpm-proxy --upstream P --port-file FILE [--cut-after K "
				"[--kill PID]]\n");
		return 2;
	}
	/* Signals go to sigwait below, in every thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	if (k)
		tpmproxy_cut_after(k, (pid_t)pid);
	r = tpmproxy_start((uint16_t)upstream, &port);
	if (r < 0) {
		fprintf(stderr, "tpm-proxy: cannot start: %s\n", strerror(-r));
		return 1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%u\n", (unsigned)port) < 0 || fclose(f) != 0 ||
	    rename(tmp, port_file) < 0) {
		fprintf(stderr, "tpm-proxy: cannot write %s: %s\n", port_file, strerror(errno));
		return 1;
	}
	while (sigwait(&set, &sig) != 0)
		;
	tpmproxy_snap(&c);
	printf("commands %lu responses %lu\n", c.cmds, c.rsps);
	{
		const uint32_t *codes;
		size_t n = tpmproxy_order(&codes);

		printf("order");
		for (size_t i = 0; i < n; i++)
			printf(" 0x%x", (unsigned)codes[i]);
		printf("\n");
	}
	return 0;
}
