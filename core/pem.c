/* SPDX-License-Identifier: Apache-2.0 */
#include "pem.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <string.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int pem_one_block(const char *pem, size_t len, const char *want, char **ret_label,
		  unsigned char **ret_der, long *ret_len)
{
	static const char begin[] = "-----BEGIN ";
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;
	size_t i = 0;
	BIO *bio;
	int r = 0;

	while (i < len && is_space(pem[i]))
		i++;
	if (len - i < sizeof(begin) - 1 || memcmp(pem + i, begin, sizeof(begin) - 1))
		return -ENOMSG;
	if (len - i > INT_MAX)
		return -ENODATA;
	bio = BIO_new_mem_buf(pem + i, (int)(len - i));
	if (!bio)
		return -ENOMEM;
	if (!PEM_read_bio(bio, &name, &header, &data, &dlen)) {
		r = -ENODATA;
		goto out;
	}
	if (strcmp(name, want) != 0) {
		*ret_label = name;
		name = NULL;
		r = -EMEDIUMTYPE;
		goto out;
	}
	if (header && header[0]) {
		r = -EPROTO;
		goto out;
	}
	for (;;) {
		char rest[256];
		int n = BIO_read(bio, rest, sizeof(rest));

		if (n <= 0)
			break;
		for (int k = 0; k < n; k++)
			if (!is_space(rest[k])) {
				r = -E2BIG;
				goto out;
			}
	}
	*ret_der = data;
	*ret_len = dlen;
	data = NULL;
out:
	ERR_clear_error();
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	return r;
}
