# shellcheck shell=bash
# The dm-verity appliance, shared by tests/appliance/test-verity.sh and
# bench/bench-verity-boot: a busybox initramfs holding sealboot-admin,
# sealboot-anchor, dmsetup (and sealboot-launch when SEALBOOT_LAUNCH names
# it) and their libraries, the modules for virtio, the
# TPM, dm-crypt, dm-verity, loop and ext4, and verity-init as PID 1; a
# provisioned appliance (OVMF + swtpm + Debian's kernel, as test-dm-crypt.sh
# boots it) whose policy names one bundle "os" at /sealboot/bundles/os.
#
# The caller sets A (a scratch directory it removes), sources common.sh, and
# calls: vl_setup (checks, builds the base initramfs, the keys and policy),
# vl_provision, then vl_boot NAME [KERNEL-ARGS] as often as it likes, with
# $A/bundle the guest's bundle (in the initramfs) or, with VL_BUNDLE_DISK set
# to an ext4 image holding os/, that disk as /dev/vdc. Reports land in
# $A/NAME.sb ("SB KEY VALUE" lines); vl_sb NAME KEY reads one.

ADMIN=${SEALBOOT_ADMIN:?}
ANCHOR=${SEALBOOT_ANCHOR:?}
SIGN=${SEALBOOT_SIGN:?}
PKI=$SEALBOOT_SRC/tests/fixtures/pki
VL_HERE=$SEALBOOT_SRC/tests/appliance
UUID=5e4b0a7c-2f1d-4c3b-9a8e-1d2c3b4a5f60
BUNDLE=/sealboot/bundles/os
STATE=/var/lib/sealboot
QEMU_TIMEOUT=${SEALBOOT_QEMU_TIMEOUT:-300}
FW=/usr/share/OVMF
QEMU_PID='' SWTPM_PID=''
VL_BUNDLE_DISK=${VL_BUNDLE_DISK:-}
deathsig=(setpriv --pdeathsig KILL --)

vl_stop() {
	local p
	for p in $QEMU_PID $SWTPM_PID; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	QEMU_PID='' SWTPM_PID=''
}

pem_json() { awk '{printf "%s\\n", $0}' "$1"; }

vl_setup() {
	[ "$(uname -m)" = x86_64 ] || skip "the guest is x86_64 and uses this host's libraries"
	need qemu-system-x86_64 swtpm openssl ldd awk od truncate tar setpriv dmsetup python3
	if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
		skip "a static /bin/busybox is needed for the guest (apt-get install busybox-static)"
	fi
	KERNEL=${SEALBOOT_GUEST_KERNEL:-$(printf '%s\n' /boot/vmlinuz-* | sort -V | tail -n 1)}
	[ -e "$KERNEL" ] || skip "no guest kernel (apt-get install linux-image-amd64)"
	[ -r "$KERNEL" ] || skip "cannot read $KERNEL (run as root)"
	KVER=${KERNEL##*/vmlinuz-}
	MODDIR=/lib/modules/$KVER
	[ -r "$MODDIR/modules.dep" ] || skip "no modules for kernel $KVER in $MODDIR"
	for f in OVMF_CODE_4M.fd OVMF_VARS_4M.fd; do
		[ -r "$FW/$f" ] || skip "no UEFI firmware $FW/$f (apt-get install ovmf)"
	done

	R=$A/root
	mkdir -p "$R"/{bin,proc,sys,dev,run,tmp,modules,lib64,lib/x86_64-linux-gnu} "$R$STATE"
	cp /bin/busybox "$R/bin/"
	local t lib tcti='' f
	for t in sh mount mkdir sleep cat sed grep tr head tail cut od dd tar sync insmod \
		poweroff uname date printf dmesg sha256sum; do
		ln -s busybox "$R/bin/$t"
	done
	cp "$ADMIN" "$R/bin/sealboot-admin"
	cp "$ANCHOR" "$R/bin/sealboot-anchor"
	cp "$(command -v dmsetup)" "$R/bin/dmsetup"
	local launch=()
	if [ -n "${SEALBOOT_LAUNCH:-}" ]; then
		cp "$SEALBOOT_LAUNCH" "$R/bin/sealboot-launch"
		launch=("$SEALBOOT_LAUNCH")
	fi
	for f in /usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0 /lib/x86_64-linux-gnu/libtss2-tcti-device.so.0; do
		[ -e "$f" ] && tcti=$f && break
	done
	[ -n "$tcti" ] || skip "libtss2-tcti-device.so.0 is not installed"
	for lib in $(ldd "$ADMIN" "$ANCHOR" "$tcti" "$(command -v dmsetup)" "${launch[@]}" |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u) "$tcti"; do
		cp -L "$lib" "$R/lib/x86_64-linux-gnu/"
	done
	cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"
	declare -gA loaded=()
	: >"$R/modules/order"
	local m path
	for m in virtio_pci virtio_blk tpm_tis dm-mod dm-crypt aes_generic ecb xts algif_skcipher \
		dm-verity loop crc32c_generic ext4; do
		path=$(awk -v m="$m" '{ p = $1; sub(/:$/, "", p); n = p; sub(/.*\//, "", n); sub(/\.ko.*/, "", n);
			gsub(/-/, "_", n); mm = m; gsub(/-/, "_", mm); if (n == mm) { print p; exit } }' "$MODDIR/modules.dep")
		if [ -z "$path" ]; then
			grep -q "/${m//-/[-_]}\.ko" "$MODDIR/modules.builtin" ||
				fail "kernel $KVER has no module $m"
			continue
		fi
		vl_load_module "$path"
	done
	cp "$VL_HERE/verity-init" "$R/init"
	chmod 755 "$R/init"

	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$A/admin.pem" 2>/dev/null
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$A/zeroize.pem" 2>/dev/null
	openssl pkey -in "$A/zeroize.pem" -pubout -out "$A/zeroize.pub"
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
	mkdir -p "$A/state" "$A/tpm"
	"$ADMIN" policy sign --allow-unmeasured-boot --key "$A/admin.pem" "$A/policy.json" "$A/state" 2>"$A/err" ||
		fail "policy sign: $(cat "$A/err")"
	cp "$A/admin.pem" "$R/admin.pem"
	chmod 600 "$R/admin.pem"
	cp "$FW/OVMF_VARS_4M.fd" "$A/vars.fd"
	truncate -s 32M "$A/data.img"
}

vl_load_module() { # PATH (as in modules.dep), its dependencies first
	local path=$1 dep deps
	[ -z "${loaded[$path]:-}" ] || return 0
	loaded[$path]=1
	read -ra deps < <(awk -v m="$path:" '$1 == m { $1 = ""; print }' "$MODDIR/modules.dep")
	for dep in "${deps[@]}"; do
		vl_load_module "$dep"
	done
	case $path in
	*.ko) cp "$MODDIR/$path" "$R/modules/" ;;
	*.ko.xz) /bin/busybox xzcat "$MODDIR/$path" >"$R/modules/$(basename "$path" .xz)" ;;
	*.ko.zst) zstd -qdc "$MODDIR/$path" >"$R/modules/$(basename "$path" .zst)" ;;
	*) fail "module $path: unknown compression" ;;
	esac
	basename "${path%.xz}" | sed 's/\.zst$//' >>"$R/modules/order"
}

# sign [ARGS...]: sign $A/bundle (disk.img) as bundle "os" version 1
vl_sign() {
	"$SIGN" sign --key "$PKI/signer.key" --cert "$PKI/signer.crt" --name os --version 1 \
		--class acme-edge --payload disk:disk.img --force --no-progress "$@" "$A/bundle" \
		>/dev/null 2>"$A/err" || fail "sealboot-sign: $(cat "$A/err")"
}

vl_dump() {
	echo "--- boot $1: console (last 40 lines):" >&2
	tail -n 40 "$A/$1.console" >&2 || true
	echo "--- boot $1: report:" >&2
	cat "$A/$1.sb" >&2 || true
}

# vl_boot MODE NAME [KERNEL-ARGS]. A boot whose guest never saw its TPM or
# disks (the kernel's TPM probe timed out: a loaded host) ran nothing of
# sealboot and is tried once more; the report says so.
vl_boot() {
	vl_boot_once "$@"
	if grep -qx 'SB devices-missing' "$A/$2.sb"; then
		echo "note: boot $2: the guest saw no TPM or disks (loaded host?); booting it again" >&2
		vl_boot_once "$@"
	fi
}

vl_boot_once() {
	local mode=$1 name=$2 args=${3:-} t0=$SECONDS rc=0 ov=$A/overlay-$2 size
	local disk=()
	rm -rf "$ov"
	mkdir -p "$ov$STATE" "$ov${BUNDLE%/*}"
	cp -a "$A/state/." "$ov$STATE/"
	[ -n "$VL_BUNDLE_DISK" ] || cp -a "$A/bundle" "$ov$BUNDLE"
	[ -z "$VL_BUNDLE_DISK" ] || {
		disk=(-drive file="$VL_BUNDLE_DISK",if=virtio,format=raw,readonly=on)
		args="$args sealboot.bundledisk=1"
	}
	(cd "$R" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$A/initrd-$name"
	(cd "$ov" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) >>"$A/initrd-$name"
	# One initrd size for every boot (QEMU writes it into the kernel's setup
	# header, which OVMF measures into PCR 4): the caller's VL_INITRD_SIZE.
	size=$(stat -c %s "$A/initrd-$name")
	[ "$size" -le "$VL_INITRD_SIZE" ] || fail "initrd-$name is $size bytes, over $VL_INITRD_SIZE"
	truncate -s "$VL_INITRD_SIZE" "$A/initrd-$name"
	truncate -s 0 "$A/xfer.img"
	truncate -s 4M "$A/xfer.img"

	rm -f "$A/swtpm.sock"
	"${deathsig[@]}" swtpm socket --tpm2 --tpmstate dir="$A/tpm" \
		--ctrl type=unixio,path="$A/swtpm.sock" --flags not-need-init \
		--log file="$A/swtpm-$name.log",level=1 </dev/null &
	SWTPM_PID=$!
	for _ in $(seq 1 100); do
		[ -S "$A/swtpm.sock" ] && break
		kill -0 "$SWTPM_PID" 2>/dev/null || fail "swtpm exited: $(cat "$A/swtpm-$name.log")"
		sleep 0.05
	done
	[ -S "$A/swtpm.sock" ] || fail "swtpm did not create its socket"
	# no_timer_check: on a loaded host the emulated timer can look broken
	# to the kernel's IO-APIC check, which then panics before init.
	"${deathsig[@]}" qemu-system-x86_64 \
		-accel tcg -machine q35,smm=off -m 1024 -smp 1 -nodefaults -display none -no-reboot \
		-drive if=pflash,format=raw,readonly=on,file="$FW/OVMF_CODE_4M.fd" \
		-drive if=pflash,format=raw,file="$A/vars.fd" \
		-kernel "$KERNEL" -initrd "$A/initrd-$name" \
		-append "console=ttyS0 panic=-1 quiet no_timer_check sealboot.mode=$mode $args" \
		-serial file:"$A/$name.console" -serial file:"$A/$name.sb" \
		-drive file="$A/xfer.img",if=virtio,format=raw \
		-drive file="$A/data.img",if=virtio,format=raw \
		"${disk[@]}" \
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
	for _ in $(seq 1 50); do
		kill -0 "$SWTPM_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SWTPM_PID" 2>/dev/null || true
	wait "$SWTPM_PID" 2>/dev/null || true
	SWTPM_PID=
	sed -i 's/\r$//; s/\x1b\[[0-9;=]*[A-Za-z]//g' "$A/$name.sb"
	if [ "$rc" != 0 ] || ! grep -qx 'SB end' "$A/$name.sb"; then
		echo "--- $name: qemu exit $rc; qemu output:" >&2
		cat "$A/$name.qemu" >&2
		vl_dump "$name"
		fail "boot $name: the guest did not finish (qemu exit $rc)"
	fi
	VL_BOOT_SECONDS=$((SECONDS - t0))
}

vl_sb() { sed -n "s/^SB $2 \{0,1\}//p" "$A/$1.sb" | head -n 1; }
vl_report() { sed -n "s/^SB $2 //p" "$A/$1.sb"; }
vl_expect() { # NAME KEY VALUE
	local got
	got=$(vl_sb "$1" "$2")
	[ "$got" = "$3" ] || {
		vl_dump "$1"
		fail "boot $1: $2 is '$got', want '$3'"
	}
}

# Provision the appliance (LUKS volume, sealed key, PCR policy).
vl_provision() {
	vl_boot provision provision
	vl_expect provision provision-rc 0
	grep -qx 'SB state-saved' "$A/provision.sb" || fail "the guest did not save its state"
	grep -q 'SB device-mapper in kernel' "$A/provision.sb" || fail "no device-mapper in the guest kernel"
	rm -rf "$A/state"
	mkdir "$A/state"
	tar -xf "$A/xfer.img" -C "$A/state"
	[ -f "$A/state/pcr-policy.json" ] || fail "provisioning wrote no pcr-policy.json"
}
