#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# dracut module "sealboot" (dracut 059, systemd in the initramfs): runs
# sealboot-anchor before any encrypted device is set up and before the root
# is mounted; a failed anchor stops the boot (halt by default) with the
# verdict on the console, and no emergency or rescue shell is reachable.
# Build: dracut -a sealboot ... (initramfs/README.md). Nothing per boot or
# per appliance goes into the image, so its digest (PCR 9) is predictable.

# sealboot-anchor in the image: dracut's PATH has no /usr/local, where a
# default `meson install` puts it.
sealboot_anchor() {
	local d
	for d in /usr/sbin /usr/local/sbin /sbin /usr/bin /usr/local/bin; do
		[ -x "$dracutsysrootdir$d/sealboot-anchor" ] && echo "$d/sealboot-anchor" && return 0
	done
	derror "sealboot: sealboot-anchor is not installed (/usr/sbin or /usr/local/sbin)"
	return 1
}

# Only when asked for (-a sealboot, or add_dracutmodules in a dracut.conf).
check() {
	sealboot_anchor >/dev/null || return 1
	return 255
}

# dm: device-mapper's udev rules; with udev running, libdevmapper waits for
# them to acknowledge each mapping (95-dm-notify.rules).
depends() {
	echo systemd systemd-initrd dm kernel-modules udev-rules fs-lib
	return 0
}

installkernel() {
	# dm-crypt and dm-verity (over loop devices for disk payloads in files)
	# with the ciphers LUKS2 uses by default
	# (aes-xts-plain64, argon2 is user space); the TPM drivers (built in
	# on Debian's kernel, then nothing is copied); virtio for VMs and
	# tests; ext4 for the policy disk.
	hostonly='' instmods dm_mod dm_crypt dm_verity dm_bufio loop \
		aes aes_generic aesni_intel xts ecb cbc sha256 sha256_generic \
		af_alg algif_skcipher algif_hash \
		tpm tpm_tis tpm_tis_core tpm_crb \
		virtio_pci virtio_blk virtio_scsi \
		ext4 crc32c_generic crc32c_intel
}

install() {
	local anchor conf=/etc/sealboot/initrd.conf action=halt

	anchor=$(sealboot_anchor) || return 1
	inst_binary "$anchor" /usr/sbin/sealboot-anchor
	# ESAPI loads its TPM transport (TCTI) with dlopen: ldd does not see it.
	inst_libdir_file "libtss2-tcti-device.so*" || return 1
	inst_multiple mount umount mkdir modprobe cat sleep sed systemctl
	inst_script "$moddir/sealboot-initrd.sh" /usr/lib/sealboot/sealboot-initrd

	# The image builder's choice of what a refused boot does.
	if [ -r "$dracutsysrootdir$conf" ]; then
		inst_simple "$dracutsysrootdir$conf" "$conf"
		action=$(sed -n 's/^SEALBOOT_ON_FAILURE=\([a-z]*\)$/\1/p' "$dracutsysrootdir$conf" | tail -n 1)
		case ${action:=halt} in
		halt | poweroff | reboot) ;;
		*)
			derror "sealboot: $conf: SEALBOOT_ON_FAILURE=$action: use halt, poweroff or reboot"
			return 1
			;;
		esac
	fi

	inst_simple "$moddir/sealboot-anchor.service" "$systemdsystemunitdir/sealboot-anchor.service"
	mkdir -p "$initdir$systemdsystemconfdir/sealboot-anchor.service.d"
	printf '[Unit]\nFailureAction=%s\n' "$action" \
		>"$initdir$systemdsystemconfdir/sealboot-anchor.service.d/50-failure-action.conf"
	# Pulled in by the initrd's target, and required by the root mount: a
	# failed anchor fails the root mount too.
	local w
	for w in initrd.target.wants sysroot.mount.requires; do
		mkdir -p "$initdir$systemdsystemconfdir/$w"
		ln_r "$systemdsystemunitdir/sealboot-anchor.service" \
			"$systemdsystemconfdir/$w/sealboot-anchor.service"
	done

	# No shell: every way systemd and dracut offer one in the initramfs
	# (emergency.target, rescue.target, rd.break, rd.shell, a failed
	# root) ends in the same refusal; the debug shell is masked.
	local u
	for u in emergency.service rescue.service dracut-emergency.service; do
		mkdir -p "$initdir$systemdsystemconfdir/$u.d"
		printf '%s\n' '[Service]' 'ExecStartPre=' 'ExecStart=' \
			"ExecStart=/usr/lib/sealboot/sealboot-initrd refuse-shell $u" \
			'StandardInput=null' 'StandardOutput=tty' 'StandardError=tty' \
			'TTYPath=/dev/console' \
			>"$initdir$systemdsystemconfdir/$u.d/50-sealboot-no-shell.conf"
	done
	ln -sf /dev/null "$initdir$systemdsystemconfdir/debug-shell.service"
	mkdir -p "$initdir/etc/cmdline.d"
	echo "rd.shell=0 rd.emergency=$action" >"$initdir/etc/cmdline.d/50-sealboot.conf"
}
