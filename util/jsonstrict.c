/* SPDX-License-Identifier: Apache-2.0 */
#include "jsonstrict.h"
#include "text.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Hard ceiling on nesting, whatever max_depth says (see json_strict_check). */
#define JSON_STRICT_DEPTH_CAP 512u

struct key {
	char *s;
	size_t len;
	size_t at; /* byte offset, for the message */
};

struct parser {
	const unsigned char *start, *p, *end;
	unsigned max_depth;
	struct diag *d;
};

static int fail(struct parser *ps, const char *what)
{
	return diag_set(ps->d, DIAG_MALFORMED, EBADMSG, "invalid JSON at byte %zu: %s",
			(size_t)(ps->p - ps->start), what);
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629 table 3-7), 0 if none. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0; /* no overlong forms */
		if (c == 0xed)
			hi = 0x9f; /* no UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f; /* nothing above U+10FFFF */
	} else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static int hex4(struct parser *ps, unsigned *ret)
{
	unsigned v = 0;

	if (ps->end - ps->p < 4)
		return fail(ps, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		unsigned char c = ps->p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return fail(ps, "bad \\u escape");
	}
	ps->p += 4;
	*ret = v;
	return 0;
}

static void put_utf8(char *out, size_t *n, unsigned cp)
{
	if (cp < 0x80) {
		out[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*n)++] = (char)(0xc0 | cp >> 6);
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*n)++] = (char)(0xe0 | cp >> 12);
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*n)++] = (char)(0xf0 | cp >> 18);
		out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

/* A string at ps->p (the opening quote). With ret, the unescaped bytes are
 * returned (malloc'd; never longer than the escaped form). Long on purpose:
 * one scanner over the bytes (escapes, \u surrogate pairs, UTF-8 checks)
 * whose cases share the cursor and the output; split, each part would have
 * to hand both back and forth, which is where such scanners go wrong. */
static int parse_string(struct parser *ps, char **ret, size_t *ret_len)
{
	const unsigned char *q = ps->p + 1;
	char *out = NULL;
	size_t n = 0;
	int r;

	/* The decoded form is never longer than the raw one. */
	if (ret) {
		const unsigned char *e = q;

		while (e < ps->end && *e != '"')
			e += (*e == '\\' && e + 1 < ps->end) ? 2 : 1;
		out = malloc((size_t)(e - q) + 1);
		if (!out)
			return diag_set(ps->d, DIAG_INTERNAL, ENOMEM, "out of memory");
	}
	ps->p++;
	for (;;) {
		unsigned char c;

		if (ps->p >= ps->end) {
			r = fail(ps, "truncated string");
			goto err;
		}
		c = *ps->p;
		if (c == '"') {
			ps->p++;
			break;
		}
		if (c < 0x20) {
			r = fail(ps, c ? "control character in string" : "NUL byte");
			goto err;
		}
		if (c == '\\') {
			unsigned cp, lo;

			ps->p++;
			if (ps->p >= ps->end) {
				r = fail(ps, "truncated string");
				goto err;
			}
			c = *ps->p++;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				cp = c;
				break;
			case 'b':
				cp = '\b';
				break;
			case 'f':
				cp = '\f';
				break;
			case 'n':
				cp = '\n';
				break;
			case 'r':
				cp = '\r';
				break;
			case 't':
				cp = '\t';
				break;
			case 'u':
				if ((r = hex4(ps, &cp)) < 0)
					goto err;
				if (cp == 0) {
					ps->p -= 6;
					r = fail(ps, "\\u0000 is not allowed");
					goto err;
				}
				if (cp >= 0xdc00 && cp <= 0xdfff) {
					ps->p -= 6;
					r = fail(ps, "unpaired UTF-16 surrogate escape");
					goto err;
				}
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (ps->end - ps->p < 6 || ps->p[0] != '\\' ||
					    ps->p[1] != 'u') {
						ps->p -= 6;
						r = fail(ps, "unpaired UTF-16 surrogate escape");
						goto err;
					}
					ps->p += 2;
					if ((r = hex4(ps, &lo)) < 0)
						goto err;
					if (lo < 0xdc00 || lo > 0xdfff) {
						ps->p -= 12;
						r = fail(ps, "unpaired UTF-16 surrogate escape");
						goto err;
					}
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				break;
			default:
				ps->p -= 2;
				r = fail(ps, "unknown escape in string");
				goto err;
			}
			if (out)
				put_utf8(out, &n, cp);
			continue;
		}
		if (c < 0x80) {
			if (out)
				out[n++] = (char)c;
			ps->p++;
			continue;
		}
		{
			size_t k = utf8_seq(ps->p, ps->end);

			if (!k) {
				r = fail(ps, "invalid UTF-8");
				goto err;
			}
			if (out)
				memcpy(out + n, ps->p, k);
			n += k;
			ps->p += k;
		}
	}
	if (ret) {
		out[n] = 0;
		*ret = out;
		*ret_len = n;
	}
	return 0;
err:
	free(out);
	return r;
}

/* Compare a digit string against a limit of the same length. */
static bool digits_exceed(const unsigned char *p, size_t n, const char *limit)
{
	size_t ln = strlen(limit);

	if (n != ln)
		return n > ln;
	return memcmp(p, limit, n) > 0;
}

static int parse_number(struct parser *ps)
{
	const unsigned char *s = ps->p, *digits;
	bool neg = false, integer = true;

	if (*ps->p == '-') {
		neg = true;
		ps->p++;
	}
	digits = ps->p;
	if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
		return fail(ps, "bad number");
	if (*ps->p == '0') {
		ps->p++;
		if (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			return fail(ps, "leading zero in number");
	} else {
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && *ps->p == '.') {
		integer = false;
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "bad fraction in number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		integer = false;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "bad exponent in number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	/* json-c saturates integer literals beyond 64 bits (2^64 reads as
	 * 2^64-1) and reads -0 as 0, even in strict mode: refuse both here so
	 * no signed document reaching json-c can mean two things. */
	if (integer && digits_exceed(digits, (size_t)(ps->p - digits),
				     neg ? "9223372036854775808" : "18446744073709551615")) {
		ps->p = s;
		return fail(ps, "integer out of the 64-bit range");
	}
	if (integer && neg && ps->p - digits == 1 && *digits == '0') {
		ps->p = s;
		return fail(ps, "-0 is not allowed");
	}
	return 0;
}

static int parse_literal(struct parser *ps, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n))
		return fail(ps, "unexpected character");
	ps->p += n;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	/* Equal keys: the later one is the duplicate; order by position. */
	return x->at < y->at ? -1 : x->at > y->at;
}

static int parse_value(struct parser *ps, unsigned depth);

static int check_duplicates(struct parser *ps, struct key *keys, size_t n)
{
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (size_t i = 1; i < n; i++) {
		if (keys[i].len == keys[i - 1].len &&
		    !memcmp(keys[i].s, keys[i - 1].s, keys[i].len)) {
			char name[61], shown[TEXT_MASKED_SIZE(sizeof(name) - 1)];
			size_t len =
			    keys[i].len < sizeof(name) - 1 ? keys[i].len : sizeof(name) - 1;

			/* Show the name only where it is printable ASCII (a NUL too). */
			for (size_t j = 0; j < len; j++)
				name[j] = keys[i].s[j] ? keys[i].s[j] : '\x01';
			name[len] = 0;
			text_shown(name, len, TEXT_MASKED, shown);
			return diag_set(ps->d, DIAG_MALFORMED, EBADMSG,
					"invalid JSON at byte %zu: duplicate member name \"%s\"",
					keys[i].at, shown);
		}
	}
	return 0;
}

static int parse_object(struct parser *ps, unsigned depth)
{
	struct key *keys = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	ps->p++; /* { */
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return 0;
	}
	for (;;) {
		struct key k;

		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"') {
			r = fail(ps,
				 ps->p >= ps->end ? "truncated object" : "expected member name");
			goto out;
		}
		k.at = (size_t)(ps->p - ps->start);
		r = parse_string(ps, &k.s, &k.len);
		if (r < 0)
			goto out;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct key *nk = realloc(keys, nc * sizeof(*keys));

			if (!nk) {
				free(k.s);
				r = diag_set(ps->d, DIAG_INTERNAL, ENOMEM, "out of memory");
				goto out;
			}
			keys = nk;
			cap = nc;
		}
		keys[n++] = k;
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':') {
			r = fail(ps, ps->p >= ps->end ? "truncated object" : "expected ':'");
			goto out;
		}
		ps->p++;
		r = parse_value(ps, depth);
		if (r < 0)
			goto out;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			break;
		}
		r = fail(ps, ps->p >= ps->end ? "truncated object" : "expected ',' or '}'");
		goto out;
	}
	r = check_duplicates(ps, keys, n);
out:
	for (size_t i = 0; i < n; i++)
		free(keys[i].s);
	free(keys);
	return r;
}

static int parse_array(struct parser *ps, unsigned depth)
{
	int r;

	ps->p++; /* [ */
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return 0;
	}
	for (;;) {
		r = parse_value(ps, depth);
		if (r < 0)
			return r;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return 0;
		}
		return fail(ps, ps->p >= ps->end ? "truncated array" : "expected ',' or ']'");
	}
}

static int parse_value(struct parser *ps, unsigned depth)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "truncated document");
	switch (*ps->p) {
	case '{':
	case '[':
		/* Recursion is bounded by max_depth, clamped below. */
		if (depth >= ps->max_depth)
			return fail(ps, "nested too deeply");
		return *ps->p == '{' ? parse_object(ps, depth + 1) : parse_array(ps, depth + 1);
	case '"':
		return parse_string(ps, NULL, NULL);
	case 't':
		return parse_literal(ps, "true");
	case 'f':
		return parse_literal(ps, "false");
	case 'n':
		return parse_literal(ps, "null");
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps);
		if (*ps->p >= 0x80 && !utf8_seq(ps->p, ps->end))
			return fail(ps, "invalid UTF-8");
		return fail(ps, *ps->p ? "unexpected character" : "NUL byte");
	}
}

int json_strict_check(const char *buf, size_t len, unsigned max_depth, struct diag *d)
{
	struct parser ps = {
	    .start = (const unsigned char *)buf,
	    .p = (const unsigned char *)buf,
	    .end = (const unsigned char *)buf + len,
	    /* The checker recurses once per level: whatever a caller
	     * asks for, adversarial nesting must not exhaust the stack. */
	    .max_depth = max_depth < JSON_STRICT_DEPTH_CAP ? max_depth : JSON_STRICT_DEPTH_CAP,
	    .d = d,
	};
	int r;

	r = parse_value(&ps, 0);
	if (r < 0)
		return r;
	skip_ws(&ps);
	if (ps.p != ps.end)
		return fail(&ps, *ps.p ? "trailing data after the document" : "NUL byte");
	return 0;
}
