#!/bin/bash
# tools/check-layers on the tree (must pass), then on copies with one bad
# include each (must fail, naming the file and the include), so the check
# cannot pass by accident.
set -euo pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
mkscratch

check="$SEALBOOT_SRC/tools/check-layers"
"$check" "$SEALBOOT_SRC" || fail "check-layers refuses the tree"

# A copy of the C sources, and nothing else; each case starts from a
# fresh copy of it.
mkdir "$SCRATCH/pristine"
(cd "$SEALBOOT_SRC" && find util core adapters appliance images policy anchor launcher tests bench \
	-type f \( -name '*.c' -o -name '*.h' \) -print0 | tar --null -T - -cf -) | tar -xf - -C "$SCRATCH/pristine"
n=0
copy() {
	n=$((n + 1))
	C=$SCRATCH/copy$n
	cp -a "$SCRATCH/pristine" "$C"
}

# expect_fail WHAT TEXT...: check-layers on $C exits 1 and says every TEXT.
expect_fail() {
	local what=$1 rc=0
	shift
	local first=$1
	"$check" "$C" >"$SCRATCH/out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || { cat "$SCRATCH/out"; fail "$what: exit $rc, not 1"; }
	for t in "$@"; do
		grep -qF -- "$t" "$SCRATCH/out" || { cat "$SCRATCH/out"; fail "$what: no \"$t\" in the output"; }
	done
	echo "ok: $what: $(grep -F -- "$first" "$SCRATCH/out" | head -n 1)"
}

# The control: an unchanged copy passes, so the failures below come from
# the one line each adds.
copy
"$check" "$C" >/dev/null || fail "an unchanged copy is refused"

copy
echo '#include "appliance.h"' >>"$C/core/manifest.c"
expect_fail "core includes the appliance layer" "core/manifest.c:" '"appliance.h"' "a higher layer"

copy
sed -i '0,/#include "diag.h"/s//#include "diag.h"\n#include "tpm.h"/' "$C/core/token.h"
expect_fail "a core header includes an adapter" "core/token.h:" '"tpm.h"' "adapters/ (layer 2)"

copy
echo '#include "guest.h"' >>"$C/policy/admin-zeroize.c"
expect_fail "one program includes another" "policy/admin-zeroize.c:" '"guest.h"' "a peer"

copy
echo '#include "tpmproxy.h"' >>"$C/adapters/tpm.c"
expect_fail "an adapter includes a test fixture" "adapters/tpm.c:" '"tpmproxy.h"'

copy
echo '#include "tpm-internal.h"' >>"$C/appliance/attest.c"
expect_fail "an adapter's internal header used outside it" "appliance/attest.c:" '"tpm-internal.h"' "internal header"

copy
echo '#include "nosuch.h"' >>"$C/util/hex.c"
expect_fail "an unknown header" "util/hex.c:" '"nosuch.h"' "no such header"

copy
mkdir "$C/lib" && echo 'int x;' >"$C/lib/x.c"
expect_fail "a folder in no layer" "lib/ has C sources but is in no layer"

copy
cp "$C/util/hex.h" "$C/core/hex.h"
expect_fail "two headers of one name" "hex.h is in both"

copy
echo 'int bench_thing;' >"$C/bench/bench-thing.h"
printf '#include "bench-thing.h"\n#include "tpmproxy.h"\n' >"$C/bench/bench-thing.c"
echo '#include "bench-thing.h"' >"$C/tests/unit/test-thing.c"
expect_fail "tests/ and bench/ include each other" "bench/ and tests/ include each other"

echo "PASS: check-layers passes the tree and refuses each bad include"
