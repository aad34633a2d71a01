/* SPDX-License-Identifier: Apache-2.0 */
/* The TPM proxy fixture: tpmproxy.h. */
#include "tpmproxy.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct {
	atomic_ulong cmds, rsps, conns, ctrl;
	atomic_ulong cc[TPMPROXY_CC_SLOTS + 1];
	atomic_ulong timed[TPMPROXY_CC_SLOTS + 1];
	atomic_ullong ns[TPMPROXY_CC_SLOTS + 1];
	atomic_ullong ns_all;
} counters;

/* The command codes in the order they came (the first ORDER_MAX). */
static uint32_t order[TPMPROXY_ORDER_MAX];

size_t tpmproxy_order(const uint32_t **ret)
{
	unsigned long n = atomic_load(&counters.cmds);

	*ret = order;
	return n < TPMPROXY_ORDER_MAX ? n : TPMPROXY_ORDER_MAX;
}

/* The armed fault: after response cut_k (0: never), kill cut_pid. */
static unsigned long cut_k;
static pid_t cut_pid;
static atomic_bool cut;

void tpmproxy_snap(struct tpmproxy_counts *c)
{
	c->cmds = atomic_load(&counters.cmds);
	c->rsps = atomic_load(&counters.rsps);
	c->conns = atomic_load(&counters.conns);
	c->ctrl = atomic_load(&counters.ctrl);
	for (size_t i = 0; i <= TPMPROXY_CC_SLOTS; i++) {
		c->cc[i] = atomic_load(&counters.cc[i]);
		c->timed[i] = atomic_load(&counters.timed[i]);
		c->ns[i] = atomic_load(&counters.ns[i]);
	}
	c->ns_all = atomic_load(&counters.ns_all);
}

void tpmproxy_add_diff(struct tpmproxy_counts *acc, const struct tpmproxy_counts *a,
		       const struct tpmproxy_counts *b)
{
	acc->cmds += b->cmds - a->cmds;
	acc->rsps += b->rsps - a->rsps;
	acc->conns += b->conns - a->conns;
	acc->ctrl += b->ctrl - a->ctrl;
	for (size_t i = 0; i <= TPMPROXY_CC_SLOTS; i++) {
		acc->cc[i] += b->cc[i] - a->cc[i];
		acc->timed[i] += b->timed[i] - a->timed[i];
		acc->ns[i] += b->ns[i] - a->ns[i];
	}
	acc->ns_all += b->ns_all - a->ns_all;
}

size_t tpmproxy_cc_slot(uint32_t code)
{
	return code >= TPMPROXY_CC_BASE && code < TPMPROXY_CC_BASE + TPMPROXY_CC_SLOTS
		   ? code - TPMPROXY_CC_BASE
		   : TPMPROXY_CC_SLOTS;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct relay {
	int client, upstream;
	bool tpm; /* the TPM port (parse commands), not the control port */
};

/* Commands in flight on one connection, oldest first (the TCTI sends one
 * and waits; a few slots cover a pipelining client, the rest go untimed). */
#define PENDING_MAX 16

struct pending {
	uint32_t code[PENDING_MAX];
	uint64_t sent[PENDING_MAX]; /* ns: last request byte forwarded */
	size_t head, n;
};

/* Parser state for one client->server TPM stream. */
struct cmd_parser {
	uint8_t hdr[10];
	size_t have;	    /* header bytes collected */
	uint64_t remaining; /* body bytes of the current command still to pass */
	uint32_t code;	    /* of the current command */
	/* Commands whose last byte is in the chunk just parsed. */
	uint32_t done[PENDING_MAX];
	size_t ndone;
};

/* Parser state for one server->client TPM stream (response header: tag
 * u16, responseSize u32). */
struct rsp_parser {
	uint8_t hdr[6];
	size_t have;
	uint64_t remaining;
};

static void cmd_done(struct cmd_parser *p)
{
	if (p->ndone < PENDING_MAX)
		p->done[p->ndone++] = p->code;
}

/* Count the commands that start in buf, and note those that end in it.
 * Called before buf is forwarded, so a command is counted before the TPM
 * can answer it: when a client holds a response, its command is in the
 * counters. */
static void parse_cmds(struct cmd_parser *p, const uint8_t *buf, size_t n)
{
	p->ndone = 0;
	while (n > 0) {
		if (p->remaining > 0) {
			size_t k = p->remaining < n ? (size_t)p->remaining : n;

			p->remaining -= k;
			buf += k;
			n -= k;
			if (p->remaining == 0)
				cmd_done(p);
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

		{
			unsigned long at = atomic_fetch_add(&counters.cmds, 1);

			if (at < TPMPROXY_ORDER_MAX)
				order[at] = code;
		}
		atomic_fetch_add(&counters.cc[tpmproxy_cc_slot(code)], 1);
		p->have = 0;
		p->code = code;
		/* A malformed size (< header) resynchronizes on the next byte;
		 * the TPM would reject such a command anyway. */
		p->remaining = size > sizeof(p->hdr) ? size - sizeof(p->hdr) : 0;
		if (p->remaining == 0)
			cmd_done(p);
	}
}

/* The commands that ended in the chunk just forwarded are in flight. */
static void pending_push(struct pending *q, const struct cmd_parser *p, uint64_t t)
{
	for (size_t i = 0; i < p->ndone; i++) {
		size_t at;

		if (q->n == PENDING_MAX) { /* drop the oldest, untimed */
			q->head = (q->head + 1) % PENDING_MAX;
			q->n--;
		}
		at = (q->head + q->n) % PENDING_MAX;
		q->code[at] = p->done[i];
		q->sent[at] = t;
		q->n++;
	}
}

/* The responses that end in buf (read at t) complete the oldest commands
 * in flight. Called before buf is forwarded to the client, like
 * parse_cmds. */
static bool parse_rsps(struct rsp_parser *p, struct pending *q, const uint8_t *buf, size_t n,
		       uint64_t t)
{
	bool cut_here = false;

	while (n > 0) {
		bool end = false;

		if (p->remaining > 0) {
			size_t k = p->remaining < n ? (size_t)p->remaining : n;

			p->remaining -= k;
			buf += k;
			n -= k;
			end = p->remaining == 0;
		} else {
			p->hdr[p->have++] = *buf++;
			n--;
			if (p->have < sizeof(p->hdr))
				continue;
			uint32_t size = (uint32_t)p->hdr[2] << 24 | (uint32_t)p->hdr[3] << 16 |
					(uint32_t)p->hdr[4] << 8 | p->hdr[5];

			p->have = 0;
			p->remaining = size > sizeof(p->hdr) ? size - sizeof(p->hdr) : 0;
			end = p->remaining == 0;
		}
		if (end && atomic_fetch_add(&counters.rsps, 1) + 1 == cut_k)
			cut_here = true;
		if (end && q->n > 0) {
			size_t slot = tpmproxy_cc_slot(q->code[q->head]);
			uint64_t dt = t - q->sent[q->head];

			atomic_fetch_add(&counters.ns[slot], dt);
			atomic_fetch_add(&counters.ns_all, dt);
			atomic_fetch_add(&counters.timed[slot], 1);
			q->head = (q->head + 1) % PENDING_MAX;
			q->n--;
		}
	}
	return cut_here;
}

bool tpmproxy_write_all(int fd, const void *buf, size_t n)
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
	struct rsp_parser rparser = {0};
	struct pending inflight = {0};
	bool open_c2s = true, open_s2c = true, cut_here = false;
	uint8_t buf[16384];

	while ((open_c2s || open_s2c) && !atomic_load(&cut)) {
		struct pollfd pf[2] = {
		    {.fd = open_c2s ? r->client : -1, .events = POLLIN},
		    {.fd = open_s2c ? r->upstream : -1, .events = POLLIN},
		};

		/* Bounded, so a cut elsewhere ends an idle relay too. */
		if (poll(pf, 2, 100) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			int from = i ? r->upstream : r->client, to = i ? r->client : r->upstream;
			uint64_t t;
			ssize_t k;

			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			k = read(from, buf, sizeof(buf));
			t = now_ns();
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
			else if (r->tpm)
				cut_here = parse_rsps(&rparser, &inflight, buf, (size_t)k, t);
			if (!tpmproxy_write_all(to, buf, (size_t)k)) {
				open_c2s = open_s2c = false;
				break;
			}
			/* The k-th response is with the client: the TPM dies now. */
			if (cut_here) {
				if (cut_pid > 0)
					(void)kill(cut_pid, SIGKILL);
				atomic_store(&cut, true);
				break;
			}
			/* Sent to swtpm whole: from now on, the TPM's time. */
			if (i == 0 && r->tpm && parser.ndone)
				pending_push(&inflight, &parser, now_ns());
		}
	}
	close(r->client);
	close(r->upstream);
	free(r);
	return NULL;
}

int tpmproxy_connect(uint16_t port)
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

int tpmproxy_listen(uint16_t port)
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
	int lfd[2];	   /* listening: [0] TPM port Q, [1] control Q+1 */
	uint16_t port;	   /* Q */
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
			/* After the cut nothing answers any more. */
			if (atomic_load(&cut)) {
				close(c);
				continue;
			}
			/* Counted before upstream sees anything. */
			atomic_fetch_add(i ? &counters.ctrl : &counters.conns, 1);
			u = tpmproxy_connect((uint16_t)(proxy.upstream + i));
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

		lfd[0] = tpmproxy_listen(p);
		if (lfd[0] < 0)
			continue;
		lfd[1] = tpmproxy_listen((uint16_t)(p + 1));
		if (lfd[1] < 0) {
			close(lfd[0]);
			continue;
		}
		*ret = p;
		return true;
	}
	return false;
}

void tpmproxy_cut_after(unsigned long k, pid_t kill_pid)
{
	cut_k = k;
	cut_pid = kill_pid;
}

bool tpmproxy_cut_done(void)
{
	return atomic_load(&cut);
}

int tpmproxy_start(uint16_t upstream, uint16_t *ret_port)
{
	int r;

	proxy.upstream = upstream;
	if (!bind_pair(&proxy.port, proxy.lfd))
		return -EADDRINUSE;
	r = pthread_create(&proxy.thread, NULL, proxy_main, NULL);
	if (r != 0) {
		close(proxy.lfd[0]);
		close(proxy.lfd[1]);
		return -r;
	}
	*ret_port = proxy.port;
	return 0;
}

/* ---- swtpm, temp dirs, cleanup ------------------------------------------ */
