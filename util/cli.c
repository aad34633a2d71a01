/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

int cli_usage_error(const char *prog, int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try --help)\n");
	return code;
}

const char *cli_bad_option(int c, char *const *argv, char *buf, size_t len)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	bool is_long = arg && strncmp(arg, "--", 2) == 0;
	int n = is_long ? (int)strcspn(arg, "=") : 0;

	if (c == ':' && is_long)
		snprintf(buf, len, "option '%.*s' needs a value", n, arg);
	else if (c == ':')
		snprintf(buf, len, "option '-%c' needs a value", optopt);
	else if (is_long && (optopt == 0 || optopt >= 256 || arg[n] == '='))
		snprintf(buf, len,
			 optopt == 0 ? "unknown option '%.*s'" : "option '%.*s' takes no value", n,
			 arg);
	else if (optopt > 0 && optopt < 256)
		snprintf(buf, len, "unknown option '-%c'", optopt);
	else
		snprintf(buf, len, "unknown option '%s'", arg ? arg : "");
	return buf;
}

bool cli_help_or_version(int c, const char *prog, void (*usage)(FILE *))
{
	if (c == 'h')
		usage(stdout);
	else if (c == 'V')
		printf("%s %s\n", prog, SEALBOOT_VERSION);
	return c == 'h' || c == 'V';
}
