#!/bin/bash
# The attacker's initramfs change (tests/appliance/test-real-boot.sh only,
# never installed by meson): a unit that runs before sealboot-anchor, replays
# the public event log's PCR 15 events (events: one SHA-256 digest a line,
# written by the test) with stock tpm2_pcrextend, then asks the TPM for the
# volume key with the admin's signed approval (probe-unseal) and says what it
# got on the console.
check() { return 255; }
depends() { echo sealboot; return 0; }
install() {
	inst_multiple tpm2_pcrextend mount umount mkdir sleep cat
	inst_binary /usr/local/libexec/sb-test/probe-unseal /usr/bin/probe-unseal
	inst_simple "$moddir/events" /etc/sb-attack/events
	inst_script "$moddir/sb-attack.sh" /usr/bin/sb-attack
	inst_simple "$moddir/sb-attack.service" "$systemdsystemunitdir/sb-attack.service"
	mkdir -p "$initdir$systemdsystemconfdir/initrd.target.wants"
	ln_r "$systemdsystemunitdir/sb-attack.service" \
		"$systemdsystemconfdir/initrd.target.wants/sb-attack.service"
}
