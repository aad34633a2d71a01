/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "tpmpolicy.h"

/*
 * The appliance policy (docs/formats/policy.md), pure: bytes in, struct out,
 * and back. No file, no TPM. It says which release CAs may sign bundles for
 * this appliance, which bundles it runs, which PCRs the disk keys are sealed
 * to, which LUKS volumes it opens, how the guest is shaped and which key may
 * order a zeroize.
 *
 * Parsing is strict and fails closed like the manifest's: the bytes must pass
 * json_strict_check(), every member must be known and of the right type, and
 * the rules below hold. The text that is signed is policy_serialize()'s, and
 * the verifier reads it back with policy_parse_canonical(), so one signed text
 * has exactly one reading.
 *
 * Errors are one line naming the member, e.g.
 *   "policy: volumes[1].uuid: not a canonical lowercase UUID"
 * class DIAG_MALFORMED, -EBADMSG (-ENOMEM when out of memory).
 */

#define POLICY_FORMAT "sealboot-appliance-policy"
#define POLICY_FORMAT_VERSION 1
#define POLICY_MAX_BYTES (256u * 1024u)
#define POLICY_MAX_DEPTH 8
#define POLICY_MAX_RELEASE_CAS 8
#define POLICY_MAX_BUNDLES 8
#define POLICY_MAX_VOLUMES 8
#define POLICY_NAME_MAX 128   /* appliance_class, bundles[].name: [A-Za-z0-9._-] */
#define POLICY_PATH_MAX 255   /* bundles[].path, volumes[].device */
#define POLICY_DM_NAME_MAX 32 /* volumes[].name: [A-Za-z0-9_-] */
#define POLICY_IFNAME_MAX 15  /* guest.bridge: IFNAMSIZ - 1, [A-Za-z0-9_.-] */
#define POLICY_UUID_LEN 36    /* 8-4-4-4-12 */
#define POLICY_VCPUS_MAX 256
#define POLICY_MEMORY_MIB_MIN 64
#define POLICY_MEMORY_MIB_MAX 1048576
/* The PCR sealboot measures into (docs/pcrs.md); every seal must bind it. */
#define POLICY_PCR_SEAL 15

struct policy_bundle {
	char *name; /* unique within the policy */
	char *path; /* absolute, policy_path_valid() */
	uint64_t min_version;
};

struct policy_volume {
	char uuid[POLICY_UUID_LEN + 1]; /* LUKS UUID, lowercase canonical */
	char *name;			/* device-mapper name, unique */
	char *purpose;			/* "data", "images" or "state" */
	char *device;			/* NULL if absent: callers use /dev/disk/by-uuid/<uuid> */
};

enum policy_network {
	POLICY_NET_NONE,
	POLICY_NET_ISOLATED,
	POLICY_NET_BRIDGED,
	_POLICY_NET_COUNT,
};

struct policy_guest {
	unsigned vcpus;	     /* 1..POLICY_VCPUS_MAX */
	uint64_t memory_mib; /* POLICY_MEMORY_MIB_MIN..POLICY_MEMORY_MIB_MAX */
	enum policy_network network;
	char *bridge;	  /* non-NULL exactly when network is POLICY_NET_BRIDGED */
	bool console_log; /* console "log" (true) or "none" (false) */
	bool rng;
	bool vtpm;
};

struct policy {
	unsigned format_version;
	char *appliance_class;
	uint64_t serial;    /* >= 1; higher is newer */
	char **release_cas; /* PEM text as given, one CA certificate each */
	size_t n_release_cas;
	struct policy_bundle *bundles;
	size_t n_bundles;
	tpmpolicy_pcr_mask_t seal_pcrs; /* always includes POLICY_PCR_SEAL */
	/* The admin signed a seal_pcrs that leaves code before the anchor
	 * unmeasured (policy_check_measured_boot() refuses it), on purpose:
	 * sealboot-admin policy sign --allow-unmeasured-boot. Only true when
	 * seal_pcrs fails that check. Member "allow_unmeasured_boot": true,
	 * absent otherwise. */
	bool allow_unmeasured_boot;
	struct policy_volume *volumes;
	size_t n_volumes;
	struct policy_guest guest;
	char *zeroize_key; /* SPKI PEM text as given, a P-256 public key */
};

/* Parse and validate: json_strict_check(), then json-c, then
 * policy_validate(). 0, or -EBADMSG (-ENOMEM) with d set. *ret is written
 * only on success. */
int policy_parse(const char *buf, size_t len, struct policy **ret, struct diag *d);

/* policy_parse(), then refuse unless buf is byte for byte what
 * policy_serialize() makes of the result: "policy: not in canonical form
 * (re-sign it with sealboot-admin policy sign)". The verifier reads signed
 * policies with this. */
int policy_parse_canonical(const char *buf, size_t len, struct policy **ret, struct diag *d);

/* The rules parsing enforces that the struct can express (names, paths,
 * duplicates, ranges, certificates, keys, PCRs); also used before signing.
 * 0 or -EINVAL with d set (class DIAG_MALFORMED). */
int policy_validate(const struct policy *p, struct diag *d);

/* The PCRs that cover everything that runs before the anchor
 * (docs/pcrs.md, "The sealing set"): 4 (the kernel, or the image the
 * firmware started), 7 (Secure Boot state and keys), 15 (sealboot's), and 9
 * (the initramfs and kernel command line, measured by the kernel's EFI stub)
 * or, for a unified kernel image started by systemd-stub, 11 and 12 (its
 * sections; a command line given from outside). */
#define POLICY_PCRS_BOOT_BASE (TPMPOLICY_PCR(4) | TPMPOLICY_PCR(7) | TPMPOLICY_PCR(POLICY_PCR_SEAL))
#define POLICY_PCRS_BOOT_STUB TPMPOLICY_PCR(9)
#define POLICY_PCRS_BOOT_UKI (TPMPOLICY_PCR(11) | TPMPOLICY_PCR(12))

/* Does seal_pcrs cover the code before the anchor? 0, or -EPERM with d
 * naming the first PCR missing and what it measures (class malformed):
 *   "policy: seal_pcrs [0, 4, 7, 15] leaves code before the anchor
 *    unmeasured: PCR 9 (the initramfs and kernel command line) is missing;
 *    ..." */
int policy_check_measured_boot(tpmpolicy_pcr_mask_t seal_pcrs, struct diag *d);

/* The canonical bytes, the ones that get signed: members in the order of
 * the struct, compact (no whitespace outside strings), strings escaped as
 * json-c does with JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
 * one trailing "\n". Deterministic. The policy must be valid: -EINVAL if
 * policy_validate() refuses it, -ENOMEM. *ret is NUL-terminated, the NUL not
 * counted in *ret_len. */
int policy_serialize(const struct policy *p, char **ret, size_t *ret_len);

/* The same document as a json-c object (members in canonical order), for
 * callers that embed it (show --json). No validation beyond what is needed
 * not to crash. 0 or -ENOMEM. */
struct json_object;
int policy_to_json(const struct policy *p, struct json_object **ret);

void policy_free(struct policy *p);

const char *policy_network_name(enum policy_network n); /* "none", "isolated", "bridged" */
int policy_network_from_name(const char *s, enum policy_network *ret); /* 0 or -EINVAL */

/* An absolute path: '/' then 1..n components joined by single '/', each
 * [A-Za-z0-9._+-]+ and neither "." nor "..", no trailing '/', at most
 * POLICY_PATH_MAX bytes in all. */
bool policy_path_valid(const char *path);
/* A LUKS UUID in canonical lowercase form, 8-4-4-4-12 hex digits. */
bool policy_uuid_valid(const char *s);
