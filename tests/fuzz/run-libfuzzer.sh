#!/bin/bash
# run-libfuzzer.sh FUZZER SEED_CORPUS: fuzz for SEALBOOT_FUZZ_SECONDS (default
# 20) over a scratch copy of the seed corpus; any crash fails the test and its
# input is kept in the build directory for triage.
set -euo pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
fuzzer=$1 seeds=$2
[ -x "$fuzzer" ] || skip "libFuzzer harness not built (clang not installed)"
mkscratch
cp -r "$seeds" "$SCRATCH/corpus"
artifacts="${SEALBOOT_BUILD:-$SCRATCH}/fuzz-artifacts/"
mkdir -p "$artifacts"
secs=${SEALBOOT_FUZZ_SECONDS:-20}
echo "fuzzing $(basename "$fuzzer") for ${secs}s"
# 2 GiB RSS cap and 10 s per input: a slow or bloated input is a finding too.
"$fuzzer" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
	-artifact_prefix="$artifacts" -print_final_stats=1 "$SCRATCH/corpus" 2>&1 | tail -25
