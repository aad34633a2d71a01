/* SPDX-License-Identifier: Apache-2.0 */
#include "appliance.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adminkey.h"
#include "fsutil.h"
#include "hex.h"

static int read_state_file(int dirfd, const char *dir, const char *name, size_t max,
			   enum diag_class cls, unsigned char **ret, size_t *ret_len,
			   struct diag *d)
{
	int r = fs_read_file_at(dirfd, name, max, ret, ret_len);

	if (r == -ENOENT)
		return diag_set(d, cls, ENOENT, "%s/%s is missing", dir, name);
	if (r == -EFBIG)
		return diag_set(d, cls, EFBIG, "%s/%s is larger than %zu bytes", dir, name, max);
	if (r == -ELOOP)
		return diag_set(d, cls, ELOOP, "%s/%s is a symbolic link", dir, name);
	if (r < 0)
		return diag_set(d, DIAG_INTERNAL, -r, "cannot read %s/%s: %s", dir, name,
				strerror(-r));
	return 0;
}

static int open_state_dir(const char *state_dir, struct diag *d)
{
	int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return diag_set(d, DIAG_USAGE, errno, "cannot open state directory %s: %s",
				state_dir, strerror(errno));
	return fd;
}

/* One file of the state directory, whole. */
static int read_state(const char *state_dir, const char *name, size_t max, enum diag_class cls,
		      unsigned char **ret, size_t *ret_len, struct diag *d)
{
	int dirfd = open_state_dir(state_dir, d), r;

	if (dirfd < 0)
		return dirfd;
	r = read_state_file(dirfd, state_dir, name, max, cls, ret, ret_len, d);
	close(dirfd);
	return r;
}

int appliance_load(const char *state_dir, const uint8_t *want_admin, const char *want_what,
		   struct appliance *ret, struct diag *d)
{
	struct appliance a = {0};
	unsigned char *pub = NULL, *pol = NULL, *sig = NULL;
	size_t pub_len = 0, pol_len = 0, sig_len = 0;
	int dirfd, r;

	dirfd = open_state_dir(state_dir, d);
	if (dirfd < 0)
		return dirfd;
	r = read_state_file(dirfd, state_dir, APPLIANCE_ADMIN_PUB, 16384, DIAG_TRUST, &pub,
			    &pub_len, d);
	if (r < 0)
		goto out;
	{
		struct diag kd = {0};

		r = adminkey_public_from_pem((const char *)pub, pub_len, &a.admin, &kd);
		if (r < 0) {
			diag_set(d, DIAG_TRUST, -r, "%s/%s: %s", state_dir, APPLIANCE_ADMIN_PUB,
				 kd.msg);
			goto out;
		}
	}
	r = adminkey_digest(a.admin, a.admin_digest);
	if (r == 0)
		r = adminkey_point(a.admin, a.admin_point.x, a.admin_point.y);
	if (r < 0) {
		r = diag_set(d, DIAG_INTERNAL, -r, "cannot read the admin key");
		goto out;
	}
	/* Before anything signed by it is believed. */
	if (want_admin && CRYPTO_memcmp(want_admin, a.admin_digest, 32) != 0) {
		r = diag_set(d, DIAG_TRUST, EKEYREJECTED, "%s/%s is not the admin key %s",
			     state_dir, APPLIANCE_ADMIN_PUB, want_what ? want_what : "expected");
		goto out;
	}
	r = read_state_file(dirfd, state_dir, APPLIANCE_POLICY, POLICY_MAX_BYTES, DIAG_MALFORMED,
			    &pol, &pol_len, d);
	if (r < 0)
		goto out;
	r = read_state_file(dirfd, state_dir, APPLIANCE_POLICY_SIG, 1024, DIAG_SIGNATURE, &sig,
			    &sig_len, d);
	if (r < 0)
		goto out;
	r = adminkey_verify(a.admin, pol, pol_len, sig, sig_len, d);
	if (r < 0)
		goto out;
	SHA256(pol, pol_len, a.policy_sha256);
	r = policy_parse_canonical((const char *)pol, pol_len, &a.policy, d);
	if (r < 0)
		goto out;
	if (a.policy->seal_pcrs & TPMPOLICY_PCR(EVENTLOG_PCR_LOG)) {
		r = diag_set(d, DIAG_MALFORMED, EBADMSG,
			     "policy: seal_pcrs: PCR %d is sealboot's log-only PCR (docs/pcrs.md)",
			     EVENTLOG_PCR_LOG);
		goto out;
	}
	if (a.policy->n_bundles > APPLIANCE_SLOTS) {
		r = diag_set(d, DIAG_MALFORMED, EBADMSG, "policy names %zu bundles, at most %d",
			     a.policy->n_bundles, APPLIANCE_SLOTS);
		goto out;
	}
	*ret = a;
	memset(&a, 0, sizeof(a));
out:
	appliance_free(&a);
	free(pub);
	free(pol);
	free(sig);
	close(dirfd);
	return r;
}

void appliance_free(struct appliance *a)
{
	policy_free(a->policy);
	EVP_PKEY_free(a->admin);
	memset(a, 0, sizeof(*a));
}

void appliance_nv_encode(const struct appliance_nv *nv, uint8_t out[APPLIANCE_NV_ANCHOR_SIZE])
{
	memcpy(out, nv->admin_digest, 32);
	for (int i = 0; i < APPLIANCE_SLOTS; i++)
		for (int b = 0; b < 8; b++)
			out[32 + 8 * i + b] = (uint8_t)(nv->base[i] >> (56 - 8 * b));
}

void appliance_nv_locked_name(uint8_t out[TPMPOLICY_NAME_SIZE])
{
	tpmpolicy_nv_name(APPLIANCE_NV_ANCHOR,
			  TPMPOLICY_NV_OWNERWRITE | TPMPOLICY_NV_OWNERREAD | TPMPOLICY_NV_AUTHREAD |
			      TPMPOLICY_NV_NO_DA | TPMPOLICY_NV_WRITEDEFINE | TPMPOLICY_NV_WRITTEN |
			      TPMPOLICY_NV_WRITELOCKED,
			  APPLIANCE_NV_ANCHOR_SIZE, out);
}

int appliance_nv_read(struct tpm *t, struct appliance_nv *ret, struct diag *d)
{
	uint8_t buf[APPLIANCE_NV_ANCHOR_SIZE], name[TPMPOLICY_NAME_SIZE], want[TPMPOLICY_NAME_SIZE];
	struct diag nd = {0};
	int r;

	r = tpm_nv_name(t, APPLIANCE_NV_ANCHOR, name, &nd);
	if (r == -ENOENT)
		return diag_set(d, DIAG_TRUST, ENOENT,
				"this TPM holds no sealboot admin key (NV index 0x%08x is "
				"missing): not provisioned, or wiped",
				APPLIANCE_NV_ANCHOR);
	if (r < 0)
		return diag_set(d, nd.cls, -r, "%s", nd.msg);
	/* The Name covers the attributes: a look-alike index that is not
	 * write-locked, or defined differently, has another Name. */
	appliance_nv_locked_name(want);
	if (CRYPTO_memcmp(name, want, sizeof(name)) != 0)
		return diag_set(d, DIAG_TRUST, EKEYREJECTED,
				"NV index 0x%08x is not sealboot's write-locked admin key record",
				APPLIANCE_NV_ANCHOR);
	r = tpm_nv_read(t, APPLIANCE_NV_ANCHOR, buf, sizeof(buf), d);
	if (r < 0)
		return r;
	appliance_nv_decode(buf, ret);
	return 0;
}

void appliance_nv_decode(const uint8_t in[APPLIANCE_NV_ANCHOR_SIZE], struct appliance_nv *ret)
{
	memcpy(ret->admin_digest, in, 32);
	for (int i = 0; i < APPLIANCE_SLOTS; i++) {
		ret->base[i] = 0;
		for (int b = 0; b < 8; b++)
			ret->base[i] = ret->base[i] << 8 | in[32 + 8 * i + b];
	}
}

int appliance_record_write(const char *state_dir, const struct appliance_nv *nv, struct diag *d)
{
	uint8_t rec[APPLIANCE_NV_ANCHOR_SIZE];
	char hex[2 * APPLIANCE_NV_ANCHOR_SIZE + 2];
	int dirfd, r;

	appliance_nv_encode(nv, rec);
	hex_encode(rec, sizeof(rec), hex);
	strcat(hex, "\n");
	dirfd = open_state_dir(state_dir, d);
	if (dirfd < 0)
		return dirfd;
	r = fs_write_atomic_at(dirfd, APPLIANCE_RECORD, hex, strlen(hex), 0644, true);
	close(dirfd);
	if (r < 0)
		return diag_set(d, DIAG_INTERNAL, -r, "cannot write %s/%s: %s", state_dir,
				APPLIANCE_RECORD, strerror(-r));
	return 0;
}

int appliance_record_read(const char *state_dir, struct appliance_nv *ret, struct diag *d)
{
	uint8_t rec[APPLIANCE_NV_ANCHOR_SIZE];
	unsigned char *buf = NULL;
	size_t len = 0;
	int r;

	r = read_state(state_dir, APPLIANCE_RECORD, 1024, DIAG_MALFORMED, &buf, &len, d);
	if (r < 0)
		return r;
	if (len != 2 * sizeof(rec) + 1 || buf[len - 1] != '\n' ||
	    (buf[len - 1] = 0, hex_decode((const char *)buf, rec, sizeof(rec)) < 0))
		r = diag_set(d, DIAG_MALFORMED, EBADMSG, "%s/%s: not %zu bytes in hex", state_dir,
			     APPLIANCE_RECORD, sizeof(rec));
	else
		appliance_nv_decode(rec, ret);
	free(buf);
	return r;
}

int appliance_verify_bundle(const struct appliance *a, size_t i, int64_t at, bool verity_lazy,
			    struct bundle_verified **ret, struct diag *d)
{
	const struct policy *p = a->policy;
	const struct policy_bundle *b = &p->bundles[i];
	struct bundle_verify_opts o = {
	    .ca_pems = (const char *const *)p->release_cas,
	    .n_ca_pems = p->n_release_cas,
	    .at = at,
	    .verity_lazy = verity_lazy,
	};
	struct bundle_verified *v = NULL;
	struct diag bd = {0};
	int r;

	r = bundle_verify(b->path, &o, &v, &bd);
	if (r < 0)
		return diag_set(d, bd.cls, -r, "bundle %s: %s", b->name, bd.msg);
	if (strcmp(v->manifest->name, b->name) != 0)
		r = diag_set(d, DIAG_CONTENT, EBADMSG,
			     "bundle %s: the signed manifest names \"%s\", not \"%s\"", b->name,
			     v->manifest->name, b->name);
	else if (strcmp(v->manifest->appliance_class, p->appliance_class) != 0)
		r = diag_set(d, DIAG_CONTENT, EBADMSG,
			     "bundle %s: signed for appliance class \"%s\", this appliance is "
			     "\"%s\"",
			     b->name, v->manifest->appliance_class, p->appliance_class);
	else if (v->manifest->version < b->min_version)
		r = diag_set(d, DIAG_EXPIRED, EKEYREVOKED,
			     "bundle %s: version %" PRIu64
			     " is below the policy's minimum %" PRIu64,
			     b->name, v->manifest->version, b->min_version);
	if (r < 0) {
		bundle_verified_free(v);
		return r;
	}
	*ret = v;
	return 0;
}

void appliance_policy_event(const struct appliance *a, const struct appliance_nv *nv,
			    char text[EVENTLOG_TEXT_MAX])
{
	uint8_t rec[APPLIANCE_NV_ANCHOR_SIZE], rec_sha256[32];

	appliance_nv_encode(nv, rec);
	SHA256(rec, sizeof(rec), rec_sha256);
	eventlog_text_policy(text, a->policy->serial, a->policy_sha256, a->admin_digest,
			     rec_sha256);
}

int appliance_seal_events(const struct appliance *a, const struct appliance_nv *nv,
			  struct bundle_verified *const *v, struct eventlog *log, struct diag *d)
{
	char text[EVENTLOG_TEXT_MAX];
	int r;

	appliance_policy_event(a, nv, text);
	r = eventlog_add(log, EVENTLOG_PCR_SEAL, text, d);
	for (size_t i = 0; r == 0 && i < a->policy->n_bundles; i++) {
		eventlog_text_authority(text, a->policy->bundles[i].name,
					v[i]->signer.anchor_sha256, a->policy->appliance_class);
		r = eventlog_add(log, EVENTLOG_PCR_SEAL, text, d);
	}
	return r;
}

void appliance_volume_path(const struct appliance *a, size_t i, char *out, size_t size)
{
	const struct policy_volume *v = &a->policy->volumes[i];

	if (v->device)
		snprintf(out, size, "%s", v->device);
	else
		snprintf(out, size, "/dev/disk/by-uuid/%s", v->uuid);
}

int appliance_load_approval(const char *state_dir, struct approval *ret, struct diag *d)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int r;

	r = read_state(state_dir, APPLIANCE_APPROVAL, APPROVAL_MAX_BYTES, DIAG_MALFORMED, &buf,
		       &len, d);
	if (r < 0)
		return r;
	r = approval_parse((const char *)buf, len, ret, d);
	free(buf);
	return r;
}

int appliance_check_approval(const struct appliance *a, const struct approval *ap, struct diag *d)
{
	struct tpm_pcr_approval ta;
	uint8_t ahash[32];
	unsigned char der[80], *p = der;
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(ap->sig_r, 32, NULL), *s = BN_bin2bn(ap->sig_s, 32, NULL);
	EVP_PKEY_CTX *ctx = NULL;
	int len, ok = 0, ret;

	if (ap->mask != a->policy->seal_pcrs) {
		ret = diag_set(d, DIAG_MALFORMED, EBADMSG,
			       "the PCR policy covers other PCRs than the policy's seal_pcrs");
		goto out;
	}
	appliance_tpm_approval(a, ap, &ta);
	ret = tpm_approval_digests(&ta, NULL, ahash, d);
	if (ret < 0)
		goto out;
	if (!sig || !r || !s || !ECDSA_SIG_set0(sig, r, s)) {
		ret = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
		goto out;
	}
	r = s = NULL; /* owned by sig now */
	len = i2d_ECDSA_SIG(sig, &p);
	ctx = EVP_PKEY_CTX_new(a->admin, NULL);
	ok = len > 0 && ctx && EVP_PKEY_verify_init(ctx) == 1 &&
	     EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
	     EVP_PKEY_verify(ctx, der, (size_t)len, ahash, sizeof(ahash)) == 1;
	ERR_clear_error();
	ret = ok ? 0
		 : diag_set(d, DIAG_SIGNATURE, EBADMSG,
			    "the PCR policy (serial %llu) is not signed by the admin key",
			    (unsigned long long)ap->serial);
out:
	EVP_PKEY_CTX_free(ctx);
	ECDSA_SIG_free(sig);
	BN_free(r);
	BN_free(s);
	return ret;
}

void appliance_tpm_approval(const struct appliance *a, const struct approval *ap,
			    struct tpm_pcr_approval *ret)
{
	struct diag ignore = {0};

	memset(ret, 0, sizeof(*ret));
	ret->mask = ap->mask;
	/* The mask was checked when the approval was parsed. */
	(void)tpmpolicy_pcr_digest(ap->mask, &ap->values, ret->pcr_digest, &ignore);
	ret->serial = ap->serial;
	ret->counter = APPLIANCE_NV_PCR;
	ret->key = a->admin_point;
	memcpy(ret->sig_r, ap->sig_r, 32);
	memcpy(ret->sig_s, ap->sig_s, 32);
}
