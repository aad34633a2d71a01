#!/bin/bash
# dm-verity for disk payloads (bundle.md, version 2): sealboot-sign sign
# --verity builds each disk payload's hash tree through libcryptsetup and
# signs its root hash, salt and size in a format_version 2 manifest, the
# tree a payload of its own. Interop: stock `veritysetup verify` with the
# manifest's parameters accepts the payload; a flipped byte in the data or
# in the tree is refused by veritysetup and by sealboot-sign verify. Without
# --verity the manifest stays version 1 and verifies as before; a disk that
# is not whole 4096-byte blocks and a hand-given verity payload are refused.
set -euo pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
need openssl python3 veritysetup
mkscratch
S=$SCRATCH
sign=$SEALBOOT_SIGN
"$SEALBOOT_SRC/tests/lib/make-test-pki" "$S/pki"
P=$S/pki
keyargs=(--key "$P/signer.key" --cert "$P/signer.crt" --chain "$P/chain.pem" --no-progress)
meta=(--name v --version 1 --class test)
B=$S/bundle
mkdir -p "$B/boot"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$B/disk.img"
printf 'console=ttyS0\n' >"$B/boot/cmdline"
j() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$B/manifest.json" "$1"; }
verify() { "$sign" verify --no-progress --ca "$P/root.crt" "$B" >/dev/null 2>"$S/err"; }
vsetup() { # veritysetup verify with the manifest's parameters
	veritysetup verify --no-superblock --hash=sha256 --data-block-size=4096 \
		--hash-block-size=4096 --data-blocks="$(j 'd["payloads"][0]["verity"]["data_blocks"]')" \
		--salt="$(j 'd["payloads"][0]["verity"]["salt"]')" "$B/disk.img" "$B/disk.img.verity" \
		"$(j 'd["payloads"][0]["verity"]["root_hash"]')" >/dev/null 2>&1
}
flip() { # FILE OFFSET
	local b
	b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf %03o $(((b + 1) % 256)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

echo "== sign --verity: format_version 2, the tree a signed payload"
"$sign" sign "${keyargs[@]}" "${meta[@]}" --verity --payload disk:disk.img \
	--payload cmdline:boot/cmdline "$B" 2>"$S/err" || fail "sign: $(cat "$S/err")"
[ "$(j 'd["format_version"]')" = 2 ] || fail "format_version $(j 'd["format_version"]')"
[ "$(j 'd["payloads"][0]["verity"]["hash_tree"]')" = disk.img.verity ] || fail "$(cat "$B/manifest.json")"
[ "$(j 'd["payloads"][0]["verity"]["data_blocks"]')" = 2048 ] || fail "data_blocks"
[ "$(j '[p["role"] for p in d["payloads"] if p["path"] == "disk.img.verity"][0]')" = verity ] ||
	fail "the tree is not a payload"
[ "$(j 'd["payloads"][2]["digest"]["value"]')" = "$(sha256sum "$B/disk.img.verity" | cut -d' ' -f1)" ] ||
	fail "the tree's digest"
verify || fail "verify: $(cat "$S/err")"
echo "ok: version 2, root hash $(j 'd["payloads"][0]["verity"]["root_hash"]')"

echo "== interop: veritysetup verify with the signed root hash"
vsetup || fail "veritysetup refuses the signed payload"
cp "$B/disk.img" "$S/disk.good"
flip "$B/disk.img" 5000000
rc=0
vsetup || rc=$?
[ "$rc" != 0 ] || fail "veritysetup accepted a flipped data byte"
rc=0
verify || rc=$?
[ "$rc" = 6 ] || fail "sealboot-sign verify: exit $rc after a flipped data byte"
cp "$S/disk.good" "$B/disk.img"
vsetup || fail "restored payload refused"
cp "$B/disk.img.verity" "$S/tree.good"
flip "$B/disk.img.verity" 100
rc=0
vsetup || rc=$?
[ "$rc" != 0 ] || fail "veritysetup accepted a flipped tree byte"
rc=0
verify || rc=$?
[ "$rc" = 6 ] || fail "sealboot-sign verify: exit $rc after a flipped tree byte"
cp "$S/tree.good" "$B/disk.img.verity"
echo "ok: accepted as signed; a flipped byte in the data or the tree refused by both"

echo "== without --verity: version 1, as before"
rm -f "$B/disk.img.verity"
"$sign" sign "${keyargs[@]}" "${meta[@]}" --force --payload disk:disk.img \
	--payload cmdline:boot/cmdline "$B" 2>"$S/err" || fail "sign: $(cat "$S/err")"
[ "$(j 'd["format_version"]')" = 1 ] && [[ "$(cat "$B/manifest.json")" != *verity* ]] || fail "not v1"
verify || fail "v1 verify: $(cat "$S/err")"
echo "ok: version 1 still signed and verified"

echo "== refusals"
head -c 5000 /dev/urandom >"$B/disk.img"
rc=0
"$sign" sign "${keyargs[@]}" "${meta[@]}" --force --verity --payload disk:disk.img "$B" 2>"$S/err" || rc=$?
[ "$rc" = 2 ] && grep -q "dm-verity needs a regular file of a whole number of 4096-byte blocks" "$S/err" ||
	fail "unaligned disk: $rc $(cat "$S/err")"
rc=0
"$sign" sign "${keyargs[@]}" "${meta[@]}" --force --payload verity:disk.img "$B" 2>"$S/err" || rc=$?
[ "$rc" = 2 ] || fail "a given verity payload: $rc $(cat "$S/err")"
echo "ok: an unaligned disk and a hand-given verity payload refused (exit 2)"
echo "PASS"
