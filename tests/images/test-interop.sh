#!/bin/bash
# Interop with stock OpenSSL, both ways: what we sign verifies with
# `openssl cms -verify`, and a manifest signed by `openssl cms -sign` with a
# release key verifies with us. Tampering is rejected by both.
set -euo pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
need openssl
mkscratch
S=$SCRATCH
sign=$SEALBOOT_SIGN

"$SEALBOOT_SRC/tests/lib/make-test-pki" "$S/pki"
P=$S/pki
B=$S/bundle
mkdir "$B"
head -c 100000 /dev/urandom >"$B/disk.img"
"$sign" sign --no-progress --key "$P/signer.key" --cert "$P/signer.crt" --chain "$P/chain.pem" \
	--name interop --version 1 --class test --payload disk:disk.img "$B" 2>/dev/null

stock_verify() { # DIR CAFILE [extra openssl args]
	openssl cms -verify -binary -inform DER -purpose any -in "$1/manifest.json.p7s" \
		-content "$1/manifest.json" -CAfile "$2" "${@:3}" -out /dev/null 2>"$S/ossl.err"
}

stock_verify "$B" "$P/root.crt" || fail "stock openssl rejects our signature: $(cat "$S/ossl.err")"
stock_verify "$B" "$P/release-ca.crt" -partial_chain ||
	fail "stock openssl -partial_chain with the release CA: $(cat "$S/ossl.err")"
! stock_verify "$B" "$P/other-ca.crt" || fail "stock openssl accepts an unrelated CA"
# The structure stock tools see: SignedData, SHA-256, signingTime, 3 certs.
openssl cms -cmsout -print -inform DER -in "$B/manifest.json.p7s" >"$S/print"
grep -q 'signingTime' "$S/print" || fail "no signingTime attribute"
grep -q 'sha256' "$S/print" || fail "digest is not SHA-256"
grep -q 'eContent: <ABSENT>' "$S/print" || fail "signature is not detached"
[ "$(openssl pkcs7 -inform DER -in "$B/manifest.json.p7s" -print_certs | grep -c '^subject')" = 2 ] ||
	fail "expected signer + release CA certificates embedded"
# Payload digests check with sha256sum against the manifest.
want=$(grep -o '"value": *"[0-9a-f]*"' "$B/manifest.json" | grep -o '[0-9a-f]\{64\}')
[ "$want" = "$(sha256sum "$B/disk.img" | cut -d' ' -f1)" ] || fail "sha256sum disagrees"

# Tampered manifest: both reject.
cp -a "$B" "$S/t1"
sed -i 's/"interop"/"interOp"/' "$S/t1/manifest.json"
! stock_verify "$S/t1" "$P/root.crt" || fail "stock openssl accepts an edited manifest"
rc=0; "$sign" verify --ca "$P/root.crt" "$S/t1" 2>/dev/null || rc=$?
[ "$rc" = 3 ] || fail "edited manifest: exit $rc, want 3"

# The other way: stock openssl signs our manifest; we verify it.
cp -a "$B" "$S/t2"
openssl cms -sign -binary -outform DER -md sha256 -in "$S/t2/manifest.json" \
	-signer "$P/signer.crt" -inkey "$P/signer.key" -certfile "$P/chain.pem" \
	-out "$S/t2/manifest.json.p7s"
"$sign" verify --ca "$P/root.crt" "$S/t2" 2>"$S/err" ||
	fail "we reject a stock openssl signature: $(cat "$S/err")"
# ... but a valid signature over other content is refused.
printf '{"other": true}\n' >"$S/other.json"
openssl cms -sign -binary -outform DER -md sha256 -in "$S/other.json" \
	-signer "$P/signer.crt" -inkey "$P/signer.key" -certfile "$P/chain.pem" \
	-out "$S/t2/manifest.json.p7s"
rc=0; "$sign" verify --ca "$P/root.crt" "$S/t2" 2>/dev/null || rc=$?
[ "$rc" = 3 ] || fail "signature over other content: exit $rc, want 3"

echo "interop: all checks passed"
