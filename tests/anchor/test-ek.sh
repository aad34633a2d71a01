#!/bin/bash
# The attestation key bound to the TPM maker's EK certificate, on swtpms
# manufactured with `swtpm_setup --create-ek-cert` (swtpm's local test CA):
# the owner checks the EK certificate and makes a credential for the
# appliance's attestation key; only that TPM activates it. A credential for
# another TPM, an identity that pairs one TPM's EK with another's
# attestation key, and an EK certificate from another CA are all refused.
# TPM2_Clear (zeroize) changes neither the EK certificate nor the key.
set -eu
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"
ADMIN=${SEALBOOT_ADMIN:?}
ANCHOR=${SEALBOOT_ANCHOR:?}
need swtpm_setup tpm2_clear openssl
mkscratch
A=$SCRATCH

CADIR=$(sed -n 's/^statedir *= *//p' /etc/swtpm-localca.conf 2>/dev/null)
CADIR=${CADIR:-/var/lib/swtpm-localca}

manufacture() { # DIR: a TPM with EK certificates, as a maker ships it
	mkdir -p "$1"
	swtpm_setup --tpm2 --tpmstate "$1" --create-ek-cert --overwrite >"$A/setup.log" 2>&1 ||
		fail "swtpm_setup: $(cat "$A/setup.log")"
}
manufacture "$A/tpm1"
manufacture "$A/tpm2"
cat "$CADIR/issuercert.pem" "$CADIR/swtpm-localca-rootca-cert.pem" >"$A/maker-ca.pem" ||
	skip "swtpm's local CA is not in $CADIR"

on_tpm() { # DIR CMD...: run CMD against the TPM in DIR (its own simulator)
	local dir=$1
	shift
	(
		SWTPM_PID= SWTPM_STATE=
		swtpm_start "$dir"
		# swtpm_stop removes the state dir: keep it
		trap 'kill "$SWTPM_PID" 2>/dev/null; wait "$SWTPM_PID" 2>/dev/null || true' EXIT
		"$@"
	)
}

on_tpm "$A/tpm1" "$ANCHOR" identity >"$A/id1.json" 2>"$A/e" || fail "identity: $(cat "$A/e")"
on_tpm "$A/tpm2" "$ANCHOR" identity >"$A/id2.json" 2>"$A/e" || fail "identity: $(cat "$A/e")"
grep -q '"ek_cert": "' "$A/id1.json" || fail "identity: $(cat "$A/id1.json")"

echo "== the owner makes a credential; only that TPM activates it"
"$ADMIN" ak-credential --identity "$A/id1.json" --ek-ca "$A/maker-ca.pem" --out "$A/cred1.json" \
	--ak-out "$A/ak1.pem" >"$A/expect1" 2>"$A/e" || fail "ak-credential: $(cat "$A/e")"
on_tpm "$A/tpm1" "$ANCHOR" ak-activate --credential "$A/cred1.json" >"$A/answer1" 2>"$A/e" ||
	fail "ak-activate: $(cat "$A/e")"
[ "$(cat "$A/answer1")" = "$(cat "$A/expect1")" ] || fail "the answer differs"
[ "$(wc -c <"$A/expect1")" = 65 ] || fail "the answer is not 32 bytes of hex"
openssl pkey -pubin -in "$A/ak1.pem" -noout || fail "ak1.pem"
echo "ok: the EK certificate chains to the maker's CA; the TPM activated the credential"

rc=0
on_tpm "$A/tpm2" "$ANCHOR" ak-activate --credential "$A/cred1.json" >"$A/o" 2>"$A/e" || rc=$?
[ "$rc" != 0 ] && grep -q "not for this TPM's EK and attestation key" "$A/e" ||
	fail "another TPM activated the credential: $rc $(cat "$A/e")"
echo "ok: another TPM cannot activate it ($rc): $(cat "$A/e")"

echo "== a genuine EK certificate paired with another TPM's attestation key"
# The identity is not signed: an attacker can put TPM 2's key beside TPM 1's
# certificate. The credential then names TPM 2's key under TPM 1's EK.
id2=$(sed -nE 's/^ *"appliance_id": "([0-9a-f]+)".*/\1/p' "$A/id2.json")
awk -v id="$id2" -v f="$A/id2.json" '
	BEGIN { while ((getline l < f) > 0) { if (l ~ /"x":/) x = l; if (l ~ /"y":/) y = l } }
	/"appliance_id":/ { sub(/"[0-9a-f]+"/, "\"" id "\"") }
	/"x":/ { $0 = x } /"y":/ { $0 = y } 1' "$A/id1.json" >"$A/mixed.json"
cmp -s "$A/mixed.json" "$A/id1.json" && fail "the identity was not changed"
"$ADMIN" ak-credential --identity "$A/mixed.json" --ek-ca "$A/maker-ca.pem" --out "$A/credm.json" \
	--ak-out "$A/akm.pem" >"$A/expectm" 2>"$A/e" || fail "ak-credential (mixed): $(cat "$A/e")"
for t in tpm1 tpm2; do
	rc=0
	on_tpm "$A/$t" "$ANCHOR" ak-activate --credential "$A/credm.json" >"$A/o" 2>"$A/e" || rc=$?
	[ "$rc" != 0 ] && grep -q "not for this TPM's EK and attestation key" "$A/e" ||
		fail "$t: a credential for a foreign pairing: $rc $(cat "$A/e")"
done
echo "ok: neither TPM activates it: the EK and the key must live in one TPM"

echo "== an EK certificate from another CA"
rc=0
"$ADMIN" ak-credential --identity "$A/id1.json" --ek-ca "$SEALBOOT_SRC/tests/fixtures/pki/release-ca.crt" \
	--out "$A/x.json" --ak-out "$A/x.pem" >"$A/o" 2>"$A/e" || rc=$?
[ "$rc" = 4 ] && grep -q "not issued by the TPM maker's CA" "$A/e" || fail "foreign CA: $rc $(cat "$A/e")"
echo "ok: refused (4): $(cat "$A/e")"

echo "== TPM2_Clear changes neither the EK certificate nor the attestation key"
on_tpm "$A/tpm1" tpm2_clear -c l >/dev/null 2>&1 || fail "tpm2_clear"
on_tpm "$A/tpm1" "$ANCHOR" identity >"$A/id1b.json" 2>"$A/e" || fail "identity: $(cat "$A/e")"
cmp -s "$A/id1.json" "$A/id1b.json" || fail "the identity changed with the clear"
on_tpm "$A/tpm1" "$ANCHOR" ak-activate --credential "$A/cred1.json" >"$A/answer1b" 2>"$A/e" ||
	fail "ak-activate after the clear: $(cat "$A/e")"
[ "$(cat "$A/answer1b")" = "$(cat "$A/expect1")" ] || fail "the answer differs after the clear"
echo "ok: same identity and the same credential still activates after TPM2_Clear"
