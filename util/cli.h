/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* "prog: <formatted> (try --help)" on stderr; returns code (the tool's
 * usage exit status). The tools wrap it as usage_error(). */
int cli_usage_error(const char *prog, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
