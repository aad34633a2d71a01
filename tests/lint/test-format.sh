#!/bin/bash
# The tree is formatted as .clang-format says (tools/format --check names
# the first file that is not), with a control: a copy of one formatted file
# with one badly spaced line must be refused, so the check cannot pass by
# accident. Skips, saying why, only when clang-format is missing (a failure
# under CI=true; tools/install-deps installs it).
set -euo pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
need "${CLANG_FORMAT:-clang-format}"
mkscratch

"$SEALBOOT_SRC/tools/format" --check || fail "the tree is not formatted (run tools/format)"

# The control, in a scratch tree that is not a git checkout (tools/format
# then lists the files with find): unchanged it passes, with the bad line
# it fails and names the file.
mkdir -p "$SCRATCH/t/tools" "$SCRATCH/t/util"
cp "$SEALBOOT_SRC/tools/format" "$SCRATCH/t/tools/"
cp "$SEALBOOT_SRC/.clang-format" "$SCRATCH/t/"
cp "$SEALBOOT_SRC/util/hex.c" "$SCRATCH/t/util/"
"$SCRATCH/t/tools/format" --check || fail "control: an unchanged copy of util/hex.c is refused"
echo 'int  sb_lint_control ( void ) ;' >>"$SCRATCH/t/util/hex.c"
rc=0
"$SCRATCH/t/tools/format" --check 2>"$SCRATCH/err" || rc=$?
cat "$SCRATCH/err"
[ "$rc" = 1 ] || fail "control: a badly spaced line passed the check (exit $rc)"
grep -q '^tools/format: util/hex.c is not formatted' "$SCRATCH/err" ||
	fail "control: the check did not name util/hex.c"
echo "PASS: the tree is formatted; a badly spaced line is refused"
