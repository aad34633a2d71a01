#!/bin/bash
# dm-verity on the appliance (issue 12): the anchor checks the manifest's
# signature and activates the disk payload as a read-only dm-verity device
# with the signed root hash instead of hashing it whole; corruption is found
# when a block is read (EIO), never by hashing at boot. In a QEMU guest (TCG,
# OVMF, swtpm, Debian's kernel with dm-verity and loop, a busybox initramfs
# with sealboot-admin, sealboot-anchor and dmsetup; verity-lib.sh), the
# bundle "os" holds an 8 MiB random disk.img signed with --verity:
#   1. provision;
#   2. good: the anchor exits 0 and says so, the handoff's disk is
#      {"method": "verity", "device": "/dev/mapper/sealboot-verity.0.0",
#      "root_hash": the manifest's}, `dmsetup table` shows a verity target
#      with the signed root hash and salt, blocks read through the mapping
#      are the image's and the SHA-256 of the whole mapping is the image's;
#   3. one byte of block 1000 changed on the disk after signing: the anchor
#      still exits 0 (verity is lazy); reading block 1000 through the mapping
#      fails with EIO, block 0 reads; control: the same block read from the
#      file returns the changed byte; and with --no-activate (the full hash,
#      the host's fallback) the same bundle is refused at boot, exit 4;
#   4. one byte of the hash tree changed: the same (block 0, under that
#      tree block, fails with EIO; the file reads whole);
#   5. the manifest's root hash edited: refused at the signature check,
#      exit 4, no mapping, no handoff.
# Seven boots of 15-30 s each under TCG.
set -eu -o pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"

A=$(mktemp -d "${TMPDIR:-/tmp}/sb-i12-verity.XXXXXX")
. "$SEALBOOT_SRC/tests/appliance/verity-lib.sh"
cleanup() {
	vl_stop
	rm -rf "$A"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

vl_setup
DEV=/dev/mapper/sealboot-verity.0.0
mkdir -p "$A/bundle"
head -c $((2048 * 4096)) /dev/urandom >"$A/bundle/disk.img"
vl_sign --verity
cp -a "$A/bundle" "$A/bundle.good"
j() { python3 -c "import json,sys; d=json.load(open('$A/bundle/manifest.json')); print($1)"; }
ROOT=$(j 'd["payloads"][0]["verity"]["root_hash"]')
SALT=$(j 'd["payloads"][0]["verity"]["salt"]')
[ "$(j 'd["format_version"]')" = 2 ] || fail "the bundle is not format_version 2"
flip() { # FILE OFFSET: add one to the byte at OFFSET, in place
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\x%02x' $(((b + 1) % 256)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
hexblock() { # FILE BLOCK: the first 16 bytes of a 4096-byte block, hex
	dd if="$1" bs=4096 skip="$2" count=1 2>/dev/null | head -c 16 | od -An -tx1 | tr -d ' \n'
}
OTHER=$(printf '%s' "$ROOT" | tr '0-9a-f' '1-9a-f0')
IMG_SHA=$(sha256sum "$A/bundle/disk.img" | cut -d' ' -f1)
# One initrd size: the base, the bundle, the state, and room.
VL_INITRD_SIZE=$(( ($( (cd "$R" && find . | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) | wc -c) +
	$(du -sb "$A/bundle" | cut -f1)) / 1048576 * 1048576 + 3 * 1048576 ))

# 1. Provision.
vl_provision
echo "ok: provisioned (LUKS volume, sealed key, PCR policy)"

# 2. The good boot: a verity device with the signed root hash.
vl_boot boot good "sealboot.read=0,1000,2047 sealboot.sum=1 sealboot.launch=1 sealboot.root=$ROOT sealboot.otherroot=$OTHER"
vl_expect good anchor-rc 0
out=$(vl_report good anchor-out)
[[ "$out" == *"bundle os: disk disk.img is dm-verity device $DEV"* ]] || fail "anchor: $out"
handoff=$(vl_report good handoff)
[[ "$handoff" == *'"payload": "disk.img", "method": "verity", "device": "'"$DEV"'", "root_hash": "'"$ROOT"'"'* ]] ||
	fail "the handoff does not name the verity device with the signed root hash: $handoff"
[[ "$handoff" == *'"format_version": 2'* ]] || fail "handoff: $handoff"
table=$(vl_report good table)
[[ "$table" == "sealboot-verity.0.0: 0 16384 verity 1 "*" 4096 4096 2048 "*" sha256 $ROOT $SALT"* ]] ||
	fail "dmsetup table does not show the signed root hash: '$table'"
for n in 0 1000 2047; do
	[ "$(vl_sb good "read-map $n")" = "ok $(hexblock "$A/bundle/disk.img" $n)" ] ||
		fail "block $n through $DEV: '$(vl_sb good "read-map $n")', want the image's"
done
[ "$(vl_sb good map-sha256)" = "$IMG_SHA" ] || fail "SHA-256 of $DEV: $(vl_sb good map-sha256), image $IMG_SHA"
# The launcher on the appliance (sealboot-launch xml, the spec start uses):
# the verity device as a read-only block disk, never the file (control for
# the refusals that follow).
vl_expect good launch-good-rc 0
xml=$(vl_report good launch-good-xml | tr -d '\n' | sed 's/ *</</g')
disk="<disk ${xml#*<disk }"
disk=${disk%%</disk>*}
[[ "$disk" == '<disk type="block" device="disk">'*"<source dev=\"$DEV\"/>"*'<readonly/>' ]] ||
	fail "the launcher's first disk is not $DEV read-only: $disk"
[[ "$xml" != *disk.img* ]] || fail "the launcher names the file: $xml"
echo "ok: sealboot-launch xml attaches $DEV as <disk type='block'> read-only; disk.img appears nowhere"
vl_expect good launch-loop-rc 3
[[ "$(vl_report good launch-loop-err)" == *"/dev/loop0 is not a device-mapper device"* ]] ||
	fail "handoff naming /dev/loop0: $(vl_report good launch-loop-err)"
vl_expect good launch-handoff-root-rc 3
[[ "$(vl_report good launch-handoff-root-err)" == *"disk disk.img was not activated by the anchor as $DEV with that root hash"* ]] ||
	fail "handoff with another root hash: $(vl_report good launch-handoff-root-err)"
[[ "$(vl_report good reloaded)" == *" sha256 $OTHER $SALT"* ]] ||
	fail "dmsetup reload did not take: $(vl_report good reloaded) $(vl_report good dm-err)"
vl_expect good launch-reloaded-rc 3
[[ "$(vl_report good launch-reloaded-err)" == *"its live dm-verity table is not the one the anchor made: another root hash than the signed one"* ]] ||
	fail "reloaded table: $(vl_report good launch-reloaded-err)"
echo "ok: exit 3 for a handoff naming /dev/loop0, for one with another root hash, and for the mapping reloaded with another root hash (dmsetup reload)"
echo "ok: good boot (${VL_BOOT_SECONDS} s, anchor $(vl_sb good anchor-ms) ms): $DEV, dmsetup: verity with root $ROOT; the whole mapping reads as the image"

# 3. One byte of the image changed after signing.
flip "$A/bundle/disk.img" $((1000 * 4096))
changed=$(hexblock "$A/bundle/disk.img" 1000)
[ "$changed" != "$(hexblock "$A/bundle.good/disk.img" 1000)" ] || fail "the byte did not change"
vl_boot boot data "sealboot.read=0,1000"
vl_expect data anchor-rc 0
[[ "$(vl_report data handoff)" == *'"method": "verity"'* ]] || fail "handoff: $(vl_report data handoff)"
[ "$(vl_sb data "read-map 0")" = "ok $(hexblock "$A/bundle/disk.img" 0)" ] ||
	fail "block 0 through $DEV: $(vl_sb data "read-map 0")"
[[ "$(vl_sb data "read-map 1000")" == "err "*"Input/output error"* ]] ||
	fail "the changed block 1000 read through $DEV: '$(vl_sb data "read-map 1000")', want an I/O error"
[ "$(vl_sb data "read-raw 1000")" = "ok $changed" ] ||
	fail "control: block 1000 from the file: '$(vl_sb data "read-raw 1000")', want $changed"
echo "ok: image changed: the anchor activates (exit 0), block 1000 through $DEV: $(vl_sb data "read-map 1000" | sed 's/^err //'); control: the file gives the changed byte"
vl_boot boot data-full "sealboot.noactivate=1"
vl_expect data-full anchor-rc 4
[[ "$(vl_report data-full anchor-out)" == *"payload disk.img does not match its signed sha256 digest"* ]] ||
	fail "full hash: $(vl_report data-full anchor-out)"
grep -qx 'SB no-verity-mapping' "$A/data-full.sb" || fail "a mapping after --no-activate"
echo "ok: the full-hash fallback (--no-activate) refuses the same image at boot: exit 4"

# 4. One byte of the hash tree changed (the first leaf block: data blocks 0-127).
cp "$A/bundle.good/disk.img" "$A/bundle/disk.img"
flip "$A/bundle/disk.img.verity" 4096
cmp -s "$A/bundle/disk.img.verity" "$A/bundle.good/disk.img.verity" && fail "the tree did not change"
vl_boot boot tree "sealboot.read=0,2047 sealboot.sum=1"
vl_expect tree anchor-rc 0
[[ "$(vl_sb tree "read-map 0")" == "err "*"Input/output error"* ]] ||
	fail "block 0 under the changed tree block: '$(vl_sb tree "read-map 0")', want an I/O error"
[ "$(vl_sb tree "read-map 2047")" = "ok $(hexblock "$A/bundle/disk.img" 2047)" ] ||
	fail "block 2047 (another tree block): $(vl_sb tree "read-map 2047")"
[[ "$(vl_sb tree map-sha256)" == "err "* ]] || fail "the whole mapping read: $(vl_sb tree map-sha256)"
[ "$(vl_sb tree "read-raw 0")" = "ok $(hexblock "$A/bundle/disk.img" 0)" ] ||
	fail "control: block 0 from the file: $(vl_sb tree "read-raw 0")"
echo "ok: hash tree changed: exit 0, block 0 through $DEV: $(vl_sb tree "read-map 0" | sed 's/^err //'); block 2047 reads; control: the file reads"

# 5. The manifest's root hash edited: the signature no longer holds.
rm -rf "$A/bundle"
cp -a "$A/bundle.good" "$A/bundle"
sed -i "s/$ROOT/$OTHER/" "$A/bundle/manifest.json"
grep -q "$OTHER" "$A/bundle/manifest.json" || fail "the root hash was not edited"
vl_boot boot root "sealboot.read=0"
vl_expect root anchor-rc 4
[[ "$(vl_report root anchor-out)" == *'FAILED (bundle)'* ]] || fail "anchor: $(vl_report root anchor-out)"
[[ "$(vl_report root anchor-out)" == *'signature'* ]] || fail "anchor: $(vl_report root anchor-out)"
grep -qx 'SB no-verity-mapping' "$A/root.sb" || fail "a verity mapping after a refused bundle"
case $(vl_report root table) in
'' | 'No devices found') ;;
*) fail "dmsetup shows a verity table: $(vl_report root table)" ;;
esac
[ -z "$(vl_report root handoff)" ] || fail "a handoff after a failure"
echo "ok: root hash edited in the manifest: exit 4, $(vl_report root anchor-out | grep -m1 -o 'FAILED (bundle).*' | cut -c1-120); no mapping, no handoff"
echo "PASS"
