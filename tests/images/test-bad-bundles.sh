#!/bin/bash
# Every hostile bundle in tests/fixtures/bundles.expect is refused with its
# documented exit code and one clear error line; whatever stock openssl
# rejects is rejected by us too.
# Runs over the checked-in fixtures and over a set made fresh from a new PKI.
set -euo pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
need openssl
mkscratch

expect="$SEALBOOT_SRC/tests/fixtures/bundles.expect"
failures=0 cases=0

check_set() { # LABEL BUNDLES_DIR CA_FILE
	local label=$1 dir=$2 ca=$3 name code want rc out err lines
	while read -r name code want; do
		case "$name" in '' | '#'*) continue ;; esac
		if [ ! -e "$dir/$name" ]; then
			[ "$label" = checked-in ] && [[ "$name" = *-oversized ]] && continue
			echo "FAIL [$label] $name: fixture missing"
			failures=$((failures + 1))
			continue
		fi
		cases=$((cases + 1))
		rc=0
		"$SEALBOOT_SIGN" verify --no-progress --json --ca "$ca" "$dir/$name" \
			>"$SCRATCH/out" 2>"$SCRATCH/err" || rc=$?
		out=$(cat "$SCRATCH/out")
		err=$(cat "$SCRATCH/err")
		lines=$(grep -c . "$SCRATCH/err" || true)
		if [ "$rc" != "$code" ]; then
			echo "FAIL [$label] $name: exit $rc, want $code: $err"
			failures=$((failures + 1))
			continue
		fi
		if [ "$code" != 0 ]; then
			if [ "$lines" != 1 ] || [[ "$err" != *"$want"* ]]; then
				echo "FAIL [$label] $name: want one line containing '$want', got: $err"
				failures=$((failures + 1))
				continue
			fi
			if ! [[ "$out" =~ \"verified\":\ *false ]] ||
				! [[ "$out" =~ \"exit_code\":\ *$code[^0-9] ]]; then
				echo "FAIL [$label] $name: JSON does not report the failure: $out"
				failures=$((failures + 1))
				continue
			fi
		elif ! [[ "$out" =~ \"verified\":\ *true ]]; then
			echo "FAIL [$label] $name: JSON does not say verified: $out"
			failures=$((failures + 1))
			continue
		fi
		# Stock openssl over the same bytes: what it rejects, we reject.
		if [ -f "$dir/$name/manifest.json" ] && [ -f "$dir/$name/manifest.json.p7s" ] &&
			[ ! -L "$dir/$name/manifest.json" ]; then
			if ! openssl cms -verify -binary -inform DER -purpose any \
				-in "$dir/$name/manifest.json.p7s" -content "$dir/$name/manifest.json" \
				-CAfile "$ca" -out /dev/null 2>/dev/null; then
				if [ "$code" = 0 ]; then
					echo "FAIL [$label] $name: stock openssl rejects a bundle we accept"
					failures=$((failures + 1))
					continue
				fi
			fi
		fi
		echo "ok   [$label] $name -> exit $rc${want:+ ($want)}"
	done <"$expect"
}

check_set checked-in "$SEALBOOT_SRC/tests/fixtures/bundles" \
	"$SEALBOOT_SRC/tests/fixtures/pki/root.crt"

"$SEALBOOT_SRC/tests/lib/make-test-pki" "$SCRATCH/pki"
"$SEALBOOT_SRC/tests/fixtures/make-bundle-fixtures" "$SCRATCH/bundles" "$SCRATCH/pki" \
	"$SEALBOOT_SIGN"
check_set fresh "$SCRATCH/bundles" "$SCRATCH/pki/root.crt"

# A set signed under one PKI is refused by another's root.
rc=0
"$SEALBOOT_SIGN" verify --no-progress --ca "$SCRATCH/pki/root.crt" \
	"$SEALBOOT_SRC/tests/fixtures/bundles/good" 2>/dev/null || rc=$?
[ "$rc" = 4 ] || { echo "FAIL: foreign root accepted (exit $rc)"; failures=$((failures + 1)); }

echo "$cases cases checked, $failures failed"
[ "$failures" = 0 ]
