/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The launcher's trust in the anchor's handoff (core/handoff.c): a
 * handoff is believed only as far as the event log confirms it, and the log
 * only as far as it replays to the TPM's PCRs. A log and handoff are built
 * here the way the anchor writes them; each tampering is refused with its
 * reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "handoff.h"
#include "hex.h"

#define BOOT "2f0c2b7e-3a51-4b8e-9d1c-55e0a1b2c3d4"

struct world {
	struct eventlog log;
	struct tpmpolicy_pcr_values now;
	uint8_t policy[32], manifest[32];
	char json[4096];
};

#define ROOT "5555555555555555555555555555555555555555555555555555555555555555"
#define DEV "/dev/mapper/sealboot-verity.0.0"

/* where the disk's verity event goes: before the cap (the anchor's), after
 * it (anyone's), or nowhere */
enum verity_at { VERITY_BEFORE, VERITY_AFTER, VERITY_NONE };

static void verity_event(struct world *w)
{
	char text[EVENTLOG_TEXT_MAX];
	uint8_t root[32];
	struct diag d = {0};

	memset(root, 0x55, 32);
	eventlog_text_verity(text, "os", "disk.img", root, DEV);
	assert_int_equal(eventlog_add(&w->log, EVENTLOG_PCR_LOG, text, &d), 0);
}

static void build_at(struct world *w, bool cap, enum verity_at at);
static void build(struct world *w, bool cap)
{
	build_at(w, cap, VERITY_BEFORE);
}

static void build_at(struct world *w, bool cap, enum verity_at at)
{
	char text[EVENTLOG_TEXT_MAX], p[65], m[65], pcr15[65], pcr13[65];
	uint8_t zero[32] = {0}, id[32] = {1};
	struct diag d = {0};

	memset(w, 0, sizeof(*w));
	memset(w->policy, 0x11, 32);
	memset(w->manifest, 0x22, 32);
	eventlog_text_policy(text, 3, w->policy, zero, zero);
	assert_int_equal(eventlog_add(&w->log, EVENTLOG_PCR_SEAL, text, &d), 0);
	eventlog_text_authority(text, "os", zero, "acme");
	assert_int_equal(eventlog_add(&w->log, EVENTLOG_PCR_SEAL, text, &d), 0);
	eventlog_text_content(text, "os", 7, w->manifest);
	assert_int_equal(eventlog_add(&w->log, EVENTLOG_PCR_LOG, text, &d), 0);
	if (at == VERITY_BEFORE)
		verity_event(w);
	eventlog_text_volume(text, "data", "5e4b0a7c-2f1d-4c3b-9a8e-1d2c3b4a5f60", id);
	assert_int_equal(eventlog_add(&w->log, EVENTLOG_PCR_SEAL, text, &d), 0);
	if (cap) {
		eventlog_text_cap(text);
		assert_int_equal(eventlog_add(&w->log, EVENTLOG_PCR_SEAL, text, &d), 0);
	}
	if (at == VERITY_AFTER)
		verity_event(w);
	eventlog_replay(&w->log, &w->now);
	hex_encode(w->policy, 32, p);
	hex_encode(w->manifest, 32, m);
	hex_encode(w->now.v[15], 32, pcr15);
	hex_encode(w->now.v[13], 32, pcr13);
	snprintf(
	    w->json, sizeof(w->json),
	    "{\"format\": \"sealboot-handoff\", \"format_version\": 2, \"boot_id\": \"%s\","
	    " \"policy_serial\": 3, \"policy_sha256\": \"%s\", \"pcr15\": \"%s\","
	    " \"pcr13\": \"%s\", \"eventlog\": \"eventlog.jsonl\", \"bundles\": ["
	    "{\"name\": \"os\", \"path\": \"/b/os\", \"version\": 7, \"manifest_sha256\": \"%s\","
	    " \"disks\": [{\"payload\": \"disk.img\", \"method\": \"verity\", \"device\": \"" DEV
	    "\","
	    " \"root_hash\": \"" ROOT "\"}, {\"payload\": \"data.img\", \"method\": \"full-hash\","
	    " \"device\": null, \"root_hash\": null}]}],"
	    " \"volumes\": [{\"name\": \"data\", \"uuid\": "
	    "\"5e4b0a7c-2f1d-4c3b-9a8e-1d2c3b4a5f60\", \"device\": \"/dev/vdb\","
	    " \"mapper\": \"/dev/mapper/data\", \"activated\": true}]}",
	    BOOT, p, pcr15, pcr13, m);
}

/* Parse w->json and check it; the result and the message. */
static int check(struct world *w, const char *boot, struct diag *d)
{
	struct handoff h;
	int r = handoff_parse(w->json, strlen(w->json), &h, d);

	if (r < 0)
		return r;
	return handoff_check(&h, boot, &w->log, &w->now, w->policy, d);
}

static void refused(struct world *w, const char *boot, int want, const char *text)
{
	struct diag d = {0};

	assert_int_equal(check(w, boot, &d), want);
	if (!strstr(d.msg, text))
		fail_msg("message '%s' lacks '%s'", d.msg, text);
	assert_null(strchr(d.msg, '\n'));
}

static void test_good(void **state)
{
	struct world *w = malloc(sizeof(*w));
	struct diag d = {0};
	struct handoff h;

	build(w, true);
	assert_int_equal(check(w, BOOT, &d), 0);
	assert_int_equal(handoff_parse(w->json, strlen(w->json), &h, &d), 0);
	assert_int_equal(h.n_bundles, 1);
	assert_int_equal(h.bundles[0].version, 7);
	assert_true(h.volumes[0].activated);
	assert_string_equal(h.volumes[0].mapper, "/dev/mapper/data");
	free(w);
}

static void test_stale(void **state)
{
	struct world *w = malloc(sizeof(*w));

	build(w, true);
	refused(w, "00000000-0000-0000-0000-000000000000", -ESTALE, "from another boot");
	free(w);
}

static void test_pcrs_moved(void **state)
{
	struct world *w = malloc(sizeof(*w));

	build(w, true);
	w->now.v[15][0] ^= 1; /* something extended after the anchor */
	refused(w, BOOT, -EBADE, "does not replay to the TPM's PCRs");
	build(w, true);
	w->now.v[13][5] ^= 1;
	refused(w, BOOT, -EBADE, "does not replay to the TPM's PCRs");
	free(w);
}

static void test_no_cap(void **state)
{
	struct world *w = malloc(sizeof(*w));

	build(w, false);
	refused(w, BOOT, -EBADE, "does not end with the anchor's cap");
	free(w);
}

static void test_policy_swapped(void **state)
{
	struct world *w = malloc(sizeof(*w));

	build(w, true);
	w->policy[3] ^= 1; /* the file the launcher would read is another */
	refused(w, BOOT, -EBADE, "the policy file is not the one the anchor verified");
	free(w);
}

static void test_handoff_edited(void **state)
{
	struct world *w = malloc(sizeof(*w));
	char *p;

	/* A bundle version the log never saw. */
	build(w, true);
	p = strstr(w->json, "\"version\": 7");
	p[11] = '8';
	refused(w, BOOT, -EBADE, "bundle os was not measured as the handoff says");
	/* A volume the anchor never opened. */
	build(w, true);
	p = strstr(w->json, "\"name\": \"data\"");
	memcpy(p + 9, "evil", 4);
	refused(w, BOOT, -EBADE, "volume evil was not opened by the anchor");
	/* Its own PCR values, edited to match a doctored log elsewhere. */
	build(w, true);
	p = strstr(w->json, "\"pcr15\": \"");
	p[10] = p[10] == '0' ? '1' : '0';
	refused(w, BOOT, -EBADE, "its PCR values are not the event log's");
	/* An event log somewhere else. */
	build(w, true);
	p = strstr(w->json, "eventlog.jsonl");
	memcpy(p, "/tmp/evil.json", 14);
	refused(w, BOOT, -EBADMSG, "eventlog: expected \"eventlog.jsonl\"");
	/* A policy serial the log never measured. */
	build(w, true);
	p = strstr(w->json, "\"policy_serial\": 3");
	p[17] = '4';
	refused(w, BOOT, -EBADE, "the event log never measured this policy");
	/* Unknown member, mapper without activation. */
	build(w, true);
	p = strstr(w->json, "\"bundles\"");
	memcpy(p, "\"bundlez\"", 9);
	refused(w, BOOT, -EBADMSG, "unknown member \"bundlez\"");
	build(w, true);
	p = strstr(w->json, "\"activated\": true");
	memcpy(p, "\"activated\":false", 17);
	refused(w, BOOT, -EBADMSG, "mapper and activated disagree");
	free(w);
}

/* Replace the first old in s by new. */
static void subst(char *s, const char *old, const char *new)
{
	char *p = strstr(s, old);

	assert_non_null(p);
	memmove(p + strlen(new), p + strlen(old), strlen(p + strlen(old)) + 1);
	memcpy(p, new, strlen(new));
}

/* The disks' methods are the measured ones. */
static void test_disks(void **state)
{
	struct world *w = malloc(sizeof(*w));
	struct diag d = {0};
	struct handoff h;
	char *p;

	build(w, true);
	assert_int_equal(handoff_parse(w->json, strlen(w->json), &h, &d), 0);
	assert_int_equal(h.format_version, 2);
	assert_int_equal(h.bundles[0].n_disks, 2);
	assert_int_equal(h.bundles[0].disks[0].method, HANDOFF_VERITY);
	assert_string_equal(h.bundles[0].disks[0].device, DEV);
	assert_int_equal(h.bundles[0].disks[0].root_hash[31], 0x55);
	assert_int_equal(h.bundles[0].disks[1].method, HANDOFF_FULL_HASH);
	/* Another root hash than the one the mapping was made with. */
	p = strstr(w->json, ROOT);
	p[0] = '6';
	refused(w, BOOT, -EBADE, "disk disk.img was not activated by the anchor as " DEV);
	/* Another mapping. */
	build(w, true);
	p = strstr(w->json, DEV);
	p[strlen(DEV) - 1] = '1';
	refused(w, BOOT, -EBADE,
		"was not activated by the anchor as /dev/mapper/sealboot-verity.0.1");
	/* A device outside /dev/mapper: a loop device, a path climbing out. */
	build(w, true);
	subst(w->json, DEV, "/dev/loop0");
	refused(w, BOOT, -EBADMSG, "/dev/loop0 is not a device-mapper device");
	build(w, true);
	subst(w->json, DEV, "/dev/mapper/../loop0");
	refused(w, BOOT, -EBADMSG, "is not a device-mapper device");
	/* Called full-hash although the anchor made a verity device (the
	 * launcher would attach the file). */
	build(w, true);
	subst(w->json,
	      "\"method\": \"verity\", \"device\": \"" DEV "\", \"root_hash\": \"" ROOT "\"",
	      "\"method\": \"full-hash\", \"device\": null, \"root_hash\": null");
	refused(w, BOOT, -EBADE,
		"disk disk.img was activated as a dm-verity device, the handoff says full-hash");
	/* A verity event extended after the cap is not the anchor's. */
	build_at(w, true, VERITY_AFTER);
	refused(w, BOOT, -EBADE, "disk disk.img was not activated by the anchor");
	build_at(w, true, VERITY_NONE);
	refused(w, BOOT, -EBADE, "disk disk.img was not activated by the anchor");
	/* Version 1 has no disks member. */
	build(w, true);
	p = strstr(w->json, "\"format_version\": 2");
	p[18] = '1';
	refused(w, BOOT, -EBADMSG, "disks: not in version 1");
	/* An unknown method. */
	build(w, true);
	p = strstr(w->json, "\"full-hash\"");
	memcpy(p, "\"full-hazh\"", 11);
	refused(w, BOOT, -EBADMSG, "expected \"verity\" or \"full-hash\"");
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),	   cmocka_unit_test(test_stale),
	    cmocka_unit_test(test_pcrs_moved),	   cmocka_unit_test(test_no_cap),
	    cmocka_unit_test(test_policy_swapped), cmocka_unit_test(test_handoff_edited),
	    cmocka_unit_test(test_disks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
