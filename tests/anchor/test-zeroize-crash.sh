#!/bin/bash
# Power cuts during a zeroize: for every step k, the test-only zeroize-crash
# program SIGKILLs itself right after step k's action, before the journal
# records it, and the TPM loses power too (swtpm killed, no Shutdown). The
# next `sealboot-anchor boot` (even k) or rerun of `zeroize` (odd k)
# finishes the wipe first, and every post-condition holds. Whenever the
# journal exists past step 1, a saved header with its token and the good
# PCR state gets nothing from the TPM.
#
# Then the control that shows what the TPM clear buys: stopped after the
# volume was wiped, a saved copy of its header (token included) with the
# signed PCR policy and the replayed good PCRs releases the key when the
# order kept the TPM, and nothing when it cleared it; stock tpm2_load
# agrees.
set -eu
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"
. "$SEALBOOT_SRC/tests/anchor/lib.sh"
CRASH=${SEALBOOT_ZEROIZE_CRASH:?}

crash_at() { # STEP ORDER: run to step STEP, then the power goes
	local rc=0 keep
	"$CRASH" "$1" "$2" "$A/state" "$A/run" "$A/launcher" >"$A/crash.out" 2>&1 || rc=$?
	[ "$rc" = 137 ] || fail "zeroize-crash $1: exit $rc, want 137 (SIGKILL): $(cat "$A/crash.out")"
	keep=$SWTPM_STATE
	swtpm_kill
	swtpm_start "$keep"
}

LAST=6 # one volume: 1 tpm, 2 guests, 3 volume, 4 nv, 5 files, 6 receipt
for k in $(seq 0 $LAST); do
	(
		echo "== power cut after step $k"
		. "$SEALBOOT_SRC/tests/anchor/zeroize-lib.sh"
		zsetup
		challenge
		authorize "$A/order"
		crash_at "$k" "$A/order"
		if [ "$k" -lt "$LAST" ]; then
			[ -e "$A/state/zeroize.journal" ] || fail "no journal after a cut at step $k"
			grep -q "\"done\":$((k > 0 ? k - 1 : 0))," "$A/state/zeroize.journal" ||
				fail "journal after step $k: $(cat "$A/state/zeroize.journal")"
			! grep -qi 'passphrase\|"key"' "$A/state/zeroize.journal" || fail "journal holds a secret?"
		fi
		if [ "$k" -ge 1 ]; then
			# The TPM step ran: a saved header gets nothing, at any later point.
			cp "$A/data.img" "$A/data.now"
			restore_header
			replay_good_pcrs
			expect_locked
			cp "$A/data.now" "$A/data.img"
		fi
		if [ $((k % 2)) = 0 ]; then
			rm -rf "$A/run" && mkdir -m 700 "$A/run"
			expect_zboot 12 "zeroized: ready for provisioning"
		else
			zeroize "$A/order"
			[ "$ZRC" = 0 ] || fail "rerun after step $k: $ZRC $(cat "$A/z.err")"
			[ "$k" = "$LAST" ] || grep -q "finishing the zeroize the journal records" "$A/z.err" ||
				fail "the rerun did not resume: $(cat "$A/z.err")"
		fi
		expect_wiped
		restore_header
		replay_good_pcrs
		expect_locked
		echo "ok: cut after step $k: finished by the $([ $((k % 2)) = 0 ] && echo boot || echo rerun), post-conditions hold"
	)
done

for mode in keep clear; do
	(
		echo "== control: the saved header after the volume wipe, TPM ${mode}"
		. "$SEALBOOT_SRC/tests/anchor/zeroize-lib.sh"
		zsetup
		challenge
		if [ "$mode" = keep ]; then authorize "$A/order" --keep-tpm; else authorize "$A/order"; fi
		crash_at 3 "$A/order"
		! cryptsetup isLuks "$A/data.img" || fail "the volume was not wiped at step 3"
		restore_header
		replay_good_pcrs
		rc=0
		"$PROBE" "$A/state.good" "$A/data.good" >"$A/probe.out" 2>&1 || rc=$?
		stock_load
		if [ "$mode" = keep ]; then
			[ "$rc" = 0 ] && grep -q RELEASED "$A/probe.out" ||
				fail "control: without the clear the saved header should unseal: $rc $(cat "$A/probe.out")"
			[ "$LOAD_RC" = 0 ] || fail "control: stock tpm2_load refused: $(cat "$A/load.err")"
			echo "ok: control: TPM kept, the saved header releases the key (probe RELEASED, tpm2_load accepts the blob)"
		else
			[ "$rc" = 3 ] || fail "cleared: the saved header was released: $rc $(cat "$A/probe.out")"
			[ "$LOAD_RC" != 0 ] || fail "cleared: stock tpm2_load accepted the blob"
			echo "ok: TPM cleared, the same restore gets nothing (probe refused, tpm2_load refused)"
		fi
		cp "$A/saved/header" /dev/null
		dd if=/dev/zero of="$A/data.img" bs=1M count=16 conv=notrunc status=none
		zeroize "$A/order"
		[ "$ZRC" = 0 ] || fail "finishing: $ZRC $(cat "$A/z.err")"
		grep -q "\"tpm_cleared\": $([ "$mode" = keep ] && echo false || echo true)" "$A/z.out" ||
			fail "receipt: $(cat "$A/z.out")"
	)
done

(
	echo "== a guest that cannot be stopped halts the wipe after the TPM step"
	. "$SEALBOOT_SRC/tests/anchor/zeroize-lib.sh"
	zsetup
	challenge
	authorize "$A/order"
	LAUNCHER_RC=5 zeroize "$A/order"
	[ "$ZRC" = 1 ] && grep -q "could not stop the guest" "$A/z.err" ||
		fail "launcher failure: $ZRC $(cat "$A/z.err")"
	grep -q '"done":1,' "$A/state/zeroize.journal" || fail "journal: $(cat "$A/state/zeroize.journal")"
	cryptsetup isLuks "$A/data.img" || fail "volumes were wiped with the guest still running"
	rm -rf "$A/run" && mkdir -m 700 "$A/run"
	LAUNCHER_RC=5 expect_zboot 9 "a zeroize was interrupted and could not be finished"
	swtpm_reboot
	rm -rf "$A/run" && mkdir -m 700 "$A/run"
	: >"$A/launcher.log"
	LAUNCHER_RC=0 expect_zboot 12 "zeroized: ready for provisioning"
	grep -qx "stop" "$A/launcher.log" || fail "the boot did not stop the guest"
	expect_wiped
	echo "ok: launcher failure: exit 1, journal at step 1, boot refuses (9) until the guest stops, then finishes (12)"
)

(
	echo "== a disk pulled during the wipe; a journal that names a program"
	. "$SEALBOOT_SRC/tests/anchor/zeroize-lib.sh"
	zsetup
	challenge
	authorize "$A/order"
	crash_at 0 "$A/order"
	mv "$A/data.img" "$A/pulled.img"
	# A journal may not choose what the anchor runs: an extra member is refused.
	cp "$A/state/zeroize.journal" "$A/journal.real"
	sed 's/"done":0,/"done":0,"launcher":"\/bin\/sh",/' "$A/journal.real" >"$A/state/zeroize.journal"
	rm -rf "$A/run" && mkdir -m 700 "$A/run"
	expect_zboot 9 'zeroize journal: unknown member "launcher"'
	cp "$A/journal.real" "$A/state/zeroize.journal"
	zeroize "$A/order"
	[ "$ZRC" = 0 ] || fail "rerun with the disk gone: $ZRC $(cat "$A/z.err")"
	grep -q '"data_area": "absent"' "$A/z.out" || fail "receipt: $(cat "$A/z.out")"
	grep -q '"verified": "device absent: not erased here"' "$A/z.out" || fail "receipt: $(cat "$A/z.out")"
	echo "ok: a pulled disk is recorded absent and the wipe finishes; a journal with a program in it is refused"
)
