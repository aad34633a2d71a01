# Sourced by the appliance tests (tests/appliance/*) and the README's demo,
# after tests/lib/common.sh; set -eu -o pipefail is the caller's. What a QEMU
# appliance needs, in one place:
#
#   appl_setup TAG             checks (x86_64, OVMF), a scratch directory
#                              $A (= $SCRATCH, /var/tmp/sb-TAG.XXXXXX), the
#                              cleanup of QEMU and swtpm on exit
#   appl_progress TEXT         "== [N s] TEXT"
#   appl_rootfs_tar            the Debian 12 root filesystem (mmdebstrap),
#                              from the cache or built: $APPL_ROOTFS_TAR
#   appl_root_unpack DIR       unpacks it to DIR: $APPL_ROOT, $APPL_KVER,
#                              $APPL_KERNEL (Debian's kernel, in the root)
#   appl_in_root CMD...        CMD chrooted into $APPL_ROOT (with /dev,
#                              /proc, /sys; a private mount namespace)
#   appl_build_debs SRC OUT [VERSION]  sealboot's Debian packages built
#                              from the tree SRC (a copy, dpkg-buildpackage
#                              -b; with VERSION, tools/set-version on the
#                              copy first) into OUT: $APPL_DEB_VERSION,
#                              $APPL_DEBS (paths)
#   appl_install_debs DEB...   dpkg -i in the root, as an admin installs an
#                              image; checks each is installed at its version
#   appl_dracut_conf           the image's /etc/dracut.conf.d/sealboot.conf
#                              (every rebuild, the trigger's too, makes the
#                              appliance's initramfs)
#   appl_initrd OUT [MODULE..] dracut in the root with the image's config
#                              and the extra dracut modules, to OUT
#   appl_ext4 DIR IMG LABEL SIZE [MKE2FS-OPTION...]
#   appl_swtpm_start DIR NAME  a swtpm for one boot (TPM state in DIR; the
#                              log $A/swtpm-NAME.log): $APPL_SWTPM_SOCK
#   appl_qemu_start NAME ARG.. QEMU (TCG, q35, OVMF with the variable store
#                              $A/vars.fd, the swtpm as tpm-tis, stdio as
#                              the first serial port; APPL_QEMU_* and
#                              APPL_FW_* change the machine) with ARGs; the
#                              console with host timestamps in
#                              $A/NAME.console
#   appl_wait NAME LIMIT RE [FILE]  until QEMU exits, the console (or
#                              FILE) matches the extended regex RE, or
#                              LIMIT seconds: $APPL_WAITED = exited |
#                              matched | timeout
#   appl_poweroff NAME [cut]   QEMU and its swtpm gone (killed when still
#                              there; at once with cut); the console without
#                              timestamps and escapes in $A/NAME.log
#   appl_boot NAME LIMIT RE ARG...  the four above in one: start, wait, power off
#
# Environment: SEALBOOT_TEST_CACHE (the root filesystem's cache, default
# /var/cache/sealboot-test), SEALBOOT_KEEP (keep the scratch directory).

APPL_FW=/usr/share/OVMF
APPL_T0=$SECONDS
APPL_CACHE=${SEALBOOT_TEST_CACHE:-/var/cache/sealboot-test}
QEMU_PID='' SWTPM_PID=''
APPL_DEATHSIG=(setpriv --pdeathsig KILL --)

appl_setup() { # TAG
	[ "$(uname -m)" = x86_64 ] || skip "the appliance guest is x86_64; this is $(uname -m)"
	need qemu-system-x86_64 qemu-img swtpm setpriv
	local f
	for f in OVMF_CODE_4M.fd OVMF_VARS_4M.fd; do
		[ -r "$APPL_FW/$f" ] || skip "no UEFI firmware $APPL_FW/$f (apt-get install ovmf)"
	done
	SCRATCH=$(mktemp -d "${TMPDIR:-/var/tmp}/sb-$1.XXXXXX")
	A=$SCRATCH
	trap appl_cleanup EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	trap 'exit 129' HUP
}

appl_cleanup() {
	local p
	for p in $QEMU_PID $SWTPM_PID; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -n "${SEALBOOT_KEEP:-}" ] && echo "kept $SCRATCH" && return
	rm -rf "$SCRATCH"
}

appl_progress() { echo "== [$((SECONDS - APPL_T0)) s] $*"; }

# -- the root filesystem: Debian 12 from the archive, cached by recipe --
# Never sealboot: it goes in after unpacking (appl_install_debs), so the
# cache key is the recipe alone.
APPL_ROOTFS_PKGS=(
	linux-image-amd64 dracut dracut-core systemd systemd-sysv udev kmod e2fsprogs util-linux
	libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
	tpm2-tools cryptsetup-bin
	# sealboot's run-time libraries
	libtss2-esys-3.0.2-0 libtss2-tctildr0 libtss2-tcti-device0 libtss2-mu0 libtss2-rc0
	libcryptsetup12 libjson-c5 libssl3 libvirt0 libxml2
)
APPL_ROOTFS_MIRRORS=(
	"deb http://deb.debian.org/debian bookworm main"
	"deb http://deb.debian.org/debian bookworm-updates main"
	"deb http://deb.debian.org/debian-security bookworm-security main"
)
# The kernel's install hook builds a generic initramfs we never use.
APPL_ROOTFS_HOOK='rm -f "$1"/boot/initrd.img-*'
# Both the kernel's install hook and dracut's trigger would build that
# generic initramfs (uncompressed into the tarball it is gone anyway), each
# about 1.5 min of the 2-core machine's time: dracut is diverted away while
# the packages install (the hook then does nothing) and put back at the end.
APPL_ROOTFS_DIVERT='chroot "$1" dpkg-divert --quiet --local --rename --divert /usr/bin/dracut.sb-off --add /usr/bin/dracut'
APPL_ROOTFS_UNDIVERT='chroot "$1" dpkg-divert --quiet --local --rename --remove /usr/bin/dracut'

appl_rootfs_tar() {
	need mmdebstrap sha256sum
	local key
	key=$(printf '%s\n' recipe-1 "${APPL_ROOTFS_PKGS[@]}" "${APPL_ROOTFS_MIRRORS[@]}" "$APPL_ROOTFS_HOOK" \
		"$APPL_ROOTFS_DIVERT" "$APPL_ROOTFS_UNDIVERT" |
		sha256sum | cut -c1-16)
	local cached=$APPL_CACHE/rootfs-$key.tar
	if [ -r "$cached" ]; then
		appl_progress "root filesystem from the cache: $cached"
		APPL_ROOTFS_TAR=$cached
		return 0
	fi
	appl_progress "building the root filesystem with mmdebstrap (not in the cache $cached)"
	APPL_ROOTFS_TAR=$A/rootfs.tar
	mmdebstrap --quiet --variant=essential --mode=root \
		--include="$(IFS=,; echo "${APPL_ROOTFS_PKGS[*]}")" --essential-hook="$APPL_ROOTFS_DIVERT" \
		--customize-hook="$APPL_ROOTFS_UNDIVERT" --customize-hook="$APPL_ROOTFS_HOOK" \
		bookworm "$APPL_ROOTFS_TAR" "${APPL_ROOTFS_MIRRORS[@]}" >"$A/mmdebstrap.log" 2>&1 ||
		fail "mmdebstrap: $(tail -n 20 "$A/mmdebstrap.log")"
	# The cache is a convenience: a failure to fill it changes nothing.
	if mkdir -p "$APPL_CACHE" 2>/dev/null && cp "$APPL_ROOTFS_TAR" "$cached.tmp.$$" 2>/dev/null; then
		mv "$cached.tmp.$$" "$cached"
	else
		rm -f "$cached.tmp.$$"
	fi
}

appl_root_unpack() { # DIR
	APPL_ROOT=$1
	mkdir "$APPL_ROOT"
	tar -C "$APPL_ROOT" -xf "$APPL_ROOTFS_TAR"
	APPL_KVER=$(ls "$APPL_ROOT/lib/modules" | sort -V | tail -n 1)
	APPL_KERNEL=$APPL_ROOT/boot/vmlinuz-$APPL_KVER
	[ -r "$APPL_KERNEL" ] || fail "no kernel in the root filesystem"
	[ ! -e "$APPL_ROOT/usr/sbin/sealboot-anchor" ] && [ ! -e "$APPL_ROOT/var/lib/dpkg/info/sealboot-anchor.list" ] ||
		fail "the root filesystem ($APPL_ROOTFS_TAR) already holds sealboot"
}

appl_in_root() {
	unshare -m sh -c 'mount --rbind /dev "$0/dev" && mount -t proc proc "$0/proc" &&
		mount -t sysfs sysfs "$0/sys" && exec chroot "$0" "$@"' "$APPL_ROOT" "$@"
}

# -- sealboot's packages --
appl_build_debs() { # SRC OUT [VERSION]
	need dpkg-buildpackage dh dpkg-deb git
	local src=$1 out=$2 p
	# The tree as committed plus what is not yet (not build outputs), as
	# tests/package/test-deb.sh builds it.
	mkdir -p "$out/sealboot"
	(cd "$src" && git ls-files -co --exclude-standard -z | xargs -0 tar -c --no-recursion) |
		tar -x -C "$out/sealboot"
	# Another version: set as a release does (meson.build and
	# debian/changelog), so every binary, and the initramfs, changes.
	if [ -n "${3:-}" ]; then
		"$out/sealboot/tools/set-version" "$3" "test build of version $3" >"$out/set-version.log" 2>&1 ||
			fail "tools/set-version $3: $(cat "$out/set-version.log")"
	fi
	APPL_DEB_VERSION=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$out/sealboot/meson.build" | head -n 1)
	[ -n "$APPL_DEB_VERSION" ] || fail "no version in $src/meson.build"
	(cd "$out/sealboot" && DEB_BUILD_OPTIONS="nocheck noddebs parallel=2" dpkg-buildpackage -b -uc -us) \
		>"$out/build.log" 2>&1 || fail "dpkg-buildpackage: $(tail -n 30 "$out/build.log")"
	APPL_DEBS=()
	for p in sealboot-anchor sealboot-admin sealboot-launch; do
		[ -f "$out/${p}_${APPL_DEB_VERSION}_amd64.deb" ] ||
			fail "dpkg-buildpackage made no ${p}_${APPL_DEB_VERSION}_amd64.deb"
		APPL_DEBS+=("$out/${p}_${APPL_DEB_VERSION}_amd64.deb")
	done
	rm -rf "$out/sealboot"
}

appl_install_debs() { # DEB...
	local d p v st log=$A/dpkg-$$-$SECONDS.log
	rm -rf "$APPL_ROOT/tmp/sb-debs"
	mkdir -p "$APPL_ROOT/tmp/sb-debs"
	cp "$@" "$APPL_ROOT/tmp/sb-debs/"
	appl_in_root sh -c 'dpkg -i /tmp/sb-debs/*.deb' >"$log" 2>&1 || fail "dpkg -i: $(tail -n 30 "$log")"
	cp "$log" "$A/dpkg.log"
	rm -rf "$APPL_ROOT/tmp/sb-debs"
	for d in "$@"; do
		p=$(dpkg-deb -f "$d" Package)
		v=$(dpkg-deb -f "$d" Version)
		st=$(appl_in_root dpkg-query -W -f '${Status} ${Version}' "$p" 2>&1) || true
		[ "$st" = "install ok installed $v" ] || fail "$p in the root: $st (wanted $v)"
	done
}

# -- the initramfs --
# The image's dracut configuration: generic (not host-only: the build host is
# not the appliance), only the drivers the appliance's disks need (besides
# the module's own), no dracut modules it does not use, uncompressed (faster
# to measure and unpack under TCG than to decompress), and the sealboot
# module: every rebuild, the package trigger's too, makes this image.
appl_dracut_conf() {
	mkdir -p "$APPL_ROOT/etc/dracut.conf.d"
	cat >"$APPL_ROOT/etc/dracut.conf.d/sealboot.conf" <<'CONF'
# The sealboot appliance image (docs/runbooks/admin.md, sections 8 and 9).
hostonly="no"
compress="cat"
drivers="virtio_blk virtio_pci virtio_scsi ext4"
omit_dracutmodules+=" crypt kernel-modules-extra qemu nvdimm lunmask resume virtiofs overlay-root terminfo usrmount "
add_dracutmodules+=" sealboot "
CONF
}

appl_initrd() { # OUT [MODULE...]
	local out=$1 mods=''
	shift
	[ $# = 0 ] || mods="$*"
	appl_in_root dracut --force --quiet --kver "$APPL_KVER" ${mods:+-a "$mods"} \
		/boot/initrd-test.img >"$A/dracut.log" 2>&1 || fail "dracut: $(tail -n 30 "$A/dracut.log")"
	mv "$APPL_ROOT/boot/initrd-test.img" "$out"
}

# appl_lsinitrd IMG OUT: the listing of IMG (by the root's lsinitrd).
appl_lsinitrd() {
	cp "$1" "$APPL_ROOT/tmp/lsinitrd.img"
	appl_in_root lsinitrd /tmp/lsinitrd.img >"$2" 2>&1 || fail "lsinitrd: $(tail -n 5 "$2")"
	rm -f "$APPL_ROOT/tmp/lsinitrd.img"
}

# -- disks --
appl_ext4() { # DIR IMG LABEL SIZE [MKE2FS-OPTION...]
	local dir=$1 img=$2 label=$3 size=$4
	shift 4
	rm -f "$img"
	mke2fs -q -t ext4 "$@" -L "$label" -d "$dir" "$img" "$size" >/dev/null || fail "mke2fs $label"
}

# -- one boot --
appl_swtpm_start() { # STATE-DIR NAME
	APPL_SWTPM_SOCK=$A/swtpm.sock
	rm -f "$APPL_SWTPM_SOCK"
	mkdir -p "$1"
	"${APPL_DEATHSIG[@]}" swtpm socket --tpm2 --tpmstate dir="$1" \
		--ctrl type=unixio,path="$APPL_SWTPM_SOCK" --flags not-need-init \
		--log file="$A/swtpm-$2.log",level=1 </dev/null &
	SWTPM_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -S "$APPL_SWTPM_SOCK" ] && return 0
		sleep 0.05
	done
	fail "swtpm did not create its socket"
}

# The console's lines with the host's time (seconds.micro) in front.
appl_stamp() {
	local l
	while IFS= read -r l || [ -n "$l" ]; do
		printf '%s %s\n' "$EPOCHREALTIME" "${l%$'\r'}"
	done
}

# The machine: change these before appl_qemu_start (each changes what the
# firmware measures, or the kernel's setup header under direct kernel boot).
APPL_QEMU_MEMORY=2048 # MiB; pcr-policy sign/predict --qemu-memory
APPL_QEMU_SMP=2
APPL_QEMU_CPU=max # empty: QEMU's default CPU model
APPL_FW_CODE=$APPL_FW/OVMF_CODE_4M.fd
APPL_FW_VARS='' # the UEFI variable store (a copy); default $A/vars.fd
appl_qemu_start() { # NAME ARG...
	local name=$1 cpu=()
	shift
	[ -z "$APPL_QEMU_CPU" ] || cpu=(-cpu "$APPL_QEMU_CPU")
	echo "$EPOCHREALTIME qemu-start" >"$A/$name.t0"
	"${APPL_DEATHSIG[@]}" qemu-system-x86_64 \
		-accel tcg -machine q35,smm=off "${cpu[@]}" -m "$APPL_QEMU_MEMORY" -smp "$APPL_QEMU_SMP" \
		-nodefaults -display none -no-reboot -monitor none \
		-drive if=pflash,format=raw,readonly=on,file="$APPL_FW_CODE" \
		-drive if=pflash,format=raw,file="${APPL_FW_VARS:-$A/vars.fd}" \
		-chardev stdio,id=ser0,signal=off -serial chardev:ser0 \
		-chardev socket,id=chrtpm,path="$APPL_SWTPM_SOCK" \
		-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 \
		"$@" </dev/null 2>"$A/$name.qemu" > >(appl_stamp >"$A/$name.console") &
	QEMU_PID=$!
}

appl_wait() { # NAME LIMIT REGEX (empty: only QEMU's exit) [FILE (default: the console)]
	local i file=${4:-$A/$1.console}
	APPL_WAITED=timeout
	for i in $(seq 1 $(($2 * 10))); do
		kill -0 "$QEMU_PID" 2>/dev/null || { APPL_WAITED=exited && return 0; }
		if [ -n "$3" ] && grep -qE -- "$3" "$file" 2>/dev/null; then
			APPL_WAITED=matched
			return 0
		fi
		sleep 0.1
	done
}

# APPL_QEMU_RC: QEMU's exit status when it exited by itself, else "killed".
# With "cut" QEMU is killed at once (a power cut), else a second after what
# the console still says.
appl_poweroff() { # NAME [cut]
	local i
	if kill -0 "$QEMU_PID" 2>/dev/null; then
		[ "${2:-}" = cut ] || sleep 1
		kill -KILL "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
		APPL_QEMU_RC=killed
	else
		APPL_QEMU_RC=0
		wait "$QEMU_PID" || APPL_QEMU_RC=$?
	fi
	QEMU_PID=
	for i in $(seq 1 50); do
		kill -0 "$SWTPM_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SWTPM_PID" 2>/dev/null || true
	wait "$SWTPM_PID" 2>/dev/null || true
	SWTPM_PID=
	sleep 0.5 # the timestamping reader drains the pipe
	sed 's/^[0-9.]* //; s/\x1b\[[0-9;=?]*[A-Za-z]//g' "$A/$1.console" >"$A/$1.log"
}

# appl_boot NAME LIMIT REGEX TPM-DIR QEMU-ARG...: one boot with its own
# swtpm on TPM-DIR, until QEMU exits, the console matches REGEX, or LIMIT s.
appl_boot() {
	local name=$1 limit=$2 re=$3 tpm=$4
	shift 4
	appl_swtpm_start "$tpm" "$name"
	appl_qemu_start "$name" "$@"
	appl_wait "$name" "$limit" "$re"
	appl_poweroff "$name"
}

# console_has / console_lacks NAME TEXT: the boot's console (fixed string).
appl_dump() { # NAME
	echo "--- boot $1: console (last 60 lines):" >&2
	tail -n 60 "$A/$1.log" >&2 2>/dev/null || true
	[ ! -e "$A/$1.sb" ] || { echo "--- boot $1: report:" >&2; cat "$A/$1.sb" >&2; }
	echo "--- qemu:" >&2
	cat "$A/$1.qemu" >&2 || true
}
console_has() { # NAME TEXT
	grep -qF -- "$2" "$A/$1.log" || { appl_dump "$1"; fail "boot $1: the console does not say: $2"; }
}
console_lacks() { # NAME TEXT
	! grep -qF -- "$2" "$A/$1.log" || { appl_dump "$1"; fail "boot $1: the console says: $2"; }
}
appl_pem_json() { awk '{printf "%s\\n", $0}' "$1"; }

# appl_initrd_file IMG PATH OUT: the file PATH (as lsinitrd lists it, no
# leading /) of the initramfs IMG, copied out to OUT.
appl_initrd_file() {
	cp "$1" "$APPL_ROOT/tmp/lsinitrd.img"
	appl_in_root lsinitrd -f "$2" /tmp/lsinitrd.img >"$3" 2>/dev/null || fail "lsinitrd -f $2: no such file in $1"
	rm -f "$APPL_ROOT/tmp/lsinitrd.img"
	[ -s "$3" ] || fail "lsinitrd -f $2: no such file in $1"
}
