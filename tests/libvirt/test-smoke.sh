#!/bin/bash
# The libvirt fixture works: a libvirtd answers on qemu:///system
# (tests/lib/libvirt.sh starts one if needed), a tiny guest
# (tests/lib/make-tiny-guest) boots as a transient TCG domain with a direct
# kernel boot, writes its marker and device listing to its serial console (a
# file), powers off, and the domain goes away (on_poweroff destroy).
#
# Environment: SEALBOOT_LIBVIRT_BOOT_TIMEOUT (seconds, default 90; a boot
# takes about 6 s here).
set -eu -o pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/libvirt.sh"

BOOT_TIMEOUT=${SEALBOOT_LIBVIRT_BOOT_TIMEOUT:-90}
need timeout grep tr date

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t_up=$(now)
libvirt_up
echo "ok: libvirtd answers on qemu:///system ($(since "$t_up") s)"

libvirt_scratch
G=$LIBVIRT_SCRATCH/guest
rc=0
"$SEALBOOT_SRC/tests/lib/make-tiny-guest" "$G" 2>"$LIBVIRT_SCRATCH/mtg.err" || rc=$?
if [ "$rc" = 77 ]; then
	skip "$(sed -n 's/^SKIP: //p' "$LIBVIRT_SCRATCH/mtg.err")"
elif [ "$rc" != 0 ]; then
	cat "$LIBVIRT_SCRATCH/mtg.err" >&2
	fail "make-tiny-guest exited $rc"
fi
for f in vmlinuz initrd.img cmdline; do
	[ -s "$G/$f" ] || fail "make-tiny-guest wrote no $G/$f"
done
echo "ok: tiny guest: initrd $(($(stat -c %s "$G/initrd.img") / 1024)) KiB, cmdline '$(cat "$G/cmdline")'"

libvirt_domain_name smoke
DOM=$LIBVIRT_DOMAIN
CONSOLE=$LIBVIRT_SCRATCH/console.log
libvirt_tiny_xml "$DOM" "$G" "$CONSOLE" >"$LIBVIRT_SCRATCH/domain.xml"

dump() {
	echo "--- domain XML:" >&2
	cat "$LIBVIRT_SCRATCH/domain.xml" >&2
	echo "--- console (last 40 lines):" >&2
	tr -d '\r' <"$CONSOLE" 2>/dev/null | tail -n 40 >&2 || true
	echo "--- /var/log/libvirt/qemu/$DOM.log (last 20 lines):" >&2
	tail -n 20 "/var/log/libvirt/qemu/$DOM.log" >&2 2>/dev/null || true
}

t0=$(now)
virsh_sys create "$LIBVIRT_SCRATCH/domain.xml" >"$LIBVIRT_SCRATCH/create.out" 2>&1 || {
	cat "$LIBVIRT_SCRATCH/create.out" >&2
	dump
	fail "virsh create failed"
}
t_create=$(since "$t0")
echo "ok: virsh create $DOM ($t_create s)"

rc=0
libvirt_wait_console "$CONSOLE" '^SEALBOOT-GUEST-MARKER ' "$BOOT_TIMEOUT" "$DOM" || rc=$?
case $rc in
0) ;;
1) dump && fail "no SEALBOOT-GUEST-MARKER on the console after $BOOT_TIMEOUT s" ;;
*) dump && fail "the domain went away before SEALBOOT-GUEST-MARKER (a panic? panic=-1 reboots, on_reboot destroys)" ;;
esac
t_marker=$(since "$t0")
rc=0
libvirt_wait_console "$CONSOLE" '^SEALBOOT-GUEST-DONE$' "$BOOT_TIMEOUT" "$DOM" || rc=$?
[ "$rc" = 0 ] || { dump && fail "no SEALBOOT-GUEST-DONE on the console (wait status $rc)"; }
t_done=$(since "$t0")

out=$(tr -d '\r' <"$CONSOLE")
marker=$(printf '%s\n' "$out" | grep -m1 '^SEALBOOT-GUEST-MARKER ' || true)
[ "$marker" = "SEALBOOT-GUEST-MARKER hello" ] || { dump && fail "marker line is '$marker', want 'SEALBOOT-GUEST-MARKER hello'"; }
! printf '%s\n' "$out" | grep -q '^SEALBOOT-GUEST-INSMOD-FAILED' ||
	{ dump && fail "the guest could not load a module: $(printf '%s\n' "$out" | grep '^SEALBOOT-GUEST-INSMOD-FAILED')"; }
kver=$(printf '%s\n' "$out" | sed -n 's/^SEALBOOT-GUEST-KERNEL //p')
[ "$kver" = "$(basename "$(printf '%s\n' /boot/vmlinuz-* | sort -V | tail -n 1)" | sed 's/^vmlinuz-//')" ] ||
	[ -n "${SEALBOOT_GUEST_KERNEL:-}" ] || fail "the guest runs kernel '$kver', not the host's newest"
# A q35 machine: its host bridge (8086:29c0) is on the PCI listing.
printf '%s\n' "$out" | grep -q '^SEALBOOT-GUEST-PCI 0000:00:00.0 vendor=0x8086 device=0x29c0 ' ||
	{ dump && fail "no q35 host bridge (8086:29c0) in the guest's PCI listing"; }
printf '%s\n' "$out" | grep -qx 'SEALBOOT-GUEST-NET lo address=00:00:00:00:00:00' ||
	{ dump && fail "no lo in the guest's network listing"; }
echo "ok: $marker; kernel $kver; $(printf '%s\n' "$out" | grep -c '^SEALBOOT-GUEST-PCI ') PCI functions, $(printf '%s\n' "$out" | grep -c '^SEALBOOT-GUEST-BLOCK ') block devices, $(printf '%s\n' "$out" | grep -c '^SEALBOOT-GUEST-NET ') network interfaces"

# on_poweroff destroy: the transient domain goes away by itself.
gone=0
for _ in $(seq 1 300); do
	if ! virsh_sys domstate "$DOM" >/dev/null 2>&1; then
		gone=1
		break
	fi
	sleep 0.1
done
[ "$gone" = 1 ] || { dump && fail "domain $DOM still exists 30 s after SEALBOOT-GUEST-DONE ($(virsh_sys domstate "$DOM" 2>&1))"; }
t_gone=$(since "$t0")
echo "timing: virsh create ${t_create} s; create -> marker ${t_marker} s; -> done ${t_done} s; -> domain gone ${t_gone} s"
echo "PASS"
