/* SPDX-License-Identifier: Apache-2.0 */
#include "rerun.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eventlog.h"
#include "fsutil.h"
#include "jsonfield.h"
#include "tpm.h"

int rerun_lock(int run_fd, int *ret_fd, struct diag *d)
{
	int fd = openat(run_fd, ANCHOR_RUN_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return diag_set(d, DIAG_INTERNAL, errno, "cannot open the run lock %s: %s",
				ANCHOR_RUN_LOCK, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return -EWOULDBLOCK;
		return diag_set(d, DIAG_INTERNAL, e, "cannot take the run lock %s: %s",
				ANCHOR_RUN_LOCK, strerror(e));
	}
	*ret_fd = fd;
	return 0;
}

/* This boot's status.json: 1 and the verdict line, 0 when there is none. */
static int read_status(int run_fd, const char *bid, struct rerun *ret)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	json_object *st = NULL, *v;
	struct diag ignore = {0};
	const char *stage = "", *reason = "";
	uint64_t code = 0;
	int found = 0;

	if (fs_read_file_at(run_fd, ANCHOR_RUN_STATUS, 65536, &buf, &len) == 0 &&
	    jf_parse((const char *)buf, len, 4, "status", &st, &ignore) == 0 &&
	    jf_str_eq(st, "boot_id", bid, "status", "", &ignore) == 0 &&
	    jf_u64(st, "exit_code", "status", "", &code, &ignore) == 0 && code <= 9) {
		found = 1;
		if (json_object_object_get_ex(st, "stage", &v) &&
		    json_object_is_type(v, json_type_string))
			stage = json_object_get_string(v);
		if (json_object_object_get_ex(st, "reason", &v) &&
		    json_object_is_type(v, json_type_string))
			reason = json_object_get_string(v);
		ret->found = code == 0 ? RERUN_OK : RERUN_FAILED;
		ret->exit_code = (unsigned)code;
		if (code == 0)
			snprintf(ret->verdict, sizeof(ret->verdict), "OK");
		else
			snprintf(ret->verdict, sizeof(ret->verdict), "FAILED at %s (exit %u): %s",
				 stage, (unsigned)code, reason);
	}
	json_object_put(st);
	free(buf);
	return found;
}

/* The handoff names this boot and the PCR values the log replays to. */
static bool handoff_matches(int run_fd, const char *bid, const struct tpmpolicy_pcr_values *replay)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	json_object *h = NULL;
	struct diag ignore = {0};
	uint8_t p15[32], p13[32];
	bool ok;

	ok = fs_read_file_at(run_fd, ANCHOR_RUN_HANDOFF, 1 << 20, &buf, &len) == 0 &&
	     jf_parse((const char *)buf, len, 8, "handoff", &h, &ignore) == 0 &&
	     jf_str_eq(h, "format", "sealboot-handoff", "handoff", "", &ignore) == 0 &&
	     jf_str_eq(h, "boot_id", bid, "handoff", "", &ignore) == 0 &&
	     jf_hex(h, "pcr15", "handoff", "", p15, 32, &ignore) == 0 &&
	     jf_hex(h, "pcr13", "handoff", "", p13, 32, &ignore) == 0 &&
	     !CRYPTO_memcmp(p15, replay->v[EVENTLOG_PCR_SEAL], 32) &&
	     !CRYPTO_memcmp(p13, replay->v[EVENTLOG_PCR_LOG], 32);
	json_object_put(h);
	free(buf);
	return ok;
}

int rerun_inspect(int run_fd, const char *tcti, struct rerun *ret, struct diag *d)
{
	const tpmpolicy_pcr_mask_t mask =
	    TPMPOLICY_PCR(EVENTLOG_PCR_SEAL) | TPMPOLICY_PCR(EVENTLOG_PCR_LOG);
	static const uint8_t zero[32];
	struct tpmpolicy_pcr_values replay, now;
	char bid[FS_BOOT_ID_SIZE];
	unsigned char *buf = NULL;
	size_t len = 0;
	struct eventlog *log = NULL;
	struct diag ignore = {0};
	struct tpm *t = NULL;
	struct rerun found = {.found = RERUN_NONE};
	struct stat st;
	int r = 0;

	*ret = found;
	fs_boot_id(bid);
	if (!read_status(run_fd, bid, &found))
		return 0;
	log = calloc(1, sizeof(*log));
	if (!log)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	if (fs_read_file_at(run_fd, ANCHOR_RUN_EVENTLOG, 1 << 20, &buf, &len) < 0 ||
	    eventlog_parse((const char *)buf, len, log, &ignore) < 0 || log->n == 0)
		goto out;
	eventlog_replay(log, &replay);
	r = tpm_open(tcti, &t, d);
	if (r == 0)
		r = tpm_pcr_read(t, mask, &now, d);
	tpm_close(t);
	if (r < 0)
		goto out;
	/* A fresh TPM has zeros: nothing ran in this boot, whatever the files say. */
	if (!memcmp(now.v[EVENTLOG_PCR_SEAL], zero, 32) ||
	    CRYPTO_memcmp(replay.v[EVENTLOG_PCR_SEAL], now.v[EVENTLOG_PCR_SEAL], 32) ||
	    CRYPTO_memcmp(replay.v[EVENTLOG_PCR_LOG], now.v[EVENTLOG_PCR_LOG], 32))
		goto out;
	found.handoff = fstatat(run_fd, ANCHOR_RUN_HANDOFF, &st, AT_SYMLINK_NOFOLLOW) == 0;
	found.handoff_matches = found.handoff && handoff_matches(run_fd, bid, &replay);
	*ret = found;
out:
	free(buf);
	free(log);
	return r;
}
