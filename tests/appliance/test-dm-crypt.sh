#!/bin/bash
# The anchor really activates a LUKS2 volume with dm-crypt: inside a QEMU
# guest (TCG) running Debian's kernel, with a swtpm as the guest's TPM (TIS),
# a busybox initramfs holding sealboot-admin, sealboot-anchor and their
# libraries, and two virtio disks: /dev/vda carries the state back to the
# host, /dev/vdb is the LUKS2 volume. Four boots of the same appliance (the
# same swtpm state, the same disk):
#   1. provision: sealboot-admin provision --format data, on the guest's TPM;
#   2. boot: the anchor exits 0 "opened", the handoff says activated,
#      /dev/mapper/data is the kernel's crypt mapping of vdb, and a marker
#      written through it (O_DIRECT) reads back; the raw disk never holds the
#      marker in plaintext;
#   3. a tampered bundle: exit 4, no /dev/mapper/data;
#   4. boot again: the marker written in boot 2 reads back after power-off.
#
# Environment: SEALBOOT_GUEST_KERNEL (default: the newest /boot/vmlinuz-*,
# its modules in /lib/modules/VERSION), SEALBOOT_QEMU_TIMEOUT (seconds per
# boot, default 120; a boot takes about 10 s here).
set -eu -o pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"

ADMIN=${SEALBOOT_ADMIN:?}
ANCHOR=${SEALBOOT_ANCHOR:?}
SIGN=${SEALBOOT_SIGN:?}
PKI=$SEALBOOT_SRC/tests/fixtures/pki
HERE=$SEALBOOT_SRC/tests/appliance
UUID=5e4b0a7c-2f1d-4c3b-9a8e-1d2c3b4a5f60
BUNDLE=/sealboot/bundles/os # the guest's paths, in the signed policy
STATE=/var/lib/sealboot
QEMU_TIMEOUT=${SEALBOOT_QEMU_TIMEOUT:-120}

[ "$(uname -m)" = x86_64 ] || skip "the guest is x86_64 and uses this host's libraries; this is $(uname -m)"
need qemu-system-x86_64 swtpm openssl ldd awk od truncate tar setpriv
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

# Everything this test starts is stopped on every way out.
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/sealboot-appliance.XXXXXX")
A=$SCRATCH
QEMU_PID='' SWTPM_PID=''
cleanup() {
	local p
	for p in $QEMU_PID $SWTPM_PID; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
# If this shell is SIGKILLed, the kernel still stops QEMU and swtpm.
deathsig=(setpriv --pdeathsig KILL --)

pem_json() { awk '{printf "%s\\n", $0}' "$1"; }

# -- the base initramfs: busybox, the two tools, their libraries, modules --
R=$A/root
mkdir -p "$R"/{bin,proc,sys,dev,run,tmp,modules,lib64,lib/x86_64-linux-gnu} "$R$STATE"
cp /bin/busybox "$R/bin/"
for t in sh mount mkdir sleep cat sed grep tr head od dd tar sync insmod poweroff uname date printf; do
	ln -s busybox "$R/bin/$t"
done
cp "$ADMIN" "$R/bin/sealboot-admin"
cp "$ANCHOR" "$R/bin/sealboot-anchor"
tcti=''
for f in /usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0 /lib/x86_64-linux-gnu/libtss2-tcti-device.so.0; do
	[ -e "$f" ] && tcti=$f && break
done
[ -n "$tcti" ] || skip "libtss2-tcti-device.so.0 is not installed"
# The TCTI is dlopen'ed by name: copy it with the libraries ldd names.
for lib in $(ldd "$ADMIN" "$ANCHOR" "$tcti" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u) "$tcti"; do
	cp -L "$lib" "$R/lib/x86_64-linux-gnu/"
done
cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"
# Modules in load order, dependencies first (modules.dep lists each
# module's whole closure).
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
# dm-crypt's aes-xts-plain64 needs xts and ecb (aes is built in); the TPM
# (tpm_tis) and virtio_pci may be built in, and are then left out.
for m in virtio_pci virtio_blk tpm_tis dm-mod dm-crypt aes_generic ecb xts algif_skcipher; do
	path=$(awk -v m="$m" '{ p = $1; sub(/:$/, "", p); n = p; sub(/.*\//, "", n); sub(/\.ko.*/, "", n);
		gsub(/-/, "_", n); mm = m; gsub(/-/, "_", mm); if (n == mm) { print p; exit } }' "$MODDIR/modules.dep")
	if [ -z "$path" ]; then
		grep -q "/${m//-/[-_]}\.ko" "$MODDIR/modules.builtin" ||
			fail "kernel $KVER has no module $m"
		continue
	fi
	load_module "$path"
done
cp "$HERE/guest-init" "$R/init"
chmod 755 "$R/init"

# -- the appliance: PKI, admin key, bundle, signed policy (guest paths) --
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
  "seal_pcrs": [15],
  "volumes": [{"uuid": "$UUID", "name": "data", "purpose": "data", "device": "/dev/vdb"}],
  "guest": {"vcpus": 1, "memory_mib": 256, "network": "none", "console": "log", "rng": true, "vtpm": false},
  "zeroize_key": "$(pem_json "$A/zeroize.pub")"
}
JSON
mkdir -p "$A/state"
"$ADMIN" policy sign --key "$A/admin.pem" "$A/policy.json" "$A/state" 2>"$A/err" ||
	fail "policy sign: $(cat "$A/err")"
cp "$A/admin.pem" "$R/admin.pem"
mkdir -p "$A/tpm"
truncate -s 32M "$A/data.img"

# What a failed boot NAME left: the end of its console, its report.
dump() {
	echo "--- boot $1: console (last 40 lines):" >&2
	tail -n 40 "$A/$1.console" >&2 || true
	echo "--- boot $1: report:" >&2
	cat "$A/$1.sb" >&2 || true
}

# -- one boot: swtpm (unixio, exits with QEMU) + QEMU, bounded --
# guest MODE NAME [KERNEL-ARGS]: the guest's state is $A/state, its bundle
# $A/bundle; its report lands in $A/NAME.sb ("KEY VALUE" lines).
guest() {
	local mode=$1 name=$2 args=${3:-} t0=$SECONDS rc=0
	local ov=$A/overlay-$name
	rm -rf "$ov"
	mkdir -p "$ov$STATE" "$ov${BUNDLE%/*}"
	cp -a "$A/state/." "$ov$STATE/"
	cp -a "$A/bundle" "$ov$BUNDLE"
	chmod 600 "$R/admin.pem"
	# The kernel unpacks concatenated cpio archives in order.
	(cd "$R" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$A/initrd-$name"
	(cd "$ov" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) >>"$A/initrd-$name"
	truncate -s 0 "$A/xfer.img"
	truncate -s 4M "$A/xfer.img"

	rm -f "$A/swtpm.sock"
	"${deathsig[@]}" swtpm socket --tpm2 --tpmstate dir="$A/tpm" \
		--ctrl type=unixio,path="$A/swtpm.sock" --flags not-need-init,startup-clear \
		--log file="$A/swtpm-$name.log",level=1 </dev/null &
	SWTPM_PID=$!
	for _ in $(seq 1 100); do
		[ -S "$A/swtpm.sock" ] && break
		kill -0 "$SWTPM_PID" 2>/dev/null || fail "swtpm exited: $(cat "$A/swtpm-$name.log")"
		sleep 0.05
	done
	[ -S "$A/swtpm.sock" ] || fail "swtpm did not create its socket"

	# No timeout(1): it would leave our process group, which is what
	# meson kills; the bound is the loop below.
	"${deathsig[@]}" qemu-system-x86_64 \
		-accel tcg -machine pc -m 512 -smp 1 -nodefaults -display none -no-reboot \
		-kernel "$KERNEL" -initrd "$A/initrd-$name" \
		-append "console=ttyS0 panic=-1 quiet sealboot.mode=$mode $args" \
		-serial file:"$A/$name.console" -serial file:"$A/$name.sb" \
		-drive file="$A/xfer.img",if=virtio,format=raw \
		-drive file="$A/data.img",if=virtio,format=raw \
		-chardev socket,id=chrtpm,path="$A/swtpm.sock" \
		-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 \
		</dev/null >"$A/$name.qemu" 2>&1 &
	QEMU_PID=$!
	for _ in $(seq 1 $((QEMU_TIMEOUT * 10))); do
		kill -0 "$QEMU_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$QEMU_PID" 2>/dev/null; then
		kill -KILL "$QEMU_PID"
		wait "$QEMU_PID" 2>/dev/null || true
		rc=timeout
	else
		wait "$QEMU_PID" || rc=$?
	fi
	QEMU_PID=
	# swtpm ends when QEMU closes the socket; bounded all the same.
	for _ in $(seq 1 50); do
		kill -0 "$SWTPM_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SWTPM_PID" 2>/dev/null || true
	wait "$SWTPM_PID" 2>/dev/null || true
	SWTPM_PID=
	sed -i 's/\r$//' "$A/$name.sb"
	if [ "$rc" != 0 ] || ! grep -qx 'SB end' "$A/$name.sb"; then
		echo "--- $name: qemu exit $rc; qemu output:" >&2
		cat "$A/$name.qemu" >&2
		dump "$name"
		[ "$rc" != timeout ] || fail "boot $name: QEMU timed out after $QEMU_TIMEOUT s"
		fail "boot $name: the guest did not finish (qemu exit $rc)"
	fi
	echo "ok: boot $name ($mode) finished in $((SECONDS - t0)) s"
}

# sb NAME KEY: the value of the first report line KEY (empty if none)
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

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

# 1. Provision on the appliance, through the guest's TPM.
guest provision provision
expect provision provision-rc 0
grep -qx 'SB state-saved' "$A/provision.sb" || fail "the guest did not save its state: $(cat "$A/provision.sb")"
grep -q 'SB device-mapper in kernel' "$A/provision.sb" || fail "no device-mapper in the guest kernel"
rm -rf "$A/state"
mkdir "$A/state"
tar -xf "$A/xfer.img" -C "$A/state"
[ -f "$A/state/pcr-policy.json" ] || fail "provisioning wrote no pcr-policy.json"
[ "$(dd if="$A/data.img" bs=6 count=1 2>/dev/null)" = "LUKS"$'\xba'$'\xbe' ] ||
	fail "/dev/vdb was not formatted as LUKS"
echo "ok: provisioned in the guest: LUKS2 volume, sealed key, signed PCR policy"

# 2. The measured boot opens the volume with dm-crypt; data goes through it.
marker="sealboot-appliance-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
guest boot good "sealboot.write=$marker"
expect good anchor-rc 0
[[ "$(report good anchor-out)" == *'OK: 1 bundle(s) verified, 1 volume(s) opened; PCRs capped'* ]] ||
	fail "the anchor did not say opened: $(report good anchor-out)"
[[ "$(report good handoff)" == *'"name": "data", "uuid": "'"$UUID"'"'* ]] ||
	fail "handoff: $(report good handoff)"
[[ "$(report good handoff)" == *'"mapper": "/dev/mapper/data", "activated": true'* ]] ||
	fail "the handoff does not say activated: $(report good handoff)"
expect good status-rc 0
[[ "$(report good status-out)" == *'event log matches the TPM'* ]] || fail "status: $(report good status-out)"
dm=$(sb good dm)
[[ "$dm" == "data uuid=CRYPT-LUKS2-${UUID//-/}-data slaves=vdb " ]] ||
	fail "/dev/mapper/data is not the crypt mapping of vdb: '$dm'"
grep -qx 'SB wrote' "$A/good.sb" || fail "the guest could not write through /dev/mapper/data: $(cat "$A/good.sb")"
[[ "$(sb good read)" == "$(hex "$marker")"* ]] ||
	fail "read back '$(sb good read)', wrote $(hex "$marker")"
! grep -qF "$marker" "$A/data.img" || fail "the marker is on the disk in plaintext"
echo "ok: anchor exit 0, opened; /dev/mapper/data = dm-crypt over vdb; the marker reads back; the disk holds only ciphertext"

# 3. A tampered bundle: no key, no mapping.
cp -a "$A/bundle" "$A/bundle.good"
printf 'the guesT image\n' >"$A/bundle/disk.img"
guest boot tampered
expect tampered anchor-rc 4
[[ "$(report tampered anchor-out)" == *'FAILED (bundle)'* ]] || fail "anchor: $(report tampered anchor-out)"
[[ "$(report tampered anchor-out)" == *'no key was released'* ]] || fail "anchor: $(report tampered anchor-out)"
expect tampered status-rc 4
grep -qx 'SB no-mapper' "$A/tampered.sb" || fail "/dev/mapper/data exists after a failed boot: $(cat "$A/tampered.sb")"
[ -z "$(report tampered handoff)" ] || fail "a handoff was written after a failure"
echo "ok: tampered bundle: exit 4, $(report tampered anchor-out | grep -m1 FAILED)"
echo "ok: no /dev/mapper/data, no handoff"

# 4. The genuine bundle again: the data written in boot 2 is still there.
rm -rf "$A/bundle"
mv "$A/bundle.good" "$A/bundle"
guest boot again
expect again anchor-rc 0
[[ "$(sb again read)" == "$(hex "$marker")"* ]] ||
	fail "after a power cycle read '$(sb again read)', wrote $(hex "$marker")"
echo "ok: after a power cycle the anchor opens the volume again and the marker reads back"
echo "PASS"
