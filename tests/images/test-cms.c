/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CMS adapter against real OpenSSL and a fresh test PKI: things the CLI
 * tests cannot see directly (the trust anchor reported, the signing time, a
 * passphrase-protected key read from a file descriptor), each way a signer
 * can be untrusted, interop with stock `openssl cms`, and a key on a softhsm2
 * token. Exit 0 pass, 1 fail, 77 when the token part could not run (a
 * failure under CI=true, as in tests/lib/common.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "cms.h"

static char dir[64];

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

static int sign_opts(const struct cms_signer_opts *o, unsigned char **der, size_t *n,
		     struct diag *d)
{
	struct cms_signer *s = NULL;
	int r;

	memset(d, 0, sizeof(*d));
	r = cms_signer_load(o, &s, d);
	if (r == 0)
		r = cms_sign_detached(s, "hello", 5, der, n, d);
	cms_signer_free(s);
	return r;
}

static int sign_with(const char *key, const char *cert, int fd, unsigned char **der, size_t *n,
		     struct diag *d)
{
	struct cms_signer_opts o = {
	    .key = key, .cert = cert, .chain = p("chain.pem"), .secret_fd = fd};

	return sign_opts(&o, der, n, d);
}

static int write_file(const char *path, const void *buf, size_t n)
{
	FILE *f = fopen(path, "w");
	int ok = f && fwrite(buf, 1, n, f) == n;

	if (f && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

static unsigned char *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	unsigned char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)len);
		if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		}
		*n = (size_t)len;
	}
	fclose(f);
	return buf;
}

/* Sign "hello" with key+cert (chain.pem embedded), then verify under the
 * root: must fail as a trust problem with want in the message. */
static void expect_untrusted(const struct cms_trust *root, const char *name, int want_r,
			     const char *want)
{
	char key[64], cert[64];
	unsigned char *der = NULL;
	struct cms_signer_info info;
	struct diag d;
	size_t n = 0;
	int r;

	snprintf(key, sizeof(key), "%s.key", name);
	snprintf(cert, sizeof(cert), "%s.crt", name);
	r = sign_with(p(key), p(cert), -1, &der, &n, &d);
	CHECK(r == 0, "%s: sign: %s", name, d.msg);
	if (r < 0)
		return;
	memset(&d, 0, sizeof(d));
	r = cms_verify_detached(root, der, n, "hello", 5, 0, &info, &d);
	CHECK(r == want_r && d.cls == DIAG_TRUST && strstr(d.msg, want), "%s: verify: %d %s", name,
	      r, d.msg);
	if (r == want_r)
		printf("ok: %s refused: %s\n", name, d.msg);
	free(der);
}

/*
 * A key generated on a softhsm2 token (tests/lib/softhsm.sh), through the
 * pkcs11 engine with the PIN on a pipe. Returns 77 when it cannot run.
 */
static int test_pkcs11(const char *src, const struct cms_trust *root)
{
	char cmd[2048], conf[512], module[512], uri[512], pin[64], cert[512];
	struct cms_signer_opts o = {.chain = p("chain.pem")};
	struct cms_signer_info info;
	unsigned char *der = NULL;
	struct diag d;
	size_t n = 0;
	FILE *f;
	int st, r, fd;

	snprintf(cmd, sizeof(cmd),
		 "bash -c 'set -eu; . \"$1/tests/lib/common.sh\"; . \"$1/tests/lib/softhsm.sh\"; "
		 "softhsm_setup \"$2/hsm\" \"$2/pki\"; printf \"%%s\\n\" \"$SOFTHSM2_CONF\" "
		 "\"$P11_MODULE\" \"$P11_URI\" \"$P11_PIN\" \"$P11_CERT\" >\"$2/hsm.env\"' "
		 "_ '%s' '%s'",
		 src, dir);
	st = system(cmd);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
		return 77;
	CHECK(st == 0, "softhsm setup failed (status %d)", st);
	if (st != 0)
		return 1;
	snprintf(cmd, sizeof(cmd), "%s/hsm.env", dir);
	f = fopen(cmd, "r");
	CHECK(f && fscanf(f, "%511s %511s %511s %63s %511s", conf, module, uri, pin, cert) == 5,
	      "cannot read %s", cmd);
	if (f)
		fclose(f);
	setenv("SOFTHSM2_CONF", conf, 1);
	o.key = uri;
	o.cert = cert;
	o.pkcs11_module = module;

	/* Wrong PIN first: refused as a PIN problem, nothing signed. */
	fd = fd_with("000000\n");
	o.secret_fd = fd;
	r = sign_opts(&o, &der, &n, &d);
	close(fd);
	CHECK(r == -EKEYREJECTED && d.cls == DIAG_USAGE && strstr(d.msg, "PIN") && !der,
	      "pkcs11 wrong PIN: %d %s", r, d.msg);
	if (r == -EKEYREJECTED)
		printf("ok: pkcs11 wrong PIN refused: %s\n", d.msg);

	/* No fd and no terminal: a clear refusal, not a read from stdin.
	 * Before any good login: PKCS#11 logins last as long as the module
	 * stays loaded in this process. */
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		o.secret_fd = -1;
		r = sign_opts(&o, &der, &n, &d);
		CHECK(r == -ENXIO && d.cls == DIAG_USAGE && strstr(d.msg, "no terminal") && !der,
		      "pkcs11 without fd or terminal: %d %s", r, d.msg);
	} else {
		close(fd);
	}
	/* The right PIN, twice: freeing a signer wipes the engine's copy of
	 * the PIN, and a second signer in the same process still works. */
	for (int i = 0; i < 2; i++) {
		char line[80];

		snprintf(line, sizeof(line), "%s\n", pin);
		fd = fd_with(line);
		o.secret_fd = fd;
		r = sign_opts(&o, &der, &n, &d);
		close(fd);
		CHECK(r == 0, "pkcs11 sign %d: %d %s", i, r, d.msg);
		if (r < 0)
			return 1;
		memset(&d, 0, sizeof(d));
		r = cms_verify_detached(root, der, n, "hello", 5, 0, &info, &d);
		CHECK(r == 0 && strstr(info.subject, "Token Release Signer"),
		      "pkcs11 verify %d: %d %s (%s)", i, r, d.msg, info.subject);
		free(der);
		der = NULL;
	}
	/* No key object under that label. */
	strcpy(strstr(uri, "object=") + 7, "nobody;type=private");
	fd = fd_with(pin);
	o.secret_fd = fd;
	r = sign_opts(&o, &der, &n, &d);
	close(fd);
	CHECK(r < 0 && d.cls == DIAG_USAGE && strstr(d.msg, "no usable private key") && !der,
	      "pkcs11 missing key: %d %s", r, d.msg);
	printf("ok: pkcs11 sign + verify through softhsm2\n");
	return 0;
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
	const char *ci_env = getenv("CI");
	bool ci = ci_env && !strcmp(ci_env, "true");
	char cmd[2048];
	int r, fd, pkcs11;

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

	/* Bytes that are not a CMS SignedData at all: text, and a DER
	 * certificate (valid ASN.1, wrong structure). */
	{
		static const char junk[] = "-----BEGIN NONSENSE-----\nnot a signature\n";
		unsigned char *cder = NULL;
		FILE *f = fopen(p("signer.crt"), "r");
		X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
		int cn = c ? i2d_X509(c, &cder) : -1;

		if (f)
			fclose(f);
		memset(&d, 0, sizeof(d));
		r = cms_verify_detached(root, (const unsigned char *)junk, sizeof(junk) - 1,
					"hello", 5, 0, &info, &d);
		CHECK(r == -EBADMSG && d.cls == DIAG_SIGNATURE && strstr(d.msg, "not a CMS"),
		      "garbage signature: %d %s", r, d.msg);
		CHECK(cn > 0, "cannot read signer.crt");
		memset(&d, 0, sizeof(d));
		r = cms_verify_detached(root, cder, cn > 0 ? (size_t)cn : 0, "hello", 5, 0, &info,
					&d);
		CHECK(r == -EBADMSG && d.cls == DIAG_SIGNATURE && strstr(d.msg, "not a CMS"),
		      "certificate as signature: %d %s", r, d.msg);
		OPENSSL_free(cder);
		X509_free(c);
	}

	/* Every way the signer can be untrusted, each with its own reason. */
	expect_untrusted(root, "other-signer", -EKEYREJECTED, "does not chain to a trusted CA");
	/* An expired signer is refused at load, before anything is signed
	 * (a bundle it signed could never verify); the verification side of
	 * an expired signer is the checked-in fixture bundle expired-signer
	 * (tests/fixtures/bundles.expect). */
	{
		der = NULL;
		n = 0;
		memset(&d, 0, sizeof(d));
		r = sign_with(p("expired-signer.key"), p("expired-signer.crt"), -1, &der, &n, &d);
		CHECK(r == -EKEYEXPIRED && d.cls == DIAG_TRUST && !der &&
			  strstr(d.msg, "expired at 2021-01-01T00:00:00Z; a bundle signed with it "
					"could never verify"),
		      "expired signer at sign time: %d %s", r, d.msg);
		free(der);
	}
	expect_untrusted(root, "future-signer", -EKEYEXPIRED, "not yet valid (valid from 2100");
	/* ...and an unrelated root alone trusts none of ours. */
	{
		const char *other[] = {p("other-ca.crt")};
		struct cms_trust *t = NULL;

		memset(&d, 0, sizeof(d));
		CHECK(cms_trust_load(other, 1, &t, &d) == 0, "load other CA: %s", d.msg);
		r = sign_with(p("signer.key"), p("signer.crt"), -1, &der, &n, &d);
		CHECK(r == 0, "sign: %s", d.msg);
		memset(&d, 0, sizeof(d));
		r = cms_verify_detached(t, der, n, "hello", 5, 0, &info, &d);
		CHECK(r == -EKEYREJECTED && d.cls == DIAG_TRUST &&
			  strstr(d.msg, "issuer: CN=Sealboot Test Root CA"),
		      "our signer under the other CA: %d %s", r, d.msg);
		free(der);
		der = NULL;
		cms_trust_free(t);
	}

	/* A mail-only certificate that got past sealboot (stock openssl
	 * signs with anything): refused at verification too. */
	snprintf(cmd, sizeof(cmd),
		 "printf hello > '%s/data' && openssl cms -sign -binary -md sha256 -in '%s/data' "
		 "-signer '%s' -inkey '%s' -certfile '%s' -outform DER -out '%s/noeku.p7s'",
		 dir, dir, p("noeku-signer.crt"), p("noeku-signer.key"), p("chain.pem"), dir);
	CHECK(system(cmd) == 0, "openssl cms -sign with the noeku signer");
	snprintf(cmd, sizeof(cmd), "%s/noeku.p7s", dir);
	der = read_file(cmd, &n);
	CHECK(der, "cannot read %s", cmd);
	if (der) {
		memset(&d, 0, sizeof(d));
		r = cms_verify_detached(root, der, n, "hello", 5, 0, &info, &d);
		CHECK(r == -EKEYREJECTED && d.cls == DIAG_TRUST &&
			  strstr(d.msg, "lacks the codeSigning extended key usage"),
		      "noeku signature: %d %s", r, d.msg);
		free(der);
		der = NULL;
	}

	/* Stock openssl accepts what we sign (the documented interop
	 * command), and rejects it over changed bytes. */
	r = sign_with(p("signer.key"), p("signer.crt"), -1, &der, &n, &d);
	CHECK(r == 0, "sign: %s", d.msg);
	snprintf(cmd, sizeof(cmd), "%s/ours.p7s", dir);
	CHECK(r == 0 && write_file(cmd, der, n) == 0, "cannot write %s", cmd);
	free(der);
	der = NULL;
	snprintf(cmd, sizeof(cmd),
		 "openssl cms -verify -binary -inform DER -in '%s/ours.p7s' -content '%s/data' "
		 "-CAfile '%s' -purpose any -out /dev/null 2>'%s/openssl.err'",
		 dir, dir, p("root.crt"), dir);
	CHECK(system(cmd) == 0, "stock openssl cms -verify rejects our signature (see %s)", cmd);
	snprintf(cmd, sizeof(cmd),
		 "printf hellO > '%s/data2' && ! openssl cms -verify -binary -inform DER -in "
		 "'%s/ours.p7s' -content '%s/data2' -CAfile '%s' -purpose any -out /dev/null "
		 "2>/dev/null",
		 dir, dir, dir, p("root.crt"));
	CHECK(system(cmd) == 0, "stock openssl accepts our signature over changed bytes");

	/* An encrypted key, no fd, and no terminal: a clear refusal rather
	 * than a read from stdin. Only where there is no terminal (CI). */
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		r = sign_with(p("signer-enc.key"), p("signer.crt"), -1, &der, &n, &d);
		CHECK(r == -ENXIO && d.cls == DIAG_USAGE && strstr(d.msg, "no terminal") && !der,
		      "encrypted key without fd or terminal: %d %s", r, d.msg);
	} else {
		close(fd);
		printf("note: a terminal is present; the no-terminal passphrase case is not run\n");
	}

	pkcs11 = test_pkcs11(src, root);

	cms_trust_free(root);
	cms_trust_free(rel);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		check_failures++;
	if (pkcs11 == 77) {
		printf("SKIP: the softhsm2 / PKCS#11 part did not run (see above)\n");
		if (!check_failures && ci) {
			printf("FAIL: CI=true and part of this test was skipped\n");
			return 1;
		}
	}
	if (CHECK_RESULT("cms"))
		return 1;
	return pkcs11 == 77 ? 77 : 0;
}
