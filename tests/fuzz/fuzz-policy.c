/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness over the appliance policy parser the verifier uses,
 * policy_parse_canonical() (and policy_parse() in front of it).
 * Properties:
 *  - a refusal is -EBADMSG (-ENOMEM), returns nothing, and says why in one
 *    line starting with "policy";
 *  - what parse_canonical accepts is valid and re-serializes to exactly the
 *    input bytes;
 *  - parse_canonical accepts the input exactly when policy_parse accepts it
 *    and the input is its own serialization, and otherwise refuses it with
 *    policy_parse's message or the "not in canonical form" one;
 *  - the serialization of anything policy_parse accepts is accepted by
 *    parse_canonical as an equal policy (the canonical form is a fixed point).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOT_CANONICAL "policy: not in canonical form"

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool equal(const struct policy *a, const struct policy *b)
{
	const struct policy_guest *g = &a->guest, *h = &b->guest;

	if (a->format_version != b->format_version ||
	    !str_eq(a->appliance_class, b->appliance_class) || a->serial != b->serial ||
	    a->n_release_cas != b->n_release_cas || a->n_bundles != b->n_bundles ||
	    a->seal_pcrs != b->seal_pcrs || a->n_volumes != b->n_volumes ||
	    !str_eq(a->zeroize_key, b->zeroize_key))
		return false;
	for (size_t i = 0; i < a->n_release_cas; i++)
		if (!str_eq(a->release_cas[i], b->release_cas[i]))
			return false;
	for (size_t i = 0; i < a->n_bundles; i++) {
		const struct policy_bundle *p = &a->bundles[i], *q = &b->bundles[i];

		if (!str_eq(p->name, q->name) || !str_eq(p->path, q->path) ||
		    p->min_version != q->min_version)
			return false;
	}
	for (size_t i = 0; i < a->n_volumes; i++) {
		const struct policy_volume *p = &a->volumes[i], *q = &b->volumes[i];

		if (strcmp(p->uuid, q->uuid) || !str_eq(p->name, q->name) ||
		    !str_eq(p->purpose, q->purpose) || !str_eq(p->device, q->device))
			return false;
	}
	return g->vcpus == h->vcpus && g->memory_mib == h->memory_mib && g->network == h->network &&
	       str_eq(g->bridge, h->bridge) && g->console_log == h->console_log &&
	       g->rng == h->rng && g->vtpm == h->vtpm;
}

/* One line a person can act on: set, non-empty, no control character. */
static bool one_line(const struct diag *d, const char *prefix)
{
	if (d->cls == DIAG_NONE || !d->msg[0] || strncmp(d->msg, prefix, strlen(prefix)))
		return false;
	for (const char *c = d->msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

static bool refusal_ok(int r, const struct diag *d)
{
	if (r == -ENOMEM)
		return d->cls == DIAG_INTERNAL && one_line(d, "");
	return r == -EBADMSG && d->cls == DIAG_MALFORMED && one_line(d, "policy");
}

/* A refusal that breaks the rules: show it (the fuzzer prints the input). */
static void bad_refusal(int r, const struct diag *d)
{
	fprintf(stderr, "bad refusal: r=%d class=%s msg=\"%s\"\n", r, diag_class_name(d->cls),
		d->msg);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy sentinel;
	struct policy *c = &sentinel, *p = &sentinel, *q = &sentinel;
	struct diag dc = {0}, dp = {0}, dq = {0};
	const char *buf = (const char *)data;
	char *s = NULL, *t = NULL;
	size_t ns = 0, nt = 0;
	int rc, rp, rq;

	rc = policy_parse_canonical(buf, size, &c, &dc);
	if (rc < 0) {
		if (c != &sentinel)
			abort();
		if (!refusal_ok(rc, &dc))
			bad_refusal(rc, &dc);
	} else {
		/* Accepted as canonical: valid, and exactly its serialization. */
		if (rc != 0 || c == &sentinel || !c || dc.cls != DIAG_NONE ||
		    policy_validate(c, NULL) < 0 || policy_serialize(c, &s, &ns) < 0 ||
		    ns != size || memcmp(s, data, size) || s[ns] != 0)
			abort();
		free(s);
		s = NULL;
	}

	rp = policy_parse(buf, size, &p, &dp);
	if (rp < 0) {
		/* Not a policy at all: parse_canonical says the same. */
		if (p != &sentinel || !refusal_ok(rp, &dp) || rc != rp || strcmp(dc.msg, dp.msg))
			abort();
		goto out;
	}
	if (rp != 0 || p == &sentinel || !p || policy_serialize(p, &s, &ns) < 0)
		abort();
	if (rc == 0) {
		if (!equal(c, p))
			abort();
	} else if (rc != -ENOMEM && (strncmp(dc.msg, NOT_CANONICAL, strlen(NOT_CANONICAL)) ||
				     (ns == size && !memcmp(s, data, size)))) {
		/* A refusal of what policy_parse accepts must be the canonical
		 * form's, and only for bytes that are not the serialization. */
		abort();
	}
	/* The serialization is canonical: it parses back to an equal policy
	 * and serializes to the same bytes. */
	rq = policy_parse_canonical(s, ns, &q, &dq);
	if (rq == -ENOMEM)
		goto out;
	if (rq != 0 || q == &sentinel || !q || !equal(p, q) || policy_serialize(q, &t, &nt) < 0 ||
	    nt != ns || memcmp(s, t, ns))
		abort();
out:
	free(s);
	free(t);
	if (c != &sentinel)
		policy_free(c);
	if (p != &sentinel)
		policy_free(p);
	if (q != &sentinel)
		policy_free(q);
	return 0;
}
