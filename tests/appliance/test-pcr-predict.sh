#!/bin/bash
# The measured chain before the anchor, predicted offline and attacked, on a
# real boot: QEMU (TCG, q35 without SMM, -m 512) with OVMF measuring into a
# swtpm, Debian's kernel started by OVMF's direct kernel boot, a busybox
# initramfs (tests/appliance/predict-init) holding sealboot-admin,
# sealboot-anchor, probe-unseal and tpm2-tools. The per-boot data (state,
# bundle, job) comes on a disk, so the initramfs and the command line are
# the same from boot to boot and PCR 9 is predictable. One appliance:
#   1. provision, sealed to PCRs 4, 7, 15 (signed with
#      --allow-unmeasured-boot); `sealboot-admin pcr-policy predict` from the
#      artifacts (kernel, initrd, command line with OVMF's " initrd=initrd")
#      equals the PCRs 4 and 9 the guest's TPM reached; the kernel's
#      Authenticode digest equals osslsigncode's;
#   2. a good boot opens the volume; after the anchor's cap the TPM releases
#      nothing (probe-unseal); its PCR 15 events are public;
#   3. control: an initramfs with an extra hook before the anchor replays them
#      into PCR 15 (tpm2_pcrextend) and unseals with tpm2-tools and the
#      admin's signed approval (PolicyPCR, PolicyNV, PolicyAuthorize): the
#      TPM gives the 64-byte volume key (and probe-unseal, sealboot's own
#      path, agrees). Without PCR 9 in the seal the pre-anchor code gets it;
#   4. the admin updates the initramfs and re-signs the policy with PCRs
#      4, 7, 9, 15: a new approval computed offline from the first boot's
#      event log and the new artifacts (pcr-policy sign --event-log ...),
#      no re-seal;
#   5. the updated initramfs boots: PCRs 4 and 9 are the predicted ones, the
#      anchor opens the volume;
#   6. the same hook against it: refused, nothing released; its PCR 9 is what
#      predict says for that initramfs, not the approved one;
#   7. a changed command line (rd.break): the anchor exits 6 naming PCR 9,
#      whose value predict computed from that command line.
# PCR 4 under QEMU's direct boot covers the kernel as QEMU rewrote its setup
# header (the initrd's address and size): predicted with --qemu-memory 512;
# every initrd is padded to one size all the same, as an appliance image
# would be rebuilt. About 7 boots of 15 s each under TCG.
set -eu -o pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"

ADMIN=${SEALBOOT_ADMIN:?}
ANCHOR=${SEALBOOT_ANCHOR:?}
PROBE=${SEALBOOT_PROBE:?}
SIGN=${SEALBOOT_SIGN:?}
PKI=$SEALBOOT_SRC/tests/fixtures/pki
HERE=$SEALBOOT_SRC/tests/appliance
UUID=6a1f0c3e-7b2d-4e5f-8a9b-0c1d2e3f4a5b
QEMU_TIMEOUT=${SEALBOOT_QEMU_TIMEOUT:-120}
MEM=512
CMDLINE="console=ttyS0 panic=-1 quiet"
SEEN="$CMDLINE initrd=initrd" # what the kernel receives from OVMF

[ "$(uname -m)" = x86_64 ] || skip "the guest is x86_64 and uses this host's libraries"
need qemu-system-x86_64 swtpm openssl ldd awk base64 truncate tar setpriv osslsigncode cryptsetup paste
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
	skip "a static /bin/busybox is needed for the guest (apt-get install busybox-static)"
fi
TPM2=$(command -v tpm2 || true)
[ -n "$TPM2" ] || skip "tpm2-tools (the multi-call tpm2 binary) is not installed"
KERNEL=${SEALBOOT_GUEST_KERNEL:-$(printf '%s\n' /boot/vmlinuz-* | sort -V | tail -n 1)}
[ -r "$KERNEL" ] || skip "cannot read a guest kernel ${KERNEL:-/boot/vmlinuz-*} (linux-image-amd64, as root)"
KVER=${KERNEL##*/vmlinuz-}
MODDIR=/lib/modules/$KVER
[ -r "$MODDIR/modules.dep" ] || skip "no modules for kernel $KVER in $MODDIR"
FW=/usr/share/OVMF
for f in OVMF_CODE_4M.fd OVMF_VARS_4M.fd; do
	[ -r "$FW/$f" ] || skip "no UEFI firmware $FW/$f (apt-get install ovmf)"
done

# The shared appliance steps (tests/lib/appliance.sh): scratch directory,
# cleanup of QEMU and swtpm, one boot. This guest: QEMU's default CPU,
# $MEM MiB (pcr-policy --qemu-memory), one vCPU.
. "$SEALBOOT_SRC/tests/lib/appliance.sh"
appl_setup i10a-predict
APPL_QEMU_CPU='' APPL_QEMU_MEMORY=$MEM APPL_QEMU_SMP=1
pem_json() { awk '{printf "%s\\n", $0}' "$1"; }

# -- the initramfs: busybox, the tools and their libraries, modules --
R=$A/root
mkdir -p "$R"/{bin,proc,sys,dev,run,tmp,modules,lib64,lib/x86_64-linux-gnu}
cp /bin/busybox "$R/bin/"
for t in sh mount mkdir sleep cat sed grep tr tar sync insmod poweroff base64 wc rm; do
	ln -s busybox "$R/bin/$t"
done
cp "$ADMIN" "$R/bin/sealboot-admin"
cp "$ANCHOR" "$R/bin/sealboot-anchor"
cp "$PROBE" "$R/bin/probe-unseal"
cp "$TPM2" "$R/bin/tpm2"
tcti=$(ls /usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0 /lib/x86_64-linux-gnu/libtss2-tcti-device.so.0 2>/dev/null | head -n 1)
[ -n "$tcti" ] || skip "libtss2-tcti-device.so.0 is not installed"
for lib in $(ldd "$ADMIN" "$ANCHOR" "$PROBE" "$TPM2" "$tcti" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u) "$tcti"; do
	cp -L "$lib" "$R/lib/x86_64-linux-gnu/"
done
cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"
declare -A loaded=()
load_module() { # PATH (as in modules.dep), dependencies first
	local path=$1 dep deps
	[ -z "${loaded[$path]:-}" ] || return 0
	loaded[$path]=1
	read -ra deps < <(awk -v m="$path:" '$1 == m { $1 = ""; print }' "$MODDIR/modules.dep")
	for dep in "${deps[@]}"; do load_module "$dep"; done
	case $path in
	*.ko) cp "$MODDIR/$path" "$R/modules/" ;;
	*.ko.xz) /bin/busybox xzcat "$MODDIR/$path" >"$R/modules/$(basename "$path" .xz)" ;;
	*) skip "module $path: compression not handled here" ;;
	esac
	basename "${path%.xz}" >>"$R/modules/order"
}
: >"$R/modules/order"
for m in virtio_pci virtio_blk tpm_tis dm-mod dm-crypt aes_generic ecb xts algif_skcipher; do
	path=$(awk -v m="$m" '{ p = $1; sub(/:$/, "", p); n = p; sub(/.*\//, "", n); sub(/\.ko.*/, "", n);
		gsub(/-/, "_", n); mm = m; gsub(/-/, "_", mm); if (n == mm) { print p; exit } }' "$MODDIR/modules.dep")
	[ -n "$path" ] && load_module "$path"
done
cp "$HERE/predict-init" "$R/init"
chmod 755 "$R/init"
INITRD_SIZE=$(( ($( (cd "$R" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) | wc -c) / 1048576 + 2) * 1048576 ))

# initrd NAME [DIR]: the base archive, then DIR's files as a second archive
# (the kernel unpacks them in order), padded to INITRD_SIZE.
initrd() {
	(cd "$R" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$A/$1.img"
	if [ -n "${2:-}" ]; then
		(cd "$2" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) >>"$A/$1.img"
	fi
	[ "$(stat -c %s "$A/$1.img")" -le "$INITRD_SIZE" ] || fail "initrd $1 too large"
	truncate -s "$INITRD_SIZE" "$A/$1.img"
}

# -- the appliance --
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$A/admin.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null |
	openssl pkey -pubout -out "$A/zeroize.pub"
mkdir -p "$A/bundle" "$A/state" "$A/tpm"
printf 'the guest image\n' >"$A/bundle/disk.img"
"$SIGN" sign --key "$PKI/signer.key" --cert "$PKI/signer.crt" --name os --version 1 \
	--class acme-edge --payload disk:disk.img --force --no-progress "$A/bundle" \
	>/dev/null 2>"$A/err" || fail "sealboot-sign: $(cat "$A/err")"
write_policy() { # SERIAL SEAL_PCRS
	cat >"$A/policy.json" <<JSON
{"format": "sealboot-appliance-policy", "format_version": 1, "appliance_class": "acme-edge",
 "serial": $1, "release_cas": ["$(pem_json "$PKI/release-ca.crt")"],
 "bundles": [{"name": "os", "path": "$A/bundle", "min_version": 1}],
 "seal_pcrs": [$2],
 "volumes": [{"uuid": "$UUID", "name": "data", "purpose": "data", "device": "/dev/vdb"}],
 "guest": {"vcpus": 1, "memory_mib": 256, "network": "none", "console": "log", "rng": true, "vtpm": false},
 "zeroize_key": "$(pem_json "$A/zeroize.pub")"}
JSON
}
cp "$FW/OVMF_VARS_4M.fd" "$A/vars.fd"
truncate -s 32M "$A/data.img"

# guest NAME JOB INITRD [EXTRA-CMDLINE]: one boot; its report in $A/NAME.sb
guest() {
	local name=$1 job=$2 img=$3 extra=${4:-} rc=0 t0=$SECONDS
	local x=$A/xfer-$name
	rm -rf "$x"
	# The bundle at the same path as on the host, where the admin's
	# pcr-policy sign verifies it.
	mkdir -p "$x/var/lib/sealboot" "$x$A"
	cp -a "$A/state/." "$x/var/lib/sealboot/"
	cp -a "$A/bundle" "$x$A/bundle"
	echo "$job" >"$x/sealboot-job"
	[ "$job" != provision ] || cp "$A/admin.pem" "$x/admin.pem"
	tar -cf "$A/xfer.img" -C "$x" .
	truncate -s 8M "$A/xfer.img"
	# The console (without timestamps) goes to $A/NAME.console: $A/NAME.log
	# is the guest's event log, below.
	appl_boot "$name" "$QEMU_TIMEOUT" '' "$A/tpm" \
		-kernel "$KERNEL" -initrd "$A/$img.img" -append "$CMDLINE$extra" \
		-serial file:"$A/$name.sb" \
		-drive file="$A/xfer.img",if=virtio,format=raw \
		-drive file="$A/data.img",if=virtio,format=raw
	mv "$A/$name.log" "$A/$name.console"
	rc=$APPL_QEMU_RC
	[ "$APPL_WAITED" != timeout ] || rc=timeout
	sed -i 's/\r$//; s/\x1b\[[0-9;=]*[A-Za-z]//g' "$A/$name.sb"
	if [ "$rc" != 0 ] || ! grep -qx 'SB end' "$A/$name.sb"; then
		cat "$A/$name.qemu" >&2
		tail -n 30 "$A/$name.console" >&2 || true
		cat "$A/$name.sb" >&2 || true
		fail "boot $name: the guest did not finish (qemu: $rc)"
	fi
	sed -n 's/^SB log //p' "$A/$name.sb" | base64 -d >"$A/$name.log"
	echo "ok: boot $name ($job, initrd $img${extra:+, command line +$extra}) in $((SECONDS - t0)) s"
}
sb() { sed -n "s/^SB $2 \{0,1\}//p" "$A/$1.sb" | head -n 1; }
pcr() { sb "$1" "pcr $2" | tr 'A-F' 'a-f'; }
predict() { # ARGS...: sealboot-admin pcr-policy predict, output in $A/predict
	"$ADMIN" pcr-policy predict "$@" >"$A/predict" 2>"$A/err" || fail "predict $*: $(cat "$A/err")"
}
predicted() { sed -n "s/^$1=//p" "$A/predict"; }
unhex() { printf "$(sed 's/../\\x&/g')"; } # hex on stdin -> bytes on stdout
der_int() { # HEX: an ASN.1 INTEGER, as hex
	local h=$1
	while [ ${#h} -gt 2 ] && [ "${h:0:2}" = 00 ]; do h=${h:2}; done
	case ${h:0:1} in [89a-f]) h=00$h ;; esac
	printf '02%02x%s' $((${#h} / 2)) "$h"
}
# hook NAME BOOT: the attacker's initramfs addition, from public material
# only: BOOT's PCR 15 events (the public event log), the volume's LUKS2
# token (the sealed blob, in the header), the admin's public key and signed
# approval (in the state directory). It replays PCR 15 with tpm2_pcrextend,
# then unseals with tpm2-tools alone: re-create the storage primary, load
# the sealed object, verify the approval's signature (ticket), satisfy
# PolicyPCR + PolicyNV and PolicyAuthorize, unseal. It prints how many bytes
# the TPM gave, never the key; then asks once more through probe-unseal.
hook() {
	local d=$A/$1 ap=$A/state/pcr-policy.json tok body r s
	mkdir -p "$d/t2"
	tok=$(cryptsetup token export --token-id 0 "$A/data.img") || fail "no token on the volume"
	sed 's/.*"tpm2_public": *"\([^"]*\)".*/\1/' <<<"$tok" | base64 -d >"$d/t2/pub.bin"
	sed 's/.*"tpm2_private": *"\([^"]*\)".*/\1/' <<<"$tok" | base64 -d >"$d/t2/priv.bin"
	printf '%016x' "$(sed -n 's/.*"serial": \([0-9]*\).*/\1/p' "$ap")" | unhex >"$d/t2/serial.bin"
	sed -n 's/.*{"pcr": [0-9]*, "sha256": "\([0-9a-f]*\)"}.*/\1/p' "$ap" | tr -d '\n' | unhex >"$d/t2/pcrs.bin"
	pcrs=sha256:$(sed -n 's/.*{"pcr": \([0-9]*\), .*/\1/p' "$ap" | paste -sd,)
	r=$(sed -n 's/.*"r": "\([0-9a-f]*\)".*/\1/p' "$ap")
	s=$(sed -n 's/.*"s": "\([0-9a-f]*\)".*/\1/p' "$ap")
	body=$(der_int "$r")$(der_int "$s")
	printf '30%02x%s' $((${#body} / 2)) "$body" | unhex >"$d/t2/sig.der"
	{
		echo '#!/bin/sh'
		sed -n 's/^SB pcr15 /tpm2 pcrextend 15:sha256=/p' "$A/$2.sb"
		cat <<HOOK
cd /tmp
tpm2 createprimary -C o -g sha256 -G ecc256:aes128cfb -c prim.ctx \\
	-a 'restricted|decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda' >/dev/null
tpm2 load -C prim.ctx -u /t2/pub.bin -r /t2/priv.bin -c seal.ctx >/dev/null
tpm2 loadexternal -C o -G ecc:ecdsa-sha256:null -a 'sign|userwithauth' \\
	-u /var/lib/sealboot/admin.pub -c admin.ctx -n admin.name >/dev/null
tpm2 startauthsession -S trial.ctx
tpm2 policypcr -S trial.ctx -l $pcrs -f /t2/pcrs.bin >/dev/null
tpm2 policynv -S trial.ctx -i /t2/serial.bin -L approved.dig 0x01A5B001 ule >/dev/null
tpm2 flushcontext trial.ctx
tpm2 verifysignature -c admin.ctx -g sha256 -m approved.dig -s /t2/sig.der -f ecdsa -t ticket.bin
tpm2 startauthsession --policy-session -S s.ctx
tpm2 policypcr -S s.ctx -l $pcrs >/dev/null
tpm2 policynv -S s.ctx -i /t2/serial.bin 0x01A5B001 ule >/dev/null
tpm2 policyauthorize -S s.ctx -i approved.dig -n admin.name -t ticket.bin >/dev/null
if tpm2 unseal -c seal.ctx -p session:s.ctx -o /tmp/key 2>/tmp/unseal.err; then
	echo "tpm2-unseal: UNSEALED \$(wc -c </tmp/key) bytes"
else
	echo "tpm2-unseal: refused: \$(grep -m1 ERROR /tmp/unseal.err)"
fi
rm -f /tmp/key
echo "probe: \$(probe-unseal /var/lib/sealboot /dev/vdb 2>&1)"
HOOK
	} >"$d/attack"
	chmod 755 "$d/attack"
	[ "$(grep -c pcrextend "$d/attack")" = 2 ] || fail "boot $2 logged no policy and bundle events: $(cat "$A/$2.sb")"
}

# 1. Provision, sealed without PCR 9 (the override), then predict.
write_policy 1 "4, 7, 15"
"$ADMIN" policy sign --allow-unmeasured-boot --key "$A/admin.pem" "$A/policy.json" "$A/state" 2>"$A/err" ||
	fail "policy sign: $(cat "$A/err")"
initrd g1
guest provision provision g1
[ "$(sb provision provision-rc)" = 0 ] || fail "provision: $(cat "$A/provision.sb")"
[ "$(sb provision cmdline)" = "$SEEN" ] || fail "the kernel saw '$(sb provision cmdline)', not '$SEEN'"
rm -rf "$A/state" && mkdir "$A/state" && tar -xf "$A/xfer.img" -C "$A/state"
[ -f "$A/state/pcr-policy.json" ] || fail "provisioning wrote no PCR policy"
cp "$A/provision.log" "$A/reference.log" # the public reference boot
predict --event-log "$A/reference.log" --kernel "$KERNEL" --initrd "$A/g1.img" --qemu-memory $MEM \
	--cmdline "$SEEN" --pcrs 0-9
for n in 0 4 7 9; do
	[ "$(predicted $n)" = "$(pcr provision $n)" ] ||
		fail "PCR $n: predicted $(predicted $n), the TPM reached $(pcr provision $n)"
done
predict --kernel "$KERNEL" --initrd "$A/g1.img" --cmdline "$SEEN" --pcrs 9
[ "$(predicted 9)" = "$(pcr provision 9)" ] || fail "PCR 9 from the artifacts alone: $(predicted 9)"
echo "ok: predicted PCRs 0, 4, 7, 9 = the TPM's; PCR 9 also without a log: $(predicted 9)"
predict --kernel "$KERNEL" --initrd "$A/g1.img" --cmdline "$SEEN" --json
# osslsigncode exits non-zero for want of Debian's CA; it prints the digest.
osslsigncode verify -in "$KERNEL" >"$A/osslsigncode.out" 2>&1 || true
auth=$(sed -n 's/^Calculated message digest *: *\([0-9A-Fa-f]*\).*/\1/p' "$A/osslsigncode.out" | tr 'A-F' 'a-f')
[ -n "$auth" ] || fail "osslsigncode printed no calculated digest for $KERNEL"
grep -q "\"kernel_authenticode_sha256\": \"$auth\"" "$A/predict" ||
	fail "Authenticode: osslsigncode says $auth; we say $(cat "$A/predict")"
echo "ok: the kernel's Authenticode SHA-256 is osslsigncode's ($auth)"
predict --event-log "$A/reference.log" --kernel "$KERNEL" --initrd "$A/g1.img" --cmdline "$SEEN" --pcrs 4
[ "$(predicted 4)" != "$(pcr provision 4)" ] ||
	fail "PCR 4 without --qemu-memory matched: QEMU no longer rewrites the setup header?"
echo "ok: under QEMU's direct boot PCR 4 is the patched kernel's (the unmodified file predicts another value)"

# 2. A good boot; its sealing events go to the public event log.
guest good1 boot g1
[ "$(sb good1 anchor-rc)" = 0 ] || fail "good boot: $(cat "$A/good1.sb")"
[[ "$(sb good1 after-cap)" == refused:* ]] || fail "after the cap the TPM still answered: $(sb good1 after-cap)"
hook hook1 good1

# 3. Control: the same initramfs plus a hook that runs before the anchor.
initrd a1 "$A/hook1"
guest attack1 boot a1
grep -qx 'SB hook-out tpm2-unseal: UNSEALED 64 bytes' "$A/attack1.sb" &&
	grep -qx 'SB hook-out probe: RELEASED' "$A/attack1.sb" ||
	fail "control: the pre-anchor hook did not get the key with PCR 9 unsealed: $(grep -v '^SB log' "$A/attack1.sb")"
echo "ok: control: sealed to 4, 7, 15, an initramfs with a pre-anchor hook replays PCR 15 and tpm2-tools unseal the 64-byte volume key with the admin's approval"

# 4. The initramfs update, and the policy sealing to PCR 9: a new approval,
#    offline, from the reference log and the new artifacts.
mkdir -p "$A/update/etc"
echo "appliance image 2" >"$A/update/etc/sealboot-release"
initrd g2 "$A/update"
write_policy 2 "4, 7, 9, 15"
"$ADMIN" policy sign --key "$A/admin.pem" "$A/policy.json" "$A/state" 2>"$A/err" ||
	fail "policy sign 4, 7, 9, 15: $(cat "$A/err")"
"$ADMIN" pcr-policy sign --key "$A/admin.pem" --event-log "$A/reference.log" --kernel "$KERNEL" \
	--initrd "$A/g2.img" --qemu-memory $MEM --cmdline "$SEEN" "$A/state" 2>"$A/err" ||
	fail "pcr-policy sign offline: $(cat "$A/err")"
grep -q 'predicted from the boot artifacts: PCR 4 7 9' "$A/err" || fail "pcr-policy sign: $(cat "$A/err")"
predict --event-log "$A/reference.log" --kernel "$KERNEL" --initrd "$A/g2.img" --qemu-memory $MEM \
	--cmdline "$SEEN" --pcrs 4,9
P4=$(predicted 4) P9=$(predicted 9)
[ "$P9" != "$(pcr provision 9)" ] || fail "the updated initramfs predicts the old PCR 9"
grep -q "\"sha256\": \"$P9\"" "$A/state/pcr-policy.json" || fail "the approval lacks PCR 9 = $P9"

# 5. The updated initramfs boots with the offline approval.
guest good2 boot g2
[ "$(pcr good2 4)" = "$P4" ] && [ "$(pcr good2 9)" = "$P9" ] ||
	fail "predicted 4=$P4 9=$P9; the TPM reached 4=$(pcr good2 4) 9=$(pcr good2 9)"
[ "$(sb good2 anchor-rc)" = 0 ] || fail "the updated initramfs did not open the volume: $(cat "$A/good2.sb")"
[[ "$(sb good2 after-cap)" == refused:* ]] || fail "after the cap the TPM still answered: $(sb good2 after-cap)"
echo "ok: updated initramfs: PCRs 4 and 9 as predicted offline, the anchor opened the volume; after its cap the same unseal is refused"
hook hook2 good2

# 6. The same attack against the seal with PCR 9: nothing.
mkdir -p "$A/hook2/etc" && cp "$A/update/etc/sealboot-release" "$A/hook2/etc/"
initrd a2 "$A/hook2"
guest attack2 boot a2
out=$(sed -n 's/^SB hook-out tpm2-unseal: //p' "$A/attack2.sb")
[[ "$out" == refused:* ]] && grep -q '^SB hook-out probe: refused' "$A/attack2.sb" ||
	fail "the pre-anchor hook got an answer other than a refusal: $(grep -v '^SB log' "$A/attack2.sb")"
! grep -q 'UNSEALED\|RELEASED' "$A/attack2.sb" || fail "the key was released to the pre-anchor hook"
predict --event-log "$A/reference.log" --kernel "$KERNEL" --initrd "$A/a2.img" --qemu-memory $MEM \
	--cmdline "$SEEN" --pcrs 9
[ "$(predicted 9)" = "$(pcr attack2 9)" ] && [ "$(predicted 9)" != "$P9" ] ||
	fail "PCR 9 of the hostile initramfs: predicted $(predicted 9), TPM $(pcr attack2 9), approved $P9"
echo "ok: sealed to 4, 7, 9, 15, the hook replays PCR 15 and gets nothing ($out)"

# 7. A changed command line: PCR 9 moves as predicted; the anchor refuses.
guest rdbreak boot g2 " rd.break"
predict --kernel "$KERNEL" --initrd "$A/g2.img" --cmdline "$CMDLINE rd.break initrd=initrd" --pcrs 9
[ "$(predicted 9)" = "$(pcr rdbreak 9)" ] || fail "rd.break: predicted $(predicted 9), TPM $(pcr rdbreak 9)"
[ "$(sb rdbreak anchor-rc)" = 6 ] && grep -q 'PCR 9 differs from the value the admin approved' "$A/rdbreak.sb" ||
	fail "changed command line: $(cat "$A/rdbreak.sb")"
echo "ok: command line + rd.break: PCR 9 as predicted for it, anchor exit 6 naming PCR 9"
echo "PASS"
