#!/bin/bash
# The appliance boots for real: OVMF (UEFI measured boot into a swtpm) starts
# Debian's kernel directly (-kernel/-initrd) with a dracut initramfs built
# with the sealboot module (initramfs/90sealboot) inside a Debian 12 root
# filesystem made with mmdebstrap, into which sealboot's Debian packages
# (built from this tree with dpkg-buildpackage, as tests/package does) were
# installed with dpkg -i, as an admin builds an image: the image's dracut
# configuration (/etc/dracut.conf.d/sealboot.conf) adds the module, and the
# package's update-initramfs trigger builds the initramfs the test boots.
# Shared QEMU/swtpm/root filesystem steps: tests/lib/appliance.sh.
# Disks as the appliance has them:
#   vda  the root filesystem (ext4, LABEL=sb-root; a qcow2 overlay per boot)
#   vdb  the policy disk (ext4, LABEL=sealboot): state/ (policy, signature,
#        admin.pub, PCR policy, anchor record) and bundles/os (a tiny guest)
#   vdc  the LUKS2 volume "data"
#   vdd  the admin's stick (LABEL=sb-admin, admin.pem), provisioning only
# The policy seals to PCRs 4 (kernel), 7 (Secure Boot), 9 (initramfs and
# command line, measured by the kernel's EFI stub) and 15 (sealboot's).
# Boots of one appliance (same swtpm state, same UEFI variable store):
#   provision  command line + sealboot.provision: the anchor unit does not
#              run; in the real root the admin's provision (tests'
#              sb-test) formats vdc, seals its key, signs a first PCR policy
#   reference  the approved command line: the anchor refuses (PCR 9 is not
#              yet approved), the console shows the PCRs, the boot halts;
#              the admin signs a PCR policy over PCRs 4, 7, 9 predicted
#              offline (pcr-policy sign --event-log --kernel --initrd
#              --cmdline --qemu-memory), equal to the values shown
#   good       the anchor verifies, unseals, opens vdc with dm-crypt, caps;
#              the root boots, libvirtd and sealboot-launch.service start the
#              nested guest (TCG), whose marker the test reads; a replay of
#              the public log after the cap gets nothing; a clean power-off
#              stops the guest through the unit
#   hostile    each: no volume opened, no key released, the reason on the
#              console, the boot halted: a bundle byte changed; the command
#              line changed (rd.break: PCR 9; rd.systemd.unit=emergency.target:
#              no shell); the policy disk signed by another admin key; a
#              look-alike LUKS disk with the same UUID and the real token;
#              an initramfs with an extra hook before the anchor that replays
#              the public log into PCR 15 and asks the TPM (nothing), and the
#              same hook when the approval leaves PCR 9 out (it gets the key:
#              the control)
#   upgrade    (docs/runbooks/admin.md section 9) the packages of version
#              N+1 (tools/set-version on a copy of the tree) installed over N
#              with dpkg -i in the root: the trigger rebuilds
#              /boot/initrd.img-KVER (its anchor says N+1); the admin predicts
#              and signs the new approval offline (pcr-policy sign
#              --event-log --kernel --initrd --cmdline --qemu-memory, the
#              command line as the good boot's /proc/cmdline); the upgraded
#              appliance's first boot unlocks and runs the guest, and
#              retires the old approval (pcr-policy activate); that
#              initramfs edited (rd.shell=1, same size): exit 6 naming PCR
#              9; version N's initramfs with its approval (it opened the
#              volume in the good boot): exit 6, retired
#
# The root filesystem is cached in $SEALBOOT_TEST_CACHE (default
# /var/cache/sealboot-test) under a key of its recipe; without the cache it
# is built (about 3 min); it never holds sealboot (the packages go in after
# it is unpacked, so the key is the recipe alone). Environment:
# SEALBOOT_QEMU_TIMEOUT (seconds per short boot,
# default 600; a boot into the root gets three times that).
set -eu -o pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/appliance.sh"

ADMIN=${SEALBOOT_ADMIN:?}
SIGN=${SEALBOOT_SIGN:?}
PROBE=${SEALBOOT_PROBE:?}
PKI=$SEALBOOT_SRC/tests/fixtures/pki
HERE=$SEALBOOT_SRC/tests/appliance/real-boot
UUID=5e4b0a7c-2f1d-4c3b-9a8e-1d2c3b4a5f60
DISK=/run/sealboot-disk # where the initramfs mounts the policy disk
QEMU_TIMEOUT=${SEALBOOT_QEMU_TIMEOUT:-600}

[ "$(id -u)" = 0 ] || skip "building the root filesystem and its disks needs root"
need openssl mke2fs debugfs cryptsetup unshare sha256sum dpkg-buildpackage dh dpkg-deb git
appl_setup i13-real
progress() { appl_progress "$@"; }
pem_json() { appl_pem_json "$@"; }

appl_rootfs_tar
R=$A/root
appl_root_unpack "$R"
KVER=$APPL_KVER
KERNEL=$APPL_KERNEL
in_root() { appl_in_root "$@"; }

# -- sealboot into the root: its Debian packages, as an admin builds an image --
progress "dpkg-buildpackage -b (version $(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$SEALBOOT_SRC/meson.build" | head -n 1))"
appl_build_debs "$SEALBOOT_SRC" "$A/deb"
VERSION=$APPL_DEB_VERSION
DEBS_N=("${APPL_DEBS[@]}")
# The image's dracut configuration first: the package's trigger builds the
# appliance's initramfs (/boot/initrd.img-KVER) with it.
appl_dracut_conf
progress "dpkg -i ${DEBS_N[*]##*/} (in the root; kernel $KVER)"
appl_install_debs "${DEBS_N[@]}"
[ -x "$R/usr/lib/dracut/modules.d/90sealboot/module-setup.sh" ] || fail "the dracut module was not installed"
[ -f "$R/lib/systemd/system/sealboot-launch.service" ] || fail "the launch unit was not installed"
! ls "$R"/usr/local/sbin/sealboot-* "$R"/usr/local/bin/sealboot-* >/dev/null 2>&1 ||
	fail "sealboot in /usr/local: not from the packages"
missing=$(in_root sh -c 'for b in /usr/sbin/sealboot-* /usr/bin/sealboot-*; do [ -e "$b" ] && ldd "$b"; done' | grep 'not found' || true)
[ -z "$missing" ] || fail "sealboot's libraries are missing in the root: $missing"
# The package's postinst enabled the unit (and, in this chroot, started nothing).
[ -L "$R/etc/systemd/system/multi-user.target.wants/sealboot-launch.service" ] ||
	fail "sealboot-launch's postinst did not enable sealboot-launch.service"
# The root filesystem's recipe leaves no initramfs in /boot: this one is
# the trigger's (update-initramfs: dracut with the image's configuration).
[ -s "$R/boot/initrd.img-$KVER" ] || fail "dpkg -i built no /boot/initrd.img-$KVER (the update-initramfs trigger): $(tail -n 20 "$A/dpkg.log")"
grep -q 'Processing triggers for dracut' "$A/dpkg.log" || fail "dpkg -i did not run dracut's update-initramfs trigger: $(tail -n 20 "$A/dpkg.log")"
for v in sealboot-anchor sealboot-admin sealboot-launch; do
	got=$(in_root "/usr/sbin/$v" --version)
	[ "$got" = "$v $VERSION" ] || fail "$v --version in the root says '$got', not '$v $VERSION'"
done
echo "ok: sealboot $VERSION installed from its packages; sealboot-launch.service enabled; the trigger built /boot/initrd.img-$KVER"
# The test's hands (never part of the product).
mkdir -p "$R/usr/local/libexec/sb-test"
cp "$HERE/sb-test" "$PROBE" "$R/usr/local/libexec/sb-test/"
cp "$HERE/sb-test.service" "$R/etc/systemd/system/"
in_root systemctl enable sb-test.service >/dev/null 2>&1 || fail "systemctl enable sb-test"
echo sealboot-appliance >"$R/etc/hostname"
printf 'LABEL=sb-root / ext4 defaults 0 1\n' >"$R/etc/fstab"

# -- the initramfs: the trigger's, from the root --
build_initrd() { # OUT MODULES
	appl_initrd "$1" "$2"
}
cp "$R/boot/initrd.img-$KVER" "$A/initrd.img"
appl_lsinitrd "$A/initrd.img" "$A/lsinitrd"
for f in usr/sbin/sealboot-anchor usr/lib/sealboot/sealboot-initrd sealboot-anchor.service \
	libtss2-tcti-device.so.0 dm-crypt.ko dm-verity.ko virtio_blk.ko ext4.ko; do
	grep -q "$f" "$A/lsinitrd" || fail "the initramfs lacks $f"
done
! grep -q 'libvirt' "$A/lsinitrd" || fail "the initramfs holds libvirt: $(grep libvirt "$A/lsinitrd" | head -n 3)"
! grep -q 'sealboot-launch' "$A/lsinitrd" || fail "the initramfs holds sealboot-launch"
# The attacker's initramfs: the same plus the module 91sbattack. Built now
# with a stand-in for the public log it replays (two PCR 15 events: the
# policy and the bundle's authority) to know its size; rebuilt with the real
# log after the good boot.
ATT=$R/usr/lib/dracut/modules.d/91sbattack
cp -r "$HERE/91sbattack" "$ATT"
printf '%064d\n%064d\n' 0 0 >"$ATT/events"
build_initrd "$A/initrd-hook.img" "sbattack"
rm -rf "$ATT" # not in the appliance's root disk
# One size for every initramfs booted (the approved one and the attacker's):
# QEMU writes the initrd's size into the kernel's setup header, which OVMF
# measures into PCR 4; the kernel skips the zeros after the archive.
INITRD_SIZE=$(stat -c %s "$A/initrd.img")
[ "$(stat -c %s "$A/initrd-hook.img")" -le "$INITRD_SIZE" ] || INITRD_SIZE=$(stat -c %s "$A/initrd-hook.img")
INITRD_SIZE=$(( (INITRD_SIZE / 1048576 + 1) * 1048576 ))
truncate -s "$INITRD_SIZE" "$A/initrd.img"
echo "ok: initramfs $(( $(stat -c %s "$A/initrd.img") / 1048576 )) MiB: the anchor, its TCTI, dm-crypt, dm-verity, virtio, ext4; no libvirt"

progress "root disk image"
root_image() {
	local mb
	mb=$(( $(du -sm "$R" | cut -f1) + 600 ))
	appl_ext4 "$R" "$A/root.img" sb-root "${mb}M"
}
root_image

# -- the appliance: keys, bundle (a tiny guest), signed policy --
progress "appliance: admin key, bundle, policy"
"$SEALBOOT_SRC/tests/lib/make-tiny-guest" "$A/guest" 2>"$A/mtg.err" || {
	rc=$?
	[ "$rc" != 77 ] || skip "$(sed -n 's/^SKIP: //p' "$A/mtg.err")"
	fail "make-tiny-guest exited $rc: $(cat "$A/mtg.err")"
}
P=$A/pdisk # the policy disk's contents
mkdir -p "$P/state" "$P/bundles/os"
cp "$A/guest/vmlinuz" "$A/guest/initrd.img" "$P/bundles/os/"
printf '%s sealboot.stay=1\n' "$(sed 's/sealboot.marker=[^ ]*/sealboot.marker=real-boot-ok/' "$A/guest/cmdline")" \
	>"$P/bundles/os/cmdline"
chmod 644 "$P/bundles/os/"*
"$SIGN" sign --key "$PKI/signer.key" --cert "$PKI/signer.crt" --name os --version 1 \
	--class acme-edge --payload kernel:vmlinuz --payload initrd:initrd.img \
	--payload cmdline:cmdline --no-progress "$P/bundles/os" >/dev/null 2>"$A/err" ||
	fail "sealboot-sign: $(cat "$A/err")"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$A/admin.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$A/other-admin.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null |
	openssl pkey -pubout -out "$A/zeroize.pub"
write_policy() { # SERIAL SEAL-PCRS
	cat >"$A/policy.json" <<JSON
{
  "format": "sealboot-appliance-policy",
  "format_version": 1,
  "appliance_class": "acme-edge",
  "serial": $1,
  "release_cas": ["$(pem_json "$PKI/release-ca.crt")"],
  "bundles": [{"name": "os", "path": "$DISK/bundles/os", "min_version": 1}],
  "seal_pcrs": [$2],
  "volumes": [{"uuid": "$UUID", "name": "data", "purpose": "data", "device": "/dev/vdc"}],
  "guest": {"vcpus": 1, "memory_mib": 256, "network": "none", "console": "log", "rng": true, "vtpm": false},
  "zeroize_key": "$(pem_json "$A/zeroize.pub")"
}
JSON
}
SEAL_PCRS="4, 7, 9, 15"
write_policy 1 "$SEAL_PCRS"
"$ADMIN" policy sign --key "$A/admin.pem" "$A/policy.json" "$P/state" 2>"$A/err" ||
	fail "policy sign: $(cat "$A/err")"
mkdir -p "$A/stick"
cp "$A/admin.pem" "$A/stick/"
appl_ext4 "$A/stick" "$A/stick.img" sb-admin 8M
truncate -s 32M "$A/data.img"
mkdir -p "$A/tpm"
cp "$APPL_FW/OVMF_VARS_4M.fd" "$A/vars.fd"

policy_disk() { # DIR IMAGE: the policy disk (no journal: mounted read-only at boot)
	appl_ext4 "$1" "$2" sealboot 64M -O ^has_journal
}
policy_disk "$P" "$A/policy.img"

# -- one boot --
# boot NAME KIND [EXTRA-CMDLINE [INITRD [POLICY-IMG [DATA-IMG]]]]
# KIND: root (runs into the root, powers off) or halt (expected to stop in the
# initramfs). Console with host timestamps (seconds.micro) in $A/NAME.console,
# without them in $A/NAME.log; the harness's report in $A/NAME.sb.
CMDLINE="console=ttyS0 root=LABEL=sb-root ro loglevel=4 systemd.show_status=1 systemd.status_unit_format=name panic=-1"
boot() {
	local name=$1 kind=$2 extra=${3:-} initrd=${4:-$A/initrd.img} pimg=${5:-$A/policy.img}
	local dimg=${6:-$A/data.img} limit=$QEMU_TIMEOUT t0=$SECONDS halted=0 stick=()
	[ "$kind" = root ] && limit=$((QEMU_TIMEOUT * 3))
	[[ "$extra" == *sealboot.provision* ]] &&
		stick=(-drive file="$A/stick.img",if=virtio,format=raw,readonly=on)
	rm -f "$A/$name.qcow2"
	qemu-img create -q -f qcow2 -F raw -b "$A/root.img" "$A/$name.qcow2"
	: >"$A/$name.sb"
	appl_boot "$name" "$limit" 'reboot: System halted' "$A/tpm" \
		-kernel "$KERNEL" -initrd "$initrd" -append "$CMDLINE${extra:+ $extra}" \
		-serial file:"$A/$name.sb" \
		-drive file="$A/$name.qcow2",if=virtio,format=qcow2 \
		-drive file="$pimg",if=virtio,format=raw \
		-drive file="$dimg",if=virtio,format=raw "${stick[@]}"
	[ "$APPL_WAITED" = matched ] && halted=1
	sed -i 's/\r$//; s/\x1b\[[0-9;=?]*[A-Za-z]//g' "$A/$name.sb"
	rm -f "$A/$name.qcow2"
	if [ "$APPL_WAITED" = timeout ]; then
		dump "$name"
		fail "boot $name: no power-off and no halt within $limit s"
	fi
	case $kind in
	halt) [ "$halted" = 1 ] || { dump "$name"; fail "boot $name: did not halt (qemu exit $APPL_QEMU_RC)"; } ;;
	root) grep -qx 'SB end' "$A/$name.sb" || { dump "$name"; fail "boot $name: the harness did not finish"; } ;;
	esac
	BOOT_SECONDS[$name]=$((SECONDS - t0))
	echo "ok: boot $name: $([ "$halted" = 1 ] && echo halted || echo powered off) after $((SECONDS - t0)) s"
}
declare -A BOOT_SECONDS=()
dump() { appl_dump "$@"; }
sb() { sed -n "s/^SB $2 \{0,1\}//p" "$A/$1.sb" | head -n 1; }
report() { sed -n "s/^SB $2 //p" "$A/$1.sb"; }
# A refused boot: the anchor's verdict and reason on the console, no key
# released, no mapping, the boot halted before the root was mounted.
# With "unsealed" the TPM did release the key to the anchor (the PCRs are the
# approved ones), which found it does not open this volume and wiped it.
refused() { # NAME EXIT REASON [unsealed]
	console_has "$1" "THE APPLIANCE REFUSED TO START (anchor exit $2)"
	console_has "$1" "$3"
	if [ "${4:-}" = unsealed ]; then
		console_has "$1" "they unlocked nothing and were wiped from memory; the failure was measured, so the PCRs are capped"
		console_has "$1" "the appliance stays locked"
	else
		console_has "$1" "no key was released; the appliance stays locked"
		console_lacks "$1" "volume key(s) released by the TPM"
	fi
	console_has "$1" "reboot: System halted"
	console_lacks "$1" "sealboot-anchor: OK"
	console_lacks "$1" "Reached target initrd-root-fs.target"
	console_lacks "$1" "Switching root"
	echo "ok: $1: anchor exit $2, '$(grep -m1 -o "FAILED ([a-z]*): .*" "$A/$1.log" | cut -c1-110)'; halted, no key, no mapping"
}

# 1. Provisioning boot: the admin's provision in the real root.
progress "boot 1: provisioning"
boot provision root sealboot.provision
[ "$(sb provision provision-rc)" = 0 ] || { dump provision; fail "provision: $(report provision provision-out)"; }
console_lacks provision "sealboot: measured unlock starting"
rm -rf "$A/prov"
mkdir "$A/prov"
debugfs -R "rdump /state /reference $A/prov" "$A/policy.img" >/dev/null 2>&1 || fail "debugfs rdump"
[ -f "$A/prov/state/pcr-policy.json" ] && [ -f "$A/prov/state/anchor-record" ] ||
	fail "provisioning left no pcr-policy.json/anchor-record: $(ls "$A/prov/state")"
[ "$(dd if="$A/data.img" bs=6 count=1 2>/dev/null)" = "LUKS"$'\xba'$'\xbe' ] || fail "vdc was not formatted as LUKS"
rm -rf "$P/state" && cp -a "$A/prov/state" "$P/state"
cp -a "$A/prov/reference" "$P/" 2>/dev/null || true
echo "ok: provisioned in the guest: LUKS2 on vdc, key sealed, admin key in TPM NV"

# 2. The approval of the PCR state (4, 7, 9; 15 predicted by sealboot-admin).
# pcr_from BOOT N: PCR N as boot BOOT's console showed it.
pcr_from() { sed -n "s/.*sealboot:   PCR $2 sha256 \([0-9a-fA-F]\{64\}\)$/\1/p" "$A/$1.log" | tail -n 1 | tr A-F a-f; }
# admin_ws CMD...: the admin's workstation: CMD with the policy disk's
# contents ($P, or $WS_DISK) at the paths the policy names (a private mount
# namespace: the host's /run is untouched).
admin_ws() {
	unshare -m sh -c 'mount -t tmpfs tmpfs /run && mkdir -p "$1" && mount --bind "$2" "$1" && shift 2 && exec "$@"' \
		sh "$DISK" "${WS_DISK:-$P}" "$@"
}
progress "boot 2: reference (the approved command line, before approval)"
boot reference halt
refused reference 6 "PCR 9 differs from the value the admin approved"
# The admin signs the values predicted offline from the artifacts and the
# reference boot's firmware event log (`pcr-policy sign --event-log --kernel
# --initrd --cmdline --qemu-memory`); they must equal what the reference
# boot's TPM reached.
admin_ws "$ADMIN" pcr-policy sign --key "$A/admin.pem" \
	--event-log "$P/reference/firmware-eventlog.bin" --kernel "$KERNEL" \
	--initrd "$A/initrd.img" --cmdline "$CMDLINE initrd=initrd" --qemu-memory 2048 \
	"$DISK/state" >"$A/approve.out" 2>&1 ||
	fail "pcr-policy sign (predicted): $(cat "$A/approve.out")"
for n in 4 7 9; do
	grep -q "\"pcr\": $n, \"sha256\": \"$(pcr_from reference "$n")\"" "$P/state/pcr-policy.json" ||
		fail "predicted PCR $n is not the value the reference boot reached: $(cat "$P/state/pcr-policy.json")"
done
echo "ok: PCR policy signed over predicted PCRs 4, 7, 9: equal to the reference boot's"
policy_disk "$P" "$A/policy.img"

# 3. The good boot, the whole chain.
progress "boot 3: good (anchor, root, libvirtd, sealboot-launch, nested guest)"
cp "$A/data.img" "$A/data.before"
boot good root
[ "$(sb good status-rc)" = 0 ] || fail "status: $(report good status-out)"
[[ "$(report good status-out)" == *'sealboot: OK: 1 bundle(s) verified, 1 volume(s) unlocked; event log matches the TPM'* ]] ||
	fail "status: $(report good status-out)"
console_has good "sealboot-anchor: OK: 1 bundle(s) verified, 1 volume(s) opened; PCRs capped"
[[ " $(sb good mapper) " == *" data "* ]] || fail "no /dev/mapper/data in the root: $(sb good mapper)"
grep -qx 'SB policy-disk-mounted' "$A/good.sb" || fail "the policy disk is not mounted in the root"
echo "ok: good: anchor opened the volume with dm-crypt and capped; in the root: status OK, /dev/mapper/data, policy disk at $DISK"
[ "$(sb good post-cap-probe-rc)" = 3 ] ||
	fail "after the cap a replay got: $(report good post-cap-probe) (rc $(sb good post-cap-probe-rc))"
echo "ok: good: the public log replayed after the cap: $(report good post-cap-probe | head -n 1 | cut -c1-110)"
[ "$(sb good launch-unit)" = active ] || fail "sealboot-launch.service: $(sb good launch-unit): $(report good launch-out)"
[[ "$(sb good guest)" == *"SEALBOOT-GUEST-MARKER real-boot-ok"* ]] ||
	{ dump good; fail "no marker from the nested guest: '$(sb good guest)'"; }
# Never KVM inside this TCG appliance: QEMU's emulated SVM passes a probe
# but hangs real guests (adapters/kvm.c refuses it).
[[ "$(report good launch-out)" == *"running (TCG: "* ]] ||
	fail "good: the nested guest did not run under TCG: $(report good launch-out)"
echo "ok: good: sealboot-launch.service started the nested guest: $(sb good guest); $(report good launch-out | grep -o 'running (TCG: [^)]*)' | head -n 1)"
console_has good "sealboot-launch: guest sealboot-guest stopped"
console_lacks good "forced: it did not shut down"
echo "ok: good: the unit stopped the guest at power-off: $(grep -m1 -o 'sealboot-launch: guest sealboot-guest stopped.*' "$A/good.log" | cut -c1-100)"
if [ -n "${SEALBOOT_BENCH_OUT:-}" ]; then
	cp "$A/good.t0" "$SEALBOOT_BENCH_OUT.t0"
	cp "$A/good.console" "$SEALBOOT_BENCH_OUT.console"
fi
"$SEALBOOT_SRC/bench/bench-boot" "$A/good.t0" "$A/good.console" || true
[ -z "${SEALBOOT_ONLY_GOOD:-}" ] || { progress "PASS (good boot only)"; exit 0; }

# 4. Hostile boots (SEALBOOT_SKIP_HOSTILE=1 leaves them out: for work on
# the upgrade below only).
if [ -z "${SEALBOOT_SKIP_HOSTILE:-}" ]; then
progress "boot 4: a bundle byte changed"
cp "$P/bundles/os/cmdline" "$A/cmdline.good"
printf 'X' | dd of="$P/bundles/os/cmdline" bs=1 seek=0 conv=notrunc 2>/dev/null
policy_disk "$P" "$A/policy-tampered.img"
cp "$A/cmdline.good" "$P/bundles/os/cmdline"
boot bundle halt "" "" "$A/policy-tampered.img"
refused bundle 4 "FAILED (bundle)"

progress "boot 5: the kernel command line changed (rd.break)"
boot cmdline halt "rd.break"
refused cmdline 6 "PCR 9 differs from the value the admin approved"

# rd.systemd.unit: the initramfs's own target (systemd.unit= applies only to
# the real root, after the anchor): emergency mode before the anchor runs.
progress "boot 6: the command line asks for an emergency shell in the initramfs"
boot emergency halt "rd.systemd.unit=emergency.target"
console_has emergency "a shell was asked for"
console_has emergency "reboot: System halted"
console_lacks emergency "volume key(s) released by the TPM"
console_lacks emergency "sealboot: running sealboot-anchor"
console_lacks emergency "Give root password"
console_lacks emergency "Entering emergency mode"
echo "ok: emergency: no shell, the boot halted: $(grep -m1 -o 'sealboot: a shell was asked for.*' "$A/emergency.log")"

progress "boot 7: the policy disk signed by another admin key"
rm -rf "$A/other" && cp -a "$P" "$A/other"
rm -f "$A/other/state/policy.json" "$A/other/state/policy.json.sig" "$A/other/state/admin.pub"
"$ADMIN" policy sign --key "$A/other-admin.pem" "$A/policy.json" "$A/other/state" 2>"$A/err" ||
	fail "policy sign (other key): $(cat "$A/err")"
policy_disk "$A/other" "$A/policy-other.img"
boot other-key halt "" "" "$A/policy-other.img"
refused other-key 3 "FAILED (policy)"

progress "boot 8: a look-alike LUKS disk with the same UUID and the real token"
cp "$A/data.img" "$A/fake.img"
cryptsetup token export --token-id 0 "$A/data.img" >"$A/token.json"
truncate -s 0 "$A/fake.img" && truncate -s 32M "$A/fake.img"
printf 'attacker knows this' | cryptsetup luksFormat --type luks2 --uuid "$UUID" --batch-mode \
	--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file - "$A/fake.img"
cryptsetup token import --token-id 0 "$A/fake.img" <"$A/token.json"
boot lookalike halt "" "" "" "$A/fake.img"
refused lookalike 7 "FAILED (volume)" unsealed
console_has lookalike "it is not this volume's key"

progress "boot 9: an initramfs with an extra hook before the anchor"
# The attacker's knowledge: the public log of the good boot (PCR 15 events
# up to the volumes), the approval on the policy disk.
cp -r "$HERE/91sbattack" "$ATT"
report good eventlog | sed -n '/"pcr":15/{/sealboot volume/q;s/.*"digest":"\([0-9a-f]*\)".*/\1/p}' >"$ATT/events"
[ "$(wc -l <"$ATT/events")" = 2 ] || fail "the public log of the good boot has not 2 PCR 15 events before the volumes: $(cat "$ATT/events")"
build_initrd "$A/initrd-hook.img" "sealboot sbattack"
[ "$(stat -c %s "$A/initrd-hook.img")" -le "$INITRD_SIZE" ] || fail "the attacker's initramfs is larger than $INITRD_SIZE"
truncate -s "$INITRD_SIZE" "$A/initrd-hook.img"
boot hook halt "" "$A/initrd-hook.img"
console_has hook "sb-attack: replayed"
console_has hook "sb-attack: nothing:"
console_lacks hook "sb-attack: RELEASED"
echo "ok: hook: $(grep -m1 -o 'sb-attack: nothing:.*' "$A/hook.log" | cut -c1-120)"
refused hook 9 "was already extended in this boot"

# The control: the same hook, when the admin's approval leaves PCR 9 out.
progress "boot 10: the same hook, its PCR 9 approved (control)"
rm -rf "$A/weak" && cp -a "$P" "$A/weak"
# The admin approves PCR 9 as the hook's initramfs measures it: as good as
# leaving PCR 9 out of the sealing set.
WS_DISK=$A/weak admin_ws "$ADMIN" pcr-policy sign --key "$A/admin.pem" \
	--pcr "4=$(pcr_from reference 4)" --pcr "7=$(pcr_from reference 7)" --pcr "9=$(pcr_from hook 9)" \
	"$DISK/state" >"$A/weak.out" 2>&1 || fail "pcr-policy sign (control): $(cat "$A/weak.out")"
policy_disk "$A/weak" "$A/policy-weak.img"
boot control halt "" "$A/initrd-hook.img" "$A/policy-weak.img"
console_has control "sb-attack: RELEASED"
echo "ok: control: with the hook's PCR 9 approved (as good as not sealing to 9), the hook gets the key"
fi

# 5. Upgrade (docs/runbooks/admin.md, section 9): sealboot N -> N+1 on the
# appliance's root by its packages; the trigger rebuilds the initramfs; the
# admin signs the new approval offline from the kernel, the new initramfs
# and the command line as /proc/cmdline showed it; the upgraded appliance
# unlocks on its first boot. Then an initramfs nobody approved: locked.
NEXT=$(echo "$VERSION" | awk -F. '{ printf "%d.%d.%d", $1, $2, $3 + 1 }')
progress "upgrade: the packages of version $NEXT (tools/set-version on a copy of the tree)"
appl_build_debs "$SEALBOOT_SRC" "$A/deb-next" "$NEXT"
[ "$APPL_DEB_VERSION" = "$NEXT" ] || fail "the packages of the next version say $APPL_DEB_VERSION, not $NEXT"
DEBS_NEXT=("${APPL_DEBS[@]}")
OLD_INITRD=$(sha256sum <"$R/boot/initrd.img-$KVER")
progress "upgrade: dpkg -i ${DEBS_NEXT[*]##*/} (in the root)"
appl_install_debs "${DEBS_NEXT[@]}"
grep -q "Unpacking sealboot-anchor ($NEXT) over ($VERSION)" "$A/dpkg.log" ||
	fail "dpkg -i did not upgrade sealboot-anchor $VERSION to $NEXT: $(tail -n 20 "$A/dpkg.log")"
grep -q 'Processing triggers for dracut' "$A/dpkg.log" ||
	fail "the upgrade did not run dracut's update-initramfs trigger: $(tail -n 20 "$A/dpkg.log")"
[ "$(sha256sum <"$R/boot/initrd.img-$KVER")" != "$OLD_INITRD" ] ||
	fail "the upgrade left /boot/initrd.img-$KVER as it was"
for v in sealboot-anchor sealboot-admin sealboot-launch; do
	got=$(in_root "/usr/sbin/$v" --version)
	[ "$got" = "$v $NEXT" ] || fail "after the upgrade $v --version says '$got', not '$v $NEXT'"
done
# The initramfs the appliance will boot: the trigger's, from the root, as is.
cp "$R/boot/initrd.img-$KVER" "$A/initrd-next.img"
appl_initrd_file "$A/initrd-next.img" usr/sbin/sealboot-anchor "$A/anchor-in-initrd"
chmod +x "$A/anchor-in-initrd"
got=$("$A/anchor-in-initrd" --version)
[ "$got" = "sealboot-anchor $NEXT" ] || fail "the rebuilt initramfs's anchor says '$got', not 'sealboot-anchor $NEXT'"
echo "ok: upgrade $VERSION -> $NEXT by dpkg -i: the trigger rebuilt /boot/initrd.img-$KVER; its anchor says $NEXT"
progress "upgrade: root disk image"
root_image

# The admin's workstation (section 9, step 3): the new initramfs and the
# kernel copied from the appliance, the command line as /proc/cmdline shows
# it (the good boot's), the reference event log (the provisioning boot's
# firmware log), the current state with its approval.
WS=$A/ws
mkdir -p "$WS"
cp "$R/boot/initrd.img-$KVER" "$R/boot/vmlinuz-$KVER" "$P/reference/firmware-eventlog.bin" "$WS/"
PROC_CMDLINE=$(sb good cmdline)
[ -n "$PROC_CMDLINE" ] || fail "the good boot did not report /proc/cmdline"
SERIAL_BEFORE=$(sed -n 's/.*"serial": *\([0-9]*\).*/\1/p' "$P/state/pcr-policy.json" | head -n 1)
"$ADMIN" pcr-policy predict --event-log "$WS/firmware-eventlog.bin" \
	--kernel "$WS/vmlinuz-$KVER" --initrd "$WS/initrd.img-$KVER" \
	--cmdline "$PROC_CMDLINE" --qemu-memory "$APPL_QEMU_MEMORY" --pcrs 4,9 \
	>"$A/predict-next.out" 2>&1 || fail "pcr-policy predict (upgrade): $(cat "$A/predict-next.out")"
admin_ws "$ADMIN" pcr-policy sign --key "$A/admin.pem" --event-log "$WS/firmware-eventlog.bin" \
	--kernel "$WS/vmlinuz-$KVER" --initrd "$WS/initrd.img-$KVER" \
	--cmdline "$PROC_CMDLINE" --qemu-memory "$APPL_QEMU_MEMORY" "$DISK/state" \
	>"$A/approve-next.out" 2>&1 || fail "pcr-policy sign (upgrade): $(cat "$A/approve-next.out")"
SERIAL_AFTER=$(sed -n 's/.*"serial": *\([0-9]*\).*/\1/p' "$P/state/pcr-policy.json" | head -n 1)
[ "$SERIAL_AFTER" = $((SERIAL_BEFORE + 1)) ] ||
	fail "the upgrade's approval has serial $SERIAL_AFTER, not $((SERIAL_BEFORE + 1))"
for n in 4 9; do
	h=$(sed -n "s/^$n=\([0-9a-f]\{64\}\)$/\1/p" "$A/predict-next.out")
	[ -n "$h" ] || fail "pcr-policy predict printed no PCR $n: $(cat "$A/predict-next.out")"
	grep -q "\"pcr\": $n, \"sha256\": \"$h\"" "$P/state/pcr-policy.json" ||
		fail "the signed PCR $n is not the predicted $h: $(cat "$P/state/pcr-policy.json")"
done
[ "$(grep -o '"pcr": 9, "sha256": "[0-9a-f]*"' "$P/state/pcr-policy.json")" != "\"pcr\": 9, \"sha256\": \"$(pcr_from reference 9)\"" ] ||
	fail "the upgrade's approval has the old PCR 9"
cp "$A/policy.img" "$A/policy-old.img" # version N's approval, for the rollback below
touch "$P/sb-test-activate" # the admin retires the old approval after the first boot (step 4)
policy_disk "$P" "$A/policy.img"
rm -f "$P/sb-test-activate"
echo "ok: the admin signed approval serial $SERIAL_AFTER offline for the new initramfs (PCRs 4, 9 as predicted)"

progress "boot 11: the upgraded appliance, first boot"
boot upgraded root "" "$A/initrd-next.img"
[ "$(sb upgraded status-rc)" = 0 ] || fail "upgraded: status: $(report upgraded status-out)"
[[ "$(report upgraded status-out)" == *'sealboot: OK: 1 bundle(s) verified, 1 volume(s) unlocked'* ]] ||
	fail "upgraded: status: $(report upgraded status-out)"
console_has upgraded "sealboot-anchor: OK: 1 bundle(s) verified, 1 volume(s) opened; PCRs capped"
[[ " $(sb upgraded mapper) " == *" data "* ]] || fail "upgraded: no /dev/mapper/data: $(sb upgraded mapper)"
[ "$(sb upgraded version)" = "sealboot-anchor $NEXT" ] || fail "upgraded: the root's anchor says $(sb upgraded version)"
[ "$(sb upgraded launch-unit)" = active ] || fail "upgraded: sealboot-launch.service: $(sb upgraded launch-unit)"
[[ "$(sb upgraded guest)" == *"SEALBOOT-GUEST-MARKER real-boot-ok"* ]] ||
	{ dump upgraded; fail "upgraded: no marker from the nested guest: '$(sb upgraded guest)'"; }
[ "$(sb upgraded activate-rc)" = 0 ] || fail "upgraded: pcr-policy activate: $(report upgraded activate-out)"
echo "ok: upgraded: the admin retired the approvals before serial $SERIAL_AFTER: $(report upgraded activate-out | head -n 1 | cut -c1-110)"
echo "ok: upgraded: sealboot $NEXT unlocked on its first boot (status OK, /dev/mapper/data), the guest runs: $(sb upgraded guest)"

progress "boot 12: an initramfs nobody approved"
# The upgraded initramfs edited on the appliance's disk: rd.shell=0 made
# rd.shell=1 (the same size: under QEMU's direct kernel boot the initrd's
# size is in the kernel's setup header, PCR 4; on hardware only PCR 9
# changes).
cp "$A/initrd-next.img" "$A/initrd-unapproved.img"
off=$(grep -obUa 'rd.shell=0 rd.emergency=' "$A/initrd-unapproved.img" | head -n 1 | cut -d: -f1)
[ -n "$off" ] || fail "the initramfs has no rd.shell=0 to change"
printf 'rd.shell=1' | dd of="$A/initrd-unapproved.img" bs=1 seek="$off" conv=notrunc 2>/dev/null
cmp -s "$A/initrd-next.img" "$A/initrd-unapproved.img" && fail "the unapproved initramfs is the approved one"
boot unapproved halt "" "$A/initrd-unapproved.img"
refused unapproved 6 "PCR 9 differs from the value the admin approved (PCR policy serial $SERIAL_AFTER)"

# Rolled back: version N's initramfs with version N's approval, the pair
# that opened the volume in boot 3 (the control), after the activation.
progress "boot 13: version $VERSION's initramfs and approval again (rolled back)"
boot rollback halt "" "$A/initrd.img" "$A/policy-old.img"
refused rollback 6 "the PCR policy (serial $SERIAL_BEFORE) was retired by a newer one"

echo "boot wall times (s): $(for n in provision reference good bundle cmdline emergency other-key lookalike hook control upgraded unapproved rollback; do printf '%s=%s ' "$n" "${BOOT_SECONDS[$n]:-}"; done)"
progress "PASS"
