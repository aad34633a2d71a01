#!/bin/bash
# The watch (sealboot-launch start staying resident) against a real
# libvirtd: every way an attacker with root and virsh changes the running
# guest is caught and the guest destroyed, with the reason in `status`:
#  - attach-device of a disk or a NIC fails at the source (no hot-plug slot);
#    the guest keeps running, audit clean, the watch quiet;
#  - `info qtree` through the monitor: no vmport/vmmouse in it, and the
#    monitor command itself taints the domain: destroyed;
#  - a NIC through monitor passthrough (netdev_add + device_add): destroyed
#    on the taint;
#  - `virsh define` of changed XML under the running name: destroyed, and
#    the persistent definition removed;
#  - the watch killed (SIGKILL): libvirtd destroys the guest (AUTODESTROY);
#    the watch stopped (SIGTERM): it destroys the guest itself;
#  - a clean stop: the watch records it and exits;
#  - start --foreground: the watch is that process; a monitor command gets
#    the guest destroyed, the reason on stderr, exit 6;
#  - control: the same monitor NIC on the same XML created by virsh (no
#    watch) leaves the guest running, tainted, seconds later.
set -eu -o pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/libvirt.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"

LAUNCH=${SEALBOOT_LAUNCH:?}
. "$SEALBOOT_SRC/tests/lib/launch-setup.sh"
need python3
launch_setup

libvirt_domain_name watch
DOM=$LIBVIRT_DOMAIN
CONSOLE=$A/console.log
RECORD=$A/run/launch/$DOM/watch.json
launch() { # EXPECTED-RC COMMAND [ARGS...]
	local want=$1 rc=0
	shift
	"$LAUNCH" "$@" --state "$A/state" --run "$A/run" --name "$DOM" --console-log "$CONSOLE" \
		--without-volumes --sysfs-root "$A/fakesys" --virt tcg >"$A/launch.out" 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "sealboot-launch $1: exit $rc, want $want: $(cat "$A/launch.out")"
}
field() { # KEY: from the watch record
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$RECORD" "$1"
}
running() { virsh_sys list --name | grep -qx "$DOM"; }
wait_gone() { # SECONDS: until the domain is gone
	local t0=$SECONDS
	while running; do
		[ $((SECONDS - t0)) -lt "$1" ] || return 1
		sleep 0.05
	done
}
wait_watch_exit() { # PID
	for _ in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	fail "the watch (pid $1) is still running"
}
start() {
	fake_usb
	launch 0 start
	[[ "$(cat "$A/launch.out")" == *"audit clean"*"watched by pid"* ]] || fail "start: $(cat "$A/launch.out")"
	WPID=$(field pid)
	[ "$(field state)" = watching ] && kill -0 "$WPID" || fail "no watch: $(cat "$RECORD")"
}
caught() { # REASON-SUBSTRING: the watch destroyed the guest for it
	wait_gone 10 || fail "the guest still runs 10 s later"
	wait_watch_exit "$WPID"
	[ "$(field state)" = destroyed ] || fail "watch record: $(cat "$RECORD")"
	[[ "$(field reason)" == *"$1"* ]] || fail "watch reason: $(cat "$RECORD")"
	launch 6 status
	[[ "$(cat "$A/launch.out")" == *"is not running: the watch destroyed it: it held $1"* ]] ||
		fail "status: $(cat "$A/launch.out")"
	launch 6 status --json
	[[ "$(cat "$A/launch.out")" == *'"running":false,"audit":"failed"'*'"destroyed":true'*'"watch":{"state":"destroyed"'* ]] ||
		fail "status --json: $(cat "$A/launch.out")"
	echo "ok: $(field event) -> paused in $(field frozen_ms) ms, destroyed in $(field latency_ms) ms: $(field reason)"
}

echo "== the watch starts with the guest"
start
launch 0 status
[[ "$(cat "$A/launch.out")" == *"match the profile; watched"* ]] || fail "status: $(cat "$A/launch.out")"
launch 0 status --json
[[ "$(cat "$A/launch.out")" == *'"watch":{"state":"watching","pid":'"$WPID"* ]] || fail "$(cat "$A/launch.out")"
echo "ok: watched by pid $WPID"

echo "== attach-device of a disk and a NIC: refused at the source"
truncate -s 8M "$A/extra.img" && chmod 644 "$A/extra.img"
cat >"$A/disk.xml" <<XML
<disk type='file' device='disk'><driver name='qemu' type='raw'/>
  <source file='$A/extra.img'/><target dev='vdz' bus='virtio'/></disk>
XML
echo "<interface type='user'><model type='virtio'/></interface>" >"$A/nic.xml"
for dev in disk nic; do
	rc=0
	virsh_sys attach-device "$DOM" "$A/$dev.xml" --live >/dev/null 2>"$A/err" || rc=$?
	[ "$rc" != 0 ] && grep -q "No more available PCI slots" "$A/err" || fail "attach $dev: $rc $(cat "$A/err")"
done
sleep 1 # a full tick and more
running && kill -0 "$WPID" && [ "$(field state)" = watching ] || fail "the guest or the watch went away"
launch 0 audit
echo "ok: both refused by libvirt (no PCI slot); guest running, watched, clean"

echo "== info qtree through the monitor: no vmport/vmmouse, and the taint is caught"
virsh_sys qemu-monitor-command --hmp "$DOM" 'info qtree' >"$A/qtree" || fail "info qtree"
grep -q 'dev: pcie-root-port' "$A/qtree" || fail "qtree: $(head -c 300 "$A/qtree")"
! grep -qE 'dev: (vmport|vmmouse)' "$A/qtree" || fail "vmport/vmmouse: $(grep -E 'vmport|vmmouse' "$A/qtree")"
echo "ok: info qtree lists neither vmport nor vmmouse"
caught "taint (custom monitor control commands issued)"

echo "== a NIC through monitor passthrough"
start
virsh_sys qemu-monitor-command --hmp "$DOM" 'netdev_add user,id=sbn1' >/dev/null 2>&1 || true
virsh_sys qemu-monitor-command --hmp "$DOM" 'device_add virtio-net-pci,netdev=sbn1,id=sbnic1' >/dev/null 2>&1 || true
caught "taint (custom monitor control commands issued)"

echo "== virsh define of changed XML under the running name"
start
virsh_sys dumpxml --inactive "$DOM" | sed "s#<memory unit='KiB'>[0-9]*</memory>#<memory unit='KiB'>524288</memory>#" >"$A/defined.xml"
virsh_sys define "$A/defined.xml" >/dev/null 2>"$A/err" || fail "virsh define: $(cat "$A/err")"
caught "persistent definition (defined behind the launcher)"
! virsh_sys dominfo "$DOM" >/dev/null 2>&1 || fail "the persistent definition is still there"
echo "ok: and the definition is gone"

echo "== the watch killed: libvirtd destroys the guest (AUTODESTROY)"
start
kill -KILL "$WPID"
wait_gone 10 || fail "the guest outlived its watch"
[ "$(field state)" = watching ] || fail "record: $(cat "$RECORD")" # it had no chance to write
launch 7 status --json
[[ "$(cat "$A/launch.out")" == *'"running":false'*'"watch":{"state":"dead"'* ]] || fail "status: $(cat "$A/launch.out")"
echo "ok: SIGKILL to the watch, the guest is gone; status shows the watch dead"

echo "== the watch stopped (SIGTERM): it destroys the guest itself"
start
kill -TERM "$WPID"
caught "the watch was stopped (signal 15)"

echo "== a clean stop is recorded, not flagged"
start
rc=0
"$LAUNCH" stop --name "$DOM" --timeout 0 >"$A/launch.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "sealboot-launch stop: exit $rc, want 0: $(cat "$A/launch.out")"
wait_watch_exit "$WPID"
[ "$(field state)" = stopped ] || fail "record: $(cat "$RECORD")"
launch 7 status
echo "ok: stopped ($(field reason)); status says not running (7)"

echo "== start --foreground: the watch is this process, its status the watch's"
fake_usb
"$LAUNCH" start --foreground --interval 200 --state "$A/state" --run "$A/run" --name "$DOM" \
	--console-log "$CONSOLE" --without-volumes --sysfs-root "$A/fakesys" --virt tcg \
	>"$A/fg.out" 2>&1 &
FG=$!
for _ in $(seq 1 300); do
	# (the record says watching from before the create; the loop starts
	# after start's own audit, and says so)
	grep -q "watch: watching $DOM" "$A/fg.out" && break
	kill -0 "$FG" 2>/dev/null || fail "start --foreground exited: $(cat "$A/fg.out")"
	sleep 0.1
done
running && [ "$(field state)" = watching ] && [ "$(field pid)" = "$FG" ] ||
	fail "the watch is not the foreground process: $(cat "$RECORD") $(cat "$A/fg.out")"
virsh_sys qemu-monitor-command --hmp "$DOM" 'info version' >/dev/null 2>&1 || true
rc=0
wait "$FG" || rc=$?
[ "$rc" = 6 ] || fail "start --foreground: exit $rc, want 6: $(cat "$A/fg.out")"
grep -q "watch: .*: $DOM holds taint (custom monitor control commands issued), which the profile does not allow: paused" "$A/fg.out" ||
	fail "no reason on stderr: $(cat "$A/fg.out")"
running && fail "the guest still runs"
echo "ok: the foreground watch logged the reason on stderr and exited 6"

echo "== control: the same attack on the same XML without the watch"
"$LAUNCH" xml --state "$A/state" --run "$A/run" --name "$DOM" --console-log "$CONSOLE" \
	--without-volumes --virt tcg >"$A/domain.xml" 2>"$A/err" || fail "xml: $(cat "$A/err")"
virsh_sys create "$A/domain.xml" >/dev/null 2>"$A/err" || fail "create: $(cat "$A/err")"
virsh_sys qemu-monitor-command --hmp "$DOM" 'netdev_add user,id=sbn1' >/dev/null 2>&1 || true
sleep 3
running || fail "control: the unwatched guest went away"
[[ "$(virsh_sys dominfo "$DOM")" == *"tainted: custom monitor control commands issued"* ]] ||
	fail "control: not tainted"
launch 6 status
[[ "$(cat "$A/launch.out")" == *"holds taint (custom monitor control commands issued)"* ]] ||
	fail "control status: $(cat "$A/launch.out")"
virsh_sys destroy "$DOM" >/dev/null
echo "ok: unwatched, the tainted guest still ran 3 s later (only a manual audit names it)"
echo "PASS"
