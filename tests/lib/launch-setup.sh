# Sourced after common.sh, libvirt.sh and swtpm.sh: one appliance whose
# bundle holds a tiny guest (tests/lib/make-tiny-guest; signed --verity, a
# format_version 2 manifest with the disk's dm-verity tree), provisioned on a
# fresh swtpm and booted through the anchor, ready for sealboot-launch.
# Used by tests/libvirt/test-launch.sh and bench/bench-launch.
#
#   launch_setup      libvirt up; A = a libvirt-readable scratch dir; the
#                     guest; swtpm; the signed bundle; admin key; the policy
#                     with the STRICT profile; provisioning; an anchor boot
#   write_policy SERIAL GUEST-JSON   $A/policy.json (unsigned)
#   anchor_boot       reboot the TPM, empty $A/run, sealboot-anchor boot
#   fake_usb          a fake sysfs in $A/fakesys: one root hub, one device
ADMIN=${SEALBOOT_ADMIN:?}
ANCHOR=${SEALBOOT_ANCHOR:?}
SIGN=${SEALBOOT_SIGN:?}
PKI=$SEALBOOT_SRC/tests/fixtures/pki
UUID=5e4b0a7c-2f1d-4c3b-9a8e-1d2c3b4a5f60
STRICT='{"vcpus": 1, "memory_mib": 256, "network": "none", "console": "log", "rng": true, "vtpm": false}'
need openssl truncate awk

pem_json() { awk '{printf "%s\\n", $0}' "$1"; }

write_policy() { # SERIAL GUEST-JSON
	cat >"$A/policy.json" <<JSON
{
  "format": "sealboot-appliance-policy", "format_version": 1,
  "appliance_class": "acme-edge", "serial": $1,
  "release_cas": ["$(pem_json "$PKI/release-ca.crt")"],
  "bundles": [{"name": "os", "path": "$A/bundles/os", "min_version": 1}],
  "seal_pcrs": [15],
  "volumes": [{"uuid": "$UUID", "name": "data", "purpose": "data", "device": "$A/data.img"}],
  "guest": $2,
  "zeroize_key": "$(pem_json "$A/zeroize.pub")"
}
JSON
}

anchor_boot() {
	swtpm_reboot
	rm -rf "$A/run" && mkdir -m 755 "$A/run"
	"$ANCHOR" boot --state "$A/state" --run "$A/run" -q 2>"$A/err" || fail "anchor: $(cat "$A/err")"
}

fake_usb() {
	rm -rf "$A/fakesys"
	mkdir -p "$A/fakesys/bus/usb/devices/usb1" "$A/fakesys/bus/usb/devices/1-1"
	echo 1 >"$A/fakesys/bus/usb/devices/usb1/authorized_default"
	echo 1 >"$A/fakesys/bus/usb/devices/1-1/authorized"
}

launch_setup() {
	local rc=0

	libvirt_up
	libvirt_scratch
	A=$LIBVIRT_SCRATCH
	"$SEALBOOT_SRC/tests/lib/make-tiny-guest" "$A/guest" 2>"$A/mtg.err" || rc=$?
	[ "$rc" != 77 ] || skip "$(sed -n 's/^SKIP: //p' "$A/mtg.err")"
	[ "$rc" = 0 ] || fail "make-tiny-guest exited $rc: $(cat "$A/mtg.err")"
	swtpm_start

	# The bundle: the tiny guest, which stays up until its power button.
	mkdir -p "$A/bundles/os" "$A/state" "$A/fakesys"
	cp "$A/guest/vmlinuz" "$A/guest/initrd.img" "$A/bundles/os/"
	printf '%s sealboot.stay=1\n' "$(cat "$A/guest/cmdline")" >"$A/bundles/os/cmdline"
	head -c $((4 * 1024 * 1024)) /dev/urandom >"$A/bundles/os/disk.img"
	chmod 644 "$A/bundles/os/"*
	"$SIGN" sign --key "$PKI/signer.key" --cert "$PKI/signer.crt" --name os --version 1 \
		--class acme-edge --payload kernel:vmlinuz --payload initrd:initrd.img \
		--payload cmdline:cmdline --payload disk:disk.img --verity --no-progress "$A/bundles/os" \
		>/dev/null 2>"$A/err" ||
		fail "sealboot-sign: $(cat "$A/err")"

	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$A/admin.pem" 2>/dev/null
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$A/zeroize.pem" 2>/dev/null
	openssl pkey -in "$A/zeroize.pem" -pubout -out "$A/zeroize.pub"
	truncate -s 32M "$A/data.img"
	write_policy 1 "$STRICT"
	# The launcher's tests seal to PCR 15 alone: the host swtpm has no
	# measured boot to cover (docs/pcrs.md).
	"$ADMIN" policy sign --allow-unmeasured-boot --key "$A/admin.pem" "$A/policy.json" \
		"$A/state" 2>"$A/err" ||
		fail "policy sign: $(cat "$A/err")"
	"$ADMIN" provision --key "$A/admin.pem" --format data "$A/state" 2>"$A/err" ||
		fail "provision: $(cat "$A/err")"
	anchor_boot
}
