/* SPDX-License-Identifier: Apache-2.0 */
#include "bootpredict.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "fsutil.h"

bool bootpredict_given(const struct bootpredict_args *a)
{
	return a->event_log || a->kernel || a->initrd || a->cmdline;
}

static int cannot_read(const char *what, const char *path, int r, struct diag *d)
{
	return diag_set(d, DIAG_USAGE, -r, "cannot read the %s %s: %s", what, path,
			r == -EFBIG ? "too large" : strerror(-r));
}

/* SHA-256 of the initrd, streamed (an initrd may be large); its size. */
static int hash_initrd(const char *path, uint8_t out[TPMPOLICY_DIGEST_SIZE], uint64_t *size,
		       struct diag *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;
	struct stat st;

	if (fd < 0)
		return cannot_read("initrd", path, -errno, d);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cannot_read("initrd", path, -EINVAL, d);
	}
	r = digest_fd(fd, DIGEST_SHA256, out, size);
	close(fd);
	return r < 0 ? cannot_read("initrd", path, r, d) : 0;
}

static int kernel_digest(const struct bootpredict_args *a, uint64_t initrd_size,
			 uint8_t out[TPMPOLICY_DIGEST_SIZE], struct diag *d)
{
	unsigned char *img = NULL;
	size_t len = 0;
	int r;

	r = fs_read_file(a->kernel, BOOTPREDICT_KERNEL_MAX, &img, &len);
	if (r < 0)
		return cannot_read("kernel image", a->kernel, r, d);
	r = 0;
	if (a->qemu_ram_mib)
		r = bootpcr_qemu_patch_setup(img, len, initrd_size, a->qemu_ram_mib << 20, d);
	if (r == 0)
		r = bootpcr_authenticode(img, len, out, d);
	free(img);
	return r;
}

int bootpredict_run(const struct bootpredict_args *a, tpmpolicy_pcr_mask_t want,
		    struct bootpredict_result *ret, struct diag *d)
{
	struct bootpredict_result res = {0};
	struct tcglog *log = NULL;
	unsigned char *buf = NULL;
	uint64_t initrd_size = 0;
	size_t len = 0;
	int r = 0;

	if (a->qemu_ram_mib && (!a->kernel || !a->initrd))
		return diag_set(d, DIAG_USAGE, EINVAL,
				"--qemu-memory models how QEMU changes the kernel for its initrd: "
				"give --kernel and --initrd");
	if (a->initrd) {
		r = hash_initrd(a->initrd, res.in.initrd, &initrd_size, d);
		res.in.has_initrd = r == 0;
	}
	if (r == 0 && a->kernel) {
		r = kernel_digest(a, initrd_size, res.in.kernel, d);
		res.in.has_kernel = r == 0;
	}
	if (r == 0 && a->cmdline) {
		r = bootpcr_cmdline_digest(a->cmdline, res.in.cmdline, d);
		res.in.has_cmdline = r == 0;
	}
	if (r == 0 && a->event_log) {
		r = fs_read_file(a->event_log, TCGLOG_MAX_BYTES, &buf, &len);
		if (r < 0)
			r = r == -EFBIG ? diag_set(d, DIAG_MALFORMED, EBADMSG,
						   "the event log %s is larger than %u bytes",
						   a->event_log, TCGLOG_MAX_BYTES)
					: cannot_read("event log", a->event_log, r, d);
		else {
			struct diag ld = {0};

			r = tcglog_parse(buf, len, &log, &ld);
			if (r < 0)
				diag_set(d, ld.cls, -r, "%s: %s", a->event_log, ld.msg);
		}
	}
	if (r == 0) {
		res.in.ref = log;
		r = bootpcr_predict(&res.in, want, &res.pcrs, d);
		res.in.ref = NULL;
	}
	tcglog_free(log);
	free(buf);
	if (r == 0)
		*ret = res;
	return r;
}
