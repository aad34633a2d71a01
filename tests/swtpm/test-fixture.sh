#!/bin/bash
# The swtpm fixture itself: every test gets its own simulator, with fresh
# state, on its own ports, and nothing is left behind however the test ends.
# shellcheck disable=SC2016 # the bash -c scripts expand in the child
# shellcheck disable=SC2119 # swtpm_start takes no arguments
set -euo pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"
need swtpm ss pgrep tpm2_getrandom tpm2_pcrextend tpm2_pcrread
mkscratch
lib=$SEALBOOT_SRC/tests/lib

pcr23() { tpm2_pcrread -T "$1" sha256:23 | grep -Eo '0x[0-9A-F]{64}'; }

# Nothing of this simulator is left: process, state directory, both ports.
assert_gone() { # PID STATE PORT
	! kill -0 "$1" 2>/dev/null || fail "swtpm $1 still runs after stop"
	! pgrep -f "dir=$2" >/dev/null || fail "an swtpm with state $2 still runs"
	[ ! -e "$2" ] || fail "state $2 left behind"
	swtpm_port_free "$3" || fail "port $3 still open after stop"
	swtpm_port_free $(($3 + 1)) || fail "port $(($3 + 1)) still open after stop"
}


# 1. Two at once, in subshells that report and then hold until told to stop
# (or until this script is gone, so a failure here strands nothing).
holders=()
for n in 1 2; do
	(
		swtpm_start
		echo "$SWTPM_PORT $SWTPM_PID $SWTPM_STATE" >"$SCRATCH/tpm$n.tmp"
		mv "$SCRATCH/tpm$n.tmp" "$SCRATCH/tpm$n"
		while [ ! -e "$SCRATCH/stop" ] && [ -d "$SCRATCH" ]; do sleep 0.1; done
	) &
	holders+=("$!")
done
for _ in $(seq 1 300); do
	[ -s "$SCRATCH/tpm1" ] && [ -s "$SCRATCH/tpm2" ] && break
	sleep 0.1
done
if [ ! -s "$SCRATCH/tpm1" ] || [ ! -s "$SCRATCH/tpm2" ]; then
	fail "the two fixtures did not start"
fi
read -r port1 pid1 state1 <"$SCRATCH/tpm1"
read -r port2 pid2 state2 <"$SCRATCH/tpm2"
echo "fixture 1: port $port1, pid $pid1; fixture 2: port $port2, pid $pid2"
[ "$port1" != "$port2" ] || fail "two fixtures share port $port1"
[ "$state1" != "$state2" ] || fail "two fixtures share state $state1"
t1="swtpm:host=127.0.0.1,port=$port1"
t2="swtpm:host=127.0.0.1,port=$port2"

# 2. Each answers GetRandom.
[ "$(tpm2_getrandom -T "$t1" 16 | wc -c)" = 16 ] || fail "TPM 1 gave no 16 random bytes"
[ "$(tpm2_getrandom -T "$t2" 16 | wc -c)" = 16 ] || fail "TPM 2 gave no 16 random bytes"

# 3. Fresh and separate state: an extend in one does not show in the other.
zero=0x$(printf '%064d' 0)
[ "$(pcr23 "$t1")" = "$zero" ] || fail "TPM 1 did not start fresh"
[ "$(pcr23 "$t2")" = "$zero" ] || fail "TPM 2 did not start fresh"
tpm2_pcrextend -T "$t1" "23:sha256=$(printf '%064d' 1)"
[ "$(pcr23 "$t1")" != "$zero" ] || fail "the extend in TPM 1 did not take"
[ "$(pcr23 "$t2")" = "$zero" ] || fail "an extend in TPM 1 shows in TPM 2"

# 4. After stop nothing remains.
touch "$SCRATCH/stop"
wait "${holders[@]}" || fail "a fixture holder failed"
assert_gone "$pid1" "$state1" "$port1"
assert_gone "$pid2" "$state2" "$port2"

# 5. A new fixture starts from scratch: the extend is gone.
(
	swtpm_start
	[ "$(pcr23 "$SEALBOOT_TCTI")" = "$zero" ] || fail "a new fixture sees an old extend"
)

# 6. swtpm_start keeps an EXIT trap its caller set: a test that made a
# scratch directory and then a simulator loses neither cleanup.
bash -c '
	set -euo pipefail
	. "$1/common.sh"; . "$1/swtpm.sh"
	mkscratch
	swtpm_start
	echo "$SWTPM_PORT $SWTPM_PID $SWTPM_STATE $SCRATCH" >"$2"
' chain "$lib" "$SCRATCH/chain"
read -r port pid state scratch <"$SCRATCH/chain"
assert_gone "$pid" "$state" "$port"
[ ! -e "$scratch" ] || fail "swtpm_start replaced the caller's EXIT trap ($scratch left)"

# 7. with-swtpm: the command sees a live TPM, and its status comes back.
rc=0
"$lib/with-swtpm" bash -c 'tpm2_getrandom 4 >/dev/null && printf "%s\n" "$SEALBOOT_TCTI" >"$1"; exit 3' \
	x "$SCRATCH/tcti" || rc=$?
[ "$rc" = 3 ] || fail "with-swtpm returned $rc, want the command's 3"
[ -s "$SCRATCH/tcti" ] || fail "the command under with-swtpm had no working TPM"
port=$(sed -E 's/.*port=//' "$SCRATCH/tcti")
swtpm_port_free "$port" || fail "with-swtpm left port $port open"

# 8. ... also when the command crashes.
rc=0
"$lib/with-swtpm" bash -c 'printf "%s\n" "$SEALBOOT_TCTI" >"$1"; kill -SEGV $$' \
	x "$SCRATCH/tcti" 2>/dev/null || rc=$?
[ "$rc" = 139 ] || fail "with-swtpm returned $rc for a crash, want 139"
port=$(sed -E 's/.*port=//' "$SCRATCH/tcti")
swtpm_port_free "$port" || fail "with-swtpm left port $port open after a crash"

# 9. ... and when it is stopped from outside, as a meson timeout does: TERM
# to with-swtpm ends the command and the simulator.
rm -f "$SCRATCH/tcti"
"$lib/with-swtpm" bash -c 'printf "%s\n" "$SEALBOOT_TCTI" >"$1"; exec sleep 300' \
	x "$SCRATCH/tcti" &
w=$!
for _ in $(seq 1 200); do
	[ -s "$SCRATCH/tcti" ] && break
	sleep 0.1
done
[ -s "$SCRATCH/tcti" ] || fail "the command under with-swtpm did not start"
port=$(sed -E 's/.*port=//' "$SCRATCH/tcti")
sleeper=$(pgrep -P "$w" -x sleep || true)
[ -n "$sleeper" ] || fail "no command process under with-swtpm"
kill -TERM "$w"
rc=0
wait "$w" || rc=$?
[ "$rc" = 143 ] || fail "with-swtpm returned $rc after TERM, want 143"
! kill -0 "$sleeper" 2>/dev/null || fail "with-swtpm left its command ($sleeper) running"
swtpm_port_free "$port" || fail "with-swtpm left port $port open after TERM"
swtpm_port_free $((port + 1)) || fail "with-swtpm left port $((port + 1)) open after TERM"

echo "swtpm fixture: all checks passed"
