/* SPDX-License-Identifier: Apache-2.0 */
#include "recoverykey.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

#define GROUP 5
#define CHARS (RECOVERY_KEY_BYTES * 8 / 5)

static int is_dash_at(size_t pos)
{
	return pos % (GROUP + 1) == GROUP;
}

void recovery_key_encode(const uint8_t raw[RECOVERY_KEY_BYTES], char out[RECOVERY_KEY_LEN])
{
	size_t k = 0;

	for (unsigned i = 0; i < CHARS; i++) {
		unsigned bit = i * 5, v = 0;

		for (unsigned b = 0; b < 5; b++)
			v = v << 1 | ((raw[(bit + b) / 8] >> (7 - (bit + b) % 8)) & 1);
		if (k > 0 && is_dash_at(k))
			out[k++] = '-';
		out[k++] = alphabet[v];
	}
}

int recovery_key_decode(const char *text, size_t len, uint8_t raw[RECOVERY_KEY_BYTES])
{
	uint8_t out[RECOVERY_KEY_BYTES] = {0};
	unsigned bit = 0;

	if (len != RECOVERY_KEY_LEN)
		return -EINVAL;
	for (size_t k = 0; k < len; k++) {
		const char *p;
		unsigned v;

		if (is_dash_at(k)) {
			if (text[k] != '-')
				goto bad;
			continue;
		}
		p = text[k] ? strchr(alphabet, text[k]) : NULL;
		if (!p)
			goto bad;
		v = (unsigned)(p - alphabet);
		for (unsigned b = 0; b < 5; b++, bit++)
			if (v >> (4 - b) & 1)
				out[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
	}
	memcpy(raw, out, sizeof(out));
	OPENSSL_cleanse(out, sizeof(out));
	return 0;
bad:
	OPENSSL_cleanse(out, sizeof(out));
	return -EINVAL;
}

int recovery_key_new(struct secret **ret)
{
	uint8_t raw[RECOVERY_KEY_BYTES];
	struct secret *s = NULL;
	int r = secret_new(RECOVERY_KEY_LEN, &s);

	if (r < 0)
		return r;
	if (RAND_priv_bytes(raw, sizeof(raw)) != 1) {
		secret_free(s);
		return -EIO;
	}
	recovery_key_encode(raw, (char *)s->data);
	OPENSSL_cleanse(raw, sizeof(raw));
	*ret = s;
	return 0;
}
