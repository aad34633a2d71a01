#!/bin/bash
# The Debian packages: `dpkg-buildpackage -b` builds sealboot-anchor,
# sealboot-admin and sealboot-launch from a copy of this tree; lintian has
# no error or warning about them; each binary, man page, the dracut module
# (sealboot-anchor) and sealboot-launch.service (sealboot-launch) is in the
# package its role needs and nothing of one role is in another's;
# sealboot-anchor (the initramfs side) neither depends on, recommends nor
# links anything of libvirt or QEMU; the launch unit is enabled but never
# started by the maintainer scripts; sealboot-anchor triggers
# update-initramfs; every binary's --version prints the version meson.build
# gives; a debian/changelog that disagrees with meson.build stops the build (the
# control: the same build with the versions in step succeeds above).
set -eu -o pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"

need dpkg-buildpackage dh lintian dpkg-deb git fakeroot
mkscratch
src=$SEALBOOT_SRC
version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -n 1)
[ -n "$version" ] || fail "no version in meson.build"

# The tree as committed plus what is not yet (but not build outputs).
copy() { # DEST
	mkdir -p "$1"
	(cd "$src" && git ls-files -co --exclude-standard -z | xargs -0 tar -c --no-recursion) |
		tar -x -C "$1"
}
echo "# building the packages (version $version)"
copy "$SCRATCH/src/sealboot"
(cd "$SCRATCH/src/sealboot" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -b -uc -us) \
	>"$SCRATCH/build.log" 2>&1 || {
	tail -n 40 "$SCRATCH/build.log"
	fail "dpkg-buildpackage -b failed"
}
out=$SCRATCH/src
for p in sealboot-anchor sealboot-admin sealboot-launch; do
	[ -f "$out/${p}_${version}_amd64.deb" ] || fail "no package ${p}_${version}_amd64.deb"
done

echo "# lintian"
lintian --allow-root --fail-on error,warning "$out"/sealboot_"$version"_amd64.changes |
	tee "$SCRATCH/lintian.txt" || fail "lintian found errors or warnings (above)"

echo "# contents and dependencies"
declare -A want=(
	[sealboot-anchor]="/usr/sbin/sealboot-anchor /usr/share/man/man8/sealboot-anchor.8.gz
		/usr/lib/dracut/modules.d/90sealboot/module-setup.sh
		/usr/lib/dracut/modules.d/90sealboot/sealboot-anchor.service
		/usr/lib/dracut/modules.d/90sealboot/sealboot-initrd.sh"
	[sealboot-admin]="/usr/sbin/sealboot-admin /usr/bin/sealboot-sign /usr/share/man/man8/sealboot-admin.8.gz /usr/share/man/man1/sealboot-sign.1.gz"
	[sealboot-launch]="/usr/sbin/sealboot-launch /usr/share/man/man8/sealboot-launch.8.gz
		/lib/systemd/system/sealboot-launch.service"
)
# Nothing of one role in another's package: the initramfs side holds no
# launcher, no unit of the real root, nothing of libvirt; the launcher side
# no dracut module and no anchor.
declare -A never=(
	[sealboot-anchor]="sealboot-launch libvirt /lib/systemd/system/ sealboot-admin sealboot-sign"
	[sealboot-admin]="sealboot-anchor sealboot-launch dracut/ /systemd/"
	[sealboot-launch]="sealboot-anchor dracut/ sealboot-admin sealboot-sign"
)
for p in "${!want[@]}"; do
	deb=$out/${p}_${version}_amd64.deb
	dpkg-deb -x "$deb" "$SCRATCH/root-$p"
	for f in ${want[$p]}; do
		[ -e "$SCRATCH/root-$p$f" ] || fail "$p does not hold $f"
	done
	dpkg-deb -c "$deb" | awk '{print $NF}' >"$SCRATCH/list-$p"
	for w in ${never[$p]}; do
		if grep -F -- "$w" "$SCRATCH/list-$p" | grep -v '^./usr/share/doc/'; then
			fail "$p holds files matching '$w' (above)"
		fi
	done
	v=$(dpkg-deb -f "$deb" Version)
	[ "$v" = "$version" ] || fail "$p has version $v, meson.build says $version"
done
deps=$(dpkg-deb -f "$out/sealboot-anchor_${version}_amd64.deb" Depends)
case $deps in
*libvirt*) fail "sealboot-anchor depends on libvirt: $deps" ;;
esac
deps=$(dpkg-deb -f "$out/sealboot-anchor_${version}_amd64.deb" Depends Recommends Suggests Pre-Depends)
case $deps in
*libvirt* | *qemu*) fail "sealboot-anchor pulls in libvirt or QEMU: $deps" ;;
esac
echo "ok: sealboot-anchor's relations: $(echo "$deps" | tr '\n' ' ')"
for f in "$SCRATCH"/root-sealboot-anchor/usr/sbin/sealboot-anchor; do
	if ldd "$f" | grep -q libvirt; then fail "sealboot-anchor links libvirt"; fi
done

# The launch unit is enabled at install (the appliance boots into its
# guest) but never started by the maintainer scripts: installing into an
# image's chroot, or upgrading a running appliance, must not launch the guest.
dpkg-deb -e "$out/sealboot-launch_${version}_amd64.deb" "$SCRATCH/ctl-launch"
grep -q "deb-systemd-helper enable 'sealboot-launch.service'" "$SCRATCH/ctl-launch/postinst" ||
	fail "sealboot-launch's postinst does not enable sealboot-launch.service"
if grep -n 'deb-systemd-invoke' "$SCRATCH/ctl-launch/postinst"; then
	fail "sealboot-launch's postinst starts sealboot-launch.service (above)"
fi
# The initramfs carries the anchor: a new sealboot-anchor rebuilds it.
dpkg-deb -e "$out/sealboot-anchor_${version}_amd64.deb" "$SCRATCH/ctl-anchor"
grep -qx 'activate-noawait update-initramfs' "$SCRATCH/ctl-anchor/triggers" ||
	fail "sealboot-anchor does not trigger update-initramfs"
echo "ok: the launch unit is enabled, not started, at install; sealboot-anchor triggers update-initramfs"

echo "# --version of every packaged binary"
for b in root-sealboot-anchor/usr/sbin/sealboot-anchor root-sealboot-admin/usr/sbin/sealboot-admin \
	root-sealboot-admin/usr/bin/sealboot-sign root-sealboot-launch/usr/sbin/sealboot-launch; do
	got=$("$SCRATCH/$b" --version)
	[ "$got" = "${b##*/} $version" ] || fail "$b --version says '$got', not '${b##*/} $version'"
done

echo "# a changelog that disagrees with meson.build stops the build"
copy "$SCRATCH/drift/sealboot"
sed -i "1s/($version)/(9.9.9)/" "$SCRATCH/drift/sealboot/debian/changelog"
if (cd "$SCRATCH/drift/sealboot" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -b -uc -us) \
	>"$SCRATCH/drift.log" 2>&1; then
	fail "a package was built with debian/changelog at 9.9.9 and meson.build at $version"
fi
grep -q "meson.build says version $version, debian/changelog 9.9.9" "$SCRATCH/drift.log" ||
	{ tail -n 20 "$SCRATCH/drift.log"; fail "the version drift was not named"; }
echo "PASS: packages build, lintian is clean, versions agree"
