/* SPDX-License-Identifier: Apache-2.0 */
#include "tcglog.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define ALG_SHA256 0x000Bu /* TPM_ALG_SHA256 */
#define MAX_DIGEST 64u	   /* sizeof(TPMU_HA): SHA-512 */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct reader {
	const uint8_t *buf;
	size_t len, pos;
	size_t record; /* offset of the record being read, for messages */
	struct diag *d;
};

static int bad(struct reader *rd, const char *what)
{
	return diag_set(rd->d, DIAG_MALFORMED, EBADMSG,
			"firmware event log, record at byte %zu: %s", rd->record, what);
}

/* The next n bytes, or NULL (and a diagnosis) if the log ends first. */
static const uint8_t *take(struct reader *rd, size_t n, const char *what)
{
	const uint8_t *p;

	if (n > rd->len - rd->pos) {
		bad(rd, what);
		return NULL;
	}
	p = rd->buf + rd->pos;
	rd->pos += n;
	return p;
}

struct alg {
	uint16_t id;
	uint16_t size;
};

/* The first record: TCG_PCR_EVENT (SHA-1 format) carrying TCG_EfiSpecIdEvent
 * (PC Client PFP 10.4.5.1). Fills algs/n_algs. */
static int parse_spec_id(struct reader *rd, struct alg *algs, size_t *n_algs)
{
	static const uint8_t sig[16] = "Spec ID Event03";
	static const uint8_t zero[20];
	const uint8_t *h, *e, *p;
	uint32_t size, n;
	size_t at, end;

	rd->record = 0;
	h = take(rd, 32, "too short for the Spec ID event (TCG_PCR_EVENT header)");
	if (!h)
		return -EBADMSG;
	if (le32(h) != 0 || le32(h + 4) != TCGLOG_EV_NO_ACTION || memcmp(h + 8, zero, 20) != 0)
		return bad(rd, "the first record is not the Spec ID event (PCR 0, EV_NO_ACTION, "
			       "zero SHA-1 digest): not a crypto-agile TCG log");
	size = le32(h + 28);
	e = take(rd, size, "Spec ID event runs past the end of the log");
	if (!e)
		return -EBADMSG;
	/* signature(16) platformClass(4) minor(1) major(1) errata(1) uintnSize(1)
	 * numberOfAlgorithms(4) = 28, then the algorithms, then vendorInfoSize(1). */
	if (size < 29 || memcmp(e, sig, sizeof(sig)) != 0)
		return bad(rd, "the first record is not a \"Spec ID Event03\" event");
	if (e[21] != 2)
		return bad(rd, "Spec ID event: specVersionMajor is not 2");
	if (e[23] != 1 && e[23] != 2)
		return bad(rd, "Spec ID event: uintnSize is not 1 or 2");
	n = le32(e + 24);
	if (n == 0 || n > TCGLOG_MAX_ALGS)
		return bad(rd, "Spec ID event: numberOfAlgorithms is 0 or too many");
	at = 28;
	if ((size_t)size - at < (size_t)n * 4 + 1)
		return bad(rd, "Spec ID event: algorithm list runs past the event");
	for (uint32_t i = 0; i < n; i++, at += 4) {
		p = e + at;
		algs[i].id = le16(p);
		algs[i].size = le16(p + 2);
		if (algs[i].size == 0 || algs[i].size > MAX_DIGEST)
			return bad(rd, "Spec ID event: a digest size is 0 or over 64");
		for (uint32_t j = 0; j < i; j++)
			if (algs[j].id == algs[i].id)
				return bad(rd, "Spec ID event: an algorithm is declared twice");
		if (algs[i].id == ALG_SHA256 && algs[i].size != TPMPOLICY_DIGEST_SIZE)
			return bad(rd, "Spec ID event: sha256 digests are not 32 bytes");
	}
	end = at + 1 + e[at]; /* vendorInfoSize, vendorInfo */
	if (end != size)
		return bad(rd, "Spec ID event: its fields do not fill EventSize exactly");
	*n_algs = n;
	for (uint32_t i = 0; i < n; i++)
		if (algs[i].id == ALG_SHA256)
			return 0;
	return bad(rd, "Spec ID event: the log has no sha256 bank");
}

/* "StartupLocality\0" then one byte (PC Client PFP 10.4.5.3). */
static void startup_locality(const struct tcglog_event *ev, struct tcglog *log)
{
	static const char tag[16] = "StartupLocality";

	if (ev->type == TCGLOG_EV_NO_ACTION && ev->pcr == 0 && ev->data_len == 17 &&
	    memcmp(ev->data, tag, sizeof(tag)) == 0)
		log->startup_locality = ev->data[16];
}

static int parse_event2(struct reader *rd, const struct alg *algs, size_t n_algs,
			struct tcglog_event *ev)
{
	const uint8_t *h, *p;
	uint32_t count;
	bool seen[TCGLOG_MAX_ALGS] = {0};

	rd->record = rd->pos;
	memset(ev, 0, sizeof(*ev));
	ev->offset = rd->pos;
	h = take(rd, 12, "record header runs past the end of the log");
	if (!h)
		return -EBADMSG;
	ev->pcr = le32(h);
	ev->type = le32(h + 4);
	count = le32(h + 8);
	if (ev->pcr >= TPMPOLICY_PCR_COUNT)
		return bad(rd, "PCR index above 23");
	if (count > n_algs)
		return bad(rd, "more digests than the Spec ID event declares algorithms");
	for (uint32_t i = 0; i < count; i++) {
		size_t k;

		p = take(rd, 2, "digest runs past the end of the log");
		if (!p)
			return -EBADMSG;
		for (k = 0; k < n_algs && algs[k].id != le16(p); k++)
			;
		if (k == n_algs)
			return bad(rd,
				   "a digest of an algorithm the Spec ID event does not declare");
		if (seen[k])
			return bad(rd, "two digests of one algorithm");
		seen[k] = true;
		p = take(rd, algs[k].size, "digest runs past the end of the log");
		if (!p)
			return -EBADMSG;
		if (algs[k].id == ALG_SHA256) {
			memcpy(ev->sha256, p, TPMPOLICY_DIGEST_SIZE);
			ev->has_sha256 = true;
		}
	}
	if (!ev->has_sha256 && ev->type != TCGLOG_EV_NO_ACTION)
		return bad(rd, "a measured record without its sha256 digest");
	p = take(rd, 4, "EventSize runs past the end of the log");
	if (!p)
		return -EBADMSG;
	ev->data_len = le32(p);
	ev->data = take(rd, ev->data_len, "event data runs past the end of the log");
	return ev->data ? 0 : -EBADMSG;
}

int tcglog_parse(const uint8_t *buf, size_t len, struct tcglog **ret, struct diag *d)
{
	struct reader rd = {.buf = buf, .len = len, .d = d};
	struct alg algs[TCGLOG_MAX_ALGS];
	size_t n_algs = 0, cap = 0;
	struct tcglog *log;
	int r;

	if (!buf && len)
		return diag_set(d, DIAG_USAGE, EINVAL, "firmware event log: no buffer");
	if (len > TCGLOG_MAX_BYTES)
		return diag_set(d, DIAG_MALFORMED, EBADMSG,
				"firmware event log: %zu bytes, more than the %u accepted", len,
				TCGLOG_MAX_BYTES);
	log = calloc(1, sizeof(*log));
	if (!log)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	r = parse_spec_id(&rd, algs, &n_algs);
	while (r == 0 && rd.pos < len) {
		if (log->n == TCGLOG_MAX_EVENTS) {
			r = diag_set(d, DIAG_MALFORMED, EBADMSG,
				     "firmware event log: more than %u records", TCGLOG_MAX_EVENTS);
			break;
		}
		if (log->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct tcglog_event *nev = realloc(log->ev, ncap * sizeof(*nev));

			if (!nev) {
				r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
				break;
			}
			log->ev = nev;
			cap = ncap;
		}
		r = parse_event2(&rd, algs, n_algs, &log->ev[log->n]);
		if (r == 0)
			startup_locality(&log->ev[log->n++], log);
	}
	if (r < 0) {
		tcglog_free(log);
		return r;
	}
	*ret = log;
	return 0;
}

void tcglog_free(struct tcglog *log)
{
	if (!log)
		return;
	free(log->ev);
	free(log);
}

int tcglog_extend(uint8_t pcr[TPMPOLICY_DIGEST_SIZE], const uint8_t digest[TPMPOLICY_DIGEST_SIZE],
		  struct diag *d)
{
	uint8_t buf[2 * TPMPOLICY_DIGEST_SIZE];
	unsigned int n = 0;

	memcpy(buf, pcr, TPMPOLICY_DIGEST_SIZE);
	memcpy(buf + TPMPOLICY_DIGEST_SIZE, digest, TPMPOLICY_DIGEST_SIZE);
	if (EVP_Digest(buf, sizeof(buf), pcr, &n, EVP_sha256(), NULL) != 1 ||
	    n != TPMPOLICY_DIGEST_SIZE)
		return diag_set(d, DIAG_INTERNAL, EIO, "SHA-256 failed");
	return 0;
}

int tcglog_replay(const struct tcglog *log, struct tpmpolicy_pcr_values *out, struct diag *d)
{
	struct tpmpolicy_pcr_values v = {0};
	int r = 0;

	v.v[0][TPMPOLICY_DIGEST_SIZE - 1] = log->startup_locality;
	for (size_t i = 0; r == 0 && i < log->n; i++)
		if (log->ev[i].type != TCGLOG_EV_NO_ACTION)
			r = tcglog_extend(v.v[log->ev[i].pcr], log->ev[i].sha256, d);
	if (r == 0)
		*out = v;
	return r;
}
