/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>

/* Lowercase hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* Strict decode: exactly 2n lowercase hex digits. 0 or -EINVAL. */
int hex_decode(const char *in, unsigned char *out, size_t n);
