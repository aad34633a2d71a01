/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness over the LUKS2 token parser, token_parse()
 * (docs/formats/luks-token.md). It takes a NUL-terminated string, as
 * libcryptsetup hands it over: the input is copied into a buffer of exactly
 * size + 1 bytes (so ASan sees a read past the NUL), and inputs holding a NUL
 * byte are skipped (a C string cannot carry them). Properties:
 *  - a refusal is -EBADMSG, leaves *ret untouched and says why in one line
 *    naming the token ("LUKS2 token sealboot-tpm2: ...");
 *  - what parses has blobs of 1..TPM_SEALED_MAX bytes, and token_to_json()
 *    of it parses again to an equal token whose JSON is the same text.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool equal(const struct tpm_sealed *a, const struct tpm_sealed *b)
{
	return a->pub_len == b->pub_len && a->priv_len == b->priv_len &&
	       !memcmp(a->pub, b->pub, a->pub_len) && !memcmp(a->priv, b->priv, a->priv_len) &&
	       !memcmp(a->primary_name, b->primary_name, sizeof(a->primary_name));
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
	return r == -EBADMSG && d->cls == DIAG_MALFORMED &&
	       one_line(d, "LUKS2 token " TOKEN_TYPE ": ");
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
	static struct tpm_sealed s, s2, untouched;
	struct diag d = {0};
	char *json, *j1 = NULL, *j2 = NULL;
	int r;

	if (memchr(data, 0, size))
		return 0;
	json = malloc(size + 1);
	if (!json)
		return 0;
	memcpy(json, data, size);
	json[size] = 0;

	memset(&untouched, 0xa5, sizeof(untouched));
	memcpy(&s, &untouched, sizeof(s));
	r = token_parse(json, &s, &d);
	free(json);
	if (r < 0) {
		if (!refusal_ok(r, &d))
			bad_refusal(r, &d);
		if (memcmp(&s, &untouched, sizeof(s)))
			abort();
		return 0;
	}
	if (r != 0 || d.cls != DIAG_NONE || s.pub_len < 1 || s.pub_len > TPM_SEALED_MAX ||
	    s.priv_len < 1 || s.priv_len > TPM_SEALED_MAX)
		abort();
	if (token_to_json(&s, &j1) < 0)
		abort();
	memcpy(&s2, &untouched, sizeof(s2));
	if (token_parse(j1, &s2, &d) < 0 || !equal(&s, &s2))
		abort();
	if (token_to_json(&s2, &j2) < 0 || strcmp(j1, j2))
		abort();
	free(j1);
	free(j2);
	return 0;
}
