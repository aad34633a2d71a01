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
echo "PASS"
