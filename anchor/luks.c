/* SPDX-License-Identifier: Apache-2.0 */
#include "luks.h"

#include <errno.h>
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

static int open_luks2(const char *path, const char *what, struct crypt_device **ret,
		      struct diag *d)
{
	struct crypt_device *cd = NULL;
	int r;

	r = crypt_init(&cd, path);
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

int luks_format(const char *path, const struct secret *key, char ret_uuid[LUKS_UUID_MAX],
		struct diag *d)
{
	struct crypt_params_luks2 params = {.sector_size = 512};
	struct crypt_device *cd = NULL;
	int r;

	r = crypt_init(&cd, path);
	if (r < 0)
		return fail(r, "formatting", path, d);
	/* Never format over an existing LUKS volume: that destroys its data. */
	if (crypt_load(cd, CRYPT_LUKS, NULL) == 0) {
		crypt_free(cd);
		return diag_set(d, DIAG_USAGE, EEXIST,
				"formatting %s: it already holds a LUKS volume; refusing", path);
	}
	r = set_cheap_pbkdf(cd);
	if (r == 0)
		r = crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL, 64, &params);
	if (r == 0)
		r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0,
						    (const char *)key->data, key->len);
	if (r < 0) {
		crypt_free(cd);
		return fail(r, "formatting", path, d);
	}
	snprintf(ret_uuid, LUKS_UUID_MAX, "%s", crypt_get_uuid(cd));
	crypt_free(cd);
	return 0;
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
