/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness over the two parsers of core/bootpcr: the firmware's
 * binary TCG event log (tcglog_parse(), from a reference boot an admin
 * copies off an appliance) and the PE/COFF Authenticode digest
 * (bootpcr_authenticode(), over a kernel image file). The same bytes go to
 * both. Properties:
 *  - a refused log is -EBADMSG, class malformed, one printable line starting
 *    "firmware event log"; a refused image -EINVAL, class malformed, one
 *    line starting "kernel image: ";
 *  - a parsed log's records tile the input exactly after the Spec ID event
 *    (offsets ascending, each record's data inside it, the last ending at
 *    the end), every record on PCR 0..23; one byte less is refused;
 *  - it replays, and a prediction over it with every artifact given either
 *    works or says which record is missing (-ENOENT).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootpcr.h"
#include "tcglog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool one_line(const struct diag *d, const char *prefix)
{
	if (d->cls != DIAG_MALFORMED || strncmp(d->msg, prefix, strlen(prefix)) != 0)
		return false;
	for (const char *c = d->msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

static void check_log(const uint8_t *data, size_t size)
{
	struct tcglog *log = NULL, *shorter = NULL;
	struct tpmpolicy_pcr_values v;
	struct bootpcr_inputs in = {.has_kernel = true, .has_initrd = true, .has_cmdline = true};
	struct diag d = {0};
	size_t at;
	int r;

	r = tcglog_parse(data, size, &log, &d);
	if (r == -ENOMEM)
		return;
	if (r < 0) {
		if (r != -EBADMSG || !one_line(&d, "firmware event log"))
			abort();
		return;
	}
	at = log->n ? log->ev[0].offset : size;
	if (at < 32)
		abort();
	for (size_t i = 0; i < log->n; i++) {
		const struct tcglog_event *ev = &log->ev[i];

		if (ev->offset != at || ev->pcr >= TPMPOLICY_PCR_COUNT || ev->data < data ||
		    ev->data + ev->data_len > data + size || ev->data < data + ev->offset)
			abort();
		at = (size_t)(ev->data - data) + ev->data_len;
	}
	if (at != size)
		abort();
	if (size > 0) {
		memset(&d, 0, sizeof(d));
		if (tcglog_parse(data, size - 1, &shorter, &d) == 0)
			abort();
	}
	memset(&d, 0, sizeof(d));
	if (tcglog_replay(log, &v, &d) != 0)
		abort();
	in.ref = log;
	memset(&d, 0, sizeof(d));
	r = bootpcr_predict(&in, 0xffffff, &v, &d);
	if (r != 0 && r != -ENOENT)
		abort();
	tcglog_free(log);
}

static void check_pe(const uint8_t *data, size_t size)
{
	uint8_t dg[TPMPOLICY_DIGEST_SIZE];
	struct diag d = {0};
	int r = bootpcr_authenticode(data, size, dg, &d);

	if (r < 0 && (r != -EINVAL || !one_line(&d, "kernel image: ")))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_log(data, size);
	check_pe(data, size);
	return 0;
}
