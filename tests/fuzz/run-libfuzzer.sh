#!/bin/bash
# run-libfuzzer.sh FUZZER SEED_CORPUS [SECONDS]: fuzz for SEALBOOT_FUZZ_SECONDS,
# or when unset for SECONDS (the target's share of the CI budget, default 20),
# over a scratch copy of the seed corpus; any crash fails the test and its
# input is kept in the build directory for triage.
set -euo pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
fuzzer=$1 seeds=$2 share=${3:-20}
[ "$fuzzer" != --no-clang ] || skip "clang not installed"
[ -x "$fuzzer" ] || fail "libFuzzer harness $fuzzer was not built"
mkscratch
cp -r "$seeds" "$SCRATCH/corpus"
artifacts="${SEALBOOT_BUILD:-$SCRATCH}/fuzz-artifacts/"
mkdir -p "$artifacts"
secs=${SEALBOOT_FUZZ_SECONDS:-$share}
echo "fuzzing $(basename "$fuzzer") for ${secs}s"
# 2 GiB RSS cap and 10 s per input: a slow or bloated input is a finding too.
# libFuzzer exits 77 on a finding by default, which meson reads as a skip:
# make every finding exit 1.
rc=0
"$fuzzer" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
	-error_exitcode=1 -timeout_exitcode=1 \
	-artifact_prefix="$artifacts$(basename "$fuzzer")-" -print_final_stats=1 "$SCRATCH/corpus" 2>&1 | tail -40 ||
	rc=$?
[ "$rc" -eq 0 ] || fail "libFuzzer found a problem (exit $rc); inputs in $artifacts"
