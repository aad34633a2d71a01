/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "adminkey.h"
#include "secret.h"

/* The tests run with tests/unit as their working directory. */
#define PKI "../fixtures/pki"

static EVP_PKEY *gen(const char *curve)
{
	EVP_PKEY *k = EVP_EC_gen(curve);

	assert_non_null(k);
	return k;
}

/* Write what fn puts into a memory BIO to a new temporary file. */
typedef int (*writer)(BIO *b, EVP_PKEY *k, const void *arg);

static char *to_file(EVP_PKEY *k, writer fn, const void *arg)
{
	char tmpl[] = "/tmp/test-adminkey-XXXXXX";
	BIO *b = BIO_new(BIO_s_mem());
	char *mem;
	long n;
	int fd;

	assert_non_null(b);
	assert_true(fn(b, k, arg) > 0);
	n = BIO_get_mem_data(b, &mem);
	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, mem, (size_t)n), n);
	close(fd);
	BIO_free(b);
	return strdup(tmpl);
}

static char *text_file(const char *text)
{
	char tmpl[] = "/tmp/test-adminkey-XXXXXX";
	int fd = mkstemp(tmpl);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return strdup(tmpl);
}

static void gone(char *path)
{
	unlink(path);
	free(path);
}

static int w_pkcs8(BIO *b, EVP_PKEY *k, const void *arg)
{
	(void)arg;
	return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
}

static int w_traditional(BIO *b, EVP_PKEY *k, const void *arg)
{
	(void)arg;
	return PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL);
}

static int w_encrypted(BIO *b, EVP_PKEY *k, const void *arg)
{
	const char *pw = arg;

	return PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(), pw, (int)strlen(pw), NULL,
					     NULL);
}

static int w_public(BIO *b, EVP_PKEY *k, const void *arg)
{
	(void)arg;
	return PEM_write_bio_PUBKEY(b, k);
}

static struct secret *pass(const char *s)
{
	struct secret *sec = NULL;

	assert_int_equal(secret_new(strlen(s), &sec), 0);
	memcpy(sec->data, s, strlen(s));
	return sec;
}

static void sha256_pubkey_der(EVP_PKEY *k, uint8_t out[32], int *der_len)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k, &der);

	assert_true(n > 0);
	assert_int_equal(EVP_Digest(der, (size_t)n, out, NULL, EVP_sha256(), NULL), 1);
	OPENSSL_free(der);
	if (der_len)
		*der_len = n;
}

static void expect_diag(const struct diag *d, enum diag_class cls, const char *want)
{
	if (d->cls != cls || strcmp(d->msg, want))
		fail_msg("got [%s] \"%s\", want [%s] \"%s\"", diag_class_name(d->cls), d->msg,
			 diag_class_name(cls), want);
}

static void test_sign_verify(void **state)
{
	static const char msg[] = "{\"format\":\"sealboot-appliance-policy\"}\n";
	EVP_PKEY *k = gen("P-256"), *other = gen("P-256");
	uint8_t *sig = NULL, *bad;
	size_t n = 0;
	struct diag d = {0};
	char data[sizeof(msg)];

	assert_int_equal(adminkey_sign(k, msg, strlen(msg), &sig, &n, &d), 0);
	assert_true(n >= 8 && n <= 72);
	assert_int_equal(sig[0], 0x30);
	assert_int_equal(adminkey_verify(k, msg, strlen(msg), sig, n, &d), 0);
	assert_int_equal(d.cls, DIAG_NONE);

	/* A flipped bit anywhere in the data. */
	for (size_t i = 0; i < strlen(msg); i++) {
		memcpy(data, msg, sizeof(msg));
		data[i] ^= 0x01;
		memset(&d, 0, sizeof(d));
		assert_int_equal(adminkey_verify(k, data, strlen(msg), sig, n, &d), -EBADMSG);
		expect_diag(&d, DIAG_SIGNATURE,
			    "policy signature does not verify with the admin key");
	}
	/* Every byte of the signature, flipped. */
	bad = malloc(n);
	assert_non_null(bad);
	for (size_t i = 0; i < n; i++) {
		memcpy(bad, sig, n);
		bad[i] ^= 0x80;
		memset(&d, 0, sizeof(d));
		assert_int_equal(adminkey_verify(k, msg, strlen(msg), bad, n, &d), -EBADMSG);
		expect_diag(&d, DIAG_SIGNATURE,
			    "policy signature does not verify with the admin key");
	}
	/* Truncated, or with a byte appended (not DER any more). */
	memset(&d, 0, sizeof(d));
	assert_int_equal(adminkey_verify(k, msg, strlen(msg), sig, n - 1, &d), -EBADMSG);
	assert_int_equal(d.cls, DIAG_SIGNATURE);
	{
		uint8_t longer[80];

		memcpy(longer, sig, n);
		longer[n] = 0;
		memset(&d, 0, sizeof(d));
		assert_int_equal(adminkey_verify(k, msg, strlen(msg), longer, n + 1, &d), -EBADMSG);
		assert_int_equal(d.cls, DIAG_SIGNATURE);
	}
	/* The wrong key. */
	memset(&d, 0, sizeof(d));
	assert_int_equal(adminkey_verify(other, msg, strlen(msg), sig, n, &d), -EBADMSG);
	expect_diag(&d, DIAG_SIGNATURE, "policy signature does not verify with the admin key");
	/* Lengths no P-256 signature has are refused before OpenSSL. */
	{
		uint8_t big[81] = {0x30};

		memset(&d, 0, sizeof(d));
		assert_int_equal(adminkey_verify(k, msg, strlen(msg), big, 81, &d), -EBADMSG);
		expect_diag(&d, DIAG_SIGNATURE,
			    "policy signature does not verify with the admin key (81 bytes "
			    "cannot be a P-256 ECDSA signature)");
		memset(&d, 0, sizeof(d));
		assert_int_equal(adminkey_verify(k, msg, strlen(msg), big, 0, &d), -EBADMSG);
		expect_diag(&d, DIAG_SIGNATURE,
			    "policy signature does not verify with the admin key (0 bytes "
			    "cannot be a P-256 ECDSA signature)");
	}
	/* Empty data signs and verifies too. */
	free(sig);
	assert_int_equal(adminkey_sign(k, "", 0, &sig, &n, &d), 0);
	assert_int_equal(adminkey_verify(k, "", 0, sig, n, &d), 0);

	free(bad);
	free(sig);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

static void test_wrong_curves_refused(void **state)
{
	EVP_PKEY *p384 = gen("P-384"), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), *k = NULL;
	struct diag d = {0};
	char *path, want[512];
	uint8_t *sig = NULL, x[32], y[32], dg[32];
	size_t n;

	assert_non_null(ed);
	path = to_file(p384, w_pkcs8, NULL);
	assert_int_equal(adminkey_load_private(path, NULL, &k, &d), -EBADMSG);
	assert_null(k);
	snprintf(want, sizeof(want),
		 "%s: a secp384r1 key; only ECDSA P-256 (prime256v1) keys are supported", path);
	expect_diag(&d, DIAG_MALFORMED, want);
	gone(path);

	path = to_file(p384, w_public, NULL);
	memset(&d, 0, sizeof(d));
	assert_int_equal(adminkey_load_public(path, &k, &d), -EBADMSG);
	snprintf(want, sizeof(want),
		 "%s: a secp384r1 key; only ECDSA P-256 (prime256v1) keys are supported", path);
	expect_diag(&d, DIAG_MALFORMED, want);
	gone(path);

	path = to_file(ed, w_pkcs8, NULL);
	memset(&d, 0, sizeof(d));
	assert_int_equal(adminkey_load_private(path, NULL, &k, &d), -EBADMSG);
	snprintf(want, sizeof(want),
		 "%s: a key of type ED25519; only ECDSA P-256 (prime256v1) keys are supported",
		 path);
	expect_diag(&d, DIAG_MALFORMED, want);
	gone(path);

	/* Keys that did not come through a loader are refused by every use. */
	memset(&d, 0, sizeof(d));
	assert_int_equal(adminkey_sign(p384, "x", 1, &sig, &n, &d), -EINVAL);
	expect_diag(&d, DIAG_USAGE,
		    "admin key: a secp384r1 key; only ECDSA P-256 (prime256v1) keys are supported");
	memset(&d, 0, sizeof(d));
	assert_int_equal(adminkey_verify(ed, "x", 1, (const uint8_t *)"0", 1, &d), -EINVAL);
	assert_int_equal(d.cls, DIAG_USAGE);
	memset(&d, 0, sizeof(d));
	assert_int_equal(adminkey_sign_digest(p384, dg, x, y, &d), -EINVAL);
	assert_int_equal(adminkey_point(p384, x, y), -EINVAL);
	assert_int_equal(adminkey_digest(ed, dg), -EINVAL);

	EVP_PKEY_free(p384);
	EVP_PKEY_free(ed);
}

static void test_load_private(void **state)
{
	EVP_PKEY *k = gen("P-256"), *l = NULL;
	uint8_t want[32], got[32];
	struct diag d = {0};
	char *path, msg[512];
	writer forms[] = {w_pkcs8, w_traditional};

	assert_int_equal(adminkey_digest(k, want), 0);
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		uint8_t *sig = NULL;
		size_t n;

		path = to_file(k, forms[i], NULL);
		assert_int_equal(adminkey_load_private(path, NULL, &l, &d), 0);
		assert_int_equal(adminkey_digest(l, got), 0);
		assert_memory_equal(got, want, 32);
		/* It is the private half: what it signs, k verifies. */
		assert_int_equal(adminkey_sign(l, "abc", 3, &sig, &n, &d), 0);
		assert_int_equal(adminkey_verify(k, "abc", 3, sig, n, &d), 0);
		free(sig);
		EVP_PKEY_free(l);
		l = NULL;
		gone(path);
	}
	/* The checked-in release signer key is P-256 too. */
	assert_int_equal(adminkey_load_private(PKI "/signer.key", NULL, &l, &d), 0);
	EVP_PKEY_free(l);
	l = NULL;

	/* Not a private key. */
	path = to_file(k, w_public, NULL);
	assert_int_equal(adminkey_load_private(path, NULL, &l, &d), -EBADMSG);
	snprintf(msg, sizeof(msg), "%s: not a PEM private key (PKCS#8 or EC PRIVATE KEY)", path);
	expect_diag(&d, DIAG_MALFORMED, msg);
	gone(path);
	memset(&d, 0, sizeof(d));
	assert_int_equal(adminkey_load_private("/nonexistent/admin.key", NULL, &l, &d), -ENOENT);
	expect_diag(&d, DIAG_INTERNAL,
		    "/nonexistent/admin.key: cannot open: No such file or "
		    "directory");
	memset(&d, 0, sizeof(d));
	assert_int_equal(adminkey_load_private("/", NULL, &l, &d), -EINVAL);
	expect_diag(&d, DIAG_USAGE, "/: not a regular file");
	assert_null(l);
	EVP_PKEY_free(k);
}

static void test_load_encrypted(void **state)
{
	EVP_PKEY *k = gen("P-256"), *l = NULL;
	struct secret *right = pass("correct horse battery staple"), *wrong = pass("correct horse"),
		      *empty = pass("");
	uint8_t a[32], b[32];
	struct diag d = {0};
	char *path = to_file(k, w_encrypted, "correct horse battery staple"), msg[512];

	assert_int_equal(adminkey_load_private(path, right, &l, &d), 0);
	assert_int_equal(adminkey_digest(k, a), 0);
	assert_int_equal(adminkey_digest(l, b), 0);
	assert_memory_equal(a, b, 32);
	EVP_PKEY_free(l);
	l = NULL;

	assert_int_equal(adminkey_load_private(path, wrong, &l, &d), -EKEYREJECTED);
	snprintf(msg, sizeof(msg), "%s: cannot decrypt the private key (wrong passphrase?)", path);
	expect_diag(&d, DIAG_USAGE, msg);
	assert_null(l);
	memset(&d, 0, sizeof(d));
	assert_int_equal(adminkey_load_private(path, empty, &l, &d), -EKEYREJECTED);
	expect_diag(&d, DIAG_USAGE, msg);
	memset(&d, 0, sizeof(d));
	assert_int_equal(adminkey_load_private(path, NULL, &l, &d), -EKEYREJECTED);
	snprintf(msg, sizeof(msg), "%s: the private key is encrypted; a passphrase is needed",
		 path);
	expect_diag(&d, DIAG_USAGE, msg);
	assert_null(l);
	/* The passphrase never shows up in a message. */
	assert_null(strstr(d.msg, "horse"));
	gone(path);

	/* An unencrypted key loads whether or not a passphrase is given. */
	path = to_file(k, w_pkcs8, NULL);
	assert_int_equal(adminkey_load_private(path, wrong, &l, &d), 0);
	EVP_PKEY_free(l);
	gone(path);

	secret_free(right);
	secret_free(wrong);
	secret_free(empty);
	EVP_PKEY_free(k);
}

static void test_load_public(void **state)
{
	EVP_PKEY *k = gen("P-256"), *l = NULL;
	uint8_t a[32], b[32];
	struct diag d = {0};
	char *path, *pem = NULL, msg[600];
	size_t n;
	static const struct {
		const char *text, *why;
	} bad[] = {
	    {"", "not a PEM public key (expected -----BEGIN PUBLIC KEY-----)"},
	    {"hello", "not a PEM public key (expected -----BEGIN PUBLIC KEY-----)"},
	    {"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
	     "not a PEM public key (expected -----BEGIN PUBLIC KEY-----)"},
	    {"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
	     "not a valid DER SubjectPublicKeyInfo inside the PEM block"},
	};

	path = to_file(k, w_public, NULL);
	assert_int_equal(adminkey_load_public(path, &l, &d), 0);
	assert_int_equal(adminkey_digest(k, a), 0);
	assert_int_equal(adminkey_digest(l, b), 0);
	assert_memory_equal(a, b, 32);
	EVP_PKEY_free(l);
	l = NULL;
	gone(path);

	/* A private key where a public one belongs. */
	path = to_file(k, w_pkcs8, NULL);
	assert_int_equal(adminkey_load_public(path, &l, &d), -EBADMSG);
	snprintf(msg, sizeof(msg),
		 "%s: a PEM \"PRIVATE KEY\" block, not a \"PUBLIC KEY\" (SubjectPublicKeyInfo)",
		 path);
	expect_diag(&d, DIAG_MALFORMED, msg);
	gone(path);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&d, 0, sizeof(d));
		assert_int_equal(adminkey_public_from_pem(bad[i].text, strlen(bad[i].text), &l, &d),
				 -EBADMSG);
		expect_diag(&d, DIAG_MALFORMED, bad[i].why);
		assert_null(l);
	}

	/* Text around the block: whitespace only. */
	assert_int_equal(adminkey_public_pem(k, &pem, &n), 0);
	{
		char buf[1024];

		snprintf(buf, sizeof(buf), "\n  %s\n\n", pem);
		assert_int_equal(adminkey_public_from_pem(buf, strlen(buf), &l, &d), 0);
		EVP_PKEY_free(l);
		l = NULL;
		snprintf(buf, sizeof(buf), "comment\n%s", pem);
		memset(&d, 0, sizeof(d));
		assert_int_equal(adminkey_public_from_pem(buf, strlen(buf), &l, &d), -EBADMSG);
		expect_diag(&d, DIAG_MALFORMED,
			    "not a PEM public key (expected -----BEGIN PUBLIC KEY-----)");
		snprintf(buf, sizeof(buf), "%sx\n", pem);
		memset(&d, 0, sizeof(d));
		assert_int_equal(adminkey_public_from_pem(buf, strlen(buf), &l, &d), -EBADMSG);
		expect_diag(&d, DIAG_MALFORMED, "trailing data after the public key");
		snprintf(buf, sizeof(buf), "%s%s", pem, pem);
		memset(&d, 0, sizeof(d));
		assert_int_equal(adminkey_public_from_pem(buf, strlen(buf), &l, &d), -EBADMSG);
		expect_diag(&d, DIAG_MALFORMED, "trailing data after the public key");
		/* A NUL inside the text. */
		memset(&d, 0, sizeof(d));
		assert_int_equal(adminkey_public_from_pem(pem, n + 1, &l, &d), -EBADMSG);
		expect_diag(&d, DIAG_MALFORMED, "not a PEM public key (a NUL byte)");
	}
	/* A certificate is not a public key. */
	{
		FILE *f = fopen(PKI "/release-ca.crt", "r");
		char buf[4096];
		size_t m;

		assert_non_null(f);
		m = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		memset(&d, 0, sizeof(d));
		assert_int_equal(adminkey_public_from_pem(buf, m, &l, &d), -EBADMSG);
		expect_diag(&d, DIAG_MALFORMED,
			    "a PEM \"CERTIFICATE\" block, not a \"PUBLIC KEY\" "
			    "(SubjectPublicKeyInfo)");
	}
	/* A file larger than 16 KiB. */
	{
		char *big = malloc(ADMINKEY_FILE_MAX + 2);

		assert_non_null(big);
		memset(big, ' ', ADMINKEY_FILE_MAX + 1);
		big[ADMINKEY_FILE_MAX + 1] = 0;
		path = text_file(big);
		memset(&d, 0, sizeof(d));
		assert_int_equal(adminkey_load_public(path, &l, &d), -EFBIG);
		snprintf(msg, sizeof(msg),
			 "%s: 16385 bytes, more than the 16384 a key file may have", path);
		expect_diag(&d, DIAG_MALFORMED, msg);
		gone(path);
		free(big);
	}
	free(pem);
	EVP_PKEY_free(k);
}

/* The digest provisioning stores: SHA-256 of i2d_PUBKEY, the same for the
 * key, its public half, its PEM, and a compressed encoding of its point. */
static void test_digest_and_point(void **state)
{
	EVP_PKEY *k = gen("P-256"), *pub = NULL, *comp = NULL;
	uint8_t want[32], got[32], x[32], y[32];
	unsigned char *der = NULL;
	struct diag d = {0};
	char *pem = NULL;
	size_t n;
	int der_len;

	sha256_pubkey_der(k, want, &der_len);
	assert_int_equal(der_len, ADMINKEY_SPKI_DER_LEN);
	assert_int_equal(adminkey_digest(k, got), 0);
	assert_memory_equal(got, want, 32);
	assert_int_equal(adminkey_digest(k, got), 0); /* stable */
	assert_memory_equal(got, want, 32);

	assert_int_equal(adminkey_public_pem(k, &pem, &n), 0);
	assert_int_equal(strlen(pem), n);
	assert_true(!strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27));
	assert_string_equal(pem + n - 25, "-----END PUBLIC KEY-----\n");
	assert_int_equal(adminkey_public_from_pem(pem, n, &pub, &d), 0);
	assert_int_equal(adminkey_digest(pub, got), 0);
	assert_memory_equal(got, want, 32);

	/* x and y are the point in the DER, after 0x04. */
	assert_int_equal(adminkey_point(k, x, y), 0);
	assert_int_equal(i2d_PUBKEY(k, &der), ADMINKEY_SPKI_DER_LEN);
	assert_int_equal(der[26], 0x04);
	assert_memory_equal(der + 27, x, 32);
	assert_memory_equal(der + 59, y, 32);
	OPENSSL_free(der);
	der = NULL;

	/* Compressed point form: different DER, same digest. */
	comp = EVP_PKEY_dup(pub);
	assert_non_null(comp);
	assert_int_equal(EVP_PKEY_set_utf8_string_param(
			     comp, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"),
			 1);
	assert_int_equal(i2d_PUBKEY(comp, &der), 59);
	OPENSSL_free(der);
	assert_int_equal(adminkey_digest(comp, got), 0);
	assert_memory_equal(got, want, 32);
	{
		BIO *b = BIO_new(BIO_s_mem());
		EVP_PKEY *back = NULL;
		char *mem;
		long m;

		assert_int_equal(PEM_write_bio_PUBKEY(b, comp), 1);
		m = BIO_get_mem_data(b, &mem);
		assert_int_equal(adminkey_public_from_pem(mem, (size_t)m, &back, &d), 0);
		assert_int_equal(adminkey_digest(back, got), 0);
		assert_memory_equal(got, want, 32);
		EVP_PKEY_free(back);
		BIO_free(b);
	}
	/* Another key, another digest. */
	{
		EVP_PKEY *o = gen("P-256");

		assert_int_equal(adminkey_digest(o, got), 0);
		assert_memory_not_equal(got, want, 32);
		EVP_PKEY_free(o);
	}
	free(pem);
	EVP_PKEY_free(comp);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(k);
}

static unsigned char *rs_der(const uint8_t r[32], const uint8_t s[32], int *len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *br = BN_bin2bn(r, 32, NULL), *bs = BN_bin2bn(s, 32, NULL);
	unsigned char *der = NULL;

	assert_non_null(es);
	assert_int_equal(ECDSA_SIG_set0(es, br, bs), 1);
	*len = i2d_ECDSA_SIG(es, &der);
	assert_true(*len > 0);
	ECDSA_SIG_free(es);
	return der;
}

/* sign_digest signs the digest as is: OpenSSL verifies (r, s) over the raw
 * digest, and the same (r, s) is an ECDSA-SHA256 signature over the message
 * the digest was made from (so the digest was not hashed again). */
static void test_sign_digest(void **state)
{
	static const char msg[] = "approved policy || policyRef";
	EVP_PKEY *k = gen("P-256"), *other = gen("P-256");
	uint8_t digest[32], r[32], s[32];
	struct diag d = {0};
	bool padded = false;

	assert_int_equal(EVP_Digest(msg, strlen(msg), digest, NULL, EVP_sha256(), NULL), 1);
	/* Until r or s starts with a zero byte (1 in 128 per try), so the
	 * left-padding is exercised too. */
	for (unsigned i = 0; i < 4096 && !padded; i++) {
		EVP_PKEY_CTX *ctx;
		unsigned char *der;
		int len;

		assert_int_equal(adminkey_sign_digest(k, digest, r, s, &d), 0);
		padded = r[0] == 0 || s[0] == 0;
		der = rs_der(r, s, &len);

		ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
		assert_non_null(ctx);
		assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
		assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), 1);
		assert_int_equal(EVP_PKEY_verify(ctx, der, (size_t)len, digest, 32), 1);
		EVP_PKEY_CTX_free(ctx);

		if (i == 0) {
			uint8_t wrong[32];

			assert_int_equal(adminkey_verify(k, msg, strlen(msg), der, (size_t)len, &d),
					 0);
			assert_int_equal(
			    adminkey_verify(other, msg, strlen(msg), der, (size_t)len, &d),
			    -EBADMSG);
			memset(&d, 0, sizeof(d));
			/* Not over SHA-256(digest). */
			assert_int_equal(EVP_Digest(digest, 32, wrong, NULL, EVP_sha256(), NULL),
					 1);
			ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
			assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
			assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), 1);
			assert_int_not_equal(EVP_PKEY_verify(ctx, der, (size_t)len, wrong, 32), 1);
			EVP_PKEY_CTX_free(ctx);
		}
		OPENSSL_free(der);
	}
	assert_true(padded);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sign_verify),	 cmocka_unit_test(test_wrong_curves_refused),
	    cmocka_unit_test(test_load_private), cmocka_unit_test(test_load_encrypted),
	    cmocka_unit_test(test_load_public),	 cmocka_unit_test(test_digest_and_point),
	    cmocka_unit_test(test_sign_digest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
