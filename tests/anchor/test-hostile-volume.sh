#!/bin/bash
# Volumes and run-time state under attack: a look-alike LUKS2 volume with the
# same UUID and an attacker-known passphrase (with and without a copy of the
# real token), a volume with another UUID, corrupted headers and keyslots,
# and a handoff file planted before the anchor runs. Each fails closed
# (exit 7 volume, 9 state) and the real key stays sealed afterwards.
set -eu
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"
. "$SEALBOOT_SRC/tests/anchor/lib.sh"
need cryptsetup

appliance_setup
save_good

lookalike() { # UUID FILE
	truncate -s 32M "$2"
	printf 'attacker knows this' | cryptsetup luksFormat --type luks2 --uuid "$1" --batch-mode \
		--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file - "$2"
}

echo "== look-alike volume, same UUID, attacker's passphrase, the real token copied in"
fresh_boot
cryptsetup token export --token-id 0 "$A/data.img" >"$A/token.json"
grep -q '"type":"sealboot-tpm2"' "$A/token.json" || fail "no sealboot token on the real volume"
lookalike "$UUID" "$A/data.img"
cryptsetup token import --token-id 0 "$A/data.img" <"$A/token.json"
expect_boot 7 "FAILED (volume): checking the volume key of $A/data.img: it is not this volume's key"
# What happened to the key, in words that do not contradict each other.
grep -qx "sealboot-anchor: the TPM released 1 volume key(s) before this failure; they unlocked nothing and were wiped from memory; the failure was measured, so the PCRs are capped and nothing unseals again in this boot; the appliance stays locked" "$A/boot.out" ||
	fail "what happened to the released key: $(cat "$A/boot.out")"
! grep -q "no key was released" "$A/boot.out" || fail "says no key was released: $(cat "$A/boot.out")"
expect_no_handoff
# The anchor did unseal the real key, found it does not open this volume,
# and measured the failure: from now on in this boot the TPM refuses.
expect_locked
grep -q '"content":"sealboot failure stage=volume"' "$A/run/eventlog.jsonl" || fail "no failure event"

echo "== look-alike volume without a token"
fresh_boot
lookalike "$UUID" "$A/data.img"
expect_boot 7 "holds no sealboot-tpm2 token"
expect_locked

echo "== another LUKS2 volume (another UUID) where the real one was"
fresh_boot
lookalike 11111111-2222-3333-4444-555555555555 "$A/data.img"
expect_boot 7 "has UUID 11111111-2222-3333-4444-555555555555, the policy names $UUID"
expect_locked

echo "== both LUKS2 headers destroyed"
fresh_boot
dd if=/dev/zero of="$A/data.img" bs=1M count=1 conv=notrunc status=none
expect_boot 7 "not a valid LUKS2 volume"
expect_locked

echo "== only the primary header damaged: the secondary copy is genuine, it boots"
fresh_boot
dd if=/dev/urandom of="$A/data.img" bs=1 seek=4096 count=512 conv=notrunc status=none
expect_boot 0 "OK"

echo "== a handoff planted before the anchor runs"
fresh_boot
printf '{"format":"sealboot-handoff","volumes":[]}\n' >"$A/run/handoff.json"
expect_boot 9 "handoff.json existed before the anchor ran"
[ ! -e "$A/run/handoff.json" ] || fail "the planted handoff was left in place"
expect_locked
# The failure was measured: removing the file and trying again changes
# nothing, and the first verdict stands.
expect_boot 10 "ALREADY DONE: the anchor already ran in this boot and its verdict stands: FAILED at state (exit 9): $A/run/handoff.json existed before the anchor ran (planted?)"
rc=0
out=$("$ANCHOR" status --run "$A/run") || rc=$?
[ "$rc" = 9 ] && [[ "$out" == *"existed before the anchor ran (planted?)"* ]] || fail "status: exit $rc: $out"

echo "== a zeroize journal left by an interrupted zeroize"
fresh_boot
: >"$A/state/zeroize.journal"
expect_boot 9 "a zeroize was interrupted"
expect_no_handoff
expect_locked

echo "== a planted handoff as a symlink to a file elsewhere"
fresh_boot
echo keep >"$A/target"
ln -s "$A/target" "$A/run/handoff.json"
expect_boot 9 "existed before the anchor ran"
[ ! -L "$A/run/handoff.json" ] && [ "$(cat "$A/target")" = keep ] || fail "symlink case"
expect_locked

echo "== the run directory replaced by a symlink"
fresh_boot
rm -rf "$A/run"
mkdir -m 700 "$A/elsewhere"
ln -s "$A/elsewhere" "$A/run"
expect_boot 9 "a symlink?"
[ -z "$(ls -A "$A/elsewhere")" ] || fail "the anchor wrote through the symlink"
expect_locked
echo "PASS"
