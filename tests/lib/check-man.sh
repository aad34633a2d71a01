#!/bin/bash
# check-man.sh PAGE TOOL CMD...: the man page renders without a warning and
# documents every long option the tool's --help (for each CMD) lists.
set -euo pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
need groff
page=$1 tool=$2
shift 2
warn=$(groff -ww -z -man "$page" 2>&1) || fail "groff failed on $page"
[ -z "$warn" ] || fail "groff warnings in $page: $warn"
text=$(groff -man -Tascii "$page" 2>/dev/null | col -b 2>/dev/null || groff -man -Tascii "$page")
missing=0
for cmd in "" "$@"; do
	for opt in $("$tool" $cmd --help | grep -Eo -- '--[a-z0-9-]+' | sort -u); do
		grep -qF -- "$opt" <<<"$text" || { echo "$page does not document $opt${cmd:+ ($cmd)}"; missing=1; }
	done
done
[ "$missing" = 0 ] || fail "man page out of date with --help"
echo "$(basename "$page"): renders cleanly, documents every option"
