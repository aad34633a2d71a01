# shellcheck shell=bash
# Sourced: a private softhsm2 token holding a release-signer key generated on
# the token, with a codeSigning certificate from the test release CA.
#   softhsm_setup DIR PKIDIR
# sets SOFTHSM2_CONF and exports P11_MODULE, P11_URI, P11_PIN, P11_CERT.
# The PINs are test values; real tokens get theirs from the operator.

# Run a setup step quietly; on failure show its output and fail the test.
_hsm_run() {
	local out
	out=$("$@" 2>&1) || fail "softhsm setup: $1 failed: $out"
}

softhsm_setup() {
	local dir=$1 pki=$2
	need softhsm2-util pkcs11-tool openssl
	P11_MODULE=/usr/lib/softhsm/libsofthsm2.so
	[ -f "$P11_MODULE" ] || skip "softhsm2 module $P11_MODULE missing"
	[ -f "$(openssl version -e | sed -E 's/.*"(.*)"/\1/')/pkcs11.so" ] ||
		skip "OpenSSL pkcs11 engine missing (libengine-pkcs11-openssl)"
	mkdir -p "$dir/tokens"
	cat >"$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
CONF
	export SOFTHSM2_CONF=$dir/softhsm2.conf
	P11_PIN=246810
	_hsm_run softhsm2-util --init-token --free --label sealboot-test --so-pin 13579 \
		--pin "$P11_PIN"
	_hsm_run pkcs11-tool --module "$P11_MODULE" --token-label sealboot-test --login \
		--pin "$P11_PIN" --keypairgen --key-type EC:prime256v1 --id 51 \
		--label release-signer
	P11_URI="pkcs11:token=sealboot-test;object=release-signer;type=private"
	# The CSR is made through the engine, so the key never leaves the token.
	cat >"$dir/engine.cnf" <<CONF
openssl_conf = conf
[conf]
engines = engines
[engines]
pkcs11 = pkcs11
[pkcs11]
engine_id = pkcs11
MODULE_PATH = $P11_MODULE
PIN = $P11_PIN
init = 0
CONF
	_hsm_run env OPENSSL_CONF="$dir/engine.cnf" openssl req -new -engine pkcs11 \
		-keyform engine -key "$P11_URI" -subj "/O=sealboot test/CN=Token Release Signer" \
		-out "$dir/token.csr"
	rm -f "$dir/engine.cnf"
	cat >"$dir/ext.cnf" <<'CONF'
[signer]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CONF
	_hsm_run openssl x509 -req -in "$dir/token.csr" -CA "$pki/release-ca.crt" \
		-CAkey "$pki/release-ca.key" -CAcreateserial -days 3650 -sha256 \
		-extfile "$dir/ext.cnf" -extensions signer -out "$dir/token-signer.crt"
	P11_CERT=$dir/token-signer.crt
	export P11_MODULE P11_URI P11_PIN P11_CERT
}
