#!/bin/bash
# The watch when its libvirt connection is lost, against the real libvirtd
# (which this test kills and restarts: it runs alone, is_parallel false).
# The attacker wants the guest to run unwatched, to change it afterwards
# (a monitor command, a device) without it being destroyed:
#  - libvirtd killed (SIGKILL): the watch kills QEMU through the pidfd it
#    pinned at start, before libvirtd is back; after the restart the domain
#    is gone and `status` says why (exit 8, `--json` audit "unwatched",
#    watch state "lost").
#    Control, in the same outage: the same XML created with AUTODESTROY by a
#    virsh shell (AUTODESTROY alone, no watch) keeps running; while libvirtd
#    is away root drives its QEMU through the monitor socket nobody holds
#    (QMP, a netdev added); the restarted libvirtd has forgotten
#    AUTODESTROY (closing the virsh shell leaves the guest running), knows
#    nothing of the change (no taint), and `virsh qemu-monitor-command`
#    changes the guest again with no one to destroy it.
#  - libvirtd restarted cleanly (SIGTERM): gone, the same status.
#  - the watch's own connection cut (`virt-admin client-disconnect`, libvirtd
#    stays up): gone, the same status.
#  - the watch frozen (SIGSTOP): its connection stays open; libvirtd's
#    keepalive closes it (about 30 s with the default libvirtd.conf) and
#    AUTODESTROY destroys the guest. The time is printed: it is the window
#    a frozen watch leaves (docs/threat-model.md).
# Each libvirtd kill holds /run/sealboot-libvirtd-kill.lock (one killer at a
# time) and libvirt.sh's start lock (other tests' libvirt_up waits instead
# of starting a daemon), waits (at most 120 s) until no other test's domain
# runs, and restarts libvirtd before it returns, also when the test fails.
set -eu -o pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/libvirt.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"

LAUNCH=${SEALBOOT_LAUNCH:?}
. "$SEALBOOT_SRC/tests/lib/launch-setup.sh"
need python3 flock virt-admin
[ "$(id -u)" = 0 ] || skip "killing and restarting libvirtd needs root"
launch_setup

libvirt_domain_name lost
DOM=$LIBVIRT_DOMAIN
libvirt_domain_name lost-control
CTL=$LIBVIRT_DOMAIN
CONSOLE=$A/console.log
RECORD=$A/run/launch/$DOM/watch.json
DEADLINE=15 # generous: the kill itself takes milliseconds

# ---- libvirtd down and up again ---------------------------------------------
KILL_LOCK='' START_LOCK=''
libvirtd_down() { # SIGNAL
	local pid t0=$SECONDS others
	exec {KILL_LOCK}>/run/sealboot-libvirtd-kill.lock
	flock -w 600 "$KILL_LOCK" || fail "/run/sealboot-libvirtd-kill.lock held for 600 s"
	# Courtesy to other tests of this machine: let their guests finish.
	while others=$(virsh_sys list --name | grep -vxF -e "$DOM" -e "$CTL" | grep .); do
		[ $((SECONDS - t0)) -lt 120 ] || {
			echo "note: killing libvirtd under other domains: $others"
			break
		}
		sleep 1
	done
	exec {START_LOCK}>/run/sealboot-libvirt.lock
	flock -w 60 "$START_LOCK" || fail "/run/sealboot-libvirt.lock held for 60 s"
	pid=$(libvirt__pid /run/libvirtd.pid)
	[ -n "$pid" ] || fail "no libvirtd pid in /run/libvirtd.pid"
	kill -"$1" "$pid"
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	fail "libvirtd (pid $pid) still runs 30 s after SIG$1"
}
libvirtd_up_again() {
	[ -n "$START_LOCK" ] || return 0
	if ! libvirt__answers && [ -z "$(libvirt__pid /run/libvirtd.pid)" ]; then
		LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log" \
			libvirtd -d </dev/null >/dev/null 2>&1 {START_LOCK}>&- {KILL_LOCK}>&- ||
			echo "libvirtd -d failed (exit $?)" >&2
	fi
	for _ in $(seq 1 600); do
		libvirt__answers && break
		sleep 0.1
	done
	exec {START_LOCK}>&- {KILL_LOCK}>&-
	START_LOCK='' KILL_LOCK=''
	libvirt__answers || fail "libvirtd does not answer 60 s after its restart"
}
# Whatever happens, libvirtd runs again (and no watch stays frozen) before
# libvirt.sh's cleanup.
WPID=''
lost_cleanup() {
	[ -z "$WPID" ] || kill -CONT "$WPID" 2>/dev/null || true
	libvirtd_up_again || true
}
eval "set -- $(trap -p EXIT)"
# shellcheck disable=SC2064 # the previous handler is taken now
trap "lost_cleanup; ${3:-}" EXIT

# ---- helpers ----------------------------------------------------------------
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
qemu_pid() { # DOMAIN: from libvirt's pid file
	local p
	p=$(cat "/run/libvirt/qemu/$1.pid") || fail "no pid file for $1"
	echo "${p//[!0-9]/}"
}
gone_within() { # PID SECONDS
	local t0=$SECONDS
	while kill -0 "$1" 2>/dev/null; do
		[ $((SECONDS - t0)) -lt "$2" ] || return 1
		sleep 0.05
	done
}
start() {
	fake_usb
	launch 0 start
	[[ "$(cat "$A/launch.out")" == *"audit clean"*"watched by pid"* ]] || fail "start: $(cat "$A/launch.out")"
	WPID=$(field pid)
	QPID=$(qemu_pid "$DOM")
	[ "$(field state)" = watching ] && kill -0 "$WPID" && kill -0 "$QPID" ||
		fail "no watch or no QEMU: $(cat "$RECORD")"
}
# The guest is gone for good and status says the watch killed it.
lost() {
	gone_within "$WPID" "$DEADLINE" || fail "the watch (pid $WPID) still runs"
	! virsh_sys domstate "$DOM" >/dev/null 2>&1 || fail "libvirt still has $DOM: $(virsh_sys domstate "$DOM")"
	[ "$(field state)" = lost ] || fail "watch record: $(cat "$RECORD")"
	launch 8 status
	[[ "$(cat "$A/launch.out")" == *"$DOM is not running: the watch lost its libvirt connection and killed it: the libvirt connection was lost; QEMU (pid $QPID) "* ]] ||
		fail "status: $(cat "$A/launch.out")"
	launch 8 status --json
	[[ "$(cat "$A/launch.out")" == *'"running":false,"audit":"unwatched"'*'"destroyed":true'*'"watch":{"state":"lost"'* ]] ||
		fail "status --json: $(cat "$A/launch.out")"
	echo "ok: $(field reason); status exit 8"
}
# QMP on a monitor socket: the status, then each HMP command; one JSON reply
# a line. Times out when someone (libvirtd) holds the monitor.
qmp() { # SOCKET [HMP-COMMAND...]
	timeout 20 python3 - "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
def call(cmd, args=None):
    m = {"execute": cmd}
    if args:
        m["arguments"] = args
    f.write(json.dumps(m) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "event" not in r:
            return r
json.loads(f.readline())  # the greeting
call("qmp_capabilities")
print(json.dumps(call("query-status")))
for c in sys.argv[2:]:
    print(json.dumps(call("human-monitor-command", {"command-line": c})))
PY
}

# ---- libvirtd killed --------------------------------------------------------
echo "== libvirtd killed (SIGKILL): the watched guest and a control under AUTODESTROY alone"
start
"$LAUNCH" xml --state "$A/state" --run "$A/run" --name "$CTL" --console-log "$A/control.log" \
	--without-volumes --virt tcg >"$A/control.xml" 2>"$A/err" || fail "xml: $(cat "$A/err")"
# A virsh shell keeps the connection that created the control open.
coproc VSH { exec virsh -q -c "$LIBVIRT_URI" >"$A/vsh.out" 2>&1; }
VSH_IN=${VSH[1]} VSH_KEEP=$VSH_PID
echo "create --autodestroy $A/control.xml" >&"$VSH_IN"
for _ in $(seq 1 300); do
	[ -s "/run/libvirt/qemu/$CTL.pid" ] && virsh_sys domstate "$CTL" 2>/dev/null | grep -q running && break
	sleep 0.1
done
CPID=$(qemu_pid "$CTL")
MON=$(sed -n "s/.*<monitor path='\([^']*\)'.*/\1/p" "/run/libvirt/qemu/$CTL.xml")
[ -n "$MON" ] || fail "no monitor path in /run/libvirt/qemu/$CTL.xml"
libvirtd_down KILL
t0=$SECONDS
gone_within "$QPID" "$DEADLINE" || fail "QEMU of the watched guest still runs $DEADLINE s after libvirtd died"
echo "ok: the watched guest's QEMU (pid $QPID) is gone within $((SECONDS - t0)) s, libvirtd still down"
kill -0 "$CPID" || fail "control: its QEMU died with libvirtd"
qmp "$MON" "netdev_add user,id=sbi12d1" >"$A/qmp.out" 2>&1 || fail "control: QMP: $(cat "$A/qmp.out")"
grep -q '"status": "running"' "$A/qmp.out" || fail "control: QMP: $(cat "$A/qmp.out")"
echo "ok: control: libvirtd down, its QEMU answers root on the monitor socket and takes a netdev"
libvirtd_up_again
lost
# The control: the restarted libvirtd has it, running, untainted.
virsh_sys domstate "$CTL" | grep -qx running || fail "control: not running after the restart"
virsh_sys dominfo "$CTL" >"$A/dominfo"
! grep -q tainted "$A/dominfo" || fail "control: libvirt saw the QMP change: $(cat "$A/dominfo")"
kill -0 "$VSH_KEEP" || fail "control: the virsh shell exited: $(cat "$A/vsh.out")"
exec {VSH_IN}>&-
gone_within "$VSH_KEEP" 10 || fail "control: the virsh shell does not exit"
sleep 2
virsh_sys domstate "$CTL" | grep -qx running ||
	fail "control: gone when the connection that created it closed (AUTODESTROY survived the restart?)"
virsh_sys qemu-monitor-command --hmp "$CTL" 'netdev_add user,id=sbi12d2' >"$A/err" 2>&1 ||
	fail "control: qemu-monitor-command: $(cat "$A/err")"
sleep 2
virsh_sys domstate "$CTL" | grep -qx running || fail "control: gone after the change"
virsh_sys destroy "$CTL" >/dev/null
echo "ok: control: AUTODESTROY forgotten by the restarted libvirtd; untainted, changed again with virsh, still running"

# ---- libvirtd restarted cleanly ---------------------------------------------
echo "== libvirtd restarted cleanly (SIGTERM)"
start
libvirtd_down TERM
gone_within "$QPID" "$DEADLINE" || fail "QEMU of the watched guest still runs $DEADLINE s after libvirtd stopped"
libvirtd_up_again
lost

# ---- the watch's connection cut ---------------------------------------------
echo "== the watch's own connection cut (virt-admin client-disconnect)"
start
ID=''
for _ in $(seq 1 10); do
	for id in $(virt-admin -c libvirtd:///system srv-clients-list libvirtd | awk '$1 ~ /^[0-9]+$/ {print $1}'); do
		if virt-admin -c libvirtd:///system client-info libvirtd "$id" 2>/dev/null |
			grep -Eq "^unix_process_id *: *$WPID\$"; then
			ID=$id
		fi
	done
	[ -z "$ID" ] || break
	sleep 1
done
[ -n "$ID" ] || fail "virt-admin lists no client of pid $WPID (watch record: $(cat "$RECORD"); clients: $(virt-admin -c libvirtd:///system srv-clients-list libvirtd 2>&1 | tr '\n' ' '))"
virt-admin -c libvirtd:///system client-disconnect libvirtd "$ID" >/dev/null
gone_within "$QPID" "$DEADLINE" || fail "QEMU still runs $DEADLINE s after the disconnect"
lost

# ---- the watch frozen -------------------------------------------------------
echo "== the watch frozen (SIGSTOP): libvirtd's keepalive ends its connection, AUTODESTROY follows"
start
kill -STOP "$WPID"
t0=$SECONDS
gone_within "$QPID" 120 || fail "QEMU still runs 120 s after the watch was frozen"
echo "ok: gone $((SECONDS - t0)) s after SIGSTOP (libvirtd's keepalive, 5 s x 5 by default: the window)"
kill -CONT "$WPID"
lost
echo "PASS"
