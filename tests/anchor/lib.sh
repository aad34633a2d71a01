# Sourced by the anchor suite after common.sh and swtpm.sh: one appliance
# on the host, with a fresh swtpm, the checked-in test PKI, a signed bundle,
# a file-backed LUKS2 volume and an admin key.
#
#   appliance_setup   make it all and provision it (A=the scratch root)
#   make_bundle DIR VERSION [SIGNER]   (re)sign the bundle at DIR
#   write_policy [SERIAL]   policy.json in $A (unsigned)
#   boot              run sealboot-anchor boot; BOOT_RC, $A/boot.out
#   expect_boot RC PATTERN   boot, then check exit code and the message
#   expect_locked     the real key cannot be unsealed now (probe-unseal)
#   expect_no_handoff
#   save_good / fresh_boot   keep the provisioned state; restore it, empty
#                     the run dir and reboot the TPM (PCRs from zero)
set -o pipefail

ADMIN=${SEALBOOT_ADMIN:?}
ANCHOR=${SEALBOOT_ANCHOR:?}
SIGN=${SEALBOOT_SIGN:?}
PROBE=${SEALBOOT_PROBE:?}
PKI=${SEALBOOT_SRC:?}/tests/fixtures/pki
UUID=5e4b0a7c-2f1d-4c3b-9a8e-1d2c3b4a5f60

need openssl truncate awk

# A PEM file as the body of a JSON string.
pem_json() {
	awk '{printf "%s\\n", $0}' "$1"
}

make_bundle() { # DIR VERSION [SIGNER_PREFIX]
	local dir=$1 version=$2 signer=${3:-$PKI/signer}
	mkdir -p "$dir"
	if [ -n "${BUNDLE_SIZE:-}" ]; then
		[ -f "$dir/disk.img" ] || truncate -s "$BUNDLE_SIZE" "$dir/disk.img"
	else
		[ -f "$dir/disk.img" ] || printf 'the guest image\n' >"$dir/disk.img"
	fi
	"$SIGN" sign --key "$signer.key" --cert "$signer.crt" --name os --version "$version" \
		--class acme-edge --payload disk:disk.img --force --no-progress "$dir" \
		>/dev/null 2>"$A/sign.err" || fail "sealboot-sign: $(cat "$A/sign.err")"
}

write_policy() { # [SERIAL] [SEAL_PCRS]
	local serial=${1:-1} pcrs=${2:-4, 7, 9, 15}
	cat >"$A/policy.json" <<JSON
{
  "format": "sealboot-appliance-policy",
  "format_version": 1,
  "appliance_class": "acme-edge",
  "serial": $serial,
  "release_cas": ["$(pem_json "$PKI/release-ca.crt")"],
  "bundles": [{"name": "os", "path": "$A/bundles/os", "min_version": 1}],
  "seal_pcrs": [$pcrs],
  "volumes": [{"uuid": "$UUID", "name": "data", "purpose": "data", "device": "$A/data.img"}],
  "guest": {"vcpus": 1, "memory_mib": 256, "network": "none", "console": "log", "rng": true, "vtpm": false},
  "zeroize_key": "$(pem_json "$A/zeroize.pub")"
}
JSON
}

appliance_setup() {
	mkscratch
	A=$SCRATCH
	swtpm_start
	mkdir -p "$A/state" "$A/run"
	chmod 700 "$A/run"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$A/admin.pem" 2>/dev/null
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$A/zeroize.pem" 2>/dev/null
	openssl pkey -in "$A/zeroize.pem" -pubout -out "$A/zeroize.pub"
	make_bundle "$A/bundles/os" 1
	truncate -s 32M "$A/data.img"
	write_policy
	"$ADMIN" policy sign --key "$A/admin.pem" "$A/policy.json" "$A/state" 2>"$A/admin.err" ||
		fail "policy sign: $(cat "$A/admin.err")"
	"$ADMIN" provision --key "$A/admin.pem" --format data "$A/state" 2>"$A/admin.err" ||
		fail "provision: $(cat "$A/admin.err")"
}

boot() {
	BOOT_RC=0
	"$ANCHOR" boot --state "$A/state" --run "$A/run" >"$A/boot.out" 2>&1 || BOOT_RC=$?
}

expect_boot() { # RC PATTERN
	boot
	[ "$BOOT_RC" = "$1" ] || fail "boot exit $BOOT_RC, want $1: $(cat "$A/boot.out")"
	[[ "$(cat "$A/boot.out")" == *"$2"* ]] || fail "boot output lacks '$2': $(cat "$A/boot.out")"
	echo "ok: boot exit $1: $(grep -m1 'FAILED\|OK\|ALREADY DONE\|BUSY' "$A/boot.out")"
}

# The probe asks with the genuine state (the admin's key, policy and PCR
# policy as provisioned) and the genuine volume's token: what an attacker
# who kept copies could try.
expect_locked() { # [VOLUME]
	local rc=0 state=$A/state vol=${1:-$A/data.img}
	if [ -d "$A/state.good" ]; then
		state=$A/state.good
		vol=${1:-$A/data.good}
	fi
	"$PROBE" "$state" "$vol" >"$A/probe.out" 2>&1 || rc=$?
	[ "$rc" = 3 ] || fail "the real key was not refused (probe exit $rc): $(cat "$A/probe.out")"
	echo "ok: key stays sealed: $(cat "$A/probe.out")"
}

expect_no_handoff() {
	[ ! -e "$A/run/handoff.json" ] || fail "a handoff was written after a failure"
	[[ "$(cat "$A/run/status.json")" == *'"verdict": "failed"'* ]] ||
		fail "status.json does not say failed: $(cat "$A/run/status.json")"
}

save_good() {
	rm -rf "$A/state.good" "$A/bundles.good"
	cp -a "$A/state" "$A/state.good"
	cp -a "$A/bundles" "$A/bundles.good"
	cp "$A/data.img" "$A/data.good"
}

fresh_boot() {
	rm -rf "$A/state" "$A/bundles"
	cp -a "$A/state.good" "$A/state"
	cp -a "$A/bundles.good" "$A/bundles"
	cp "$A/data.good" "$A/data.img"
	rm -rf "$A/run"
	mkdir -m 700 "$A/run"
	swtpm_reboot
}

# The admin's tool with a TCTI from the environment; RC and $A/admin.out.
admin() {
	ADMIN_RC=0
	"$ADMIN" "$@" >"$A/admin.out" 2>&1 || ADMIN_RC=$?
}

expect_admin() { # RC PATTERN ARGS...
	local rc=$1 pat=$2
	shift 2
	admin "$@"
	[ "$ADMIN_RC" = "$rc" ] || fail "sealboot-admin $*: exit $ADMIN_RC, want $rc: $(cat "$A/admin.out")"
	[[ "$(cat "$A/admin.out")" == *"$pat"* ]] ||
		fail "sealboot-admin $*: output lacks '$pat': $(cat "$A/admin.out")"
	echo "ok: sealboot-admin $1 ...: exit $rc"
}
