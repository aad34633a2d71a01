/* SPDX-License-Identifier: Apache-2.0 */
#include "boot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "appliance.h"
#include "eventlog.h"
#include "fsutil.h"
#include "hex.h"
#include "jsonout.h"
#include "luks.h"
#include "rerun.h"
#include "token.h"
#include "verity.h"
#include "zeroize.h"

#define HANDOFF ANCHOR_RUN_HANDOFF
#define STATUS ANCHOR_RUN_STATUS
#define EVENTLOG ANCHOR_RUN_EVENTLOG

struct volume_state {
	char path[POLICY_PATH_MAX + 32];
	struct secret *key;
	uint8_t identity[32];
	bool open;
};

struct ctx {
	const struct anchor_opts *o;
	struct anchor_report *rep;
	struct tpm *tpm;
	struct appliance app;
	struct appliance_nv nv;
	struct eventlog log;
	struct bundle_verified *bundles[APPLIANCE_SLOTS];
	struct volume_state vol[POLICY_MAX_VOLUMES];
	uint64_t floor[APPLIANCE_SLOTS]; /* the version each counter stands for */
	/* Disk payloads with a signed tree become dm-verity devices (where
	 * device-mapper exists and activation is not turned off); without,
	 * every byte is hashed (bundle.h). */
	bool verity;
	int run_fd;
	int lock_fd; /* the run lock (rerun.h), held to the end */
};

const char *anchor_verdict_name(enum anchor_verdict v)
{
	static const char *const names[] = {
	    [ANCHOR_OK] = "ok",
	    [ANCHOR_INTERNAL] = "internal",
	    [ANCHOR_USAGE] = "usage",
	    [ANCHOR_POLICY] = "policy",
	    [ANCHOR_BUNDLE] = "bundle",
	    [ANCHOR_ROLLBACK] = "rollback",
	    [ANCHOR_UNSEAL] = "unseal",
	    [ANCHOR_VOLUME] = "volume",
	    [ANCHOR_TPM] = "tpm",
	    [ANCHOR_STATE] = "state",
	    [ANCHOR_DONE] = "done",
	    [ANCHOR_BUSY] = "busy",
	    [ANCHOR_ZEROIZED] = "zeroized",
	};
	return (unsigned)v < sizeof(names) / sizeof(names[0]) && names[v] ? names[v] : "internal";
}

/* Record why and where; the first failure wins (as in struct diag). */
static int fail(struct ctx *c, enum anchor_verdict v, const char *stage, int r)
{
	/* A TPM that stopped answering is that, whatever the step expected:
	 * not tampering, not a bad policy (exit 8). */
	if (tpm_dead(c->tpm))
		v = ANCHOR_TPM;
	if (c->rep->verdict == ANCHOR_OK) {
		c->rep->verdict = v;
		snprintf(c->rep->stage, sizeof(c->rep->stage), "%s", stage);
	}
	return r < 0 ? r : -EIO;
}

/* A TPM failure is the TPM's (no TPM, lockout) or the stage's. */
static int tpm_fail(struct ctx *c, enum anchor_verdict v, const char *stage, int r)
{
	if (r == -ENODEV || r == -ENOLCK)
		v = ANCHOR_TPM;
	return fail(c, v, stage, r);
}

static void progress(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->o->quiet)
		return;
	va_start(ap, fmt);
	fputs("sealboot-anchor: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int measure(struct ctx *c, unsigned pcr, const char *text)
{
	int r = eventlog_add(&c->log, pcr, text, &c->rep->d);

	if (r == 0)
		r = tpm_pcr_extend(c->tpm, pcr, c->log.r[c->log.n - 1].digest, &c->rep->d);
	return r;
}

/* 0b. One run at a time; a run after the one that did this boot's work
 * changes nothing (ANCHOR_BUSY, ANCHOR_DONE: no status, no PCR, no file
 * written). -errno when this run stops here. */
static int check_rerun(struct ctx *c)
{
	struct diag *d = &c->rep->d;
	struct rerun rr;
	int r;

	r = rerun_lock(c->run_fd, &c->lock_fd, d);
	if (r == -EWOULDBLOCK) {
		c->rep->verdict = ANCHOR_BUSY;
		snprintf(c->rep->stage, sizeof(c->rep->stage), "lock");
		snprintf(d->msg, sizeof(d->msg),
			 "another sealboot-anchor is running in this boot (it holds %s/%s); this "
			 "run changed nothing: wait for it, then read sealboot-anchor status",
			 c->o->run_dir, ANCHOR_RUN_LOCK);
		return r;
	}
	if (r < 0)
		return fail(c, ANCHOR_STATE, "state", r);
	r = rerun_inspect(c->run_fd, c->o->tcti, &rr, d);
	if (r < 0)
		return tpm_fail(c, ANCHOR_INTERNAL, "state", r);
	/* A handoff beside a failed run, or one that does not match the
	 * log of a good run, was not written by the anchor: refused below. */
	if (rr.found == RERUN_NONE || (rr.handoff && !rr.handoff_matches))
		return 0;
	c->rep->verdict = ANCHOR_DONE;
	snprintf(c->rep->stage, sizeof(c->rep->stage), "rerun");
	if (rr.found == RERUN_OK && rr.handoff)
		snprintf(d->msg, sizeof(d->msg),
			 "this boot was already unlocked by an earlier run; its verdict (OK) and "
			 "handoff stand, and this run changed nothing");
	else if (rr.found == RERUN_OK)
		snprintf(d->msg, sizeof(d->msg),
			 "this boot was already unlocked by an earlier run (verdict OK), but its "
			 "%s is gone, so the guest cannot be launched before the next boot; this "
			 "run changed nothing",
			 ANCHOR_RUN_HANDOFF);
	else
		snprintf(d->msg, sizeof(d->msg),
			 "the anchor already ran in this boot and its verdict stands: %.360s; this "
			 "run changed nothing (a new try needs a reboot: the PCRs are capped)",
			 rr.verdict);
	return -EALREADY;
}

/* 0. The run directory: ours, a directory, no handoff planted before us. */
static int open_run_dir(struct ctx *c)
{
	struct diag *d = &c->rep->d;
	struct stat st;
	int r;

	/* Readable by all (the verdict is for the site staff), writable by us. */
	if (mkdir(c->o->run_dir, 0755) < 0 && errno != EEXIST)
		return fail(c, ANCHOR_STATE, "state",
			    diag_set(d, DIAG_INTERNAL, errno, "cannot create %s: %s", c->o->run_dir,
				     strerror(errno)));
	c->run_fd = open(c->o->run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c->run_fd < 0)
		return fail(c, ANCHOR_STATE, "state",
			    diag_set(d, DIAG_INTERNAL, errno, "cannot open %s: %s (a symlink?)",
				     c->o->run_dir, strerror(errno)));
	if (fstat(c->run_fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022))
		return fail(c, ANCHOR_STATE, "state",
			    diag_set(d, DIAG_TRUST, EPERM,
				     "%s is not this user's directory, or others can write to it",
				     c->o->run_dir));
	r = check_rerun(c);
	if (r < 0)
		return r;
	/* A handoff from before this run is not ours: remove it so no
	 * launcher acts on it, and stop. */
	if (fstatat(c->run_fd, HANDOFF, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		(void)unlinkat(c->run_fd, HANDOFF, 0);
		return fail(c, ANCHOR_STATE, "state",
			    diag_set(d, DIAG_TRUST, EEXIST,
				     "%s/%s existed before the anchor ran (planted?); removed it "
				     "and refuse to continue",
				     c->o->run_dir, HANDOFF));
	}
	return 0;
}

/* A second run in one boot continues the log of the first, so the log
 * still replays to the PCRs; a log from an earlier boot is dropped. */
static void keep_earlier_log(struct ctx *c)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	struct diag ignore = {0};

	if (fs_read_file_at(c->run_fd, EVENTLOG, 1 << 20, &buf, &len) == 0 &&
	    eventlog_parse((const char *)buf, len, &c->log, &ignore) < 0)
		memset(&c->log, 0, sizeof(c->log));
	free(buf);
}

/* The first of our PCRs that is not all zero (something measured into it in
 * this boot), 0 when both are fresh, -errno when they cannot be read. */
static int used_pcr(struct ctx *c)
{
	const tpmpolicy_pcr_mask_t ours =
	    TPMPOLICY_PCR(EVENTLOG_PCR_SEAL) | TPMPOLICY_PCR(EVENTLOG_PCR_LOG);
	static const uint8_t zero[TPMPOLICY_DIGEST_SIZE];
	struct tpmpolicy_pcr_values now;
	int r;

	r = tpm_pcr_read(c->tpm, ours, &now, &c->rep->d);
	if (r < 0)
		return r;
	for (unsigned p = 0; p < TPMPOLICY_PCR_COUNT; p++)
		if ((ours & TPMPOLICY_PCR(p)) && memcmp(now.v[p], zero, sizeof(zero)) != 0)
			return (int)p;
	return 0;
}

/* 1. A zeroize that was cut short is finished before anything else
 * (docs/design.md, "Zeroize"); a zeroized appliance unlocks nothing and
 * says it is ready for provisioning. */
static int check_zeroize(struct ctx *c)
{
	if (zeroize_pending(c->o->state_dir)) {
		struct zeroize_opts zo = {.state_dir = c->o->state_dir,
					  .run_dir = c->o->run_dir,
					  .tcti = c->o->tcti,
					  .launcher = c->o->launcher,
					  .quiet = c->o->quiet};
		struct zeroize_result zr;
		int r;

		progress(c, "a zeroize was interrupted: finishing it before anything else");
		r = zeroize_resume(&zo, &zr);
		zeroize_result_free(&zr);
		if (r < 0)
			return fail(
			    c, ANCHOR_STATE, "state",
			    diag_set(&c->rep->d, DIAG_INTERNAL, EINPROGRESS,
				     "a zeroize was interrupted and could not be finished "
				     "(%s); nothing is unlocked: run sealboot-anchor zeroize "
				     "again",
				     zr.d.msg));
	}
	if (zeroize_done(c->o->state_dir))
		return fail(c, ANCHOR_ZEROIZED, "zeroized",
			    diag_set(&c->rep->d, DIAG_USAGE, ECANCELED,
				     "zeroized: ready for provisioning"));
	return 0;
}

/* 1b. The TPM, and PCRs that nothing has used yet in this boot. */
static int open_tpm(struct ctx *c)
{
	int r;

	r = tpm_open(c->o->tcti, &c->tpm, &c->rep->d);
	if (r < 0)
		return fail(c, ANCHOR_TPM, "tpm", r);
	r = used_pcr(c);
	if (r < 0)
		return tpm_fail(c, ANCHOR_INTERNAL, "tpm", r);
	/* Lockout stops only DA-protected objects; none of ours is. Say so,
	 * and add no failure of our own. A probe that fails is a failure:
	 * the next call must not run on a context in an unknown state. */
	{
		struct tpm_da da;
		int q = tpm_da_state(c->tpm, &da, &c->rep->d);

		if (q < 0)
			return tpm_fail(c, ANCHOR_INTERNAL, "tpm", q);
		if (da.lockout) {
			c->rep->da_lockout = true;
			progress(c,
				 "warning: the TPM is in dictionary-attack lockout (%u of %u "
				 "failures); sealboot's keys are not DA-protected, so this boot "
				 "goes on and adds no failure; find who is guessing TPM passwords",
				 da.failures, da.max_failures);
		}
	}
	if (r > 0) {
		keep_earlier_log(c);
		return fail(c, ANCHOR_STATE, "state",
			    diag_set(&c->rep->d, DIAG_TRUST, EALREADY,
				     "PCR %d was already extended in this boot (the anchor ran "
				     "before, or something else measured into it)",
				     r));
	}
	return 0;
}

/* 2. The policy, checked against the admin key the TPM holds. */
static int load_policy(struct ctx *c)
{
	char text[EVENTLOG_TEXT_MAX];
	int r;

	r = appliance_nv_read(c->tpm, &c->nv, &c->rep->d);
	if (r < 0)
		return tpm_fail(c, ANCHOR_POLICY, "policy", r);
	r = appliance_load(c->o->state_dir, c->nv.admin_digest, "this TPM was provisioned with",
			   &c->app, &c->rep->d);
	if (r < 0)
		return fail(c, c->rep->d.cls == DIAG_USAGE ? ANCHOR_USAGE : ANCHOR_POLICY, "policy",
			    r);
	appliance_policy_event(&c->app, &c->nv, text);
	r = measure(c, EVENTLOG_PCR_SEAL, text);
	if (r < 0)
		return tpm_fail(c, ANCHOR_INTERNAL, "policy", r);
	progress(c, "policy serial %" PRIu64 " verified (admin key matches the TPM)",
		 c->app.policy->serial);
	return 0;
}

/* 3. Every bundle: signature, chain, class, content; then rollback. */
static int verify_bundles(struct ctx *c)
{
	const struct policy *p = c->app.policy;
	char text[EVENTLOG_TEXT_MAX];
	uint64_t *seen = c->floor;
	int r;

	for (size_t i = 0; i < p->n_bundles; i++) {
		struct bundle_verified *v;

		int64_t t0 = now_ms();

		progress(c, "verifying bundle %s (%s)", p->bundles[i].name, p->bundles[i].path);
		r = appliance_verify_bundle(&c->app, i, c->o->at, c->verity, &c->bundles[i],
					    &c->rep->d);
		if (r < 0)
			return fail(c, r == -EKEYREVOKED ? ANCHOR_ROLLBACK : ANCHOR_BUNDLE,
				    "bundle", r);
		progress(c, "bundle %s: signature and %s checked in %lld ms", p->bundles[i].name,
			 c->verity ? "payloads (disks with a tree: sizes, for dm-verity)"
				   : "every payload byte",
			 (long long)(now_ms() - t0));
		v = c->bundles[i];
		eventlog_text_authority(text, p->bundles[i].name, v->signer.anchor_sha256,
					p->appliance_class);
		r = measure(c, EVENTLOG_PCR_SEAL, text);
		if (r == 0) {
			eventlog_text_content(text, p->bundles[i].name, v->manifest->version,
					      v->manifest_sha256);
			r = measure(c, EVENTLOG_PCR_LOG, text);
		}
		if (r < 0)
			return tpm_fail(c, ANCHOR_INTERNAL, "bundle", r);

		uint64_t counter = 0;
		r = tpm_nv_read_counter(c->tpm, APPLIANCE_NV_ROLLBACK + (uint32_t)i, &counter,
					&c->rep->d);
		if (r < 0)
			return tpm_fail(c, ANCHOR_ROLLBACK, "rollback", r);
		seen[i] = counter - c->nv.base[i];
		if (v->manifest->version < seen[i])
			return fail(c, ANCHOR_ROLLBACK, "rollback",
				    diag_set(&c->rep->d, DIAG_EXPIRED, ESTALE,
					     "bundle %s: version %" PRIu64
					     " is older than version %" PRIu64
					     " this appliance already ran (rollback refused)",
					     p->bundles[i].name, v->manifest->version, seen[i]));
		if (v->manifest->version - seen[i] > APPLIANCE_MAX_VERSION_STEP)
			return fail(c, ANCHOR_ROLLBACK, "rollback",
				    diag_set(&c->rep->d, DIAG_EXPIRED, ERANGE,
					     "bundle %s: version %" PRIu64 " jumps more than %d "
					     "past %" PRIu64 "; versions count releases",
					     p->bundles[i].name, v->manifest->version,
					     APPLIANCE_MAX_VERSION_STEP, seen[i]));
		c->rep->bundles++;
	}
	return 0;
}

/* Is payload p of bundle i left to dm-verity in this boot? */
static bool by_verity(const struct ctx *c, const struct payload *p)
{
	return c->verity && p->role == ROLE_DISK && p->verity;
}

/* 3b. Every disk payload with a signed tree: a read-only dm-verity device
 * with the signed root hash (the signature was checked in 3), measured into
 * the log-only PCR before the cap; the handoff names it. */
static int activate_disks(struct ctx *c)
{
	const struct policy *p = c->app.policy;
	char text[EVENTLOG_TEXT_MAX], name[VERITY_NAME_MAX], dev[VERITY_NAME_MAX + 16];
	int64_t t0;
	int r;

	for (size_t i = 0; i < p->n_bundles; i++) {
		const struct manifest *m = c->bundles[i]->manifest;
		int dirfd = -1;

		for (size_t k = 0; k < m->n_payloads; k++) {
			const struct payload *pl = &m->payloads[k];

			if (!by_verity(c, pl))
				continue;
			if (dirfd < 0)
				dirfd = open(p->bundles[i].path,
					     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (dirfd < 0)
				return fail(c, ANCHOR_BUNDLE, "bundle",
					    diag_set(&c->rep->d, DIAG_CONTENT, errno,
						     "bundle %s: cannot open %s: %s",
						     p->bundles[i].name, p->bundles[i].path,
						     strerror(errno)));
			verity_mapping_name(i, k, name);
			t0 = now_ms();
			r = verity_activate(dirfd, pl->path, pl->verity->hash_tree, pl->verity,
					    name, &c->rep->d);
			if (r < 0) {
				close(dirfd);
				return fail(c, ANCHOR_BUNDLE, "bundle", r);
			}
			snprintf(dev, sizeof(dev), VERITY_MAPPER_DIR "%s", name);
			eventlog_text_verity(text, p->bundles[i].name, pl->path,
					     pl->verity->root_hash, dev);
			r = measure(c, EVENTLOG_PCR_LOG, text);
			if (r < 0) {
				close(dirfd);
				return tpm_fail(c, ANCHOR_INTERNAL, "bundle", r);
			}
			progress(c,
				 "bundle %s: disk %s is dm-verity device %s (signed root hash, "
				 "checked at read time; activated in %lld ms)",
				 p->bundles[i].name, pl->path, dev, (long long)(now_ms() - t0));
		}
		if (dirfd >= 0)
			close(dirfd);
	}
	return 0;
}

/* A failed boot leaves no verity device behind (best effort). */
static void deactivate_disks(struct ctx *c)
{
	char name[VERITY_NAME_MAX];

	if (!c->verity || !c->app.policy)
		return;
	for (size_t i = 0; i < c->app.policy->n_bundles; i++) {
		if (!c->bundles[i])
			continue;
		for (size_t k = 0; k < c->bundles[i]->manifest->n_payloads; k++)
			if (by_verity(c, &c->bundles[i]->manifest->payloads[k])) {
				verity_mapping_name(i, k, name);
				(void)verity_deactivate(name);
			}
	}
}

/* Raise each floor to the version that runs now, once the TPM has released
 * the keys: only then are the NV record (measured) and this boot known
 * good, so a forged record cannot make the anchor raise a floor. */
static int raise_floors(struct ctx *c)
{
	for (size_t i = 0; i < c->app.policy->n_bundles; i++)
		for (uint64_t n = c->floor[i]; n < c->bundles[i]->manifest->version; n++) {
			int r = tpm_nv_increment(c->tpm, APPLIANCE_NV_ROLLBACK + (uint32_t)i,
						 &c->rep->d);
			if (r < 0)
				return tpm_fail(c, ANCHOR_ROLLBACK, "rollback", r);
		}
	return 0;
}

/* 4. The volume keys, under the admin-approved PCR policy. */
static int unseal_keys(struct ctx *c)
{
	const struct policy *p = c->app.policy;
	struct tpmpolicy_pcr_values now;
	struct tpm_pcr_approval ta;
	struct approval ap;
	tpmpolicy_pcr_mask_t differ;
	int r;

	r = appliance_load_approval(c->o->state_dir, &ap, &c->rep->d);
	if (r == 0)
		r = appliance_check_approval(&c->app, &ap, &c->rep->d);
	if (r < 0)
		return fail(c, ANCHOR_POLICY, "unseal", r);
	r = tpm_pcr_read(c->tpm, ap.mask, &now, &c->rep->d);
	if (r < 0)
		return tpm_fail(c, ANCHOR_INTERNAL, "unseal", r);
	/* Name the PCR before the TPM says no (the TPM checks regardless). */
	differ = approval_differs(&ap, &now);
	if (differ) {
		unsigned first = (unsigned)__builtin_ctz(differ);

		return fail(c, ANCHOR_UNSEAL, "unseal",
			    diag_set(&c->rep->d, DIAG_TRUST, EPERM,
				     "PCR %u differs from the value the admin approved (PCR policy "
				     "serial %" PRIu64 "): this is not the approved boot",
				     first, ap.serial));
	}
	appliance_tpm_approval(&c->app, &ap, &ta);
	for (size_t i = 0; i < p->n_volumes; i++) {
		struct volume_state *vs = &c->vol[i];
		char uuid[LUKS_UUID_MAX], *json = NULL;
		struct tpm_sealed sealed;

		appliance_volume_path(&c->app, i, vs->path, sizeof(vs->path));
		r = luks_uuid(vs->path, uuid, &c->rep->d);
		if (r < 0)
			return fail(c, ANCHOR_VOLUME, "volume", r);
		if (strcmp(uuid, p->volumes[i].uuid) != 0)
			return fail(c, ANCHOR_VOLUME, "volume",
				    diag_set(&c->rep->d, DIAG_CONTENT, EBADE,
					     "volume %s: %s has UUID %s, the policy names %s",
					     p->volumes[i].name, vs->path, uuid,
					     p->volumes[i].uuid));
		r = luks_token_find(vs->path, TOKEN_TYPE, &json, &c->rep->d);
		if (r >= 0) {
			r = token_parse(json, &sealed, &c->rep->d);
			free(json);
		}
		if (r < 0)
			return fail(c, ANCHOR_VOLUME, "volume", r);
		r = tpm_unseal_approved(c->tpm, &sealed, &ta, &vs->key, &c->rep->d);
		if (r < 0)
			return tpm_fail(c, ANCHOR_UNSEAL, "unseal", r);
		c->rep->released++;
	}
	progress(c, "%zu volume key(s) released by the TPM (PCR policy serial %" PRIu64 ")",
		 p->n_volumes, ap.serial);
	return 0;
}

/* 5. Open the volumes; 6. measure their identities and cap. */
static int open_volumes_and_cap(struct ctx *c)
{
	const struct policy *p = c->app.policy;
	bool activate = !c->o->no_activate && luks_have_dm();
	char text[EVENTLOG_TEXT_MAX];
	int r;

	for (size_t i = 0; i < p->n_volumes; i++) {
		struct volume_state *vs = &c->vol[i];

		r = luks_unlock(vs->path, vs->key, activate ? p->volumes[i].name : NULL,
				vs->identity, &c->rep->d);
		if (r < 0)
			return fail(c, ANCHOR_VOLUME, "volume", r);
		vs->open = true;
		c->rep->volumes++;
	}
	c->rep->activated = activate;
	for (size_t i = 0; i < p->n_volumes; i++) {
		eventlog_text_volume(text, p->volumes[i].name, p->volumes[i].uuid,
				     c->vol[i].identity);
		r = measure(c, EVENTLOG_PCR_SEAL, text);
		if (r < 0)
			return tpm_fail(c, ANCHOR_INTERNAL, "cap", r);
	}
	eventlog_text_cap(text);
	r = measure(c, EVENTLOG_PCR_SEAL, text);
	if (r < 0)
		return tpm_fail(c, ANCHOR_INTERNAL, "cap", r);
	return 0;
}

static void wipe_keys(struct ctx *c)
{
	for (size_t i = 0; i < POLICY_MAX_VOLUMES; i++)
		secret_freep(&c->vol[i].key);
}

static int write_run_file(struct ctx *c, const char *name, char *buf, size_t len)
{
	int r = fs_write_atomic_at(c->run_fd, name, buf, len, 0644, true);

	free(buf);
	return r;
}

/* The event log: written after every run, success or failure. */
static int write_eventlog(struct ctx *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (c->run_fd < 0)
		return -EBADF;
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	r = eventlog_write(&c->log, f);
	if (fclose(f) != 0 || r < 0) {
		free(buf);
		return -EIO;
	}
	return write_run_file(c, EVENTLOG, buf, len);
}

/* The handoff's "disks" of bundle i: how each disk payload was verified. */
static void write_disks(struct ctx *c, size_t i, FILE *f)
{
	const struct manifest *m = c->bundles[i]->manifest;
	char name[VERITY_NAME_MAX], hex[65];
	bool first = true;

	fputs(", \"disks\": [", f);
	for (size_t k = 0; k < m->n_payloads; k++) {
		const struct payload *pl = &m->payloads[k];

		if (pl->role != ROLE_DISK)
			continue;
		fputs(first ? "\n      {\"payload\": " : ",\n      {\"payload\": ", f);
		first = false;
		json_write_string(f, pl->path);
		if (by_verity(c, pl)) {
			verity_mapping_name(i, k, name);
			hex_encode(pl->verity->root_hash, 32, hex);
			fputs(", \"method\": \"verity\", \"device\": \"" VERITY_MAPPER_DIR, f);
			json_write_chars(f, name);
			fputs("\", \"root_hash\": ", f);
			json_write_string(f, hex);
			fputc('}', f);
		} else
			fputs(", \"method\": \"full-hash\", \"device\": null, \"root_hash\": null}",
			      f);
	}
	fputs(first ? "]" : "\n    ]", f);
}

/* 6. The handoff for the launcher (after the event log it points to). */
static int write_handoff(struct ctx *c)
{
	const struct policy *p = c->app.policy;
	struct tpmpolicy_pcr_values replay;
	char *buf = NULL, hex[65], bid[FS_BOOT_ID_SIZE];
	size_t len = 0;
	FILE *f;
	int r;

	r = write_eventlog(c);
	if (r < 0)
		return r;
	eventlog_replay(&c->log, &replay);
	fs_boot_id(bid);
	buf = NULL;
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	hex_encode(c->app.policy_sha256, 32, hex);
	fprintf(f, "{\n  \"format\": \"sealboot-handoff\",\n  \"format_version\": 2,\n"
		   "  \"boot_id\": ");
	json_write_string(f, bid);
	fprintf(f, ",\n  \"policy_serial\": %" PRIu64 ",\n  \"policy_sha256\": ", p->serial);
	json_write_string(f, hex);
	hex_encode(replay.v[EVENTLOG_PCR_SEAL], 32, hex);
	fputs(",\n  \"pcr15\": ", f);
	json_write_string(f, hex);
	hex_encode(replay.v[EVENTLOG_PCR_LOG], 32, hex);
	fputs(",\n  \"pcr13\": ", f);
	json_write_string(f, hex);
	fputs(",\n  \"eventlog\": ", f);
	json_write_string(f, EVENTLOG);
	fputs(",\n  \"bundles\": [", f);
	for (size_t i = 0; i < p->n_bundles; i++) {
		hex_encode(c->bundles[i]->manifest_sha256, 32, hex);
		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_write_string(f, p->bundles[i].name);
		fprintf(f, ", \"path\": ");
		json_write_string(f, p->bundles[i].path);
		fprintf(f, ", \"version\": %" PRIu64 ", \"manifest_sha256\": ",
			c->bundles[i]->manifest->version);
		json_write_string(f, hex);
		write_disks(c, i, f);
		fputc('}', f);
	}
	fprintf(f, "\n  ],\n  \"volumes\": [");
	for (size_t i = 0; i < p->n_volumes; i++) {
		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_write_string(f, p->volumes[i].name);
		fputs(", \"uuid\": ", f);
		json_write_string(f, p->volumes[i].uuid);
		fputs(", \"device\": ", f);
		json_write_string(f, c->vol[i].path);
		if (c->rep->activated) {
			fputs(", \"mapper\": \"/dev/mapper/", f);
			json_write_chars(f, p->volumes[i].name);
			fputs("\", \"activated\": true}", f);
		} else
			fprintf(f, ", \"mapper\": null, \"activated\": false}");
	}
	fprintf(f, "\n  ]\n}\n");
	if (fclose(f) != 0) {
		free(buf);
		return -EIO;
	}
	return write_run_file(c, HANDOFF, buf, len);
}

static void write_status(struct ctx *c)
{
	struct anchor_report *rep = c->rep;
	char *buf = NULL, bid[FS_BOOT_ID_SIZE];
	size_t len = 0;
	FILE *f;

	if (c->run_fd < 0)
		return;
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	fs_boot_id(bid);
	fputs("{\n  \"format\": \"sealboot-status\",\n  \"format_version\": 1,\n"
	      "  \"boot_id\": ",
	      f);
	json_write_string(f, bid);
	fputs(",\n  \"verdict\": ", f);
	json_write_string(f, rep->verdict == ANCHOR_OK	       ? "ok"
			     : rep->verdict == ANCHOR_ZEROIZED ? "zeroized"
							       : "failed");
	fprintf(f, ",\n  \"exit_code\": %d,\n  \"stage\": ", (int)rep->verdict);
	json_write_string(f, rep->verdict == ANCHOR_OK ? "done" : rep->stage);
	fprintf(f, ",\n  \"reason\": ");
	json_write_string(f, rep->verdict == ANCHOR_OK ? "" : rep->d.msg);
	fprintf(f,
		",\n  \"bundles_verified\": %u,\n  \"volumes_open\": %u,\n"
		"  \"activated\": %s,\n  \"tpm_lockout\": %s,\n  \"time\": %lld\n}\n",
		rep->bundles, rep->volumes, rep->activated ? "true" : "false",
		rep->da_lockout ? "true" : "false", (long long)time(NULL));
	if (fclose(f) == 0)
		(void)write_run_file(c, STATUS, buf, len);
	else
		free(buf);
}

int anchor_boot(const struct anchor_opts *o, struct anchor_report *rep)
{
	struct ctx c = {.o = o, .rep = rep, .run_fd = -1, .lock_fd = -1};
	int r;

	memset(rep, 0, sizeof(*rep));
	r = open_run_dir(&c);
	/* Another run's work, or another run at work: touch nothing. */
	if (rep->verdict == ANCHOR_DONE || rep->verdict == ANCHOR_BUSY)
		goto out;
	if (r == 0)
		r = check_zeroize(&c);
	if (r == 0)
		r = open_tpm(&c);
	if (r == 0)
		r = load_policy(&c);
	c.verity = !o->no_activate && verity_have_dm();
	if (r == 0)
		r = verify_bundles(&c);
	if (r == 0)
		r = activate_disks(&c);
	if (r == 0)
		r = unseal_keys(&c);
	if (r == 0)
		r = raise_floors(&c);
	if (r == 0)
		r = open_volumes_and_cap(&c);
	/* The keys have done their work (or must not do any). */
	wipe_keys(&c);
	if (r == 0) {
		r = write_handoff(&c);
		if (r < 0)
			fail(&c, ANCHOR_INTERNAL, "handoff",
			     diag_set(&rep->d, DIAG_INTERNAL, -r,
				      "cannot write the handoff in %s: %s", o->run_dir,
				      strerror(-r)));
	}
	if (r < 0) {
		if (rep->verdict == ANCHOR_OK)
			fail(&c, ANCHOR_INTERNAL, "internal", r);
		if (!rep->d.msg[0])
			diag_set(&rep->d, DIAG_INTERNAL, -r, "%s", strerror(-r));
		/* Make the sealing PCR useless for the rest of this boot, also
		 * when the failure came before the TPM was needed. */
		if (!c.tpm && rep->verdict != ANCHOR_TPM) {
			struct diag ignore = {0};

			/* ... and keep an earlier run's log, so it still replays. */
			if (tpm_open(o->tcti, &c.tpm, &ignore) == 0 && c.run_fd >= 0 &&
			    used_pcr(&c) > 0)
				keep_earlier_log(&c);
		}
		/* A context that saw the TPM fail is not used again; a new
		 * one caps the PCR if the TPM answers again. */
		if (tpm_lost(c.tpm)) {
			struct diag ignore = {0};

			tpm_close(c.tpm);
			c.tpm = NULL;
			if (tpm_open(o->tcti, &c.tpm, &ignore) < 0)
				c.tpm = NULL;
		}
		if (c.tpm) {
			char text[EVENTLOG_TEXT_MAX];
			struct diag ignore = {0};

			eventlog_text_failure(text, rep->stage);
			if (eventlog_add(&c.log, EVENTLOG_PCR_SEAL, text, &ignore) == 0)
				rep->capped =
				    tpm_pcr_extend(c.tpm, EVENTLOG_PCR_SEAL,
						   c.log.r[c.log.n - 1].digest, &ignore) == 0;
		}
		(void)unlinkat(c.run_fd, HANDOFF, 0);
		(void)write_eventlog(&c);
		deactivate_disks(&c);
	}
	write_status(&c);
out:
	for (size_t i = 0; i < APPLIANCE_SLOTS; i++)
		bundle_verified_free(c.bundles[i]);
	appliance_free(&c.app);
	tpm_close(c.tpm);
	if (c.run_fd >= 0)
		close(c.run_fd);
	if (c.lock_fd >= 0)
		close(c.lock_fd);
	return r;
}
