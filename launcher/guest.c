/* SPDX-License-Identifier: Apache-2.0 */
#include "guest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
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
		r = tpm_pcr_read(t, TPMPOLICY_PCR(EVENTLOG_PCR_SEAL) | TPMPOLICY_PCR(EVENTLOG_PCR_LOG),
				 &now, d);
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
static int measured_manifest(const struct handoff_bundle *hb, struct manifest **ret,
			     struct diag *d)
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
					"the kernel command line %s is not one line of text", p->path);
		}
	*ret = (char *)buf;
	return 0;
}

/* A disk image given as a file: hashed in place. */
static int check_in_place(const struct handoff_bundle *hb, const struct payload *p,
			  struct diag *d)
{
	int bfd = open_bundle(hb, d), r;

	if (bfd < 0)
		return bfd;
	r = verified_check(bfd, p, d);
	close(bfd);
	return r;
}

int guest_spec(const struct guest_opts *o, struct spec *ret, enum guest_fail *ret_class,
	       struct diag *d)
{
	struct appliance app = {0};
	struct handoff h;
	struct spec s;
	const struct policy_guest *g;
	int r;

	memset(&s, 0, sizeof(s));
	r = load_measured(o, &h, &app, ret_class, d);
	if (r < 0)
		goto out;
	*ret_class = GUEST_PROFILE;
	g = &app.policy->guest;
	snprintf(s.name, sizeof(s.name), "%s", o->name);
	s.virt = o->virt;
	s.vcpus = g->vcpus;
	s.memory_mib = g->memory_mib;
	s.rng = g->rng;
	s.vtpm = g->vtpm;
	s.net = g->network == POLICY_NET_BRIDGED    ? SPEC_NET_BRIDGED
		: g->network == POLICY_NET_ISOLATED ? SPEC_NET_ISOLATED
						    : SPEC_NET_NONE;
	if (s.net == SPEC_NET_BRIDGED && (r = dup_into(&s.net_source, g->bridge, d)) < 0)
		goto out;
	if (s.net == SPEC_NET_ISOLATED && (r = dup_into(&s.net_source, ISOLATED_NETWORK, d)) < 0)
		goto out;
	if (g->console_log && (r = dup_into(&s.console_log, o->console_log, d)) < 0)
		goto out;

	/* Disks: every disk payload of every verified bundle, read-only. */
	for (size_t b = 0; b < h.n_bundles; b++) {
		struct manifest *m = NULL;

		*ret_class = GUEST_HANDOFF;
		r = measured_manifest(&h.bundles[b], &m, d);
		if (r < 0)
			goto out;
		/* The bundle must be one the policy names, at the same path. */
		size_t pb = 0;
		while (pb < app.policy->n_bundles &&
		       strcmp(app.policy->bundles[pb].name, h.bundles[b].name) != 0)
			pb++;
		if (pb == app.policy->n_bundles ||
		    strcmp(app.policy->bundles[pb].path, h.bundles[b].path) != 0) {
			manifest_free(m);
			r = diag_set(d, DIAG_TRUST, EBADE,
				     "bundle %s: not at the path the policy names", h.bundles[b].name);
			goto out;
		}
		if (o->reverify) {
			struct bundle_verified *v = NULL;

			r = appliance_verify_bundle(&app, pb, 0, false, &v, d);
			if (r == 0 && memcmp(v->manifest_sha256, h.bundles[b].manifest_sha256, 32))
				r = diag_set(d, DIAG_TRUST, EBADE,
					     "bundle %s: changed since the anchor verified it",
					     h.bundles[b].name);
			bundle_verified_free(v);
			if (r < 0) {
				manifest_free(m);
				goto out;
			}
		}
		/* A payload that is not what was verified is not the measured
		 * state (handoff); a disk too many is the profile's. */
		for (size_t i = 0; i < m->n_payloads && r == 0; i++) {
			const struct payload *p = &m->payloads[i];
			char **slot = p->role == ROLE_KERNEL ? &s.kernel
				      : p->role == ROLE_INITRD ? &s.initrd
							       : NULL;

			if ((slot && *slot) || (p->role == ROLE_CMDLINE && s.cmdline)) {
				*ret_class = GUEST_PROFILE;
				r = diag_set(d, DIAG_USAGE, EINVAL,
					     "bundle %s: a second %s payload (%s); a guest boots one",
					     h.bundles[b].name, payload_role_name(p->role), p->path);
			} else if (slot && o->copy_dir) {
				r = copy_boot_file(&h.bundles[b], p, o->copy_dir,
						   p->role == ROLE_KERNEL ? "kernel" : "initrd", slot,
						   d);
			} else if (slot) {
				r = payload_path(&h.bundles[b], p, slot, d);
			} else if (p->role == ROLE_CMDLINE && o->copy_dir) {
				r = verified_cmdline(&h.bundles[b], p, &s.cmdline, d);
			} else if (p->role == ROLE_CMDLINE) {
				char *path = NULL;

				r = payload_path(&h.bundles[b], p, &path, d);
				if (r == 0)
					r = read_cmdline(path, &s.cmdline, d);
				free(path);
			} else if (p->role == ROLE_DISK) {
				struct spec_disk *sd = &s.disks[s.n_disks];

				if (s.n_disks == SPEC_MAX_DISKS) {
					*ret_class = GUEST_PROFILE;
					r = diag_set(d, DIAG_USAGE, E2BIG, "more than %d disks",
						     SPEC_MAX_DISKS);
					break;
				}
				r = payload_path(&h.bundles[b], p, &sd->path, d);
				if (r == 0 && o->copy_dir)
					r = check_in_place(&h.bundles[b], p, d);
				sd->readonly = true;
				snprintf(sd->target, sizeof(sd->target), "vd%c",
					 (char)('a' + s.n_disks));
				s.n_disks++;
			}
		}
		manifest_free(m);
		if (r < 0)
			goto out;
	}
	*ret_class = GUEST_PROFILE;
	/* Then every volume the anchor opened, read-write, by its mapping. */
	for (size_t i = 0; i < h.n_volumes; i++) {
		struct spec_disk *sd = &s.disks[s.n_disks];

		char want[64], device[POLICY_PATH_MAX + 64] = "";
		size_t pv = 0;

		while (pv < app.policy->n_volumes &&
		       strcmp(app.policy->volumes[pv].name, h.volumes[i].name) != 0)
			pv++;
		snprintf(want, sizeof(want), "/dev/mapper/%s", h.volumes[i].name);
		if (pv < app.policy->n_volumes)
			appliance_volume_path(&app, pv, device, sizeof(device));
		if (pv == app.policy->n_volumes ||
		    strcmp(app.policy->volumes[pv].uuid, h.volumes[i].uuid) != 0 ||
		    (h.volumes[i].activated && strcmp(h.volumes[i].mapper, want) != 0)) {
			*ret_class = GUEST_HANDOFF;
			r = diag_set(d, DIAG_TRUST, EBADE,
				     "volume %s: not the policy's volume, or not its mapping",
				     h.volumes[i].name);
			goto out;
		}
		/* The device the anchor opened is the policy's (the handoff is only
		 * an index, and its device member is not in the event log). */
		if (strcmp(h.volumes[i].device, device) != 0) {
			*ret_class = GUEST_HANDOFF;
			r = diag_set(d, DIAG_TRUST, EBADE,
				     "volume %s: the handoff names device %s, the policy %s",
				     h.volumes[i].name, h.volumes[i].device, device);
			goto out;
		}
		if (!h.volumes[i].activated) {
			if (o->without_volumes)
				continue;
			r = diag_set(d, DIAG_USAGE, ENODEV,
				     "volume %s was only key-checked (no device-mapper): there is no "
				     "mapping to give the guest (--without-volumes starts without it)",
				     h.volumes[i].name);
			goto out;
		}
		if (s.n_disks == SPEC_MAX_DISKS) {
			r = diag_set(d, DIAG_USAGE, E2BIG, "more than %d disks", SPEC_MAX_DISKS);
			goto out;
		}
		r = dup_into(&sd->path, h.volumes[i].mapper, d);
		if (r < 0)
			goto out;
		sd->block = true;
		snprintf(sd->target, sizeof(sd->target), "vd%c", (char)('a' + s.n_disks));
		s.n_disks++;
	}
	if (!s.kernel && s.n_disks == 0) {
		r = diag_set(d, DIAG_USAGE, EINVAL,
			     "nothing to boot: no bundle has a kernel or a disk payload");
		goto out;
	}
	*ret = s;
	memset(&s, 0, sizeof(s));
	*ret_class = GUEST_OK;
out:
	spec_free_members(&s);
	appliance_free(&app);
	return r;
}
