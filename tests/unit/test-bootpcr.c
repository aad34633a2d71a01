/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "bootpcr.h"
#include "hex.h"
#include "tcglog.h"

/*
 * Known answers from real boots (tests/fixtures/eventlogs/README): OVMF
 * (Debian 12, OVMF_CODE_4M.fd, q35 without SMM, -m 512) under QEMU 7.2 with a
 * swtpm TPM (sha1, sha256, sha384, sha512 banks), direct kernel boot of
 * Debian's 6.1.0-57-amd64 kernel with a busybox initramfs, which read
 * /sys/kernel/security/tpm0/binary_bios_measurements and
 * /sys/class/tpm/tpm0/pcr-sha256/N. Boot A: -append "console=ttyS0 quiet",
 * initrd of 1984680 bytes; boot B: -append "console=ttyS0 quiet rd.break",
 * the same initrd with a second cpio archive appended (1985040 bytes).
 */
#define DIR "../fixtures/eventlogs"

struct boot {
	const char *log;
	const char *cmdline; /* /proc/cmdline: OVMF appended " initrd=initrd" */
	const char *initrd;  /* sha256sum of the -initrd file */
	const char *kernel;  /* the PCR 4 EV_EFI_BOOT_SERVICES_APPLICATION digest */
	const char *pcr[10]; /* PCRs 0-9 as the guest read them */
};

static const struct boot A = {
    DIR "/ovmf-direct-a.bin",
    "console=ttyS0 quiet initrd=initrd",
    "07d6c3357658ac0d89c5cd1d2d0bb7c5118d9b1affd4dc1f6a2539244cfdc56b",
    "e917dbda27192917af5c91bae0bd4fa91e59671067d1c29d360ae04a53c3fa73",
    {
	"177e29c417b6b61c7cf46ed30b4468931f58642527a268b556254e39b941ec6a",
	"8e9d1fe23131f12d6a523e9c32eb3223d4dc25e14eb5fd60163e7ba8de0f248c",
	"3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969",
	"3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969",
	"a4aad0347737ceb153ac874a59819c1a43427223bb65f44a12bc57d50c6b0d47",
	"a5ceb755d043f32431d63e39f5161464620a3437280494b5850dc1b47cc074e0",
	"3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969",
	"65caf8dd1e0ea7a6347b635d2b379c93b9a1351edc2afc3ecda700e534eb3068",
	"0000000000000000000000000000000000000000000000000000000000000000",
	"c20edb3bec139cd4cf3e86cb70fd3681ea8b030be1803a6240af6ef85dd696c5",
    },
};

static const struct boot B = {
    DIR "/ovmf-direct-b.bin",
    "console=ttyS0 quiet rd.break initrd=initrd",
    "5e80fdc2db523c6dbe5eb1ef540e2f5a9b3de135131fe554f93b6ab1bfd4e718",
    "1187fcfbfe43e59ec0d021e514b8ef9819fa63aa2190078ee25db19feec78011",
    {
	"177e29c417b6b61c7cf46ed30b4468931f58642527a268b556254e39b941ec6a",
	"8e9d1fe23131f12d6a523e9c32eb3223d4dc25e14eb5fd60163e7ba8de0f248c",
	"3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969",
	"3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969",
	"74f10972f5645580275297f307f60b615adb859f416b722df0e98b052c7ce460",
	"a5ceb755d043f32431d63e39f5161464620a3437280494b5850dc1b47cc074e0",
	"3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969",
	"65caf8dd1e0ea7a6347b635d2b379c93b9a1351edc2afc3ecda700e534eb3068",
	"0000000000000000000000000000000000000000000000000000000000000000",
	"d3509c46d8a9e5dd7c7c2a1c97555a51e3cb574ce82da433684649e6aa0642c6",
    },
};

#define PCRS_0_TO_9 ((tpmpolicy_pcr_mask_t)0x3ff)

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 20);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 20, f);
	assert_true(feof(f));
	fclose(f);
	return buf;
}

static void unhex(const char *s, uint8_t out[32])
{
	assert_int_equal(hex_decode(s, out, 32), 0);
}

static void assert_pcr(const struct tpmpolicy_pcr_values *v, unsigned n, const char *want)
{
	char got[65];

	hex_encode(v->v[n], 32, got);
	if (strcmp(got, want) != 0)
		fail_msg("PCR %u: got %s, want %s", n, got, want);
}

static struct tcglog *parse_ok(const uint8_t *buf, size_t len)
{
	struct tcglog *log = NULL;
	struct diag d = {0};

	if (tcglog_parse(buf, len, &log, &d) != 0)
		fail_msg("parse: %s", d.msg);
	return log;
}

/* The log replays to the PCRs the TPM held. */
static void test_replay_matches_tpm(void **state)
{
	const struct boot *boots[] = {&A, &B};

	for (size_t b = 0; b < 2; b++) {
		size_t len;
		uint8_t *buf = slurp(boots[b]->log, &len);
		struct tcglog *log = parse_ok(buf, len);
		struct tpmpolicy_pcr_values v;
		struct diag d = {0};

		assert_int_equal(log->n, 24); /* after the Spec ID event */
		assert_int_equal(tcglog_replay(log, &v, &d), 0);
		for (unsigned n = 0; n < 10; n++)
			assert_pcr(&v, n, boots[b]->pcr[n]);
		for (unsigned n = 10; n < TPMPOLICY_PCR_COUNT; n++)
			assert_pcr(
			    &v, n,
			    "0000000000000000000000000000000000000000000000000000000000000000");
		tcglog_free(log);
		free(buf);
	}
}

static const struct tcglog_event *find(const struct tcglog *log, uint32_t pcr, uint32_t type,
				       int nth)
{
	for (size_t i = 0; i < log->n; i++)
		if (log->ev[i].pcr == pcr && log->ev[i].type == type && nth-- == 0)
			return &log->ev[i];
	return NULL;
}

/* What the stub hashed: the initrd bytes; the command line as UTF-16LE with
 * its NUL. The events' own data name them. */
static void test_stub_events(void **state)
{
	size_t len;
	uint8_t *buf = slurp(A.log, &len), want[32], dg[32];
	struct tcglog *log = parse_ok(buf, len);
	const struct tcglog_event *opt = find(log, 9, TCGLOG_EV_EVENT_TAG, 0);
	const struct tcglog_event *ird = find(log, 9, TCGLOG_EV_EVENT_TAG, 1);
	static const uint8_t opt_data[] =
	    "\xed\x22\x3b\x8f\x1a\x00\x00\x00LOADED_IMAGE::LoadOptions";
	static const uint8_t ird_data[] = "\xec\x22\x3b\x8f\x0d\x00\x00\x00Linux initrd";
	struct diag d = {0};
	EVP_MD_CTX *ctx;
	unsigned int n;

	assert_non_null(opt);
	assert_non_null(ird);
	assert_int_equal(opt->data_len, sizeof(opt_data));
	assert_memory_equal(opt->data, opt_data, sizeof(opt_data));
	assert_int_equal(ird->data_len, sizeof(ird_data));
	assert_memory_equal(ird->data, ird_data, sizeof(ird_data));
	unhex(A.initrd, want);
	assert_memory_equal(ird->sha256, want, 32);
	assert_int_equal(bootpcr_cmdline_digest(A.cmdline, dg, &d), 0);
	assert_memory_equal(opt->sha256, dg, 32);
	/* Without the NUL (or without " initrd=initrd") it would not match. */
	ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
	for (const char *c = A.cmdline; *c; c++)
		assert_int_equal(EVP_DigestUpdate(ctx, (uint8_t[]){(uint8_t)*c, 0}, 2), 1);
	assert_int_equal(EVP_DigestFinal_ex(ctx, dg, &n), 1);
	EVP_MD_CTX_free(ctx);
	assert_memory_not_equal(opt->sha256, dg, 32);
	assert_int_equal(bootpcr_cmdline_digest("console=ttyS0 quiet", dg, &d), 0);
	assert_memory_not_equal(opt->sha256, dg, 32);
	/* The kernel: the last (here only) application on PCR 4. */
	unhex(A.kernel, want);
	assert_memory_equal(find(log, 4, TCGLOG_EV_EFI_BOOT_SERVICES_APPLICATION, 0)->sha256, want,
			    32);
	assert_null(find(log, 4, TCGLOG_EV_EFI_BOOT_SERVICES_APPLICATION, 1));
	tcglog_free(log);
	free(buf);
}

static void inputs_of(const struct boot *b, struct bootpcr_inputs *in)
{
	struct diag d = {0};

	memset(in, 0, sizeof(*in));
	unhex(b->kernel, in->kernel);
	unhex(b->initrd, in->initrd);
	assert_int_equal(bootpcr_cmdline_digest(b->cmdline, in->cmdline, &d), 0);
	in->has_kernel = in->has_initrd = in->has_cmdline = true;
}

/* Boot A's log with boot B's artifacts predicts every PCR boot B reached,
 * and the other way round. */
static void test_predict_other_boot(void **state)
{
	const struct boot *pairs[][2] = {{&A, &B}, {&B, &A}, {&A, &A}};

	for (size_t p = 0; p < 3; p++) {
		size_t len;
		uint8_t *buf = slurp(pairs[p][0]->log, &len);
		struct tcglog *log = parse_ok(buf, len);
		struct tpmpolicy_pcr_values v;
		struct bootpcr_inputs in;
		struct diag d = {0};

		inputs_of(pairs[p][1], &in);
		in.ref = log;
		if (bootpcr_predict(&in, PCRS_0_TO_9 | TPMPOLICY_PCR(15), &v, &d) != 0)
			fail_msg("predict: %s", d.msg);
		for (unsigned n = 0; n < 10; n++)
			assert_pcr(&v, n, pairs[p][1]->pcr[n]);
		assert_pcr(&v, 15,
			   "0000000000000000000000000000000000000000000000000000000000000000");
		/* Only what was asked. */
		assert_int_equal(bootpcr_predict(&in, TPMPOLICY_PCR(9), &v, &d), 0);
		assert_pcr(&v, 4,
			   "0000000000000000000000000000000000000000000000000000000000000000");
		assert_pcr(&v, 9, pairs[p][1]->pcr[9]);
		/* One artifact changed: only its PCR moves. */
		in.cmdline[0] ^= 1;
		assert_int_equal(bootpcr_predict(&in, PCRS_0_TO_9, &v, &d), 0);
		assert_pcr(&v, 4, pairs[p][1]->pcr[4]);
		assert_true(strcmp(pairs[p][1]->pcr[9], "") != 0);
		{
			char got[65];

			hex_encode(v.v[9], 32, got);
			assert_string_not_equal(got, pairs[p][1]->pcr[9]);
		}
		tcglog_free(log);
		free(buf);
	}
}

/* Without a log: PCR 9 from the two stub events alone; nothing else. */
static void test_predict_without_log(void **state)
{
	struct tpmpolicy_pcr_values v;
	struct bootpcr_inputs in;
	struct diag d = {0};

	inputs_of(&B, &in);
	assert_int_equal(bootpcr_predict(&in, TPMPOLICY_PCR(9), &v, &d), 0);
	assert_pcr(&v, 9, B.pcr[9]);
	assert_int_equal(bootpcr_predict(&in, TPMPOLICY_PCR(4) | TPMPOLICY_PCR(9), &v, &d),
			 -EINVAL);
	assert_string_equal(d.msg, "PCR 4 cannot be predicted from the artifacts alone: give a "
				   "reference boot's firmware event log");
	memset(&d, 0, sizeof(d));
	in.has_initrd = false;
	assert_int_equal(bootpcr_predict(&in, TPMPOLICY_PCR(9), &v, &d), -EINVAL);
	assert_string_equal(d.msg, "PCR 9 without a reference event log needs both the initrd and "
				   "the command line");
}

/* A log that lacks the record to substitute is refused, not guessed. */
static void test_predict_needs_the_records(void **state)
{
	size_t len;
	uint8_t *buf = slurp(A.log, &len);
	struct tcglog *full = parse_ok(buf, len), *cut;
	const struct tcglog_event *opt = find(full, 9, TCGLOG_EV_EVENT_TAG, 0);
	struct tpmpolicy_pcr_values v;
	struct bootpcr_inputs in;
	struct diag d = {0};

	/* The log up to the stub's first event: a valid log without them. */
	cut = parse_ok(buf, opt->offset);
	inputs_of(&A, &in);
	in.ref = cut;
	assert_int_equal(bootpcr_predict(&in, PCRS_0_TO_9, &v, &d), -ENOENT);
	assert_string_equal(d.msg, "the reference event log has no \"Linux initrd\" event on PCR 9 "
				   "(its kernel loaded no initrd, or predates Linux 5.17)");
	memset(&d, 0, sizeof(d));
	in.has_initrd = false;
	assert_int_equal(bootpcr_predict(&in, PCRS_0_TO_9, &v, &d), -ENOENT);
	assert_true(strstr(d.msg, "LoadOptions") != NULL);
	/* Without substitutions the cut log predicts what it holds. */
	memset(&d, 0, sizeof(d));
	in.has_cmdline = false;
	assert_int_equal(bootpcr_predict(&in, PCRS_0_TO_9, &v, &d), 0);
	assert_pcr(&v, 4, A.pcr[4]);
	assert_pcr(&v, 9, "0000000000000000000000000000000000000000000000000000000000000000");
	tcglog_free(cut);
	tcglog_free(full);
	free(buf);
}

static void refused(const uint8_t *buf, size_t len, const char *msg)
{
	struct tcglog *log = NULL;
	struct diag d = {0};

	assert_int_equal(tcglog_parse(buf, len, &log, &d), -EBADMSG);
	assert_null(log);
	assert_int_equal(d.cls, DIAG_MALFORMED);
	if (msg && !strstr(d.msg, msg))
		fail_msg("got '%s', want '%s'", d.msg, msg);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Strict: a log parses exactly when it ends at a record boundary; every
 * kind of bad record is named. */
static void test_parse_strict(void **state)
{
	size_t len;
	uint8_t *buf = slurp(A.log, &len), *c = malloc(len);
	struct tcglog *log = parse_ok(buf, len);
	size_t boundaries = 0, first = log->ev[0].offset;
	struct diag d = {0};

	for (size_t cut = 0; cut < len; cut++) {
		struct tcglog *l = NULL;
		bool boundary = false;

		for (size_t i = 0; i < log->n; i++)
			boundary = boundary || log->ev[i].offset == cut;
		memset(&d, 0, sizeof(d));
		if (tcglog_parse(buf, cut, &l, &d) == 0) {
			assert_true(boundary);
			boundaries++;
			tcglog_free(l);
		} else {
			assert_false(boundary);
			assert_int_equal(d.cls, DIAG_MALFORMED);
		}
	}
	assert_int_equal(boundaries, log->n);

	/* The first record must be the Spec ID event. */
	memcpy(c, buf, len);
	put32(c + 4, 1);
	refused(c, len, "record at byte 0: the first record is not the Spec ID event");
	memcpy(c, buf, len);
	c[32] = 'X';
	refused(c, len, "not a \"Spec ID Event03\" event");
	/* The Spec ID event declares sha1, sha256, sha384, sha512: make the
	 * sha256 entry (second, at 32+28+4) another algorithm. */
	memcpy(c, buf, len);
	assert_int_equal(c[64] | c[65] << 8, 0x000b);
	c[64] = 0x12;
	refused(c, len, "the log has no sha256 bank");
	memcpy(c, buf, len);
	c[64] = 0x04; /* sha1 twice */
	refused(c, len, "an algorithm is declared twice");
	memcpy(c, buf, len);
	c[32 + 28 + 16] += 1; /* vendorInfoSize */
	refused(c, len, "do not fill EventSize exactly");
	/* The first TCG_PCR_EVENT2. */
	memcpy(c, buf, len);
	put32(c + first, 24);
	refused(c, len, "PCR index above 23");
	memcpy(c, buf, len);
	put32(c + first + 8, 5);
	refused(c, len, "more digests than the Spec ID event declares");
	memcpy(c, buf, len);
	c[first + 12] = 0x99;
	refused(c, len, "a digest of an algorithm the Spec ID event does not declare");
	memcpy(c, buf, len);
	c[first + 12 + 2 + 20] = 0x04; /* the sha256 entry claims sha1 */
	c[first + 12 + 2 + 20 + 1] = 0x00;
	refused(c, len, NULL);
	memcpy(c, buf, len);
	put32(c + log->ev[log->n - 1].offset + 12 + 2 + 20 + 2 + 32 + 2 + 48 + 2 + 64, 0x7fffffff);
	refused(c, len, "event data runs past the end of the log");
	refused(buf, 10, "too short for the Spec ID event");
	memset(&d, 0, sizeof(d));
	assert_int_equal(tcglog_parse(buf, TCGLOG_MAX_BYTES + 1, &log, &d), -EBADMSG);
	tcglog_free(log);
	free(c);
	free(buf);
}

/* --- Authenticode --- */

/* A small PE32+ image: DOS header, PE header, optional header with 16 data
 * directories, two sections in reverse file order, 24 trailing bytes, and
 * (when signed) a certificate table at the end. Bytes not set are a
 * pattern, so a range wrongly skipped or included changes the digest. */
#define PE_LEN 0x600
static size_t make_pe(uint8_t *img, bool with_cert)
{
	size_t pe = 0x80, opt = pe + 24, shdr = opt + 240, len = PE_LEN;

	for (size_t i = 0; i < PE_LEN + 64; i++)
		img[i] = (uint8_t)(i * 7 + 3);
	img[0] = 'M';
	img[1] = 'Z';
	put32(img + 0x3c, (uint32_t)pe);
	memcpy(img + pe, "PE\0\0", 4);
	img[pe + 6] = 2; /* NumberOfSections */
	img[pe + 7] = 0;
	img[pe + 20] = 240; /* SizeOfOptionalHeader */
	img[pe + 21] = 0;
	img[opt] = 0x0b; /* PE32+ */
	img[opt + 1] = 0x02;
	put32(img + opt + 60, 0x200);	/* SizeOfHeaders */
	put32(img + opt + 108, 16);	/* NumberOfRvaAndSizes */
	put32(img + opt + 112 + 32, 0); /* Certificate Table */
	put32(img + opt + 112 + 36, 0);
	/* section 0 at 0x400 (0x100 bytes), section 1 at 0x200 (0x200 bytes) */
	put32(img + shdr + 16, 0x100);
	put32(img + shdr + 20, 0x400);
	put32(img + shdr + 40 + 16, 0x200);
	put32(img + shdr + 40 + 20, 0x200);
	/* 0x500..0x600: trailing data */
	if (with_cert) {
		put32(img + opt + 112 + 32, PE_LEN);
		put32(img + opt + 112 + 36, 64);
		len += 64;
	}
	return len;
}

/* Independently computed (Python hashlib over the ranges the Authenticode
 * specification lists) for the image above; the same with a certificate
 * table, whose entry and contents are excluded; the CheckSum excluded. */
#define PE_DIGEST "f133d2901b6ff78d1f987ba5620d344a8f96a07245896cc36d5e84fc5473749b"

static void test_authenticode(void **state)
{
	uint8_t img[PE_LEN + 64], img2[PE_LEN + 64], dg[32], dg2[32];
	size_t len = make_pe(img, false), len2;
	struct diag d = {0};
	char hex[65];

	assert_int_equal(bootpcr_authenticode(img, len, dg, &d), 0);
	hex_encode(dg, 32, hex);
	assert_string_equal(hex, PE_DIGEST);
	len2 = make_pe(img2, true);
	assert_int_equal(bootpcr_authenticode(img2, len2, dg2, &d), 0);
	assert_memory_equal(dg, dg2, 32);
	img2[PE_LEN + 5] ^= 1;	   /* inside the certificate table */
	img2[0x80 + 24 + 64] ^= 1; /* CheckSum */
	assert_int_equal(bootpcr_authenticode(img2, len2, dg2, &d), 0);
	assert_memory_equal(dg, dg2, 32);
	/* Any other byte counts: header, section, trailing data. */
	for (size_t at = 0; at < PE_LEN; at += 0x7f) {
		if (at >= 0x80 + 24 + 64 && at < 0x80 + 24 + 68)
			continue;
		memcpy(img2, img, len);
		img2[at] ^= 0x40;
		memset(&d, 0, sizeof(d));
		if (bootpcr_authenticode(img2, len, dg2, &d) == 0)
			assert_memory_not_equal(dg, dg2, 32);
	}
}

static void pe_refused(uint8_t *img, size_t len, const char *msg)
{
	uint8_t dg[32];
	struct diag d = {0};

	assert_int_equal(bootpcr_authenticode(img, len, dg, &d), -EINVAL);
	assert_int_equal(d.cls, DIAG_MALFORMED);
	if (!strstr(d.msg, msg))
		fail_msg("got '%s', want '%s'", d.msg, msg);
}

static void test_authenticode_strict(void **state)
{
	uint8_t img[PE_LEN + 64];
	size_t len;

	len = make_pe(img, false);
	img[0] = 'X';
	pe_refused(img, len, "no MZ header");
	len = make_pe(img, false);
	put32(img + 0x3c, PE_LEN - 4);
	pe_refused(img, len, "no PE signature");
	len = make_pe(img, false);
	pe_refused(img, 0x1f0, "SizeOfHeaders does not cover the headers or exceeds the file");
	pe_refused(img, 0x4ff, "a section's raw data lies outside");
	len = make_pe(img, false);
	put32(img + 0x80 + 24 + 240 + 20, 0x380); /* section 0 into section 1 */
	pe_refused(img, len, "two sections overlap");
	len = make_pe(img, true);
	pe_refused(img, len - 1, "the certificate table does not end the file");
	len = make_pe(img, false);
	put32(img + 0x80 + 24 + 108, 4);
	pe_refused(img, len, "no certificate table data directory");
	len = make_pe(img, false);
	img[0x80 + 24] = 0x07;
	pe_refused(img, len, "neither PE32 nor PE32+");
}

/* What QEMU writes into the setup header before OVMF measures the image;
 * the values as x86_load_linux computes them (boot A: 1984680 bytes of
 * initrd, -m 512). That the result is what OVMF measured is shown against
 * Debian's kernel in tests/appliance/test-pcr-predict.sh. */
static void test_qemu_patch(void **state)
{
	uint8_t hdr[0x400] = {0};
	struct diag d = {0};
	uint32_t addr;

	memcpy(hdr + 0x202, "HdrS", 4);
	hdr[0x206] = 0x0f;
	hdr[0x207] = 0x02;
	hdr[0x211] = 0x01;
	put32(hdr + 0x22c, 0x7fffffff);
	assert_int_equal(bootpcr_qemu_patch_setup(hdr, sizeof(hdr), 1984680, 512u << 20, &d), 0);
	assert_int_equal(hdr[0x210], 0xb0);
	assert_int_equal(hdr[0x211], 0x81);
	assert_int_equal(hdr[0x224] | hdr[0x225] << 8, 0xfe00);
	assert_int_equal(hdr[0x228] | hdr[0x229] << 8 | hdr[0x22a] << 16, 0x20000);
	addr = (uint32_t)hdr[0x218] | (uint32_t)hdr[0x219] << 8 | (uint32_t)hdr[0x21a] << 16 |
	       (uint32_t)hdr[0x21b] << 24;
	assert_int_equal(addr, ((512u << 20) - 0x28000u - 1 - 1984680u) & ~4095u);
	assert_int_equal(hdr[0x21c] | hdr[0x21d] << 8 | hdr[0x21e] << 16, 1984680);
	memset(&d, 0, sizeof(d));
	assert_int_equal(bootpcr_qemu_patch_setup(hdr, sizeof(hdr), 600u << 20, 512u << 20, &d),
			 -EINVAL);
	hdr[0x202] = 'X';
	assert_int_equal(bootpcr_qemu_patch_setup(hdr, sizeof(hdr), 1, 512u << 20, &d), -EINVAL);
}

static void test_cmdline_refusals(void **state)
{
	char longer[BOOTPCR_CMDLINE_MAX + 2];
	uint8_t dg[32];
	struct diag d = {0};

	assert_int_equal(bootpcr_cmdline_digest("init=/bin/sh\n", dg, &d), -EINVAL);
	assert_string_equal(d.msg, "command line byte 12 is not printable ASCII");
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = 0;
	memset(&d, 0, sizeof(d));
	assert_int_equal(bootpcr_cmdline_digest(longer, dg, &d), -EINVAL);
	longer[BOOTPCR_CMDLINE_MAX] = 0;
	assert_int_equal(bootpcr_cmdline_digest(longer, dg, &d), 0);
	assert_int_equal(bootpcr_cmdline_digest("", dg, &d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_replay_matches_tpm),
	    cmocka_unit_test(test_stub_events),
	    cmocka_unit_test(test_predict_other_boot),
	    cmocka_unit_test(test_predict_without_log),
	    cmocka_unit_test(test_predict_needs_the_records),
	    cmocka_unit_test(test_parse_strict),
	    cmocka_unit_test(test_authenticode),
	    cmocka_unit_test(test_authenticode_strict),
	    cmocka_unit_test(test_qemu_patch),
	    cmocka_unit_test(test_cmdline_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
