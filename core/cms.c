/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PKCS#11 keys go through OpenSSL's ENGINE API (libengine-pkcs11-openssl):
 * Debian 12 ships no pkcs11 provider. That API is deprecated in OpenSSL 3.0,
 * so this file asks for the 1.1.1 API level, where it is not yet marked.
 */
#define OPENSSL_API_COMPAT 10101

#include "cms.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ui.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "secret.h"

#define SECRET_MAX 1024

struct cms_signer {
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) * chain;
	ENGINE *engine;
	UI_METHOD *ui; /* the engine may ask for the PIN again while signing */
};

struct cms_trust {
	X509_STORE *store;
};

/* The innermost OpenSSL reason, for messages; clears the queue. */
static const char *ossl_reason(char *buf, size_t n)
{
	unsigned long e = ERR_peek_last_error();

	if (!e)
		snprintf(buf, n, "no further detail");
	else
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

static void name_of(const X509_NAME *nm, char *out, size_t n)
{
	BIO *b = BIO_new(BIO_s_mem());
	long len;
	char *p;

	out[0] = 0;
	if (!b)
		return;
	if (X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253) >= 0) {
		len = BIO_get_mem_data(b, &p);
		if (len < 0)
			len = 0;
		if ((size_t)len >= n)
			len = (long)n - 1;
		memcpy(out, p, (size_t)len);
		out[len] = 0;
	}
	BIO_free(b);
}

static void cert_sha256(X509 *c, unsigned char out[32])
{
	unsigned int len = 32;

	X509_digest(c, EVP_sha256(), out, &len);
}

static void asn1_time_str(const ASN1_TIME *t, char *out, size_t n)
{
	struct tm tm;

	if (t && ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(out, n, "an unreadable date");
}

/* Read every PEM certificate in path; at least one. */
/* Every PEM certificate in b (at least one). */
static int read_certs_bio(BIO *b, const char *what, const char *where, STACK_OF(X509) * *ret,
			  struct diag *d)
{
	STACK_OF(X509) * sk;
	char why[256];
	X509 *c;

	sk = sk_X509_new_null();
	if (!sk)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	while ((c = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		if (!sk_X509_push(sk, c)) {
			X509_free(c);
			break;
		}
	if (sk_X509_num(sk) == 0) {
		sk_X509_pop_free(sk, X509_free);
		return diag_set(d, DIAG_USAGE, EINVAL, "%s %s holds no PEM certificate (%s)", what,
				where, ossl_reason(why, sizeof(why)));
	}
	ERR_clear_error(); /* the expected "no start line" at end of file */
	*ret = sk;
	return 0;
}

static int read_certs(const char *path, const char *what, STACK_OF(X509) * *ret, struct diag *d)
{
	BIO *b;
	int r;

	b = BIO_new_file(path, "r");
	if (!b) {
		ERR_clear_error();
		return diag_set(d, DIAG_USAGE, ENOENT, "cannot read %s %s: %s", what, path,
				strerror(errno ? errno : ENOENT));
	}
	r = read_certs_bio(b, what, path, ret, d);
	BIO_free(b);
	return r;
}

static bool has_codesign_eku(X509 *c)
{
	/* An absent EKU extension means "any" to OpenSSL; a release signer
	 * must say codeSigning explicitly. */
	return (X509_get_extension_flags(c) & EXFLAG_XKUSAGE) &&
	       (X509_get_extended_key_usage(c) & XKU_CODE_SIGN);
}

/*
 * Ask for a secret on the controlling terminal with echo off. Never stdin:
 * with no terminal the caller must use --secret-fd, and a signing job in a
 * pipeline must not swallow its input as a passphrase. The keyboard signals
 * wait until the terminal is restored, so ^C cannot leave echo off.
 */
static int tty_read_secret(const char *prompt, struct secret **ret)
{
	_cleanup_secret_ struct secret *s = NULL;
	struct termios old, quiet;
	sigset_t block, saved;
	size_t n = 0;
	int fd, r = 0;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -ENXIO;
	r = secret_new(SECRET_MAX + 1, &s);
	if (r < 0)
		goto out_close;
	if (tcgetattr(fd, &old) < 0) {
		r = -errno;
		goto out_close;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGTSTP);
	pthread_sigmask(SIG_BLOCK, &block, &saved);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) < 0) {
		r = -errno;
		goto out_unblock;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		r = -errno;
		goto out_restore;
	}
	for (;;) {
		char c;
		ssize_t k = read(fd, &c, 1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			break;
		}
		if (k == 0 || c == '\n' || c == '\r')
			break;
		if (n == SECRET_MAX) {
			r = -EMSGSIZE; /* keep reading would truncate silently */
			break;
		}
		s->data[n++] = (unsigned char)c;
	}
out_restore:
	tcsetattr(fd, TCSAFLUSH, &old);
out_unblock:
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
out_close:
	close(fd);
	if (r < 0)
		return r;
	s->len = n;
	*ret = s;
	s = NULL;
	return 0;
}

struct pass_ctx {
	int fd;
	bool used;
	int err;
};

/* PEM passphrase callback: the fd once, or the terminal when there is no fd.
 * OpenSSL calls it only for an encrypted key. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_ctx *pc = u;
	_cleanup_secret_ struct secret *s = NULL;
	int r;

	if (pc->used)
		return -1; /* a second ask means the first was wrong */
	pc->used = true;
	if (pc->fd >= 0)
		r = secret_read_fd(pc->fd, SECRET_MAX, &s);
	else
		r = tty_read_secret("Passphrase for the signer key: ", &s);
	if (r < 0) {
		pc->err = r;
		return -1;
	}
	if (s->len >= (size_t)size) {
		pc->err = -EMSGSIZE;
		return -1;
	}
	memcpy(buf, s->data, s->len);
	return (int)s->len;
}

/* Why the last terminal read for the engine failed (libp11 reports only
 * "UI_process failed"); per thread, set just before ENGINE_load_private_key. */
static _Thread_local int ui_tty_err;

/* libp11 asks for a missing PIN through an OpenSSL UI; this one reads the
 * terminal only (UI_OpenSSL would fall back to stdin). */
static int ui_tty_reader(UI *ui, UI_STRING *uis)
{
	_cleanup_secret_ struct secret *s = NULL;
	int r;

	switch (UI_get_string_type(uis)) {
	case UIT_PROMPT:
	case UIT_VERIFY:
		r = tty_read_secret(UI_get0_output_string(uis), &s);
		if (r < 0) {
			ui_tty_err = r;
			return 0;
		}
		/* The secret's pages are zeroed beyond len: NUL-terminated. */
		return UI_set_result(ui, uis, (const char *)s->data) >= 0 ? 1 : 0;
	default:
		return 1;
	}
}

static int load_pem_key(const struct cms_signer_opts *o, EVP_PKEY **ret, struct diag *d)
{
	struct pass_ctx pc = {.fd = o->secret_fd};
	char why[256];
	EVP_PKEY *k;
	BIO *b;

	b = BIO_new_file(o->key, "r");
	if (!b) {
		ERR_clear_error();
		return diag_set(d, DIAG_USAGE, ENOENT, "cannot read signer key %s: %s", o->key,
				strerror(errno ? errno : ENOENT));
	}
	k = PEM_read_bio_PrivateKey(b, NULL, pass_cb, &pc);
	BIO_free(b);
	if (!k) {
		if (pc.err == -ENXIO && o->secret_fd < 0) {
			ERR_clear_error();
			return diag_set(d, DIAG_USAGE, ENXIO,
					"signer key %s is encrypted and there is no terminal to "
					"ask for its passphrase; pass it on a file descriptor",
					o->key);
		}
		if (pc.err) {
			ERR_clear_error();
			if (o->secret_fd < 0)
				return diag_set(d, DIAG_USAGE, -pc.err,
						"cannot read the key passphrase from the "
						"terminal: %s",
						strerror(-pc.err));
			return diag_set(d, DIAG_USAGE, -pc.err,
					"cannot read the key passphrase from fd %d: %s",
					o->secret_fd, strerror(-pc.err));
		}
		return diag_set(d, DIAG_USAGE, EKEYREJECTED,
				"cannot load signer key %s: wrong passphrase or not a PEM private "
				"key (%s)",
				o->key, ossl_reason(why, sizeof(why)));
	}
	*ret = k;
	return 0;
}

/*
 * libp11 prints its own diagnostics on stderr. Around engine calls, stderr
 * goes to a memory file instead; its first line is folded into our one-line
 * diagnosis. PIN prompts are unaffected: OpenSSL's UI talks to /dev/tty.
 */
struct captured {
	int saved, memfd;
	char first[160];
};

static void capture_begin(struct captured *c)
{
	fflush(stderr);
	c->first[0] = 0;
	c->memfd = memfd_create("sealboot-p11", MFD_CLOEXEC);
	c->saved = c->memfd >= 0 ? dup(STDERR_FILENO) : -1;
	if (c->saved >= 0)
		dup2(c->memfd, STDERR_FILENO);
}

static void capture_end(struct captured *c)
{
	ssize_t n;

	fflush(stderr);
	if (c->saved >= 0) {
		dup2(c->saved, STDERR_FILENO);
		close(c->saved);
	}
	if (c->memfd < 0)
		return;
	n = pread(c->memfd, c->first, sizeof(c->first) - 1, 0);
	c->first[n > 0 ? n : 0] = 0;
	c->first[strcspn(c->first, "\n")] = 0;
	close(c->memfd);
}

/* libp11 keeps a PIN given by ctrl in its engine context until the process
 * exits; a NULL PIN makes it wipe and free that copy. */
static void engine_forget_pin(ENGINE *e)
{
	ENGINE_ctrl_cmd(e, "PIN", 0, NULL, NULL, 0);
	ERR_clear_error(); /* libp11 reports the NULL as an error */
}

static int load_pkcs11_key(const struct cms_signer_opts *o, struct cms_signer *s, struct diag *d)
{
	_cleanup_secret_ struct secret *pin = NULL;
	struct captured cap;
	char why[256];
	ENGINE *e;
	EVP_PKEY *k;
	int r, ok;

	ENGINE_load_builtin_engines();
	e = ENGINE_by_id("pkcs11");
	if (!e)
		return diag_set(d, DIAG_USAGE, ENOENT,
				"the OpenSSL pkcs11 engine is not installed (Debian package "
				"libengine-pkcs11-openssl): %s",
				ossl_reason(why, sizeof(why)));
	if (o->pkcs11_module && !ENGINE_ctrl_cmd_string(e, "MODULE_PATH", o->pkcs11_module, 0)) {
		r = diag_set(d, DIAG_USAGE, EINVAL, "PKCS#11 module %s rejected: %s",
			     o->pkcs11_module, ossl_reason(why, sizeof(why)));
		ENGINE_free(e);
		return r;
	}
	capture_begin(&cap);
	ok = ENGINE_init(e);
	capture_end(&cap);
	if (!ok) {
		r = diag_set(d, DIAG_USAGE, EIO, "cannot initialize the PKCS#11 module %s: %s%s%s",
			     o->pkcs11_module ? o->pkcs11_module : "(p11-kit default)",
			     ossl_reason(why, sizeof(why)), cap.first[0] ? "; " : "", cap.first);
		ENGINE_free(e);
		return r;
	}
	if (o->secret_fd >= 0) {
		r = secret_read_fd(o->secret_fd, SECRET_MAX, &pin);
		if (r < 0) {
			diag_set(d, DIAG_USAGE, -r, "cannot read the token PIN from fd %d: %s",
				 o->secret_fd, strerror(-r));
			goto fail;
		}
		/* The engine keeps its own copy and wipes it when finished. */
		if (!ENGINE_ctrl_cmd_string(e, "PIN", (const char *)pin->data, 0)) {
			r = diag_set(d, DIAG_USAGE, EINVAL, "the pkcs11 engine refused the PIN");
			goto fail;
		}
	}
	s->ui = UI_create_method("sealboot terminal");
	if (!s->ui || UI_method_set_reader(s->ui, ui_tty_reader) < 0) {
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
		goto fail;
	}
	ui_tty_err = 0;
	capture_begin(&cap);
	k = ENGINE_load_private_key(e, o->key, s->ui, NULL);
	capture_end(&cap);
	if (!k) {
		ERR_clear_error();
		if (ui_tty_err == -ENXIO)
			r = diag_set(
			    d, DIAG_USAGE, ENXIO,
			    "the PKCS#11 token needs a PIN for %s and there is no terminal "
			    "to ask for it; pass it on a file descriptor",
			    o->key);
		else if (ui_tty_err < 0)
			r = diag_set(d, DIAG_USAGE, -ui_tty_err,
				     "cannot read the token PIN from the terminal: %s",
				     strerror(-ui_tty_err));
		else if (strstr(cap.first, "Login failed"))
			r = diag_set(d, DIAG_USAGE, EKEYREJECTED,
				     "the PKCS#11 token refused the login: wrong PIN for %s",
				     o->key);
		else
			r = diag_set(d, DIAG_USAGE, ENOKEY,
				     "no usable private key at %s on the PKCS#11 token%s%s", o->key,
				     cap.first[0] ? ": " : "", cap.first);
		goto fail;
	}
	s->engine = e;
	s->key = k;
	return 0;
fail:
	engine_forget_pin(e);
	ENGINE_finish(e);
	ENGINE_free(e);
	return r;
}

void cms_signer_free(struct cms_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->key);
	X509_free(s->cert);
	sk_X509_pop_free(s->chain, X509_free);
	if (s->engine) {
		engine_forget_pin(s->engine);
		ENGINE_finish(s->engine);
		ENGINE_free(s->engine);
	}
	UI_destroy_method(s->ui);
	free(s);
}

int cms_signer_load(const struct cms_signer_opts *o, struct cms_signer **ret, struct diag *d)
{
	struct cms_signer *s;
	STACK_OF(X509) *certs = NULL;
	char subj[256];
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	r = read_certs(o->cert, "signer certificate", &certs, d);
	if (r < 0)
		goto fail;
	s->cert = sk_X509_shift(certs);
	sk_X509_pop_free(certs, X509_free);
	name_of(X509_get_subject_name(s->cert), subj, sizeof(subj));
	if (!has_codesign_eku(s->cert)) {
		r = diag_set(d, DIAG_TRUST, EKEYREJECTED,
			     "signer certificate %s (%s) lacks the codeSigning extended key usage",
			     o->cert, subj);
		goto fail;
	}
	/* A bundle signed with an expired certificate can never verify:
	 * refuse it here, as the missing EKU above. */
	if (X509_cmp_current_time(X509_get0_notAfter(s->cert)) < 0) {
		char when[32];

		asn1_time_str(X509_get0_notAfter(s->cert), when, sizeof(when));
		r = diag_set(d, DIAG_TRUST, EKEYEXPIRED,
			     "signer certificate %s (%s) expired at %s; a bundle signed with it "
			     "could never verify",
			     o->cert, subj, when);
		goto fail;
	}
	if (o->chain) {
		r = read_certs(o->chain, "certificate chain", &s->chain, d);
		if (r < 0)
			goto fail;
	}
	if (!strncmp(o->key, "pkcs11:", 7))
		r = load_pkcs11_key(o, s, d);
	else
		r = load_pem_key(o, &s->key, d);
	if (r < 0)
		goto fail;
	if (X509_check_private_key(s->cert, s->key) != 1) {
		ERR_clear_error();
		r = diag_set(d, DIAG_USAGE, EKEYREJECTED,
			     "signer key %s does not belong to certificate %s (%s)", o->key,
			     o->cert, subj);
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	cms_signer_free(s);
	return r;
}

int cms_sign_detached(struct cms_signer *s, const void *data, size_t len, unsigned char **ret_der,
		      size_t *ret_len, struct diag *d)
{
	const unsigned flags = CMS_BINARY | CMS_DETACHED | CMS_PARTIAL | CMS_NOSMIMECAP;
	CMS_ContentInfo *cms = NULL;
	unsigned char *der = NULL;
	char why[256];
	BIO *in = NULL;
	int n, r = 0;

	if (len > INT_MAX)
		return diag_set(d, DIAG_INTERNAL, EFBIG, "content too large to sign");
	in = BIO_new_mem_buf(data, (int)len);
	cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	if (!in || !cms)
		goto ossl_fail;
	/* Signed attributes (contentType, messageDigest, signingTime) are
	 * added by default; SHA-256 whatever the key type. */
	if (!CMS_add1_signer(cms, s->cert, s->key, EVP_sha256(), flags))
		goto ossl_fail;
	for (int i = 0; s->chain && i < sk_X509_num(s->chain); i++)
		if (!CMS_add1_cert(cms, sk_X509_value(s->chain, i)))
			goto ossl_fail;
	if (!CMS_final(cms, in, NULL, flags))
		goto ossl_fail;
	n = i2d_CMS_ContentInfo(cms, &der);
	if (n <= 0)
		goto ossl_fail;
	*ret_der = malloc((size_t)n);
	if (!*ret_der) {
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
		goto out;
	}
	memcpy(*ret_der, der, (size_t)n);
	*ret_len = (size_t)n;
	goto out;
ossl_fail:
	r = diag_set(d, DIAG_INTERNAL, EIO, "signing failed: %s", ossl_reason(why, sizeof(why)));
out:
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return r;
}

void cms_trust_free(struct cms_trust *t)
{
	if (!t)
		return;
	X509_STORE_free(t->store);
	free(t);
}

/* ca_files are paths, or with pem set, PEM texts. */
static int trust_load(const char *const *ca, size_t n, bool pem, struct cms_trust **ret,
		      struct diag *d)
{
	struct cms_trust *t;
	int r;

	if (n == 0)
		return diag_set(d, DIAG_USAGE, EINVAL, "no trusted CA given");
	t = calloc(1, sizeof(*t));
	if (!t || !(t->store = X509_STORE_new())) {
		free(t);
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	}
	/* A release CA under an offline root is an anchor by itself. Purpose
	 * "any": no S/MIME or TLS rule applies; codeSigning is checked on the
	 * signer explicitly after the chain. */
	X509_STORE_set_flags(t->store, X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_set_purpose(t->store, X509_PURPOSE_ANY);
	for (size_t i = 0; i < n; i++) {
		STACK_OF(X509) *sk = NULL;
		char where[32];

		if (pem) {
			BIO *b = BIO_new_mem_buf(ca[i], -1);

			snprintf(where, sizeof(where), "#%zu", i + 1);
			r = b ? read_certs_bio(b, "release CA", where, &sk, d)
			      : diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
			BIO_free(b);
		} else {
			r = read_certs(ca[i], "CA file", &sk, d);
		}
		if (r < 0) {
			cms_trust_free(t);
			return r;
		}
		for (int j = 0; j < sk_X509_num(sk); j++) {
			X509 *c = sk_X509_value(sk, j);

			/* With partial chains every trusted certificate is an
			 * anchor; a leaf here would vouch for itself. */
			if (X509_check_ca(c) == 0) {
				char subj[256];

				name_of(X509_get_subject_name(c), subj, sizeof(subj));
				sk_X509_pop_free(sk, X509_free);
				cms_trust_free(t);
				return diag_set(d, DIAG_USAGE, EINVAL,
						"%s %s holds %s, which is not a CA certificate",
						pem ? "release CA" : "CA file", pem ? "" : ca[i],
						subj);
			}
			X509_STORE_add_cert(t->store, c);
		}
		sk_X509_pop_free(sk, X509_free);
	}
	ERR_clear_error(); /* duplicate certificates are not an error */
	*ret = t;
	return 0;
}

int cms_trust_load(const char *const *ca_files, size_t n, struct cms_trust **ret, struct diag *d)
{
	return trust_load(ca_files, n, false, ret, d);
}

int cms_trust_load_pem(const char *const *pems, size_t n, struct cms_trust **ret, struct diag *d)
{
	return trust_load(pems, n, true, ret, d);
}

static int64_t signing_time_of(CMS_SignerInfo *si)
{
	int idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
	X509_ATTRIBUTE *a;
	ASN1_TYPE *v;
	struct tm tm;

	if (idx < 0)
		return -1;
	a = CMS_signed_get_attr(si, idx);
	v = a ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;
	if (!v || (v->type != V_ASN1_UTCTIME && v->type != V_ASN1_GENERALIZEDTIME))
		return -1;
	if (ASN1_TIME_to_tm((const ASN1_TIME *)v->value.asn1_string, &tm) != 1)
		return -1;
	return (int64_t)timegm(&tm);
}

static int chain_error(X509_STORE_CTX *ctx, X509 *signer, struct diag *d)
{
	int err = X509_STORE_CTX_get_error(ctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	char subj[256] = "?", issuer[256] = "?", signer_subj[256], when[32];

	name_of(X509_get_subject_name(signer), signer_subj, sizeof(signer_subj));
	if (cur) {
		name_of(X509_get_subject_name(cur), subj, sizeof(subj));
		name_of(X509_get_issuer_name(cur), issuer, sizeof(issuer));
	}
	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		asn1_time_str(cur ? X509_get0_notAfter(cur) : NULL, when, sizeof(when));
		return diag_set(d, DIAG_TRUST, EKEYEXPIRED, "certificate %s expired at %s", subj,
				when);
	case X509_V_ERR_CERT_NOT_YET_VALID:
		asn1_time_str(cur ? X509_get0_notBefore(cur) : NULL, when, sizeof(when));
		return diag_set(d, DIAG_TRUST, EKEYEXPIRED,
				"certificate %s is not yet valid (valid from %s)", subj, when);
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		/* The issuer of the last certificate reached: the CA the
		 * caller would have to trust. */
		return diag_set(d, DIAG_TRUST, EKEYREJECTED,
				"signer certificate does not chain to a trusted CA (issuer: %s; "
				"signer: %s)",
				issuer, signer_subj);
	default:
		return diag_set(d, DIAG_TRUST, EKEYREJECTED, "certificate %s rejected: %s", subj,
				X509_verify_cert_error_string(err));
	}
}

/* SHA-1 and older are collision-prone: a signature over their digest binds
 * nothing we can rely on. */
static int check_digest_alg(CMS_SignerInfo *si, struct diag *d)
{
	X509_ALGOR *dig = NULL;
	const ASN1_OBJECT *oid = NULL;
	int nid;

	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
	if (dig)
		X509_ALGOR_get0(&oid, NULL, NULL, dig);
	nid = oid ? OBJ_obj2nid(oid) : NID_undef;
	if (nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512)
		return diag_set(d, DIAG_SIGNATURE, EBADMSG,
				"the signature uses digest algorithm %s; SHA-256, SHA-384 or "
				"SHA-512 is required",
				nid != NID_undef ? OBJ_nid2sn(nid) : "(unknown)");
	return 0;
}

/* Who signed, and the trusted CA the chain ended at. */
static void fill_info(CMS_SignerInfo *si, X509 *signer, X509 *anchor,
		      struct cms_signer_info *ret_info)
{
	memset(ret_info, 0, sizeof(*ret_info));
	name_of(X509_get_subject_name(signer), ret_info->subject, sizeof(ret_info->subject));
	name_of(X509_get_issuer_name(signer), ret_info->issuer, sizeof(ret_info->issuer));
	cert_sha256(signer, ret_info->cert_sha256);
	name_of(X509_get_subject_name(anchor), ret_info->anchor_subject,
		sizeof(ret_info->anchor_subject));
	cert_sha256(anchor, ret_info->anchor_sha256);
	ret_info->signing_time = signing_time_of(si);
}

int cms_verify_detached(const struct cms_trust *t, const unsigned char *sig, size_t sig_len,
			const void *data, size_t len, int64_t at, struct cms_signer_info *ret_info,
			struct diag *d)
{
	const unsigned char *p = sig;
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) * sis;
	STACK_OF(X509) *certs = NULL, *chain;
	X509_STORE_CTX *ctx = NULL;
	CMS_SignerInfo *si;
	X509 *signer = NULL, *anchor;
	BIO *content = NULL;
	char why[256];
	int r;

	ERR_clear_error();
	if (sig_len == 0 || sig_len > LONG_MAX ||
	    !(cms = d2i_CMS_ContentInfo(NULL, &p, (long)sig_len)) || p != sig + sig_len ||
	    OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		r = diag_set(d, DIAG_SIGNATURE, EBADMSG,
			     "the signature file is not a CMS SignedData structure in DER");
		goto out;
	}
	if (!CMS_is_detached(cms)) {
		r = diag_set(d, DIAG_SIGNATURE, EBADMSG,
			     "the signature embeds its content; a detached signature is required");
		goto out;
	}
	sis = CMS_get0_SignerInfos(cms);
	if (sk_CMS_SignerInfo_num(sis) != 1) {
		r = diag_set(d, DIAG_SIGNATURE, EBADMSG,
			     "the CMS signature has %d signers; exactly one is required",
			     sk_CMS_SignerInfo_num(sis));
		goto out;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	r = check_digest_alg(si, d);
	if (r < 0)
		goto out;
	if (len > INT_MAX || !(content = BIO_new_mem_buf(data, (int)len))) {
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
		goto out;
	}

	/* 1. The signature over these exact bytes, chain not yet considered. */
	if (CMS_verify(cms, NULL, NULL, content, NULL, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) !=
	    1) {
		unsigned long e = ERR_peek_last_error();

		if (ERR_GET_REASON(e) == CMS_R_SIGNER_CERTIFICATE_NOT_FOUND)
			r = diag_set(d, DIAG_SIGNATURE, EBADMSG,
				     "the CMS signature carries no signer certificate");
		else
			r = diag_set(d, DIAG_SIGNATURE, EBADMSG,
				     "signature does not match the manifest bytes (%s)",
				     ossl_reason(why, sizeof(why)));
		ERR_clear_error();
		goto out;
	}
	CMS_SignerInfo_get0_algs(si, NULL, &signer, NULL, NULL);
	if (!signer) {
		r = diag_set(d, DIAG_SIGNATURE, EBADMSG,
			     "the CMS signature carries no signer certificate");
		goto out;
	}

	/* 2. The signer chains to a trusted CA, valid at the given time. */
	certs = CMS_get1_certs(cms);
	ctx = X509_STORE_CTX_new();
	if (!ctx || !X509_STORE_CTX_init(ctx, t->store, signer, certs)) {
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
		goto out;
	}
	if (at)
		X509_STORE_CTX_set_time(ctx, 0, (time_t)at);
	if (X509_verify_cert(ctx) != 1) {
		r = chain_error(ctx, signer, d);
		ERR_clear_error();
		goto out;
	}

	/* 3. Code signing, explicitly. */
	if (!has_codesign_eku(signer)) {
		char subj[256];

		name_of(X509_get_subject_name(signer), subj, sizeof(subj));
		r = diag_set(d, DIAG_TRUST, EKEYREJECTED,
			     "signer certificate %s lacks the codeSigning extended key usage",
			     subj);
		goto out;
	}

	chain = X509_STORE_CTX_get0_chain(ctx);
	anchor = sk_X509_value(chain, sk_X509_num(chain) - 1);
	if (ret_info)
		fill_info(si, signer, anchor, ret_info);
	r = 0;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(certs, X509_free);
	BIO_free(content);
	CMS_ContentInfo_free(cms);
	return r;
}
