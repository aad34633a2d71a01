/* SPDX-License-Identifier: Apache-2.0 */
#include "adminkey.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "pem.h"
#include "text.h"

/* DER SubjectPublicKeyInfo of a P-256 key up to the point (RFC 5480):
 * SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING { 0 unused
 * bits, then the 65-byte uncompressed point 04 || x || y } }. */
static const uint8_t spki_p256_prefix[26] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
};

/* Is key an ECDSA P-256 key? If not, why, in words for a message. */
static bool is_p256(EVP_PKEY *key, char *why, size_t n)
{
	char group[64];

	if (!key) {
		snprintf(why, n, "no key");
		return false;
	}
	if (!EVP_PKEY_is_a(key, "EC")) {
		const char *t = EVP_PKEY_get0_type_name(key);

		snprintf(why, n,
			 "a key of type %s; only ECDSA P-256 (prime256v1) keys are supported",
			 t ? t : "unknown");
		return false;
	}
	if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					   NULL) != 1) {
		ERR_clear_error();
		snprintf(why, n,
			 "an EC key with explicit curve parameters; only the named curve P-256 "
			 "(prime256v1) is supported");
		return false;
	}
	if (OBJ_sn2nid(group) != NID_X9_62_prime256v1 &&
	    EC_curve_nist2nid(group) != NID_X9_62_prime256v1) {
		snprintf(why, n, "a %s key; only ECDSA P-256 (prime256v1) keys are supported",
			 group);
		return false;
	}
	return true;
}

static int openssl_fail(struct diag *d, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return diag_set(d, DIAG_INTERNAL, EIO, "admin key: %s failed%s%s", what, e ? ": " : "",
			buf);
}

/* Open a key file: a regular file, at most ADMINKEY_FILE_MAX bytes. */
static int open_key_file(const char *path, struct diag *d)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return diag_set(d, DIAG_INTERNAL, errno, "%s: cannot open: %s", path,
				strerror(errno));
	if (fstat(fd, &st) < 0) {
		int r = errno;

		close(fd);
		return diag_set(d, DIAG_INTERNAL, r, "%s: cannot stat: %s", path, strerror(r));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return diag_set(d, DIAG_USAGE, EINVAL, "%s: not a regular file", path);
	}
	if (st.st_size > (off_t)ADMINKEY_FILE_MAX) {
		close(fd);
		return diag_set(d, DIAG_MALFORMED, EFBIG,
				"%s: %lld bytes, more than the %u a key file may have", path,
				(long long)st.st_size, ADMINKEY_FILE_MAX);
	}
	return fd;
}

/* --- private keys --- */

struct pw_ctx {
	const struct secret *pw;
	bool asked;
	bool too_long;
};

/* pem_password_cb: hand OpenSSL the passphrase, never a prompt. Returning -1
 * with no passphrase keeps OpenSSL from falling back to asking on a tty. */
static int pw_cb(char *buf, int size, int rwflag, void *u)
{
	struct pw_ctx *c = u;

	(void)rwflag;
	c->asked = true;
	if (!c->pw || !c->pw->data)
		return -1;
	if (size < 0 || c->pw->len > (size_t)size) {
		c->too_long = true;
		return -1;
	}
	memcpy(buf, c->pw->data, c->pw->len);
	return (int)c->pw->len;
}

int adminkey_load_private(const char *pem_path, const struct secret *passphrase, EVP_PKEY **ret,
			  struct diag *d)
{
	_cleanup_secret_ struct secret *text = NULL;
	struct pw_ctx pc = {.pw = passphrase};
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	char why[160];
	int fd, r;

	fd = open_key_file(pem_path, d);
	if (fd < 0)
		return fd;
	/* Into locked memory: a private key file may be unencrypted. */
	r = secret_read_fd(fd, ADMINKEY_FILE_MAX, &text);
	close(fd);
	if (r == -EMSGSIZE)
		return diag_set(d, DIAG_MALFORMED, EFBIG,
				"%s: more than the %u bytes a key file may have", pem_path,
				ADMINKEY_FILE_MAX);
	if (r < 0)
		return diag_set(d, DIAG_INTERNAL, -r, "%s: cannot read: %s", pem_path,
				strerror(-r));
	bio = BIO_new_mem_buf(text->data, (int)text->len);
	if (!bio)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	key = PEM_read_bio_PrivateKey_ex(bio, NULL, pw_cb, &pc, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!key) {
		if (pc.asked && !passphrase)
			return diag_set(d, DIAG_USAGE, EKEYREJECTED,
					"%s: the private key is encrypted; a passphrase is needed",
					pem_path);
		if (pc.too_long)
			return diag_set(d, DIAG_USAGE, EKEYREJECTED,
					"%s: the passphrase is too long for OpenSSL", pem_path);
		if (pc.asked)
			return diag_set(d, DIAG_USAGE, EKEYREJECTED,
					"%s: cannot decrypt the private key (wrong passphrase?)",
					pem_path);
		return diag_set(d, DIAG_MALFORMED, EBADMSG,
				"%s: not a PEM private key (PKCS#8 or EC PRIVATE KEY)", pem_path);
	}
	if (!is_p256(key, why, sizeof(why))) {
		EVP_PKEY_free(key);
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "%s: %s", pem_path, why);
	}
	*ret = key;
	return 0;
}

/* --- public keys --- */

/* A PEM label for a message (text_shown(), masked). */
#define LABEL_SHOWN_MAX 40
static const char *label_shown(const char *s, char out[TEXT_MASKED_SIZE(LABEL_SHOWN_MAX)])
{
	return text_shown(s, LABEL_SHOWN_MAX, TEXT_MASKED, out);
}

int adminkey_public_from_pem(const char *pem, size_t len, EVP_PKEY **ret, struct diag *d)
{
	char *name = NULL, why[160], shown[TEXT_MASKED_SIZE(LABEL_SHOWN_MAX)];
	unsigned char *data = NULL;
	const unsigned char *p;
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	long dlen = 0;
	int r;

	if (len > ADMINKEY_FILE_MAX)
		return diag_set(d, DIAG_MALFORMED, EBADMSG,
				"%zu bytes, more than the %u a public key may have", len,
				ADMINKEY_FILE_MAX);
	if (memchr(pem, 0, len))
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "not a PEM public key (a NUL byte)");
	/* The key and nothing else (pem.h). */
	r = pem_one_block(pem, len, PEM_STRING_PUBLIC, &name, &data, &dlen);
	if (r == -ENOMEM)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	if (r == -EMEDIUMTYPE) {
		r = diag_set(d, DIAG_MALFORMED, EBADMSG,
			     "a PEM \"%s\" block, not a \"PUBLIC KEY\" (SubjectPublicKeyInfo)",
			     label_shown(name, shown));
		OPENSSL_free(name);
		return r;
	}
	if (r == -EPROTO)
		return diag_set(d, DIAG_MALFORMED, EBADMSG,
				"PEM headers are not allowed in a public key");
	if (r == -E2BIG)
		return diag_set(d, DIAG_MALFORMED, EBADMSG, "trailing data after the public key");
	if (r < 0)
		return diag_set(d, DIAG_MALFORMED, EBADMSG,
				"not a PEM public key (expected -----BEGIN PUBLIC KEY-----)");
	p = data;
	key = d2i_PUBKEY(NULL, &p, dlen);
	if (!key || p != data + dlen) {
		ERR_clear_error();
		r = diag_set(d, DIAG_MALFORMED, EBADMSG,
			     "not a valid DER SubjectPublicKeyInfo inside the PEM block");
		goto out;
	}
	if (!is_p256(key, why, sizeof(why))) {
		r = diag_set(d, DIAG_MALFORMED, EBADMSG, "%s", why);
		goto out;
	}
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	if (!ctx) {
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
		goto out;
	}
	if (EVP_PKEY_public_check(ctx) != 1) {
		ERR_clear_error();
		r = diag_set(d, DIAG_MALFORMED, EBADMSG,
			     "the public point is not a valid P-256 point");
		goto out;
	}
	*ret = key;
	key = NULL;
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	OPENSSL_free(data);
	return r;
}

int adminkey_load_public(const char *pem_path, EVP_PKEY **ret, struct diag *d)
{
	struct diag kd = {0};
	char buf[ADMINKEY_FILE_MAX + 1];
	size_t n = 0;
	int fd, r;

	fd = open_key_file(pem_path, d);
	if (fd < 0)
		return fd;
	for (;;) {
		ssize_t k = fs_read(fd, buf + n, sizeof(buf) - n);

		if (k < 0) {
			close(fd);
			return diag_set(d, DIAG_INTERNAL, (int)-k, "%s: cannot read: %s", pem_path,
					strerror((int)-k));
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n == sizeof(buf))
			break;
	}
	close(fd);
	if (n > ADMINKEY_FILE_MAX)
		return diag_set(d, DIAG_MALFORMED, EFBIG,
				"%s: more than the %u bytes a key file may have", pem_path,
				ADMINKEY_FILE_MAX);
	r = adminkey_public_from_pem(buf, n, ret, &kd);
	if (r < 0)
		return diag_set(d, kd.cls, -r, "%s: %s", pem_path, kd.msg);
	return 0;
}

/* The canonical DER SubjectPublicKeyInfo: named curve, uncompressed point. */
static int spki_der(EVP_PKEY *key, uint8_t out[ADMINKEY_SPKI_DER_LEN])
{
	int r;

	memcpy(out, spki_p256_prefix, sizeof(spki_p256_prefix));
	out[sizeof(spki_p256_prefix)] = 0x04;
	r = adminkey_point(key, out + sizeof(spki_p256_prefix) + 1,
			   out + sizeof(spki_p256_prefix) + 33);
	return r;
}

int adminkey_point(EVP_PKEY *key, uint8_t x[32], uint8_t y[32])
{
	BIGNUM *bx = NULL, *by = NULL;
	uint8_t tx[32], ty[32];
	char why[160];
	int r = -EIO;

	if (!is_p256(key, why, sizeof(why)))
		return -EINVAL;
	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &bx) != 1 ||
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &by) != 1)
		goto out;
	if (BN_bn2binpad(bx, tx, 32) != 32 || BN_bn2binpad(by, ty, 32) != 32)
		goto out;
	memcpy(x, tx, 32);
	memcpy(y, ty, 32);
	r = 0;
out:
	ERR_clear_error();
	BN_free(bx);
	BN_free(by);
	return r;
}

int adminkey_digest(EVP_PKEY *key, uint8_t out[32])
{
	uint8_t der[ADMINKEY_SPKI_DER_LEN], md[32];
	unsigned int n = 0;
	int r;

	r = spki_der(key, der);
	if (r < 0)
		return r;
	if (EVP_Digest(der, sizeof(der), md, &n, EVP_sha256(), NULL) != 1 || n != 32) {
		ERR_clear_error();
		return -EIO;
	}
	memcpy(out, md, 32);
	return 0;
}

int adminkey_public_pem(EVP_PKEY *key, char **ret, size_t *ret_len)
{
	uint8_t der[ADMINKEY_SPKI_DER_LEN];
	BIO *bio;
	char *mem, *s;
	long n;
	int r;

	r = spki_der(key, der);
	if (r < 0)
		return r;
	bio = BIO_new(BIO_s_mem());
	if (!bio)
		return -ENOMEM;
	if (PEM_write_bio(bio, PEM_STRING_PUBLIC, "", der, (long)sizeof(der)) <= 0) {
		BIO_free(bio);
		ERR_clear_error();
		return -ENOMEM;
	}
	n = BIO_get_mem_data(bio, &mem);
	s = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (!s) {
		BIO_free(bio);
		return -ENOMEM;
	}
	memcpy(s, mem, (size_t)n);
	s[n] = 0;
	BIO_free(bio);
	*ret = s;
	*ret_len = (size_t)n;
	return 0;
}

/* --- signatures --- */

int adminkey_sign(EVP_PKEY *priv, const void *buf, size_t len, uint8_t **ret_sig, size_t *ret_len,
		  struct diag *d)
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t *sig = NULL;
	size_t n = 0;
	char why[160];
	int r;

	if (!is_p256(priv, why, sizeof(why)))
		return diag_set(d, DIAG_USAGE, EINVAL, "admin key: %s", why);
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	if (EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, priv, NULL) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, buf, len) != 1) {
		r = openssl_fail(d, "ECDSA signing");
		goto out;
	}
	sig = malloc(n);
	if (!sig) {
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
		goto out;
	}
	if (EVP_DigestSign(ctx, sig, &n, buf, len) != 1) {
		r = openssl_fail(d, "ECDSA signing");
		goto out;
	}
	*ret_sig = sig;
	*ret_len = n;
	sig = NULL;
	r = 0;
out:
	free(sig);
	EVP_MD_CTX_free(ctx);
	return r;
}

int adminkey_verify(EVP_PKEY *pub, const void *buf, size_t len, const uint8_t *sig, size_t sig_len,
		    struct diag *d)
{
	EVP_MD_CTX *ctx = NULL;
	char why[160];
	int r, ok;

	if (sig_len == 0 || sig_len > ADMINKEY_SIG_MAX || !sig)
		return diag_set(d, DIAG_SIGNATURE, EBADMSG,
				"policy signature does not verify with the admin key (%zu bytes "
				"cannot be a P-256 ECDSA signature)",
				sig ? sig_len : 0);
	if (!is_p256(pub, why, sizeof(why)))
		return diag_set(d, DIAG_USAGE, EINVAL, "admin key: %s", why);
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	if (EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, pub, NULL) != 1) {
		r = openssl_fail(d, "ECDSA verification setup");
		goto out;
	}
	/* 1 verifies; 0 does not; negative is a malformed signature. OpenSSL
	 * refuses a DER encoding that is not the canonical one, so a
	 * signature has one byte form. */
	ok = EVP_DigestVerify(ctx, sig, sig_len, buf, len);
	ERR_clear_error();
	r = ok == 1 ? 0
		    : diag_set(d, DIAG_SIGNATURE, EBADMSG,
			       "policy signature does not verify with the admin key");
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

int adminkey_sign_digest(EVP_PKEY *priv, const uint8_t digest[32], uint8_t r_out[32],
			 uint8_t s_out[32], struct diag *d)
{
	EVP_PKEY_CTX *ctx = NULL;
	ECDSA_SIG *es = NULL;
	const BIGNUM *br, *bs;
	const unsigned char *p;
	uint8_t sig[ADMINKEY_SIG_MAX], tr[32], ts[32];
	size_t n = sizeof(sig);
	char why[160];
	int r;

	if (!is_p256(priv, why, sizeof(why)))
		return diag_set(d, DIAG_USAGE, EINVAL, "admin key: %s", why);
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
	if (!ctx)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	/* The digest is the input as is: EVP_PKEY_sign does not hash, the md
	 * only tells the provider how long the digest must be. */
	if (EVP_PKEY_sign_init(ctx) != 1 || EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_sign(ctx, sig, &n, digest, 32) != 1) {
		r = openssl_fail(d, "ECDSA signing of a digest");
		goto out;
	}
	p = sig;
	es = d2i_ECDSA_SIG(NULL, &p, (long)n);
	if (!es) {
		r = openssl_fail(d, "decoding the ECDSA signature");
		goto out;
	}
	ECDSA_SIG_get0(es, &br, &bs);
	if (BN_bn2binpad(br, tr, 32) != 32 || BN_bn2binpad(bs, ts, 32) != 32) {
		r = openssl_fail(d, "encoding r and s");
		goto out;
	}
	memcpy(r_out, tr, 32);
	memcpy(s_out, ts, 32);
	r = 0;
out:
	ECDSA_SIG_free(es);
	EVP_PKEY_CTX_free(ctx);
	return r;
}
