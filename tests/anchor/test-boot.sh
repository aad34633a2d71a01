#!/bin/bash
# The good path end to end: policy sign, provision, boot; the verdict, the
# event log replaying to the TPM, the handoff; after the cap nothing unseals;
# a reboot boots again; a second run in the same boot is refused.
set -eu
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"
. "$SEALBOOT_SRC/tests/anchor/lib.sh"

appliance_setup

# Fresh PCRs are not the approved state either: nothing was measured yet.
expect_locked

expect_boot 0 "OK: 1 bundle(s) verified, 1 volume(s) key-checked"
[ -f "$A/run/handoff.json" ] || fail "no handoff"
grep -q '"name": "data", "uuid": "'"$UUID"'"' "$A/run/handoff.json" || fail "handoff: $(cat "$A/run/handoff.json")"
grep -q '"activated": false' "$A/run/handoff.json" || fail "handoff claims activation"

out=$("$ANCHOR" status --run "$A/run")
[[ "$out" == "sealboot: OK: 1 bundle(s) verified, 1 volume(s) key-checked (no device-mapper here: not activated); event log matches the TPM" ]] ||
	fail "status: $out"
out=$("$ANCHOR" status --json --run "$A/run")
[[ "$out" == *'"verdict":"ok"'*'"eventlog_matches_tpm":true'* ]] || fail "status --json: $out"
echo "ok: status: OK and the event log replays to the TPM"

# The log is the truth: one extend more than the log, and status says so.
tpm2_pcrextend 13:sha256=0000000000000000000000000000000000000000000000000000000000000001
rc=0
out=$("$ANCHOR" status --run "$A/run") || rc=$?
[ "$rc" = 9 ] && [[ "$out" == *"SUSPECT"* ]] || fail "status after a foreign extend: $rc $out"
echo "ok: a PCR changed behind the log is reported"

# Capped: the real key is out of reach for the rest of this boot.
expect_locked
cp "$A/run/eventlog.jsonl" "$A/good-boot.jsonl"
# And a second anchor run in the same boot is refused before it tries.
rm -f "$A/run/handoff.json"
expect_boot 9 "PCR 13 was already extended in this boot"
expect_locked
# Its failure event continues the first run's log: the log still replays.
[[ "$("$ANCHOR" status --json --run "$A/run")" == *'"stage":"state"'* ]] || fail "status after rerun"
grep -q '"content":"sealboot failure stage=state"' "$A/run/eventlog.jsonl" || fail "no failure event logged"
[ "$(grep -c . "$A/run/eventlog.jsonl")" = $(($(grep -c . "$A/good-boot.jsonl") + 1)) ] ||
	fail "the rerun's log does not continue the first run's"

# The probe can succeed: on the next boot, replaying the log's sealing
# events up to the unseal (policy, bundle authority) by hand recreates the
# approved state exactly, and the key is released. So the refusals above
# are the TPM's, and the admin's prediction equals what the anchor measures.
swtpm_reboot
n=0
while read -r dg; do
	tpm2_pcrextend "15:sha256=$dg"
	n=$((n + 1))
done < <(grep '"pcr":15,' "$A/good-boot.jsonl" | grep '"content":"sealboot \(policy\|bundle-authority\) ' |
	sed 's/.*"digest":"\([0-9a-f]*\)".*/\1/')
[ "$n" = 2 ] || fail "expected 2 sealing events before the unseal, got $n"
out=$("$PROBE" "$A/state" "$A/data.img") || true
[ "$out" = RELEASED ] || fail "replaying the logged events does not reach the approved state: $out"
echo "ok: the logged events replay to the approved state (probe released the key)"

# Next boot: it works again, and the handoff is fresh.
swtpm_reboot
rm -f "$A/run/handoff.json"
expect_boot 0 "OK"
echo "PASS"
