#!/bin/bash
# Attestation on swtpm: a quote by the appliance's attestation key over the
# sealing PCRs and PCR 13 with the event log passes sealboot-admin
# attest-verify (signature, nonce, log replay, approved state) and stock
# tpm2_checkquote; an edited, replayed or foreign quote is refused. The
# zeroize receipt comes with TPM evidence (the new storage primary certified
# by the same key, bound to the receipt's digest): zeroize-verify accepts it
# and refuses an edited receipt, another appliance's key, and a receipt
# replayed against another order.
set -eu
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"
. "$SEALBOOT_SRC/tests/anchor/lib.sh"
. "$SEALBOOT_SRC/tests/anchor/zeroize-lib.sh"
need tpm2_checkquote

zsetup
N=5eed$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')

json_str() { # FILE MEMBER: a one-line string member, JSON escapes kept
	sed -nE "s/^ *\"$2\": \"(.*)\",?\$/\\1/p" "$1" | head -1
}

expect_verify() { # RC PATTERN ARGS...
	local rc=$1 pat=$2
	shift 2
	admin "$@"
	[ "$ADMIN_RC" = "$rc" ] || fail "sealboot-admin $*: exit $ADMIN_RC, want $rc: $(cat "$A/admin.out")"
	grep -qF -- "$pat" "$A/admin.out" || fail "sealboot-admin $*: no '$pat' in $(cat "$A/admin.out")"
	echo "ok: $1 exit $rc: $(head -1 "$A/admin.out")"
}

echo "== a quote after the good boot"
"$ANCHOR" attest --nonce "$N" --state "$A/state" --run "$A/run" >"$A/quote.json" 2>"$A/e" ||
	fail "attest: $(cat "$A/e")"
# The owner records the attestation key once (at provisioning, on site).
printf '%b' "$(json_str "$A/quote.json" ak_pem)" >"$A/ak.pem"
openssl pkey -pubin -in "$A/ak.pem" -noout || fail "ak_pem is not a public key"
expect_verify 0 "approved state (PCR policy serial" attest-verify --ak "$A/ak.pem" --nonce "$N" \
	--state "$A/state" "$A/quote.json"

echo "== stock tpm2_checkquote agrees"
json_str "$A/quote.json" attest | base64 -d >"$A/quote.msg"
json_str "$A/quote.json" signature | base64 -d >"$A/quote.sig"
tpm2_checkquote -u "$A/ak.pem" -m "$A/quote.msg" -s "$A/quote.sig" -q "$N" -g sha256 \
	>"$A/cq.out" 2>&1 || fail "tpm2_checkquote: $(cat "$A/cq.out")"
rc=0; tpm2_checkquote -u "$A/ak.pem" -m "$A/quote.msg" -s "$A/quote.sig" -q "${N}00" -g sha256 \
	>/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "tpm2_checkquote accepted another nonce (the check is not real)"
echo "ok: tpm2_checkquote passes the quote and refuses another nonce"

echo "== refused quotes"
expect_verify 7 "made for another nonce" attest-verify --ak "$A/ak.pem" --nonce "${N}00" "$A/quote.json"
# the last event dropped from the log
perl -pe 's/\\n\{\\"recnum\\":\d+(?:(?!\\n).)*?sealboot cap\\"\}\\n"/\\n"/' "$A/quote.json" >"$A/q-log.json"
cmp -s "$A/quote.json" "$A/q-log.json" && fail "the log edit did nothing"
expect_verify 6 "does not replay to the quoted PCR 15" attest-verify --ak "$A/ak.pem" --nonce "$N" "$A/q-log.json"
# a PCR value edited
sed -E '0,/"sha256": "[0-9a-f]{64}"/s//"sha256": "'"$(printf 'f%.0s' $(seq 64))"'"/' "$A/quote.json" >"$A/q-pcr.json"
expect_verify 6 "not the ones the TPM quoted" attest-verify --ak "$A/ak.pem" --nonce "$N" "$A/q-pcr.json"
# the attest edited (one byte of the clock)
att=$(json_str "$A/quote.json" attest)
hex=$(base64 -d <<<"$att" | od -An -tx1 -v | tr -d ' \n')
c=${hex:60:1}
[ "$c" = f ] && c=0 || c=f # a nibble that surely differs
bad=$(sed -E "s/^(.{60})./\1$c/" <<<"$hex" | sed 's/../\\x&/g')
printf '%b' "$bad" | base64 -w0 >"$A/att.b64"
sed "s|$att|$(cat "$A/att.b64")|" "$A/quote.json" >"$A/q-att.json"
cmp -s "$A/quote.json" "$A/q-att.json" && fail "the attest edit did nothing"
expect_verify 3 "signature does not verify" attest-verify --ak "$A/ak.pem" --nonce "$N" "$A/q-att.json"
# another appliance's attestation key
(
	SWTPM_PID= SWTPM_STATE=
	swtpm_start
	"$ANCHOR" attest --nonce "$N" --state "$A/state" --run "$A/nowhere" >"$A/other-quote.json" 2>"$A/e" ||
		fail "attest on the other TPM: $(cat "$A/e")"
)
printf '%b' "$(json_str "$A/other-quote.json" ak_pem)" >"$A/other-ak.pem"
expect_verify 4 "another attestation key" attest-verify --ak "$A/other-ak.pem" --nonce "$N" "$A/quote.json"
expect_verify 4 "another attestation key" attest-verify --ak "$A/ak.pem" --nonce "$N" "$A/other-quote.json"
# a quote of a boot in which the anchor did not unlock, against the approved state
swtpm_reboot
"$ANCHOR" attest --nonce "$N" --state "$A/state" --run "$A/nowhere" >"$A/quote0.json" 2>"$A/e" ||
	fail "attest: $(cat "$A/e")"
expect_verify 0 "event log (0 events)" attest-verify --ak "$A/ak.pem" --nonce "$N" "$A/quote0.json"
expect_verify 6 "does not end with the cap" attest-verify --ak "$A/ak.pem" --nonce "$N" \
	--state "$A/state" "$A/quote0.json"

echo "== the zeroize receipt and its TPM evidence"
challenge
authorize "$A/order1"
zeroize "$A/order1"
[ "$ZRC" = 0 ] || fail "zeroize: $(cat "$A/z.err")"
cmp -s "$A/z.out" "$A/state/zeroize-receipt.json" || fail "the receipt on stdout is not the file"
cp "$A/z.out" "$A/receipt1"
cp "$A/state/zeroize-receipt.evidence.json" "$A/evidence1"
expect_verify 0 "TPM cleared (the storage primary the TPM certifies is new)" zeroize-verify \
	--ak "$A/ak.pem" --order "$A/order1" "$A/receipt1" "$A/evidence1"
sed 's/"files_removed": [0-9]*/"files_removed": 0/' "$A/receipt1" >"$A/receipt-edited"
expect_verify 3 "not the receipt the attestation key signed" zeroize-verify --ak "$A/ak.pem" \
	"$A/receipt-edited" "$A/evidence1"
expect_verify 4 "another attestation key" zeroize-verify --ak "$A/other-ak.pem" \
	"$A/receipt1" "$A/evidence1"
# The identity survived the clear: a quote now still verifies with the recorded key.
"$ANCHOR" attest --nonce "$N" --state "$A/state" --run "$A/run" >"$A/quote2.json" 2>"$A/e" ||
	fail "attest after zeroize: $(cat "$A/e")"
expect_verify 0 "quote verified" attest-verify --ak "$A/ak.pem" --nonce "$N" "$A/quote2.json"

echo "== a second contract, a second zeroize: receipts do not swap"
make_bundle "$A/bundles/os" 1
"$ADMIN" policy sign --key "$A/admin.pem" "$A/policy.json" "$A/state" 2>"$A/admin.err" ||
	fail "policy sign: $(cat "$A/admin.err")"
"$ADMIN" provision --key "$A/admin.pem" --format data "$A/state" 2>"$A/admin.err" ||
	fail "provision: $(cat "$A/admin.err")"
challenge
authorize "$A/order2"
zeroize "$A/order2"
[ "$ZRC" = 0 ] || fail "second zeroize: $(cat "$A/z.err")"
expect_verify 0 "order matches" zeroize-verify --ak "$A/ak.pem" --order "$A/order2" \
	"$A/state/zeroize-receipt.json" "$A/state/zeroize-receipt.evidence.json"
expect_verify 6 "answers another order" zeroize-verify --ak "$A/ak.pem" --order "$A/order2" \
	"$A/receipt1" "$A/evidence1"
expect_verify 3 "not the receipt the attestation key signed" zeroize-verify --ak "$A/ak.pem" \
	"$A/receipt1" "$A/state/zeroize-receipt.evidence.json"
