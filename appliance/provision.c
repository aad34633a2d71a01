/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The security admin's operations on an appliance (provision.h): the TPM's
 * anchor record and counters, a sealed key per volume, the signed PCR
 * policy. Each step is its own function and sets its own failure class.
 */
#include "provision.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adminkey.h"
#include "fsutil.h"
#include "hex.h"
#include "luks.h"
#include "token.h"

/* --- the TPM --- */

/* A counter that exists and has been incremented at least once; its
 * value. Reuses one left by an interrupted provisioning. */
static int ensure_counter(struct tpm *t, uint32_t index, uint64_t *ret, struct diag *d)
{
	struct diag cd = {0};
	int r;

	r = tpm_nv_define(t, index, TPM_NV_COUNTER, 8, &cd);
	if (r < 0 && r != -EEXIST)
		return diag_set(d, cd.cls, -r, "%s", cd.msg);
	memset(&cd, 0, sizeof(cd));
	r = tpm_nv_read_counter(t, index, ret, &cd);
	if (r == -ENODATA) {
		r = tpm_nv_increment(t, index, d);
		if (r == 0)
			r = tpm_nv_read_counter(t, index, ret, d);
	} else if (r < 0) {
		diag_set(d, cd.cls, -r, "%s", cd.msg);
	}
	return r;
}

/* The record, written and locked; then read back, which proves the lock. */
static int write_record(struct tpm *t, struct appliance_nv *nv, struct diag *d)
{
	uint8_t buf[APPLIANCE_NV_ANCHOR_SIZE];
	struct diag nd = {0};
	int r;

	appliance_nv_encode(nv, buf);
	r = tpm_nv_define(t, APPLIANCE_NV_ANCHOR, TPM_NV_DATA, sizeof(buf), &nd);
	if (r < 0 && r != -EEXIST)
		return diag_set(d, nd.cls, -r, "%s", nd.msg);
	r = tpm_nv_write(t, APPLIANCE_NV_ANCHOR, buf, sizeof(buf), d);
	if (r == 0)
		r = tpm_nv_write_lock(t, APPLIANCE_NV_ANCHOR, d);
	if (r == 0)
		r = appliance_nv_read(t, nv, d);
	return r;
}

int provision_tpm(struct tpm *t, const struct appliance *a, bool *ret_fresh, struct diag *d)
{
	struct appliance_nv nv = {0};
	struct diag nd = {0};
	uint64_t pcr_counter;
	char hex[65];
	int r;

	r = appliance_nv_read(t, &nv, &nd);
	if (r == 0) {
		if (CRYPTO_memcmp(nv.admin_digest, a->admin_digest, 32) != 0) {
			hex_encode(nv.admin_digest, 32, hex);
			return diag_set(d, DIAG_TRUST, EEXIST,
					"this TPM is provisioned for another admin key (%s); "
					"zeroize the appliance first",
					hex);
		}
		*ret_fresh = false;
		return 0;
	}
	if (r != -ENOENT)
		return diag_set(d, nd.cls, -r, "%s", nd.msg);

	/* Counters first, the locked record last: until it exists, a rerun
	 * starts over and reuses what is there. */
	r = ensure_counter(t, APPLIANCE_NV_PCR, &pcr_counter, d);
	for (int i = 0; r == 0 && i < APPLIANCE_SLOTS; i++)
		r = ensure_counter(t, APPLIANCE_NV_ROLLBACK + (uint32_t)i, &nv.base[i], d);
	if (r < 0)
		return r;
	memcpy(nv.admin_digest, a->admin_digest, 32);
	r = write_record(t, &nv, d);
	*ret_fresh = true;
	return r;
}

int provision_record(struct tpm *t, const char *dir, struct diag *d)
{
	struct appliance_nv nv;
	int r = appliance_nv_read(t, &nv, d);

	if (r == 0)
		r = appliance_record_write(dir, &nv, d);
	return r;
}

/* --- volumes --- */

const char *provision_unknown_volume(const struct appliance *a, const char *const *format,
				     size_t n_format)
{
	for (size_t i = 0; i < n_format; i++) {
		bool known = false;

		for (size_t j = 0; j < a->policy->n_volumes; j++)
			known = known || !strcmp(format[i], a->policy->volumes[j].name);
		if (!known)
			return format[i];
	}
	return NULL;
}

/* Is the volume at path ready for what was asked? 1 when it already
 * carries a sealboot token (nothing to do), 0 when it may go on. */
static int check_volume(const struct policy_volume *pv, const char *path, bool format,
			const struct secret *current, struct diag *d)
{
	char uuid[LUKS_UUID_MAX];
	struct diag ud = {0};
	int r = luks_uuid(path, uuid, &ud);

	if (r == -EINVAL) {
		if (!format)
			return diag_set(d, DIAG_USAGE, EINVAL,
					"volume %s: %s is not LUKS2; give --format %s to make it a "
					"new volume (this destroys what it holds)",
					pv->name, path, pv->name);
		return 0;
	}
	if (r < 0)
		return diag_set(d, ud.cls, -r, "%s", ud.msg);
	if (strcmp(uuid, pv->uuid) != 0)
		return diag_set(d, DIAG_CONTENT, EBADE,
				"volume %s: %s has UUID %s, the policy names %s", pv->name, path,
				uuid, pv->uuid);
	{
		char *existing = NULL;
		struct diag td = {0};

		if (luks_token_find(path, TOKEN_TYPE, &existing, &td) >= 0) {
			free(existing);
			return 1;
		}
	}
	if (format)
		return diag_set(d, DIAG_USAGE, EEXIST,
				"volume %s: %s is already LUKS2; refusing to format it "
				"(enroll it with --passphrase-fd instead)",
				pv->name, path);
	if (!current)
		return diag_set(d, DIAG_USAGE, EINVAL,
				"volume %s: %s is LUKS2 without a sealboot key; give "
				"--passphrase-fd with its current passphrase to enroll it",
				pv->name, path);
	return 0;
}

/* The policy a volume key is sealed to: PolicyAuthorize(admin key), so any
 * PCR policy the admin signs later releases it, nothing else does. */
static int volume_policy(const struct appliance *a, uint8_t policy[TPMPOLICY_DIGEST_SIZE],
			 struct diag *d)
{
	uint8_t name[TPMPOLICY_NAME_SIZE];
	int r = tpm_admin_key_name(&a->admin_point, name, d);

	if (r < 0)
		return r;
	tpmpolicy_init(policy);
	return tpmpolicy_policy_authorize(policy, name, sizeof(name), NULL, 0, d);
}

/* The volume key itself is sealed (luks.h): a new random one for a volume
 * we format, the existing one (through its passphrase) for a volume we
 * enroll. */
static int volume_key(const char *path, bool format, const struct secret *current,
		      struct secret **ret, struct diag *d)
{
	struct secret *key = NULL;
	int r;

	if (!format)
		return luks_volume_key(path, current, ret, d);
	r = secret_new(64, &key);
	if (r < 0)
		return diag_set(d, DIAG_INTERNAL, -r, "cannot lock memory for a key");
	if (RAND_priv_bytes(key->data, key->len) != 1) {
		secret_free(key);
		return diag_set(d, DIAG_INTERNAL, EIO, "no randomness");
	}
	*ret = key;
	return 0;
}

int provision_volume(struct tpm *t, const struct appliance *a, size_t i, bool format,
		     const struct secret *current, const struct secret *recovery,
		     enum provision_volume_outcome *ret, struct diag *d)
{
	const struct policy_volume *pv = &a->policy->volumes[i];
	char path[POLICY_PATH_MAX + 32], *json = NULL;
	uint8_t policy[TPMPOLICY_DIGEST_SIZE];
	struct secret *key = NULL;
	struct tpm_sealed sealed;
	int r;

	appliance_volume_path(a, i, path, sizeof(path));
	r = check_volume(pv, path, format, current, d);
	if (r == 1)
		*ret = PROVISION_VOLUME_KEPT;
	if (r != 0)
		return r < 0 ? r : 0;
	r = volume_policy(a, policy, d);
	if (r == 0)
		r = volume_key(path, format, current, &key, d);
	/* Nothing is written to the volume before the TPM has sealed it. */
	if (r == 0)
		r = tpm_seal(t, policy, key, &sealed, d);
	if (r == 0 && token_to_json(&sealed, &json) < 0)
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	/* A new volume gets its token with its header; an enrolled one now. */
	if (r == 0)
		r = format ? luks_format_vk(path, key, pv->uuid, json, d)
			   : luks_token_add(path, json, -1, d);
	if (r == 0 && recovery) {
		r = luks_add_passphrase(path, key, recovery, d);
		r = r < 0 ? r : 0;
	}
	if (r == 0)
		*ret = format ? PROVISION_VOLUME_FORMATTED : PROVISION_VOLUME_ENROLLED;
	free(json);
	secret_free(key);
	return r;
}

/* --- the signed PCR policy --- */

/* The sealing PCR's value on a good boot: replayed from what the anchor
 * will measure (the policy, its bundles and the NV record). */
static int predict_seal_pcr(const struct provision_approval_opts *o, struct tpm *t,
			    const struct appliance *a, const char *dir, struct approval *ap,
			    struct diag *d)
{
	struct bundle_verified *v[APPLIANCE_SLOTS] = {0};
	struct eventlog *log = calloc(1, sizeof(*log));
	struct tpmpolicy_pcr_values predicted;
	struct appliance_nv nv;
	int r = 0;

	if (!log)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && i < a->policy->n_bundles; i++)
		r = appliance_verify_bundle(a, i, o->at, false, &v[i], d);
	/* The NV record as this TPM holds it, or the copy provisioning left. */
	if (r == 0)
		r = t ? appliance_nv_read(t, &nv, d) : appliance_record_read(dir, &nv, d);
	if (r == 0 && CRYPTO_memcmp(nv.admin_digest, a->admin_digest, 32) != 0)
		r = diag_set(d, DIAG_TRUST, EKEYREJECTED,
			     "the appliance's NV record names another admin key");
	if (r == 0)
		r = appliance_seal_events(a, &nv, v, log, d);
	if (r == 0) {
		eventlog_replay(log, &predicted);
		memcpy(ap->values.v[EVENTLOG_PCR_SEAL], predicted.v[EVENTLOG_PCR_SEAL], 32);
	}
	for (size_t i = 0; i < APPLIANCE_SLOTS; i++)
		bundle_verified_free(v[i]);
	free(log);
	return r;
}

/* The other sealed PCRs: given, else predicted from the boot artifacts,
 * else read from the TPM. */
static int other_pcrs(const struct provision_approval_opts *o, struct tpm *t, struct approval *ap,
		      tpmpolicy_pcr_mask_t *ret_predicted_boot, struct diag *d)
{
	tpmpolicy_pcr_mask_t need = ap->mask & ~TPMPOLICY_PCR(EVENTLOG_PCR_SEAL) & ~o->pcr_given;
	struct tpmpolicy_pcr_values now = {0};
	int r;

	*ret_predicted_boot = 0;
	if (need && o->boot && bootpredict_given(o->boot)) {
		struct bootpredict_result br;

		r = bootpredict_run(o->boot, need, &br, d);
		if (r < 0)
			return r;
		for (unsigned i = 0; i < TPMPOLICY_PCR_COUNT; i++)
			if (need & TPMPOLICY_PCR(i))
				memcpy(now.v[i], br.pcrs.v[i], 32);
		*ret_predicted_boot = need;
		need = 0;
	}
	if (need && !t)
		return diag_set(d, DIAG_USAGE, EINVAL,
				"PCR %d has no value: give --pcr %d=HEX, or --from-tpm on the "
				"appliance",
				__builtin_ctz(need), __builtin_ctz(need));
	if (need) {
		r = tpm_pcr_read(t, need, &now, d);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < TPMPOLICY_PCR_COUNT; i++) {
		if (i == EVENTLOG_PCR_SEAL || !(ap->mask & TPMPOLICY_PCR(i)))
			continue;
		memcpy(ap->values.v[i], (o->pcr_given & TPMPOLICY_PCR(i)) ? o->pcr->v[i] : now.v[i],
		       32);
	}
	return 0;
}

/* Sign the approval's aHash with the admin key and write it to dir. */
static int sign_and_write(const struct appliance *a, struct approval *ap, EVP_PKEY *key,
			  const char *dir, struct diag *d)
{
	struct tpm_pcr_approval ta;
	uint8_t ahash[32];
	char *json = NULL;
	size_t len = 0;
	int dirfd, r;

	appliance_tpm_approval(a, ap, &ta);
	r = tpm_approval_digests(&ta, NULL, ahash, d);
	if (r == 0)
		r = adminkey_sign_digest(key, ahash, ap->sig_r, ap->sig_s, d);
	if (r < 0)
		return r;
	r = approval_serialize(ap, &json, &len);
	if (r < 0)
		return diag_set(d, DIAG_INTERNAL, -r, "out of memory");
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		r = diag_set(d, DIAG_USAGE, errno, "cannot open directory %s: %s", dir,
			     strerror(errno));
	else
		r = fs_write_atomic_at(dirfd, APPLIANCE_APPROVAL, json, len, 0644, true);
	if (dirfd >= 0 && r < 0)
		diag_set(d, DIAG_INTERNAL, -r, "cannot write %s/%s: %s", dir, APPLIANCE_APPROVAL,
			 strerror(-r));
	if (dirfd >= 0)
		close(dirfd);
	free(json);
	return r;
}

int provision_sign_approval(const struct provision_approval_opts *o, struct tpm *t,
			    const struct appliance *a, EVP_PKEY *key, uint64_t serial,
			    const char *dir, tpmpolicy_pcr_mask_t *ret_predicted_boot,
			    struct diag *d)
{
	struct approval ap = {.serial = serial, .mask = a->policy->seal_pcrs};
	tpmpolicy_pcr_mask_t predicted_boot = 0;
	int r = 0;

	if (ap.mask & TPMPOLICY_PCR(EVENTLOG_PCR_LOG))
		r = diag_set(d, DIAG_USAGE, EINVAL,
			     "the policy seals to PCR %d, which is log-only (docs/pcrs.md)",
			     EVENTLOG_PCR_LOG);
	if (r == 0)
		r = predict_seal_pcr(o, t, a, dir, &ap, d);
	if (r == 0)
		r = other_pcrs(o, t, &ap, &predicted_boot, d);
	if (r == 0)
		r = sign_and_write(a, &ap, key, dir, d);
	if (r == 0 && ret_predicted_boot)
		*ret_predicted_boot = predicted_boot;
	return r;
}
