#!/bin/bash
# The TPM side under attack: PCRs that differ from the approved values, a
# validly signed but retired PCR policy replayed, the TPM dying in the middle
# of the sequence, and a TPM in dictionary-attack lockout.
set -eu
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"
. "$SEALBOOT_SRC/tests/anchor/lib.sh"

# A payload big enough that verification takes a moment (sparse: no disk).
BUNDLE_SIZE=1536M
appliance_setup
save_good

echo "== a PCR the policy seals to differs (firmware measured something else)"
fresh_boot
tpm2_pcrextend 7:sha256=00000000000000000000000000000000000000000000000000000000000000aa
expect_boot 6 "PCR 7 differs from the value the admin approved"
expect_no_handoff
expect_locked

echo "== a newer PCR policy retires the old one; the old one replayed is refused"
fresh_boot
cp "$A/state/pcr-policy.json" "$A/old-pcr-policy.json"
old=$(sed -n 's/.*"serial": \([0-9]*\).*/\1/p' "$A/old-pcr-policy.json")
expect_admin 0 "signed PCR policy serial $((old + 1))" pcr-policy sign --from-tpm --key "$A/admin.pem" "$A/state"
expect_boot 0 "OK"
expect_admin 0 "(1 older serial(s) retired)" pcr-policy activate "$A/state"
cp "$A/state/pcr-policy.json" "$A/state.good/pcr-policy.json" # the genuine one now
swtpm_reboot
rm -f "$A/run/handoff.json"
cp "$A/old-pcr-policy.json" "$A/state/pcr-policy.json"
expect_boot 6 "was retired by a newer one"
expect_no_handoff
expect_locked
# Activating the old one again cannot lower the counter.
expect_admin 7 "was already retired" pcr-policy activate "$A/state"

echo "== the TPM dies in the middle of the sequence"
fresh_boot
"$ANCHOR" boot --state "$A/state" --run "$A/run" >"$A/boot.out" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
	grep -q "verifying bundle os" "$A/boot.out" && break
	sleep 0.01
done
grep -q "verifying bundle os" "$A/boot.out" || fail "the boot never reached the bundle: $(cat "$A/boot.out")"
swtpm_kill
rc=0
wait "$pid" || rc=$?
[ "$rc" = 8 ] || fail "boot with the TPM gone: exit $rc, want 8: $(cat "$A/boot.out")"
grep -q "no TPM answers" "$A/boot.out" || fail "no clear message: $(cat "$A/boot.out")"
echo "ok: boot exit 8: $(grep FAILED "$A/boot.out")"
expect_no_handoff
# Power back: nothing was damaged, no dictionary-attack failure was counted.
swtpm_reboot
expect_boot 0 "OK"
[[ "$(tpm2_getcap properties-variable)" == *"TPM2_PT_LOCKOUT_COUNTER: 0x0"* ]] ||
	fail "an unclean stop counted against the TPM: $(tpm2_getcap properties-variable)"
echo "ok: after the power cut the next boot works and the lockout counter is 0"

echo "== the TPM is in dictionary-attack lockout"
fresh_boot
tpm2_dictionarylockout --setup-parameters --max-tries=1 --recovery-time=600 \
	--lockout-recovery-time=600 >/dev/null
tpm2_createprimary -C o -p rightpass -c "$A/da.ctx" >/dev/null
tpm2_create -C "$A/da.ctx" -P wrongpass -u "$A/da.pub" -r "$A/da.priv" >/dev/null 2>&1 &&
	fail "a wrong password was accepted"
tpm2_flushcontext -t >/dev/null
[[ "$(tpm2_getcap properties-variable)" == *"inLockout:                 1"* ]] ||
	fail "could not put the TPM in lockout: $(tpm2_getcap properties-variable)"
before=$(tpm2_getcap properties-variable | grep LOCKOUT_COUNTER)
expect_boot 0 "dictionary-attack lockout"
after=$(tpm2_getcap properties-variable | grep LOCKOUT_COUNTER)
[ "$before" = "$after" ] || fail "the boot deepened the lockout: $before -> $after"
[[ "$("$ANCHOR" status --json --run "$A/run")" == *'"tpm_lockout":true'* ]] || fail "status hides the lockout"
echo "ok: lockout reported, the boot added no failure ($after)"
echo "PASS"
