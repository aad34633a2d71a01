/* SPDX-License-Identifier: Apache-2.0 */
#include "zeroize.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "adminkey.h"
#include "appliance.h"
#include "attest.h"
#include "config.h"
#include "fsutil.h"
#include "jsonout.h"
#include "hex.h"
#include "jsonfield.h"
#include "luks.h"
#include "tpm.h"
#include "zeroize-order.h"

#define JOURNAL_FORMAT "sealboot-zeroize-journal"
#define RECEIPT_FORMAT "sealboot-zeroize-receipt"
#define JOURNAL_MAX (64u * 1024u)
#define NAME_HEX (ZORDER_NAME_HEX + 1)
#define LAUNCHER_EXIT_NOT_RUNNING 7
#define ZEROIZED_VERDICT 12 /* ANCHOR_ZEROIZED, boot.h */

struct jvol {
	char name[POLICY_DM_NAME_MAX + 1];
	char uuid[LUKS_UUID_MAX];
	char device[POLICY_PATH_MAX + 32];
	uint64_t header_bytes;
	bool present, luks2;
	unsigned keyslots, tokens;
	char data[24]; /* what happened to the data area, once erased */
};

/* The journal (docs/formats/zeroize.md, section 4): all the wipe needs to
 * finish without the policy, nothing secret. */
struct journal {
	char order_sha256[65];
	char appliance_id[NAME_HEX];
	uint64_t counter;
	char storage_name[NAME_HEX];
	bool clear_tpm;
	unsigned done;
	size_t n_vol;
	struct jvol vol[POLICY_MAX_VOLUMES];
	size_t n_files;
	char files[POLICY_MAX_BUNDLES][POLICY_PATH_MAX + 1];
	char guests[24];
	char storage_after[NAME_HEX];
	unsigned files_removed;
};

struct zctx {
	const struct zeroize_opts *o;
	struct zeroize_result *res;
	struct tpm *tpm;
	struct journal j;
};

static int zfail(struct zctx *z, enum zeroize_exit code, int r)
{
	if (z->res->code == ZEROIZE_OK)
		z->res->code = code;
	if (!z->res->d.msg[0])
		diag_set(&z->res->d, DIAG_INTERNAL, r < 0 ? -r : EIO, "%s",
			 strerror(r < 0 ? -r : EIO));
	return r < 0 ? r : -EIO;
}

static void say(struct zctx *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct zctx *z, const char *fmt, ...)
{
	va_list ap;

	if (z->o->quiet)
		return;
	va_start(ap, fmt);
	fputs("sealboot-anchor: zeroize: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void path_in(char *out, size_t size, const char *dir, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

bool zeroize_pending(const char *state_dir)
{
	char p[PATH_MAX];
	struct stat st;

	path_in(p, sizeof(p), state_dir, APPLIANCE_ZEROIZE_JOURNAL);
	return lstat(p, &st) == 0;
}

bool zeroize_done(const char *state_dir)
{
	char p[PATH_MAX], q[PATH_MAX];
	struct stat st;

	path_in(p, sizeof(p), state_dir, APPLIANCE_ZEROIZE_RECEIPT);
	path_in(q, sizeof(q), state_dir, APPLIANCE_POLICY);
	return lstat(p, &st) == 0 && lstat(q, &st) < 0 && errno == ENOENT &&
	       !zeroize_pending(state_dir);
}

void zeroize_result_free(struct zeroize_result *res)
{
	free(res->receipt);
	res->receipt = NULL;
}

/* --- the journal --- */

static unsigned last_step(const struct journal *j)
{
	return 5 + (unsigned)j->n_vol;
}

static json_object *jstr(const char *s)
{
	return json_object_new_string(s);
}

static int journal_write(struct zctx *z)
{
	const struct journal *j = &z->j;
	json_object *o = json_object_new_object(), *vols = json_object_new_array(),
		    *files = json_object_new_array();
	const char *text;
	int dirfd, r;

	json_object_object_add(o, "format", jstr(JOURNAL_FORMAT));
	json_object_object_add(o, "format_version", json_object_new_int(1));
	json_object_object_add(o, "order_sha256", jstr(j->order_sha256));
	json_object_object_add(o, "appliance_id", jstr(j->appliance_id));
	json_object_object_add(o, "counter", json_object_new_uint64(j->counter));
	json_object_object_add(o, "storage_name", jstr(j->storage_name));
	json_object_object_add(o, "clear_tpm", json_object_new_boolean(j->clear_tpm));
	json_object_object_add(o, "done", json_object_new_int((int)j->done));
	for (size_t i = 0; i < j->n_vol; i++) {
		const struct jvol *v = &j->vol[i];
		json_object *vo = json_object_new_object();

		json_object_object_add(vo, "name", jstr(v->name));
		json_object_object_add(vo, "uuid", jstr(v->uuid));
		json_object_object_add(vo, "device", jstr(v->device));
		json_object_object_add(vo, "present", json_object_new_boolean(v->present));
		json_object_object_add(vo, "luks2", json_object_new_boolean(v->luks2));
		json_object_object_add(vo, "header_bytes", json_object_new_uint64(v->header_bytes));
		json_object_object_add(vo, "keyslots", json_object_new_int((int)v->keyslots));
		json_object_object_add(vo, "tokens", json_object_new_int((int)v->tokens));
		json_object_object_add(vo, "data", jstr(v->data));
		json_object_array_add(vols, vo);
	}
	json_object_object_add(o, "volumes", vols);
	for (size_t i = 0; i < j->n_files; i++)
		json_object_array_add(files, jstr(j->files[i]));
	json_object_object_add(o, "files", files);
	json_object_object_add(o, "guests", jstr(j->guests));
	json_object_object_add(o, "storage_after", jstr(j->storage_after));
	json_object_object_add(o, "files_removed", json_object_new_int((int)j->files_removed));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	dirfd = open(z->o->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = dirfd < 0 ? -errno
		      : fs_write_atomic_at(dirfd, APPLIANCE_ZEROIZE_JOURNAL, text, strlen(text),
					   0600, true);
	if (dirfd >= 0)
		close(dirfd);
	json_object_put(o);
	if (r < 0) {
		diag_set(&z->res->d, DIAG_INTERNAL, -r, "cannot write %s/%s: %s", z->o->state_dir,
			 APPLIANCE_ZEROIZE_JOURNAL, strerror(-r));
		return zfail(z, ZEROIZE_INTERNAL, r);
	}
	return 0;
}

static int jstring(json_object *o, const char *key, char *out, size_t size, const char *where,
		   struct diag *d)
{
	json_object *v;
	int r = jf_get(o, key, json_type_string, "zeroize journal", where, &v, d);

	if (r < 0)
		return r;
	if ((size_t)json_object_get_string_len(v) >= size)
		return jf_fail(d, EBADMSG, "zeroize journal", "%s: too long", key);
	snprintf(out, size, "%s", json_object_get_string(v));
	return 0;
}

static int jbool(json_object *o, const char *key, bool *out, const char *where, struct diag *d)
{
	json_object *v;
	int r = jf_get(o, key, json_type_boolean, "zeroize journal", where, &v, d);

	if (r == 0)
		*out = json_object_get_boolean(v);
	return r;
}

static int jcount(json_object *o, const char *key, unsigned *out, const char *where, struct diag *d)
{
	uint64_t v;
	int r = jf_u64(o, key, "zeroize journal", where, &v, d);

	if (r == 0 && v > 1000)
		r = jf_fail(d, EBADMSG, "zeroize journal", "%s: out of range", key);
	if (r == 0)
		*out = (unsigned)v;
	return r;
}

static int journal_parse(const char *buf, size_t len, struct journal *j, struct diag *d)
{
	static const char *const members[] = {"format",	       "format_version",
					      "order_sha256",  "appliance_id",
					      "counter",       "storage_name",
					      "clear_tpm",     "done",
					      "volumes",       "files",
					      "guests",	       "storage_after",
					      "files_removed", NULL};
	static const char *const vmembers[] = {
	    "name",	    "uuid",	"device", "present", "luks2",
	    "header_bytes", "keyslots", "tokens", "data",    NULL};
	static const char *doc = "zeroize journal";
	json_object *o = NULL, *arr, *files;
	uint64_t version = 0;
	int r;

	memset(j, 0, sizeof(*j));
	r = jf_parse(buf, len, 4, doc, &o, d);
	if (r < 0)
		return r;
	if ((r = jf_only(o, members, doc, "", d)) == 0 &&
	    (r = jf_str_eq(o, "format", JOURNAL_FORMAT, doc, "", d)) == 0 &&
	    (r = jf_u64(o, "format_version", doc, "", &version, d)) == 0 && version != 1)
		r = jf_fail(d, EBADMSG, doc, "format_version %" PRIu64 " is not supported",
			    version);
	if (r == 0 &&
	    (r = jstring(o, "order_sha256", j->order_sha256, sizeof(j->order_sha256), "", d)) ==
		0 &&
	    (r = jstring(o, "appliance_id", j->appliance_id, sizeof(j->appliance_id), "", d)) ==
		0 &&
	    (r = jf_u64(o, "counter", doc, "", &j->counter, d)) == 0 &&
	    (r = jstring(o, "storage_name", j->storage_name, sizeof(j->storage_name), "", d)) ==
		0 &&
	    (r = jbool(o, "clear_tpm", &j->clear_tpm, "", d)) == 0 &&
	    (r = jcount(o, "done", &j->done, "", d)) == 0 &&
	    (r = jstring(o, "guests", j->guests, sizeof(j->guests), "", d)) == 0 &&
	    (r = jstring(o, "storage_after", j->storage_after, sizeof(j->storage_after), "", d)) ==
		0 &&
	    (r = jcount(o, "files_removed", &j->files_removed, "", d)) == 0 &&
	    (r = jf_get(o, "volumes", json_type_array, doc, "", &arr, d)) == 0 &&
	    (r = jf_get(o, "files", json_type_array, doc, "", &files, d)) == 0) {
		j->n_vol = json_object_array_length(arr);
		j->n_files = json_object_array_length(files);
		if (j->n_vol > POLICY_MAX_VOLUMES || j->n_files > POLICY_MAX_BUNDLES)
			r = jf_fail(d, EBADMSG, doc, "too many volumes or files");
	}
	for (size_t i = 0; r == 0 && i < j->n_vol; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		struct jvol *jv = &j->vol[i];
		char where[40];

		snprintf(where, sizeof(where), "volumes[%zu]", i);
		if (!json_object_is_type(v, json_type_object)) {
			r = jf_fail(d, EBADMSG, doc, "%s: expected an object", where);
			break;
		}
		if ((r = jf_only(v, vmembers, doc, where, d)) == 0 &&
		    (r = jstring(v, "name", jv->name, sizeof(jv->name), where, d)) == 0 &&
		    (r = jstring(v, "uuid", jv->uuid, sizeof(jv->uuid), where, d)) == 0 &&
		    (r = jstring(v, "device", jv->device, sizeof(jv->device), where, d)) == 0 &&
		    (r = jbool(v, "present", &jv->present, where, d)) == 0 &&
		    (r = jbool(v, "luks2", &jv->luks2, where, d)) == 0 &&
		    (r = jf_u64(v, "header_bytes", doc, where, &jv->header_bytes, d)) == 0 &&
		    (r = jcount(v, "keyslots", &jv->keyslots, where, d)) == 0 &&
		    (r = jcount(v, "tokens", &jv->tokens, where, d)) == 0)
			r = jstring(v, "data", jv->data, sizeof(jv->data), where, d);
		if (r == 0 && jv->device[0] != '/')
			r = jf_fail(d, EBADMSG, doc, "%s.device: not an absolute path", where);
	}
	for (size_t i = 0; r == 0 && i < j->n_files; i++) {
		json_object *v = json_object_array_get_idx(files, i);

		if (!json_object_is_type(v, json_type_string) ||
		    !policy_path_valid(json_object_get_string(v)))
			r = jf_fail(d, EBADMSG, doc, "files[%zu]: not an absolute path", i);
		else
			snprintf(j->files[i], sizeof(j->files[i]), "%s", json_object_get_string(v));
	}
	json_object_put(o);
	return r;
}

/* --- the steps --- */

static int open_tpm(struct zctx *z)
{
	int r;

	if (z->tpm)
		return 0;
	r = tpm_open(z->o->tcti, &z->tpm, &z->res->d);
	return r < 0 ? zfail(z, ZEROIZE_TPM, r) : 0;
}

/* 1. Spend the order, then the cryptographic erase of every sealed key. */
static int step_tpm(struct zctx *z)
{
	struct diag ignore = {0};
	int r = open_tpm(z);

	if (r < 0)
		return r;
	/* Gone already when a Clear ran before a power cut: spent for good. */
	r = tpm_nv_increment(z->tpm, APPLIANCE_NV_ZEROIZE, &ignore);
	if (r < 0 && r != -ENOENT)
		return zfail(z, ZEROIZE_TPM,
			     diag_set(&z->res->d, ignore.cls, -r, "%s", ignore.msg));
	if (!z->j.clear_tpm) {
		say(z, "order spent; the TPM is kept (clear_tpm false): sealed copies of the "
		       "volume keys stay releasable");
		return 0;
	}
	r = tpm_clear(z->tpm, &z->res->d);
	if (r < 0)
		return zfail(z, ZEROIZE_TPM, r);
	say(z, "TPM cleared: the storage seed is new, no sealed volume key can be loaded again");
	return 0;
}

/* 2. Guests, through the launcher binary (the anchor does not link libvirt).
 * The program is the caller's (never the journal's: a journal on the disk
 * must not choose what the anchor runs). */
static int step_guests(struct zctx *z)
{
	const char *launcher = z->o->launcher ? z->o->launcher : ZEROIZE_LAUNCHER;
	int status = 0;
	pid_t pid;

	if (access(launcher, X_OK) < 0) {
		snprintf(z->j.guests, sizeof(z->j.guests), "no launcher");
		say(z, "no launcher at %s: no guest can run here", launcher);
		return 0;
	}
	pid = fork();
	if (pid < 0)
		return zfail(
		    z, ZEROIZE_INTERNAL,
		    diag_set(&z->res->d, DIAG_INTERNAL, errno, "cannot fork: %s", strerror(errno)));
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			(void)dup2(null, 0);
		(void)dup2(2, 1);
		/* stop takes only --uri, --name and --timeout: the launcher's
		 * defaults name the appliance's guest. */
		execl(launcher, launcher, "stop", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			break;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		snprintf(z->j.guests, sizeof(z->j.guests), "stopped");
	else if (WIFEXITED(status) && WEXITSTATUS(status) == LAUNCHER_EXIT_NOT_RUNNING)
		snprintf(z->j.guests, sizeof(z->j.guests), "not running");
	else
		return zfail(z, ZEROIZE_INTERNAL,
			     diag_set(&z->res->d, DIAG_INTERNAL, EIO,
				      "could not stop the guest (%s exited %d); nothing after the "
				      "TPM step was done: run the zeroize again",
				      launcher, WIFEXITED(status) ? WEXITSTATUS(status) : -1));
	say(z, "guest: %s", z->j.guests);
	return 0;
}

/* 3.. One volume: keyslots, tokens, header copies, keyslot area, discard. */
static int step_volume(struct zctx *z, struct jvol *v)
{
	struct stat st;
	int r;

	/* A disk that is gone (never there, or pulled during the wipe) cannot
	 * be erased here; its sealed key died with the TPM step. Waiting for it
	 * would keep the appliance from ever finishing. */
	if (stat(v->device, &st) < 0 && errno == ENOENT) {
		snprintf(v->data, sizeof(v->data), "absent");
		say(z, "volume %s: %s is not there; nothing to erase here", v->name, v->device);
		return 0;
	}
	r = luks_erase(v->device, v->header_bytes, v->name, v->data, &z->res->d);
	if (r < 0)
		return zfail(z, ZEROIZE_INTERNAL, r);
	say(z,
	    "volume %s: keyslots and tokens destroyed, %" PRIu64
	    " header bytes zeroed, data area %s",
	    v->name, v->header_bytes, v->data);
	return 0;
}

static bool ours(uint32_t h)
{
	return (h & 0xFFFFFF00u) == (APPLIANCE_NV_ANCHOR & 0xFFFFFF00u);
}

/* sealboot's NV indices in the TPM now (0x01A5B0xx). */
static int count_ours(struct zctx *z, unsigned *ret)
{
	uint32_t h[256];
	size_t n = 0;
	int r = tpm_handles(z->tpm, 0x01000000u, h, 256, &n, &z->res->d);

	if (r < 0)
		return zfail(z, ZEROIZE_TPM, r);
	*ret = 0;
	for (size_t i = 0; i < n && i < 256; i++)
		*ret += ours(h[i]);
	return 0;
}

/* 3+n. What a Clear already removed; all of it when the TPM is kept. */
static int step_nv(struct zctx *z)
{
	uint32_t h[256];
	size_t n = 0;
	unsigned left = 0;
	int r = open_tpm(z);

	if (r == 0)
		r = tpm_handles(z->tpm, 0x01000000u, h, 256, &n, &z->res->d);
	if (r < 0)
		return zfail(z, ZEROIZE_TPM, r);
	for (size_t i = 0; i < n && i < 256; i++) {
		if (!ours(h[i]))
			continue;
		r = tpm_nv_undefine(z->tpm, h[i], &z->res->d);
		if (r < 0 && r != -ENOENT)
			return zfail(z, ZEROIZE_TPM, r);
	}
	r = count_ours(z, &left);
	if (r < 0)
		return r;
	if (left)
		return zfail(z, ZEROIZE_TPM,
			     diag_set(&z->res->d, DIAG_INTERNAL, EIO,
				      "%u sealboot NV indices are still in the TPM", left));
	{
		uint8_t name[TPMPOLICY_NAME_SIZE];

		r = tpm_storage_name(z->tpm, name, &z->res->d);
		if (r < 0)
			return zfail(z, ZEROIZE_TPM, r);
		hex_encode(name, sizeof(name), z->j.storage_after);
	}
	say(z, "no sealboot NV index is left in the TPM");
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

static int remove_path(struct zctx *z, const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	z->j.files_removed++;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	/* Depth first, symlinks removed as links, never followed. */
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}

/* 4+n. The policy, approvals, handoff, bundles (owner images may be
 * confidential). */
static int step_files(struct zctx *z)
{
	static const char *const state[] = {APPLIANCE_POLICY_SIG, APPLIANCE_POLICY,
					    APPLIANCE_APPROVAL,	  APPLIANCE_ADMIN_PUB,
					    APPLIANCE_RECORD,	  NULL};
	static const char *const run[] = {"handoff.json", "eventlog.jsonl", "status.json", NULL};
	char p[PATH_MAX];
	int r = 0;

	z->j.files_removed = 0;
	for (size_t i = 0; r == 0 && state[i]; i++) {
		path_in(p, sizeof(p), z->o->state_dir, state[i]);
		r = remove_path(z, p);
	}
	for (size_t i = 0; r == 0 && run[i]; i++) {
		path_in(p, sizeof(p), z->o->run_dir, run[i]);
		r = remove_path(z, p);
	}
	for (size_t i = 0; r == 0 && i < z->j.n_files; i++)
		r = remove_path(z, z->j.files[i]);
	if (r < 0)
		return zfail(z, ZEROIZE_INTERNAL,
			     diag_set(&z->res->d, DIAG_INTERNAL, -r, "cannot remove %s: %s", p,
				      strerror(-r)));
	say(z, "policy, PCR policy, admin key, handoff and %zu bundle(s) removed", z->j.n_files);
	return 0;
}

static char *receipt_text(struct zctx *z)
{
	const struct journal *j = &z->j;
	json_object *o = json_object_new_object(), *vols = json_object_new_array(),
		    *sp = json_object_new_object();
	char date[32], verification[256], *out;
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, "format", jstr(RECEIPT_FORMAT));
	json_object_object_add(o, "format_version", json_object_new_int(1));
	json_object_object_add(o, "order_sha256", jstr(j->order_sha256));
	json_object_object_add(o, "appliance_id", jstr(j->appliance_id));
	json_object_object_add(o, "counter", json_object_new_uint64(j->counter));
	json_object_object_add(o, "storage_name_before", jstr(j->storage_name));
	json_object_object_add(o, "storage_name_after", jstr(j->storage_after));
	json_object_object_add(o, "tpm_cleared", json_object_new_boolean(j->clear_tpm));
	json_object_object_add(o, "guests", jstr(j->guests));
	for (size_t i = 0; i < j->n_vol; i++) {
		const struct jvol *v = &j->vol[i];
		json_object *vo = json_object_new_object(), *before = json_object_new_object(),
			    *after = json_object_new_object();

		json_object_object_add(vo, "name", jstr(v->name));
		json_object_object_add(vo, "uuid", jstr(v->uuid));
		json_object_object_add(vo, "device", jstr(v->device));
		json_object_object_add(vo, "method",
				       jstr(j->clear_tpm ? "cryptographic erase"
							 : "header destruction only (TPM kept)"));
		json_object_object_add(before, "luks2", json_object_new_boolean(v->luks2));
		json_object_object_add(before, "keyslots", json_object_new_int((int)v->keyslots));
		json_object_object_add(before, "tokens", json_object_new_int((int)v->tokens));
		json_object_object_add(vo, "before", before);
		json_object_object_add(after, "luks2", json_object_new_boolean(0));
		json_object_object_add(vo, "after", after);
		json_object_object_add(
		    vo, "header_bytes_zeroed",
		    json_object_new_uint64(strcmp(v->data, "absent") ? v->header_bytes : 0));
		json_object_object_add(vo, "data_area", jstr(v->data));
		json_object_object_add(
		    vo, "verified",
		    jstr(!strcmp(v->data, "absent") ? "device absent: not erased here"
			 : j->clear_tpm ? "no LUKS header found; the sealed key died with the "
					  "TPM's storage seed"
					: "no LUKS header found; a saved copy of the header "
					  "can still be unsealed by this TPM"));
		json_object_array_add(vols, vo);
	}
	json_object_object_add(o, "volumes", vols);
	json_object_object_add(o, "tpm_objects_left", json_object_new_int(0));
	json_object_object_add(o, "files_removed", json_object_new_int((int)j->files_removed));
	snprintf(verification, sizeof(verification),
		 "libcryptsetup finds no LUKS header on any volume; no sealboot NV index in the "
		 "TPM; storage primary %s",
		 strcmp(j->storage_name, j->storage_after) ? "changed" : "unchanged");
	json_object_object_add(sp, "method", jstr(j->clear_tpm ? "purge" : "clear"));
	json_object_object_add(
	    sp, "technique",
	    jstr(j->clear_tpm ? "cryptographic erase" : "key destruction (header)"));
	json_object_object_add(sp, "tool", jstr("sealboot-anchor " SEALBOOT_VERSION));
	json_object_object_add(sp, "verification", jstr(verification));
	json_object_object_add(sp, "date", jstr(date));
	json_object_object_add(sp, "post_sanitization", jstr("reuse: ready for provisioning"));
	json_object_object_add(o, "sp800_88", sp);
	json_object_object_add(
	    o, "escrow",
	    jstr("a LUKS header backup or a recovery passphrase kept outside the appliance is "
		 "a copy of the key this wipe cannot reach; NIST SP 800-88 counts it as a copy "
		 "to destroy"));
	/* One trailing newline: the bytes on disk, on stdout and under the
	 * TPM's certification are the same. */
	if (asprintf(&out, "%s\n",
		     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_SPACED |
							   JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		out = NULL;
	json_object_put(o);
	return out;
}

static void write_zeroized_status(struct zctx *z)
{
	char *buf = NULL, bid[FS_BOOT_ID_SIZE];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int fd;

	if (!f)
		return;
	fs_boot_id(bid);
	fputs("{\n  \"format\": \"sealboot-status\",\n  \"format_version\": 1,\n"
	      "  \"boot_id\": ",
	      f);
	json_write_string(f, bid);
	fprintf(f,
		",\n  \"verdict\": \"zeroized\",\n  \"exit_code\": %d,\n"
		"  \"stage\": \"zeroized\",\n  \"reason\": \"zeroized: ready for provisioning\",\n"
		"  \"bundles_verified\": 0,\n  \"volumes_open\": 0,\n  \"activated\": false,\n"
		"  \"tpm_lockout\": false,\n  \"time\": %lld\n}\n",
		ZEROIZED_VERDICT, (long long)time(NULL));
	if (fclose(f) != 0) {
		free(buf);
		return;
	}
	(void)mkdir(z->o->run_dir, 0755);
	fd = open(z->o->run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		(void)fs_write_atomic_at(fd, "status.json", buf, len, 0644, true);
		close(fd);
	}
	free(buf);
}

/* 5+n. The receipt and the TPM's evidence for it, then the journal goes. */
static int step_receipt(struct zctx *z)
{
	char *text = receipt_text(z), *evidence = NULL, p[PATH_MAX];
	int dirfd, r;

	if (!text)
		return zfail(z, ZEROIZE_INTERNAL, -ENOMEM);
	r = open_tpm(z);
	if (r == 0)
		r = attest_receipt_evidence(z->tpm, text, strlen(text), &evidence, &z->res->d);
	if (r < 0) {
		free(text);
		return zfail(z, ZEROIZE_TPM, r);
	}
	dirfd = open(z->o->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = dirfd < 0 ? -errno
		      : fs_write_atomic_at(dirfd, APPLIANCE_ZEROIZE_RECEIPT, text, strlen(text),
					   0644, true);
	if (r == 0)
		r = fs_write_atomic_at(dirfd, APPLIANCE_ZEROIZE_EVIDENCE, evidence,
				       strlen(evidence), 0644, true);
	free(evidence);
	if (r == 0 && unlinkat(dirfd, APPLIANCE_ZEROIZE_JOURNAL, 0) < 0 && errno != ENOENT)
		r = -errno;
	if (r == 0 && fsync(dirfd) < 0)
		r = -errno;
	if (dirfd >= 0)
		close(dirfd);
	if (r < 0) {
		free(text);
		path_in(p, sizeof(p), z->o->state_dir, APPLIANCE_ZEROIZE_RECEIPT);
		return zfail(z, ZEROIZE_INTERNAL,
			     diag_set(&z->res->d, DIAG_INTERNAL, -r, "cannot write %s: %s", p,
				      strerror(-r)));
	}
	write_zeroized_status(z);
	z->res->receipt = text;
	return 0;
}

static int run_steps(struct zctx *z)
{
	unsigned n = (unsigned)z->j.n_vol;
	int r = 0;

	for (unsigned step = z->j.done + 1; r == 0 && step <= last_step(&z->j); step++) {
		if (step == 1)
			r = step_tpm(z);
		else if (step == 2)
			r = step_guests(z);
		else if (step <= 2 + n)
			r = step_volume(z, &z->j.vol[step - 3]);
		else if (step == 3 + n)
			r = step_nv(z);
		else if (step == 4 + n)
			r = step_files(z);
		else
			r = step_receipt(z);
		if (r < 0)
			break;
		if (z->o->after_step)
			z->o->after_step(step, z->o->arg);
		if (step == last_step(&z->j))
			break; /* the journal is gone */
		z->j.done = step;
		r = journal_write(z);
	}
	return r;
}

static int load_journal(struct zctx *z)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	char p[PATH_MAX];
	int r;

	path_in(p, sizeof(p), z->o->state_dir, APPLIANCE_ZEROIZE_JOURNAL);
	r = fs_read_file(p, JOURNAL_MAX, &buf, &len);
	if (r < 0)
		return zfail(
		    z, ZEROIZE_INTERNAL,
		    diag_set(&z->res->d, DIAG_INTERNAL, -r, "cannot read %s: %s", p, strerror(-r)));
	r = journal_parse((const char *)buf, len, &z->j, &z->res->d);
	free(buf);
	if (r < 0)
		return zfail(z, ZEROIZE_INTERNAL, r);
	if (z->j.done >= last_step(&z->j))
		return zfail(z, ZEROIZE_INTERNAL,
			     diag_set(&z->res->d, DIAG_MALFORMED, EBADMSG,
				      "zeroize journal: done %u is past the last step", z->j.done));
	return 0;
}

int zeroize_resume(const struct zeroize_opts *o, struct zeroize_result *res)
{
	struct zctx z = {.o = o, .res = res};
	int r;

	memset(res, 0, sizeof(*res));
	res->resumed = true;
	r = load_journal(&z);
	if (r == 0) {
		say(&z, "finishing the zeroize the journal records (step %u of %u done)", z.j.done,
		    last_step(&z.j));
		r = run_steps(&z);
	}
	tpm_close(z.tpm);
	return r;
}

/* --- the order --- */

static int read_order(struct zctx *z, const char *path, unsigned char **ret, size_t *ret_len,
		      unsigned char **ret_sig, size_t *ret_sig_len)
{
	char sig_path[PATH_MAX];
	int r;

	r = fs_read_file(path, ZORDER_MAX_BYTES, ret, ret_len);
	if (r < 0)
		return zfail(z, ZEROIZE_USAGE,
			     diag_set(&z->res->d, DIAG_USAGE, -r, "cannot read the order %s: %s",
				      path, r == -EFBIG ? "too large" : strerror(-r)));
	snprintf(sig_path, sizeof(sig_path), "%s.sig", path);
	r = fs_read_file(sig_path, 4096, ret_sig, ret_sig_len);
	if (r < 0)
		return zfail(z, ZEROIZE_USAGE,
			     diag_set(&z->res->d, DIAG_USAGE, -r,
				      "cannot read the order's signature %s: %s", sig_path,
				      strerror(-r)));
	return 0;
}

/* The policy this TPM was provisioned for, and its zeroize key. */
static int trusted_policy(struct zctx *z, struct appliance *a)
{
	struct appliance_nv nv;
	int r;

	r = appliance_nv_read(z->tpm, &nv, &z->res->d);
	if (r == -ENOENT) {
		memset(&z->res->d, 0, sizeof(z->res->d));
		return zfail(z, ZEROIZE_STATE,
			     diag_set(&z->res->d, DIAG_USAGE, ENOENT,
				      "this TPM holds no sealboot provisioning: there is no policy "
				      "whose zeroize key could authorize an order"));
	}
	if (r < 0)
		return zfail(z, r == -ENODEV ? ZEROIZE_TPM : ZEROIZE_STATE, r);
	r = appliance_load(z->o->state_dir, nv.admin_digest, "this TPM was provisioned with", a,
			   &z->res->d);
	return r < 0 ? zfail(z, ZEROIZE_STATE, r) : 0;
}

static int verify_order(struct zctx *z, const struct appliance *a, const unsigned char *buf,
			size_t len, const unsigned char *sig, size_t sig_len, struct zorder *ord)
{
	struct diag kd = {0};
	EVP_PKEY *key = NULL;
	int r;

	r = adminkey_public_from_pem(a->policy->zeroize_key, strlen(a->policy->zeroize_key), &key,
				     &kd);
	if (r < 0)
		return zfail(z, ZEROIZE_STATE,
			     diag_set(&z->res->d, DIAG_MALFORMED, -r,
				      "the policy's zeroize_key: %s", kd.msg));
	/* Over the raw bytes, before they are parsed. */
	r = adminkey_verify(key, buf, len, sig, sig_len, &kd);
	EVP_PKEY_free(key);
	if (r < 0)
		return zfail(
		    z, ZEROIZE_SIGNATURE,
		    diag_set(&z->res->d, DIAG_SIGNATURE, EBADMSG,
			     "the order is not signed by this appliance's zeroize key (signed "
			     "by another key, or edited after signing); nothing erased"));
	r = zorder_parse((const char *)buf, len, ord, &z->res->d);
	return r < 0 ? zfail(z, ZEROIZE_MALFORMED, r) : 0;
}

/* Is the order for this appliance, now? Against the TPM, not files. */
static int check_order_fresh(struct zctx *z, const struct zorder *ord)
{
	uint8_t name[TPMPOLICY_NAME_SIZE];
	uint64_t counter = 0;
	int64_t now = z->o->at ? z->o->at : (int64_t)time(NULL);
	struct diag cd = {0};
	int r;

	r = tpm_ak_name(z->tpm, name, &z->res->d);
	if (r < 0)
		return zfail(z, ZEROIZE_TPM, r);
	if (CRYPTO_memcmp(name, ord->appliance_id, sizeof(name)) != 0) {
		char hex[NAME_HEX];

		hex_encode(name, sizeof(name), hex);
		return zfail(
		    z, ZEROIZE_APPLIANCE,
		    diag_set(&z->res->d, DIAG_TRUST, EXDEV,
			     "the order is for another appliance (this one is %s); nothing "
			     "erased",
			     hex));
	}
	r = tpm_nv_read_counter(z->tpm, APPLIANCE_NV_ZEROIZE, &counter, &cd);
	if (r < 0 && r != -ENOENT && r != -ENODATA)
		return zfail(z, ZEROIZE_TPM, diag_set(&z->res->d, cd.cls, -r, "%s", cd.msg));
	r = tpm_storage_name(z->tpm, name, &z->res->d);
	if (r < 0)
		return zfail(z, ZEROIZE_TPM, r);
	if (counter != ord->counter || CRYPTO_memcmp(name, ord->storage_name, sizeof(name)) != 0)
		return zfail(z, ZEROIZE_REPLAYED,
			     diag_set(&z->res->d, DIAG_EXPIRED, ESTALE,
				      "the order was already used or a newer challenge was issued "
				      "(it names challenge %" PRIu64 ", the TPM is at %" PRIu64
				      "%s); ask for a new challenge; nothing erased",
				      ord->counter, counter,
				      CRYPTO_memcmp(name, ord->storage_name, sizeof(name))
					  ? ", and the TPM was cleared since"
					  : ""));
	if (now > ord->not_after)
		return zfail(z, ZEROIZE_EXPIRED,
			     diag_set(&z->res->d, DIAG_EXPIRED, ETIME,
				      "the order expired at %" PRId64 " (now %" PRId64
				      "); nothing erased",
				      ord->not_after, now));
	return 0;
}

/* The journal's first version: everything the steps need, read before
 * anything is erased. */
static int plan(struct zctx *z, const struct appliance *a, const struct zorder *ord,
		const unsigned char *buf, size_t len)
{
	const struct policy *p = a->policy;
	struct journal *j = &z->j;
	uint8_t dg[32];
	int r;

	memset(j, 0, sizeof(*j));
	SHA256(buf, len, dg);
	hex_encode(dg, 32, j->order_sha256);
	hex_encode(ord->appliance_id, TPMPOLICY_NAME_SIZE, j->appliance_id);
	hex_encode(ord->storage_name, TPMPOLICY_NAME_SIZE, j->storage_name);
	j->counter = ord->counter;
	j->clear_tpm = ord->clear_tpm;
	snprintf(j->guests, sizeof(j->guests), "pending");
	for (size_t i = 0; i < ord->n_volumes; i++) {
		bool found = false;

		for (size_t k = 0; k < p->n_volumes; k++)
			found = found || !strcmp(p->volumes[k].name, ord->volumes[i]);
		if (!found)
			return zfail(
			    z, ZEROIZE_STATE,
			    diag_set(&z->res->d, DIAG_CONTENT, ENOENT,
				     "the order names volume %s, which the policy does not; "
				     "nothing erased",
				     ord->volumes[i]));
	}
	for (size_t k = 0; k < p->n_volumes; k++) {
		struct jvol *v = &j->vol[j->n_vol];
		struct luks_header_info h;
		struct diag hd = {0};

		if (!zorder_has_volume(ord, p->volumes[k].name))
			continue;
		snprintf(v->name, sizeof(v->name), "%s", p->volumes[k].name);
		snprintf(v->uuid, sizeof(v->uuid), "%s", p->volumes[k].uuid);
		appliance_volume_path(a, k, v->device, sizeof(v->device));
		snprintf(v->data, sizeof(v->data), "pending");
		r = luks_header_info(v->device, &h, &hd);
		if (r == -ENOENT) {
			v->present = false;
		} else if (r < 0) {
			return zfail(
			    z, ZEROIZE_INTERNAL,
			    diag_set(&z->res->d, hd.cls, -r, "%s; nothing erased", hd.msg));
		} else {
			v->present = true;
			v->luks2 = h.luks2;
			v->header_bytes = h.header_bytes;
			v->keyslots = h.keyslots;
			v->tokens = h.tokens;
		}
		j->n_vol++;
	}
	for (size_t i = 0; i < p->n_bundles; i++)
		snprintf(j->files[j->n_files++], sizeof(j->files[0]), "%s", p->bundles[i].path);
	if (ord->clear_tpm) {
		r = tpm_clear_possible(z->tpm, &z->res->d);
		if (r < 0)
			return zfail(z, ZEROIZE_TPM, r);
	}
	return 0;
}

int zeroize_run(const struct zeroize_opts *o, const char *order_path, struct zeroize_result *res)
{
	struct zctx z = {.o = o, .res = res};
	struct appliance a = {0};
	unsigned char *buf = NULL, *sig = NULL;
	size_t len = 0, sig_len = 0;
	struct zorder ord;
	int r;

	if (zeroize_pending(o->state_dir)) {
		r = zeroize_resume(o, res);
		if (r == 0 && !o->quiet)
			fprintf(stderr, "sealboot-anchor: zeroize: an interrupted zeroize was "
					"finished; the order given was not used\n");
		return r;
	}
	memset(res, 0, sizeof(*res));
	r = read_order(&z, order_path, &buf, &len, &sig, &sig_len);
	if (r == 0)
		r = open_tpm(&z);
	if (r == 0)
		r = trusted_policy(&z, &a);
	if (r == 0)
		r = verify_order(&z, &a, buf, len, sig, sig_len, &ord);
	if (r == 0)
		r = check_order_fresh(&z, &ord);
	if (r == 0)
		r = plan(&z, &a, &ord, buf, len);
	/* From here on the journal exists: every later run finishes it. */
	if (r == 0)
		r = journal_write(&z);
	if (r == 0) {
		say(&z, "order accepted (challenge %" PRIu64 ", %zu volume(s), %s)", ord.counter,
		    z.j.n_vol, ord.clear_tpm ? "TPM cleared" : "TPM kept");
		if (o->after_step)
			o->after_step(0, o->arg);
		r = run_steps(&z);
	}
	appliance_free(&a);
	free(buf);
	free(sig);
	tpm_close(z.tpm);
	return r;
}

/* --- the challenge --- */

int zeroize_challenge(const struct zeroize_opts *o, char **ret, struct zeroize_result *res)
{
	struct zctx z = {.o = o, .res = res};
	struct zorder_challenge c = {0};
	struct appliance a = {0};
	struct diag cd = {0};
	size_t len = 0;
	int r;

	memset(res, 0, sizeof(*res));
	r = open_tpm(&z);
	if (r < 0)
		return r;
	r = tpm_nv_define(z.tpm, APPLIANCE_NV_ZEROIZE, TPM_NV_COUNTER, 8, &cd);
	if (r < 0 && r != -EEXIST) {
		r = zfail(&z, ZEROIZE_TPM, diag_set(&res->d, cd.cls, -r, "%s", cd.msg));
		goto out;
	}
	r = tpm_nv_increment(z.tpm, APPLIANCE_NV_ZEROIZE, &res->d);
	if (r == 0)
		r = tpm_nv_read_counter(z.tpm, APPLIANCE_NV_ZEROIZE, &c.counter, &res->d);
	if (r == 0)
		r = tpm_ak_name(z.tpm, c.appliance_id, &res->d);
	if (r == 0)
		r = tpm_storage_name(z.tpm, c.storage_name, &res->d);
	if (r < 0) {
		r = zfail(&z, ZEROIZE_TPM, r);
		goto out;
	}
	/* Informational: what the appliance holds now (trusted or not, the
	 * order is checked against the trusted policy). */
	{
		struct diag ignore = {0};

		if (appliance_load(o->state_dir, NULL, NULL, &a, &ignore) == 0) {
			c.policy_serial = a.policy->serial;
			for (size_t i = 0; i < a.policy->n_volumes; i++)
				snprintf(c.volumes[c.n_volumes++], sizeof(c.volumes[0]), "%s",
					 a.policy->volumes[i].name);
		}
	}
	c.time = (int64_t)time(NULL);
	r = zorder_challenge_serialize(&c, ret, &len);
	if (r < 0)
		r = zfail(&z, ZEROIZE_INTERNAL, r);
out:
	appliance_free(&a);
	tpm_close(z.tpm);
	return r;
}
