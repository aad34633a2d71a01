/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* "prog: <formatted> (try --help)" on stderr; returns code (the tool's
 * usage exit status). The tools wrap it as usage_error(). */
int cli_usage_error(const char *prog, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * For getopt_long() called with opterr = 0 and an optstring that starts with
 * ':' (so it prints nothing itself): the option it just refused, in words,
 * into buf: "unknown option '--x'", "option '--x' needs a value", "option
 * '--x' takes no value". c is what getopt_long returned ('?' or ':'). The
 * tools print it once, through cli_usage_error.
 */
const char *cli_bad_option(int c, char *const *argv, char *buf, size_t len);

/* getopt_long()'s 'h' (usage on stdout) or 'V' ("prog VERSION"): true when c
 * was one of them, and the tool exits 0. */
bool cli_help_or_version(int c, const char *prog, void (*usage)(FILE *));
