#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sealboot-initrd: sealboot's steps in the initramfs (dracut module
# "sealboot"; initramfs/README.md).
#
#   sealboot-initrd boot
#       Load device-mapper, wait (at most SEALBOOT_WAIT seconds) for the TPM
#       and the policy disk, mount the policy disk read-only at
#       /run/sealboot-disk (it stays mounted into the real root: /run
#       survives switch-root), run `sealboot-anchor boot --state
#       /run/sealboot-disk/state`. The anchor always runs, also when the disk
#       or the TPM is missing, so every refused boot has its verdict and its
#       failure event. On failure: the verdict and the measured PCRs on the
#       console, exit with the anchor's code (the unit's FailureAction then
#       halts, powers off or reboots).
#   sealboot-initrd refuse-shell UNIT
#       Instead of an emergency or rescue shell: say so, and end the boot the
#       same way.
#
# The policy disk: sealboot.disk=SPEC on the kernel command line, else
# SEALBOOT_DISK in /etc/sealboot/initrd.conf, else LABEL=sealboot. SPEC is
# LABEL=x, UUID=x, PARTLABEL=x, PARTUUID=x or a /dev path.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

SEALBOOT_DISK=LABEL=sealboot
SEALBOOT_WAIT=60
SEALBOOT_ON_FAILURE=halt
[ -r /etc/sealboot/initrd.conf ] && . /etc/sealboot/initrd.conf
MNT=/run/sealboot-disk

say() { echo "sealboot: $*"; }

cmdline_value() { # NAME: the value of the last NAME= on the kernel command line
	local w v=''
	for w in $(cat /proc/cmdline); do
		case $w in "$1"=*) v=${w#*=} ;; esac
	done
	printf '%s' "$v"
}

disk_path() { # SPEC
	case $1 in
	LABEL=*) echo "/dev/disk/by-label/${1#LABEL=}" ;;
	UUID=*) echo "/dev/disk/by-uuid/${1#UUID=}" ;;
	PARTLABEL=*) echo "/dev/disk/by-partlabel/${1#PARTLABEL=}" ;;
	PARTUUID=*) echo "/dev/disk/by-partuuid/${1#PARTUUID=}" ;;
	/dev/*) echo "$1" ;;
	*) return 1 ;;
	esac
}

wait_for() { # TEST-ARGS...: true within SEALBOOT_WAIT seconds
	local i=0
	while ! test "$@"; do
		i=$((i + 1))
		[ "$i" -le $((SEALBOOT_WAIT * 10)) ] || return 1
		sleep 0.1
	done
}

# The public facts an admin needs to approve a platform change: the boot's
# PCRs (SHA-256) as the TPM holds them now.
show_pcrs() {
	local n f
	for n in 0 1 2 3 4 5 6 7 8 9 11 12 13 14 15; do
		f=/sys/class/tpm/tpm0/pcr-sha256/$n
		[ -r "$f" ] && say "  PCR $n sha256 $(cat "$f")"
	done
}

refuse() { # WHAT: the end of a refused boot
	say "=================================================================="
	say "$1"
	say "the boot stops here ($SEALBOOT_ON_FAILURE); no shell is offered."
	say "Send the 'sealboot:' lines above to the owner's security admin."
	say "=================================================================="
}

boot() {
	local spec dev rc=0

	say "measured unlock starting"
	modprobe -a -q dm_mod dm_crypt dm_verity loop 2>/dev/null
	if wait_for -c /dev/mapper/control; then
		say "device-mapper ready"
	else
		say "warning: no device-mapper (/dev/mapper/control)"
	fi
	if wait_for -c /dev/tpmrm0; then
		say "TPM ready (/dev/tpmrm0)"
	else
		say "no TPM (/dev/tpmrm0) after $SEALBOOT_WAIT s"
	fi

	spec=$(cmdline_value sealboot.disk)
	spec=${spec:-$SEALBOOT_DISK}
	mkdir -p "$MNT"
	if ! dev=$(disk_path "$spec"); then
		say "the policy disk '$spec' is not LABEL=, UUID=, PARTLABEL=, PARTUUID= or /dev/..."
	elif ! wait_for -b "$dev"; then
		say "the policy disk $spec ($dev) did not appear within $SEALBOOT_WAIT s"
	elif ! mount -t ext4 -o ro,nodev,nosuid,noexec "$dev" "$MNT"; then
		say "cannot mount the policy disk $spec ($dev) read-only as ext4"
	fi

	# The anchor's progress and verdict go to the console (the unit).
	say "running sealboot-anchor (policy disk $spec)"
	sealboot-anchor boot --state "$MNT/state" --run /run/sealboot || rc=$?
	[ "$rc" = 0 ] && return 0
	# 10: the anchor already ran in this boot (a restarted unit). That run's
	# verdict stands: go on only if it was good, as status says.
	if [ "$rc" = 10 ] && sealboot-anchor status --run /run/sealboot >/dev/null 2>&1; then
		say "the anchor already unlocked this boot; nothing changed"
		return 0
	fi
	sealboot-anchor status --run /run/sealboot 2>&1
	say "measured boot state (public; for the admin):"
	show_pcrs
	refuse "THE APPLIANCE REFUSED TO START (anchor exit $rc); its volumes stay locked."
	return "$rc"
}

case ${1:-} in
boot) boot ;;
refuse-shell)
	# Straight to the console: in emergency mode journald may not run.
	exec >/dev/console 2>&1
	# After the anchor's refusal systemd also heads for emergency.target
	# (the root cannot mount): the verdict above is the reason.
	if [ -e /run/sealboot/status.json ] && ! sealboot-anchor status --run /run/sealboot >/dev/null 2>&1; then
		say "the anchor refused this boot (above); the boot stops here ($SEALBOOT_ON_FAILURE); no shell is offered."
	else
		refuse "a shell was asked for (${2:-emergency}); sealboot appliances offer none."
	fi
	systemctl --no-block --force "$SEALBOOT_ON_FAILURE"
	;;
*)
	echo "usage: sealboot-initrd boot | refuse-shell UNIT" >&2
	exit 2
	;;
esac
