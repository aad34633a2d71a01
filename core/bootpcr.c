/* SPDX-License-Identifier: Apache-2.0 */
#include "bootpcr.h"

#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* --- Authenticode --- */

#define PE_MAX_SECTIONS 96 /* the PE/COFF limit */
#define PE32_MAGIC 0x010Bu
#define PE32PLUS_MAGIC 0x020Bu
#define PE_DIR_SECURITY 4 /* the Certificate Table data directory */

struct range {
	size_t off, len;
};

static int not_pe(struct diag *d, const char *why)
{
	return diag_set(d, DIAG_MALFORMED, EINVAL, "kernel image: %s", why);
}

/* The byte ranges the image hash covers, in order (at most 4 + sections). */
static int pe_ranges(const uint8_t *img, size_t len, struct range *r, size_t *n, struct diag *d)
{
	struct range sec[PE_MAX_SECTIONS];
	size_t pe, opt, dd, shdr, cks, certdir, soh, nsec, optsz, nrva, cert_off = 0, cert_len = 0,
									hashed, end, k = 0, ns = 0;
	uint16_t magic;

	if (len < 0x40 || img[0] != 'M' || img[1] != 'Z')
		return not_pe(d, "no MZ header: not a PE/COFF (EFI) image");
	pe = le32(img + 0x3c);
	if (pe < 0x40 || pe > len || len - pe < 24 || memcmp(img + pe, "PE\0\0", 4) != 0)
		return not_pe(d, "no PE signature at e_lfanew");
	nsec = le16(img + pe + 6);
	optsz = le16(img + pe + 20);
	opt = pe + 24;
	if (nsec > PE_MAX_SECTIONS)
		return not_pe(d, "more than 96 sections");
	if (optsz < 2 || optsz > len - opt)
		return not_pe(d, "optional header runs past the end of the file");
	magic = le16(img + opt);
	if (magic == PE32_MAGIC)
		dd = opt + 96;
	else if (magic == PE32PLUS_MAGIC)
		dd = opt + 112;
	else
		return not_pe(d, "optional header is neither PE32 nor PE32+");
	if (dd > opt + optsz)
		return not_pe(d, "optional header too short");
	nrva = le32(img + dd - 4);
	if (nrva <= PE_DIR_SECURITY || nrva > 16 || (dd - opt) + nrva * 8 > optsz)
		return not_pe(d, "no certificate table data directory in the optional header");
	cks = opt + 64;
	certdir = dd + PE_DIR_SECURITY * 8;
	soh = le32(img + opt + 60);
	shdr = opt + optsz;
	if (nsec * 40 > len - shdr)
		return not_pe(d, "section table runs past the end of the file");
	if (soh < shdr + nsec * 40 || soh > len)
		return not_pe(d, "SizeOfHeaders does not cover the headers or exceeds the file");
	if (le32(img + certdir + 4) != 0) {
		cert_off = le32(img + certdir);
		cert_len = le32(img + certdir + 4);
		if (cert_off > len || cert_len != len - cert_off)
			return not_pe(d, "the certificate table does not end the file");
	} else {
		cert_off = len;
	}
	for (size_t i = 0; i < nsec; i++) {
		const uint8_t *s = img + shdr + 40 * i;
		size_t size = le32(s + 16), ptr = le32(s + 20), j;

		if (size == 0)
			continue;
		if (ptr < soh || ptr > cert_off || size > cert_off - ptr)
			return not_pe(d,
				      "a section's raw data lies outside the file's image bytes");
		/* insertion sort by file offset */
		for (j = ns; j > 0 && sec[j - 1].off > ptr; j--)
			sec[j] = sec[j - 1];
		sec[j] = (struct range){ptr, size};
		ns++;
	}
	/* Header bytes, skipping CheckSum and the Certificate Table entry. */
	r[k++] = (struct range){0, cks};
	r[k++] = (struct range){cks + 4, certdir - (cks + 4)};
	r[k++] = (struct range){certdir + 8, soh - (certdir + 8)};
	hashed = soh;
	for (size_t i = 0; i < ns; i++) {
		if (i > 0 && sec[i].off < sec[i - 1].off + sec[i - 1].len)
			return not_pe(d, "two sections overlap in the file");
		r[k++] = sec[i];
		hashed += sec[i].len;
	}
	/* What follows the last section, up to the certificate table. */
	end = ns ? sec[ns - 1].off + sec[ns - 1].len : soh;
	if (end > cert_off)
		return not_pe(d, "the certificate table overlaps a section");
	if (hashed < cert_off)
		r[k++] = (struct range){hashed, cert_off - hashed};
	*n = k;
	return 0;
}

int bootpcr_authenticode(const uint8_t *img, size_t len, uint8_t out[TPMPOLICY_DIGEST_SIZE],
			 struct diag *d)
{
	struct range r[PE_MAX_SECTIONS + 4];
	EVP_MD_CTX *ctx;
	unsigned int n = 0;
	size_t nr = 0;
	int ret;

	if (!img)
		return not_pe(d, "empty");
	ret = pe_ranges(img, len, r, &nr, d);
	if (ret < 0)
		return ret;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "out of memory");
	ret = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? 0 : -EIO;
	for (size_t i = 0; ret == 0 && i < nr; i++)
		if (EVP_DigestUpdate(ctx, img + r[i].off, r[i].len) != 1)
			ret = -EIO;
	if (ret == 0 && (EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != TPMPOLICY_DIGEST_SIZE))
		ret = -EIO;
	EVP_MD_CTX_free(ctx);
	if (ret < 0)
		return diag_set(d, DIAG_INTERNAL, EIO, "SHA-256 failed");
	return 0;
}

/* --- QEMU's direct kernel boot --- */

/* Linux boot protocol (Documentation/x86/boot.rst), offsets in the image. */
#define HDR_MAGIC 0x202 /* "HdrS" */
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
/* What QEMU 7.2 uses for a protocol >= 2.02 kernel loaded high
 * (x86_load_linux): setup at 0x10000, command line at 0x20000, and 0x20000
 * + 0x8000 bytes of ACPI tables at the top of the RAM below 4 GiB (q35). */
#define QEMU_REAL_ADDR 0x10000u
#define QEMU_CMDLINE_ADDR 0x20000u
#define QEMU_ACPI_DATA_SIZE 0x28000u
#define QEMU_LOADER_TYPE 0xb0

int bootpcr_qemu_patch_setup(uint8_t *img, size_t len, uint64_t initrd_size, uint64_t ram_below_4g,
			     struct diag *d)
{
	uint64_t initrd_max;

	if (!img || len < HDR_INITRD_ADDR_MAX + 4 || memcmp(img + HDR_MAGIC, "HdrS", 4) != 0)
		return not_pe(d, "no Linux x86 setup header (\"HdrS\")");
	if (le16(img + HDR_VERSION) < 0x203 || !(img[HDR_LOADFLAGS] & LOADED_HIGH))
		return not_pe(d, "boot protocol older than 2.03 or not loaded high: not modelled");
	if (ram_below_4g <= QEMU_ACPI_DATA_SIZE || ram_below_4g > (1ull << 32))
		return diag_set(
		    d, DIAG_USAGE, EINVAL,
		    "QEMU guest RAM below 4 GiB must be more than 160 KiB and at most 4 GiB");
	initrd_max = le32(img + HDR_INITRD_ADDR_MAX);
	if (initrd_max >= ram_below_4g - QEMU_ACPI_DATA_SIZE)
		initrd_max = ram_below_4g - QEMU_ACPI_DATA_SIZE - 1;
	if (initrd_size == 0 || initrd_size > initrd_max)
		return diag_set(
		    d, DIAG_USAGE, EINVAL,
		    "an initrd of %llu bytes does not fit below %#llx (QEMU would refuse it)",
		    (unsigned long long)initrd_size, (unsigned long long)initrd_max);
	img[HDR_TYPE_OF_LOADER] = QEMU_LOADER_TYPE;
	img[HDR_LOADFLAGS] |= CAN_USE_HEAP;
	put_le16(img + HDR_HEAP_END_PTR, QEMU_CMDLINE_ADDR - QEMU_REAL_ADDR - 0x200);
	put_le32(img + HDR_CMD_LINE_PTR, QEMU_CMDLINE_ADDR);
	put_le32(img + HDR_RAMDISK_IMAGE, (uint32_t)((initrd_max - initrd_size) & ~(uint64_t)4095));
	put_le32(img + HDR_RAMDISK_SIZE, (uint32_t)initrd_size);
	return 0;
}

/* --- the EFI stub's events --- */

int bootpcr_cmdline_digest(const char *cmdline, uint8_t out[TPMPOLICY_DIGEST_SIZE], struct diag *d)
{
	uint8_t buf[2 * (BOOTPCR_CMDLINE_MAX + 1)];
	unsigned int n = 0;
	size_t len, i;

	if (!cmdline)
		return diag_set(d, DIAG_USAGE, EINVAL, "no command line");
	len = strnlen(cmdline, BOOTPCR_CMDLINE_MAX + 1);
	if (len > BOOTPCR_CMDLINE_MAX)
		return diag_set(d, DIAG_USAGE, EINVAL, "command line longer than %d bytes",
				BOOTPCR_CMDLINE_MAX);
	/* UCS-2 little-endian, as LOADED_IMAGE::LoadOptions holds it, with
	 * the terminating NUL the firmware counts in LoadOptionsSize. */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)cmdline[i];

		if (c < 0x20 || c > 0x7e)
			return diag_set(d, DIAG_USAGE, EINVAL,
					"command line byte %zu is not printable ASCII", i);
		buf[2 * i] = c;
		buf[2 * i + 1] = 0;
	}
	buf[2 * len] = buf[2 * len + 1] = 0;
	if (EVP_Digest(buf, 2 * (len + 1), out, &n, EVP_sha256(), NULL) != 1 ||
	    n != TPMPOLICY_DIGEST_SIZE)
		return diag_set(d, DIAG_INTERNAL, EIO, "SHA-256 failed");
	return 0;
}

static bool is_tag(const struct tcglog_event *ev, uint32_t tag)
{
	return ev->pcr == BOOTPCR_PCR_STUB && ev->type == TCGLOG_EV_EVENT_TAG &&
	       ev->data_len >= 8 && le32(ev->data) == tag;
}

static int predict_stub_only(const struct bootpcr_inputs *in, tpmpolicy_pcr_mask_t want,
			     struct tpmpolicy_pcr_values *out, struct diag *d)
{
	struct tpmpolicy_pcr_values v = {0};
	int r;

	if (want & ~TPMPOLICY_PCR(BOOTPCR_PCR_STUB)) {
		unsigned n = (unsigned)__builtin_ctz(want & ~TPMPOLICY_PCR(BOOTPCR_PCR_STUB));

		return diag_set(d, DIAG_USAGE, EINVAL,
				"PCR %u cannot be predicted from the artifacts alone: give a "
				"reference boot's firmware event log",
				n);
	}
	if (!want)
		goto done;
	if (!in->has_cmdline || !in->has_initrd)
		return diag_set(d, DIAG_USAGE, EINVAL,
				"PCR %d without a reference event log needs both the initrd and "
				"the command line",
				BOOTPCR_PCR_STUB);
	/* Linux 6.1's stub: efi_handle_cmdline() measures the load options,
	 * then efi_load_initrd() the initrd. */
	r = tcglog_extend(v.v[BOOTPCR_PCR_STUB], in->cmdline, d);
	if (r == 0)
		r = tcglog_extend(v.v[BOOTPCR_PCR_STUB], in->initrd, d);
	if (r < 0)
		return r;
done:
	*out = v;
	return 0;
}

int bootpcr_predict(const struct bootpcr_inputs *in, tpmpolicy_pcr_mask_t want,
		    struct tpmpolicy_pcr_values *out, struct diag *d)
{
	struct tpmpolicy_pcr_values v = {0};
	const struct tcglog *log;
	size_t kernel_at = SIZE_MAX;
	bool seen_initrd = false, seen_cmdline = false;
	int r = 0;

	if (!in || !out)
		return diag_set(d, DIAG_USAGE, EINVAL, "bootpcr: no inputs");
	if (want & ~(tpmpolicy_pcr_mask_t)((1u << TPMPOLICY_PCR_COUNT) - 1))
		return diag_set(d, DIAG_USAGE, EINVAL, "PCRs are 0..%d", TPMPOLICY_PCR_COUNT - 1);
	if (!in->ref)
		return predict_stub_only(in, want, out, d);
	log = in->ref;
	for (size_t i = 0; i < log->n; i++) {
		if (log->ev[i].pcr == BOOTPCR_PCR_KERNEL &&
		    log->ev[i].type == TCGLOG_EV_EFI_BOOT_SERVICES_APPLICATION)
			kernel_at = i;
		seen_initrd = seen_initrd || is_tag(&log->ev[i], BOOTPCR_TAG_INITRD);
		seen_cmdline = seen_cmdline || is_tag(&log->ev[i], BOOTPCR_TAG_LOAD_OPTIONS);
	}
	if (in->has_kernel && kernel_at == SIZE_MAX)
		return diag_set(d, DIAG_USAGE, ENOENT,
				"the reference event log has no EFI application on PCR 4 to "
				"put the kernel in place of");
	if (in->has_initrd && !seen_initrd)
		return diag_set(d, DIAG_USAGE, ENOENT,
				"the reference event log has no \"Linux initrd\" event on PCR 9 "
				"(its kernel loaded no initrd, or predates Linux 5.17)");
	if (in->has_cmdline && !seen_cmdline)
		return diag_set(d, DIAG_USAGE, ENOENT,
				"the reference event log has no \"LOADED_IMAGE::LoadOptions\" "
				"event on PCR 9 (its kernel predates Linux 6.1)");
	v.v[0][TPMPOLICY_DIGEST_SIZE - 1] = log->startup_locality;
	for (size_t i = 0; r == 0 && i < log->n; i++) {
		const struct tcglog_event *ev = &log->ev[i];
		const uint8_t *dg = ev->sha256;

		if (ev->type == TCGLOG_EV_NO_ACTION)
			continue;
		if (i == kernel_at && in->has_kernel)
			dg = in->kernel;
		else if (in->has_initrd && is_tag(ev, BOOTPCR_TAG_INITRD))
			dg = in->initrd;
		else if (in->has_cmdline && is_tag(ev, BOOTPCR_TAG_LOAD_OPTIONS))
			dg = in->cmdline;
		r = tcglog_extend(v.v[ev->pcr], dg, d);
	}
	if (r < 0)
		return r;
	for (unsigned i = 0; i < TPMPOLICY_PCR_COUNT; i++)
		if (!(want & TPMPOLICY_PCR(i)))
			memset(v.v[i], 0, TPMPOLICY_DIGEST_SIZE);
	*out = v;
	return 0;
}
