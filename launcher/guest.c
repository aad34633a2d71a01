/* SPDX-License-Identifier: Apache-2.0 */
#include "guest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "dmverity.h"
#include "fsutil.h"
#include "manifest.h"
#include "tpm.h"
#include "verified.h"

#define ISOLATED_NETWORK "sealboot-isolated"

/* handoff.json and eventlog.jsonl from the run directory, checked against
 * the TPM and the policy file. */
static int load_measured(const struct guest_opts *o, struct handoff *h, struct appliance *app,
			 enum guest_fail *cls, struct diag *d)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	struct eventlog *log = NULL;
	struct tpmpolicy_pcr_values now;
	struct tpm *t = NULL;
	char boot_id[FS_BOOT_ID_SIZE];
	int dirfd, r;

	*cls = GUEST_HANDOFF;
	dirfd = open(o->run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return diag_set(d, DIAG_TRUST, errno,
				"no handoff: cannot open %s (%s); did the anchor run?", o->run_dir,
				strerror(errno));
	r = fs_read_file_at(dirfd, "handoff.json", 65536, &buf, &len);
	if (r < 0) {
		diag_set(d, DIAG_TRUST, -r, "no handoff in %s: %s (the anchor did not unlock)",
			 o->run_dir, strerror(-r));
		goto out;
	}
	r = handoff_parse((const char *)buf, len, h, d);
	free(buf);
	buf = NULL;
	if (r < 0)
		goto out;
	log = calloc(1, sizeof(*log));
	if (!log) {
		r = diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
		goto out;
	}
	r = fs_read_file_at(dirfd, "eventlog.jsonl", 1 << 20, &buf, &len);
	if (r < 0) {
		diag_set(d, DIAG_TRUST, -r, "no event log in %s: %s", o->run_dir, strerror(-r));
		goto out;
	}
	r = eventlog_parse((const char *)buf, len, log, d);
	if (r < 0)
		goto out;
	r = tpm_open(o->tcti, &t, d);
	if (r == 0)
		r = tpm_pcr_read(
		    t, TPMPOLICY_PCR(EVENTLOG_PCR_SEAL) | TPMPOLICY_PCR(EVENTLOG_PCR_LOG), &now, d);
	if (r < 0) {
		*cls = GUEST_INTERNAL;
		goto out;
	}
	/* The policy as signed (admin.pub) and as measured (its hash). */
	r = appliance_load(o->state_dir, NULL, NULL, app, d);
	if (r < 0)
		goto out;
	fs_boot_id(boot_id);
	r = handoff_check(h, boot_id, log, &now, app->policy_sha256, d);
out:
	tpm_close(t);
	free(log);
	free(buf);
	close(dirfd);
	return r;
}

static int dup_into(char **dst, const char *src, struct diag *d)
{
	*dst = strdup(src);
	return *dst ? 0 : diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
}

/* A bundle's manifest, checked to be the very bytes the anchor measured. */
static int measured_manifest(const struct handoff_bundle *hb, struct manifest **ret, struct diag *d)
{
	unsigned char *buf = NULL, md[32];
	size_t len = 0;
	int dirfd, r;

	dirfd = open(hb->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return diag_set(d, DIAG_TRUST, errno, "bundle %s: cannot open %s: %s", hb->name,
				hb->path, strerror(errno));
	r = fs_read_file_at(dirfd, BUNDLE_MANIFEST, MANIFEST_MAX_BYTES, &buf, &len);
	close(dirfd);
	if (r < 0)
		return diag_set(d, DIAG_TRUST, -r, "bundle %s: cannot read its manifest: %s",
				hb->name, strerror(-r));
	SHA256(buf, len, md);
	if (memcmp(md, hb->manifest_sha256, 32) != 0)
		r = diag_set(d, DIAG_TRUST, EBADE,
			     "bundle %s: the manifest changed since the anchor verified it",
			     hb->name);
	else
		r = manifest_parse((const char *)buf, len, ret, d);
	free(buf);
	return r;
}

/* The payload's path, checked to be a regular file of the signed size. */
static int payload_path(const struct handoff_bundle *hb, const struct payload *p, char **ret,
			struct diag *d)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", hb->path, p->path);
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != p->size)
		return diag_set(d, DIAG_TRUST, EBADE,
				"bundle %s: payload %s is not the regular file of %llu bytes that "
				"was verified",
				hb->name, p->path, (unsigned long long)p->size);
	return dup_into(ret, path, d);
}

/* The kernel command line payload: one line of printable text. */
static int read_cmdline(const char *path, char **ret, struct diag *d)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int r = fs_read_file(path, 4096, &buf, &len);

	if (r < 0)
		return diag_set(d, DIAG_TRUST, -r, "cannot read the command line %s", path);
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = 0;
	for (size_t i = 0; i < len; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e) {
			free(buf);
			return diag_set(d, DIAG_CONTENT, EINVAL,
					"the kernel command line %s is not one line of text", path);
		}
	*ret = (char *)buf;
	return 0;
}

static int open_bundle(const struct handoff_bundle *hb, struct diag *d)
{
	int fd = open(hb->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return diag_set(d, DIAG_TRUST, errno, "bundle %s: cannot open %s: %s", hb->name,
				hb->path, strerror(errno));
	return fd;
}

/* Kernel or initrd: copied into copy_dir while hashed (verified.h). */
static int copy_boot_file(const struct handoff_bundle *hb, const struct payload *p,
			  const char *copy_dir, const char *name, char **ret, struct diag *d)
{
	char path[4200];
	int bfd = open_bundle(hb, d), cfd, r;

	if (bfd < 0)
		return bfd;
	cfd = open(copy_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cfd < 0) {
		r = diag_set(d, DIAG_INTERNAL, errno, "cannot open %s: %s", copy_dir,
			     strerror(errno));
		close(bfd);
		return r;
	}
	r = verified_copy(bfd, p, cfd, name, d);
	close(cfd);
	close(bfd);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", copy_dir, name);
	return dup_into(ret, path, d);
}

/* The command line: read once, hashed; those bytes go into the XML. */
static int verified_cmdline(const struct handoff_bundle *hb, const struct payload *p, char **ret,
			    struct diag *d)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int bfd = open_bundle(hb, d), r;

	if (bfd < 0)
		return bfd;
	r = verified_read(bfd, p, 4096, &buf, &len, d);
	close(bfd);
	if (r < 0)
		return r;
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = 0;
	for (size_t i = 0; i < len; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e) {
			free(buf);
			return diag_set(d, DIAG_CONTENT, EINVAL,
					"the kernel command line %s is not one line of text",
					p->path);
		}
	*ret = (char *)buf;
	return 0;
}

/* A disk image given as a file: hashed in place. */
static int check_in_place(const struct handoff_bundle *hb, const struct payload *p, struct diag *d)
{
	int bfd = open_bundle(hb, d), r;

	if (bfd < 0)
		return bfd;
	r = verified_check(bfd, p, d);
	close(bfd);
	return r;
}

/*
 * guest_spec's steps. Each returns GUEST_OK or its own failure class, with
 * d set: what the measured state does not confirm is GUEST_HANDOFF, what
 * the profile does not allow is GUEST_PROFILE.
 */
static enum guest_fail fail_as(enum guest_fail cls, int r)
{
	return r < 0 ? cls : GUEST_OK;
}

/* What the policy's device profile gives the guest besides disks. */
static enum guest_fail profile_devices(const struct guest_opts *o, const struct policy_guest *g,
				       struct spec *s, struct diag *d)
{
	int r = 0;

	snprintf(s->name, sizeof(s->name), "%s", o->name);
	s->virt = o->virt;
	s->vcpus = g->vcpus;
	s->memory_mib = g->memory_mib;
	s->rng = g->rng;
	s->vtpm = g->vtpm;
	s->net = g->network == POLICY_NET_BRIDGED    ? SPEC_NET_BRIDGED
		 : g->network == POLICY_NET_ISOLATED ? SPEC_NET_ISOLATED
						     : SPEC_NET_NONE;
	if (s->net == SPEC_NET_BRIDGED)
		r = dup_into(&s->net_source, g->bridge, d);
	if (r == 0 && s->net == SPEC_NET_ISOLATED)
		r = dup_into(&s->net_source, ISOLATED_NETWORK, d);
	if (r == 0 && g->console_log)
		r = dup_into(&s->console_log, o->console_log, d);
	return fail_as(GUEST_PROFILE, r);
}

/* The bundle must be one the policy names, at the same path; *ret is its
 * slot (the anchor's order, which names its verity devices). With reverify,
 * its signature and every byte once more. */
static enum guest_fail policy_bundle(const struct guest_opts *o, const struct appliance *app,
				     const struct handoff_bundle *hb, size_t *ret, struct diag *d)
{
	const struct policy *p = app->policy;
	size_t pb = 0;

	while (pb < p->n_bundles && strcmp(p->bundles[pb].name, hb->name) != 0)
		pb++;
	if (pb == p->n_bundles || strcmp(p->bundles[pb].path, hb->path) != 0)
		return fail_as(GUEST_HANDOFF,
			       diag_set(d, DIAG_TRUST, EBADE,
					"bundle %s: not at the path the policy names", hb->name));
	*ret = pb;
	if (o->reverify) {
		struct bundle_verified *v = NULL;
		int r = appliance_verify_bundle(app, pb, 0, false, &v, d);

		if (r == 0 && memcmp(v->manifest_sha256, hb->manifest_sha256, 32))
			r = diag_set(d, DIAG_TRUST, EBADE,
				     "bundle %s: changed since the anchor verified it", hb->name);
		bundle_verified_free(v);
		return fail_as(GUEST_HANDOFF, r);
	}
	return GUEST_OK;
}

/* A guest boots one kernel, one initrd, one command line; and has at most
 * SPEC_MAX_DISKS disks. */
static enum guest_fail one_of_each(const struct handoff_bundle *hb, const struct payload *p,
				   const struct spec *s, struct diag *d)
{
	bool taken = (p->role == ROLE_KERNEL && s->kernel) ||
		     (p->role == ROLE_INITRD && s->initrd) ||
		     (p->role == ROLE_CMDLINE && s->cmdline);

	if (taken)
		return fail_as(GUEST_PROFILE,
			       diag_set(d, DIAG_USAGE, EINVAL,
					"bundle %s: a second %s payload (%s); a guest boots one",
					hb->name, payload_role_name(p->role), p->path));
	if (p->role == ROLE_DISK && s->n_disks == SPEC_MAX_DISKS)
		return fail_as(GUEST_PROFILE, diag_set(d, DIAG_USAGE, E2BIG, "more than %d disks",
						       SPEC_MAX_DISKS));
	return GUEST_OK;
}

/* Kernel, initrd, command line: with copy_dir, what was verified is read
 * once (copied, or into memory); without, the bundle's file, size checked. */
static enum guest_fail boot_payload(const struct guest_opts *o, const struct handoff_bundle *hb,
				    const struct payload *p, struct spec *s, struct diag *d)
{
	char **slot = p->role == ROLE_KERNEL ? &s->kernel : &s->initrd;
	char *path = NULL;
	int r;

	if (p->role == ROLE_CMDLINE && o->copy_dir)
		r = verified_cmdline(hb, p, &s->cmdline, d);
	else if (p->role == ROLE_CMDLINE) {
		r = payload_path(hb, p, &path, d);
		if (r == 0)
			r = read_cmdline(path, &s->cmdline, d);
		free(path);
	} else if (o->copy_dir)
		r = copy_boot_file(hb, p, o->copy_dir, p->role == ROLE_KERNEL ? "kernel" : "initrd",
				   slot, d);
	else
		r = payload_path(hb, p, slot, d);
	return fail_as(GUEST_HANDOFF, r);
}

/* How the anchor verified disk payload k (a version 1 handoff: hashed). */
static const struct handoff_disk *
disk_method(const struct handoff *h, const struct handoff_bundle *hb, const struct payload *p)
{
	static const struct handoff_disk full_hash = {.method = HANDOFF_FULL_HASH};

	if (h->format_version < 2)
		return &full_hash;
	for (size_t i = 0; i < hb->n_disks; i++)
		if (strcmp(hb->disks[i].payload, p->path) == 0)
			return &hb->disks[i];
	return NULL;
}

/* A verity disk: the device the anchor made for payload k of bundle slot
 * pb, with the manifest's root hash, and its live table still the anchor's;
 * attached as it is (read-only), never the file. */
static int verity_disk(const struct handoff_bundle *hb, size_t pb, size_t k,
		       const struct payload *p, const struct handoff_disk *hd, struct spec_disk *sd,
		       struct diag *d)
{
	char name[VERITY_NAME_MAX], want[VERITY_NAME_MAX + 16];

	verity_mapping_name(pb, k, name);
	snprintf(want, sizeof(want), VERITY_MAPPER_DIR "%s", name);
	if (strcmp(hd->device, want) != 0)
		return diag_set(d, DIAG_TRUST, EBADE,
				"bundle %s: disk %s: the handoff names device %s, the anchor makes "
				"%s",
				hb->name, p->path, hd->device, want);
	if (!p->verity || CRYPTO_memcmp(p->verity->root_hash, hd->root_hash, 32) != 0)
		return diag_set(d, DIAG_TRUST, EBADE,
				"bundle %s: disk %s: the handoff's root hash is not the signed "
				"manifest's",
				hb->name, p->path);
	/* The live mapping: its table the anchor's (the signed root hash,
	 * salt and size, error mode EIO), its node that mapping's device. */
	if (dmverity_check(name, hd->device, p->verity, d) < 0)
		return -EBADE;
	sd->block = true;
	return dup_into(&sd->path, hd->device, d);
}

/* A disk payload, read-only: the verity device, or the file (hashed in
 * place when starting). */
static enum guest_fail disk_payload(const struct guest_opts *o, const struct handoff *h,
				    const struct handoff_bundle *hb, size_t pb, size_t k,
				    const struct payload *p, struct spec *s, struct diag *d)
{
	const struct handoff_disk *hd = disk_method(h, hb, p);
	struct spec_disk *sd = &s->disks[s->n_disks];
	int r;

	if (!hd)
		return fail_as(GUEST_HANDOFF,
			       diag_set(d, DIAG_TRUST, EBADE,
					"bundle %s: the handoff does not say how disk %s was "
					"verified",
					hb->name, p->path));
	if (hd->method == HANDOFF_VERITY)
		r = verity_disk(hb, pb, k, p, hd, sd, d);
	else {
		r = payload_path(hb, p, &sd->path, d);
		if (r == 0 && o->copy_dir)
			r = check_in_place(hb, p, d);
	}
	sd->readonly = true;
	snprintf(sd->target, sizeof(sd->target), "vd%c", (char)('a' + s->n_disks));
	s->n_disks++;
	return fail_as(GUEST_HANDOFF, r);
}

/* Every disk the handoff lists is a disk payload of the manifest. */
static enum guest_fail no_stray_disks(const struct handoff_bundle *hb, const struct manifest *m,
				      struct diag *d)
{
	for (size_t i = 0; i < hb->n_disks; i++) {
		size_t k = 0;

		while (k < m->n_payloads && (m->payloads[k].role != ROLE_DISK ||
					     strcmp(m->payloads[k].path, hb->disks[i].payload)))
			k++;
		if (k == m->n_payloads)
			return fail_as(GUEST_HANDOFF,
				       diag_set(d, DIAG_TRUST, EBADE,
						"bundle %s: the handoff names disk %s, which its "
						"manifest does not hold",
						hb->name, hb->disks[i].payload));
	}
	return GUEST_OK;
}

/* One bundle: its measured manifest, then every payload the guest gets. */
static enum guest_fail bundle_payloads(const struct guest_opts *o, const struct appliance *app,
				       const struct handoff *h, const struct handoff_bundle *hb,
				       struct spec *s, struct diag *d)
{
	struct manifest *m = NULL;
	enum guest_fail f;
	size_t pb = 0;

	f = fail_as(GUEST_HANDOFF, measured_manifest(hb, &m, d));
	if (f == GUEST_OK)
		f = policy_bundle(o, app, hb, &pb, d);
	if (f == GUEST_OK)
		f = no_stray_disks(hb, m, d);
	for (size_t k = 0; f == GUEST_OK && m && k < m->n_payloads; k++) {
		const struct payload *p = &m->payloads[k];

		if (p->role != ROLE_KERNEL && p->role != ROLE_INITRD && p->role != ROLE_CMDLINE &&
		    p->role != ROLE_DISK)
			continue;
		f = one_of_each(hb, p, s, d);
		if (f == GUEST_OK && p->role == ROLE_DISK)
			f = disk_payload(o, h, hb, pb, k, p, s, d);
		else if (f == GUEST_OK)
			f = boot_payload(o, hb, p, s, d);
	}
	manifest_free(m);
	return f;
}

/* Volume i of the handoff: the policy's volume, device and mapping. */
static enum guest_fail check_volume(const struct appliance *app, const struct handoff_volume *hv,
				    struct diag *d)
{
	const struct policy *p = app->policy;
	char want[64], device[POLICY_PATH_MAX + 64] = "";
	size_t pv = 0;

	while (pv < p->n_volumes && strcmp(p->volumes[pv].name, hv->name) != 0)
		pv++;
	snprintf(want, sizeof(want), "/dev/mapper/%s", hv->name);
	if (pv < p->n_volumes)
		appliance_volume_path(app, pv, device, sizeof(device));
	if (pv == p->n_volumes || strcmp(p->volumes[pv].uuid, hv->uuid) != 0 ||
	    (hv->activated && strcmp(hv->mapper, want) != 0))
		return fail_as(GUEST_HANDOFF,
			       diag_set(d, DIAG_TRUST, EBADE,
					"volume %s: not the policy's volume, or not its mapping",
					hv->name));
	/* The device the anchor opened is the policy's (the handoff is only
	 * an index, and its device member is not in the event log). */
	if (strcmp(hv->device, device) != 0)
		return fail_as(GUEST_HANDOFF,
			       diag_set(d, DIAG_TRUST, EBADE,
					"volume %s: the handoff names device %s, the policy %s",
					hv->name, hv->device, device));
	return GUEST_OK;
}

/* An opened volume, read-write, by its mapping (a key-checked one only
 * with --without-volumes, and then left out). */
static enum guest_fail volume_disk(const struct guest_opts *o, const struct handoff_volume *hv,
				   struct spec *s, struct diag *d)
{
	struct spec_disk *sd = &s->disks[s->n_disks];
	int r;

	if (!hv->activated) {
		if (o->without_volumes)
			return GUEST_OK;
		return fail_as(GUEST_PROFILE,
			       diag_set(d, DIAG_USAGE, ENODEV,
					"volume %s was only key-checked (no device-mapper): there "
					"is no mapping to give the guest (--without-volumes starts "
					"without it)",
					hv->name));
	}
	if (s->n_disks == SPEC_MAX_DISKS)
		return fail_as(GUEST_PROFILE, diag_set(d, DIAG_USAGE, E2BIG, "more than %d disks",
						       SPEC_MAX_DISKS));
	r = dup_into(&sd->path, hv->mapper, d);
	if (r < 0)
		return GUEST_PROFILE;
	sd->block = true;
	snprintf(sd->target, sizeof(sd->target), "vd%c", (char)('a' + s->n_disks));
	s->n_disks++;
	return GUEST_OK;
}

static enum guest_fail something_to_boot(const struct spec *s, struct diag *d)
{
	if (!s->kernel && s->n_disks == 0)
		return fail_as(
		    GUEST_PROFILE,
		    diag_set(d, DIAG_USAGE, EINVAL,
			     "nothing to boot: no bundle has a kernel or a disk payload"));
	return GUEST_OK;
}

int guest_spec(const struct guest_opts *o, struct spec *ret, enum guest_fail *ret_class,
	       struct diag *d)
{
	struct appliance app = {0};
	struct handoff h;
	struct spec s;
	enum guest_fail f, cls;

	memset(&s, 0, sizeof(s));
	if (load_measured(o, &h, &app, &cls, d) < 0)
		f = cls; /* the handoff's, or the TPM's (internal) */
	else
		f = profile_devices(o, &app.policy->guest, &s, d);
	/* Disks: every disk payload of every verified bundle, read-only; then
	 * every volume the anchor opened, read-write, by its mapping. */
	for (size_t b = 0; f == GUEST_OK && b < h.n_bundles; b++)
		f = bundle_payloads(o, &app, &h, &h.bundles[b], &s, d);
	for (size_t i = 0; f == GUEST_OK && i < h.n_volumes; i++) {
		f = check_volume(&app, &h.volumes[i], d);
		if (f == GUEST_OK)
			f = volume_disk(o, &h.volumes[i], &s, d);
	}
	if (f == GUEST_OK)
		f = something_to_boot(&s, d);
	*ret_class = f;
	if (f == GUEST_OK) {
		*ret = s;
		memset(&s, 0, sizeof(s));
	}
	spec_free_members(&s);
	appliance_free(&app);
	return f == GUEST_OK	    ? 0
	       : f == GUEST_HANDOFF ? -EBADE
	       : f == GUEST_PROFILE ? -EINVAL
				    : -EIO;
}
