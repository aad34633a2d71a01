/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/*
 * The one grammar for the names and paths sealboot takes from documents and
 * command lines (manifest, policy, zeroize orders, the launcher's spec and
 * options), and the one way to show an untrusted string in a message. Pure.
 */

/* Every name is 1..max bytes of A-Z a-z 0-9 '_' '-' and: */
enum text_name {
	TEXT_NAME,	/* '.': bundle names, appliance classes */
	TEXT_NAME_DM,	/* nothing more: volume names, which become device-mapper names */
	TEXT_NAME_HOST, /* '.', the first a letter or digit: names libvirt or the kernel
			 * takes (domain, network, bridge), never an option-looking
			 * "-x", a hidden file, "." or ".." */
};

/* Is s (NULL: no) a name of that grammar and at most max bytes? */
bool text_name_valid(const char *s, size_t max, enum text_name kind);

enum text_path {
	TEXT_PATH_RELATIVE, /* a payload inside its bundle */
	TEXT_PATH_ABSOLUTE, /* starts with '/' */
};

/*
 * Is p (NULL: no) a normalized path of at most max bytes: components of
 * A-Z a-z 0-9 . _ + -, none empty (no doubled or trailing '/'), none "." or
 * "..", and, absolute, one leading '/' (so never "/" alone)? Normalized
 * matters beyond taste: the launcher's audit compares paths textually.
 */
bool text_path_valid(const char *p, size_t max, enum text_path kind);

/* How text_shown() writes a byte that is not printable ASCII, '"' or '\\'. */
enum text_shown_form {
	TEXT_ESCAPED, /* \xNN: nothing is lost (documents' messages) */
	TEXT_MASKED,  /* '?': one byte for one (short fixed places: the audit's offender) */
};

/*
 * s made safe to quote in a one-line message: printable ASCII kept but for
 * '"' and '\\', every other byte in the form asked, cut after max bytes
 * with "...". out holds at least TEXT_SHOWN_SIZE(max) bytes, or, masked,
 * TEXT_MASKED_SIZE(max). Returns out.
 */
#define TEXT_SHOWN_SIZE(max) (4 * (max) + 4)
#define TEXT_MASKED_SIZE(max) ((max) + 4)
const char *text_shown(const char *s, size_t max, enum text_shown_form form, char *out);
