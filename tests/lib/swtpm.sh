# Sourced: a fresh swtpm per test on a free TCP port pair.
#   swtpm_start        starts one; sets SWTPM_PID SWTPM_PORT SWTPM_STATE and
#                      exports SEALBOOT_TCTI and TPM2TOOLS_TCTI
#   swtpm_stop         TPM2_Shutdown, stop, remove the state (also on EXIT)
# Needs common.sh (skip, fail).

swtpm_port_free() { # PORT
	! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

swtpm_start() {
	command -v swtpm >/dev/null || skip "swtpm is not installed"
	command -v ss >/dev/null || skip "ss (iproute2) is not installed"
	SWTPM_STATE=$(mktemp -d "${TMPDIR:-/tmp}/sealboot-swtpm.XXXXXX")
	local try port
	for try in $(seq 1 20); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		port=$((port - port % 2))
		swtpm_port_free "$port" && swtpm_port_free $((port + 1)) || continue
		swtpm socket --tpm2 --tpmstate dir="$SWTPM_STATE" \
			--server type=tcp,port="$port",bindaddr=127.0.0.1 \
			--ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
			--flags not-need-init,startup-clear \
			--log file="$SWTPM_STATE/log",level=1 &
		SWTPM_PID=$!
		# Ready when both sockets listen; gone if it lost a bind race.
		local i
		for i in $(seq 1 100); do
			kill -0 "$SWTPM_PID" 2>/dev/null || break
			if ! swtpm_port_free "$port" && ! swtpm_port_free $((port + 1)); then
				SWTPM_PORT=$port
				export SEALBOOT_TCTI="swtpm:host=127.0.0.1,port=$port"
				export TPM2TOOLS_TCTI=$SEALBOOT_TCTI
				trap swtpm_stop EXIT
				return 0
			fi
			sleep 0.05
		done
		kill "$SWTPM_PID" 2>/dev/null || true
		wait "$SWTPM_PID" 2>/dev/null || true
	done
	fail "could not start swtpm on a free port after 20 tries"
}

swtpm_stop() {
	[ -n "${SWTPM_PID:-}" ] || return 0
	if kill -0 "$SWTPM_PID" 2>/dev/null; then
		# An orderly TPM2_Shutdown, so the simulator never counts this
		# run as an unclean stop against its dictionary-attack logic.
		command -v tpm2_shutdown >/dev/null &&
			timeout 5 tpm2_shutdown -T "$SEALBOOT_TCTI" >/dev/null 2>&1 || true
		kill "$SWTPM_PID" 2>/dev/null || true
		wait "$SWTPM_PID" 2>/dev/null || true
	fi
	rm -rf "$SWTPM_STATE"
	SWTPM_PID=
}
