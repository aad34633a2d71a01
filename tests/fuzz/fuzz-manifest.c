/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness over the manifest parser (and the strict JSON gate in
 * front of it). Property: whatever parses also serializes, and the
 * serialization parses back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest *m = NULL, *m2 = NULL;
	struct diag d = {0};
	char *s1 = NULL, *s2 = NULL;
	size_t n1, n2;

	if (manifest_parse((const char *)data, size, &m, &d) < 0) {
		/* A refusal always says why. */
		if (d.cls == DIAG_NONE || !d.msg[0])
			abort();
		return 0;
	}
	if (manifest_serialize(m, &s1, &n1) < 0)
		abort();
	memset(&d, 0, sizeof(d));
	if (manifest_parse(s1, n1, &m2, &d) < 0)
		abort();
	if (manifest_serialize(m2, &s2, &n2) < 0 || n1 != n2 || memcmp(s1, s2, n1))
		abort();
	free(s1);
	free(s2);
	manifest_free(m);
	manifest_free(m2);
	return 0;
}
