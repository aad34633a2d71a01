# Sourced by the shell tests. set -eu is the caller's.

# Print why a test cannot run and skip it (exit 77, meson's SKIP). Under CI
# (CI=true) a skip is a failure: CI must never pass on work it did not do.
skip() {
	echo "SKIP: $*"
	if [ "${CI:-}" = true ]; then
		echo "FAIL: CI=true and this test would have been skipped"
		exit 1
	fi
	exit 77
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

need() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
	done
}

# A private scratch directory, removed on exit.
mkscratch() {
	SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/sealboot-test.XXXXXX")
	trap 'rm -rf "$SCRATCH"' EXIT
}
