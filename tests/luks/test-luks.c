/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LUKS2 adapter against real libcryptsetup on file-backed volumes (no
 * device-mapper needed: keys are checked, nothing is activated). Format,
 * check the key, refuse a wrong key, refuse to format over a volume (and
 * the volume still opens), enroll a key next to an existing passphrase,
 * refuse a destroyed header.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "luks.h"

static struct secret *mk(const void *bytes, size_t n)
{
	struct secret *s = NULL;

	if (secret_new(n, &s) < 0) {
		printf("FAIL: cannot lock memory\n");
		exit(1);
	}
	if (bytes)
		memcpy(s->data, bytes, n);
	else if (RAND_bytes(s->data, (int)n) != 1)
		exit(1);
	return s;
}

static void make_file(const char *path, off_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, size) < 0) {
		printf("FAIL: cannot make %s\n", path);
		exit(1);
	}
	close(fd);
}

int main(void)
{
	char dir[] = "/tmp/sealboot-luks.XXXXXX", vol[128], vol2[128], cmd[256];
	char uuid[LUKS_UUID_MAX] = "", uuid2[LUKS_UUID_MAX] = "";
	struct secret *key = mk(NULL, 32), *other = mk(NULL, 32);
	struct secret *old = mk("old passphrase", 14);
	struct diag d = {0};
	int r;

	if (!mkdtemp(dir))
		return 1;
	snprintf(vol, sizeof(vol), "%s/vol.img", dir);
	snprintf(vol2, sizeof(vol2), "%s/vol2.img", dir);
	make_file(vol, 32 << 20);

	r = luks_format(vol, key, uuid, &d);
	CHECK(r == 0 && strlen(uuid) == 36, "format: %d %s", r, d.msg);
	memset(&d, 0, sizeof(d));
	CHECK(luks_uuid(vol, uuid2, &d) == 0 && !strcmp(uuid, uuid2), "uuid: %s", d.msg);
	memset(&d, 0, sizeof(d));
	r = luks_check_key(vol, key, &d);
	CHECK(r == 0, "the key does not open slot 0: %d %s", r, d.msg);

	memset(&d, 0, sizeof(d));
	r = luks_check_key(vol, other, &d);
	CHECK(r == -EPERM && strstr(d.msg, "no keyslot opens"), "wrong key: %d %s", r, d.msg);

	/* Formatting over a volume is refused and destroys nothing. */
	memset(&d, 0, sizeof(d));
	r = luks_format(vol, other, uuid2, &d);
	CHECK(r == -EEXIST && strstr(d.msg, "refusing"), "format over a volume: %d %s", r, d.msg);
	memset(&d, 0, sizeof(d));
	CHECK(luks_check_key(vol, key, &d) == 0, "the volume no longer opens: %s", d.msg);

	/* Enroll next to an existing passphrase. */
	make_file(vol2, 32 << 20);
	memset(&d, 0, sizeof(d));
	CHECK(luks_format(vol2, old, uuid2, &d) == 0, "format 2: %s", d.msg);
	memset(&d, 0, sizeof(d));
	r = luks_enroll(vol2, other, key, &d);
	CHECK(r == -EPERM, "enroll with a wrong passphrase: %d %s", r, d.msg);
	memset(&d, 0, sizeof(d));
	r = luks_enroll(vol2, old, key, &d);
	CHECK(r == 1, "enroll: %d %s", r, d.msg);
	memset(&d, 0, sizeof(d));
	CHECK(luks_check_key(vol2, key, &d) == 1, "enrolled key: %s", d.msg);
	CHECK(luks_check_key(vol2, old, &d) == 0, "old passphrase: %s", d.msg);

	/* A destroyed header (both binary headers and the keyslot area). */
	snprintf(cmd, sizeof(cmd),
		 "dd if=/dev/zero of='%s' bs=64K count=1 conv=notrunc status=none", vol2);
	CHECK(system(cmd) == 0, "dd");
	memset(&d, 0, sizeof(d));
	r = luks_check_key(vol2, key, &d);
	CHECK(r == -EINVAL && strstr(d.msg, "not a valid LUKS2"), "destroyed header: %d %s", r,
	      d.msg);

	/* Not there at all. */
	memset(&d, 0, sizeof(d));
	r = luks_check_key("/nonexistent/vol.img", key, &d);
	CHECK(r < 0 && strstr(d.msg, "/nonexistent/vol.img"), "missing: %d %s", r, d.msg);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		check_failures++;
	secret_free(key);
	secret_free(other);
	secret_free(old);
	return CHECK_RESULT("luks");
}
