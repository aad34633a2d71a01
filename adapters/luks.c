/* SPDX-License-Identifier: Apache-2.0 */
#include "luks.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

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

static int open_luks2(const char *path, const char *what, struct crypt_device **ret, struct diag *d)
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
		  const char *uuid, const char *token, char ret_uuid[LUKS_UUID_MAX], struct diag *d)
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
		r = crypt_keyslot_add_by_volume_key(
		    cd, CRYPT_ANY_SLOT, NULL, 0, (const char *)passphrase->data, passphrase->len);
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
		r = crypt_keyslot_add_by_passphrase(cd, CRYPT_ANY_SLOT, (const char *)current->data,
						    current->len, (const char *)key->data,
						    key->len);
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

int luks_format_vk(const char *path, const struct secret *vk, const char *uuid, const char *token,
		   struct diag *d)
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

int luks_add_passphrase(const char *path, const struct secret *vk, const struct secret *passphrase,
			struct diag *d)
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

/* --- zeroize --- */

static int device_size(int fd, uint64_t *ret)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, ret) < 0 ? -errno : 0;
	if (!S_ISREG(st.st_mode))
		return -ENOTBLK;
	*ret = (uint64_t)st.st_size;
	return 0;
}

int luks_header_info(const char *path, struct luks_header_info *ret, struct diag *d)
{
	struct luks_header_info h = {0};
	struct crypt_device *cd = NULL;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(-errno, "reading the header of", path, d);
	r = device_size(fd, &h.device_bytes);
	close(fd);
	if (r < 0)
		return fail(r, "reading the size of", path, d);
	r = init(&cd, path);
	if (r < 0)
		return fail(r, "reading the header of", path, d);
	if (crypt_load(cd, CRYPT_LUKS2, NULL) == 0) {
		uint64_t md = 0, ks = 0;

		h.luks2 = true;
		h.header_bytes = crypt_get_data_offset(cd) * 512;
		if (crypt_get_metadata_size(cd, &md, &ks) == 0 && 2 * md + ks > h.header_bytes)
			h.header_bytes = 2 * md + ks;
		for (int s = 0; s < crypt_keyslot_max(CRYPT_LUKS2); s++)
			if (crypt_keyslot_status(cd, s) >= CRYPT_SLOT_ACTIVE)
				h.keyslots++;
		for (int t = 0; t < 32; t++)
			if (crypt_token_status(cd, t, NULL) != CRYPT_TOKEN_INACTIVE &&
			    crypt_token_status(cd, t, NULL) != CRYPT_TOKEN_INVALID)
				h.tokens++;
		snprintf(h.uuid, sizeof(h.uuid), "%s",
			 crypt_get_uuid(cd) ? crypt_get_uuid(cd) : "");
	} else {
		h.header_bytes = LUKS_HEADER_DEFAULT;
	}
	crypt_free(cd);
	if (h.header_bytes == 0 || h.header_bytes > h.device_bytes)
		h.header_bytes =
		    h.device_bytes < LUKS_HEADER_DEFAULT ? h.device_bytes : LUKS_HEADER_DEFAULT;
	*ret = h;
	return 0;
}

/* Keyslots and tokens, through libcryptsetup, while the header still loads. */
static int destroy_slots(const char *path, const char *dm_name, struct diag *d)
{
	struct crypt_device *cd = NULL;
	int r;

	r = init(&cd, path);
	if (r < 0)
		return fail(r, "erasing", path, d);
	if (dm_name && crypt_status(NULL, dm_name) == CRYPT_ACTIVE) {
		r = crypt_deactivate(NULL, dm_name);
		if (r < 0) {
			crypt_free(cd);
			return diag_set(d, DIAG_INTERNAL, -r,
					"erasing %s: the mapping %s is still open and cannot be "
					"closed (%s)",
					path, dm_name, strerror(-r));
		}
	}
	if (crypt_load(cd, CRYPT_LUKS2, NULL) == 0) {
		for (int s = 0; s < crypt_keyslot_max(CRYPT_LUKS2); s++)
			if (crypt_keyslot_status(cd, s) >= CRYPT_SLOT_ACTIVE &&
			    (r = crypt_keyslot_destroy(cd, s)) < 0)
				break;
		for (int t = 0; r >= 0 && t < 32; t++) {
			crypt_token_info ti = crypt_token_status(cd, t, NULL);

			if (ti != CRYPT_TOKEN_INACTIVE && ti != CRYPT_TOKEN_INVALID)
				r = crypt_token_json_set(cd, t, NULL);
		}
	}
	crypt_free(cd);
	return r < 0 ? fail(r, "destroying the keyslots of", path, d) : 0;
}

int luks_erase(const char *path, uint64_t header_bytes, const char *dm_name, char ret_data[24],
	       struct diag *d)
{
	static const size_t chunk = 1u << 20;
	struct crypt_device *cd = NULL;
	uint64_t size = 0;
	unsigned char *zero;
	int fd, r;

	r = destroy_slots(path, dm_name, d);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(-errno, "erasing", path, d);
	r = device_size(fd, &size);
	zero = calloc(1, chunk);
	if (r == 0 && !zero)
		r = -ENOMEM;
	if (header_bytes > size)
		header_bytes = size;
	for (uint64_t off = 0; r == 0 && off < header_bytes;) {
		size_t n = header_bytes - off < chunk ? (size_t)(header_bytes - off) : chunk;
		ssize_t w = pwrite(fd, zero, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			r = w < 0 ? -errno : -EIO;
		else
			off += (uint64_t)w;
	}
	free(zero);
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return fail(r, "zeroing the header of", path, d);
	}
	/* The data area: ciphertext under a key nothing holds any more;
	 * discarding it is a courtesy to thin storage and SSDs, not the erase. */
	snprintf(ret_data, 24, "not supported");
	if (size > header_bytes) {
		struct stat st;

		if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) {
			uint64_t range[2] = {header_bytes, size - header_bytes};

			if (ioctl(fd, BLKDISCARD, range) == 0)
				snprintf(ret_data, 24, "discarded");
		} else if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				     (off_t)header_bytes, (off_t)(size - header_bytes)) == 0) {
			snprintf(ret_data, 24, "hole punched");
		}
	} else {
		snprintf(ret_data, 24, "none");
	}
	close(fd);
	/* Verified: nothing libcryptsetup would load is left. */
	r = init(&cd, path);
	if (r < 0)
		return fail(r, "checking the erase of", path, d);
	r = crypt_load(cd, CRYPT_LUKS, NULL) == 0 ? -EIO : 0;
	crypt_free(cd);
	if (r < 0)
		return diag_set(d, DIAG_INTERNAL, EIO,
				"erasing %s: a LUKS header is still found after zeroing", path);
	return 0;
}
