#!/bin/bash
# sealboot-launch end to end against a real libvirtd: a provisioned appliance
# (swtpm, signed policy, a bundle holding a tiny guest's kernel, initrd and
# command line) boots through the anchor, then the launcher starts the guest
# (TCG here, where KVM cannot run it) and proves what it has:
#  - the strictest profile: the live XML and the guest's own PCI list show no
#    USB controller, no balloon, no graphics, video or sound, no NIC; the
#    virtio-rng it allows is there; host USB (a fake sysfs) is locked down;
#  - status and audit are clean; hot-plug fails at the source (no spare
#    PCIe root port, hot-plug off on each): attach-device of a disk or a
#    NIC, attach-disk; controls: without the defences (and without the
#    watch) the same XML takes a disk and has vmport/vmmouse, and the disk
#    stays; (test-watch.sh: what the watch catches);
#  - stop is graceful (ACPI power button) within the timeout;
#  - a missing or edited handoff, a PCR extended after the anchor and a
#    payload swapped after verification are refused before anything starts;
#  - a profile asking for a host device cannot even be signed;
#  - a second profile (isolated network, vTPM): they appear, nothing else.
set -eu -o pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/libvirt.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"

ADMIN=${SEALBOOT_ADMIN:?}
LAUNCH=${SEALBOOT_LAUNCH:?}
BOOT_TIMEOUT=${SEALBOOT_LIBVIRT_BOOT_TIMEOUT:-90}
. "$SEALBOOT_SRC/tests/lib/launch-setup.sh"
need tpm2_pcrextend
launch_setup

libvirt_domain_name launch
DOM=$LIBVIRT_DOMAIN
CONSOLE=$A/console.log
launch() { # EXPECTED-RC COMMAND [ARGS...]
	local want=$1 rc=0
	shift
	"$LAUNCH" "$@" --state "$A/state" --run "$A/run" --name "$DOM" --console-log "$CONSOLE" \
		--without-volumes --sysfs-root "$A/fakesys" >"$A/launch.out" 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "sealboot-launch $1: exit $rc, want $want: $(cat "$A/launch.out")"
}
# stop takes only --uri, --name and --timeout (any other option is refused).
stop() { # EXPECTED-RC [ARGS...]
	local want=$1 rc=0
	shift
	"$LAUNCH" stop --name "$DOM" "$@" >"$A/launch.out" 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "sealboot-launch stop: exit $rc, want $want: $(cat "$A/launch.out")"
}
dump() {
	echo "--- console:" >&2
	tr -d '\r' <"$CONSOLE" 2>/dev/null | tail -n 30 >&2 || true
	tail -n 20 "/var/log/libvirt/qemu/$DOM.log" >&2 2>/dev/null || true
}
wait_marker() {
	local rc=0
	libvirt_wait_console "$CONSOLE" '^SEALBOOT-GUEST-STAYING' "$BOOT_TIMEOUT" "$DOM" || rc=$?
	[ "$rc" = 0 ] || { dump; fail "the guest did not come up (wait: $rc)"; }
}

echo "== the strictest profile"
fake_usb
launch 0 start
out=$(cat "$A/launch.out")
# KVM where it really works, TCG otherwise (here: TCG, with the reason).
[[ "$out" == *"guest $DOM running (KVM"*"audit clean"* || "$out" == *"guest $DOM running (TCG"*"audit clean"* ]] ||
	fail "start: $out"
[[ "$out" == *"host USB locked down (2 setting(s)"* ]] || fail "no lockdown: $out"
[ "$(cat "$A/fakesys/bus/usb/devices/usb1/authorized_default")" = 0 ] &&
	[ "$(cat "$A/fakesys/bus/usb/devices/1-1/authorized")" = 0 ] || fail "USB still authorized"
echo "ok: $(grep -m1 running "$A/launch.out")"
wait_marker
grep -q '^SEALBOOT-GUEST-MARKER hello' "$CONSOLE" || fail "no marker: $(cat "$CONSOLE")"
xml=$(virsh_sys dumpxml "$DOM")
for bad in "<controller type='usb' model='qemu-xhci'" "<controller type='usb' model='piix3-uhci'" \
	"<graphics" "<sound" "<interface" "<hostdev" "<redirdev" "<smartcard" "<channel" \
	"<parallel" "<memballoon model='virtio'" "<input type='tablet'" "bus='usb'"; do
	[[ "$xml" != *"$bad"* ]] || fail "the live domain has $bad"
done
for good in "<controller type='usb' index='0' model='none'" "<memballoon model='none'" \
	"<model type='none'" "<rng model='virtio'" "<serial type='file'"; do
	[[ "$xml" == *"$good"* ]] || fail "the live domain lacks $good: $xml"
done
# QEMU boots the launcher's verified copies, not the bundle's files.
[[ "$xml" == *"<kernel>$A/run/launch/$DOM/boot/kernel</kernel>"* && "$xml" == *"<initrd>$A/run/launch/$DOM/boot/initrd</initrd>"* ]] ||
	fail "kernel/initrd not the launcher's copies: $(printf '%s\n' "$xml" | grep -E '<kernel|<initrd')"
cmp -s "$A/run/launch/$DOM/boot/kernel" "$A/bundles/os/vmlinuz" || fail "the kernel copy differs"
[ "$(stat -c %a "$A/run/launch/$DOM/boot")" = 711 ] || fail "boot dir mode $(stat -c %a "$A/run/launch/$DOM/boot")"
# The verified image, read-only, as vda; and the guest sees it.
disk=$(printf '%s\n' "$xml" | sed -n "/<disk type='file' device='disk'>/,/<\/disk>/p")
[[ "$disk" == *"<source file='$A/bundles/os/disk.img'"* && "$disk" == *"<target dev='vda' bus='virtio'/>"* &&
	"$disk" == *"<readonly/>"* ]] || fail "the verified image is not vda read-only: $disk"
grep -q '^SEALBOOT-GUEST-BLOCK vda ' "$CONSOLE" || fail "the guest does not see vda"
# From inside: no USB controller (class 0x0c03), no NIC (0x02....), no VGA
# (0x03....), no audio (0x04....) on the guest's PCI bus.
pci=$(grep '^SEALBOOT-GUEST-PCI' "$CONSOLE" || true)
[ -n "$pci" ] || fail "the guest listed no PCI device"
[[ "$pci" != *"class=0x0c03"* && "$pci" != *"class=0x02"* && "$pci" != *"class=0x03"* &&
	"$pci" != *"class=0x04"* ]] || fail "the guest sees a device it should not: $pci"
echo "ok: live XML and the guest's PCI list hold nothing beyond the profile"

launch 0 status --json
[[ "$(cat "$A/launch.out")" == *'"running":true,"audit":"clean"'* ]] || fail "status: $(cat "$A/launch.out")"
# Asked for the other accelerator: a mismatch of options, not a device the
# profile forbids (issue 8).
if [[ "$(grep -m1 running <<<"$out")" == *"(TCG"* ]]; then runs=TCG other=kvm own=tcg; else runs=KVM other=tcg own=kvm; fi
launch 2 status --virt "$other"
[ "$(cat "$A/launch.out")" = "sealboot-launch: guest $DOM runs under $runs, not the --virt $other asked for; nothing was audited (leave --virt out, or give --virt $own) (try --help)" ] ||
	fail "status --virt $other: $(cat "$A/launch.out")"
launch 0 status --virt "$own"
stop 2 --json
[ "$(cat "$A/launch.out")" = "sealboot-launch: stop takes only --uri, --name and --timeout; --json does nothing there (try --help)" ] ||
	fail "stop --json: $(cat "$A/launch.out")"
[ -n "$(virsh_sys list --name | grep -x "$DOM" || true)" ] || fail "a refused stop stopped the guest"
echo "ok: status --virt $other on a $runs guest is a usage error (2); stop refuses options it ignores (2)"
launch 0 audit
echo "ok: status and audit clean"

echo "== hot-plug closed at the source"
# Every PCIe root port is listed, holds its device and has hot-plug off: no
# slot for a disk or a NIC, and QEMU refuses one on pcie.0.
ports=$(printf '%s\n' "$xml" | grep -c "model='pcie-root-port'" || true)
[ "$ports" = 2 ] || fail "want 2 root ports (vda, rng), no spare; live XML has $ports"
[ "$(printf '%s\n' "$xml" | grep -c "hotplug='off'" || true)" = 2 ] || fail "a root port has hot-plug on: $xml"
[[ "$xml" == *"<vmport state='off'/>"* ]] || fail "vmport is not off: $xml"
truncate -s 8M "$A/extra.img"
chmod 644 "$A/extra.img"
cat >"$A/extra.xml" <<XML
<disk type='file' device='disk'><driver name='qemu' type='raw'/>
  <source file='$A/extra.img'/><target dev='vdz' bus='virtio'/></disk>
XML
cat >"$A/nic.xml" <<XML
<interface type='user'><model type='virtio'/></interface>
XML
"$LAUNCH" xml --state "$A/state" --run "$A/run" --name "$DOM" --console-log "$CONSOLE" \
	--without-volumes --virt tcg >"$A/domain.xml" 2>"$A/err" || fail "xml: $(cat "$A/err")"
for dev in extra nic; do
	rc=0
	virsh_sys attach-device "$DOM" "$A/$dev.xml" --live >/dev/null 2>"$A/err" || rc=$?
	[ "$rc" != 0 ] && grep -q "No more available PCI slots" "$A/err" ||
		fail "attach-device $dev: exit $rc: $(cat "$A/err")"
done
rc=0
virsh_sys attach-disk "$DOM" "$A/extra.img" vdy --live >/dev/null 2>"$A/err" || rc=$?
[ "$rc" != 0 ] || fail "attach-disk worked"
launch 0 audit
echo "ok: attach-device of a disk and a NIC and attach-disk all fail (no PCI slot); audit clean"

stop 0 --timeout 0
echo "== controls: the same XML without the defences"
# Without the listed root ports libvirt adds a spare one, and the disk plugs
# in; without vmport off QEMU gives the guest vmport and vmmouse.
sed -e '/pcie-root-port/,/<\/controller>/d' -e '/<vmport /d' \
	"$A/domain.xml" >"$A/control.xml"
grep -q 'pcie-root-port\|vmport' "$A/control.xml" && fail "control XML still has the defences"
virsh_sys create "$A/control.xml" >/dev/null 2>"$A/err" || fail "control create: $(cat "$A/err")"
virsh_sys attach-device "$DOM" "$A/extra.xml" --live >/dev/null 2>"$A/err" ||
	fail "control: attach-device failed: $(cat "$A/err")"
virsh_sys qemu-monitor-command --hmp "$DOM" 'info qtree' >"$A/qtree"
grep -q 'dev: vmport' "$A/qtree" && grep -q 'dev: vmmouse' "$A/qtree" ||
	fail "control: no vmport/vmmouse in info qtree"
launch 6 status
[[ "$(cat "$A/launch.out")" == *"holds "* ]] || fail "control status: $(cat "$A/launch.out")"
# nothing watches it: the disk is still there seconds later
sleep 3
[[ "$(virsh_sys dumpxml "$DOM")" == *"dev='vdz'"* ]] || fail "control: the disk went away by itself"
virsh_sys destroy "$DOM" >/dev/null
echo "ok: without them a disk hot-plugs and vmport/vmmouse appear ($(sed 's/.*holds //' "$A/launch.out"))"

echo "== start again, then a graceful stop"
rm -f "$CONSOLE"
launch 0 start
wait_marker
stop 0 --timeout 60
[[ "$(cat "$A/launch.out")" == *"guest $DOM stopped"* && "$(cat "$A/launch.out")" != *forced* ]] ||
	fail "stop: $(cat "$A/launch.out")"
grep -q SEALBOOT-GUEST-POWER-BUTTON "$CONSOLE" || fail "the guest never saw the power button"
launch 7 status
echo "ok: stopped by its power button; status says not running (7)"
rm -f "$CONSOLE"
launch 0 start
wait_marker
stop 0 --timeout 0
[[ "$(cat "$A/launch.out")" == *"stopped (forced: it did not shut down within the timeout)"* ]] ||
	fail "forced stop: $(cat "$A/launch.out")"
stop 7
echo "ok: with no time to shut down it is forced off; stopping it again says not running (7)"

echo "== refused before anything starts"
cp "$A/run/handoff.json" "$A/handoff.good"
rm "$A/run/handoff.json"
launch 3 start
[[ "$(cat "$A/launch.out")" == *"no handoff"* ]] || fail "$(cat "$A/launch.out")"
sed 's/"version": 1,/"version": 2,/' "$A/handoff.good" >"$A/run/handoff.json"
launch 3 start
[[ "$(cat "$A/launch.out")" == *"bundle os was not measured as the handoff says"* ]] || fail "$(cat "$A/launch.out")"
cp "$A/handoff.good" "$A/run/handoff.json"
printf 'evil\n' >>"$A/bundles/os/cmdline"
launch 3 start
[[ "$(cat "$A/launch.out")" == *"payload cmdline: not a regular file of the signed size"* ]] || fail "$(cat "$A/launch.out")"
truncate -s -5 "$A/bundles/os/cmdline"
# Same-size swaps after the anchor verified them: the size check alone let
# them through; start reads each payload once more, hashed, and QEMU boots
# the launcher's copies.
cp "$A/bundles/os/cmdline" "$A/cmdline.good"
sed -i 's/marker=hello/marker=hellp/' "$A/bundles/os/cmdline"
[ "$(stat -c %s "$A/bundles/os/cmdline")" = "$(stat -c %s "$A/cmdline.good")" ] || fail "not the same size"
launch 3 start
[[ "$(cat "$A/launch.out")" == *"payload cmdline: its content does not hash to the signed digest"* ]] ||
	fail "cmdline swap: $(cat "$A/launch.out")"
cp "$A/cmdline.good" "$A/bundles/os/cmdline"
cp "$A/bundles/os/disk.img" "$A/disk.good"
printf 'X' | dd of="$A/bundles/os/disk.img" bs=1 seek=4096 conv=notrunc status=none
launch 3 start
[[ "$(cat "$A/launch.out")" == *"payload disk.img: its content does not hash to the signed digest"* ]] ||
	fail "disk swap: $(cat "$A/launch.out")"
cp "$A/disk.good" "$A/bundles/os/disk.img"
cp "$A/bundles/os/initrd.img" "$A/initrd.good"
printf 'X' | dd of="$A/bundles/os/initrd.img" bs=1 seek=100 conv=notrunc status=none
launch 3 start
[[ "$(cat "$A/launch.out")" == *"payload initrd.img: its content does not hash to the signed digest"* ]] ||
	fail "initrd swap: $(cat "$A/launch.out")"
cp "$A/initrd.good" "$A/bundles/os/initrd.img"
[ ! -e "$A/run/launch/$DOM/boot/initrd" ] || fail "the refused initrd copy was left"

# control: the same cmdline swap given to QEMU by path (virsh create of the
# bundle-path XML) reaches the guest
sed -i 's/marker=hello/marker=hellp/' "$A/bundles/os/cmdline"
"$LAUNCH" xml --state "$A/state" --run "$A/run" --name "$DOM" --console-log "$CONSOLE" \
	--without-volumes --virt tcg >"$A/bypath.xml" 2>"$A/err" || fail "xml: $(cat "$A/err")"
cp "$A/cmdline.good" "$A/bundles/os/cmdline"
grep -q 'marker=hellp' "$A/bypath.xml" || fail "control: xml read the swapped cmdline? $(grep cmdline "$A/bypath.xml")"
echo "ok: same-size swaps of cmdline, disk image and initrd refused (exit 3); by path the swapped cmdline would have gone to QEMU"
# The handoff's volume device must be the policy's.
sed "s#\"device\": \"$A/data.img\"#\"device\": \"/dev/evil\"#" "$A/handoff.good" >"$A/run/handoff.json"
grep -q '/dev/evil' "$A/run/handoff.json" || fail "handoff edit did not apply"
launch 3 start
[[ "$(cat "$A/launch.out")" == *"volume data: the handoff names device /dev/evil, the policy $A/data.img"* ]] ||
	fail "volume device: $(cat "$A/launch.out")"
cp "$A/handoff.good" "$A/run/handoff.json"
tpm2_pcrextend 13:sha256=0000000000000000000000000000000000000000000000000000000000000001
launch 3 start
[[ "$(cat "$A/launch.out")" == *"does not replay to the TPM's PCRs"* ]] || fail "$(cat "$A/launch.out")"
[ -z "$(virsh_sys list --name | grep -x "$DOM" || true)" ] || fail "a refused start left a guest"
echo "ok: missing, edited, swapped payload, a volume's device, PCR moved: exit 3, nothing started"

echo "== a profile asking for a host device cannot be signed"
write_policy 2 '{"vcpus": 1, "memory_mib": 256, "network": "none", "console": "log", "rng": true, "vtpm": false, "hostdev": ["0000:03:00.0"]}'
rc=0
"$ADMIN" policy sign --allow-unmeasured-boot --key "$A/admin.pem" "$A/policy.json" "$A/state" 2>"$A/err" || rc=$?
[ "$rc" = 5 ] && [[ "$(cat "$A/err")" == *'guest: unknown member "hostdev"'* ]] || fail "hostdev: $rc $(cat "$A/err")"
echo "ok: $(cat "$A/err")"

echo "== another profile: an isolated network, a vTPM, no rng"
write_policy 2 '{"vcpus": 2, "memory_mib": 320, "network": "isolated", "console": "log", "rng": false, "vtpm": true}'
"$ADMIN" policy sign --allow-unmeasured-boot --key "$A/admin.pem" "$A/policy.json" "$A/state" 2>"$A/err" || fail "$(cat "$A/err")"
"$ADMIN" pcr-policy sign --key "$A/admin.pem" "$A/state" 2>"$A/err" || fail "$(cat "$A/err")"
anchor_boot
rm -f "$CONSOLE"
fake_usb
launch 0 start
wait_marker
xml=$(virsh_sys dumpxml "$DOM")
[[ "$xml" == *"<interface type='network'>"*"<source network='sealboot-isolated'"* ]] ||
	fail "no isolated NIC: $xml"
[[ "$xml" != *"<rng"* ]] || fail "rng present although the profile says no"
[[ "$xml" == *"<tpm model='tpm-crb'>"*"<backend type='emulator' version='2.0'"* ]] || fail "no vTPM: $xml"
[[ "$xml" == *"<vcpu placement='static'>2</vcpu>"* ]] || fail "vcpus: $xml"
launch 0 audit
grep '^SEALBOOT-GUEST-PCI' "$CONSOLE" | grep -q 'class=0x02' || fail "the guest sees no NIC"
stop 0 --timeout 60
echo "ok: the NIC and vTPM it allows appear, the rng it does not is absent; audit clean"
echo "PASS"
