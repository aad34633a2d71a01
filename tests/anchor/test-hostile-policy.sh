#!/bin/bash
# The policy and the admin key record under attack: every case fails closed
# with exit 3 (policy) or 6 (unseal), one reason, no handoff, and the real
# key stays sealed for the rest of that boot.
set -eu
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"
. "$SEALBOOT_SRC/tests/anchor/lib.sh"

appliance_setup
save_good
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$A/evil.pem" 2>/dev/null

echo "== policy re-signed by another key (admin.pub swapped with it)"
fresh_boot
"$ADMIN" policy sign --force --key "$A/evil.pem" "$A/policy.json" "$A/state" 2>/dev/null
expect_boot 3 "admin.pub is not the admin key this TPM was provisioned with"
expect_no_handoff
expect_locked

echo "== signature by another key, admin.pub kept"
fresh_boot
mkdir "$A/evil-state"
"$ADMIN" policy sign --key "$A/evil.pem" "$A/policy.json" "$A/evil-state" 2>/dev/null
cp "$A/evil-state/policy.json.sig" "$A/state/policy.json.sig"
expect_boot 3 "policy signature does not verify with the admin key"
expect_locked

echo "== policy edited after signing"
fresh_boot
sed -i 's/"serial":1,/"serial":2,/' "$A/state/policy.json"
grep -q '"serial":2,' "$A/state/policy.json" || fail "the edit did not apply"
expect_boot 3 "policy signature does not verify"
expect_locked

echo "== policy signature missing"
fresh_boot
rm "$A/state/policy.json.sig"
expect_boot 3 "policy.json.sig is missing"
expect_locked

echo "== admin-key NV index missing"
fresh_boot
tpm2_nvundefine -C o 0x01A5B000 >/dev/null
expect_boot 3 "this TPM holds no sealboot admin key"
expect_no_handoff
expect_locked

echo "== admin-key NV index redefined without the write lock"
fresh_boot
tpm2_nvundefine -C o 0x01A5B000 >/dev/null 2>&1 || true
tpm2_nvdefine -C o -s 96 -a "ownerwrite|ownerread|authread|no_da|writedefine" 0x01A5B000 >/dev/null
head -c 96 /dev/zero | tpm2_nvwrite -C o -i - 0x01A5B000
expect_boot 3 "is not sealboot's write-locked admin key record"
expect_locked

echo "== the whole trust root swapped: attacker's NV record, key, policy and bundle"
# With the (empty) owner auth a site attacker can re-provision the record
# for their own key and sign their own policy. The anchor then believes
# that policy, but it is measured: the admin's PCR policy no longer matches
# and the TPM keeps the real key, bound to the real admin key.
fresh_boot
tpm2_nvundefine -C o 0x01A5B000 >/dev/null 2>&1 || true
tpm2_nvdefine -C o -s 96 -a "ownerwrite|ownerread|authread|no_da|writedefine" 0x01A5B000 >/dev/null
openssl pkey -in "$A/evil.pem" -pubout -outform DER | openssl dgst -sha256 -binary >"$A/evil.rec"
head -c 64 /dev/zero >>"$A/evil.rec"
tpm2_nvwrite -C o -i "$A/evil.rec" 0x01A5B000
tpm2_nvwritelock -C o 0x01A5B000
"$ADMIN" policy sign --force --key "$A/evil.pem" "$A/policy.json" "$A/state" 2>/dev/null
expect_boot 3 "the PCR policy (serial 1) is not signed by the admin key"
expect_no_handoff
expect_locked
# ... and their own PCR policy for it: the TPM checks the signature and
# the PCRs, but the key is bound to the real admin key's Name.
rm -rf "$A/run" && mkdir -m 700 "$A/run"
swtpm_reboot
"$ADMIN" pcr-policy sign --from-tpm --key "$A/evil.pem" "$A/state" 2>"$A/admin.err" ||
	fail "attacker's pcr-policy sign: $(cat "$A/admin.err")"
expect_boot 6 "the volume key is bound to another admin key"
expect_no_handoff
expect_locked

echo "== the admin recovers: re-provisioning restores the record, the keys were never lost"
fresh_boot
tpm2_nvundefine -C o 0x01A5B000 >/dev/null
expect_admin 0 "TPM provisioned for this admin key" provision --key "$A/admin.pem" "$A/state"
[[ "$(cat "$A/admin.out")" == *"volume data: already sealed to this appliance, left as is"* ]] ||
	fail "re-provisioning touched the volume: $(cat "$A/admin.out")"
swtpm_reboot
expect_boot 0 "OK"
echo "PASS"
