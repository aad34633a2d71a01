#!/bin/bash
# The swtpm fixture itself: every test gets its own simulator, fresh state,
# on its own port, and nothing is left behind.
set -euo pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"
need tpm2_getrandom tpm2_pcrextend tpm2_pcrread
mkscratch

pcr16() { tpm2_pcrread -T "$1" sha256:16 | grep -Eo '0x[0-9A-F]{64}'; }

# Two at once, in subshells that report and then hold until told to stop.
for n in 1 2; do
	(
		swtpm_start
		echo "$SWTPM_PORT $SWTPM_PID $SWTPM_STATE" >"$SCRATCH/tpm$n"
		while [ ! -e "$SCRATCH/stop" ]; do sleep 0.1; done
	) &
	eval "holder$n=\$!"
done
for i in $(seq 1 100); do
	[ -s "$SCRATCH/tpm1" ] && [ -s "$SCRATCH/tpm2" ] && break
	sleep 0.1
done
read -r port1 pid1 state1 <"$SCRATCH/tpm1"
read -r port2 pid2 state2 <"$SCRATCH/tpm2"
[ "$port1" != "$port2" ] || fail "two fixtures share port $port1"
t1="swtpm:host=127.0.0.1,port=$port1"
t2="swtpm:host=127.0.0.1,port=$port2"

[ "$(tpm2_getrandom -T "$t1" 16 | wc -c)" = 16 ] || fail "TPM 1 gave no random bytes"
[ "$(tpm2_getrandom -T "$t2" 16 | wc -c)" = 16 ] || fail "TPM 2 gave no random bytes"

zero=0x0000000000000000000000000000000000000000000000000000000000000000
[ "$(pcr16 "$t1")" = "$zero" ] || fail "TPM 1 did not start fresh"
tpm2_pcrextend -T "$t1" 16:sha256=$(printf '%064d' 1)
[ "$(pcr16 "$t1")" != "$zero" ] || fail "extend did not take"
[ "$(pcr16 "$t2")" = "$zero" ] || fail "an extend in TPM 1 shows in TPM 2"

touch "$SCRATCH/stop"
wait "$holder1" "$holder2"
for pid in $pid1 $pid2; do
	! kill -0 "$pid" 2>/dev/null || fail "swtpm $pid still running after stop"
done
for s in $state1 $state2; do
	[ ! -e "$s" ] || fail "state $s left behind"
done
swtpm_port_free "$port1" || fail "port $port1 still open"

# with-swtpm returns the command's status and cleans up after a failure.
rc=0
"$SEALBOOT_SRC/tests/lib/with-swtpm" bash -c 'tpm2_getrandom 4 >/dev/null; echo $SEALBOOT_TCTI >'"$SCRATCH/tcti"'; exit 3' || rc=$?
[ "$rc" = 3 ] || fail "with-swtpm returned $rc, want 3"
port=$(sed -E 's/.*port=//' "$SCRATCH/tcti")
swtpm_port_free "$port" || fail "with-swtpm left port $port open"

echo "swtpm fixture: all checks passed"
