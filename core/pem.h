/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stddef.h>

/*
 * Exactly one PEM block labelled want and nothing around it but whitespace.
 * OpenSSL's PEM readers skip text before a BEGIN line and after an END
 * line; this does not, so that the block is all a signed document's field
 * holds. On success its DER bytes and length (OPENSSL_free). The errors, in
 * the order they are checked, for the caller to word for what it expected:
 *   -ENOMSG       something other than whitespace before "-----BEGIN "
 *   -ENODATA      no valid PEM block
 *   -EMEDIUMTYPE  another label: *ret_label is set (OPENSSL_free)
 *   -EPROTO       the block has PEM headers
 *   -E2BIG        something other than whitespace after the block
 *   -ENOMEM
 */
int pem_one_block(const char *pem, size_t len, const char *want, char **ret_label,
		  unsigned char **ret_der, long *ret_len);
