#!/bin/bash
# The anchor really activates a LUKS2 volume with dm-crypt, and only on the
# firmware the admin approved: inside a QEMU guest (TCG, q35 without SMM)
# booting through UEFI (OVMF, 4 MiB build, its own copy of the variable
# store) straight into Debian's kernel (-kernel/-initrd), with a swtpm as the
# guest's TPM (TIS) into which OVMF measures the boot (PCRs 0-7), a busybox
# initramfs holding sealboot-admin, sealboot-anchor and their libraries, and
# two virtio disks: /dev/vda carries the state back to the host, /dev/vdb is
# the LUKS2 volume. The policy seals to PCRs 0 (firmware code), 4 (the kernel
# image OVMF started), 7 (Secure Boot state and keys) and 15 (sealboot's).
# Boots of the same appliance (the same swtpm state, disk, variable store):
#   1. provision: sealboot-admin provision --format data, on the guest's TPM;
#      the PCR policy it signs holds OVMF's PCRs 0, 4, 7 as the guest read
#      them (non-zero: the firmware measured the boot);
#   2. boot: PCRs 0, 4, 7 are those approved (the firmware's measurements
#      reproduce); the anchor exits 0 "opened", the handoff says activated,
#      /dev/mapper/data is the kernel's crypt mapping of vdb, and a marker
#      written through it (O_DIRECT) reads back; the raw disk never holds the
#      marker in plaintext;
#   3. a tampered bundle: exit 4, no /dev/mapper/data;
#   4. the genuine bundle on other firmware: exit 6 "PCR N differs from the
#      value the admin approved", no /dev/mapper/data, no handoff:
#      a. Microsoft's Secure Boot keys in the variable store (Secure Boot
#         on): PCRs 4 and 7 differ, the anchor names 4;
#      b. another OVMF build (2 MiB) with its own variable store: PCR 0;
#   5. the appliance's own firmware again: the marker written in boot 2 reads
#      back after power-off.
# Every initrd is padded to one size: QEMU writes the initrd's size into the
# kernel's setup header, which OVMF measures into PCR 4.
#
# Environment: SEALBOOT_GUEST_KERNEL (default: the newest /boot/vmlinuz-*,
# its modules in /lib/modules/VERSION), SEALBOOT_QEMU_TIMEOUT (seconds per
# boot, default 120; a boot takes about 10 s here). Needs the ovmf package.
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
# Debian's OVMF builds without SMM (the .secboot ones need it): the
# appliance's firmware (4 MiB flash), Microsoft's Secure Boot keys for it,
# and another build (2 MiB flash) with its own variable store.
FW=/usr/share/OVMF
for f in OVMF_CODE_4M.fd OVMF_VARS_4M.fd OVMF_VARS_4M.ms.fd OVMF_CODE.fd OVMF_VARS.fd; do
	[ -r "$FW/$f" ] || skip "no UEFI firmware $FW/$f (apt-get install ovmf)"
done

# Everything this test starts is stopped on every way out (the shared
# appliance steps: tests/lib/appliance.sh). This guest: QEMU's default CPU,
# 512 MiB, one vCPU.
. "$SEALBOOT_SRC/tests/lib/appliance.sh"
appl_setup appliance
APPL_QEMU_CPU='' APPL_QEMU_MEMORY=512 APPL_QEMU_SMP=1

pem_json() { awk '{printf "%s\\n", $0}' "$1"; }

# -- the base initramfs: busybox, the two tools, their libraries, modules --
R=$A/root
mkdir -p "$R"/{bin,proc,sys,dev,run,tmp,modules,lib64,lib/x86_64-linux-gnu} "$R$STATE"
cp /bin/busybox "$R/bin/"
for t in sh mount mkdir sleep cat sed grep tr head od dd tar sync insmod poweroff uname date printf dmesg; do
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
# The base archive plus 1 MiB for the per-boot state (a few KiB), in MiB.
INITRD_SIZE=$(( ($( (cd "$R" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) | wc -c) / 1048576 + 2) * 1048576 ))

# 0: the firmware's code; 4: the kernel image it started (with its setup
# header); 7: the Secure Boot state and keys; 15: sealboot's own.
SEAL_PCRS="0, 4, 7, 15"
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
  "seal_pcrs": [$SEAL_PCRS],
  "volumes": [{"uuid": "$UUID", "name": "data", "purpose": "data", "device": "/dev/vdb"}],
  "guest": {"vcpus": 1, "memory_mib": 256, "network": "none", "console": "log", "rng": true, "vtpm": false},
  "zeroize_key": "$(pem_json "$A/zeroize.pub")"
}
JSON
mkdir -p "$A/state"
# Not PCR 9: this test's initrd carries per-boot data (the state, the
# bundle, the boot's mode on the command line), so the policy is signed with
# the documented override; test-pcr-predict.sh covers PCR 9.
"$ADMIN" policy sign --allow-unmeasured-boot --key "$A/admin.pem" "$A/policy.json" "$A/state" 2>"$A/err" ||
	fail "policy sign: $(cat "$A/err")"
cp "$A/admin.pem" "$R/admin.pem"
mkdir -p "$A/tpm"
# The appliance's UEFI variable store: one copy, kept across its boots.
cp "$FW/OVMF_VARS_4M.fd" "$A/vars.fd"
truncate -s 32M "$A/data.img"

# What a failed boot NAME left: the end of its console, its report.
dump() {
	echo "--- boot $1: console (last 40 lines):" >&2
	tail -n 40 "$A/$1.log" >&2 || true
	echo "--- boot $1: report:" >&2
	cat "$A/$1.sb" >&2 || true
}

# -- one boot: swtpm (unixio, exits with QEMU) + QEMU, bounded --
# guest MODE NAME [KERNEL-ARGS [CODE VARS]]: the guest's state is $A/state,
# its bundle $A/bundle, its firmware CODE with the variable store VARS
# (default: the appliance's, $FW/OVMF_CODE_4M.fd and $A/vars.fd); its report
# lands in $A/NAME.sb ("KEY VALUE" lines).
guest() {
	local mode=$1 name=$2 args=${3:-} code=${4:-$FW/OVMF_CODE_4M.fd} vars=${5:-$A/vars.fd}
	local t0=$SECONDS rc=0
	local ov=$A/overlay-$name
	rm -rf "$ov"
	mkdir -p "$ov$STATE" "$ov${BUNDLE%/*}"
	cp -a "$A/state/." "$ov$STATE/"
	cp -a "$A/bundle" "$ov$BUNDLE"
	chmod 600 "$R/admin.pem"
	# The kernel unpacks concatenated cpio archives in order.
	(cd "$R" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$A/initrd-$name"
	(cd "$ov" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) >>"$A/initrd-$name"
	# One initrd size for every boot: QEMU writes the initrd's size and
	# address into the kernel's setup header, which OVMF measures into
	# PCR 4 with the kernel image. The kernel skips the zeros after the
	# last archive.
	local size
	size=$(stat -c %s "$A/initrd-$name")
	[ "$size" -le "$INITRD_SIZE" ] || fail "initrd-$name is $size bytes, over $INITRD_SIZE"
	truncate -s "$INITRD_SIZE" "$A/initrd-$name"
	truncate -s 0 "$A/xfer.img"
	truncate -s 4M "$A/xfer.img"

	# No timeout(1): it would leave our process group, which is what
	# meson kills; the bound is appl_wait's. swtpm ends when QEMU closes
	# the socket; bounded all the same.
	APPL_FW_CODE=$code APPL_FW_VARS=$vars appl_boot "$name" "$QEMU_TIMEOUT" '' "$A/tpm" \
		-kernel "$KERNEL" -initrd "$A/initrd-$name" \
		-append "console=ttyS0 panic=-1 quiet sealboot.mode=$mode $args" \
		-serial file:"$A/$name.sb" \
		-drive file="$A/xfer.img",if=virtio,format=raw \
		-drive file="$A/data.img",if=virtio,format=raw
	rc=$APPL_QEMU_RC
	[ "$APPL_WAITED" != timeout ] || rc=timeout
	# OVMF writes its console to both serial ports: drop its escapes.
	sed -i 's/\r$//; s/\x1b\[[0-9;=]*[A-Za-z]//g' "$A/$name.sb"
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
# pcr NAME N: PCR N (SHA-256) as the guest of boot NAME read it before the
# anchor ran, lowercase hex
pcr() { sb "$1" "pcr $2" | tr 'A-F' 'a-f'; }
FW_PCRS="0 4 7" # the firmware PCRs in seal_pcrs
same_firmware() { # NAME: the firmware PCRs are those the admin approved
	local n
	for n in $FW_PCRS; do
		[ "$(pcr "$1" "$n")" = "$(pcr provision "$n")" ] || {
			dump "$1"
			fail "boot $1: PCR $n is $(pcr "$1" "$n"), provisioning saw $(pcr provision "$n")"
		}
	done
}
# foreign NAME "PCR..." CODE VARS: the appliance booted on other firmware:
# of the firmware PCRs in seal_pcrs exactly PCR... (ascending) differ from
# the approved values; the anchor names the first, exits 6 and releases no
# key; no mapping, no handoff.
foreign() {
	local name=$1 differ=" $2 " n out
	guest boot "$name" "" "$3" "$4"
	grep -qx 'SB efi' "$A/$name.sb" || fail "boot $name: the guest did not boot through UEFI"
	for n in $FW_PCRS; do
		if [ "$(pcr "$name" "$n")" = "$(pcr provision "$n")" ]; then
			[[ "$differ" != *" $n "* ]] || fail "boot $name: PCR $n is the approved value"
		else
			[[ "$differ" == *" $n "* ]] || fail "boot $name: PCR $n differs, want only $2"
		fi
	done
	n=${2%% *}
	expect "$name" anchor-rc 6
	out=$(report "$name" anchor-out)
	[[ "$out" == *"FAILED (unseal): PCR $n differs from the value the admin approved"* ]] ||
		fail "boot $name: anchor: $out"
	[[ "$out" == *'no key was released'* ]] || fail "boot $name: anchor: $out"
	expect "$name" status-rc 6
	grep -qx 'SB no-mapper' "$A/$name.sb" ||
		fail "boot $name: /dev/mapper/data exists after a failed boot: $(cat "$A/$name.sb")"
	[ -z "$(report "$name" handoff)" ] || fail "boot $name: a handoff was written after a failure"
	echo "ok: $name: exit 6, $(echo "$out" | grep -m1 -o 'PCR [0-9]* differs from the value the admin approved'); no /dev/mapper/data, no handoff"
}

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
grep -qx 'SB efi' "$A/provision.sb" || fail "the guest did not boot through UEFI: $(cat "$A/provision.sb")"
! grep -qx 'SB secure-boot' "$A/provision.sb" || fail "the appliance booted with Secure Boot on"
# The admin signed the firmware's measurements as the guest's TPM held them.
for n in $FW_PCRS; do
	v=$(pcr provision "$n")
	if ! [[ "$v" =~ ^[0-9a-f]{64}$ ]] || [[ "$v" =~ ^0+$ ]]; then
		fail "the firmware measured nothing into PCR $n (or the kernel has no pcr-sha256 in sysfs): '$v'"
	fi
	grep -qF "{\"pcr\": $n, \"sha256\": \"$v\"}" "$A/state/pcr-policy.json" ||
		fail "the PCR policy does not approve PCR $n = $v: $(cat "$A/state/pcr-policy.json")"
done
[ "$(grep -c '"pcr":' "$A/state/pcr-policy.json")" = 4 ] ||
	fail "the PCR policy approves other PCRs than $SEAL_PCRS: $(cat "$A/state/pcr-policy.json")"
echo "ok: provisioned in the guest: LUKS2 volume, sealed key, PCR policy signed over PCRs $SEAL_PCRS (OVMF's PCRs 0, 4, 7 read from the TPM)"

# 2. The measured boot opens the volume with dm-crypt; data goes through it.
marker="sealboot-appliance-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
guest boot good "sealboot.write=$marker"
same_firmware good
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
echo "ok: the firmware's PCRs $FW_PCRS are those signed at provisioning"

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

# 4. The genuine bundle again, on other firmware: no key, no mapping.
#    a. The appliance's firmware with Microsoft's Secure Boot keys enrolled
#       in its variable store (PK, KEK, db, dbx) and Secure Boot on: PCR 7
#       measures other keys; Debian's kernel is not signed by them, so OVMF
#       starts it through its legacy Linux loader, unmeasured: PCR 4 too.
#    b. Another OVMF build, with its own variable store: PCR 0.
rm -rf "$A/bundle"
mv "$A/bundle.good" "$A/bundle"
cp "$FW/OVMF_VARS_4M.ms.fd" "$A/vars-ms.fd"
foreign sb-keys "4 7" "$FW/OVMF_CODE_4M.fd" "$A/vars-ms.fd"
grep -qx 'SB secure-boot' "$A/sb-keys.sb" || fail "boot sb-keys: the kernel does not say Secure boot enabled"
cp "$FW/OVMF_VARS.fd" "$A/vars-2m.fd"
foreign other-fw "0" "$FW/OVMF_CODE.fd" "$A/vars-2m.fd"

# 5. The appliance's own firmware again: the data written in boot 2 is
#    still there.
guest boot again
same_firmware again
expect again anchor-rc 0
[[ "$(sb again read)" == "$(hex "$marker")"* ]] ||
	fail "after a power cycle read '$(sb again read)', wrote $(hex "$marker")"
echo "ok: after a power cycle the anchor opens the volume again and the marker reads back"
echo "PASS"
