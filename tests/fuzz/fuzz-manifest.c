/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness over the manifest parser (and the strict JSON gate in
 * front of it). Properties: a refusal says why in one line; whatever parses
 * also serializes, the serialization parses back to an equal manifest, and
 * serializing that gives the same bytes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool equal(const struct manifest *a, const struct manifest *b)
{
	if (a->format_version != b->format_version || strcmp(a->name, b->name) ||
	    a->version != b->version || strcmp(a->appliance_class, b->appliance_class) ||
	    a->has_not_after != b->has_not_after ||
	    (a->has_not_after && a->not_after != b->not_after) || a->n_payloads != b->n_payloads)
		return false;
	for (size_t i = 0; i < a->n_payloads; i++) {
		const struct payload *p = &a->payloads[i], *q = &b->payloads[i];

		if (strcmp(p->path, q->path) || p->size != q->size || p->role != q->role ||
		    p->alg != q->alg || memcmp(p->digest, q->digest, digest_alg_len(p->alg)))
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest *m = NULL, *m2 = NULL;
	struct diag d = {0};
	char *s1 = NULL, *s2 = NULL;
	size_t n1, n2;
	int r;

	r = manifest_parse((const char *)data, size, &m, &d);
	if (r < 0) {
		/* A refusal always says why, in one line, and returns nothing. */
		if (m || (r != -EBADMSG && r != -ENOMEM) || d.cls == DIAG_NONE ||
		    strncmp(d.msg, "manifest", 8) || strchr(d.msg, '\n'))
			abort();
		return 0;
	}
	if (!m || manifest_validate(m, NULL) < 0 || manifest_serialize(m, &s1, &n1) < 0)
		abort();
	memset(&d, 0, sizeof(d));
	if (manifest_parse(s1, n1, &m2, &d) < 0 || !equal(m, m2))
		abort();
	if (manifest_serialize(m2, &s2, &n2) < 0 || n1 != n2 || memcmp(s1, s2, n1))
		abort();
	free(s1);
	free(s2);
	manifest_free(m);
	manifest_free(m2);
	return 0;
}
