/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-unseal: the boot-time unlock (unseal the LUKS key from the TPM and
 * check it against the LUKS2 keyslot) beside clevis (`clevis encrypt tpm2` /
 * `clevis decrypt`, Debian's clevis-tpm2 over tpm2-tools), in one run
 * against the same swtpm.
 *
 *   1. swtpm is the tests' fixture (tests/lib/with-swtpm over
 *      tests/lib/swtpm.sh: free port pair, private state, orderly shutdown;
 *      run without it, the bench runs itself again under it); every client (our tpm.c and clevis's
 * tpm2-tools alike) reaches it through an in-process TCP proxy (the tests' fixture,
 *      tests/lib/tpmproxy.c) that forwards both ways and counts
 *      TPM commands by parsing the client->server stream (10-byte header:
 *      tag u16, commandSize u32, commandCode u32, big-endian). tpm2-tss's
 *      swtpm TCTI also uses the control port (P+1: CMD_SET_LOCALITY once
 *      per TCTI init), so the proxy listens on a port pair too and counts
 *      control connections apart from TPM commands. The TCTI opens one TCP
 *      connection per command, so both contenders pay the proxy's extra
 *      loopback hop on every command alike.
 *   2. a file-backed LUKS2 volume with a random 32-byte key (one keyslot).
 *   3. ours, the anchor's unlock path: an NV counter (the PCR policy
 *      rollback counter; serial = its value), the volume key (what the
 *      anchor seals, adapters/luks.h) sealed once with
 *      authPolicy = PolicyAuthorize(admin P-256 key Name, empty ref), and
 *      the admin's approval of this boot (PolicyPCR over PCRs 7+15, PolicyNV
 *      counter <= serial) signed offline over aHash. Per round tpm_open +
 *      tpm_unseal_approved + luks_unlock (name NULL: key check and volume
 *      identity, as the anchor does without device-mapper) + tpm_close.
 *      For comparison, the previous path: the key also sealed under
 *      PolicyPCR over PCR 15, per round tpm_open + tpm_unseal_pcr +
 *      luks_check_key + tpm_close.
 *   4. clevis: `clevis encrypt tpm2 {"pcr_bank":"sha256","pcr_ids":"15"}`
 *      of the same key once (key on a pipe); then per round `clevis decrypt`
 *      < jwe, its stdout read into a struct secret and checked with
 *      luks_check_key. Every output must open the keyslot, or we fail.
 *   5. luks_check_key and luks_unlock alone, so TPM time can be told from
 *      LUKS time.
 *   6. The proxy also times each TPM command, from its last request byte
 *      forwarded to swtpm to its last response byte received (response
 *      header: tag u16, responseSize u32), per command code: the TPM's own
 *      time, apart from everything outside it (client code, TCP connects,
 *      the proxy's hops, LUKS). --verbose prints it per command code.
 *
 * One untimed warm-up round of each first; then --rounds rounds,
 * interleaved so a noisy neighbour hurts both alike; median and min
 * reported. A benchmark reports, it does not fail on the figure: exit 0
 * unless something broke, 77 when swtpm or clevis is not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "adminkey.h"
#include "luks.h"
#include "secret.h"
#include "tpm.h"
#include "tpmpolicy.h"
#include "tpmproxy.h"

extern char **environ;

#define KEY_LEN 32
#define SEAL_PCR 15
#define CLEVIS_CONFIG "{\"pcr_bank\":\"sha256\",\"pcr_ids\":\"15\"}"
#define VOLUME_SIZE (32 << 20)
/* The PCR policy rollback counter (the anchor's first slot,
 * APPLIANCE_NV_ROLLBACK); the swtpm here is private to this run. */
#define BENCH_NV_COUNTER 0x01A5B010u

/* Target from the issue: ours at most a tenth of clevis's time. */
#define TARGET_RATIO 0.10

#define ROUNDS_MAX 1000

/* Set by the signal thread: it cleans up and exits, and what fails in the
 * main thread meanwhile (swtpm or clevis just killed) is not an error. */
static atomic_bool stopping;

/* Wait for the signal thread's _exit. */
static void park_if_stopping(void)
{
	while (atomic_load(&stopping))
		pause();
}

static void die(const char *what, int err)
{
	park_if_stopping();
	fprintf(stderr, "bench-unseal: %s: %s\n", what, strerror(err));
	exit(1);
}

static void die_diag(const char *what, const struct diag *d)
{
	park_if_stopping();
	fprintf(stderr, "bench-unseal: %s: %s\n", what, d->msg[0] ? d->msg : "failed");
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the counting proxy: tests/lib/tpmproxy.c -------------------------- */

static uint16_t proxy_port; /* Q */

static void proxy_start(uint16_t upstream)
{
	int r = tpmproxy_start(upstream, &proxy_port);

	if (r < 0)
		die("starting the proxy", -r);
}

static struct {
	char dir[4096];	  /* ours: the LUKS volume and clevis's files */
	atomic_int child; /* the clevis process group running now, or 0 */
	pthread_mutex_t lock;
	bool done;
} scratch = {.lock = PTHREAD_MUTEX_INITIALIZER};

static sigset_t blocked; /* handled by the signal thread */

static void rm_rf(const char *path)
{
	pid_t pid;
	int st;
	char *argv[] = {"rm", "-rf", "--", (char *)path, NULL};
	posix_spawnattr_t sa;
	sigset_t none;

	sigemptyset(&none);
	posix_spawnattr_init(&sa);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK);
	if (posix_spawnp(&pid, "rm", NULL, &sa, argv, environ) == 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	posix_spawnattr_destroy(&sa);
}

/* Every exit path: atexit, die(), and the signal thread. Runs once; a
 * second caller waits until the first is done (or has _exit()ed). */
static void cleanup(void)
{
	int child;

	pthread_mutex_lock(&scratch.lock);
	if (!scratch.done) {
		scratch.done = true;
		/* clevis runs in its own process group: its pin and the
		 * tpm2-tools it runs go too. */
		child = atomic_load(&scratch.child);
		if (child > 0)
			(void)kill(-child, SIGTERM);
		if (scratch.dir[0])
			rm_rf(scratch.dir);
	}
	pthread_mutex_unlock(&scratch.lock);
}

static void *signal_main(void *arg)
{
	int sig = 0;

	(void)arg;
	if (sigwait(&blocked, &sig) != 0)
		return NULL;
	atomic_store(&stopping, true);
	fprintf(stderr, "bench-unseal: signal %d, cleaning up\n", sig);
	cleanup();
	_exit(128 + sig);
}

static void setup_signals(void)
{
	pthread_t th;
	int r;

	/* Started in the background by with-swtpm, we inherit SIGINT ignored:
	 * back to the default, so it is delivered, and waited for below. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGHUP);
	/* Set before any other thread starts, so all of them inherit it. */
	r = pthread_sigmask(SIG_BLOCK, &blocked, NULL);
	if (r == 0)
		r = pthread_create(&th, NULL, signal_main, NULL);
	if (r != 0)
		die("signal thread", r);
	/* A write to a dead clevis's pipe must fail, not kill us. */
	signal(SIGPIPE, SIG_IGN);
}

static bool in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4200];

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name);
		if (n && access(buf, X_OK) == 0)
			return true;
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

/* ---- the contenders ------------------------------------------------------ */

static char tcti[64];	  /* through the proxy */
static char vol[4200];	  /* the LUKS2 volume */
static char jwe[4200];	  /* clevis's sealed key */
static char errlog[4200]; /* clevis's stderr, shown when it fails */
static char **child_env;  /* environ with TPM2TOOLS_TCTI pointing at the proxy */

static void show_errlog(void)
{
	FILE *f = fopen(errlog, "re");
	char line[1024];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  | %s", line);
	fclose(f);
}

static char tcti_var[128]; /* TPM2TOOLS_TCTI=..., filled once the proxy runs */

static void build_child_env(void)
{
	size_t n = 0, j = 0;

	while (environ[n])
		n++;
	child_env = calloc(n + 2, sizeof(*child_env));
	if (!child_env)
		die("environment", ENOMEM);
	/* Taken before the first tpm_open, which sets TSS2_LOG for us only. */
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "TPM2TOOLS_TCTI=", 15) != 0)
			child_env[j++] = environ[i];
	child_env[j++] = tcti_var;
	child_env[j] = NULL;
}

/*
 * Run argv with stdin from in_fd and stdout to out_fd, stderr to errlog;
 * return its wall time from spawn to exit. Fails loudly if it fails.
 * When feed is set, in_fd is the read end of a pipe whose write end
 * feed_fd gets feed (at most a pipe buffer) before we wait.
 */
static double run_clevis(char *const argv[], int in_fd, int out_fd, int feed_fd,
			 const struct secret *feed, struct secret *out)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	sigset_t none;
	double t0;
	pid_t pid;
	int st, r, rd = -1, wr = -1;

	if (out) {
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0)
			die("pipe", errno);
		rd = p[0];
		wr = p[1];
		out_fd = wr;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, errlog, O_WRONLY | O_CREAT | O_TRUNC,
					 0600);
	sigemptyset(&none);
	posix_spawnattr_init(&sa);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setpgroup(&sa, 0);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);

	t0 = now();
	r = posix_spawnp(&pid, argv[0], &fa, &sa, argv, child_env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	if (wr >= 0)
		close(wr);
	if (r != 0)
		die(argv[0], r);
	atomic_store(&scratch.child, pid);
	if (feed) {
		/* 32 bytes: fits the pipe buffer, no deadlock with its stdout. */
		if (!tpmproxy_write_all(feed_fd, feed->data, feed->len))
			die("writing the key to clevis", errno);
		close(feed_fd);
	}
	if (out) {
		out->len = 0;
		for (;;) {
			ssize_t k;

			if (out->len == out->cap) {
				fprintf(stderr,
					"bench-unseal: clevis decrypt printed more than %zu "
					"bytes\n",
					out->cap);
				exit(1);
			}
			k = read(rd, out->data + out->len, out->cap - out->len);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				die("reading clevis's output", errno);
			if (k == 0)
				break;
			out->len += (size_t)k;
		}
		close(rd);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid", errno);
	t0 = now() - t0;
	atomic_store(&scratch.child, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		park_if_stopping();
		fprintf(stderr, "bench-unseal: `%s %s` failed (status 0x%x); its stderr:\n",
			argv[0], argv[1], (unsigned)st);
		show_errlog();
		exit(1);
	}
	return t0;
}

/* What the anchor holds at boot: the key sealed to PolicyAuthorize(admin
 * key), the admin's signed approval of this boot's PCRs, and the identity
 * luks_unlock must derive. The PolicyPCR-only copy is for comparison. */
static struct tpm_sealed sealed_auth, sealed_pcr;
static struct tpm_pcr_approval approval;
static uint8_t want_identity[32];
/* What the anchor seals: the volume key itself (adapters/luks.h). clevis and
 * the PolicyPCR row seal a keyslot passphrase, as clevis does. */
static struct secret *vk;

/* One unlock by us, the anchor's path: tpm_open + tpm_unseal_approved +
 * luks_unlock (no device-mapper: key check + volume identity) + tpm_close.
 * Seconds; TPM part and LUKS part apart. */
static double ours_unlock(double *ret_tpm, double *ret_luks)
{
	struct secret *key = NULL;
	struct diag d = {0};
	struct tpm *t = NULL;
	uint8_t identity[32];
	double t0 = now(), t1;
	int r;

	if (tpm_open(tcti, &t, &d) < 0)
		die_diag("tpm_open", &d);
	if (tpm_unseal_approved(t, &sealed_auth, &approval, &key, &d) < 0)
		die_diag("tpm_unseal_approved", &d);
	tpm_close(t);
	t1 = now();
	r = luks_unlock(vol, key, NULL, identity, &d);
	*ret_luks = now() - t1;
	*ret_tpm = t1 - t0;
	secret_free(key);
	if (r < 0)
		die_diag("our unsealed key does not open the LUKS volume", &d);
	if (CRYPTO_memcmp(identity, want_identity, sizeof(identity)) != 0) {
		fprintf(stderr, "bench-unseal: luks_unlock derived another volume identity\n");
		exit(1);
	}
	return now() - t0;
}

/* The previous path, for comparison: tpm_open + tpm_unseal_pcr (PolicyPCR
 * over PCR 15 only) + luks_check_key + tpm_close. */
static double ours_unlock_pcr(double *ret_tpm, double *ret_luks)
{
	struct secret *key = NULL;
	struct diag d = {0};
	struct tpm *t = NULL;
	double t0 = now(), t1;
	int r;

	if (tpm_open(tcti, &t, &d) < 0)
		die_diag("tpm_open", &d);
	if (tpm_unseal_pcr(t, &sealed_pcr, TPMPOLICY_PCR(SEAL_PCR), &key, &d) < 0)
		die_diag("tpm_unseal_pcr", &d);
	tpm_close(t);
	t1 = now();
	r = luks_check_key(vol, key, &d);
	*ret_luks = now() - t1;
	*ret_tpm = t1 - t0;
	secret_free(key);
	if (r < 0)
		die_diag("our unsealed key does not open the LUKS keyslot", &d);
	return now() - t0;
}

/* One unlock by clevis: `clevis decrypt` < jwe, then the same check. */
static double clevis_unlock(struct secret *buf, const struct secret *want, double *ret_tool,
			    double *ret_luks)
{
	char *argv[] = {"clevis", "decrypt", NULL};
	struct diag d = {0};
	double t0 = now(), t1;
	int in, r;

	in = open(jwe, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		die(jwe, errno);
	*ret_tool = run_clevis(argv, in, -1, -1, NULL, buf);
	close(in);
	t1 = now();
	r = luks_check_key(vol, buf, &d);
	*ret_luks = now() - t1;
	if (r < 0) {
		fprintf(stderr,
			"bench-unseal: clevis decrypt's output (%zu bytes) does not open "
			"the LUKS keyslot: %s\n",
			buf->len, d.msg);
		exit(1);
	}
	if (buf->len != want->len || CRYPTO_memcmp(buf->data, want->data, want->len) != 0) {
		fprintf(stderr, "bench-unseal: clevis decrypt returned another key\n");
		exit(1);
	}
	return now() - t0;
}

/* Transient objects and sessions (loaded or saved) in the TPM now; asked
 * outside the counted windows. */
struct loaded {
	const char *after;
	unsigned transient, sessions;
};

static void count_loaded(struct loaded *l, const char *after)
{
	struct diag d = {0};
	struct tpm *t = NULL;

	l->after = after;
	if (tpm_open(tcti, &t, &d) < 0 || tpm_count_loaded(t, &l->transient, &l->sessions, &d) < 0)
		die_diag("counting loaded handles", &d);
	tpm_close(t);
}

/* ---- figures ------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double minimum(const double *v, int n)
{
	double m = v[0];

	for (int i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

static const char *cc_name(uint32_t cc)
{
	static const struct {
		uint32_t cc;
		const char *name;
	} names[] = {
	    /* TPM 2.0 Part 2, 6.5.2 TPM_CC */
	    {0x11F, "NV_UndefineSpaceSpecial"},
	    {0x120, "EvictControl"},
	    {0x121, "HierarchyControl"},
	    {0x122, "NV_UndefineSpace"},
	    {0x126, "Clear"},
	    {0x129, "HierarchyChangeAuth"},
	    {0x12A, "NV_DefineSpace"},
	    {0x131, "CreatePrimary"},
	    {0x134, "NV_Increment"},
	    {0x137, "NV_Write"},
	    {0x138, "NV_WriteLock"},
	    {0x13D, "PCR_Reset"},
	    {0x144, "Startup"},
	    {0x145, "Shutdown"},
	    {0x149, "PolicyNV"},
	    {0x14E, "NV_Read"},
	    {0x151, "PolicySecret"},
	    {0x153, "Create"},
	    {0x157, "Load"},
	    {0x158, "Quote"},
	    {0x15E, "Unseal"},
	    {0x160, "PolicySigned"},
	    {0x161, "ContextLoad"},
	    {0x162, "ContextSave"},
	    {0x165, "FlushContext"},
	    {0x167, "LoadExternal"},
	    {0x169, "NV_ReadPublic"},
	    {0x16A, "PolicyAuthorize"},
	    {0x16B, "PolicyAuthValue"},
	    {0x16C, "PolicyCommandCode"},
	    {0x16F, "PolicyLocality"},
	    {0x171, "PolicyOR"},
	    {0x173, "ReadPublic"},
	    {0x174, "RSA_Encrypt"},
	    {0x176, "StartAuthSession"},
	    {0x177, "VerifySignature"},
	    {0x17A, "GetCapability"},
	    {0x17B, "GetRandom"},
	    {0x17C, "GetTestResult"},
	    {0x17D, "Hash"},
	    {0x17E, "PCR_Read"},
	    {0x17F, "PolicyPCR"},
	    {0x180, "PolicyRestart"},
	    {0x182, "PCR_Extend"},
	    {0x186, "HashSequenceStart"},
	    {0x189, "PolicyGetDigest"},
	    {0x18A, "TestParms"},
	    {0x18C, "PolicyPassword"},
	    {0x191, "CreateLoaded"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].cc == cc)
			return names[i].name;
	return "?";
}

/* Per command code: commands per op; with timings, the TPM's own time
 * (last request byte forwarded .. last response byte in, at the proxy). */
static void print_hist(const char *label, const struct tpmproxy_counts *c, int ops, bool timings)
{
	printf("   %s (per operation, over %d):\n", label, ops);
	if (timings)
		printf("     %-37s %6s %10s %10s %10s\n", "command", "n/op", "total ms", "ms/cmd",
		       "ms/op");
	for (size_t i = 0; i <= TPMPROXY_CC_SLOTS; i++) {
		char name[48];

		if (!c->cc[i])
			continue;
		if (i == TPMPROXY_CC_SLOTS)
			snprintf(name, sizeof(name), "%-10s", "other");
		else
			snprintf(name, sizeof(name), "0x%08x %s", (unsigned)(TPMPROXY_CC_BASE + i),
				 cc_name((uint32_t)(TPMPROXY_CC_BASE + i)));
		printf("     %-37s %6.2f", name, (double)c->cc[i] / ops);
		if (timings && c->timed[i])
			printf(" %10.2f %10.3f %10.3f", (double)c->ns[i] / 1e6,
			       (double)c->ns[i] / 1e6 / (double)c->timed[i],
			       (double)c->ns[i] / 1e6 / ops);
		printf("\n");
	}
	if (timings)
		printf("     %-37s %6.2f %10.2f %10s %10.3f\n", "all TPM commands",
		       (double)c->cmds / ops, (double)c->ns_all / 1e6, "",
		       (double)c->ns_all / 1e6 / ops);
	printf("     %-37s %6.2f\n", "TCP connections, TPM port", (double)c->conns / ops);
	printf("     %-37s %6.2f\n", "TCP connections, control port", (double)c->ctrl / ops);
}

/* Commands per op: the same every round, or say the range. */
struct per_op {
	unsigned long lo, hi;
};

static void per_op_add(struct per_op *p, unsigned long n, bool first)
{
	if (first || n < p->lo)
		p->lo = n;
	if (first || n > p->hi)
		p->hi = n;
}

static const char *per_op_str(const struct per_op *p, char *buf, size_t len)
{
	if (p->lo == p->hi)
		snprintf(buf, len, "%lu", p->lo);
	else
		snprintf(buf, len, "%lu..%lu", p->lo, p->hi);
	return buf;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: bench-unseal [--rounds N] [--dir DIR] [--verbose]\n"
		   "\n"
		   "  --rounds N  timed unlocks per contender (default 20), after one\n"
		   "              untimed warm-up each\n"
		   "  --dir DIR   where to make the scratch directory (default $TMPDIR or /tmp)\n"
		   "  --verbose   per command code of each operation: count and the TPM's\n"
		   "              own time (request sent .. response received, at the proxy)\n"
		   "\n"
		   "Needs swtpm, clevis and clevis-tpm2 (exit 77 when missing).\n");
}

/* The admin's part, offline: sign aHash(approved policy, empty ref). */
static void approve(EVP_PKEY *admin, struct tpm_pcr_approval *a)
{
	uint8_t name[TPMPOLICY_NAME_SIZE], approved[TPMPOLICY_DIGEST_SIZE], ahash[32];
	struct diag d = {0};

	tpm_nv_counter_name(a->counter, name);
	if (tpmpolicy_approved_pcr_policy(a->mask, a->pcr_digest, a->serial, name, approved, &d) <
		0 ||
	    tpmpolicy_authorize_ahash(approved, NULL, 0, ahash, &d) < 0 ||
	    adminkey_sign_digest(admin, ahash, a->sig_r, a->sig_s, &d) < 0)
		die_diag("approving the PCR policy", &d);
}

/* Median and min of v in ms, one table row. */
static void row(const char *label, double *v, int n, const char *cmds)
{
	double m = minimum(v, n);

	printf("   %-54s %10.2f %10.2f", label, median(v, n) * 1e3, m * 1e3);
	if (cmds)
		printf(" %12s", cmds);
	printf("\n");
}

/* v[i] = a[i] - b[i] */
static void diff(double *v, const double *a, const double *b, int n)
{
	for (int i = 0; i < n; i++)
		v[i] = a[i] - b[i];
}

/* One contender's figures: wall time of the op, its two parts, and the sum
 * of its TPM commands' own times; commands per op. */
struct contender {
	double *all, *part1, *part2, *in_tpm;
	struct tpmproxy_counts c;
	struct per_op n;
};

static void timed_round(struct contender *k, int i, double (*fn)(double *, double *))
{
	struct tpmproxy_counts a, b;

	tpmproxy_snap(&a);
	k->all[i] = fn(&k->part1[i], &k->part2[i]);
	tpmproxy_snap(&b);
	tpmproxy_add_diff(&k->c, &a, &b);
	per_op_add(&k->n, b.cmds - a.cmds, i == 0);
	k->in_tpm[i] = (double)(b.ns_all - a.ns_all) / 1e9;
}

static struct secret *clevis_buf, *clevis_want;

static double clevis_round(double *ret_tool, double *ret_luks)
{
	return clevis_unlock(clevis_buf, clevis_want, ret_tool, ret_luks);
}

/* TPM commands' own time vs the rest of the op, means over the rounds (so
 * the two parts add up to the whole). */
static void tpm_share(const char *who, const struct contender *k, int rounds)
{
	double all = 0, in = 0;

	for (int i = 0; i < rounds; i++) {
		all += k->all[i];
		in += k->in_tpm[i];
	}
	all /= rounds;
	in /= rounds;
	printf("   %-20s %7.2f ms in TPM commands (%4.1f%%) + %7.2f ms outside (%4.1f%%) "
	       "= %7.2f ms\n",
	       who, in * 1e3, 100 * in / all, (all - in) * 1e3, 100 * (all - in) / all, all * 1e3);
}

/* ---- the run, step by step ------------------------------------------------ */

/* A one-off step's time and TPM commands. */
struct oneoff {
	double t;
	struct tpmproxy_counts c, a;
};

static void oneoff_begin(struct oneoff *o)
{
	tpmproxy_snap(&o->a);
	o->t = now();
}

static void oneoff_end(struct oneoff *o)
{
	struct tpmproxy_counts b;

	o->t = now() - o->t;
	tpmproxy_snap(&b);
	tpmproxy_add_diff(&o->c, &o->a, &b);
}

/* Everything one run holds. */
static struct bench {
	int rounds;
	bool verbose;
	const char *base; /* where the scratch directory goes */
	uint16_t swtpm_port;
	struct secret *key, *buf;
	EVP_PKEY *admin;
	double *mem, *l_only, *u_only, *d_ours, *d_pcr, *d_clevis, *v;
	struct oneoff nv, seal, approve, pcr_seal, enc;
	struct contender ours, pcr, clev;
	struct loaded left[8];
	size_t nleft;
} b = {.rounds = 20};

static const tpmpolicy_pcr_mask_t approved_mask = TPMPOLICY_PCR(7) | TPMPOLICY_PCR(SEAL_PCR);

/* Options: 0 to go on, else the exit status. */
static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"rounds", required_argument, NULL, 'r'},
	    {"dir", required_argument, NULL, 'd'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	b.base = getenv("TMPDIR");
	if (!b.base || !*b.base)
		b.base = "/tmp";
	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			b.rounds = atoi(optarg);
			if (b.rounds < 1 || b.rounds > ROUNDS_MAX) {
				fprintf(stderr, "bench-unseal: bad --rounds %s (1..%d)\n", optarg,
					ROUNDS_MAX);
				return 2;
			}
			break;
		case 'd':
			b.base = optarg;
			break;
		case 'v':
			b.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

/* 77 when a tool is missing, else 0. */
static int check_tools(void)
{
	static const char *const needed[] = {"swtpm", "clevis", "clevis-encrypt-tpm2",
					     "clevis-decrypt-tpm2", "tpm2_unseal"};

	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!in_path(needed[i])) {
			printf("bench-unseal: SKIP: %s is not installed (apt-get install swtpm "
			       "clevis clevis-tpm2 tpm2-tools)\n",
			       needed[i]);
			return 77;
		}
	return 0;
}

/*
 * The swtpm is the tests' fixture (tests/lib/with-swtpm, tests/lib/swtpm.sh:
 * free port pair, private state, orderly shutdown, cleanup on any exit).
 * Started without it, the bench runs itself again under it; under it, the
 * port is in SEALBOOT_TCTI.
 */
static uint16_t fixture_swtpm(char **argv)
{
	const char *tcti_env = getenv("SEALBOOT_TCTI"), *p;
	unsigned long port;
	char *end;

	if (!tcti_env || !getenv("SEALBOOT_BENCH_UNDER_FIXTURE")) {
		char **args;
		int n = 0;

		while (argv[n])
			n++;
		args = calloc((size_t)n + 2, sizeof(*args));
		if (!args)
			die("memory", ENOMEM);
		args[0] = (char *)WITH_SWTPM_PATH;
		memcpy(args + 1, argv, (size_t)n * sizeof(*args));
		setenv("SEALBOOT_BENCH_UNDER_FIXTURE", "1", 1);
		execv(WITH_SWTPM_PATH, args);
		die(WITH_SWTPM_PATH, errno);
	}
	p = strstr(tcti_env, "port=");
	port = p ? strtoul(p + 5, &end, 10) : 0;
	if (!p || strncmp(tcti_env, "swtpm:", 6) != 0 || port == 0 || port >= 65535 ||
	    (*end && *end != ',')) {
		fprintf(stderr,
			"bench-unseal: SEALBOOT_TCTI '%s' is not an swtpm TCTI with a port\n",
			tcti_env);
		exit(1);
	}
	return (uint16_t)port;
}

static void alloc_figures(void)
{
	double **slots[] = {&b.ours.all, &b.ours.part1, &b.ours.part2, &b.ours.in_tpm,
			    &b.pcr.all,	 &b.pcr.part1,	&b.pcr.part2,  &b.pcr.in_tpm,
			    &b.clev.all, &b.clev.part1, &b.clev.part2, &b.clev.in_tpm,
			    &b.l_only,	 &b.u_only,	&b.d_ours,     &b.d_pcr,
			    &b.d_clevis, &b.v};

	b.mem = calloc((size_t)b.rounds * 18, sizeof(double));
	if (!b.mem)
		die("memory", ENOMEM);
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		*slots[i] = b.mem + i * (size_t)b.rounds;
}

/* The scratch directory (the volume, clevis's files), removed on any exit. */
static void make_scratch(void)
{
	setup_signals();
	snprintf(scratch.dir, sizeof(scratch.dir), "%s/sealboot-bench-unseal.XXXXXX", b.base);
	if (!mkdtemp(scratch.dir)) {
		int e = errno;

		scratch.dir[0] = 0;
		die(b.base, e);
	}
	atexit(cleanup);
	snprintf(vol, sizeof(vol), "%s/luks.img", scratch.dir);
	snprintf(jwe, sizeof(jwe), "%s/key.jwe", scratch.dir);
	snprintf(errlog, sizeof(errlog), "%s/clevis.err", scratch.dir);
}

/* Every client reaches the TPM through the counting proxy, or straight. */
static void use_tpm_port(uint16_t port)
{
	snprintf(tcti, sizeof(tcti), "swtpm:host=127.0.0.1,port=%u", (unsigned)port);
	snprintf(tcti_var, sizeof(tcti_var), "TPM2TOOLS_TCTI=%s", tcti);
}

/* 2. The LUKS2 volume and its key; the identity the anchor derives. */
static void make_volume(void)
{
	struct diag d = {0};
	char uuid[LUKS_UUID_MAX];
	int fd;

	if (secret_new(KEY_LEN, &b.key) < 0 || secret_new(256, &b.buf) < 0)
		die("locking memory for the key", ENOMEM);
	if (RAND_bytes(b.key->data, KEY_LEN) != 1)
		die("RAND_bytes", EIO);
	fd = open(vol, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, VOLUME_SIZE) < 0)
		die(vol, errno);
	close(fd);
	if (luks_format(vol, b.key, uuid, &d) < 0)
		die_diag("luks_format", &d);
	if (luks_volume_key(vol, b.key, &vk, &d) < 0)
		die_diag("luks_volume_key", &d);
	if (luks_unlock(vol, vk, NULL, want_identity, &d) < 0)
		die_diag("luks_unlock", &d);
}

/* A measured "boot": PCR 15 holds something other than zeros. */
static void measure_boot(void)
{
	uint8_t ev[SHA256_DIGEST_LENGTH];
	struct diag d = {0};
	struct tpm *t = NULL;

	SHA256((const unsigned char *)"bench-unseal boot", 17, ev);
	if (tpm_open(tcti, &t, &d) < 0)
		die_diag("tpm_open", &d);
	if (tpm_pcr_extend(t, SEAL_PCR, ev, &d) < 0)
		die_diag("tpm_pcr_extend", &d);
	tpm_close(t);
}

/* 3a. Provisioning: the PCR policy rollback counter. Its first value is
 * the TPM's choice; the approval's serial is that value. */
static void enrol_counter(void)
{
	struct diag d = {0};
	struct tpm *t = NULL;

	approval.mask = approved_mask;
	approval.counter = BENCH_NV_COUNTER;
	oneoff_begin(&b.nv);
	if (tpm_open(tcti, &t, &d) < 0)
		die_diag("tpm_open", &d);
	if (tpm_nv_define(t, BENCH_NV_COUNTER, TPM_NV_COUNTER, 8, &d) < 0)
		die_diag("tpm_nv_define", &d);
	if (tpm_nv_increment(t, BENCH_NV_COUNTER, &d) < 0)
		die_diag("tpm_nv_increment", &d);
	if (tpm_nv_read_counter(t, BENCH_NV_COUNTER, &approval.serial, &d) < 0)
		die_diag("tpm_nv_read_counter", &d);
	tpm_close(t);
	oneoff_end(&b.nv);
}

/* 3b. Our seal: open + seal to PolicyAuthorize(admin key Name, empty ref)
 * + close. The policy digest is computed offline. */
static void enrol_seal(void)
{
	uint8_t policy[TPMPOLICY_DIGEST_SIZE], key_name[TPMPOLICY_NAME_SIZE];
	struct diag d = {0};
	struct tpm *t = NULL;

	b.admin = EVP_EC_gen("P-256");
	if (!b.admin || adminkey_point(b.admin, approval.key.x, approval.key.y) < 0)
		die("generating the admin key", EIO);
	oneoff_begin(&b.seal);
	if (tpm_admin_key_name(&approval.key, key_name, &d) < 0)
		die_diag("tpm_admin_key_name", &d);
	tpmpolicy_init(policy);
	if (tpmpolicy_policy_authorize(policy, key_name, sizeof(key_name), NULL, 0, &d) < 0)
		die_diag("tpmpolicy_policy_authorize", &d);
	if (tpm_open(tcti, &t, &d) < 0)
		die_diag("tpm_open", &d);
	if (tpm_seal(t, policy, vk, &sealed_auth, &d) < 0)
		die_diag("tpm_seal", &d);
	tpm_close(t);
	oneoff_end(&b.seal);
}

/* 3c. The admin approves this boot: PCRs read once, then signed offline
 * (the ECDSA over aHash is inside this time). */
static void enrol_approve(void)
{
	struct tpmpolicy_pcr_values vals = {0};
	struct diag d = {0};
	struct tpm *t = NULL;

	oneoff_begin(&b.approve);
	if (tpm_open(tcti, &t, &d) < 0)
		die_diag("tpm_open", &d);
	if (tpm_pcr_read(t, approved_mask, &vals, &d) < 0)
		die_diag("tpm_pcr_read", &d);
	tpm_close(t);
	if (tpmpolicy_pcr_digest(approved_mask, &vals, approval.pcr_digest, &d) < 0)
		die_diag("tpmpolicy_pcr_digest", &d);
	approve(b.admin, &approval);
	oneoff_end(&b.approve);
}

/* 3d. For comparison: the same key sealed to PolicyPCR over PCR 15. */
static void enrol_pcr_seal(void)
{
	uint8_t policy[TPMPOLICY_DIGEST_SIZE];
	struct diag d = {0};
	struct tpm *t = NULL;

	oneoff_begin(&b.pcr_seal);
	if (tpm_open(tcti, &t, &d) < 0)
		die_diag("tpm_open", &d);
	if (tpm_trial_policy_pcr(t, TPMPOLICY_PCR(SEAL_PCR), policy, &d) < 0)
		die_diag("tpm_trial_policy_pcr", &d);
	if (tpm_seal(t, policy, b.key, &sealed_pcr, &d) < 0)
		die_diag("tpm_seal", &d);
	tpm_close(t);
	oneoff_end(&b.pcr_seal);
	count_loaded(&b.left[b.nleft++], "our seals");
}

/* 4a. clevis encrypt of the same key: on a pipe, never argv/env. */
static void enrol_clevis(void)
{
	char *ev[] = {"clevis", "encrypt", "tpm2", CLEVIS_CONFIG, NULL};
	double spawn_to_exit;
	int p[2], out;

	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe", errno);
	out = open(jwe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		die(jwe, errno);
	oneoff_begin(&b.enc);
	spawn_to_exit = run_clevis(ev, p[0], out, p[1], b.key, NULL);
	oneoff_end(&b.enc);
	b.enc.t = spawn_to_exit; /* clevis's own time, as the table says */
	close(p[0]);
	close(out);
	count_loaded(&b.left[b.nleft++], "clevis encrypt");
	clevis_buf = b.buf;
	clevis_want = b.key;
}

static void print_header(void)
{
	printf("bench-unseal: %d rounds (after one warm-up each), swtpm on 127.0.0.1:%u, "
	       "counting proxy on :%u (+ control :%u), %ld online CPUs, %s\n",
	       b.rounds, (unsigned)b.swtpm_port, (unsigned)proxy_port, (unsigned)proxy_port + 1,
	       sysconf(_SC_NPROCESSORS_ONLN), OpenSSL_version(OPENSSL_VERSION));
	printf("LUKS2 volume %s (PBKDF2-sha256, 1000 iterations)\n", vol);
	printf("ours: key sealed to PolicyAuthorize(admin P-256 key, empty ref); the admin "
	       "approved PCRs 7+15 (sha256)\n      with NV counter 0x%08x, serial %" PRIu64
	       ". PolicyPCR-only copy and clevis: PCR %d (sha256)\n",
	       (unsigned)BENCH_NV_COUNTER, approval.serial, SEAL_PCR);
	fflush(stdout);
}

/* Warm-up (untimed): every unlock path works end to end, through the
 * proxy, before anything is timed. */
static void warm_up(void)
{
	double tmp1, tmp2;

	(void)ours_unlock(&tmp1, &tmp2);
	count_loaded(&b.left[b.nleft++], "one unlock by us");
	(void)ours_unlock_pcr(&tmp1, &tmp2);
	count_loaded(&b.left[b.nleft++], "one PolicyPCR unlock");
	(void)clevis_round(&tmp1, &tmp2);
	count_loaded(&b.left[b.nleft++], "one clevis decrypt");
}

/* Interleaved rounds, so a noisy neighbour hurts all alike. */
static void timed_rounds(void)
{
	struct diag d = {0};
	double t0;

	for (int i = 0; i < b.rounds; i++) {
		uint8_t identity[32];

		timed_round(&b.ours, i, ours_unlock);
		timed_round(&b.pcr, i, ours_unlock_pcr);
		timed_round(&b.clev, i, clevis_round);

		t0 = now();
		if (luks_check_key(vol, b.key, &d) < 0)
			die_diag("luks_check_key", &d);
		b.l_only[i] = now() - t0;
		t0 = now();
		if (luks_unlock(vol, vk, NULL, identity, &d) < 0)
			die_diag("luks_unlock", &d);
		b.u_only[i] = now() - t0;
	}
	count_loaded(&b.left[b.nleft++], "all rounds");
}

/* The same rounds straight to swtpm, uncounted: what the proxy's extra
 * loopback hop per command costs each contender. */
static void direct_rounds(void)
{
	double tmp1, tmp2;

	use_tpm_port(b.swtpm_port);
	for (int i = 0; i < b.rounds; i++) {
		b.d_ours[i] = ours_unlock(&tmp1, &tmp2);
		b.d_pcr[i] = ours_unlock_pcr(&tmp1, &tmp2);
		b.d_clevis[i] = clevis_round(&tmp1, &tmp2);
	}
}

/* The median and minimum of one figure (v is scratch: row() sorts). */
static double median_of(const double *x, double *ret_min)
{
	memcpy(b.v, x, (size_t)b.rounds * sizeof(double));
	if (ret_min)
		*ret_min = minimum(b.v, b.rounds);
	return median(b.v, b.rounds);
}

static void copy_row(const char *label, const double *x, const char *cmds)
{
	memcpy(b.v, x, (size_t)b.rounds * sizeof(double));
	row(label, b.v, b.rounds, cmds);
}

/* Table 1: the unlock, through the proxy. */
static void print_unlock(void)
{
	const int rounds = b.rounds;
	double om, cm, pm, omin, cmin, pmin, ratio;
	char s1[32], s2[32], s3[32];

	printf("\n1. unlock: unseal the key + open the LUKS2 volume (%d rounds)\n", rounds);
	printf("   %-54s %10s %10s %12s\n", "contender", "median ms", "min ms", "TPM cmds/op");
	om = median_of(b.ours.all, &omin);
	pm = median_of(b.pcr.all, &pmin);
	cm = median_of(b.clev.all, &cmin);
	ratio = om / cm;

	copy_row("sealboot: open+tpm_unseal_approved+luks_unlock+close", b.ours.all,
		 per_op_str(&b.ours.n, s1, sizeof(s1)));
	copy_row("  of which TPM (open+unseal_approved+close)", b.ours.part1, NULL);
	copy_row("  of which luks_unlock (key check + volume identity)", b.ours.part2, NULL);
	copy_row("  of which inside TPM commands (at the proxy)", b.ours.in_tpm, NULL);
	diff(b.v, b.ours.all, b.ours.in_tpm, rounds);
	row("  of which outside TPM commands", b.v, rounds, NULL);
	copy_row("sealboot, PolicyPCR only: open+tpm_unseal_pcr+check+close", b.pcr.all,
		 per_op_str(&b.pcr.n, s2, sizeof(s2)));
	copy_row("  of which TPM (open+unseal_pcr+close)", b.pcr.part1, NULL);
	copy_row("  of which luks_check_key", b.pcr.part2, NULL);
	copy_row("clevis decrypt (tpm2 pin) + luks_check_key", b.clev.all,
		 per_op_str(&b.clev.n, s3, sizeof(s3)));
	copy_row("  of which `clevis decrypt` (spawn to exit)", b.clev.part1, NULL);
	copy_row("  of which luks_check_key", b.clev.part2, NULL);
	copy_row("  of which inside TPM commands (at the proxy)", b.clev.in_tpm, NULL);
	row("luks_check_key alone (same key, same volume)", b.l_only, rounds, NULL);
	row("luks_unlock alone (no device-mapper: check + identity)", b.u_only, rounds, NULL);
	printf("   note: ours uses luks_unlock, which also derives the volume identity "
	       "(HMAC with the\n   volume key) as the anchor does; clevis and the "
	       "PolicyPCR row only check the key.\n");
	printf("   ours / clevis (median): %.3fx (min: %.3fx)   target <= %.2fx   %s\n", ratio,
	       omin / cmin, TARGET_RATIO, ratio <= TARGET_RATIO ? "PASS" : "MISS");
	printf("   PolicyPCR only / clevis (median): %.3fx (min: %.3fx)\n", pm / cm, pmin / cmin);
	printf("   TPM part alone, ours / `clevis decrypt` (median): %.3fx\n",
	       median_of(b.ours.part1, NULL) / median_of(b.clev.part1, NULL));
	printf("   TPM commands ours / clevis: %.2fx (PolicyPCR only / clevis: %.2fx)\n",
	       (double)b.ours.c.cmds / (double)(b.clev.c.cmds ? b.clev.c.cmds : 1),
	       (double)b.pcr.c.cmds / (double)(b.clev.c.cmds ? b.clev.c.cmds : 1));
	printf("\n   time inside TPM commands (proxy: last request byte sent to swtpm .. "
	       "last response\n   byte back) vs outside them (client code, TCP "
	       "connects, proxy hops, LUKS), means:\n");
	tpm_share("sealboot", &b.ours, rounds);
	tpm_share("sealboot PolicyPCR only", &b.pcr, rounds);
	tpm_share("clevis", &b.clev, rounds);
}

/* The same, straight to swtpm. */
static void print_direct(void)
{
	const int rounds = b.rounds;
	double dom = median_of(b.d_ours, NULL), dpm = median_of(b.d_pcr, NULL),
	       dcm = median_of(b.d_clevis, NULL);

	printf("\n   the same %d rounds straight to swtpm (no proxy, not counted):\n", rounds);
	printf("   %-54s %10s %10s\n", "contender", "median ms", "min ms");
	row("sealboot unlock (approved policy + luks_unlock)", b.d_ours, rounds, NULL);
	row("sealboot, PolicyPCR only", b.d_pcr, rounds, NULL);
	row("clevis decrypt + luks_check_key", b.d_clevis, rounds, NULL);
	printf("   ours / clevis (median): %.3fx   target <= %.2fx   %s\n", dom / dcm, TARGET_RATIO,
	       dom / dcm <= TARGET_RATIO ? "PASS" : "MISS");
	printf("   PolicyPCR only / clevis (median): %.3fx\n", dpm / dcm);
}

/* Table 2: enrolment, the TPM's leftovers and, with --verbose, table 3. */
static void print_oneoff(void)
{
	const int rounds = b.rounds;
	static const char row_fmt[] = "   %-54s %10.2f %12lu\n";

	printf("\n2. one-off (enrolment)\n");
	printf("   %-54s %10s %12s\n", "step", "ms", "TPM cmds");
	printf(row_fmt, "sealboot: open+NV counter define+increment+read", b.nv.t * 1e3,
	       b.nv.c.cmds);
	printf(row_fmt, "sealboot: open+tpm_seal(PolicyAuthorize)+close", b.seal.t * 1e3,
	       b.seal.c.cmds);
	printf(row_fmt, "sealboot: approve (open+PCR read+close, sign)", b.approve.t * 1e3,
	       b.approve.c.cmds);
	printf(row_fmt, "sealboot: open+trial PolicyPCR+tpm_seal+close", b.pcr_seal.t * 1e3,
	       b.pcr_seal.c.cmds);
	printf(row_fmt, "clevis encrypt tpm2 (spawn to exit)", b.enc.t * 1e3, b.enc.c.cmds);

	printf("\n   counted by the proxy: every TPM command on the wire. tpm2-tss's swtpm "
	       "TCTI\n   opens one TCP connection per command, and one control-port "
	       "connection (set\n   locality) per TCTI init: %.1f / %.1f / %.1f per "
	       "unlock (ours / PolicyPCR only /\n   clevis), not TPM commands.\n",
	       (double)b.ours.c.ctrl / rounds, (double)b.pcr.c.ctrl / rounds,
	       (double)b.clev.c.ctrl / rounds);
	printf("\n   left in the TPM (transient objects / sessions, loaded or saved), "
	       "running totals:\n");
	for (size_t i = 0; i < b.nleft; i++)
		printf("     after %-22s %u / %u\n", b.left[i].after, b.left[i].transient,
		       b.left[i].sessions);
	if (!b.verbose)
		return;
	printf("\n3. TPM commands by command code; times are the TPM's own "
	       "(at the proxy: last\n   request byte forwarded to swtpm .. "
	       "last response byte received), ms\n");
	print_hist("sealboot unlock (approved policy)", &b.ours.c, rounds, true);
	print_hist("sealboot unlock, PolicyPCR only", &b.pcr.c, rounds, true);
	print_hist("clevis decrypt", &b.clev.c, rounds, true);
	print_hist("sealboot NV counter setup", &b.nv.c, 1, true);
	print_hist("sealboot seal (PolicyAuthorize)", &b.seal.c, 1, true);
	print_hist("sealboot approve (PCR read)", &b.approve.c, 1, true);
	print_hist("sealboot seal (PolicyPCR only)", &b.pcr_seal.c, 1, true);
	print_hist("clevis encrypt tpm2", &b.enc.c, 1, true);
}

int main(int argc, char **argv)
{
	int code = parse_args(argc, argv);

	if (code != 0)
		return code < 0 ? 0 : code;
	code = check_tools();
	if (code != 0)
		return code;
	b.swtpm_port = fixture_swtpm(argv);
	alloc_figures();
	{
		unsigned seed;

		if (RAND_bytes((unsigned char *)&seed, sizeof(seed)) != 1)
			seed = (unsigned)getpid() ^ (unsigned)time(NULL);
		srand(seed);
	}
	make_scratch();

	/* 1. The fixture's swtpm behind the counting proxy. */
	build_child_env();
	proxy_start(b.swtpm_port);
	use_tpm_port(proxy_port);
	make_volume();
	measure_boot();
	enrol_counter();
	enrol_seal();
	enrol_approve();
	enrol_pcr_seal();
	print_header();
	enrol_clevis();
	warm_up();
	timed_rounds();
	direct_rounds();
	/* share lines first: row() sorts its vector in place */
	print_unlock();
	print_direct();
	print_oneoff();
	fflush(stdout);

	EVP_PKEY_free(b.admin);
	secret_free(b.key);
	secret_free(vk);
	secret_free(b.buf);
	free(b.mem);
	free(child_env);
	return 0;
}
