/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/*
 * The bundle manifest (docs/formats/bundle.md), pure: bytes in, struct out,
 * and back. No file, no crypto. Parsing is strict and fails closed: the bytes
 * must pass json_strict_check(), every member must be known and of the right
 * type, and limits below hold. A manifest is only parsed after its signature
 * has been verified over these exact bytes.
 */

#define MANIFEST_FORMAT "sealboot-bundle-manifest"
/* The version sealboot-sign writes with dm-verity; 1 is still read and
 * written (bundle.md section 6, "Version 2"). */
#define MANIFEST_FORMAT_VERSION 1
#define MANIFEST_FORMAT_VERSION_VERITY 2
#define MANIFEST_FORMAT_VERSION_MAX 2
#define MANIFEST_MAX_BYTES (1024u * 1024u)
#define MANIFEST_MAX_DEPTH 8
#define MANIFEST_MAX_PAYLOADS 1024
#define MANIFEST_NAME_MAX 128 /* name, appliance_class: [A-Za-z0-9._-]{1,128} */
#define MANIFEST_PATH_MAX 255
#define DIGEST_MAX_LEN 64

enum payload_role {
	ROLE_DISK,    /* a disk image for the guest */
	ROLE_KERNEL,  /* a kernel for direct boot */
	ROLE_INITRD,  /* an initrd for direct boot */
	ROLE_CMDLINE, /* a kernel command line (text) */
	ROLE_DATA,    /* any other file; verified, not attached to the guest (yet) */
	ROLE_VERITY,  /* version 2: a disk payload's dm-verity hash tree */
	_ROLE_COUNT,
};

enum digest_alg {
	DIGEST_SHA256,
	DIGEST_SHA384,
	_DIGEST_COUNT,
};

/*
 * Version 2: a disk payload's dm-verity parameters (bundle.md, "Version 2").
 * Fixed by the format: hash type 1 (the kernel's current format), no
 * superblock, the tree at offset 0 of its own file, hash sha256, 4096-byte
 * data and hash blocks. The tree file is itself a payload (role verity) with
 * its own digest, so the signature covers it whole, as RAUC's verity bundles
 * cover theirs.
 */
#define VERITY_BLOCK_SIZE 4096
#define VERITY_ROOT_HASH_LEN 32
#define VERITY_SALT_MAX 256
struct payload_verity {
	char *hash_tree;      /* the path of the role-verity payload holding the tree */
	uint64_t data_blocks; /* payload size / VERITY_BLOCK_SIZE */
	unsigned char salt[VERITY_SALT_MAX];
	size_t salt_len; /* 1..VERITY_SALT_MAX */
	unsigned char root_hash[VERITY_ROOT_HASH_LEN];
};

/*
 * On the appliance the anchor activates disk payload p of the bundle in
 * policy slot b as the dm-verity device /dev/mapper/sealboot-verity.B.P
 * (verity.h); the launcher derives the same name from the handoff's bundle
 * order and the manifest. The '.' keeps it apart from every LUKS volume name
 * ([A-Za-z0-9_-]).
 */
#define VERITY_NAME_MAX 48
#define VERITY_MAPPER_DIR "/dev/mapper/"
void verity_mapping_name(size_t bundle, size_t payload, char out[VERITY_NAME_MAX]);

struct payload {
	char *path; /* relative, validated by manifest_path_valid() */
	uint64_t size;
	enum payload_role role;
	enum digest_alg alg;
	unsigned char digest[DIGEST_MAX_LEN]; /* digest_alg_len(alg) bytes */
	struct payload_verity *verity;	      /* version 2, disk payloads; else NULL */
};

struct manifest {
	unsigned format_version;
	char *name;
	uint64_t version; /* full unsigned 64-bit range */
	char *appliance_class;
	bool has_not_after;
	int64_t not_after; /* seconds since the epoch, UTC */
	size_t n_payloads;
	struct payload *payloads;
};

/* Parse and validate. 0, or -EBADMSG (-ENOMEM) with d set to one line naming
 * the offending member, e.g. "manifest: payloads[2].size: expected an
 * unsigned integer". */
int manifest_parse(const char *buf, size_t len, struct manifest **ret, struct diag *d);

/* Serialize to the JSON text that gets signed: members in a fixed order,
 * two-space indentation, trailing newline. Deterministic for equal input.
 * The manifest must be valid (manifest_validate() returns 0). */
int manifest_serialize(const struct manifest *m, char **ret, size_t *ret_len);

/* The checks manifest_parse() makes on the decoded struct (names, paths,
 * duplicates, limits; in version 2 the verity rules: only on disk payloads,
 * hash_tree naming a role-verity payload used by exactly one disk, the size
 * a whole number of data blocks; in version 1 no verity at all); also used
 * before signing. 0 or -EINVAL with d set. */
int manifest_validate(const struct manifest *m, struct diag *d);

void manifest_free(struct manifest *m);

/* A payload path: 1..MANIFEST_PATH_MAX bytes of components joined by '/',
 * each component [A-Za-z0-9._+-]+ and neither "." nor "..", no leading,
 * trailing or doubled '/', and not the name of a bundle's own files
 * ("manifest.json", "manifest.json.p7s") at the top. */
bool manifest_path_valid(const char *path);

const char *payload_role_name(enum payload_role r);
int payload_role_from_name(const char *s, enum payload_role *ret); /* 0 or -EINVAL */
const char *digest_alg_name(enum digest_alg a);			   /* "sha256", "sha384" */
int digest_alg_from_name(const char *s, enum digest_alg *ret);	   /* 0 or -EINVAL */
size_t digest_alg_len(enum digest_alg a);			   /* 32, 48 */

/* RFC 3339 UTC, exactly "YYYY-MM-DDTHH:MM:SSZ". 0 or -EINVAL. */
int manifest_time_parse(const char *s, int64_t *ret);
void manifest_time_format(int64_t t, char out[32]);
