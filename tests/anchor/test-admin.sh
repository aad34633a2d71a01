#!/bin/bash
# sealboot-admin and sealboot-anchor as tools: help and version, policy
# sign/verify/show, refusals that protect data (no format over a volume, no
# older policy, no takeover of another admin's TPM), idempotent provisioning,
# enrolling an existing volume, the recovery key, and status before a boot.
set -eu
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"
. "$SEALBOOT_SRC/tests/anchor/lib.sh"
need cryptsetup

appliance_setup

echo "== help and version"
out=$("$ADMIN" --help)
[[ "$out" == "Usage: sealboot-admin policy sign"* ]] || fail "admin --help: $out"
[[ "$("$ADMIN" --version)" == "sealboot-admin "[0-9]* ]] || fail "admin --version"
[[ "$("$ANCHOR" --help)" == "Usage: sealboot-anchor boot"* ]] || fail "anchor --help"
[[ "$("$ANCHOR" --version)" == "sealboot-anchor "[0-9]* ]] || fail "anchor --version"
expect_admin 2 "unknown command 'frobnicate'" frobnicate
rc=0; "$ANCHOR" reboot >"$A/o" 2>&1 || rc=$?
[ "$rc" = 2 ] && [[ "$(cat "$A/o")" == *"unknown command 'reboot'"* ]] || fail "anchor bad command: $rc"
# A bad option: one line, ours, naming it (getopt prints nothing itself).
rc=0; "$ANCHOR" boot --bogus >"$A/o" 2>&1 || rc=$?
[ "$rc" = 2 ] && [ "$(cat "$A/o")" = "sealboot-anchor: unknown option '--bogus' (try --help)" ] ||
	fail "anchor bad option: $rc $(cat "$A/o")"
rc=0; "$ANCHOR" boot --run >"$A/o" 2>&1 || rc=$?
[ "$rc" = 2 ] && [ "$(cat "$A/o")" = "sealboot-anchor: option '--run' needs a value (try --help)" ] ||
	fail "anchor missing value: $rc $(cat "$A/o")"
rc=0; "$ADMIN" --recovery-key=x show >"$A/o" 2>&1 || rc=$?
[ "$rc" = 2 ] && [ "$(grep -c . "$A/o")" = 1 ] && [[ "$(cat "$A/o")" == "sealboot-admin: "*"'--recovery-key'"* ]] ||
	fail "admin bad option: $rc $(cat "$A/o")"
rc=0; "$ADMIN" -z show >"$A/o" 2>&1 || rc=$?
[ "$rc" = 2 ] && [ "$(cat "$A/o")" = "sealboot-admin: unknown option '-z' (try --help)" ] ||
	fail "admin bad short option: $rc $(cat "$A/o")"
echo "ok: --help, --version, usage errors exit 2 (one line each)"

echo "== status before the anchor ran"
rc=0; out=$("$ANCHOR" status --run "$A/nowhere") || rc=$?
[ "$rc" = 9 ] && [[ "$out" == "sealboot: NO VERDICT: the anchor has not run in this boot"* ]] ||
	fail "status before boot: $rc $out"
echo "ok: no verdict, exit 9"
mkdir -p "$A/oldrun"
printf '{"format":"sealboot-status","format_version":1,"boot_id":"00000000-0000-0000-0000-000000000000","verdict":"ok","exit_code":0,"stage":"done","reason":"","bundles_verified":1,"volumes_open":1,"activated":true,"tpm_lockout":false,"time":1}\n' \
	>"$A/oldrun/status.json"
rc=0; out=$("$ANCHOR" status --run "$A/oldrun") || rc=$?
[ "$rc" = 9 ] && [[ "$out" == *"NO VERDICT: $A/oldrun/status.json is from an earlier boot"* ]] ||
	fail "a status from another boot was believed: $rc $out"
echo "ok: a status from an earlier boot is no verdict (9)"

echo "== policy verify and show"
expect_admin 0 "verified (serial 1, class acme-edge" policy verify "$A/state"
admin policy show --json "$A/state"
[ "$ADMIN_RC" = 0 ] || fail "show --json: $(cat "$A/admin.out")"
grep -q '"schema": "sealboot-admin-policy/1"' "$A/admin.out" || fail "schema: $(cat "$A/admin.out")"
grep -q '"uuid": "'"$UUID"'"' "$A/admin.out" || fail "show --json lacks the volume"
cp -a "$A/state" "$A/state.bad"
sed -i 's/acme-edge/acme-edgf/' "$A/state.bad/policy.json"
expect_admin 3 "policy signature does not verify" policy verify "$A/state.bad"

echo "== policy sign refuses bad input and older policies"
printf '{"format":"sealboot-appliance-policy"}' >"$A/bad.json"
expect_admin 5 "policy: " policy sign --key "$A/admin.pem" "$A/bad.json" "$A/state"
cp "$A/state/policy.json" "$A/policy.before"
write_policy 1
sed -i 's/"vcpus": 1/"vcpus": 2/' "$A/policy.json"
expect_admin 2 "must be higher (or give --force)" policy sign --key "$A/admin.pem" "$A/policy.json" "$A/state"
cmp -s "$A/state/policy.json" "$A/policy.before" || fail "the refused sign changed the policy"
expect_admin 0 "verified (serial 1" policy verify "$A/state"
expect_admin 2 "cannot read" policy sign --key "$A/admin.pem" "$A/missing.json" "$A/state"
expect_admin 2 "--key is required" policy sign "$A/policy.json" "$A/state"

echo "== policy sign refuses a seal that leaves the boot before the anchor unmeasured"
for weak in "7, 15" "0, 4, 7, 15" "4, 9, 15" "7, 9, 15" "4, 7, 11, 15"; do
	write_policy 2 "$weak"
	expect_admin 5 "leaves code before the anchor unmeasured: PCR" \
		policy sign --key "$A/admin.pem" "$A/policy.json" "$A/state"
	cmp -s "$A/state/policy.json" "$A/policy.before" || fail "the refused sign changed the policy"
done
write_policy 2 "0, 4, 7, 15"
expect_admin 5 "PCR 9 (the initramfs and kernel command line) is missing" \
	policy sign --key "$A/admin.pem" "$A/policy.json" "$A/state"
mkdir -p "$A/weak" "$A/uki"
expect_admin 0 "WARNING: the policy allows an unmeasured boot" \
	policy sign --allow-unmeasured-boot --key "$A/admin.pem" "$A/policy.json" "$A/weak"
grep -q '"seal_pcrs":\[0,4,7,15\],"allow_unmeasured_boot":true,' "$A/weak/policy.json" ||
	fail "the override is not in the signed policy: $(cat "$A/weak/policy.json")"
expect_admin 0 "sealing PCRs: 0 4 7 15 (UNMEASURED BOOT ALLOWED" policy show "$A/weak"
admin policy show --json "$A/weak"
grep -q '"allow_unmeasured_boot": true' "$A/admin.out" || fail "show --json: $(cat "$A/admin.out")"
write_policy 2 "4, 7, 11, 12, 15"
expect_admin 0 "signed policy serial 2" policy sign --key "$A/admin.pem" "$A/policy.json" "$A/uki"
admin policy show "$A/uki"
[[ "$(cat "$A/admin.out")" != *UNMEASURED* ]] || fail "a covered set shown as unmeasured"
expect_admin 0 "not needed" policy sign --allow-unmeasured-boot --force --key "$A/admin.pem" \
	"$A/policy.json" "$A/uki"
! grep -q allow_unmeasured "$A/uki/policy.json" || fail "the override recorded for a covered set"
echo "ok: weak sets refused (exit 5, naming the PCR); the override is signed into the policy and shown"

echo "== provisioning is idempotent"
expect_admin 0 "was already provisioned" provision --key "$A/admin.pem" "$A/state"
[[ "$(cat "$A/admin.out")" == *"volume data: already sealed to this appliance, left as is"* ]] ||
	fail "second provision: $(cat "$A/admin.out")"

echo "== --format on a volume that holds LUKS2 is refused, nothing destroyed"
cryptsetup token remove --token-id 0 "$A/data.img"
expect_admin 9 "is already LUKS2; refusing to format it" provision --key "$A/admin.pem" --format data "$A/state"
cryptsetup luksDump "$A/data.img" | grep -q "$UUID" || fail "the volume was touched"

echo "== enrolling an existing LUKS2 volume next to its passphrase"
rm "$A/data.img"
truncate -s 32M "$A/data.img"
printf 'old passphrase' | cryptsetup luksFormat --type luks2 --uuid "$UUID" --batch-mode \
	--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file - "$A/data.img"
expect_admin 2 "give --passphrase-fd" provision --key "$A/admin.pem" "$A/state"
printf 'wrong passphrase' >"$A/pass.wrong"
expect_admin 1 "no keyslot opens" provision --key "$A/admin.pem" --passphrase-fd 3 "$A/state" 3<"$A/pass.wrong"
printf 'old passphrase' >"$A/pass"
admin provision --key "$A/admin.pem" --passphrase-fd 3 --recovery-key "$A/state" 3<"$A/pass"
[ "$ADMIN_RC" = 0 ] || fail "enroll: $(cat "$A/admin.out")"
"$ADMIN" provision --key "$A/admin.pem" --passphrase-fd 3 --recovery-key "$A/state" 3<"$A/pass" \
	>"$A/recovery.out" 2>/dev/null || true
recovery=$(grep -E '^[0-9a-z]{5}(-[0-9a-z]{5}){7}$' "$A/admin.out" || true)
[ -n "$recovery" ] || fail "no recovery key printed: $(cat "$A/admin.out")"
[ ! -s "$A/recovery.out" ] || fail "a second run printed a recovery key again"
printf '%s' "$recovery" | cryptsetup open --test-passphrase --key-file - "$A/data.img" ||
	fail "the recovery key does not open the volume"
printf 'old passphrase' | cryptsetup open --test-passphrase --key-file - "$A/data.img" ||
	fail "enrolling removed the old passphrase"
echo "ok: enrolled, recovery key opens the volume, old passphrase kept"
swtpm_reboot
rm -rf "$A/run" && mkdir -m 700 "$A/run"
expect_boot 0 "OK"

echo "== another admin cannot take over this TPM"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$A/other.pem" 2>/dev/null
mkdir "$A/other"
"$ADMIN" policy sign --key "$A/other.pem" "$A/policy.json" "$A/other" 2>/dev/null
expect_admin 9 "this TPM is provisioned for another admin key" provision --key "$A/other.pem" "$A/other"
expect_admin 4 "is not the admin key" provision --key "$A/other.pem" "$A/state"

echo "== pcr-policy predict and sign from a reference event log, offline"
# A real OVMF boot's log (tests/fixtures/eventlogs/README): boot A, and the
# command line of boot B, whose PCR 9 the TPM then held.
LOGS=$SEALBOOT_SRC/tests/fixtures/eventlogs
A_PCR4=a4aad0347737ceb153ac874a59819c1a43427223bb65f44a12bc57d50c6b0d47
A_PCR7=65caf8dd1e0ea7a6347b635d2b379c93b9a1351edc2afc3ecda700e534eb3068
A_PCR9=c20edb3bec139cd4cf3e86cb70fd3681ea8b030be1803a6240af6ef85dd696c5
expect_admin 0 "4=$A_PCR4" pcr-policy predict --event-log "$LOGS/ovmf-direct-a.bin"
[ "$(grep -c '^[0-9]=[0-9a-f]\{64\}$' "$A/admin.out")" = 10 ] || fail "predict: $(cat "$A/admin.out")"
grep -qx "9=$A_PCR9" "$A/admin.out" || fail "predict: $(cat "$A/admin.out")"
admin pcr-policy predict --event-log "$LOGS/ovmf-direct-a.bin" --pcrs 9 --json \
	--cmdline "console=ttyS0 quiet initrd=initrd"
[ "$ADMIN_RC" = 0 ] || fail "predict --json: $(cat "$A/admin.out")"
grep -q '"schema": "sealboot-admin-predict/1"' "$A/admin.out" || fail "$(cat "$A/admin.out")"
grep -q "\"9\": \"$A_PCR9\"" "$A/admin.out" || fail "the same command line predicts another PCR 9"
admin pcr-policy predict --event-log "$LOGS/ovmf-direct-a.bin" --pcrs 9 \
	--cmdline "console=ttyS0 quiet init=/bin/sh initrd=initrd"
[ "$ADMIN_RC" = 0 ] && ! grep -q "$A_PCR9" "$A/admin.out" || fail "init=/bin/sh predicts the same PCR 9"
expect_admin 2 "PCRs 13 and 15 are sealboot's own" pcr-policy predict --event-log "$LOGS/ovmf-direct-a.bin" --pcrs 4,15
expect_admin 2 "--pcrs '4-99'" pcr-policy predict --event-log "$LOGS/ovmf-direct-a.bin" --pcrs 4-99
expect_admin 2 "give --event-log" pcr-policy predict
expect_admin 2 "PCR 4 cannot be predicted from the artifacts alone" pcr-policy predict --cmdline x --pcrs 4
head -c 3000 "$LOGS/ovmf-direct-a.bin" >"$A/cut.log"
expect_admin 5 "firmware event log, record at byte" pcr-policy predict --event-log "$A/cut.log"
expect_admin 5 "kernel image: no MZ header" pcr-policy predict --event-log "$LOGS/ovmf-direct-a.bin" \
	--kernel "$A/cut.log"
expect_admin 2 "cannot read the initrd" pcr-policy predict --cmdline x --initrd "$A/missing"
# Signing from the log: PCRs 4, 7, 9 are the reference boot's, 15 predicted.
cp -a "$A/state" "$A/state.pred"
expect_admin 0 "predicted from the boot artifacts: PCR 4 7 9" pcr-policy sign --key "$A/admin.pem" \
	--event-log "$LOGS/ovmf-direct-a.bin" "$A/state.pred"
for v in "4, \"sha256\": \"$A_PCR4" "7, \"sha256\": \"$A_PCR7" "9, \"sha256\": \"$A_PCR9"; do
	grep -qF "{\"pcr\": $v\"}" "$A/state.pred/pcr-policy.json" ||
		fail "the approval lacks PCR $v: $(cat "$A/state.pred/pcr-policy.json")"
done
echo "ok: predict prints the reference boot's PCRs; a changed command line moves PCR 9; sign approves them offline"
echo "PASS"
