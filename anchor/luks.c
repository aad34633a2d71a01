/* SPDX-License-Identifier: Apache-2.0 */
#include "luks.h"

#include <errno.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>

static int fail(int r, const char *what, const char *path, struct diag *d)
{
	switch (r) {
	case -EPERM:
		return diag_set(d, DIAG_INTERNAL, EPERM, "%s %s: no keyslot opens with this key",
				what, path);
	case -ENOENT:
		return diag_set(d, DIAG_INTERNAL, ENOENT, "%s %s: no such device or file", what,
				path);
	case -EINVAL:
		return diag_set(d, DIAG_INTERNAL, EINVAL, "%s %s: not a valid LUKS2 volume", what,
				path);
	default:
		return diag_set(d, DIAG_INTERNAL, r < 0 ? -r : EIO, "%s %s: %s", what, path,
				strerror(r < 0 ? -r : EIO));
	}
}

/* libcryptsetup prints its own errors on stderr by default; sealboot reports
 * each failure once, in one line, from the return code. */
static void quiet_log(int level, const char *msg, void *usrptr)
{
	(void)level;
	(void)msg;
	(void)usrptr;
}

static int init(struct crypt_device **cd, const char *path)
{
	crypt_set_log_callback(NULL, quiet_log, NULL);
	return crypt_init(cd, path);
}

static int open_luks2(const char *path, const char *what, struct crypt_device **ret,
		      struct diag *d)
{
	struct crypt_device *cd = NULL;
	int r;

	r = init(&cd, path);
	if (r < 0)
		return fail(r, what, path, d);
	r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r < 0) {
		crypt_free(cd);
		return fail(-EINVAL, what, path, d);
	}
	*ret = cd;
	return 0;
}

/* Minimum-cost PBKDF2 for full-entropy keys (see luks.h). */
static int set_cheap_pbkdf(struct crypt_device *cd)
{
	const struct crypt_pbkdf_type pbkdf = {
		.type = CRYPT_KDF_PBKDF2,
		.hash = "sha256",
		.iterations = 1000,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};

	return crypt_set_pbkdf_type(cd, &pbkdf);
}

/* Format path as LUKS2, AES-XTS: with a random volume key and one keyslot
 * for passphrase, or (vk given) with that volume key and no keyslot. Never
 * over an existing LUKS volume: that destroys its data. */
static int format(const char *path, const struct secret *passphrase, const struct secret *vk,
		  const char *uuid, const char *token, char ret_uuid[LUKS_UUID_MAX],
		  struct diag *d)
{
	struct crypt_params_luks2 params = {.sector_size = 512};
	struct crypt_device *cd = NULL;
	int r;

	r = init(&cd, path);
	if (r < 0)
		return fail(r, "formatting", path, d);
	if (crypt_load(cd, CRYPT_LUKS, NULL) == 0) {
		crypt_free(cd);
		return diag_set(d, DIAG_USAGE, EEXIST,
				"formatting %s: it already holds a LUKS volume; refusing", path);
	}
	r = set_cheap_pbkdf(cd);
	if (r == 0)
		r = crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", uuid,
				 vk ? (const char *)vk->data : NULL, vk ? vk->len : 64, &params);
	if (r == 0 && passphrase)
		r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0,
						    (const char *)passphrase->data,
						    passphrase->len);
	/* The token in the same session, right after the header: a crash in
	 * between leaves a header nothing opens (no keyslot, no token), which
	 * provision then refuses to format over (it cannot tell it from a
	 * volume whose token was removed); it must be wiped by hand. */
	if (r == 0 && token) {
		r = crypt_token_json_set(cd, CRYPT_ANY_TOKEN, token);
		r = r < 0 ? r : 0;
	}
	if (r == 0 && ret_uuid)
		snprintf(ret_uuid, LUKS_UUID_MAX, "%s", crypt_get_uuid(cd));
	crypt_free(cd);
	return r < 0 ? fail(r, "formatting", path, d) : 0;
}

int luks_format(const char *path, const struct secret *key, char ret_uuid[LUKS_UUID_MAX],
		struct diag *d)
{
	return format(path, key, NULL, NULL, NULL, ret_uuid, d);
}


int luks_enroll(const char *path, const struct secret *current, const struct secret *key,
		struct diag *d)
{
	struct crypt_device *cd = NULL;
	int r;

	r = open_luks2(path, "enrolling a key in", &cd, d);
	if (r < 0)
		return r;
	r = set_cheap_pbkdf(cd);
	if (r == 0)
		r = crypt_keyslot_add_by_passphrase(cd, CRYPT_ANY_SLOT,
						    (const char *)current->data, current->len,
						    (const char *)key->data, key->len);
	crypt_free(cd);
	return r < 0 ? fail(r, "enrolling a key in", path, d) : r;
}

int luks_check_key(const char *path, const struct secret *key, struct diag *d)
{
	struct crypt_device *cd = NULL;
	int r;

	r = open_luks2(path, "checking a key for", &cd, d);
	if (r < 0)
		return r;
	/* A NULL name verifies the passphrase against the keyslots without
	 * creating a device-mapper device. */
	r = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, (const char *)key->data,
					 key->len, 0);
	crypt_free(cd);
	return r < 0 ? fail(r, "checking a key for", path, d) : r;
}

int luks_uuid(const char *path, char ret_uuid[LUKS_UUID_MAX], struct diag *d)
{
	struct crypt_device *cd = NULL;
	int r;

	r = open_luks2(path, "reading", &cd, d);
	if (r < 0)
		return r;
	snprintf(ret_uuid, LUKS_UUID_MAX, "%s", crypt_get_uuid(cd));
	crypt_free(cd);
	return 0;
}

int luks_token_add(const char *path, const char *json, int keyslot, struct diag *d)
{
	struct crypt_device *cd = NULL;
	int r, token;

	r = open_luks2(path, "adding a token to", &cd, d);
	if (r < 0)
		return r;
	token = crypt_token_json_set(cd, CRYPT_ANY_TOKEN, json);
	if (token < 0) {
		crypt_free(cd);
		return fail(token, "adding a token to", path, d);
	}
	r = keyslot < 0 ? 0 : crypt_token_assign_keyslot(cd, token, keyslot);
	if (r < 0) {
		(void)crypt_token_json_set(cd, token, NULL);
		crypt_free(cd);
		return fail(r, "assigning the token to its keyslot on", path, d);
	}
	crypt_free(cd);
	return token;
}

int luks_token_find(const char *path, const char *type, char **ret_json, struct diag *d)
{
	struct crypt_device *cd = NULL;
	const char *json = NULL, *got_type = NULL;
	int r;

	r = open_luks2(path, "reading the tokens of", &cd, d);
	if (r < 0)
		return r;
	for (int id = 0; id < 32; id++) {
		if (crypt_token_status(cd, id, &got_type) == CRYPT_TOKEN_INACTIVE || !got_type ||
		    strcmp(got_type, type) != 0)
			continue;
		r = crypt_token_json_get(cd, id, &json);
		if (r < 0)
			break;
		*ret_json = strdup(json);
		crypt_free(cd);
		if (!*ret_json)
			return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
		return id;
	}
	crypt_free(cd);
	return diag_set(d, DIAG_MALFORMED, ENOENT, "%s holds no %s token", path, type);
}

bool luks_have_dm(void)
{
	/* /dev/mapper/control can exist on a kernel without device-mapper;
	 * the kernel lists the driver in /proc/devices only when it is there. */
	char line[128];
	bool found = false;
	FILE *f;

	if (access("/dev/mapper/control", R_OK | W_OK) != 0)
		return false;
	f = fopen("/proc/devices", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " device-mapper\n") != NULL;
	fclose(f);
	return found;
}

/* HMAC-SHA256 keyed with the volume key over label, NUL, UUID. */
static int identity_of(const struct secret *vk, const char *uuid, uint8_t out[32])
{
	static const char label[] = "sealboot volume identity";
	unsigned char msg[sizeof(label) + LUKS_UUID_MAX];
	size_t ulen = strnlen(uuid, LUKS_UUID_MAX - 1), md_len = 0;

	memcpy(msg, label, sizeof(label));
	memcpy(msg + sizeof(label), uuid, ulen);
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, vk->data, vk->len, msg,
		       sizeof(label) + ulen, out, 32, &md_len) ||
	    md_len != 32)
		return -EIO;
	return 0;
}

int luks_unlock(const char *path, const struct secret *vk, const char *name,
		uint8_t ret_identity[32], struct diag *d)
{
	const char *what = name ? "opening" : "checking the volume key of";
	struct crypt_device *cd = NULL;
	char uuid[LUKS_UUID_MAX];
	int r;

	r = open_luks2(path, what, &cd, d);
	if (r < 0)
		return r;
	snprintf(uuid, sizeof(uuid), "%s", crypt_get_uuid(cd) ? crypt_get_uuid(cd) : "");
	/* With a NULL name libcryptsetup only checks the key against the
	 * header's digest: no keyslot, no anti-forensic merge, no mapping. */
	r = crypt_activate_by_volume_key(cd, name, (const char *)vk->data, vk->len, 0);
	crypt_free(cd);
	if (r == -EPERM)
		return diag_set(d, DIAG_INTERNAL, EPERM, "%s %s: it is not this volume's key", what,
				path);
	if (r < 0)
		return fail(r, what, path, d);
	/* The identity: only the real volume yields it; a look-alike with the
	 * same UUID and another key does not. */
	if (identity_of(vk, uuid, ret_identity) < 0)
		return diag_set(d, DIAG_INTERNAL, EIO, "computing the identity of %s", path);
	return 0;
}

int luks_format_vk(const char *path, const struct secret *vk, const char *uuid,
		   const char *token, struct diag *d)
{
	return format(path, NULL, vk, uuid, token, NULL, d);
}

int luks_volume_key(const char *path, const struct secret *passphrase, struct secret **ret,
		    struct diag *d)
{
	struct crypt_device *cd = NULL;
	struct secret *vk = NULL;
	size_t len;
	int r;

	r = open_luks2(path, "reading the volume key of", &cd, d);
	if (r < 0)
		return r;
	len = (size_t)crypt_get_volume_key_size(cd);
	r = secret_new(len ? len : 64, &vk);
	if (r < 0) {
		crypt_free(cd);
		return diag_set(d, DIAG_INTERNAL, -r, "cannot lock memory for the volume key");
	}
	r = crypt_volume_key_get(cd, CRYPT_ANY_SLOT, (char *)vk->data, &len,
				 (const char *)passphrase->data, passphrase->len);
	crypt_free(cd);
	if (r < 0) {
		secret_free(vk);
		return fail(r, "reading the volume key of", path, d);
	}
	vk->len = len;
	*ret = vk;
	return 0;
}

int luks_add_passphrase(const char *path, const struct secret *vk,
			const struct secret *passphrase, struct diag *d)
{
	struct crypt_device *cd = NULL;
	int r;

	r = open_luks2(path, "adding a passphrase to", &cd, d);
	if (r < 0)
		return r;
	r = set_cheap_pbkdf(cd);
	if (r == 0)
		r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, (const char *)vk->data,
						    vk->len, (const char *)passphrase->data,
						    passphrase->len);
	crypt_free(cd);
	return r < 0 ? fail(r, "adding a passphrase to", path, d) : r;
}
