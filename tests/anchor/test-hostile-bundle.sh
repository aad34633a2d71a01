#!/bin/bash
# Bundles under attack: tampered manifest, signature or payload, a signer
# from an untrusted CA, another appliance class, and rollback against the
# TPM counter. Each fails closed (exit 4 bundle, 5 rollback) with no handoff,
# and the real key stays sealed for the rest of that boot.
set -eu
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"
. "$SEALBOOT_SRC/tests/anchor/lib.sh"

appliance_setup
save_good
os=$A/bundles/os

flip() { # FILE OFFSET
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf '%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

echo "== manifest edited after signing"
fresh_boot
sed -i 's/"version": 1,/"version": 9,/' "$os/manifest.json"
grep -q '"version": 9,' "$os/manifest.json" || fail "the edit did not apply: $(cat "$os/manifest.json")"
expect_boot 4 "bundle os: "
expect_no_handoff
expect_locked

echo "== signature corrupted"
fresh_boot
flip "$os/manifest.json.p7s" 200
expect_boot 4 "bundle os: "
expect_locked

echo "== payload byte flipped"
fresh_boot
flip "$os/disk.img" 3
expect_boot 4 "disk.img"
expect_locked

echo "== extra file in the bundle"
fresh_boot
echo evil >"$os/run-me.sh"
expect_boot 4 "run-me.sh"
expect_locked

echo "== signed by a CA the policy does not trust"
fresh_boot
make_bundle "$os" 1 "$PKI/other-signer"
expect_boot 4 "bundle os: "
expect_locked

echo "== signed for another appliance class"
fresh_boot
"$SIGN" sign --key "$PKI/signer.key" --cert "$PKI/signer.crt" --name os --version 1 \
	--class other-box --payload disk:disk.img --force --no-progress "$os" >/dev/null 2>&1
expect_boot 4 "signed for appliance class \"other-box\""
expect_locked

echo "== rollback: boot v3, then v2 is refused and the counter stays"
fresh_boot
make_bundle "$os" 3
expect_boot 0 "OK"
swtpm_reboot
rm -f "$A/run/handoff.json"
make_bundle "$os" 2
expect_boot 5 "bundle os: version 2 is older than version 3 this appliance already ran (rollback refused)"
expect_no_handoff
expect_locked
# The counter was not lowered: v2 is still refused on the next boot, v3 boots.
swtpm_reboot
expect_boot 5 "version 2 is older than version 3"
swtpm_reboot
make_bundle "$os" 3
expect_boot 0 "OK"
# The original v1 (validly signed) is refused too.
swtpm_reboot
rm -f "$A/run/handoff.json"
rm -rf "$os" && cp -a "$A/bundles.good/os" "$os"
expect_boot 5 "version 1 is older than version 3"
expect_locked

echo "== the rollback floor reset by rewriting the NV record (empty owner auth)"
# Same admin digest, base of the bundle's counter moved up to the counter's
# value (floor 0 again), defined and locked like the original: the Name
# matches, but the record is measured, so the approved PCRs are not reached.
swtpm_reboot
rm -f "$A/run/handoff.json"
tpm2_nvread -C o -s 96 0x01A5B000 >"$A/rec.bin"
tpm2_nvread -C o -s 8 0x01A5B010 >"$A/ctr.bin"
{ head -c 32 "$A/rec.bin"; cat "$A/ctr.bin"; tail -c +41 "$A/rec.bin"; } >"$A/evil.rec"
[ "$(stat -c %s "$A/evil.rec")" = 96 ] || fail "record forgery is not 96 bytes"
tpm2_nvundefine -C o 0x01A5B000 >/dev/null
tpm2_nvdefine -C o -s 96 -a "ownerwrite|ownerread|authread|no_da|writedefine" 0x01A5B000 >/dev/null
tpm2_nvwrite -C o -i "$A/evil.rec" 0x01A5B000
tpm2_nvwritelock -C o 0x01A5B000
expect_boot 6 "PCR 15 differs from the value the admin approved"
expect_no_handoff
expect_locked
# The genuine record back (as the admin would, by re-provisioning).
tpm2_nvundefine -C o 0x01A5B000 >/dev/null
tpm2_nvdefine -C o -s 96 -a "ownerwrite|ownerread|authread|no_da|writedefine" 0x01A5B000 >/dev/null
tpm2_nvwrite -C o -i "$A/rec.bin" 0x01A5B000
tpm2_nvwritelock -C o 0x01A5B000

echo "== a version jump beyond the per-boot limit"
swtpm_reboot
make_bundle "$os" 5000
expect_boot 5 "jumps more than 1024 past 3"
expect_locked
echo "PASS"
