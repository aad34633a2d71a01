/* SPDX-License-Identifier: Apache-2.0 */
#include "text.h"

#include <stdio.h>
#include <string.h>

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool text_name_valid(const char *s, size_t max, enum text_name kind)
{
	const char *extra = kind == TEXT_NAME_DM ? "_-" : "._-";
	size_t n;

	if (!s)
		return false;
	n = strnlen(s, max + 1);
	if (n == 0 || n > max)
		return false;
	if (kind == TEXT_NAME_HOST && !alnum(s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!alnum(s[i]) && !strchr(extra, s[i]))
			return false;
	return true;
}

bool text_path_valid(const char *p, size_t max, enum text_path kind)
{
	size_t n, comp = 0, start = kind == TEXT_PATH_ABSOLUTE ? 1 : 0;

	if (!p)
		return false;
	n = strnlen(p, max + 1);
	if (n <= start || n > max || (start && p[0] != '/'))
		return false;
	for (size_t i = start; i <= n; i++) {
		char c = p[i];

		if (c == '/' || c == 0) {
			/* empty (leading, doubled or trailing '/'), "." or ".." */
			if (comp == 0)
				return false;
			if (p[i - 1] == '.' && (comp == 1 || (comp == 2 && p[i - 2] == '.')))
				return false;
			comp = 0;
			continue;
		}
		if (!alnum(c) && !strchr("._+-", c))
			return false;
		comp++;
	}
	return true;
}

const char *text_shown(const char *s, size_t max, enum text_shown_form form, char *out)
{
	size_t n = 0, i;

	for (i = 0; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			out[n++] = (char)c;
		else if (form == TEXT_MASKED)
			out[n++] = '?';
		else
			n += (size_t)sprintf(out + n, "\\x%02x", c);
	}
	if (s[i])
		n += (size_t)sprintf(out + n, "...");
	out[n] = 0;
	return out;
}
