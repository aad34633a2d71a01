/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CMS adapter against real OpenSSL and a fresh test PKI: things the CLI
 * tests cannot see directly (the trust anchor reported, the signing time, a
 * passphrase-protected key read from a file descriptor).
 */
#include <errno.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cms.h"

static char dir[64];
static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);                                \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static const char *p(const char *name)
{
	static char bufs[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(bufs[i], sizeof(bufs[i]), "%s/pki/%s", dir, name);
	return bufs[i];
}

static void cert_der_sha256(const char *path, unsigned char out[32])
{
	FILE *f = fopen(path, "r");
	X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	int n;

	if (f)
		fclose(f);
	n = c ? i2d_X509(c, &der) : -1;
	if (n > 0)
		SHA256(der, (size_t)n, out);
	OPENSSL_free(der);
	X509_free(c);
}

/* A pipe whose read end holds text, for --secret-fd. */
static int fd_with(const char *text)
{
	int pp[2];

	if (pipe(pp) < 0)
		return -1;
	if (write(pp[1], text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(pp[1]);
	return pp[0];
}

static int sign_with(const char *key, const char *cert, int fd, unsigned char **der, size_t *n,
		     struct diag *d)
{
	struct cms_signer_opts o = {.key = key, .cert = cert, .chain = p("chain.pem"),
				    .secret_fd = fd};
	struct cms_signer *s = NULL;
	int r;

	memset(d, 0, sizeof(*d));
	r = cms_signer_load(&o, &s, d);
	if (r == 0)
		r = cms_sign_detached(s, "hello", 5, der, n, d);
	cms_signer_free(s);
	return r;
}

int main(void)
{
	const char *src = getenv("SEALBOOT_SRC");
	const char *root_ca[] = {NULL}, *rel_ca[] = {NULL};
	struct cms_trust *root = NULL, *rel = NULL;
	struct cms_signer_info info;
	unsigned char *der = NULL, want[32];
	struct diag d;
	size_t n = 0;
	char cmd[1024];
	int r, fd;

	if (!src) {
		printf("SEALBOOT_SRC is not set\n");
		return 1;
	}
	snprintf(dir, sizeof(dir), "/tmp/sealboot-cms.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(cmd, sizeof(cmd), "'%s/tests/lib/make-test-pki' '%s/pki'", src, dir);
	if (system(cmd) != 0) {
		printf("make-test-pki failed\n");
		return 1;
	}
	/* An encrypted copy of the signer key. */
	snprintf(cmd, sizeof(cmd),
		 "printf 'correct horse' > '%s/pass' && openssl pkey -in '%s' -aes256 "
		 "-passout file:'%s/pass' -out '%s'",
		 dir, p("signer.key"), dir, p("signer-enc.key"));
	if (system(cmd) != 0)
		return 1;

	root_ca[0] = p("root.crt");
	rel_ca[0] = p("release-ca.crt");
	memset(&d, 0, sizeof(d));
	CHECK(cms_trust_load(root_ca, 1, &root, &d) == 0, "load root: %s", d.msg);
	CHECK(cms_trust_load(rel_ca, 1, &rel, &d) == 0, "load release CA: %s", d.msg);

	/* Sign with the encrypted key, passphrase on a pipe. */
	fd = fd_with("correct horse\n");
	r = sign_with(p("signer-enc.key"), p("signer.crt"), fd, &der, &n, &d);
	close(fd);
	CHECK(r == 0, "sign with encrypted key: %s", d.msg);

	/* Verify under the root: anchor is the root, signing time is now. */
	memset(&d, 0, sizeof(d));
	r = cms_verify_detached(root, der, n, "hello", 5, 0, &info, &d);
	CHECK(r == 0, "verify under root: %s", d.msg);
	cert_der_sha256(p("root.crt"), want);
	CHECK(!memcmp(info.anchor_sha256, want, 32), "anchor should be the root");
	CHECK(strstr(info.anchor_subject, "Sealboot Test Root CA"), "anchor subject %s",
	      info.anchor_subject);
	CHECK(strstr(info.subject, "Sealboot Test Release Signer"), "subject %s", info.subject);
	CHECK(strstr(info.issuer, "Sealboot Test Release CA"), "issuer %s", info.issuer);
	cert_der_sha256(p("signer.crt"), want);
	CHECK(!memcmp(info.cert_sha256, want, 32), "signer cert digest");
	CHECK(llabs((long long)(info.signing_time - time(NULL))) < 120, "signing time %lld",
	      (long long)info.signing_time);

	/* Under the release CA alone (partial chain), it is the anchor. */
	memset(&d, 0, sizeof(d));
	r = cms_verify_detached(rel, der, n, "hello", 5, 0, &info, &d);
	CHECK(r == 0, "verify under release CA: %s", d.msg);
	cert_der_sha256(p("release-ca.crt"), want);
	CHECK(!memcmp(info.anchor_sha256, want, 32), "anchor should be the release CA");

	/* Content and signature bytes are both bound. */
	memset(&d, 0, sizeof(d));
	r = cms_verify_detached(root, der, n, "hellO", 5, 0, &info, &d);
	CHECK(r == -EBADMSG && d.cls == DIAG_SIGNATURE, "changed content: %d %s", r, d.msg);
	memset(&d, 0, sizeof(d));
	r = cms_verify_detached(root, der, n - 1, "hello", 5, 0, &info, &d);
	CHECK(r == -EBADMSG && d.cls == DIAG_SIGNATURE, "truncated signature: %d %s", r, d.msg);
	memset(&d, 0, sizeof(d));
	r = cms_verify_detached(root, (const unsigned char *)"", 0, "hello", 5, 0, &info, &d);
	CHECK(r == -EBADMSG && d.cls == DIAG_SIGNATURE, "empty signature: %d %s", r, d.msg);
	der[n / 2] ^= 0x01;
	memset(&d, 0, sizeof(d));
	r = cms_verify_detached(root, der, n, "hello", 5, 0, &info, &d);
	CHECK(r < 0 && (d.cls == DIAG_SIGNATURE || d.cls == DIAG_TRUST),
	      "flipped signature byte: %d %s", r, d.msg);
	free(der);
	der = NULL;

	/* Verification time outside the signer's window. */
	fd = -1;
	r = sign_with(p("signer.key"), p("signer.crt"), fd, &der, &n, &d);
	CHECK(r == 0, "sign: %s", d.msg);
	memset(&d, 0, sizeof(d));
	r = cms_verify_detached(root, der, n, "hello", 5, 946684800 /* 2000 */, &info, &d);
	CHECK(r == -EKEYEXPIRED && d.cls == DIAG_TRUST && strstr(d.msg, "not yet valid"),
	      "verify in 2000: %d %s", r, d.msg);
	free(der);
	der = NULL;

	/* Wrong passphrase: refused, clearly, nothing signed. */
	fd = fd_with("battery staple\n");
	r = sign_with(p("signer-enc.key"), p("signer.crt"), fd, &der, &n, &d);
	close(fd);
	CHECK(r < 0 && d.cls == DIAG_USAGE && strstr(d.msg, "wrong passphrase") && !der,
	      "wrong passphrase: %d %s", r, d.msg);

	/* No codeSigning EKU: refused at load. */
	r = sign_with(p("noeku-signer.key"), p("noeku-signer.crt"), -1, &der, &n, &d);
	CHECK(r < 0 && d.cls == DIAG_TRUST && strstr(d.msg, "codeSigning"), "no EKU: %d %s", r,
	      d.msg);

	/* A CA file that holds no certificate. */
	{
		const char *bad[] = {p("signer.key")};
		struct cms_trust *t = NULL;

		memset(&d, 0, sizeof(d));
		r = cms_trust_load(bad, 1, &t, &d);
		CHECK(r < 0 && !t && strstr(d.msg, "no PEM certificate"), "key as CA: %d %s", r,
		      d.msg);
	}

	cms_trust_free(root);
	cms_trust_free(rel);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		failures++;
	printf("cms: %s (%d failures)\n", failures ? "FAILED" : "all checks passed", failures);
	return failures ? 1 : 0;
}
