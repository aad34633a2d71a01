#!/bin/bash
# A second sealboot-anchor in the same boot: after a good run it leaves the
# handoff, the verdict and the event log as they were and says this boot
# was already done (exit 10); after a failed run it keeps that verdict
# (exit 10); two at once: the one that finds the run lock taken changes
# nothing (exit 11) and the event log still replays to the TPM. A handoff
# that no run of this boot wrote is still refused (exit 9).
set -eu
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"
. "$SEALBOOT_SRC/tests/anchor/lib.sh"
need flock cmp

appliance_setup
save_good

snap() { # keep the run directory's files to compare
	rm -rf "$A/run.before"
	cp -a "$A/run" "$A/run.before"
}
unchanged() { # WHAT
	for f in status.json eventlog.jsonl handoff.json; do
		if [ -e "$A/run.before/$f" ]; then
			cmp -s "$A/run.before/$f" "$A/run/$f" || fail "$1: $f changed"
		else
			[ ! -e "$A/run/$f" ] || fail "$1: $f appeared"
		fi
	done
}
status_is() { # RC TEXT
	local rc=0 out
	out=$("$ANCHOR" status --run "$A/run") || rc=$?
	[ "$rc" = "$1" ] && [ "$out" = "$2" ] || fail "status: exit $rc: $out (want $1: $2)"
}

echo "== a rerun after a good boot"
fresh_boot
expect_boot 0 "OK"
snap
expect_boot 10 "sealboot-anchor: ALREADY DONE: this boot was already unlocked by an earlier run; its verdict (OK) and handoff stand, and this run changed nothing"
[ "$(grep -c . "$A/boot.out")" = 1 ] || fail "more than one line: $(cat "$A/boot.out")"
unchanged "rerun after a good boot"
status_is 0 "sealboot: OK: 1 bundle(s) verified, 1 volume(s) key-checked (no device-mapper here: not activated); event log matches the TPM"
expect_locked

echo "== a rerun while the run lock is held (another anchor at work)"
# Held here, on its own open file, as a running anchor holds it.
exec 9>"$A/run/anchor.lock"
flock -n 9 || fail "could not take the run lock"
expect_boot 11 "sealboot-anchor: BUSY: another sealboot-anchor is running in this boot (it holds $A/run/anchor.lock); this run changed nothing: wait for it, then read sealboot-anchor status"
exec 9>&-
unchanged "a run that found the lock taken"

echo "== the handoff of a good boot removed, then a rerun"
rm "$A/run/handoff.json"
rm "$A/run.before/handoff.json"
expect_boot 10 "ALREADY DONE: this boot was already unlocked by an earlier run (verdict OK), but its handoff.json is gone, so the guest cannot be launched before the next boot; this run changed nothing"
unchanged "rerun without the handoff"

echo "== the handoff of a good boot replaced, then a rerun: refused as planted"
fresh_boot
expect_boot 0 "OK"
sed -i 's/"policy_serial": 1/"policy_serial": 2/' "$A/run/handoff.json"
sed -i 's/"pcr15": "[0-9a-f]*"/"pcr15": "'"$(printf '%064d' 0)"'"/' "$A/run/handoff.json"
expect_boot 9 "handoff.json existed before the anchor ran (planted?)"
[ ! -e "$A/run/handoff.json" ] || fail "the replaced handoff was left in place"
expect_locked

echo "== a good run's files copied into a fresh boot: no run of this boot wrote them"
fresh_boot
expect_boot 0 "OK"
cp "$A/run/status.json" "$A/run/eventlog.jsonl" "$A/run/handoff.json" "$A/"
swtpm_reboot
cp "$A/status.json" "$A/eventlog.jsonl" "$A/handoff.json" "$A/run/"
expect_boot 9 "handoff.json existed before the anchor ran (planted?)"
[ ! -e "$A/run/handoff.json" ] || fail "the copied handoff was left in place"
expect_locked

echo "== a rerun after a failed boot keeps the first verdict"
fresh_boot
tpm2_pcrextend 7:sha256=00000000000000000000000000000000000000000000000000000000000000aa
expect_boot 6 "PCR 7 differs from the value the admin approved"
snap
expect_boot 10 "ALREADY DONE: the anchor already ran in this boot and its verdict stands: FAILED at unseal (exit 6): PCR 7 differs from the value the admin approved"
unchanged "rerun after a failed boot"
rc=0
out=$("$ANCHOR" status --run "$A/run") || rc=$?
[ "$rc" = 6 ] && [[ "$out" == "sealboot: FAILED at unseal (exit 6): PCR 7 differs"* ]] ||
	fail "status after the rerun: exit $rc: $out"
expect_locked

echo "== two anchors at once on a fresh boot"
fresh_boot
rc1=0 rc2=0
"$ANCHOR" boot --state "$A/state" --run "$A/run" >"$A/one.out" 2>&1 &
p1=$!
"$ANCHOR" boot --state "$A/state" --run "$A/run" >"$A/two.out" 2>&1 &
p2=$!
wait "$p1" || rc1=$?
wait "$p2" || rc2=$?
case "$rc1/$rc2" in
0/10 | 0/11 | 10/0 | 11/0) ;;
*) fail "two at once: exits $rc1 and $rc2: $(cat "$A/one.out" "$A/two.out")" ;;
esac
grep -q "OK: 1 bundle(s) verified" "$A/one.out" "$A/two.out" || fail "no OK"
grep -q "ALREADY DONE\|BUSY" "$A/one.out" "$A/two.out" || fail "the other run did not say why it stopped"
[ -f "$A/run/handoff.json" ] || fail "no handoff after two at once"
status_is 0 "sealboot: OK: 1 bundle(s) verified, 1 volume(s) key-checked (no device-mapper here: not activated); event log matches the TPM"
echo "ok: two at once: exits $rc1 and $rc2; the handoff stands and the event log replays to the TPM"
echo "PASS"
