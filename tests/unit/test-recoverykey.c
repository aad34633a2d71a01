/* SPDX-License-Identifier: Apache-2.0 */
/* The recovery key's text (core/recoverykey.h): known vectors worked out
 * by hand from the format (200 bits, 5 a character, most significant first),
 * round trips, and refusals of every malformed text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "recoverykey.h"

static const struct {
	uint8_t raw[RECOVERY_KEY_BYTES];
	const char *text;
} vectors[] = {
    {{0}, "00000-00000-00000-00000-00000-00000-00000-00000"},
    {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
     "zzzzz-zzzzz-zzzzz-zzzzz-zzzzz-zzzzz-zzzzz-zzzzz"},
    /* bytes 0, 1, ..., 24 */
    {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24},
     "000g4-0r40m-30e20-9185g-r38e1-w8124-gk2ga-hc5rr"},
    /* bytes 0xe7, 0xe8, ..., 0xff */
    {{0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf2, 0xf3,
      0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff},
     "wzmek-tqbxk-pyxvz-gy7sf-7x7ny-vvzhy-ftzfy-fvzqz"},
};

static void test_known_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char text[RECOVERY_KEY_LEN + 1] = {0};
		uint8_t raw[RECOVERY_KEY_BYTES];

		recovery_key_encode(vectors[i].raw, text);
		assert_string_equal(text, vectors[i].text);
		assert_int_equal(recovery_key_decode(vectors[i].text, strlen(vectors[i].text), raw),
				 0);
		assert_memory_equal(raw, vectors[i].raw, sizeof(raw));
	}
}

static void test_round_trip(void **state)
{
	(void)state;
	for (int n = 0; n < 64; n++) {
		struct secret *s = NULL;
		uint8_t raw[RECOVERY_KEY_BYTES];
		char again[RECOVERY_KEY_LEN];

		assert_int_equal(recovery_key_new(&s), 0);
		assert_int_equal(s->len, RECOVERY_KEY_LEN);
		assert_int_equal(recovery_key_decode((const char *)s->data, s->len, raw), 0);
		recovery_key_encode(raw, again);
		assert_memory_equal(again, s->data, RECOVERY_KEY_LEN);
		secret_free(s);
	}
}

static void test_single_bits(void **state)
{
	(void)state;
	/* Every bit lands in exactly one character, at the place the format says. */
	for (unsigned bit = 0; bit < RECOVERY_KEY_BYTES * 8; bit++) {
		uint8_t raw[RECOVERY_KEY_BYTES] = {0}, back[RECOVERY_KEY_BYTES];
		char text[RECOVERY_KEY_LEN];
		size_t pos = bit / 5 + bit / 25; /* characters and dashes before it */

		raw[bit / 8] = (uint8_t)(0x80u >> (bit % 8));
		recovery_key_encode(raw, text);
		for (size_t k = 0; k < RECOVERY_KEY_LEN; k++) {
			if (k % 6 == 5)
				assert_int_equal(text[k], '-');
			else if (k == pos)
				assert_int_equal(text[k], "g8421"[bit % 5]);
			else
				assert_int_equal(text[k], '0');
		}
		assert_int_equal(recovery_key_decode(text, sizeof(text), back), 0);
		assert_memory_equal(back, raw, sizeof(raw));
	}
}

static void test_refused(void **state)
{
	static const char good[] = "000g4-0r40m-30e20-9185g-r38e1-w8124-gk2ga-hc5rr";
	uint8_t raw[RECOVERY_KEY_BYTES], untouched[RECOVERY_KEY_BYTES];
	char text[64];

	(void)state;
	memset(raw, 0xa5, sizeof(raw));
	memcpy(untouched, raw, sizeof(raw));
	/* Wrong lengths: one short, one long, empty, without dashes. */
	assert_int_equal(recovery_key_decode(good, strlen(good) - 1, raw), -EINVAL);
	memcpy(text, good, sizeof(good));
	strcat(text, "0");
	assert_int_equal(recovery_key_decode(text, strlen(text), raw), -EINVAL);
	assert_int_equal(recovery_key_decode("", 0, raw), -EINVAL);
	assert_int_equal(recovery_key_decode("000g40r40m30e209185gr38e1w8124gk2gahc5rr", 40, raw),
			 -EINVAL);
	/* Characters outside the alphabet, at the first and the last place. */
	static const char bad[] = {'i', 'l', 'o', 'u', 'A', 'Z', '-', ' ', '\0', '\xff', '_'};
	for (size_t i = 0; i < sizeof(bad); i++) {
		memcpy(text, good, sizeof(good));
		text[0] = bad[i];
		assert_int_equal(recovery_key_decode(text, RECOVERY_KEY_LEN, raw), -EINVAL);
		memcpy(text, good, sizeof(good));
		text[RECOVERY_KEY_LEN - 1] = bad[i];
		assert_int_equal(recovery_key_decode(text, RECOVERY_KEY_LEN, raw), -EINVAL);
	}
	/* A dash moved, or replaced. */
	memcpy(text, good, sizeof(good));
	text[5] = '0';
	text[4] = '-';
	assert_int_equal(recovery_key_decode(text, RECOVERY_KEY_LEN, raw), -EINVAL);
	memcpy(text, good, sizeof(good));
	text[41] = 'a';
	assert_int_equal(recovery_key_decode(text, RECOVERY_KEY_LEN, raw), -EINVAL);
	/* Nothing was written by a refusal. */
	assert_memory_equal(raw, untouched, sizeof(raw));
	/* The control: the same text unmodified is accepted. */
	assert_int_equal(recovery_key_decode(good, strlen(good), raw), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_vectors),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_single_bits),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
