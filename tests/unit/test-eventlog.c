/* SPDX-License-Identifier: Apache-2.0 */
/* anchor/eventlog: records replay to what TPM2_PCR_Extend gives (checked
 * against a hand-written extend), the log round-trips through its JSON Lines
 * form byte for byte, and the parser refuses every edit that would let a
 * log disagree with its PCRs, naming the line. */
#include <errno.h>
#include <openssl/sha.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eventlog.h"

static const uint8_t D1[32] = {1, 2, 3}, D2[32] = {9, 8, 7}, D3[32] = {0xff};

static struct eventlog *sample(void)
{
	struct eventlog *log = calloc(1, sizeof(*log));
	struct diag d = {0};
	char t[EVENTLOG_TEXT_MAX];

	assert_non_null(log);
	eventlog_text_policy(t, 3, D1, D2, D3);
	assert_int_equal(eventlog_add(log, EVENTLOG_PCR_SEAL, t, &d), 0);
	eventlog_text_authority(t, "os", D2, "edge-gw");
	assert_int_equal(eventlog_add(log, EVENTLOG_PCR_SEAL, t, &d), 0);
	eventlog_text_content(t, "os", 7, D3);
	assert_int_equal(eventlog_add(log, EVENTLOG_PCR_LOG, t, &d), 0);
	eventlog_text_volume(t, "data", "5e4b0a7c-2f1d-4c3b-9a8e-1d2c3b4a5f60", D1);
	assert_int_equal(eventlog_add(log, EVENTLOG_PCR_SEAL, t, &d), 0);
	eventlog_text_cap(t);
	assert_int_equal(eventlog_add(log, EVENTLOG_PCR_SEAL, t, &d), 0);
	assert_int_equal(eventlog_add(log, EVENTLOG_PCR_LOG, t, &d), 0);
	return log;
}

static char *to_text(const struct eventlog *log, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	assert_int_equal(eventlog_write(log, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void extend(uint8_t pcr[32], const char *text)
{
	uint8_t buf[64];

	memcpy(buf, pcr, 32);
	SHA256((const unsigned char *)text, strlen(text), buf + 32);
	SHA256(buf, sizeof(buf), pcr);
}

static void test_texts_are_the_documented_ones(void **state)
{
	char t[EVENTLOG_TEXT_MAX];

	eventlog_text_content(t, "os", 7, D3);
	assert_string_equal(t, "sealboot bundle-content name=os version=7 manifest="
			       "ff00000000000000000000000000000000000000000000000000000000000000");
	eventlog_text_cap(t);
	assert_string_equal(t, "sealboot cap");
	eventlog_text_failure(t, "unseal");
	assert_string_equal(t, "sealboot failure stage=unseal");
}

static void test_replay_equals_hand_extends(void **state)
{
	struct eventlog *log = sample();
	struct tpmpolicy_pcr_values v;
	uint8_t p15[32] = {0}, p13[32] = {0}, zero[32] = {0};

	eventlog_replay(log, &v);
	for (size_t i = 0; i < log->n; i++)
		extend(log->r[i].pcr == 15 ? p15 : p13, log->r[i].text);
	assert_memory_equal(v.v[15], p15, 32);
	assert_memory_equal(v.v[13], p13, 32);
	assert_memory_equal(v.v[0], zero, 32); /* untouched PCRs stay zero */
	free(log);
}

static void test_add_refuses_what_cannot_be_logged(void **state)
{
	struct eventlog *log = calloc(1, sizeof(*log));
	struct diag d = {0};
	char big[EVENTLOG_TEXT_MAX + 1];

	assert_non_null(log);
	assert_int_equal(eventlog_add(log, 15, "", &d), -EINVAL);
	assert_int_equal(eventlog_add(log, 15, "tab\there", &d), -EINVAL);
	assert_int_equal(eventlog_add(log, 15, "line\n", &d), -EINVAL);
	assert_int_equal(eventlog_add(log, 24, "pcr out of range", &d), -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(eventlog_add(log, 15, big, &d), -EINVAL);
	assert_int_equal(log->n, 0);
	for (int i = 0; i < EVENTLOG_MAX; i++)
		assert_int_equal(eventlog_add(log, 15, "x", &d), 0);
	assert_int_equal(eventlog_add(log, 15, "x", &d), -E2BIG);
	assert_int_equal(log->n, EVENTLOG_MAX);
	free(log);
}

static void test_round_trip_byte_for_byte(void **state)
{
	struct eventlog *log = sample(), *back = calloc(1, sizeof(*back));
	struct diag d = {0};
	size_t len, len2;
	char *text = to_text(log, &len), *text2;

	assert_non_null(back);
	assert_int_equal(eventlog_parse(text, len, back, &d), 0);
	assert_int_equal(back->n, log->n);
	text2 = to_text(back, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(text, text2, len);
	/* quotes and backslashes are escaped and come back */
	memset(log, 0, sizeof(*log));
	assert_int_equal(eventlog_add(log, 15, "a \"quoted\\\" text", &d), 0);
	free(text);
	text = to_text(log, &len);
	assert_int_equal(eventlog_parse(text, len, back, &d), 0);
	assert_string_equal(back->r[0].text, "a \"quoted\\\" text");
	free(text);
	free(text2);
	free(log);
	free(back);
}

/* Replace the first occurrence of from by to (same length) in a copy. */
static char *edit(const char *text, size_t len, const char *from, const char *to)
{
	char *copy = malloc(len + 1), *at;

	assert_non_null(copy);
	memcpy(copy, text, len);
	copy[len] = 0;
	at = strstr(copy, from);
	assert_non_null(at);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(at, to, strlen(to));
	return copy;
}

static void expect_refused(const char *text, size_t len, const char *reason)
{
	struct eventlog *back = calloc(1, sizeof(*back));
	struct diag d = {0};

	assert_non_null(back);
	assert_int_equal(eventlog_parse(text, len, back, &d), -EBADMSG);
	if (!strstr(d.msg, reason))
		fail_msg("expected '%s' in '%s'", reason, d.msg);
	free(back);
}

static void test_parse_refuses_edits(void **state)
{
	struct eventlog *log = sample();
	size_t len;
	char *text = to_text(log, &len), *bad;

	/* content changed without its digest: the record lies */
	bad = edit(text, len, "version=7", "version=8");
	expect_refused(bad, len, "event log line 3");
	free(bad);
	/* a record moved to another PCR changes nothing in its digest, but a
	 * PCR out of range is refused */
	bad = edit(text, len, "\"pcr\":13", "\"pcr\":99");
	expect_refused(bad, len, "event log line 3: pcr");
	free(bad);
	/* records renumbered (one dropped and the rest shifted) */
	bad = edit(text, len, "\"recnum\":1", "\"recnum\":2");
	expect_refused(bad, len, "event log line 2: recnum");
	free(bad);
	/* another hash algorithm */
	bad = edit(text, len, "\"sha256\"", "\"sha384\"");
	expect_refused(bad, len, "event log line 1");
	free(bad);
	/* an unknown member */
	bad = edit(text, len, "\"content_type\"", "\"content_typo\"");
	expect_refused(bad, len, "event log line 1");
	free(bad);
	free(text);
	free(log);
}

/* The matchers recognise exactly what their builder wrote for the same
 * values, and nothing for other values, a longer name that starts with the
 * same letters, or another kind of text. */
static void test_matchers_mirror_builders(void **state)
{
	char t[EVENTLOG_TEXT_MAX];

	(void)state;
	eventlog_text_policy(t, 3, D1, D2, D3);
	assert_true(eventlog_is_policy(t, 3, D1));
	assert_false(eventlog_is_policy(t, 4, D1));
	assert_false(eventlog_is_policy(t, 30, D1));
	assert_false(eventlog_is_policy(t, 3, D2));
	assert_false(eventlog_is_cap(t));

	eventlog_text_content(t, "os", 7, D1);
	assert_true(eventlog_is_content(t, "os", 7, D1));
	assert_false(eventlog_is_content(t, "o", 7, D1));
	assert_false(eventlog_is_content(t, "os", 70, D1));
	assert_false(eventlog_is_content(t, "os", 7, D2));
	eventlog_text_authority(t, "os", D1, "edge");
	assert_false(eventlog_is_content(t, "os", 7, D1));

	eventlog_text_volume(t, "data", "0b5e2f1c-9d4a-4c6e-8f1a-2b3c4d5e6f70", D3);
	assert_true(eventlog_is_volume(t, "data", "0b5e2f1c-9d4a-4c6e-8f1a-2b3c4d5e6f70"));
	assert_false(eventlog_is_volume(t, "dat", "0b5e2f1c-9d4a-4c6e-8f1a-2b3c4d5e6f70"));
	assert_false(eventlog_is_volume(t, "data", "0b5e2f1c-9d4a-4c6e-8f1a-2b3c4d5e6f7"));
	assert_false(eventlog_is_volume(t, "data2", "0b5e2f1c-9d4a-4c6e-8f1a-2b3c4d5e6f70"));

	eventlog_text_cap(t);
	assert_true(eventlog_is_cap(t));
	assert_false(eventlog_is_cap("sealboot cap "));
	eventlog_text_failure(t, "unseal");
	assert_false(eventlog_is_cap(t));
	assert_false(eventlog_is_policy(t, 3, D1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_texts_are_the_documented_ones),
	    cmocka_unit_test(test_replay_equals_hand_extends),
	    cmocka_unit_test(test_add_refuses_what_cannot_be_logged),
	    cmocka_unit_test(test_round_trip_byte_for_byte),
	    cmocka_unit_test(test_parse_refuses_edits),
	    cmocka_unit_test(test_matchers_mirror_builders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
