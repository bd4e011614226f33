#!/usr/bin/env bash
# Runs every fuzz target of the module for N seconds each (default 20), one
# after another: scripts/fuzz.sh [seconds]
#
# Targets are found with `go test -list '^Fuzz'`. Seed corpora live in
# <pkg>/testdata/fuzz/<FuzzName>/ (and in the f.Add calls); inputs the fuzzer
# finds interesting go to the Go build cache. A failing input is written to
# <pkg>/testdata/fuzz/<FuzzName>/ by `go test`: commit it with the fix, it
# then runs as a regular test.
#
# Go 1.26's fuzz coordinator sometimes ends a duration-bound run with a bare
# "context deadline exceeded" and no failing input (go.dev/issue/75804, fixed
# in Go 1.27): such a run is reported as a toolchain flake, not a failure. A
# run that writes a failing input, or fails any other way, fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
case $secs in
'' | *[!0-9]*)
	echo "usage: $0 [seconds]" >&2
	exit 2
	;;
esac

# files in a corpus dir (0 when there is none)
nfiles() { if [ -d "$1" ]; then find "$1" -type f | wc -l; else echo 0; fi; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s)
failed=()
flaked=()
count=0
while IFS=' ' read -r pkg dir; do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		count=$((count + 1))
		t0=$(date +%s)
		corpus="$dir/testdata/fuzz/$target"
		before=$(nfiles "$corpus")
		echo "== $pkg $target (${secs}s)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "${secs}s" "$pkg" 2>&1 | tee "$out" | grep -v '^fuzz: elapsed' || true
		if grep -q '^ok ' "$out"; then
			echo "   ok in $(($(date +%s) - t0)) s"
		elif [ "$(nfiles "$corpus")" -eq "$before" ] &&
			grep -A1 "^--- FAIL: $target " "$out" | grep -qx '    context deadline exceeded'; then
			echo "   toolchain flake (go.dev/issue/75804: no failing input) in $(($(date +%s) - t0)) s"
			flaked+=("$pkg $target")
		else
			failed+=("$pkg $target")
		fi
	done
done < <(go list -f '{{.ImportPath}} {{.Dir}}' ./...)

echo "== $count fuzz targets in $(($(date +%s) - start)) s (${#flaked[@]} toolchain flakes)"
if ((${#failed[@]})); then
	printf 'FAILED: %s\n' "${failed[@]}" >&2
	exit 1
fi
