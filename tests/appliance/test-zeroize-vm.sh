#!/bin/bash
# Zeroize on the appliance, on a real block device, with a power cut
# mid-wipe. The guest is booted as in test-dm-crypt.sh (OVMF direct kernel
# boot, TCG, busybox initramfs, swtpm as its TPM, /dev/vdb the LUKS2 volume,
# /dev/vda carries results back to the host); here the state directory
# lives on a third disk, an ext4 file system on /dev/vdc, so that what the
# wipe wrote survives the power cut as a disk would keep it. Boots of one
# appliance:
#   1. provision: sealboot-admin provision --format data on the guest's TPM;
#   2. good: the anchor opens the volume (dm-crypt), `cryptsetup isLuks
#      /dev/vdb` succeeds (the control for the check after the wipe), the
#      attestation key's public part (from `sealboot-anchor attest`) and a
#      zeroize challenge go to the host; the host authorizes an order with
#      the zeroize key and keeps a copy of the volume's first 16 MiB (header,
#      token, keyslots) and of the state directory, as an attacker would;
#   3. cut: the control first: PCR 15 extended as the good boot did up to
#      the unseal (raw TPM2_PCR_Extend commands built on the host from the
#      good boot's event log) and tests/anchor/probe-unseal with the state
#      and the volume's token get the key (RELEASED); then the test-only
#      zeroize-crash program runs the zeroize of the order and SIGKILLs
#      itself right after step 3 (the volume wipe), before the journal
#      records it; the host then kills QEMU (the swtpm goes with it: no
#      TPM2_Shutdown, no sync in the guest): the power cut. The volume is
#      already no LUKS device and the journal on the state disk says step 2;
#   4. finish: `sealboot-anchor boot` finishes the wipe first and exits 12
#      "zeroized: ready for provisioning" (status too); in the guest
#      `cryptsetup isLuks /dev/vdb` fails and the first MiB of /dev/vdb is
#      zero; the receipt verifies on the host with `sealboot-admin
#      zeroize-verify` against the attestation key and the order;
#   5. old key: the saved header (token included) back on the volume and the
#      saved state directory back on the state disk, on the same firmware,
#      the same replay of PCR 15: probe-unseal is refused (the TPM was
#      cleared: its storage key is not the one the key was sealed under).
#
# Environment: SEALBOOT_GUEST_KERNEL, SEALBOOT_QEMU_TIMEOUT (seconds per
# boot, default 240). Needs qemu-system-x86, ovmf, linux-image-amd64,
# busybox-static, swtpm, cryptsetup-bin, e2fsprogs.
set -eu -o pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"

ADMIN=${SEALBOOT_ADMIN:?}
ANCHOR=${SEALBOOT_ANCHOR:?}
SIGN=${SEALBOOT_SIGN:?}
CRASH=${SEALBOOT_ZEROIZE_CRASH:?}
PROBE=${SEALBOOT_PROBE:?}
PKI=$SEALBOOT_SRC/tests/fixtures/pki
UUID=5e4b0a7c-2f1d-4c3b-9a8e-1d2c3b4a5f60
BUNDLE=/sealboot/bundles/os # the guest's paths, in the signed policy
STATE=/st/sealboot          # on /dev/vdc, mounted at /st
QEMU_TIMEOUT=${SEALBOOT_QEMU_TIMEOUT:-240}
CUT_STEP=3 # one volume: 1 tpm, 2 guests, 3 volume, 4 nv, 5 files, 6 receipt

[ "$(uname -m)" = x86_64 ] || skip "the guest is x86_64 and uses this host's libraries; this is $(uname -m)"
need qemu-system-x86_64 swtpm openssl ldd awk od truncate tar setpriv mkfs.ext4 e2fsck debugfs cryptsetup
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
	skip "a static /bin/busybox is needed for the guest (apt-get install busybox-static)"
fi
KERNEL=${SEALBOOT_GUEST_KERNEL:-$(printf '%s\n' /boot/vmlinuz-* | sort -V | tail -n 1)}
[ -e "$KERNEL" ] ||
	skip "no guest kernel ${KERNEL:-/boot/vmlinuz-*} (apt-get install linux-image-amd64)"
[ -r "$KERNEL" ] || skip "cannot read $KERNEL (Debian installs it mode 0600: run as root)"
KVER=${KERNEL##*/vmlinuz-}
MODDIR=/lib/modules/$KVER
[ -r "$MODDIR/modules.dep" ] || skip "no modules for kernel $KVER in $MODDIR"
FW=/usr/share/OVMF
for f in OVMF_CODE_4M.fd OVMF_VARS_4M.fd; do
	[ -r "$FW/$f" ] || skip "no UEFI firmware $FW/$f (apt-get install ovmf)"
done
CRYPTSETUP=$(command -v cryptsetup)

# The shared appliance steps (tests/lib/appliance.sh): scratch directory,
# cleanup of QEMU and swtpm, one boot. This guest: QEMU's default CPU,
# 512 MiB, one vCPU.
. "$SEALBOOT_SRC/tests/lib/appliance.sh"
appl_setup i11-zvm
APPL_QEMU_CPU='' APPL_QEMU_MEMORY=512 APPL_QEMU_SMP=1

pem_json() { awk '{printf "%s\\n", $0}' "$1"; }

# -- the initramfs: busybox, the tools, cryptsetup, their libraries, modules --
R=$A/root
mkdir -p "$R"/{bin,proc,sys,dev,run,tmp,st,x,modules,lib64,lib/x86_64-linux-gnu}
cp /bin/busybox "$R/bin/"
for t in sh mount umount mkdir sleep cat sed grep tr head od dd tar sync insmod poweroff uname date printf dmesg wc rm cp; do
	ln -s busybox "$R/bin/$t"
done
cp "$ADMIN" "$R/bin/sealboot-admin"
cp "$ANCHOR" "$R/bin/sealboot-anchor"
cp "$CRASH" "$R/bin/zeroize-crash"
cp "$PROBE" "$R/bin/probe-unseal"
cp "$CRYPTSETUP" "$R/bin/cryptsetup"
tcti=''
for f in /usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0 /lib/x86_64-linux-gnu/libtss2-tcti-device.so.0; do
	[ -e "$f" ] && tcti=$f && break
done
[ -n "$tcti" ] || skip "libtss2-tcti-device.so.0 is not installed"
for lib in $(ldd "$ADMIN" "$ANCHOR" "$CRASH" "$PROBE" "$CRYPTSETUP" "$tcti" |
	awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u) "$tcti"; do
	cp -L "$lib" "$R/lib/x86_64-linux-gnu/"
done
cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"
declare -A loaded=()
load_module() { # PATH (as in modules.dep)
	local path=$1 dep deps
	[ -z "${loaded[$path]:-}" ] || return 0
	loaded[$path]=1
	read -ra deps < <(awk -v m="$path:" '$1 == m { $1 = ""; print }' "$MODDIR/modules.dep")
	for dep in "${deps[@]}"; do
		load_module "$dep"
	done
	case $path in
	*.ko) cp "$MODDIR/$path" "$R/modules/" ;;
	*.ko.xz) /bin/busybox xzcat "$MODDIR/$path" >"$R/modules/$(basename "$path" .xz)" ;;
	*.ko.zst)
		command -v zstd >/dev/null || skip "kernel $KVER has zstd modules and zstd is not installed"
		zstd -qdc "$MODDIR/$path" >"$R/modules/$(basename "$path" .zst)"
		;;
	*) fail "module $path: unknown compression" ;;
	esac
	basename "${path%.xz}" | sed 's/\.zst$//' >>"$R/modules/order"
}
: >"$R/modules/order"
# dm-crypt as in test-dm-crypt.sh; ext4 for the state disk (crc32c is its
# soft dependency, not in modules.dep).
for m in virtio_pci virtio_blk tpm_tis dm-mod dm-crypt aes_generic ecb xts algif_skcipher \
	crc32c_generic ext4; do
	path=$(awk -v m="$m" '{ p = $1; sub(/:$/, "", p); n = p; sub(/.*\//, "", n); sub(/\.ko.*/, "", n);
		gsub(/-/, "_", n); mm = m; gsub(/-/, "_", mm); if (n == mm) { print p; exit } }' "$MODDIR/modules.dep")
	if [ -z "$path" ]; then
		grep -q "/${m//-/[-_]}\.ko" "$MODDIR/modules.builtin" ||
			fail "kernel $KVER has no module $m"
		continue
	fi
	load_module "$path"
done

# PID 1 of the guest: one job per boot (sealboot.mode=), reports "SB KEY
# VALUE" lines on /dev/ttyS1; results for the host as a tar of /x on
# /dev/vda.
cat >"$R/init" <<'INIT'
#!/bin/sh
export PATH=/bin LD_LIBRARY_PATH=/lib/x86_64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=755 tmpfs /run
out=/dev/ttyS1
say() { echo "SB $*" >$out; }
quote() { [ -f "$2" ] && sed "s/^/SB $1 /" "$2" >$out; }
finish() {
	tar -cf /dev/vda -C /x . && say "saved"
	umount /st 2>/dev/null
	sync
	say "end"
	poweroff -f
}
mode='' nonce=''
read -r cmdline </proc/cmdline
for w in $cmdline; do
	case $w in
	sealboot.mode=*) mode=${w#*=} ;;
	sealboot.nonce=*) nonce=${w#*=} ;;
	esac
done
say "mode $mode"
while read -r m; do
	insmod "/modules/$m" 2>/tmp/insmod || { say "insmod-failed $m"; quote insmod-err /tmp/insmod; }
done </modules/order
i=0
while [ ! -c /dev/tpmrm0 ] || [ ! -b /dev/vda ] || [ ! -b /dev/vdb ] || [ ! -b /dev/vdc ]; do
	i=$((i + 1))
	[ $i -le 300 ] || { say "devices-missing"; finish; }
	sleep 0.1
done
mount -t ext4 /dev/vdc /st 2>/tmp/mnt || { say "mount-failed"; quote mount-err /tmp/mnt; finish; }
say "devices ok"
T=device:/dev/tpmrm0
anchor_boot() {
	mkdir -p -m 700 /run/sealboot
	rc=0
	sealboot-anchor boot --state /st/sealboot --run /run/sealboot --tcti $T >/tmp/out 2>&1 || rc=$?
	say "anchor-rc $rc"
	quote anchor-out /tmp/out
	rc=0
	sealboot-anchor status --run /run/sealboot --tcti $T >/tmp/out 2>&1 || rc=$?
	say "status-rc $rc"
	quote status-out /tmp/out
	[ -b /dev/mapper/data ] && say "mapper" || say "no-mapper"
}
# The attacker's replay: PCR 15 extended as the good boot did up to the
# unseal (raw TPM2_PCR_Extend commands the host built from the good boot's
# event log, written to the TPM device), then probe-unseal with the state
# dir STATE and the token on /dev/vdb. Reports probe-rc and probe-out.
replay_probe() { # STATE
	for f in /replay/*.bin; do
		exec 3<>/dev/tpmrm0
		cat "$f" >&3
		r=$(dd bs=4096 count=1 <&3 2>/dev/null | od -An -tx1 | tr -d ' \n')
		exec 3>&-
		case $r in
		8002????????00000000*) ;; # TPM_RC_SUCCESS
		*) say "extend-failed $f $r" ;;
		esac
	done
	say "replayed $(ls /replay | wc -l)"
	rc=0
	SEALBOOT_TCTI=$T probe-unseal "$1" /dev/vdb >/tmp/out 2>&1 || rc=$?
	say "probe-rc $rc"
	quote probe-out /tmp/out
}
isluks() {
	rc=0
	cryptsetup isLuks /dev/vdb >/tmp/out 2>&1 || rc=$?
	say "isluks-rc $rc"
}
case $mode in
provision)
	rc=0
	sealboot-admin provision --key /admin.pem --format data --tcti $T /st/sealboot >/tmp/out 2>&1 || rc=$?
	say "provision-rc $rc"
	quote provision-out /tmp/out
	;;
good)
	anchor_boot
	isluks
	rc=0
	sealboot-anchor attest --nonce "$nonce" --state /st/sealboot --run /run/sealboot --tcti $T \
		>/x/quote.json 2>/tmp/out || rc=$?
	say "attest-rc $rc"
	quote attest-err /tmp/out
	rc=0
	sealboot-anchor zeroize-challenge --state /st/sealboot --tcti $T >/x/challenge.json 2>/tmp/out || rc=$?
	say "challenge-rc $rc"
	quote challenge-err /tmp/out
	cp -a /st/sealboot /x/state
	cp /run/sealboot/eventlog.jsonl /x/
	;;
cut)
	# The control: before the wipe, the replay and the token release the key.
	replay_probe /st/sealboot
	rc=0
	SEALBOOT_TCTI=$T zeroize-crash "$(cat /cut-step)" /order.json /st/sealboot /run/sealboot \
		/no/launcher >/tmp/out 2>&1 || rc=$?
	say "crash-rc $rc"
	quote crash-out /tmp/out
	# The power cut: the host kills QEMU on this line. No sync, no
	# unmount, no TPM shutdown.
	say "cut"
	while :; do sleep 10; done
	;;
finish)
	anchor_boot
	isluks
	n=$(dd if=/dev/vdb bs=1M count=1 iflag=direct 2>/dev/null | tr -d '\000' | wc -c)
	say "nonzero-bytes $n"
	cp -a /st/sealboot /x/state
	;;
oldkey)
	replay_probe /st/sealboot
	[ -b /dev/mapper/data ] && say "mapper" || say "no-mapper"
	;;
*) say "unknown-mode" ;;
esac
finish
INIT
chmod 755 "$R/init"
INITRD_SIZE=$(( ($( (cd "$R" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) | wc -c) / 1048576 + 2) * 1048576 ))

# -- the appliance: admin and zeroize keys, bundle, signed policy --
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$A/admin.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$A/zeroize.pem" 2>/dev/null
openssl pkey -in "$A/zeroize.pem" -pubout -out "$A/zeroize.pub"
mkdir -p "$A/bundle"
printf 'the guest image\n' >"$A/bundle/disk.img"
"$SIGN" sign --key "$PKI/signer.key" --cert "$PKI/signer.crt" --name os --version 1 \
	--class acme-edge --payload disk:disk.img --force --no-progress "$A/bundle" \
	>/dev/null 2>"$A/err" || fail "sealboot-sign: $(cat "$A/err")"
cat >"$A/policy.json" <<JSON
{
  "format": "sealboot-appliance-policy",
  "format_version": 1,
  "appliance_class": "acme-edge",
  "serial": 1,
  "release_cas": ["$(pem_json "$PKI/release-ca.crt")"],
  "bundles": [{"name": "os", "path": "$BUNDLE", "min_version": 1}],
  "seal_pcrs": [0, 4, 7, 15],
  "volumes": [{"uuid": "$UUID", "name": "data", "purpose": "data", "device": "/dev/vdb"}],
  "guest": {"vcpus": 1, "memory_mib": 256, "network": "none", "console": "log", "rng": true, "vtpm": false},
  "zeroize_key": "$(pem_json "$A/zeroize.pub")"
}
JSON
mkdir -p "$A/st/sealboot"
chmod 700 "$A/st/sealboot"
# Not PCR 9: the initrd carries per-boot data (the bundle, the order, the
# boot's mode), as in test-dm-crypt.sh.
"$ADMIN" policy sign --allow-unmeasured-boot --key "$A/admin.pem" "$A/policy.json" "$A/st/sealboot" \
	2>"$A/err" || fail "policy sign: $(cat "$A/err")"
cp "$A/admin.pem" "$R/admin.pem"
chmod 600 "$R/admin.pem"
mkdir -p "$A/tpm"
cp "$FW/OVMF_VARS_4M.fd" "$A/vars.fd"
truncate -s 32M "$A/data.img"

# The state disk from a directory tree (the guest's /st).
make_state_disk() { # DIR
	rm -f "$A/state.img"
	mkfs.ext4 -q -F -d "$1" "$A/state.img" 16M >/dev/null 2>"$A/err" || fail "mkfs.ext4: $(cat "$A/err")"
}
make_state_disk "$A/st"

dump() {
	echo "--- boot $1: console (last 40 lines):" >&2
	tail -n 40 "$A/$1.log" >&2 || true
	echo "--- boot $1: report:" >&2
	cat "$A/$1.sb" >&2 || true
}

# guest MODE NAME [KERNEL-ARGS [CUT]]: one boot (swtpm + QEMU). With CUT,
# QEMU is killed as soon as the guest reports "SB cut" (the power cut);
# otherwise the guest must power off after "SB end". Its report lands in
# $A/NAME.sb, what it saved in $A/NAME.x/.
guest() {
	local mode=$1 name=$2 args=${3:-} cut=${4:-} t0=$SECONDS rc=0 ov=$A/overlay-$2 size
	rm -rf "$ov"
	mkdir -p "$ov${BUNDLE%/*}"
	cp -a "$A/bundle" "$ov$BUNDLE"
	[ ! -f "$A/order.json" ] || cp "$A/order.json" "$A/order.json.sig" "$ov/"
	[ ! -d "$A/replay" ] || cp -a "$A/replay" "$ov/replay"
	echo "$CUT_STEP" >"$ov/cut-step"
	(cd "$R" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$A/initrd-$name"
	(cd "$ov" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) >>"$A/initrd-$name"
	# One initrd size for every boot (QEMU writes it into the setup
	# header, which OVMF measures into PCR 4).
	size=$(stat -c %s "$A/initrd-$name")
	[ "$size" -le "$INITRD_SIZE" ] || fail "initrd-$name is $size bytes, over $INITRD_SIZE"
	truncate -s "$INITRD_SIZE" "$A/initrd-$name"
	truncate -s 0 "$A/xfer.img"
	truncate -s 8M "$A/xfer.img"
	: >"$A/$name.sb"

	appl_swtpm_start "$A/tpm" "$name"
	appl_qemu_start "$name" \
		-kernel "$KERNEL" -initrd "$A/initrd-$name" \
		-append "console=ttyS0 panic=-1 quiet sealboot.mode=$mode $args" \
		-serial file:"$A/$name.sb" \
		-drive file="$A/xfer.img",if=virtio,format=raw \
		-drive file="$A/data.img",if=virtio,format=raw \
		-drive file="$A/state.img",if=virtio,format=raw
	if [ -n "$cut" ]; then
		appl_wait "$name" "$QEMU_TIMEOUT" '^SB cut' "$A/$name.sb"
		appl_poweroff "$name" cut
	else
		appl_wait "$name" "$QEMU_TIMEOUT" ''
		appl_poweroff "$name"
	fi
	rc=$APPL_QEMU_RC
	[ "$APPL_WAITED" != timeout ] || rc=timeout
	[ -z "$cut" ] || [ "$APPL_WAITED" != matched ] || rc=cut
	sed -i 's/\r$//; s/\x1b\[[0-9;=]*[A-Za-z]//g' "$A/$name.sb"
	if [ -n "$cut" ]; then
		[ "$rc" = cut ] || { dump "$name"; fail "boot $name: the guest never reached the cut (qemu $rc)"; }
		echo "ok: boot $name ($mode): power cut (QEMU and its swtpm killed) after $((SECONDS - t0)) s"
		return 0
	fi
	if [ "$rc" != 0 ] || ! grep -qx 'SB end' "$A/$name.sb"; then
		echo "--- $name: qemu exit $rc; qemu output:" >&2
		cat "$A/$name.qemu" >&2
		dump "$name"
		[ "$rc" != timeout ] || fail "boot $name: QEMU timed out after $QEMU_TIMEOUT s"
		fail "boot $name: the guest did not finish (qemu exit $rc)"
	fi
	rm -rf "$A/$name.x"
	mkdir "$A/$name.x"
	tar -xf "$A/xfer.img" -C "$A/$name.x"
	echo "ok: boot $name ($mode) finished in $((SECONDS - t0)) s"
}

sb() { sed -n "s/^SB $2 \{0,1\}//p" "$A/$1.sb" | head -n 1; }
report() { sed -n "s/^SB $2 //p" "$A/$1.sb"; }
expect() { # NAME KEY VALUE
	local got
	got=$(sb "$1" "$2")
	[ "$got" = "$3" ] || {
		dump "$1"
		fail "boot $1: $2 is '$got', want '$3'"
	}
}

# 1. Provision on the appliance, through the guest's TPM.
guest provision provision
expect provision provision-rc 0
[ "$(dd if="$A/data.img" bs=6 count=1 2>/dev/null)" = "LUKS"$'\xba'$'\xbe' ] ||
	fail "/dev/vdb was not formatted as LUKS"
echo "ok: provisioned in the guest: /dev/vdb is LUKS2, the key sealed to PCRs 0, 4, 7, 15"

# 2. A good boot opens the volume; the AK and a challenge go to the host.
nonce=5eed$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
guest good good "sealboot.nonce=$nonce"
expect good anchor-rc 0
grep -qx 'SB mapper' "$A/good.sb" || { dump good; fail "good boot: no /dev/mapper/data"; }
expect good isluks-rc 0
[[ "$(report good anchor-out)" == *'1 volume(s) opened'* ]] || fail "good boot: $(report good anchor-out)"
expect good attest-rc 0
expect good challenge-rc 0
sed -nE 's/^ *"ak_pem": "(.*)",?$/\1/p' "$A/good.x/quote.json" | head -1 >"$A/ak.esc"
printf '%b' "$(cat "$A/ak.esc")" >"$A/ak.pem"
openssl pkey -pubin -in "$A/ak.pem" -noout 2>/dev/null || fail "no attestation key in the quote: $(cat "$A/good.x/quote.json")"
"$ADMIN" attest-verify --ak "$A/ak.pem" --nonce "$nonce" "$A/good.x/quote.json" >"$A/av.out" 2>&1 ||
	fail "attest-verify of the good boot's quote: $(cat "$A/av.out")"
echo "ok: good boot: anchor exit 0, /dev/mapper/data, isLuks /dev/vdb 0; the quote verifies with the AK"
# What an attacker at the site keeps: the volume's header area and the state.
dd if="$A/data.img" of="$A/saved-header" bs=1M count=16 status=none
rm -rf "$A/saved-st"
mkdir -p "$A/saved-st"
cp -a "$A/good.x/state" "$A/saved-st/sealboot"
# ... and the good boot's PCR 15 up to the unseal, as TPM2_PCR_Extend
# commands: every PCR 15 record before the first volume event.
awk '/"content":"sealboot volume / { exit }
     /"pcr":15,/ { match($0, /"digest":"[0-9a-f]+"/); print substr($0, RSTART + 10, 64) }' \
	"$A/good.x/eventlog.jsonl" >"$A/replay.hex"
[ -s "$A/replay.hex" ] || fail "no PCR 15 events before the volume in the good boot's log"
mkdir -p "$A/replay"
i=0
while read -r dg; do
	i=$((i + 1))
	cmd=80020000004100000182 # tag SESSIONS, size 65, TPM2_PCR_Extend
	cmd=${cmd}0000000f               # PCR 15
	cmd=${cmd}00000009400000090000000000 # the password session, empty
	cmd=${cmd}00000001000b$dg        # one SHA-256 digest
	printf "$(sed 's/../\\x&/g' <<<"$cmd")" >"$A/replay/$(printf %02d $i).bin"
done <"$A/replay.hex"
[ "$(stat -c %s "$A/replay/01.bin")" = 65 ] || fail "a PCR_Extend command is not 65 bytes"
"$ADMIN" zeroize-authorize --key "$A/zeroize.pem" --challenge "$A/good.x/challenge.json" \
	--out "$A/order.json" >"$A/auth.out" 2>&1 || fail "zeroize-authorize: $(cat "$A/auth.out")"
[ -s "$A/order.json.sig" ] || fail "no order signature"
echo "ok: the owner authorized a zeroize order for the guest's challenge"

# 3. The zeroize, cut after step $CUT_STEP (power off: QEMU and swtpm killed).
guest cut cut "" cut
[ -z "$(report cut extend-failed)" ] || fail "the PCR 15 replay failed: $(report cut extend-failed)"
expect cut probe-rc 0
[ "$(report cut probe-out)" = RELEASED ] || fail "control: $(report cut probe-out)"
echo "ok: control: before the wipe, the good boot's PCR 15 replayed ($(sb cut replayed) extends) and the token release the key"
expect cut crash-rc 137
grep -q "zeroize-crash: killed after step $CUT_STEP" "$A/cut.sb" || fail "the crash hook did not fire: $(report cut crash-out)"
! cryptsetup isLuks "$A/data.img" || fail "after the cut at step $CUT_STEP the volume still has a LUKS header"
# The host reads the state disk as it was left: a copy, its ext4 journal
# replayed by e2fsck (which exits 1 when it fixed something).
cp "$A/state.img" "$A/state-cut.img"
rc=0
e2fsck -fy "$A/state-cut.img" >"$A/fsck.out" 2>&1 || rc=$?
[ "$rc" -le 1 ] || fail "e2fsck of the state disk after the cut: exit $rc: $(cat "$A/fsck.out")"
debugfs -R "cat /sealboot/zeroize.journal" "$A/state-cut.img" >"$A/journal" 2>"$A/debugfs.err" ||
	fail "debugfs: $(cat "$A/debugfs.err")"
grep -q "\"done\":$((CUT_STEP - 1))," "$A/journal" ||
	fail "the journal on the state disk after the cut is not at step $((CUT_STEP - 1)): $(cat "$A/journal")"
echo "ok: power cut after step $CUT_STEP: the volume has no header, the journal on disk says step $((CUT_STEP - 1)) done"

# 4. The next boot finishes the wipe first.
guest finish finish
expect finish anchor-rc 12
[[ "$(report finish anchor-out)" == *'zeroized: ready for provisioning'* ]] ||
	fail "boot after the cut: $(report finish anchor-out)"
grep -q 'finishing the zeroize the journal records' "$A/finish.sb" ||
	fail "the boot did not finish the journal first: $(report finish anchor-out)"
expect finish status-rc 12
[[ "$(report finish status-out)" == *'zeroized: ready for provisioning'* ]] || fail "status: $(report finish status-out)"
grep -qx 'SB no-mapper' "$A/finish.sb" || fail "/dev/mapper/data exists after the zeroize"
[ "$(sb finish isluks-rc)" != 0 ] || fail "cryptsetup isLuks /dev/vdb succeeds after the zeroize"
expect finish nonzero-bytes 0
cmp -s -n 16777216 "$A/data.img" /dev/zero || fail "the volume's first 16 MiB are not zero"
[ ! -e "$A/finish.x/state/zeroize.journal" ] || fail "the journal is still there"
receipt=$A/finish.x/state/zeroize-receipt.json
evidence=$A/finish.x/state/zeroize-receipt.evidence.json
[ -s "$receipt" ] && [ -s "$evidence" ] || fail "no receipt: $(ls "$A/finish.x/state")"
rc=0
"$ADMIN" zeroize-verify --ak "$A/ak.pem" --order "$A/order.json" "$receipt" "$evidence" >"$A/zv.out" 2>&1 || rc=$?
[ "$rc" = 0 ] && grep -q 'TPM cleared' "$A/zv.out" || fail "zeroize-verify: exit $rc: $(cat "$A/zv.out")"
echo "ok: boot after the cut: exit 12 $(report finish anchor-out | tail -n 1)"
echo "ok: isLuks /dev/vdb $(sb finish isluks-rc), first MiB of /dev/vdb zero, receipt verified: $(head -n 1 "$A/zv.out")"

# 5. The saved header and state, same firmware, same TPM: nothing opens.
dd if="$A/saved-header" of="$A/data.img" bs=1M conv=notrunc status=none
cryptsetup isLuks "$A/data.img" || fail "the saved header did not go back"
make_state_disk "$A/saved-st"
guest oldkey oldkey
[ -z "$(report oldkey extend-failed)" ] || fail "the PCR 15 replay failed: $(report oldkey extend-failed)"
expect oldkey probe-rc 3
[[ "$(report oldkey probe-out)" == refused:* ]] || fail "old key: $(report oldkey probe-out)"
echo "ok: saved header + saved state + the good PCR 15 replayed on the cleared TPM: $(report oldkey probe-out)"
grep -qx 'SB no-mapper' "$A/oldkey.sb" || fail "/dev/mapper/data exists with the saved header"
echo "PASS"
