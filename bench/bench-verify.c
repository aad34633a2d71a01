/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-verify: sealboot-sign verify beside its peers, in one run on the same
 * files.
 *
 *   1. one payload of --size: `sealboot-sign verify` (signature, chain, and a
 *      streaming SHA-256 of the payload) vs `openssl dgst -sha256` and
 *      `sha256sum` on the same file;
 *   2. two payloads of --size: verify with --threads 1 vs --threads 2;
 *   3. peak RSS of verify on the big bundle vs a small one (flat memory).
 *
 * Every contender is a child process timed the same way (wall clock, best of
 * --runs) with its peak RSS from wait4(). Files are written once and read
 * once untimed so the page cache, not the disk, is what all contenders see.
 * Targets from the issue are printed beside the figures; a benchmark
 * reports, it does not fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct result {
	double secs;  /* best wall time */
	long rss_kib; /* peak RSS of that run */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run argv with stdout to /dev/null; exit non-zero on failure. */
static struct result run(char *const argv[], int runs)
{
	struct result best = {1e30, 0};
	posix_spawn_file_actions_t fa;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	for (int i = 0; i < runs; i++) {
		struct rusage ru;
		double t0 = now(), t;
		pid_t pid;
		int st;

		if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
			fprintf(stderr, "bench-verify: cannot run %s\n", argv[0]);
			exit(1);
		}
		if (wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "bench-verify: %s failed\n", argv[0]);
			exit(1);
		}
		t = now() - t0;
		if (t < best.secs) {
			best.secs = t;
			best.rss_kib = ru.ru_maxrss;
		}
	}
	posix_spawn_file_actions_destroy(&fa);
	return best;
}

static void sh(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "bench-verify: failed: %s\n", cmd);
		exit(1);
	}
}

/* size bytes of xorshift noise: incompressible, cheap to make. */
static void make_file(const char *path, uint64_t size)
{
	static uint64_t buf[1 << 17];
	uint64_t x = 0x9e3779b97f4a7c15ull ^ size ^ (uint64_t)strlen(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0) {
		perror(path);
		exit(1);
	}
	for (uint64_t done = 0; done < size;) {
		size_t n = sizeof(buf);

		for (size_t i = 0; i < n / 8; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = x;
		}
		if (n > size - done)
			n = (size_t)(size - done);
		if (write(fd, buf, n) != (ssize_t)n) {
			perror(path);
			exit(1);
		}
		done += n;
	}
	close(fd);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	switch (*end) {
	case 'K': case 'k': v *= 1024; break;
	case 'M': case 'm': v *= 1024 * 1024; break;
	case 'G': case 'g': v *= 1024.0 * 1024 * 1024; break;
	case 0: break;
	default:
		fprintf(stderr, "bench-verify: bad size %s\n", s);
		exit(2);
	}
	return (uint64_t)v;
}

static double mibs(uint64_t bytes, double secs)
{
	return (double)bytes / (1024.0 * 1024.0) / secs;
}

static void usage(void)
{
	printf("Usage: bench-verify [--size 2G] [--dir /var/tmp] [--runs 3] [--keep]\n"
	       "                    [--sign PATH] [--pki-script PATH]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"size", required_argument, NULL, 's'}, {"dir", required_argument, NULL, 'd'},
		{"runs", required_argument, NULL, 'r'}, {"keep", no_argument, NULL, 'k'},
		{"sign", required_argument, NULL, 'S'}, {"pki-script", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},       {0},
	};
	const char *base = "/var/tmp", *sign = SEALBOOT_SIGN_PATH, *pki = SEALBOOT_PKI_SCRIPT;
	uint64_t size = 2ull << 30, small = 64ull << 20;
	int runs = 3, keep = 0, c;
	char w[256], cmd[2048], p[8][512], ca[512], threads1[] = "1", threads2[] = "2";

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': size = parse_size(optarg); break;
		case 'd': base = optarg; break;
		case 'r': runs = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
		case 'k': keep = 1; break;
		case 'S': sign = optarg; break;
		case 'P': pki = optarg; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	snprintf(w, sizeof(w), "%s/sealboot-bench.XXXXXX", base);
	if (!mkdtemp(w)) {
		perror(w);
		return 1;
	}
	printf("bench-verify: %.2f GiB payloads in %s, best of %d runs, %ld CPUs\n",
	       (double)size / (1 << 30), w, runs, sysconf(_SC_NPROCESSORS_ONLN));

	snprintf(cmd, sizeof(cmd), "'%s' '%s/pki'", pki, w);
	sh(cmd);
	snprintf(ca, sizeof(ca), "%s/pki/root.crt", w);
	/* one: one big payload; two: two big payloads; small: one small one */
	snprintf(cmd, sizeof(cmd), "mkdir '%s/one' '%s/two' '%s/small'", w, w, w);
	sh(cmd);
	snprintf(p[0], sizeof(p[0]), "%s/one/disk.img", w);
	snprintf(p[1], sizeof(p[1]), "%s/two/a.img", w);
	snprintf(p[2], sizeof(p[2]), "%s/two/b.img", w);
	snprintf(p[3], sizeof(p[3]), "%s/small/disk.img", w);
	printf("writing %.1f GiB of test data...\n", 3.0 * (double)size / (1 << 30));
	fflush(stdout);
	make_file(p[0], size);
	make_file(p[1], size);
	make_file(p[2], size);
	make_file(p[3], small);
	static const char *const bundles[][3] = {
		{"one", "--payload", "disk:disk.img"},
		{"small", "--payload", "disk:disk.img"},
	};
	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd),
			 "'%s' sign --no-progress --key '%s/pki/signer.key' --cert "
			 "'%s/pki/signer.crt' --chain '%s/pki/chain.pem' --name bench --version 1 "
			 "--class bench %s %s '%s/%s' 2>/dev/null",
			 sign, w, w, w, bundles[i][1], bundles[i][2], w, bundles[i][0]);
		sh(cmd);
	}
	snprintf(cmd, sizeof(cmd),
		 "'%s' sign --no-progress --key '%s/pki/signer.key' --cert '%s/pki/signer.crt' "
		 "--chain '%s/pki/chain.pem' --name bench --version 1 --class bench "
		 "--payload disk:a.img --payload disk:b.img '%s/two' 2>/dev/null",
		 sign, w, w, w, w);
	sh(cmd);
	/* Warm the page cache: everyone reads from memory. */
	snprintf(cmd, sizeof(cmd), "cat '%s' '%s' '%s' > /dev/null", p[0], p[1], p[2]);
	sh(cmd);

	char d_one[512], d_two[512], d_small[512];

	snprintf(d_one, sizeof(d_one), "%s/one", w);
	snprintf(d_two, sizeof(d_two), "%s/two", w);
	snprintf(d_small, sizeof(d_small), "%s/small", w);
	char *v1[] = {(char *)sign, "verify", "--no-progress", "--threads", threads1, "--ca", ca,
		      d_one, NULL};
	char *od[] = {"openssl", "dgst", "-sha256", p[0], NULL};
	char *ss[] = {"sha256sum", p[0], NULL};
	char *t1[] = {(char *)sign, "verify", "--no-progress", "--threads", threads1, "--ca", ca,
		      d_two, NULL};
	char *t2[] = {(char *)sign, "verify", "--no-progress", "--threads", threads2, "--ca", ca,
		      d_two, NULL};
	char *vs[] = {(char *)sign, "verify", "--no-progress", "--ca", ca, d_small, NULL};

	struct result r_ours = run(v1, runs), r_ossl = run(od, runs), r_sum = run(ss, runs);
	struct result r_t1 = run(t1, runs), r_t2 = run(t2, runs), r_small = run(vs, runs);
	double ratio = r_ossl.secs / r_ours.secs, speedup = r_t1.secs / r_t2.secs;

	printf("\n1. one payload, %.2f GiB (single stream)\n", (double)size / (1 << 30));
	printf("   %-36s %8s %10s %10s\n", "contender", "seconds", "MiB/s", "peak RSS");
	printf("   %-36s %8.3f %10.0f %7ld KiB\n", "sealboot-sign verify --threads 1", r_ours.secs,
	       mibs(size, r_ours.secs), r_ours.rss_kib);
	printf("   %-36s %8.3f %10.0f %7ld KiB\n", "openssl dgst -sha256", r_ossl.secs,
	       mibs(size, r_ossl.secs), r_ossl.rss_kib);
	printf("   %-36s %8.3f %10.0f %7ld KiB\n", "sha256sum", r_sum.secs, mibs(size, r_sum.secs),
	       r_sum.rss_kib);
	printf("   ours / openssl rate: %.2fx   target >= 0.95x: %s\n", ratio,
	       ratio >= 0.95 ? "PASS" : "MISS");

	printf("\n2. two payloads, %.2f GiB each\n", (double)size / (1 << 30));
	printf("   %-36s %8.3f %10.0f\n", "verify --threads 1", r_t1.secs,
	       mibs(2 * size, r_t1.secs));
	printf("   %-36s %8.3f %10.0f\n", "verify --threads 2", r_t2.secs,
	       mibs(2 * size, r_t2.secs));
	printf("   speed-up: %.2fx   target ~2x on 2 cores: %s\n", speedup,
	       speedup >= 1.8 ? "PASS" : "MISS");

	printf("\n3. memory: peak RSS of verify\n");
	printf("   %7.0f MiB bundle: %7ld KiB\n", (double)small / (1 << 20), r_small.rss_kib);
	printf("   %7.0f MiB bundle: %7ld KiB\n", (double)size / (1 << 20), r_ours.rss_kib);
	printf("   2 x %.0f MiB, 2 threads: %ld KiB\n", (double)size / (1 << 20), r_t2.rss_kib);
	printf("   flat in image size (within 8 MiB): %s\n",
	       labs(r_ours.rss_kib - r_small.rss_kib) <= 8192 ? "PASS" : "MISS");

	if (!keep) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w);
		sh(cmd);
	} else {
		printf("\nkept %s\n", w);
	}
	return 0;
}
