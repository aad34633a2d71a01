# shellcheck shell=bash disable=SC2119,SC2120 # libvirt__trap: set -- parses `trap -p`
# Sourced by shell tests (after common.sh): a real libvirtd on qemu:///system
# and tiny TCG guests (tests/lib/make-tiny-guest) under it.
#
#   libvirt_up            make sure a libvirtd answers on qemu:///system. If
#                         `virsh -c qemu:///system version` works, use that
#                         daemon. Otherwise (root only) create /run/libvirt
#                         and /var/log/libvirt, start virtlogd and libvirtd
#                         daemonized, and wait (at most
#                         $SEALBOOT_LIBVIRT_TIMEOUT s, default 30) until virsh
#                         answers. Sets LIBVIRT_STARTED to the daemons this
#                         test started ("" when it found one running). Skips
#                         (common.sh) when libvirt is not installed or cannot
#                         be started by this user.
#   libvirt_scratch       a scratch dir libvirt-qemu can read
#                         (LIBVIRT_SCRATCH, removed on exit; see below)
#   libvirt_domain_name [TAG]
#                         a unique domain name "sealboot-test-TAG-PID-N" in
#                         ($SEALBOOT_LIBVIRT_PREFIX replaces "sealboot-test-")
#                         LIBVIRT_DOMAIN; on exit (also TERM, INT, HUP) that
#                         domain is destroyed and undefined if it exists.
#                         Call it before `virsh create`/`define`.
#   libvirt_tiny_xml NAME GUESTDIR CONSOLE [CMDLINE-EXTRA] [DEVICES-XML]
#                         print a minimal TCG domain (type 'qemu', q35, 256
#                         MiB, 1 vCPU, direct kernel boot of GUESTDIR from
#                         make-tiny-guest, serial 0 to the file CONSOLE, no
#                         USB, no balloon, no graphics; on_poweroff, on_reboot
#                         and on_crash destroy). DEVICES-XML is added inside
#                         <devices>.
#   libvirt_wait_console FILE PATTERN SECONDS [DOMAIN]
#                         wait until a line of FILE matches the grep -E
#                         PATTERN; returns 1 on timeout, 2 when DOMAIN went
#                         away first (checked once a second)
#   virsh_sys ARGS...     virsh -c qemu:///system, bounded by a timeout
#
# Daemons: a libvirtd this test started is left running at exit, on
# purpose: the next libvirt test of the same run finds it answering and does
# not pay the start again, and a daemon stopped under a concurrent test
# (meson runs tests in parallel) would kill that test's guests. A daemon the
# test did not start is never touched (nor is the lock fd left to the
# daemons: they would hold the lock for their lifetime). SEALBOOT_LIBVIRT_STOP=1 stops at exit
# the daemons this test started (by the PIDs in their pid files). Starting
# is serialized with flock on /run/sealboot-libvirt.lock, so two tests never
# start two daemons.
#
# Files the guest uses: QEMU runs as libvirt-qemu (qemu.conf: user), and with
# dynamic_ownership (the default) libvirt chowns the kernel, initrd, disks
# and the serial console file to it while the domain runs; what libvirt
# cannot fix is the path leading to them: every parent directory must let
# libvirt-qemu through (x). A mktemp -d dir is 0700, so libvirt_scratch
# makes its dir under /var/lib/libvirt/images (0711, libvirt's own place for
# images; override with SEALBOOT_LIBVIRT_SCRATCH_BASE) with mode 0755, and
# falls back to $TMPDIR (0755 too) when that is not writable. Files in it
# should be 0644 (make-tiny-guest writes them so).
#
# Guests are TCG (domain type 'qemu'): KVM guests fail or hang on some of
# our CI hosts, and a Debian kernel with a busybox initramfs boots to its
# /init in about 6 s under TCG.

LIBVIRT_URI=qemu:///system
LIBVIRT_TIMEOUT=${SEALBOOT_LIBVIRT_TIMEOUT:-30}
LIBVIRT_STARTED=''
LIBVIRT_DOMAINS=''
LIBVIRT_SCRATCH=''
LIBVIRT__TRAPPED=''
LIBVIRT__SEQ=0

virsh_sys() {
	timeout 60 virsh -q -c "$LIBVIRT_URI" "$@"
}

libvirt__answers() {
	timeout 10 virsh -c "$LIBVIRT_URI" version >/dev/null 2>&1
}

# pid file -> live pid, or nothing
libvirt__pid() { # PIDFILE
	local p
	# (libvirt writes the pid without a newline: no `read`)
	p=$(cat "$1" 2>/dev/null) || return 0
	p=${p//[!0-9]/}
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"
	return 0
}

libvirt__on_signal() { # EXITCODE
	trap - TERM INT HUP
	exit "$1" # runs the EXIT trap
}

# Install our EXIT handler once, chained onto the caller's (as swtpm.sh).
libvirt__trap() {
	[ -z "$LIBVIRT__TRAPPED" ] || return 0
	LIBVIRT__TRAPPED=1
	trap 'libvirt__on_signal 143' TERM
	trap 'libvirt__on_signal 130' INT
	trap 'libvirt__on_signal 129' HUP
	local prev
	eval "set -- $(trap -p EXIT)"
	prev=${3:-}
	# shellcheck disable=SC2064 # the caller's handler is taken now
	trap "libvirt__cleanup${prev:+; $prev}" EXIT
}

libvirt__cleanup() {
	local d
	for d in $LIBVIRT_DOMAINS; do
		if virsh_sys domstate "$d" >/dev/null 2>&1; then
			virsh_sys destroy "$d" >/dev/null 2>&1 || true
			virsh_sys undefine --nvram "$d" >/dev/null 2>&1 ||
				virsh_sys undefine "$d" >/dev/null 2>&1 || true
			if virsh_sys domstate "$d" >/dev/null 2>&1; then
				echo "libvirt.sh: warning: could not remove domain $d" >&2
			fi
		fi
	done
	LIBVIRT_DOMAINS=''
	if [ -n "$LIBVIRT_SCRATCH" ]; then
		rm -rf "$LIBVIRT_SCRATCH"
		LIBVIRT_SCRATCH=''
	fi
	if [ "${SEALBOOT_LIBVIRT_STOP:-0}" = 1 ] && [ -n "$LIBVIRT_STARTED" ]; then
		libvirt_down
	fi
}

# Stop the daemons this test started (never others).
libvirt_down() {
	local d pid
	for d in $LIBVIRT_STARTED; do
		pid=$(libvirt__pid "/run/$d.pid")
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	LIBVIRT_STARTED=''
}

libvirt_up() {
	command -v virsh >/dev/null ||
		skip "virsh is not installed (apt-get install libvirt-clients libvirt-daemon-system)"
	libvirt__trap
	if libvirt__answers; then
		return 0
	fi
	if ! command -v libvirtd >/dev/null || ! command -v virtlogd >/dev/null; then
		skip "no libvirtd answers on $LIBVIRT_URI and libvirtd/virtlogd are not installed (apt-get install libvirt-daemon-system)"
	fi
	[ "$(id -u)" = 0 ] ||
		skip "no libvirtd answers on $LIBVIRT_URI and starting one needs root"
	id libvirt-qemu >/dev/null 2>&1 ||
		skip "user libvirt-qemu does not exist (libvirt-daemon-system's postinst makes it)"
	[ -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so ] ||
		[ ! -d /usr/lib/x86_64-linux-gnu/libvirt/connection-driver ] ||
		skip "libvirt's QEMU driver is not installed (apt-get install libvirt-daemon-driver-qemu)"
	command -v flock >/dev/null || skip "flock is not installed (apt-get install util-linux)"

	mkdir -p /run/libvirt /var/log/libvirt /var/lib/libvirt/images
	local fd t0=$SECONDS
	exec {fd}>/run/sealboot-libvirt.lock
	flock -w "$LIBVIRT_TIMEOUT" "$fd" || fail "libvirt_up: /run/sealboot-libvirt.lock held for $LIBVIRT_TIMEOUT s"
	# Another test may have started it while we waited for the lock.
	if ! libvirt__answers; then
		# A daemon that runs but does not answer yet is waited for,
		# never replaced.
		if [ -z "$(libvirt__pid /run/virtlogd.pid)" ]; then
			virtlogd -d </dev/null >/dev/null 2>&1 {fd}>&- ||
				fail "libvirt_up: virtlogd -d failed (exit $?)"
			LIBVIRT_STARTED="$LIBVIRT_STARTED virtlogd"
		fi
		if [ -z "$(libvirt__pid /run/libvirtd.pid)" ]; then
			# Without systemd or syslog its messages would be
			# lost: they go to a file.
			LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log" \
				libvirtd -d </dev/null >/dev/null 2>&1 {fd}>&- ||
				fail "libvirt_up: libvirtd -d failed (exit $?); see /var/log/libvirt/libvirtd.log"
			LIBVIRT_STARTED="$LIBVIRT_STARTED libvirtd"
		fi
		while ! libvirt__answers; do
			if [ $((SECONDS - t0)) -ge "$LIBVIRT_TIMEOUT" ]; then
				echo "--- virsh -c $LIBVIRT_URI version:" >&2
				timeout 10 virsh -c "$LIBVIRT_URI" version >&2 || true
				echo "--- /var/log/libvirt/libvirtd.log (last 20 lines):" >&2
				tail -n 20 /var/log/libvirt/libvirtd.log >&2 2>/dev/null || true
				exec {fd}>&-
				fail "libvirt_up: no answer on $LIBVIRT_URI after $LIBVIRT_TIMEOUT s"
			fi
			[ -n "$(libvirt__pid /run/libvirtd.pid)" ] || {
				echo "--- /var/log/libvirt/libvirtd.log (last 20 lines):" >&2
				tail -n 20 /var/log/libvirt/libvirtd.log >&2 2>/dev/null || true
				exec {fd}>&-
				fail "libvirt_up: libvirtd exited"
			}
			sleep 0.2
		done
		LIBVIRT_STARTED=${LIBVIRT_STARTED# }
		[ -z "$LIBVIRT_STARTED" ] ||
			echo "libvirt_up: started $LIBVIRT_STARTED in $((SECONDS - t0)) s (left running; SEALBOOT_LIBVIRT_STOP=1 stops them at exit)"
	fi
	exec {fd}>&-
}

libvirt_scratch() {
	local base=${SEALBOOT_LIBVIRT_SCRATCH_BASE:-/var/lib/libvirt/images}
	[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
	libvirt__trap
	LIBVIRT_SCRATCH=$(mktemp -d "$base/sealboot-test.XXXXXX") ||
		fail "libvirt_scratch: cannot make a directory in $base"
	chmod 0755 "$LIBVIRT_SCRATCH"
	# Every parent must let libvirt-qemu through.
	if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ] && id libvirt-qemu >/dev/null 2>&1; then
		setpriv --reuid libvirt-qemu --regid "$(id -g libvirt-qemu)" --clear-groups \
			test -x "$LIBVIRT_SCRATCH" ||
			fail "libvirt_scratch: libvirt-qemu cannot reach $LIBVIRT_SCRATCH (a parent directory is closed to it)"
	fi
}

libvirt_domain_name() { # [TAG]
	LIBVIRT__SEQ=$((LIBVIRT__SEQ + 1))
	LIBVIRT_DOMAIN="${SEALBOOT_LIBVIRT_PREFIX:-sealboot-test-}${1:-guest}-$$-$LIBVIRT__SEQ"
	LIBVIRT_DOMAINS="$LIBVIRT_DOMAINS $LIBVIRT_DOMAIN"
	libvirt__trap
}

libvirt_tiny_xml() { # NAME GUESTDIR CONSOLE [CMDLINE-EXTRA] [DEVICES-XML]
	local cmdline
	cmdline=$(cat "$2/cmdline") || fail "libvirt_tiny_xml: no $2/cmdline (tests/lib/make-tiny-guest)"
	cat <<XML
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$2/vmlinuz</kernel>
    <initrd>$2/initrd.img</initrd>
    <cmdline>$cmdline${4:+ $4}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='$3'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
${5:-}
  </devices>
</domain>
XML
}

libvirt_wait_console() { # FILE PATTERN SECONDS [DOMAIN]
	local file=$1 pattern=$2 limit=$3 dom=${4:-} t0=$SECONDS last=$SECONDS
	while :; do
		if [ -f "$file" ] && tr -d '\r' <"$file" | grep -qE "$pattern"; then
			return 0
		fi
		[ $((SECONDS - t0)) -lt "$limit" ] || return 1
		if [ -n "$dom" ] && [ "$SECONDS" != "$last" ]; then
			last=$SECONDS
			if ! virsh_sys domstate "$dom" >/dev/null 2>&1; then
				# It may have written the line just before it went.
				[ -f "$file" ] && tr -d '\r' <"$file" | grep -qE "$pattern" && return 0
				return 2
			fi
		fi
		sleep 0.1
	done
}
