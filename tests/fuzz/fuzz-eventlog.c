/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness over the anchor's event log reader, eventlog_parse()
 * (JSON Lines, docs/formats/eventlog.md). struct eventlog is ~35 KiB: it
 * lives on the heap. Properties:
 *  - a refusal is -EBADMSG and says why in one line naming a line of the
 *    input that exists ("event log line N: ...", 1 <= N <= lines), class
 *    malformed (one known exception below);
 *  - what parses has one record per line and at most EVENTLOG_MAX records,
 *    each on a PCR 0..23 with a non-empty printable ASCII text shorter than
 *    EVENTLOG_TEXT_MAX and a digest equal to SHA-256 of that text;
 *  - eventlog_write() of it parses again to the same records.
 */
#include <errno.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LINE_PREFIX "event log line "

/* One line a person can act on: set, non-empty, no control character. */
static bool one_line(const struct diag *d, const char *prefix)
{
	if (d->cls == DIAG_NONE || !d->msg[0] || strncmp(d->msg, prefix, strlen(prefix)))
		return false;
	for (const char *c = d->msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

static bool refusal_ok(int r, const struct diag *d, size_t lines)
{
	unsigned long line;
	char *end;

	if (r == -ENOMEM)
		return d->cls == DIAG_INTERNAL && one_line(d, "");
	if (r != -EBADMSG)
		return false;
	if (d->cls != DIAG_MALFORMED || !one_line(d, LINE_PREFIX))
		return false;
	line = strtoul(d->msg + strlen(LINE_PREFIX), &end, 10);
	return end != d->msg + strlen(LINE_PREFIX) && end[0] == ':' && end[1] == ' ' && end[2] &&
	       line >= 1 && line <= lines;
}

static bool record_ok(const struct eventlog_record *rec)
{
	size_t len = strnlen(rec->text, sizeof(rec->text));
	uint8_t md[SHA256_DIGEST_LENGTH];

	if (rec->pcr >= TPMPOLICY_PCR_COUNT || len == 0 || len >= sizeof(rec->text))
		return false;
	for (size_t i = 0; i < len; i++)
		if (rec->text[i] < 0x20 || rec->text[i] > 0x7e)
			return false;
	SHA256((const unsigned char *)rec->text, len, md);
	return !memcmp(md, rec->digest, sizeof(md));
}

/* A refusal that breaks the rules: show it (the fuzzer prints the input). */
static void bad_refusal(int r, const struct diag *d)
{
	fprintf(stderr, "bad refusal: r=%d class=%s msg=\"%s\"\n", r, diag_class_name(d->cls),
		d->msg);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eventlog *log = malloc(sizeof(*log)), *log2 = malloc(sizeof(*log2));
	struct tpmpolicy_pcr_values v1, v2;
	struct diag d = {0};
	size_t lines = 0, n = 0;
	char *out = NULL;
	FILE *f;
	int r;

	if (!log || !log2)
		goto done;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (size && data[size - 1] != '\n')
		lines++;

	r = eventlog_parse((const char *)data, size, log, &d);
	if (r < 0) {
		if (!refusal_ok(r, &d, lines))
			bad_refusal(r, &d);
		goto done;
	}
	if (r != 0 || d.cls != DIAG_NONE || log->n > EVENTLOG_MAX || log->n != lines)
		abort();
	for (size_t i = 0; i < log->n; i++)
		if (!record_ok(&log->r[i]))
			abort();

	/* What eventlog_write() prints reads back as the same records. */
	f = open_memstream(&out, &n);
	if (!f)
		goto done;
	r = eventlog_write(log, f);
	if (fclose(f) != 0 || r < 0)
		goto done; /* out of memory */
	if (eventlog_parse(out, n, log2, &d) < 0 || log2->n != log->n)
		abort();
	for (size_t i = 0; i < log->n; i++)
		if (log->r[i].pcr != log2->r[i].pcr ||
		    memcmp(log->r[i].digest, log2->r[i].digest, sizeof(log->r[i].digest)) ||
		    strcmp(log->r[i].text, log2->r[i].text))
			abort();
	eventlog_replay(log, &v1);
	eventlog_replay(log2, &v2);
	if (memcmp(&v1, &v2, sizeof(v1)))
		abort();
done:
	free(out);
	free(log);
	free(log2);
	return 0;
}
