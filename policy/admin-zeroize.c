/* SPDX-License-Identifier: Apache-2.0 */
#include "admin-zeroize.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adminkey.h"
#include "appliance.h"
#include "attest.h"
#include "hex.h"
#include "fsutil.h"
#include "zeroize-order.h"

static int write_new(const char *path, const void *buf, size_t len, struct diag *d)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	ssize_t w;

	if (fd < 0)
		return diag_set(d, DIAG_USAGE, errno, "cannot write %s: %s", path, strerror(errno));
	w = write(fd, buf, len);
	if (w != (ssize_t)len || fsync(fd) < 0) {
		int e = w < 0 ? errno : EIO;

		close(fd);
		return diag_set(d, DIAG_INTERNAL, e, "cannot write %s: %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

static int build(const struct zeroize_authorize_opts *o, const struct zorder_challenge *c,
		 struct zorder *ord, struct diag *d)
{
	int64_t now = o->at ? o->at : (int64_t)time(NULL);

	memset(ord, 0, sizeof(*ord));
	memcpy(ord->appliance_id, c->appliance_id, sizeof(ord->appliance_id));
	memcpy(ord->storage_name, c->storage_name, sizeof(ord->storage_name));
	ord->counter = c->counter;
	ord->clear_tpm = !o->keep_tpm;
	if (o->expires > (uint64_t)(INT64_MAX - now))
		return diag_set(d, DIAG_USAGE, ERANGE, "--expires is too far away");
	ord->not_after = now + (int64_t)o->expires;
	if (o->n_volumes == 0) {
		if (c->n_volumes == 0)
			return diag_set(
			    d, DIAG_USAGE, EINVAL,
			    "the challenge lists no volume (the appliance has no policy?); "
			    "name them with --volume");
		for (size_t i = 0; i < c->n_volumes; i++)
			snprintf(ord->volumes[i], sizeof(ord->volumes[0]), "%s", c->volumes[i]);
		ord->n_volumes = c->n_volumes;
		return 0;
	}
	for (size_t i = 0; i < o->n_volumes; i++) {
		bool known = c->n_volumes == 0;

		for (size_t k = 0; k < c->n_volumes; k++)
			known = known || !strcmp(c->volumes[k], o->volumes[i]);
		if (!known)
			return diag_set(
			    d, DIAG_USAGE, EINVAL,
			    "--volume %s: the challenge's appliance lists no such volume",
			    o->volumes[i]);
		if (strlen(o->volumes[i]) >= sizeof(ord->volumes[0]))
			return diag_set(d, DIAG_USAGE, EINVAL, "--volume %s: name too long",
					o->volumes[i]);
		snprintf(ord->volumes[i], sizeof(ord->volumes[0]), "%s", o->volumes[i]);
	}
	ord->n_volumes = o->n_volumes;
	return 0;
}

int admin_zeroize_authorize(const struct zeroize_authorize_opts *o)
{
	struct zorder_challenge c;
	struct zorder ord;
	struct secret *pass = NULL;
	EVP_PKEY *key = NULL;
	unsigned char *buf = NULL;
	uint8_t *sig = NULL;
	char *text = NULL, sig_path[4096];
	size_t len = 0, text_len = 0, sig_len = 0;
	struct diag d = {0};
	int r;

	if (!o->key || !o->challenge || !o->out) {
		fprintf(stderr,
			"%s: zeroize-authorize needs --key ZEROIZE_KEY, --challenge FILE "
			"and --out ORDER\n",
			o->prog);
		return 2;
	}
	r = fs_read_file(o->challenge, ZORDER_MAX_BYTES, &buf, &len);
	if (r < 0) {
		diag_set(&d, DIAG_USAGE, -r, "cannot read %s: %s", o->challenge, strerror(-r));
		goto out;
	}
	r = zorder_challenge_parse((const char *)buf, len, &c, &d);
	if (r == 0)
		r = build(o, &c, &ord, &d);
	if (r < 0)
		goto out;
	if (o->secret_fd >= 0) {
		r = secret_read_fd(o->secret_fd, 1024, &pass);
		if (r < 0) {
			diag_set(&d, DIAG_USAGE, -r, "cannot read the passphrase from fd %d",
				 o->secret_fd);
			goto out;
		}
	}
	r = adminkey_load_private(o->key, pass, &key, &d);
	if (r < 0)
		goto out;
	r = zorder_serialize(&ord, &text, &text_len);
	if (r < 0) {
		diag_set(&d, DIAG_INTERNAL, -r, "cannot write the order");
		goto out;
	}
	r = adminkey_sign(key, text, text_len, &sig, &sig_len, &d);
	if (r < 0)
		goto out;
	snprintf(sig_path, sizeof(sig_path), "%s.sig", o->out);
	/* The order first, its signature last: a crash in between leaves an
	 * order that does not verify. */
	(void)unlink(sig_path);
	r = write_new(o->out, text, text_len, &d);
	if (r == 0)
		r = write_new(sig_path, sig, sig_len, &d);
	if (r < 0)
		goto out;
	fprintf(stderr,
		"%s: zeroize order for challenge %" PRIu64 " written to %s (signature %s): %zu "
		"volume(s), TPM %s, valid until %" PRId64 "\n",
		o->prog, ord.counter, o->out, sig_path, ord.n_volumes,
		ord.clear_tpm ? "cleared" : "kept", ord.not_after);
out:
	secret_free(pass);
	EVP_PKEY_free(key);
	free(buf);
	free(text);
	free(sig);
	if (r < 0) {
		fprintf(stderr, "%s: zeroize-authorize: %s\n", o->prog, d.msg);
		return diag_exit_code(d.cls);
	}
	return 0;
}

/* --- attest-verify, zeroize-verify --- */

static int load_ak(const struct attest_verify_opts *o, EVP_PKEY **ret, struct diag *d)
{
	if (!o->ak)
		return diag_set(
		    d, DIAG_USAGE, EINVAL,
		    "--ak FILE is required: the appliance's attestation key as recorded");
	return adminkey_load_public(o->ak, ret, d);
}

static int read_doc(const char *path, unsigned char **ret, size_t *len, struct diag *d)
{
	int r = fs_read_file(path, ATTEST_MAX_BYTES, ret, len);

	return r < 0 ? diag_set(d, DIAG_USAGE, -r, "cannot read %s: %s", path,
				r == -EFBIG ? "too large" : strerror(-r))
		     : 0;
}

static int verdict(const struct attest_verify_opts *o, const char *what, int r,
		   const struct diag *d, const char *summary)
{
	if (r < 0) {
		fprintf(stderr, "%s: %s: %s\n", o->prog, what, d->msg);
		if (o->json)
			printf("{\"schema\":\"sealboot-admin-verify/1\",\"verified\":false}\n");
		return diag_exit_code(d->cls);
	}
	if (o->json)
		printf("{\"schema\":\"sealboot-admin-verify/1\",\"verified\":true}\n");
	else
		printf("%s\n", summary);
	return 0;
}

int admin_attest_verify(const struct attest_verify_opts *o, const char *quote)
{
	uint8_t nonce[ATTEST_NONCE_MAX];
	size_t n = o->nonce_hex ? strlen(o->nonce_hex) / 2 : 0, len = 0;
	unsigned char *buf = NULL;
	struct approval ap, *app = NULL;
	EVP_PKEY *ak = NULL;
	char *summary = NULL;
	struct diag d = {0};
	int r;

	if (n == 0 || n > ATTEST_NONCE_MAX || strlen(o->nonce_hex) % 2 ||
	    hex_decode(o->nonce_hex, nonce, n) < 0) {
		r = diag_set(&d, DIAG_USAGE, EINVAL,
			     "--nonce HEX is required: the nonce you gave the appliance (1 to %d "
			     "bytes, lowercase hex)",
			     ATTEST_NONCE_MAX);
		goto out;
	}
	r = load_ak(o, &ak, &d);
	if (r == 0 && o->state_dir) {
		r = appliance_load_approval(o->state_dir, &ap, &d);
		app = &ap;
	}
	if (r == 0)
		r = read_doc(quote, &buf, &len, &d);
	if (r == 0)
		r = attest_verify_quote((const char *)buf, len, ak, nonce, n, app, &summary, &d);
out:
	r = verdict(o, "attest-verify", r, &d, summary);
	free(summary);
	free(buf);
	EVP_PKEY_free(ak);
	return r;
}

int admin_zeroize_verify(const struct attest_verify_opts *o, const char *receipt,
			 const char *evidence)
{
	unsigned char *rb = NULL, *eb = NULL, *ob = NULL;
	size_t rl = 0, el = 0, ol = 0;
	EVP_PKEY *ak = NULL;
	char *summary = NULL;
	struct diag d = {0};
	int r;

	r = load_ak(o, &ak, &d);
	if (r == 0)
		r = read_doc(receipt, &rb, &rl, &d);
	if (r == 0)
		r = read_doc(evidence, &eb, &el, &d);
	if (r == 0 && o->order)
		r = read_doc(o->order, &ob, &ol, &d);
	if (r == 0)
		r = attest_verify_receipt((const char *)rb, rl, (const char *)eb, el, ak,
					  (const char *)ob, ol, &summary, &d);
	r = verdict(o, "zeroize-verify", r, &d, summary);
	free(summary);
	free(rb);
	free(eb);
	free(ob);
	EVP_PKEY_free(ak);
	return r;
}

int admin_ak_credential(const char *prog, const char *identity, const char *ek_ca, const char *out,
			const char *ak_out)
{
	unsigned char *id = NULL, *ca = NULL;
	size_t id_len = 0, ca_len = 0;
	uint8_t secret[ATTEST_CREDENTIAL_SECRET];
	char *cred = NULL, *pem = NULL, hex[2 * ATTEST_CREDENTIAL_SECRET + 1];
	struct diag d = {0};
	int r;

	if (!identity || !ek_ca || !out || !ak_out) {
		fprintf(stderr,
			"%s: ak-credential needs --identity FILE, --ek-ca CA.pem, --out "
			"CREDENTIAL and --ak-out AK.pem\n",
			prog);
		return 2;
	}
	r = read_doc(identity, &id, &id_len, &d);
	if (r == 0)
		r = read_doc(ek_ca, &ca, &ca_len, &d);
	if (r == 0)
		r = attest_credential((const char *)id, id_len, (const char *)ca, ca_len, &cred,
				      secret, &pem, &d);
	if (r == 0)
		r = write_new(out, cred, strlen(cred), &d);
	if (r == 0)
		r = write_new(ak_out, pem, strlen(pem), &d);
	free(id);
	free(ca);
	free(cred);
	free(pem);
	if (r < 0) {
		OPENSSL_cleanse(secret, sizeof(secret));
		fprintf(stderr, "%s: ak-credential: %s\n", prog, d.msg);
		return diag_exit_code(d.cls);
	}
	hex_encode(secret, sizeof(secret), hex);
	OPENSSL_cleanse(secret, sizeof(secret));
	printf("%s\n", hex);
	fprintf(stderr,
		"%s: the EK certificate is the TPM maker's; credential for the attestation key in "
		"%s; trust %s once sealboot-anchor ak-activate on the appliance prints the line "
		"above\n",
		prog, out, ak_out);
	return 0;
}
