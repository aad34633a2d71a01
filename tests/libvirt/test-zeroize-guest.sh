#!/bin/bash
# Zeroize while the guest runs: the real sealboot-launch, asked by the
# anchor's guest step (a child process: the anchor does not link libvirt),
# stops the running guest through libvirt (the guest sees its power button)
# before any volume is touched; then the wipe completes.
set -eu -o pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
. "$SEALBOOT_SRC/tests/lib/libvirt.sh"
. "$SEALBOOT_SRC/tests/lib/swtpm.sh"

ADMIN=${SEALBOOT_ADMIN:?}
ANCHOR=${SEALBOOT_ANCHOR:?}
LAUNCH=${SEALBOOT_LAUNCH:?}
BOOT_TIMEOUT=${SEALBOOT_LIBVIRT_BOOT_TIMEOUT:-90}
. "$SEALBOOT_SRC/tests/lib/launch-setup.sh"
. "$SEALBOOT_SRC/tests/anchor/zeroize-lib.sh"
need cryptsetup
launch_setup

libvirt_domain_name zeroize
DOM=$LIBVIRT_DOMAIN
CONSOLE=$A/console.log
"$LAUNCH" start --state "$A/state" --run "$A/run" --name "$DOM" --console-log "$CONSOLE" \
	--without-volumes --sysfs-root "$A/fakesys" >"$A/launch.out" 2>&1 ||
	fail "start: $(cat "$A/launch.out")"
libvirt_wait_console "$CONSOLE" '^SEALBOOT-GUEST-STAYING' "$BOOT_TIMEOUT" "$DOM" ||
	fail "the guest did not come up"
echo "ok: guest $DOM running"

# What the anchor runs is `LAUNCHER stop` (the default guest); this wrapper
# adds the test's domain name and records whether the volume still had its
# header when the stop was asked (it must: guests first, then volumes).
cat >"$A/launcher" <<SH
#!/bin/sh
if cryptsetup isLuks "$A/data.img"; then echo "header present at stop" >>"$A/launcher.log"; fi
exec "$LAUNCH" "\$@" --name "$DOM" --timeout 60
SH
chmod +x "$A/launcher"
ZLAUNCHER=$A/launcher

"$ANCHOR" zeroize-challenge --state "$A/state" >"$A/ch.json" 2>"$A/ch.err" ||
	fail "challenge: $(cat "$A/ch.err")"
authorize "$A/order"
zeroize "$A/order"
[ "$ZRC" = 0 ] || fail "zeroize: $ZRC $(cat "$A/z.err")"
grep -q '"guests": "stopped"' "$A/z.out" || fail "receipt: $(cat "$A/z.out")"
grep -q "header present at stop" "$A/launcher.log" || fail "the volume was touched before the guest stopped"
grep -q SEALBOOT-GUEST-POWER-BUTTON "$CONSOLE" || fail "the guest never saw its power button"
! virsh -q -c qemu:///system domstate "$DOM" >/dev/null 2>&1 || fail "the domain still exists"
! cryptsetup isLuks "$A/data.img" || fail "the volume still has a header"
echo "ok: the running guest was stopped by its power button before the volume was wiped; the domain is gone; zeroize 0"
