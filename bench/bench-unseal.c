/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-unseal: the boot-time unlock (unseal the LUKS key from the TPM and
 * check it against the LUKS2 keyslot) beside clevis (`clevis encrypt tpm2` /
 * `clevis decrypt`, Debian's clevis-tpm2 over tpm2-tools), in one run
 * against the same swtpm.
 *
 *   1. swtpm is started here, in a private temp dir, on a free port pair;
 *      every client (our tpm.c and clevis's tpm2-tools alike) reaches it
 *      through an in-process TCP proxy that forwards both ways and counts
 *      TPM commands by parsing the client->server stream (10-byte header:
 *      tag u16, commandSize u32, commandCode u32, big-endian). tpm2-tss's
 *      swtpm TCTI also uses the control port (P+1: CMD_SET_LOCALITY once
 *      per TCTI init), so the proxy listens on a port pair too and counts
 *      control connections apart from TPM commands. The TCTI opens one TCP
 *      connection per command, so both contenders pay the proxy's extra
 *      loopback hop on every command alike.
 *   2. a file-backed LUKS2 volume with a random 32-byte key (one keyslot).
 *   3. ours: tpm_seal under PolicyPCR over PCR 15 once; then per round
 *      tpm_open + tpm_unseal_pcr + luks_check_key + tpm_close.
 *   4. clevis: `clevis encrypt tpm2 {"pcr_bank":"sha256","pcr_ids":"15"}`
 *      of the same key once (key on a pipe); then per round `clevis decrypt`
 *      < jwe, its stdout read into a struct secret and checked with the same
 *      luks_check_key. Both outputs must open the keyslot, or we fail.
 *   5. luks_check_key alone, so TPM time can be told from LUKS time.
 *
 * One untimed warm-up round of each first; then --rounds rounds,
 * interleaved so a noisy neighbour hurts both alike; median and min
 * reported. A benchmark reports, it does not fail on the figure: exit 0
 * unless something broke, 77 when swtpm or clevis is not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
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

#include "luks.h"
#include "secret.h"
#include "tpm.h"
#include "tpmpolicy.h"

extern char **environ;

#define KEY_LEN 32
#define SEAL_PCR 15
#define CLEVIS_CONFIG "{\"pcr_bank\":\"sha256\",\"pcr_ids\":\"15\"}"
#define VOLUME_SIZE (32 << 20)

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

/* ---- the counting proxy ------------------------------------------------ */

/* TPM command codes are 0x11F..0x19x (Part 2, 6.5.2): one slot per code in
 * 0x100..0x1FF, the rest in "other". */
#define CC_BASE 0x100u
#define CC_SLOTS 256u

struct counts {
	unsigned long cmds;      /* TPM commands, client -> swtpm */
	unsigned long conns;     /* TCP connections to the TPM port */
	unsigned long ctrl;      /* connections to the control port */
	unsigned long cc[CC_SLOTS + 1]; /* per commandCode; [CC_SLOTS] other */
};

static struct {
	atomic_ulong cmds, conns, ctrl;
	atomic_ulong cc[CC_SLOTS + 1];
} counters;

static void counts_snap(struct counts *c)
{
	c->cmds = atomic_load(&counters.cmds);
	c->conns = atomic_load(&counters.conns);
	c->ctrl = atomic_load(&counters.ctrl);
	for (size_t i = 0; i <= CC_SLOTS; i++)
		c->cc[i] = atomic_load(&counters.cc[i]);
}

/* acc += (b - a) */
static void counts_add_diff(struct counts *acc, const struct counts *a, const struct counts *b)
{
	acc->cmds += b->cmds - a->cmds;
	acc->conns += b->conns - a->conns;
	acc->ctrl += b->ctrl - a->ctrl;
	for (size_t i = 0; i <= CC_SLOTS; i++)
		acc->cc[i] += b->cc[i] - a->cc[i];
}

struct relay {
	int client, upstream;
	bool tpm; /* the TPM port (parse commands), not the control port */
};

/* Parser state for one client->server TPM stream. */
struct cmd_parser {
	uint8_t hdr[10];
	size_t have;       /* header bytes collected */
	uint64_t remaining; /* body bytes of the current command still to pass */
};

/* Count the commands that start in buf. Called before buf is forwarded, so
 * a command is counted before the TPM can answer it: when a client holds a
 * response, its command is in the counters. */
static void parse_cmds(struct cmd_parser *p, const uint8_t *buf, size_t n)
{
	while (n > 0) {
		if (p->remaining > 0) {
			size_t k = p->remaining < n ? (size_t)p->remaining : n;

			p->remaining -= k;
			buf += k;
			n -= k;
			continue;
		}
		p->hdr[p->have++] = *buf++;
		n--;
		if (p->have < sizeof(p->hdr))
			continue;
		uint32_t size = (uint32_t)p->hdr[2] << 24 | (uint32_t)p->hdr[3] << 16 |
				(uint32_t)p->hdr[4] << 8 | p->hdr[5];
		uint32_t code = (uint32_t)p->hdr[6] << 24 | (uint32_t)p->hdr[7] << 16 |
				(uint32_t)p->hdr[8] << 8 | p->hdr[9];

		atomic_fetch_add(&counters.cmds, 1);
		if (code >= CC_BASE && code < CC_BASE + CC_SLOTS)
			atomic_fetch_add(&counters.cc[code - CC_BASE], 1);
		else
			atomic_fetch_add(&counters.cc[CC_SLOTS], 1);
		p->have = 0;
		/* A malformed size (< header) resynchronizes on the next byte;
		 * the TPM would reject such a command anyway. */
		p->remaining = size > sizeof(p->hdr) ? size - sizeof(p->hdr) : 0;
	}
}

static bool write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

/* Forward both ways until both directions reached EOF (half-closes are
 * passed on) or either side fails. */
static void *relay_main(void *arg)
{
	struct relay *r = arg;
	struct cmd_parser parser = {0};
	bool open_c2s = true, open_s2c = true;
	uint8_t buf[16384];

	while (open_c2s || open_s2c) {
		struct pollfd pf[2] = {
			{.fd = open_c2s ? r->client : -1, .events = POLLIN},
			{.fd = open_s2c ? r->upstream : -1, .events = POLLIN},
		};

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			int from = i ? r->upstream : r->client, to = i ? r->client : r->upstream;
			ssize_t k;

			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			k = read(from, buf, sizeof(buf));
			if (k < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (k <= 0) {
				/* EOF (or a reset): pass the half-close on. */
				(void)shutdown(to, SHUT_WR);
				if (i)
					open_s2c = false;
				else
					open_c2s = false;
				if (k < 0)
					open_c2s = open_s2c = false;
				continue;
			}
			if (i == 0 && r->tpm)
				parse_cmds(&parser, buf, (size_t)k);
			if (!write_all(to, buf, (size_t)k)) {
				open_c2s = open_s2c = false;
				break;
			}
		}
	}
	close(r->client);
	close(r->upstream);
	free(r);
	return NULL;
}

static int connect_local(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* A listening socket on 127.0.0.1:port, or -errno. */
static int listen_local(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd, one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static struct {
	int lfd[2];        /* listening: [0] TPM port Q, [1] control Q+1 */
	uint16_t port;     /* Q */
	uint16_t upstream; /* swtpm's P */
	pthread_t thread;
} proxy = {.lfd = {-1, -1}};

static void *proxy_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pf[2] = {
			{.fd = proxy.lfd[0], .events = POLLIN},
			{.fd = proxy.lfd[1], .events = POLLIN},
		};

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		for (int i = 0; i < 2; i++) {
			struct relay *r;
			pthread_attr_t at;
			pthread_t th;
			int c, u;

			if (!(pf[i].revents & POLLIN))
				continue;
			c = accept4(proxy.lfd[i], NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			/* Counted before upstream sees anything. */
			atomic_fetch_add(i ? &counters.ctrl : &counters.conns, 1);
			u = connect_local((uint16_t)(proxy.upstream + i));
			r = malloc(sizeof(*r));
			if (u < 0 || !r) {
				close(c);
				if (u >= 0)
					close(u);
				free(r);
				continue;
			}
			*r = (struct relay){.client = c, .upstream = u, .tpm = i == 0};
			pthread_attr_init(&at);
			pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
			if (pthread_create(&th, &at, relay_main, r) != 0) {
				close(c);
				close(u);
				free(r);
			}
			pthread_attr_destroy(&at);
		}
	}
}

/* An even port in 20000..59998 whose pair is free; both sockets bound. */
static bool bind_pair(uint16_t *ret, int lfd[2])
{
	for (int i = 0; i < 50; i++) {
		uint16_t p = (uint16_t)(20000 + (((unsigned)rand()) % 20000) * 2);

		lfd[0] = listen_local(p);
		if (lfd[0] < 0)
			continue;
		lfd[1] = listen_local((uint16_t)(p + 1));
		if (lfd[1] < 0) {
			close(lfd[0]);
			continue;
		}
		*ret = p;
		return true;
	}
	return false;
}

static void proxy_start(uint16_t upstream)
{
	int r;

	proxy.upstream = upstream;
	if (!bind_pair(&proxy.port, proxy.lfd))
		die("no free port pair for the proxy", EADDRINUSE);
	r = pthread_create(&proxy.thread, NULL, proxy_main, NULL);
	if (r != 0)
		die("starting the proxy thread", r);
}

/* ---- swtpm, temp dirs, cleanup ------------------------------------------ */

static struct {
	char dir[4096]; /* ours: swtpm state and LUKS volume */
	pid_t swtpm;
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

static void stop_swtpm(void)
{
	pid_t pid = scratch.swtpm;

	if (pid <= 0)
		return;
	scratch.swtpm = 0;
	(void)kill(pid, SIGTERM);
	for (int i = 0; i < 50; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(100 * 1000);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
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
		stop_swtpm();
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

/* Does a fresh TPM answer on port? (a PCR read through our adapter) */
static bool tpm_answers(uint16_t port)
{
	char tcti[64];
	struct tpmpolicy_pcr_values v;
	struct diag d = {0};
	struct tpm *t = NULL;
	bool ok;

	snprintf(tcti, sizeof(tcti), "swtpm:host=127.0.0.1,port=%u", (unsigned)port);
	if (tpm_open(tcti, &t, &d) < 0)
		return false;
	ok = tpm_pcr_read(t, TPMPOLICY_PCR(SEAL_PCR), &v, &d) == 0;
	tpm_close(t);
	return ok;
}

static bool port_pair_free(uint16_t p)
{
	int a = listen_local(p), b = listen_local((uint16_t)(p + 1));

	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return a >= 0 && b >= 0;
}

/* swtpm on a free port pair P, P+1, state in dir/swtpm; returns P. */
static uint16_t start_swtpm(const char *dir)
{
	char state[4200], logf[4300], statearg[4300], logarg[4400];

	snprintf(state, sizeof(state), "%s/swtpm", dir);
	if (mkdir(state, 0700) < 0)
		die(state, errno);
	snprintf(logf, sizeof(logf), "%s/log", state);
	snprintf(statearg, sizeof(statearg), "dir=%s", state);
	snprintf(logarg, sizeof(logarg), "file=%s,level=1", logf);

	for (int tries = 0; tries < 20; tries++) {
		uint16_t p = (uint16_t)(20000 + (((unsigned)rand()) % 20000) * 2);
		char server[96], ctrl[96];
		pid_t pid;

		if (!port_pair_free(p))
			continue;
		snprintf(server, sizeof(server), "type=tcp,port=%u,bindaddr=127.0.0.1", p);
		snprintf(ctrl, sizeof(ctrl), "type=tcp,port=%u,bindaddr=127.0.0.1", p + 1);
		char *argv[] = {"swtpm", "socket", "--tpm2", "--tpmstate", statearg,
				"--server", server, "--ctrl", ctrl,
				"--flags", "not-need-init,startup-clear", "--log", logarg, NULL};

		pid = fork();
		if (pid < 0)
			die("fork", errno);
		if (pid == 0) {
			sigset_t none;
			int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

			/* If we are SIGKILLed, the kernel still stops it. */
			(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			if (nul >= 0) {
				dup2(nul, STDIN_FILENO);
				dup2(nul, STDOUT_FILENO);
			}
			execvp("swtpm", argv);
			_exit(127);
		}
		scratch.swtpm = pid;
		for (int i = 0; i < 100; i++) {
			int fd;

			if (waitpid(pid, NULL, WNOHANG) == pid) {
				scratch.swtpm = 0; /* lost a bind race: next port */
				break;
			}
			fd = connect_local(p);
			if (fd >= 0) {
				close(fd);
				if (tpm_answers(p))
					return p;
			}
			usleep(50 * 1000);
		}
		stop_swtpm();
	}
	fprintf(stderr, "bench-unseal: could not start swtpm on a free port pair (log: %s)\n",
		logf);
	exit(1);
}

/* ---- the contenders ------------------------------------------------------ */

static char tcti[64];     /* through the proxy */
static char vol[4200];    /* the LUKS2 volume */
static char jwe[4200];    /* clevis's sealed key */
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
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, errlog,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
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
		if (!write_all(feed_fd, feed->data, feed->len))
			die("writing the key to clevis", errno);
		close(feed_fd);
	}
	if (out) {
		out->len = 0;
		for (;;) {
			ssize_t k;

			if (out->len == out->cap) {
				fprintf(stderr, "bench-unseal: clevis decrypt printed more than %zu "
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

/* One unlock by us: seconds; TPM part and LUKS part apart. */
static double ours_unlock(const struct tpm_sealed *sealed, double *ret_tpm, double *ret_luks)
{
	struct secret *key = NULL;
	struct diag d = {0};
	struct tpm *t = NULL;
	double t0 = now(), t1;
	int r;

	if (tpm_open(tcti, &t, &d) < 0)
		die_diag("tpm_open", &d);
	if (tpm_unseal_pcr(t, sealed, TPMPOLICY_PCR(SEAL_PCR), &key, &d) < 0)
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
		fprintf(stderr, "bench-unseal: clevis decrypt's output (%zu bytes) does not open "
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
		{0x11F, "NV_UndefineSpaceSpecial"}, {0x120, "EvictControl"},
		{0x121, "HierarchyControl"},        {0x122, "NV_UndefineSpace"},
		{0x126, "Clear"},                   {0x129, "HierarchyChangeAuth"},
		{0x12A, "NV_DefineSpace"},          {0x131, "CreatePrimary"},
		{0x134, "NV_Increment"},            {0x137, "NV_Write"},
		{0x138, "NV_WriteLock"},            {0x13D, "PCR_Reset"},
		{0x144, "Startup"},                 {0x145, "Shutdown"},
		{0x149, "PolicyNV"},                {0x14E, "NV_Read"},
		{0x151, "PolicySecret"},            {0x153, "Create"},
		{0x157, "Load"},                    {0x158, "Quote"},
		{0x15E, "Unseal"},                  {0x160, "PolicySigned"},
		{0x161, "ContextLoad"},             {0x162, "ContextSave"},
		{0x165, "FlushContext"},            {0x167, "LoadExternal"},
		{0x169, "NV_ReadPublic"},           {0x16A, "PolicyAuthorize"},
		{0x16B, "PolicyAuthValue"},         {0x16C, "PolicyCommandCode"},
		{0x16F, "PolicyLocality"},          {0x171, "PolicyOR"},
		{0x173, "ReadPublic"},              {0x174, "RSA_Encrypt"},
		{0x176, "StartAuthSession"},        {0x177, "VerifySignature"},
		{0x17A, "GetCapability"},           {0x17B, "GetRandom"},
		{0x17C, "GetTestResult"},           {0x17D, "Hash"},
		{0x17E, "PCR_Read"},                {0x17F, "PolicyPCR"},
		{0x180, "PolicyRestart"},           {0x182, "PCR_Extend"},
		{0x186, "HashSequenceStart"},       {0x189, "PolicyGetDigest"},
		{0x18A, "TestParms"},               {0x18C, "PolicyPassword"},
		{0x191, "CreateLoaded"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].cc == cc)
			return names[i].name;
	return "?";
}

static void print_hist(const char *label, const struct counts *c, int ops)
{
	printf("   %s (per operation, over %d):\n", label, ops);
	for (size_t i = 0; i <= CC_SLOTS; i++) {
		if (!c->cc[i])
			continue;
		if (i == CC_SLOTS)
			printf("     %-10s %-26s %6.2f\n", "other", "", (double)c->cc[i] / ops);
		else
			printf("     0x%08x %-26s %6.2f\n", (unsigned)(CC_BASE + i),
			       cc_name((uint32_t)(CC_BASE + i)), (double)c->cc[i] / ops);
	}
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
		   "  --verbose   print the per-command-code histogram of each operation\n"
		   "\n"
		   "Needs swtpm, clevis and clevis-tpm2 (exit 77 when missing).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rounds", required_argument, NULL, 'r'}, {"dir", required_argument, NULL, 'd'},
		{"verbose", no_argument, NULL, 'v'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char *const needed[] = {"swtpm", "clevis", "clevis-encrypt-tpm2",
					     "clevis-decrypt-tpm2", "tpm2_unseal"};
	const char *base = getenv("TMPDIR");
	int rounds = 20, c;
	bool verbose = false;
	struct secret *key = NULL, *buf = NULL;
	struct tpm_sealed sealed;
	struct diag d = {0};
	struct tpm *t = NULL;
	char uuid[LUKS_UUID_MAX], s1[32], s2[32];
	uint16_t swtpm_port;
	double *o_all, *o_tpm, *o_luks, *c_all, *c_tool, *c_luks, *l_only, *d_ours, *d_clevis;
	double seal_time, enc_time, tmp1, tmp2;
	struct counts a, b, seal_c = {0}, enc_c = {0}, ours_c = {0}, clevis_c = {0};
	struct per_op ours_n = {0}, clevis_n = {0};
	struct loaded left[6];
	size_t nleft = 0;

	if (!base || !*base)
		base = "/tmp";
	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rounds = atoi(optarg);
			if (rounds < 1 || rounds > ROUNDS_MAX) {
				fprintf(stderr, "bench-unseal: bad --rounds %s (1..%d)\n", optarg,
					ROUNDS_MAX);
				return 2;
			}
			break;
		case 'd':
			base = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!in_path(needed[i])) {
			printf("bench-unseal: SKIP: %s is not installed (apt-get install swtpm "
			       "clevis clevis-tpm2 tpm2-tools)\n",
			       needed[i]);
			return 77;
		}

	o_all = calloc((size_t)rounds * 9, sizeof(double));
	if (!o_all)
		die("memory", ENOMEM);
	o_tpm = o_all + rounds;
	o_luks = o_tpm + rounds;
	c_all = o_luks + rounds;
	c_tool = c_all + rounds;
	c_luks = c_tool + rounds;
	l_only = c_luks + rounds;
	d_ours = l_only + rounds;
	d_clevis = d_ours + rounds;

	{
		unsigned seed;

		if (RAND_bytes((unsigned char *)&seed, sizeof(seed)) != 1)
			seed = (unsigned)getpid() ^ (unsigned)time(NULL);
		srand(seed);
	}
	setup_signals();
	snprintf(scratch.dir, sizeof(scratch.dir), "%s/sealboot-bench-unseal.XXXXXX", base);
	if (!mkdtemp(scratch.dir)) {
		int e = errno;

		scratch.dir[0] = 0;
		die(base, e);
	}
	atexit(cleanup);
	snprintf(vol, sizeof(vol), "%s/luks.img", scratch.dir);
	snprintf(jwe, sizeof(jwe), "%s/key.jwe", scratch.dir);
	snprintf(errlog, sizeof(errlog), "%s/clevis.err", scratch.dir);

	/* 1. swtpm behind the counting proxy. */
	build_child_env();
	swtpm_port = start_swtpm(scratch.dir);
	proxy_start(swtpm_port);
	snprintf(tcti, sizeof(tcti), "swtpm:host=127.0.0.1,port=%u", (unsigned)proxy.port);
	snprintf(tcti_var, sizeof(tcti_var), "TPM2TOOLS_TCTI=%s", tcti);

	/* 2. The LUKS2 volume and its key. */
	if (secret_new(KEY_LEN, &key) < 0 || secret_new(256, &buf) < 0)
		die("locking memory for the key", ENOMEM);
	if (RAND_bytes(key->data, KEY_LEN) != 1)
		die("RAND_bytes", EIO);
	{
		int fd = open(vol, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd < 0 || ftruncate(fd, VOLUME_SIZE) < 0)
			die(vol, errno);
		close(fd);
	}
	if (luks_format(vol, key, uuid, &d) < 0)
		die_diag("luks_format", &d);

	/* A measured "boot": PCR 15 holds something other than zeros. */
	{
		uint8_t ev[SHA256_DIGEST_LENGTH];

		SHA256((const unsigned char *)"bench-unseal boot", 17, ev);
		if (tpm_open(tcti, &t, &d) < 0)
			die_diag("tpm_open", &d);
		if (tpm_pcr_extend(t, SEAL_PCR, ev, &d) < 0)
			die_diag("tpm_pcr_extend", &d);
		tpm_close(t);
		t = NULL;
	}

	printf("bench-unseal: %d rounds (after one warm-up each), swtpm on 127.0.0.1:%u, "
	       "counting proxy on :%u (+ control :%u), %ld online CPUs, %s\n",
	       rounds, (unsigned)swtpm_port, (unsigned)proxy.port, (unsigned)proxy.port + 1,
	       sysconf(_SC_NPROCESSORS_ONLN), OpenSSL_version(OPENSSL_VERSION));
	printf("LUKS2 volume %s (PBKDF2-sha256, 1000 iterations), key sealed to PCR %d "
	       "(sha256)\n",
	       vol, SEAL_PCR);
	fflush(stdout);

	/* 3a. Our seal: open + trial PolicyPCR + seal + close. */
	counts_snap(&a);
	seal_time = now();
	{
		uint8_t policy[TPMPOLICY_DIGEST_SIZE];

		if (tpm_open(tcti, &t, &d) < 0)
			die_diag("tpm_open", &d);
		if (tpm_trial_policy_pcr(t, TPMPOLICY_PCR(SEAL_PCR), policy, &d) < 0)
			die_diag("tpm_trial_policy_pcr", &d);
		if (tpm_seal(t, policy, key, &sealed, &d) < 0)
			die_diag("tpm_seal", &d);
		tpm_close(t);
		t = NULL;
	}
	seal_time = now() - seal_time;
	counts_snap(&b);
	counts_add_diff(&seal_c, &a, &b);
	count_loaded(&left[nleft++], "our seal");

	/* 4a. clevis encrypt of the same key: on a pipe, never argv/env. */
	counts_snap(&a);
	{
		char *ev[] = {"clevis", "encrypt", "tpm2", CLEVIS_CONFIG, NULL};
		int p[2], out;

		if (pipe2(p, O_CLOEXEC) < 0)
			die("pipe", errno);
		out = open(jwe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (out < 0)
			die(jwe, errno);
		enc_time = run_clevis(ev, p[0], out, p[1], key, NULL);
		close(p[0]);
		close(out);
	}
	counts_snap(&b);
	counts_add_diff(&enc_c, &a, &b);
	count_loaded(&left[nleft++], "clevis encrypt");

	/* Warm-up (untimed): both unlock paths work end to end, through the
	 * proxy, before anything is timed. */
	(void)ours_unlock(&sealed, &tmp1, &tmp2);
	count_loaded(&left[nleft++], "one unlock by us");
	(void)clevis_unlock(buf, key, &tmp1, &tmp2);
	count_loaded(&left[nleft++], "one clevis decrypt");

	/* 3b, 4b, 5: interleaved rounds. */
	for (int i = 0; i < rounds; i++) {
		counts_snap(&a);
		o_all[i] = ours_unlock(&sealed, &o_tpm[i], &o_luks[i]);
		counts_snap(&b);
		counts_add_diff(&ours_c, &a, &b);
		per_op_add(&ours_n, b.cmds - a.cmds, i == 0);

		counts_snap(&a);
		c_all[i] = clevis_unlock(buf, key, &c_tool[i], &c_luks[i]);
		counts_snap(&b);
		counts_add_diff(&clevis_c, &a, &b);
		per_op_add(&clevis_n, b.cmds - a.cmds, i == 0);

		tmp1 = now();
		if (luks_check_key(vol, key, &d) < 0)
			die_diag("luks_check_key", &d);
		l_only[i] = now() - tmp1;
	}

	count_loaded(&left[nleft++], "all rounds");

	/* The same rounds straight to swtpm, uncounted: what the proxy's
	 * extra loopback hop per command costs each contender. */
	snprintf(tcti, sizeof(tcti), "swtpm:host=127.0.0.1,port=%u", (unsigned)swtpm_port);
	snprintf(tcti_var, sizeof(tcti_var), "TPM2TOOLS_TCTI=%s", tcti);
	for (int i = 0; i < rounds; i++) {
		d_ours[i] = ours_unlock(&sealed, &tmp1, &tmp2);
		d_clevis[i] = clevis_unlock(buf, key, &tmp1, &tmp2);
	}

	{
		double om = median(o_all, rounds), cm = median(c_all, rounds);
		double omin = minimum(o_all, rounds), cmin = minimum(c_all, rounds);
		double ratio = om / cm;

		printf("\n1. unlock: unseal the key + check it against the LUKS2 keyslot (%d rounds)\n",
		       rounds);
		printf("   %-44s %10s %10s %12s\n", "contender", "median ms", "min ms",
		       "TPM cmds/op");
		printf("   %-44s %10.2f %10.2f %12s\n",
		       "sealboot: tpm_open+tpm_unseal_pcr+check+close", om * 1e3, omin * 1e3,
		       per_op_str(&ours_n, s1, sizeof(s1)));
		printf("   %-44s %10.2f %10.2f\n", "  of which TPM (open+unseal+close)",
		       median(o_tpm, rounds) * 1e3, minimum(o_tpm, rounds) * 1e3);
		printf("   %-44s %10.2f %10.2f\n", "  of which luks_check_key",
		       median(o_luks, rounds) * 1e3, minimum(o_luks, rounds) * 1e3);
		printf("   %-44s %10.2f %10.2f %12s\n", "clevis decrypt (tpm2 pin) + check",
		       cm * 1e3, cmin * 1e3, per_op_str(&clevis_n, s2, sizeof(s2)));
		printf("   %-44s %10.2f %10.2f\n", "  of which `clevis decrypt` (spawn to exit)",
		       median(c_tool, rounds) * 1e3, minimum(c_tool, rounds) * 1e3);
		printf("   %-44s %10.2f %10.2f\n", "  of which luks_check_key",
		       median(c_luks, rounds) * 1e3, minimum(c_luks, rounds) * 1e3);
		printf("   %-44s %10.2f %10.2f\n", "luks_check_key alone (same key, same volume)",
		       median(l_only, rounds) * 1e3, minimum(l_only, rounds) * 1e3);
		printf("   ours / clevis (median): %.3fx (min: %.3fx)   target <= %.2fx   %s\n",
		       ratio, omin / cmin, TARGET_RATIO, ratio <= TARGET_RATIO ? "PASS" : "MISS");
		printf("   TPM part alone, ours / `clevis decrypt` (median): %.3fx\n",
		       median(o_tpm, rounds) / median(c_tool, rounds));
		printf("   TPM commands ours / clevis: %.2fx\n",
		       (double)ours_c.cmds / (double)(clevis_c.cmds ? clevis_c.cmds : 1));
		{
			double dom = median(d_ours, rounds), dcm = median(d_clevis, rounds);

			printf("\n   the same %d rounds straight to swtpm (no proxy, not counted):\n",
			       rounds);
			printf("   %-44s %10.2f %10.2f\n", "sealboot unlock", dom * 1e3,
			       minimum(d_ours, rounds) * 1e3);
			printf("   %-44s %10.2f %10.2f\n", "clevis decrypt + check", dcm * 1e3,
			       minimum(d_clevis, rounds) * 1e3);
			printf("   ours / clevis (median): %.3fx   target <= %.2fx   %s\n", dom / dcm,
			       TARGET_RATIO, dom / dcm <= TARGET_RATIO ? "PASS" : "MISS");
		}

		printf("\n2. one-off: seal the key (done once, at enrolment)\n");
		printf("   %-44s %10s %12s\n", "contender", "ms", "TPM cmds");
		printf("   %-44s %10.2f %12lu\n", "sealboot: open+trial PolicyPCR+tpm_seal+close",
		       seal_time * 1e3, seal_c.cmds);
		printf("   %-44s %10.2f %12lu\n", "clevis encrypt tpm2 (spawn to exit)",
		       enc_time * 1e3, enc_c.cmds);

		printf("\n   counted by the proxy: every TPM command on the wire. tpm2-tss's swtpm "
		       "TCTI\n   opens one TCP connection per command, and one control-port "
		       "connection (set\n   locality) per TCTI init: %.1f / %.1f per unlock "
		       "(ours / clevis), not TPM commands.\n",
		       (double)ours_c.ctrl / rounds, (double)clevis_c.ctrl / rounds);
		printf("\n   left in the TPM (transient objects / sessions, loaded or saved), "
		       "running totals:\n");
		for (size_t i = 0; i < nleft; i++)
			printf("     after %-22s %u / %u\n", left[i].after, left[i].transient,
			       left[i].sessions);
		if (verbose) {
			printf("\n3. TPM commands by command code\n");
			print_hist("sealboot unlock", &ours_c, rounds);
			print_hist("clevis decrypt", &clevis_c, rounds);
			print_hist("sealboot seal", &seal_c, 1);
			print_hist("clevis encrypt tpm2", &enc_c, 1);
		}
	}
	fflush(stdout);

	secret_free(key);
	secret_free(buf);
	free(o_all);
	free(child_env);
	return 0;
}
