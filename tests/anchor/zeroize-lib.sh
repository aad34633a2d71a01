# Sourced by the zeroize tests after lib.sh: an appliance provisioned with a
# recovery keyslot, a fake launcher, and helpers around challenge, order and
# wipe.
#
#   zsetup            appliance_setup, then the volume re-made with a
#                     recovery passphrase ($RECOVERY), a good boot, and copies
#                     of what an attacker would keep: $A/saved (state dir,
#                     the volume's first 16 MiB with its header and token,
#                     the good boot's event log)
#   challenge         $A/ch.json
#   authorize OUT [ARGS]   an order from $A/ch.json signed by the zeroize key
#   zeroize ORDER [ARGS]   ZRC, $A/z.out (receipt), $A/z.err
#   expect_refused RC PATTERN ORDER   refused, nothing erased
#   nothing_erased    the volume, its token and recovery key, the state, the
#                     NV record are all still there, and no journal
#   expect_wiped      every post-condition of a finished zeroize
#   replay_good_pcrs  reboot the TPM and extend PCR 15 as the good boot did
#                     up to the unseal (stock tpm2_pcrextend)
#   restore_header    the saved header (with its token) back onto the volume


zsetup() {
	appliance_setup
	ZLAUNCHER=$A/launcher
	need cryptsetup tpm2_getcap tpm2_pcrextend tpm2_createprimary tpm2_load base64
	rm -f "$A/data.img"
	truncate -s 32M "$A/data.img"
	"$ADMIN" provision --key "$A/admin.pem" --format data --recovery-key "$A/state" \
		>"$A/recovery" 2>"$A/admin.err" || fail "provision: $(cat "$A/admin.err")"
	RECOVERY=$(cat "$A/recovery")
	[ -n "$RECOVERY" ] || fail "no recovery key printed"
	cat >"$ZLAUNCHER" <<SH
#!/bin/sh
echo "\$*" >>"$A/launcher.log"
exit \${LAUNCHER_RC:-7}
SH
	chmod +x "$ZLAUNCHER"
	boot
	[ "$BOOT_RC" = 0 ] || fail "the good boot failed: $(cat "$A/boot.out")"
	mkdir -p "$A/saved"
	cp -a "$A/state" "$A/saved/state"
	dd if="$A/data.img" of="$A/saved/header" bs=1M count=16 status=none
	cp "$A/run/eventlog.jsonl" "$A/saved/eventlog.jsonl"
}

challenge() {
	"$ANCHOR" zeroize-challenge --state "$A/state" >"$A/ch.json" 2>"$A/ch.err" ||
		fail "zeroize-challenge: $(cat "$A/ch.err")"
}

authorize() { # OUT [ARGS...]
	local out=$1
	shift
	"$ADMIN" zeroize-authorize --key "$A/zeroize.pem" --challenge "$A/ch.json" --out "$out" \
		"$@" >"$A/auth.out" 2>&1 || fail "zeroize-authorize: $(cat "$A/auth.out")"
}

zeroize() { # ORDER [ARGS...]
	local order=$1
	shift
	ZRC=0
	"$ANCHOR" zeroize --order "$order" --state "$A/state" --run "$A/run" \
		--launcher "$ZLAUNCHER" "$@" >"$A/z.out" 2>"$A/z.err" || ZRC=$?
}

# sealboot-anchor boot with the test's launcher (what finishes a journal).
expect_zboot() { # RC PATTERN
	BOOT_RC=0
	"$ANCHOR" boot --state "$A/state" --run "$A/run" --launcher "$ZLAUNCHER" >"$A/boot.out" 2>&1 ||
		BOOT_RC=$?
	[ "$BOOT_RC" = "$1" ] || fail "boot exit $BOOT_RC, want $1: $(cat "$A/boot.out")"
	grep -qF -- "$2" "$A/boot.out" || fail "boot output lacks '$2': $(cat "$A/boot.out")"
	echo "ok: boot exit $1: $(tail -1 "$A/boot.out")"
}

nothing_erased() {
	[ ! -e "$A/state/zeroize.journal" ] || fail "a refused order left a journal"
	cryptsetup isLuks "$A/data.img" || fail "the volume's header is gone"
	printf %s "$RECOVERY" | cryptsetup open --test-passphrase --key-file - "$A/data.img" ||
		fail "the recovery passphrase no longer opens the volume"
	[[ "$(cryptsetup token export --token-id 0 "$A/data.img")" == *sealboot-tpm2* ]] ||
		fail "the volume's token is gone"
	for f in policy.json policy.json.sig admin.pub pcr-policy.json; do
		[ -f "$A/state/$f" ] || fail "$f was removed"
	done
	local nv
	nv=$(tpm2_getcap handles-nv-index)
	grep -qi 0x1a5b000 <<<"$nv" || fail "the NV record is gone: $nv"
}

expect_refused() { # RC PATTERN ORDER [ARGS...]
	local rc=$1 pat=$2
	shift 2
	zeroize "$@"
	[ "$ZRC" = "$rc" ] || fail "zeroize $*: exit $ZRC, want $rc: $(cat "$A/z.err")"
	grep -qF -- "$pat" "$A/z.err" || fail "zeroize $*: no '$pat' in: $(cat "$A/z.err")"
	nothing_erased
	echo "ok: refused ($rc): $(tail -1 "$A/z.err")"
}

# The real key still comes out of the TPM and opens the volume: a full
# boot from fresh PCRs.
expect_still_opens() {
	swtpm_reboot
	rm -rf "$A/run"
	mkdir -m 700 "$A/run"
	boot
	[ "$BOOT_RC" = 0 ] || fail "after refused orders the appliance no longer boots: $(cat "$A/boot.out")"
	echo "ok: the real key still opens the volume (boot 0)"
}

expect_wiped() {
	local nv
	[ ! -e "$A/state/zeroize.journal" ] || fail "the journal is still there"
	! cryptsetup isLuks "$A/data.img" || fail "cryptsetup isLuks still finds a header"
	! printf %s "$RECOVERY" | cryptsetup open --test-passphrase --key-file - "$A/data.img" 2>/dev/null ||
		fail "the recovery passphrase still opens the volume"
	# Both header copies, JSON areas and the keyslot area are zero.
	cmp -s -n 16777216 "$A/data.img" /dev/zero || fail "the header area is not all zero"
	nv=$(tpm2_getcap handles-nv-index | grep -ci 0x1a5b0 || true)
	[ "$nv" = 0 ] || fail "sealboot NV indices left: $(tpm2_getcap handles-nv-index)"
	[ -z "$(tpm2_getcap handles-persistent)" ] || fail "persistent objects left"
	for f in policy.json policy.json.sig admin.pub pcr-policy.json anchor-record; do
		[ ! -e "$A/state/$f" ] || fail "$f survived"
	done
	[ ! -e "$A/bundles/os" ] || fail "the bundle survived"
	[ -s "$A/state/zeroize-receipt.json" ] || fail "no receipt"
	local rc=0 out
	out=$("$ANCHOR" status --run "$A/run") || rc=$?
	[ "$rc" = 12 ] && [ "$out" = "sealboot: zeroized: ready for provisioning" ] ||
		fail "status after zeroize: $rc $out"
	echo "ok: wiped: no LUKS header, recovery key refused, header area zero, no sealboot NV index or persistent object, state removed, status 12"
}

# Extend PCR 15 as the good boot did up to the unseal: every PCR 15 record
# before the first volume event of the saved log.
replay_good_pcrs() {
	swtpm_reboot
	awk '/"content":"sealboot volume / { exit }
	     /"pcr":15,/ { match($0, /"digest":"[0-9a-f]+"/); print substr($0, RSTART + 10, 64) }' \
		"$A/saved/eventlog.jsonl" >"$A/replay"
	[ -s "$A/replay" ] || fail "nothing to replay"
	while read -r dg; do
		tpm2_pcrextend "15:sha256=$dg" || fail "tpm2_pcrextend"
	done <"$A/replay"
}

restore_header() {
	dd if="$A/saved/header" of="$A/data.img" bs=1M conv=notrunc status=none
	rm -rf "$A/state.good"
	cp -a "$A/saved/state" "$A/state.good"
	cp "$A/data.img" "$A/data.good"
}

# Stock tpm2-tools: re-create the storage primary from the template
# (docs/pcrs.md) and load the saved token's sealed object under it. LOAD_RC
# 0 when the TPM accepts the blob.
stock_load() {
	local tok pub priv
	tok=$(cryptsetup token export --token-id 0 "$A/data.good")
	pub=$(sed -E 's/.*"tpm2_public": *"([^"]*)".*/\1/' <<<"$tok")
	priv=$(sed -E 's/.*"tpm2_private": *"([^"]*)".*/\1/' <<<"$tok")
	base64 -d <<<"$pub" >"$A/sealed.pub"
	base64 -d <<<"$priv" >"$A/sealed.priv"
	tpm2_createprimary -Q -C o -g sha256 -G ecc256:aes128cfb \
		-a "restricted|decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda" \
		-c "$A/prim.ctx" || fail "tpm2_createprimary"
	LOAD_RC=0
	tpm2_load -Q -C "$A/prim.ctx" -u "$A/sealed.pub" -r "$A/sealed.priv" -c "$A/sealed.ctx" \
		2>"$A/load.err" || LOAD_RC=$?
	tpm2_flushcontext -t >/dev/null 2>&1 || true
}
