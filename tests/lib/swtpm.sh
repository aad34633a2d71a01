# Sourced by shell tests (after common.sh): a fresh swtpm per test.
#
#   swtpm_start   start a TPM 2.0 simulator with its state in a private temp
#                 dir, on a random free TCP port pair P (commands) and P+1
#                 (control), and wait until it answers. Sets SWTPM_PID,
#                 SWTPM_PORT, SWTPM_STATE; exports SEALBOOT_TCTI and
#                 TPM2TOOLS_TCTI. Stops it again on exit, also on TERM, INT
#                 and HUP (an EXIT trap set before swtpm_start still runs).
#   swtpm_stop    send TPM2_Shutdown, stop the simulator, remove its state.
#   swtpm_port_free PORT   true when nothing listens on 127.0.0.1:PORT.
#
# One simulator per shell; start several from subshells. Skips (common.sh)
# when swtpm or ss is missing.

SWTPM_TRIES=${SWTPM_TRIES:-20}

swtpm_port_free() { # PORT
	[ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# The TPM answers a command (swtpm is up and this port is really ours).
swtpm__answers() { # TCTI
	if command -v tpm2_getrandom >/dev/null; then
		timeout 5 tpm2_getrandom -T "$1" 8 >/dev/null 2>&1
	else
		true # listening is all we can check without tpm2-tools
	fi
}

swtpm__on_signal() { # EXITCODE
	trap - TERM INT HUP
	exit "$1" # runs the EXIT trap, which stops the simulator
}

swtpm_start() { # [STATE_DIR]
	local keep_state=${1:-}
	command -v swtpm >/dev/null || skip "swtpm is not installed (apt-get install swtpm)"
	command -v ss >/dev/null || skip "ss is not installed (apt-get install iproute2)"
	[ -z "${SWTPM_PID:-}" ] || fail "swtpm_start: a simulator already runs in this shell"

	# A signal ends the test through its EXIT trap.
	trap 'swtpm__on_signal 143' TERM
	trap 'swtpm__on_signal 130' INT
	trap 'swtpm__on_signal 129' HUP
	# Chain onto an EXIT trap the caller set in this shell (e.g.
	# mkscratch). In a subshell bash shows the parent's traps, which do
	# not run here, until the subshell sets a trap of its own: the traps
	# just set make `trap -p` report only what is live in this shell, so
	# a subshell never runs its parent's cleanup early.
	local prev
	eval "set -- $(trap -p EXIT)"
	prev=${3:-}
	# shellcheck disable=SC2064 # the caller's handler is taken now
	trap "swtpm_stop${prev:+; $prev}" EXIT

	# A state dir given (swtpm_reboot) is the same TPM booting again.
	SWTPM_STATE=${keep_state:-$(mktemp -d "${TMPDIR:-/tmp}/sealboot-swtpm.XXXXXX")}
	# If this shell is SIGKILLed, the kernel still stops the simulator.
	local deathsig=()
	command -v setpriv >/dev/null && deathsig=(setpriv --pdeathsig TERM --)

	local port tcti
	for _ in $(seq 1 "$SWTPM_TRIES"); do
		# An even port in 20000..59998. Both ports are checked free
		# first; a port taken between the check and the bind (e.g. by
		# an outgoing connection) makes swtpm exit, and we retry.
		port=$((20000 + ((RANDOM << 15 | RANDOM) % 20000) * 2))
		if ! swtpm_port_free "$port" || ! swtpm_port_free $((port + 1)); then
			continue
		fi
		"${deathsig[@]}" swtpm socket --tpm2 --tpmstate dir="$SWTPM_STATE" \
			--server type=tcp,port="$port",bindaddr=127.0.0.1 \
			--ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
			--flags not-need-init,startup-clear \
			--log file="$SWTPM_STATE/log",level=1 </dev/null &
		SWTPM_PID=$!
		tcti="swtpm:host=127.0.0.1,port=$port"
		for _ in $(seq 1 100); do
			# Gone: it lost a bind race for one of the ports.
			kill -0 "$SWTPM_PID" 2>/dev/null || break
			if ! swtpm_port_free "$port" && ! swtpm_port_free $((port + 1)) &&
				swtpm__answers "$tcti" && kill -0 "$SWTPM_PID" 2>/dev/null; then
				# shellcheck disable=SC2034 # for the caller
				SWTPM_PORT=$port
				export SEALBOOT_TCTI=$tcti
				export TPM2TOOLS_TCTI=$tcti
				return 0
			fi
			sleep 0.05
		done
		kill "$SWTPM_PID" 2>/dev/null || true
		wait "$SWTPM_PID" 2>/dev/null || true
		SWTPM_PID=
		[ -n "$keep_state" ] || rm -rf "${SWTPM_STATE:?}"/*
	done
	echo "swtpm log:" >&2
	cat "$SWTPM_STATE/log" >&2 2>/dev/null || true
	fail "could not start swtpm on a free port after $SWTPM_TRIES tries"
}

swtpm_stop() {
	if [ -n "${SWTPM_PID:-}" ]; then
		if kill -0 "$SWTPM_PID" 2>/dev/null; then
			# An orderly TPM2_Shutdown, so libtpms never counts
			# this run as an unclean stop against its
			# dictionary-attack logic (docs/design.md).
			if command -v tpm2_shutdown >/dev/null; then
				timeout 5 tpm2_shutdown -T "$SEALBOOT_TCTI" >/dev/null 2>&1 || true
			fi
			kill "$SWTPM_PID" 2>/dev/null || true
			# Bounded: a simulator that ignores TERM gets KILL.
			for _ in $(seq 1 50); do
				kill -0 "$SWTPM_PID" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$SWTPM_PID" 2>/dev/null || true
		fi
		wait "$SWTPM_PID" 2>/dev/null || true
		SWTPM_PID=
	fi
	if [ -n "${SWTPM_STATE:-}" ]; then
		rm -rf "$SWTPM_STATE"
		SWTPM_STATE=
	fi
}

# The same TPM, booted again: an orderly shutdown, then a new simulator on
# the kept state (NV, seeds and counters persist; PCRs start from zero).
swtpm_reboot() {
	local keep=$SWTPM_STATE
	SWTPM_STATE=
	swtpm_stop
	swtpm_start "$keep"
}

# Pull the plug: SIGKILL, no TPM2_Shutdown. The state stays for a reboot.
swtpm_kill() {
	kill -KILL "$SWTPM_PID" 2>/dev/null || true
	wait "$SWTPM_PID" 2>/dev/null || true
	SWTPM_PID=
}
