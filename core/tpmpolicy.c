/* SPDX-License-Identifier: Apache-2.0 */
#include "tpmpolicy.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* TPM structures are marshalled with every multi-octet integer big-endian. */
static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

struct chunk {
	const void *p;
	size_t len;
};

/* out = SHA-256(chunks[0] || ... || chunks[n-1]). out may alias an input:
 * it is written only after the last update. */
static int sha256_chunks(const struct chunk *chunks, size_t n, uint8_t out[TPMPOLICY_DIGEST_SIZE],
			 struct diag *d)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	int r = 0;

	if (!ctx)
		return diag_set(d, DIAG_INTERNAL, ENOMEM, "tpmpolicy: out of memory");
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		r = diag_set(d, DIAG_INTERNAL, EIO, "tpmpolicy: SHA-256 unavailable");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (chunks[i].len == 0)
			continue;
		if (EVP_DigestUpdate(ctx, chunks[i].p, chunks[i].len) != 1) {
			r = diag_set(d, DIAG_INTERNAL, EIO, "tpmpolicy: SHA-256 failed");
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != TPMPOLICY_DIGEST_SIZE)
		r = diag_set(d, DIAG_INTERNAL, EIO, "tpmpolicy: SHA-256 failed");
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* A Name as the policy commands take it for a key or NV index: nameAlg ||
 * H_nameAlg(public area) (Part 1, 16). Only sha256 names for now, so the
 * length is fixed. */
static int check_name(const char *what, const uint8_t *name, size_t len, struct diag *d)
{
	if (!name || len != TPMPOLICY_NAME_SIZE)
		return diag_set(d, DIAG_USAGE, EINVAL,
				"tpmpolicy: %s Name must be %d bytes (sha256 nameAlg), got %zu",
				what, TPMPOLICY_NAME_SIZE, name ? len : 0);
	if (get_be16(name) != TPMPOLICY_ALG_SHA256)
		return diag_set(d, DIAG_USAGE, EINVAL,
				"tpmpolicy: %s Name has nameAlg 0x%04x, expected sha256 (0x%04x)",
				what, get_be16(name), TPMPOLICY_ALG_SHA256);
	return 0;
}

int tpmpolicy_pcr_mask_why(tpmpolicy_pcr_mask_t mask, char *why, size_t len)
{
	if (mask == 0) {
		snprintf(why, len, "empty PCR selection: a PCR policy must bind at least one PCR");
		return -EINVAL;
	}
	for (unsigned n = 0; n < 32; n++) {
		if (!(mask & TPMPOLICY_PCR(n)))
			continue;
		if (n >= TPMPOLICY_PCR_COUNT) {
			snprintf(why, len, "PCR %u does not exist (PCRs are 0..%d)", n,
				 TPMPOLICY_PCR_COUNT - 1);
			return -EINVAL;
		}
		if (TPMPOLICY_PCR_RESETTABLE & TPMPOLICY_PCR(n)) {
			snprintf(
			    why, len,
			    "refusing to seal to PCR %u: it can be reset from software (PCR 16 "
			    "debug, PCR 23 application), so anyone could replay its value",
			    n);
			return -EINVAL;
		}
	}
	return 0;
}

int tpmpolicy_check_pcr_mask(tpmpolicy_pcr_mask_t mask, struct diag *d)
{
	char why[TPMPOLICY_WHY_MAX];

	if (tpmpolicy_pcr_mask_why(mask, why, sizeof(why)) < 0)
		return diag_set(d, DIAG_USAGE, EINVAL, "tpmpolicy: %s", why);
	return 0;
}

void tpmpolicy_init(uint8_t digest[TPMPOLICY_DIGEST_SIZE])
{
	memset(digest, 0, TPMPOLICY_DIGEST_SIZE);
}

int tpmpolicy_pcr_selection(tpmpolicy_pcr_mask_t mask, uint8_t out[TPMPOLICY_PCR_SELECTION_SIZE],
			    struct diag *d)
{
	int r = tpmpolicy_check_pcr_mask(mask, d);

	if (r < 0)
		return r;
	/* TPML_PCR_SELECTION (Part 2, 10.9.7): UINT32 count, then count
	 * TPMS_PCR_SELECTION (10.6.2): TPMI_ALG_HASH hash, UINT8 sizeofSelect,
	 * BYTE pcrSelect[sizeofSelect], where PCR n is bit (n % 8) of octet
	 * n / 8 (10.6.1): PCR 7 is 0x80 in the first octet, not the last. */
	put_be32(out, 1);
	put_be16(out + 4, TPMPOLICY_ALG_SHA256);
	out[6] = TPMPOLICY_PCR_COUNT / 8;
	for (unsigned i = 0; i < TPMPOLICY_PCR_COUNT / 8; i++)
		out[7 + i] = (uint8_t)(mask >> (8 * i));
	return 0;
}

int tpmpolicy_pcr_digest(tpmpolicy_pcr_mask_t mask, const struct tpmpolicy_pcr_values *values,
			 uint8_t out[TPMPOLICY_DIGEST_SIZE], struct diag *d)
{
	struct chunk c[TPMPOLICY_PCR_COUNT];
	size_t n = 0;
	int r = tpmpolicy_check_pcr_mask(mask, d);

	if (r < 0)
		return r;
	if (!values)
		return diag_set(d, DIAG_USAGE, EINVAL, "tpmpolicy: no PCR values given");
	/* Part 3, 23.7: pcrDigest is the digest of the selected PCR values in
	 * the order of the selection: one bank, so ascending PCR number. */
	for (unsigned i = 0; i < TPMPOLICY_PCR_COUNT; i++)
		if (mask & TPMPOLICY_PCR(i))
			c[n++] = (struct chunk){values->v[i], TPMPOLICY_DIGEST_SIZE};
	return sha256_chunks(c, n, out, d);
}

int tpmpolicy_policy_pcr(uint8_t digest[TPMPOLICY_DIGEST_SIZE], tpmpolicy_pcr_mask_t mask,
			 const uint8_t pcr_digest[TPMPOLICY_DIGEST_SIZE], struct diag *d)
{
	uint8_t cc[4], sel[TPMPOLICY_PCR_SELECTION_SIZE];
	int r = tpmpolicy_pcr_selection(mask, sel, d);

	if (r < 0)
		return r;
	put_be32(cc, TPMPOLICY_CC_POLICY_PCR);
	/* Part 3, 23.7:
	 * policyDigest_new := H(policyDigest_old || TPM_CC_PolicyPCR || pcrs || digestTPM) */
	const struct chunk c[] = {
	    {digest, TPMPOLICY_DIGEST_SIZE},
	    {cc, sizeof(cc)},
	    {sel, sizeof(sel)},
	    {pcr_digest, TPMPOLICY_DIGEST_SIZE},
	};
	return sha256_chunks(c, sizeof(c) / sizeof(c[0]), digest, d);
}

int tpmpolicy_object_name(const uint8_t *tpmt_public, size_t len, uint8_t out[TPMPOLICY_NAME_SIZE],
			  struct diag *d)
{
	uint8_t md[TPMPOLICY_DIGEST_SIZE];
	int r;

	/* TPMT_PUBLIC (Part 2, 12.2.4) starts TPMI_ALG_PUBLIC type, then
	 * TPMI_ALG_HASH nameAlg: the Name is hashed with the object's own
	 * nameAlg, so a key whose nameAlg is not sha256 cannot be named here. */
	if (!tpmt_public || len < 4)
		return diag_set(d, DIAG_USAGE, EINVAL,
				"tpmpolicy: TPMT_PUBLIC too short (%zu bytes)",
				tpmt_public ? len : 0);
	if (get_be16(tpmt_public + 2) != TPMPOLICY_ALG_SHA256)
		return diag_set(
		    d, DIAG_USAGE, EINVAL,
		    "tpmpolicy: object nameAlg is 0x%04x, only sha256 (0x%04x) is supported",
		    get_be16(tpmt_public + 2), TPMPOLICY_ALG_SHA256);
	r = sha256_chunks(&(struct chunk){tpmt_public, len}, 1, md, d);
	if (r < 0)
		return r;
	put_be16(out, TPMPOLICY_ALG_SHA256);
	memcpy(out + 2, md, sizeof(md));
	return 0;
}

static int check_ref(const uint8_t *ref, size_t ref_len, struct diag *d)
{
	if (ref_len > TPMPOLICY_MAX_BUFFER || (ref_len && !ref))
		return diag_set(d, DIAG_USAGE, EINVAL,
				"tpmpolicy: policyRef must be at most %d bytes, got %zu",
				TPMPOLICY_MAX_BUFFER, ref_len);
	return 0;
}

int tpmpolicy_policy_authorize(uint8_t digest[TPMPOLICY_DIGEST_SIZE], const uint8_t *key_name,
			       size_t name_len, const uint8_t *ref, size_t ref_len, struct diag *d)
{
	static const uint8_t zero[TPMPOLICY_DIGEST_SIZE];
	uint8_t cc[4], tmp[TPMPOLICY_DIGEST_SIZE];
	int r;

	r = check_name("authorizing key", key_name, name_len, d);
	if (r < 0)
		return r;
	r = check_ref(ref, ref_len, d);
	if (r < 0)
		return r;
	put_be32(cc, TPMPOLICY_CC_POLICY_AUTHORIZE);
	/* Part 3, 23.16, PolicyUpdate() with the digest reset first: the
	 * approved policy is replaced, not extended, so the old digest does not
	 * enter. An empty policyRef still costs the second hash.
	 *   policyDigest := H(0...0 || TPM_CC_PolicyAuthorize || keySign->Name)
	 *   policyDigest := H(policyDigest || policyRef) */
	const struct chunk first[] = {
	    {zero, sizeof(zero)},
	    {cc, sizeof(cc)},
	    {key_name, name_len},
	};
	r = sha256_chunks(first, sizeof(first) / sizeof(first[0]), tmp, d);
	if (r < 0)
		return r;
	const struct chunk second[] = {
	    {tmp, sizeof(tmp)},
	    {ref, ref_len},
	};
	return sha256_chunks(second, sizeof(second) / sizeof(second[0]), digest, d);
}

int tpmpolicy_authorize_ahash(const uint8_t approved[TPMPOLICY_DIGEST_SIZE], const uint8_t *ref,
			      size_t ref_len, uint8_t out[TPMPOLICY_DIGEST_SIZE], struct diag *d)
{
	int r = check_ref(ref, ref_len, d);

	if (r < 0)
		return r;
	/* Part 3, 23.16: the ticket is checked against
	 * aHash := H_authAlg(approvedPolicy || policyRef), authAlg being the
	 * signing scheme's hash (here SHA-256). */
	const struct chunk c[] = {
	    {approved, TPMPOLICY_DIGEST_SIZE},
	    {ref, ref_len},
	};
	return sha256_chunks(c, sizeof(c) / sizeof(c[0]), out, d);
}

int tpmpolicy_policy_nv(uint8_t digest[TPMPOLICY_DIGEST_SIZE], const uint8_t *operand_b,
			size_t operand_len, uint16_t offset, enum tpmpolicy_eo operation,
			const uint8_t *nv_name, size_t name_len, struct diag *d)
{
	uint8_t cc[4], tail[4], args[TPMPOLICY_DIGEST_SIZE];
	int r;

	if (!operand_b || operand_len == 0 || operand_len > TPMPOLICY_MAX_BUFFER)
		return diag_set(d, DIAG_USAGE, EINVAL,
				"tpmpolicy: PolicyNV operandB must be 1..%d bytes, got %zu",
				TPMPOLICY_MAX_BUFFER, operand_b ? operand_len : 0);
	if ((unsigned)operation > TPMPOLICY_EO_BITCLEAR)
		return diag_set(d, DIAG_USAGE, EINVAL,
				"tpmpolicy: PolicyNV operation 0x%04x is not a TPM_EO",
				(unsigned)operation);
	/* The TPM also needs offset + size <= the index's dataSize; only it
	 * knows that, but a sum past 0xffff can never hold. */
	if ((size_t)offset + operand_len > 0xffff)
		return diag_set(d, DIAG_USAGE, EINVAL,
				"tpmpolicy: PolicyNV offset %u + %zu bytes exceeds any NV index",
				offset, operand_len);
	r = check_name("NV index", nv_name, name_len, d);
	if (r < 0)
		return r;
	/* Part 3, 23.9:
	 *   args := H(operandB.buffer || offset || operation)
	 *   policyDigest_new := H(policyDigest_old || TPM_CC_PolicyNV || args || nvIndex->Name)
	 * offset and operation are UINT16 big-endian; operandB without its
	 * TPM2B size. */
	put_be16(tail, offset);
	put_be16(tail + 2, (uint16_t)operation);
	const struct chunk a[] = {
	    {operand_b, operand_len},
	    {tail, sizeof(tail)},
	};
	r = sha256_chunks(a, sizeof(a) / sizeof(a[0]), args, d);
	if (r < 0)
		return r;
	put_be32(cc, TPMPOLICY_CC_POLICY_NV);
	const struct chunk c[] = {
	    {digest, TPMPOLICY_DIGEST_SIZE},
	    {cc, sizeof(cc)},
	    {args, sizeof(args)},
	    {nv_name, name_len},
	};
	return sha256_chunks(c, sizeof(c) / sizeof(c[0]), digest, d);
}

void tpmpolicy_nv_name(uint32_t index, uint32_t attributes, uint16_t data_size,
		       uint8_t out[TPMPOLICY_NAME_SIZE])
{
	uint8_t pub[4 + 2 + 4 + 2 + 2];
	unsigned int len = 0;

	put_be32(pub, index);
	put_be16(pub + 4, TPMPOLICY_ALG_SHA256);
	put_be32(pub + 6, attributes);
	put_be16(pub + 10, 0); /* authPolicy: empty TPM2B */
	put_be16(pub + 12, data_size);
	put_be16(out, TPMPOLICY_ALG_SHA256);
	/* SHA-256 of a fixed 14-byte buffer cannot fail. */
	(void)EVP_Digest(pub, sizeof(pub), out + 2, &len, EVP_sha256(), NULL);
}

int tpmpolicy_approved_pcr_policy(tpmpolicy_pcr_mask_t mask,
				  const uint8_t pcr_digest[TPMPOLICY_DIGEST_SIZE], uint64_t serial,
				  const uint8_t counter_name[TPMPOLICY_NAME_SIZE],
				  uint8_t out[TPMPOLICY_DIGEST_SIZE], struct diag *d)
{
	uint8_t digest[TPMPOLICY_DIGEST_SIZE], operand[8];
	int r;

	for (int i = 0; i < 8; i++)
		operand[i] = (uint8_t)(serial >> (56 - 8 * i));
	tpmpolicy_init(digest);
	r = tpmpolicy_policy_pcr(digest, mask, pcr_digest, d);
	if (r == 0)
		r = tpmpolicy_policy_nv(digest, operand, sizeof(operand), 0,
					TPMPOLICY_EO_UNSIGNED_LE, counter_name, TPMPOLICY_NAME_SIZE,
					d);
	if (r == 0)
		memcpy(out, digest, sizeof(digest));
	return r;
}
