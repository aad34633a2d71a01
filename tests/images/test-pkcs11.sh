#!/bin/bash
# Release staff sign with a key that never leaves a PKCS#11 token (softhsm2
# through OpenSSL's pkcs11 engine); the PIN goes through a file descriptor.
set -euo pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/softhsm.sh"
need openssl
mkscratch
S=$SCRATCH
sign=$SEALBOOT_SIGN

"$SEALBOOT_SRC/tests/lib/make-test-pki" "$S/pki"
softhsm_setup "$S/hsm" "$S/pki"

B=$S/bundle
mkdir "$B"
head -c 300000 /dev/urandom >"$B/disk.img"
args=(--key "$P11_URI" --pkcs11-module "$P11_MODULE" --cert "$P11_CERT"
	--chain "$S/pki/chain.pem" --name token-demo --version 3 --class test-class
	--payload disk:disk.img --no-progress)

# Wrong PIN: refused with a clear line, nothing written.
rc=0
"$sign" sign "${args[@]}" --secret-fd 3 "$B" 3<<<"000000" 2>"$S/err" || rc=$?
[ "$rc" = 2 ] || fail "wrong PIN: exit $rc, want 2: $(cat "$S/err")"
grep -q 'wrong PIN' "$S/err" || fail "wrong PIN message: $(cat "$S/err")"
[ "$(grep -c . "$S/err")" = 1 ] || fail "wrong PIN: want one line: $(cat "$S/err")"
[ ! -e "$B/manifest.json" ] || fail "wrong PIN left a manifest behind"
grep -q "000000" "$S/err" && fail "the PIN was echoed"

# Right PIN on fd 3: signed, and verifiable by us and by stock openssl.
"$sign" sign "${args[@]}" --secret-fd 3 "$B" 3<<<"$P11_PIN" 2>"$S/err" ||
	fail "sign with token: $(cat "$S/err")"
"$sign" verify --no-progress --ca "$S/pki/root.crt" --json "$B" >"$S/out" 2>"$S/err" ||
	fail "verify token-signed bundle: $(cat "$S/err")"
grep -q 'Token Release Signer' "$S/out" || fail "signer subject: $(cat "$S/out")"
openssl cms -verify -binary -inform DER -purpose any -in "$B/manifest.json.p7s" \
	-content "$B/manifest.json" -CAfile "$S/pki/root.crt" -out /dev/null 2>/dev/null ||
	fail "stock openssl rejects the token signature"
# The PIN is in no argument list and no file we wrote.
! grep -rq "$P11_PIN" "$B" || fail "PIN found in the bundle"

# A URI naming no key on the token.
rc=0
"$sign" sign "${args[@]/object=release-signer/object=nobody}" --force --secret-fd 3 "$B" \
	3<<<"$P11_PIN" 2>"$S/err" || rc=$?
[ "$rc" = 2 ] || fail "missing token key: exit $rc: $(cat "$S/err")"

echo "pkcs11: all checks passed"
