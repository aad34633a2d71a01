#!/bin/bash
# Zeroize end to end on swtpm and a file-backed LUKS2 volume: every refused
# order erases nothing (the real key still opens the volume afterwards); a
# valid order wipes (no header, no recovery key, no sealboot TPM object, no
# state), the appliance says "zeroized: ready for provisioning" at boot and
# in status, and another admin provisions it from scratch; a saved header
# with its token, the signed PCR policy and the exact good PCR state get
# nothing from the TPM (the anchor's path and stock tpm2_load), while the
# same restore works when the TPM clear is skipped (the control); a guest is
# stopped through the launcher first, and a launcher that fails stops the
# wipe after the TPM step, to be finished by the next boot.
set -eu
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"
. "$SEALBOOT_SRC/tests/anchor/lib.sh"
. "$SEALBOOT_SRC/tests/anchor/zeroize-lib.sh"

zsetup
ZLAUNCHER=$A/launcher
NOW=$(date +%s)

echo "== the challenge names this appliance and a fresh TPM counter"
challenge
cp "$A/ch.json" "$A/ch1.json"
grep -q '"format":"sealboot-zeroize-challenge"' "$A/ch.json" || fail "challenge: $(cat "$A/ch.json")"
grep -q '"volumes":\["data"\]' "$A/ch.json" || fail "challenge volumes: $(cat "$A/ch.json")"
c1=$(sed -E 's/.*"counter":([0-9]+).*/\1/' "$A/ch.json")
id=$(sed -E 's/.*"appliance_id":"([0-9a-f]+)".*/\1/' "$A/ch.json")
# The identity is the attestation key's Name, computed the same way by
# stock tools (docs/formats/zeroize.md, section 1).
tpm2_createprimary -Q -C e -g sha256 -G ecc256:ecdsa-sha256:null \
	-a "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|restricted|sign" \
	-c "$A/ak.ctx" || fail "tpm2_createprimary AK"
tpm2_readpublic -Q -c "$A/ak.ctx" -n "$A/ak.name"
tpm2_flushcontext -t >/dev/null 2>&1 || true
[ "$(od -An -tx1 "$A/ak.name" | tr -d " \n")" = "$id" ] || fail "appliance_id is not the AK Name"
challenge
c2=$(sed -E 's/.*"counter":([0-9]+).*/\1/' "$A/ch.json")
[ "$c2" -gt "$c1" ] || fail "the counter did not move: $c1 $c2"
echo "ok: appliance_id is the AK Name (stock tpm2_createprimary), counter $c1 -> $c2"

echo "== refused orders erase nothing"
authorize "$A/good"
# garbage, unsigned and signed
head -c 200 /dev/urandom >"$A/junk"; head -c 70 /dev/urandom >"$A/junk.sig"
expect_refused 3 "not signed by this appliance's zeroize key" "$A/junk"
printf 'not json\n' >"$A/garbage"
openssl dgst -sha256 -sign "$A/zeroize.pem" -out "$A/garbage.sig" "$A/garbage"
expect_refused 5 "zeroize order: invalid JSON" "$A/garbage"
# a signed order with an unknown member is not an order
sed 's/"clear_tpm":true/"clear_tpm":true,"extra":1/' "$A/good" >"$A/extra"
openssl dgst -sha256 -sign "$A/zeroize.pem" -out "$A/extra.sig" "$A/extra"
expect_refused 5 "zeroize order: " "$A/extra"
# edited after signing
sed 's/"clear_tpm":true/"clear_tpm":false/' "$A/good" >"$A/edited"
cp "$A/good.sig" "$A/edited.sig"
expect_refused 3 "edited after signing" "$A/edited"
# signed by another key: the admin key, and a stranger's
openssl dgst -sha256 -sign "$A/admin.pem" -out "$A/adminsigned.sig" "$A/good"
cp "$A/good" "$A/adminsigned"
expect_refused 3 "not signed by this appliance's zeroize key" "$A/adminsigned"
# no signature
cp "$A/good" "$A/nosig"
expect_refused 2 "cannot read the order's signature" "$A/nosig"
# another appliance: a challenge from another TPM
(
	SWTPM_PID= SWTPM_STATE=
	swtpm_start
	"$ANCHOR" zeroize-challenge --state "$A/state" >"$A/other-ch.json" 2>"$A/o.err" ||
		fail "challenge on the other TPM: $(cat "$A/o.err")"
)
[ "$(sed -E 's/.*"appliance_id":"([0-9a-f]+)".*/\1/' "$A/other-ch.json")" != "$id" ] ||
	fail "two TPMs with one identity"
"$ADMIN" zeroize-authorize --key "$A/zeroize.pem" --challenge "$A/other-ch.json" \
	--out "$A/other" 2>"$A/auth.out" || fail "authorize: $(cat "$A/auth.out")"
expect_refused 4 "the order is for another appliance" "$A/other"
# replayed: an order for an older challenge
cp "$A/ch1.json" "$A/ch.json"
authorize "$A/old"
expect_refused 6 "already used or a newer challenge was issued" "$A/old"
# expired
challenge
authorize "$A/expired" --at $((NOW - 7200)) --expires 60
expect_refused 7 "the order expired" "$A/expired"
# a volume the policy does not name (the challenge is not signed: edited)
challenge
sed 's/"volumes":\["data"\]/"volumes":["data","ghost"]/' "$A/ch.json" >"$A/ch-ghost.json"
"$ADMIN" zeroize-authorize --key "$A/zeroize.pem" --challenge "$A/ch-ghost.json" \
	--volume ghost --out "$A/ghost" 2>"$A/auth.out" || fail "authorize: $(cat "$A/auth.out")"
expect_refused 9 "names volume ghost, which the policy does not" "$A/ghost"
# the TPM cannot be cleared: a lockout authorization someone else set
challenge
authorize "$A/locked"
tpm2_changeauth -c l sitepass
expect_refused 8 "cannot be cleared: someone set a lockout authorization" "$A/locked"
tpm2_changeauth -c l -p sitepass
# an order for the latest challenge, then the refused ones still refused
[ ! -s "$A/launcher.log" ] || fail "a refused order ran the launcher"
expect_still_opens

echo "== the admin side refuses bad requests"
rc=0; "$ADMIN" zeroize-authorize --key "$A/zeroize.pem" --challenge "$A/ch.json" --out "$A/x" \
	--volume nosuch 2>"$A/e" || rc=$?
[ "$rc" = 2 ] && grep -q "lists no such volume" "$A/e" || fail "admin --volume nosuch: $rc $(cat "$A/e")"
rc=0; "$ADMIN" zeroize-authorize --key "$A/zeroize.pem" --challenge "$A/junk" --out "$A/x" 2>"$A/e" || rc=$?
[ "$rc" = 5 ] || fail "admin garbage challenge: $rc $(cat "$A/e")"
echo "ok: unknown volume 2, garbage challenge 5"

echo "== the wipe; a guest runs, the launcher stops it first"
challenge
authorize "$A/order"
: >"$A/launcher.log"
LAUNCHER_RC=0 zeroize "$A/order"
[ "$ZRC" = 0 ] || fail "zeroize: $ZRC $(cat "$A/z.err")"
grep -qx "stop" "$A/launcher.log" || fail "the launcher was not asked to stop the guest"
grep -q '"guests": "stopped"' "$A/z.out" || fail "receipt: $(cat "$A/z.out")"
grep -q '"tpm_cleared": true' "$A/z.out" || fail "receipt: tpm_cleared"
grep -q '"keyslots": 1' "$A/z.out" || fail "receipt: the recovery keyslot before"
grep -q '"method": "cryptographic erase"' "$A/z.out" || fail "receipt: method"
cmp -s "$A/z.out" "$A/state/zeroize-receipt.json" || fail "receipt on stdout and on disk differ"
expect_wiped
expect_boot 12 "zeroized: ready for provisioning"
expect_wiped

echo "== the same order again, and after re-provisioning: refused"
zeroize "$A/order"
[ "$ZRC" = 9 ] && grep -q "holds no sealboot provisioning" "$A/z.err" || fail "replay on a zeroized appliance: $ZRC $(cat "$A/z.err")"

echo "== a saved header with its token, the signed PCR policy, the good PCRs: nothing"
restore_header
replay_good_pcrs
expect_locked
grep -q "cleared TPM" "$A/probe.out" || fail "probe: $(cat "$A/probe.out")"
stock_load
[ "$LOAD_RC" != 0 ] || fail "stock tpm2_load accepted the saved sealed object after the clear"
echo "ok: stock tpm2_load refuses the saved blob: $(grep -m1 "Esys_Load\|ERROR" "$A/load.err")"
dd if=/dev/zero of="$A/data.img" bs=1M count=16 conv=notrunc status=none

echo "== another admin provisions from scratch on the same TPM"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$A/admin.pem" 2>/dev/null
make_bundle "$A/bundles/os" 1
write_policy
"$ADMIN" policy sign --key "$A/admin.pem" "$A/policy.json" "$A/state" 2>"$A/admin.err" ||
	fail "policy sign: $(cat "$A/admin.err")"
expect_admin 0 "TPM provisioned for this admin key" provision --key "$A/admin.pem" --format data "$A/state"
expect_still_opens
zeroize "$A/order"
[ "$ZRC" = 6 ] && grep -q "already used" "$A/z.err" || fail "old order after re-provisioning: $ZRC $(cat "$A/z.err")"
cryptsetup isLuks "$A/data.img" || fail "the old order erased the new volume"
echo "ok: the old order is refused after re-provisioning (6)"
