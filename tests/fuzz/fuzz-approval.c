/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness over the signed PCR policy file parser, approval_parse()
 * (docs/formats/pcr-policy.md). Properties:
 *  - a refusal leaves *ret untouched and says why in one line naming the
 *    document ("pcr policy: ..."), -EBADMSG, class malformed (one known
 *    exception below);
 *  - what parses selects a PCR set sealboot may seal to (non-empty, no PCR
 *    above 23, not 16 or 23), and approval_serialize() of it parses again to
 *    an equal struct whose serialization is the same bytes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool equal(const struct approval *a, const struct approval *b)
{
	if (a->serial != b->serial || a->mask != b->mask ||
	    memcmp(a->sig_r, b->sig_r, sizeof(a->sig_r)) ||
	    memcmp(a->sig_s, b->sig_s, sizeof(a->sig_s)))
		return false;
	/* Unselected entries too: the parser leaves them zero. */
	return !memcmp(&a->values, &b->values, sizeof(a->values));
}

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

static bool refusal_ok(int r, const struct diag *d)
{
	if (r == -ENOMEM)
		return d->cls == DIAG_INTERNAL && one_line(d, "");
	return r == -EBADMSG && d->cls == DIAG_MALFORMED && one_line(d, "pcr policy: ");
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
	struct approval a, b, untouched;
	struct diag d = {0}, md = {0};
	char *s1 = NULL, *s2 = NULL;
	size_t n1, n2;
	int r;

	memset(&untouched, 0xa5, sizeof(untouched));
	memcpy(&a, &untouched, sizeof(a));
	r = approval_parse((const char *)data, size, &a, &d);
	if (r < 0) {
		if (!refusal_ok(r, &d))
			bad_refusal(r, &d);
		if (memcmp(&a, &untouched, sizeof(a)))
			abort();
		return 0;
	}
	if (r != 0 || d.cls != DIAG_NONE || tpmpolicy_check_pcr_mask(a.mask, &md) < 0)
		abort();
	for (unsigned i = 0; i < TPMPOLICY_PCR_COUNT; i++)
		if (!(a.mask & TPMPOLICY_PCR(i)))
			for (unsigned k = 0; k < TPMPOLICY_DIGEST_SIZE; k++)
				if (a.values.v[i][k])
					abort();
	if (approval_serialize(&a, &s1, &n1) < 0)
		abort();
	memcpy(&b, &untouched, sizeof(b));
	memset(&d, 0, sizeof(d));
	if (approval_parse(s1, n1, &b, &d) < 0 || !equal(&a, &b))
		abort();
	if (approval_serialize(&b, &s2, &n2) < 0 || n1 != n2 || memcmp(s1, s2, n1))
		abort();
	free(s1);
	free(s2);
	return 0;
}
