/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdio.h>

/*
 * The one way sealboot writes a string into JSON it prints by hand
 * (status.json, handoff.json, the event log, tokens, signed documents):
 * always escaped, so no value (a boot id, a device path, a failure reason
 * quoting input) can end the string or break the document.
 *
 * json_write_string writes s between double quotes; json_write_chars writes
 * the same characters without them, for a string written in parts. Quote
 * and backslash are escaped with a backslash; bytes below 0x20 and 0x7f as
 * \u00XX (lowercase hex); well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, at most U+10FFFF) is copied as it is; any other byte is
 * written as \ufffd, so the output is valid UTF-8 JSON that a strict parser
 * (util/jsonstrict) accepts. Errors: none returned; a write error stays on
 * f (ferror) for the caller's fclose check.
 */
void json_write_string(FILE *f, const char *s);
void json_write_chars(FILE *f, const char *s);
