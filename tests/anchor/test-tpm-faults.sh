#!/bin/bash
# The TPM stops answering at every point of a boot. A proxy in front of
# swtpm (tests/lib/tpm-proxy) counts the TPM commands of a good boot (N),
# then for every k in 1..N it kills swtpm right after the k-th response.
# Each k: the verdict is "no TPM answers" (exit 8) naming the step, no
# handoff, the status says exit 8; and the same TPM, powered on again
# (a fresh swtpm on the same state), boots fine. At k = N the boot has had
# every answer it needs: it succeeds, and that is the right verdict.
set -eu
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"
. "$SEALBOOT_SRC/tests/anchor/lib.sh"
PROXY=${SEALBOOT_TPM_PROXY:?}

appliance_setup
DIRECT_TCTI=$SEALBOOT_TCTI
PROXY_PID=

proxy_start() { # [--cut-after K --kill PID]
	rm -f "$A/proxy.port" "$A/proxy.out"
	"$PROXY" --upstream "$SWTPM_PORT" --port-file "$A/proxy.port" "$@" >"$A/proxy.out" 2>&1 &
	PROXY_PID=$!
	for _ in $(seq 1 200); do
		[ -s "$A/proxy.port" ] && break
		sleep 0.01
	done
	[ -s "$A/proxy.port" ] || fail "the proxy did not start: $(cat "$A/proxy.out")"
	export SEALBOOT_TCTI="swtpm:host=127.0.0.1,port=$(cat "$A/proxy.port")"
}

proxy_stop() { # $A/proxy.out: "commands N responses M"
	kill -TERM "$PROXY_PID"
	wait "$PROXY_PID" || fail "the proxy failed: $(cat "$A/proxy.out")"
	PROXY_PID=
	export SEALBOOT_TCTI=$DIRECT_TCTI
}
trap '[ -z "$PROXY_PID" ] || kill "$PROXY_PID" 2>/dev/null || true; swtpm_stop; rm -rf "$SCRATCH"' EXIT

reset_run() {
	rm -rf "$A/run"
	mkdir -m 700 "$A/run"
}

# Power back on: a fresh simulator on the state the dead one left.
power_on() {
	local keep=$SWTPM_STATE
	swtpm_kill
	SWTPM_STATE=
	swtpm_start "$keep"
	DIRECT_TCTI=$SEALBOOT_TCTI
}

# The TPM as it was right after provisioning (RESTORE) or keep a copy of it
# (SAVE): every k then runs the first boot after provisioning, the one with
# the most TPM commands (it also raises the rollback floor).
tpm_state() { # save|restore
	local keep=$SWTPM_STATE
	SWTPM_STATE=
	swtpm_stop
	if [ "$1" = save ]; then
		cp -a "$keep" "$A/tpm.provisioned"
	else
		rm -rf "$keep"
		cp -a "$A/tpm.provisioned" "$keep"
	fi
	swtpm_start "$keep"
	DIRECT_TCTI=$SEALBOOT_TCTI
}
tpm_state save

echo "== a good boot through the proxy: how many TPM commands"
reset_run
proxy_start
expect_boot 0 "OK"
proxy_stop
counts=$(head -1 "$A/proxy.out")
echo "the boot's TPM commands in order: $(sed -n 's/^order //p' "$A/proxy.out")"
n=$(echo "$counts" | sed -n 's/^commands \([0-9]*\) responses \([0-9]*\)$/\2/p')
[ -n "$n" ] && [ "$n" -ge 10 ] || fail "proxy counts: $counts"
echo "ok: a boot is $counts"

start=$SECONDS
released=0
for k in $(seq "${FIRST_K:-1}" "$n"); do
	tpm_state restore
	reset_run
	proxy_start --cut-after "$k" --kill "$SWTPM_PID"
	# (bash reports the simulator the proxy killed while it waits here)
	{ boot; } 2>/dev/null
	proxy_stop
	out=$(cat "$A/boot.out")
	if [ "$k" = "$n" ]; then
		[ "$BOOT_RC" = 0 ] || fail "k=$k (after the last answer): exit $BOOT_RC: $out"
		echo "ok: k=$k: the TPM died after the boot's last command; the boot had what it needed: $(grep -m1 OK <<<"$out")"
	else
		[ "$BOOT_RC" = 8 ] || fail "k=$k: exit $BOOT_RC, want 8: $out"
		line=$(grep -m1 'FAILED' <<<"$out") || fail "k=$k: no FAILED line: $out"
		[[ "$line" =~ ^sealboot-anchor:\ FAILED\ \((tpm|policy|bundle|rollback|unseal|volume|cap)\):\ [a-zA-Z].*:\ no\ TPM\ answers\ at\  ]] ||
			fail "k=$k: the verdict does not say 'no TPM answers' with a step: $line"
		[ ! -e "$A/run/handoff.json" ] || fail "k=$k: a handoff after the TPM died"
		# A key the TPM released before it died: said so, and that the
		# failure could not be measured (no TPM to measure it into).
		if grep -q "the TPM released" <<<"$out"; then
			grep -q "were wiped from memory; the failure could not be measured (the TPM did not answer)" <<<"$out" &&
				! grep -q "no key was released" <<<"$out" || fail "k=$k: what happened to the key: $out"
			released=$((released + 1))
		else
			grep -q "no key was released; the appliance stays locked" <<<"$out" || fail "k=$k: $out"
		fi
		rc=0
		st=$("$ANCHOR" status --run "$A/run") || rc=$?
		[ "$rc" = 8 ] && [[ "$st" == "sealboot: FAILED at "*" (exit 8): "*"no TPM answers"* ]] ||
			fail "k=$k: status exit $rc: $st"
		echo "ok: k=$k: exit 8: ${line#sealboot-anchor: }"
	fi
	# The same TPM powered on again boots, from the same state.
	power_on
	reset_run
	boot
	[ "$BOOT_RC" = 0 ] || fail "k=$k: the boot after the TPM came back failed: $(cat "$A/boot.out")"
	[ -f "$A/run/handoff.json" ] || fail "k=$k: no handoff after a good boot"
done
[ "$released" -gt 0 ] || fail "no cut came after the TPM released the key"
echo "ok: k=1..$n: every cut before the last answer gave exit 8 ($released after the key was released) and the next boot worked ($((SECONDS - start)) s)"
echo "PASS"
