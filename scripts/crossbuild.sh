#!/usr/bin/env bash
# Cross-compiles and vets every package for the platforms CI does not run on:
# darwin and windows, amd64 and arm64 (CGO off, as in releases). Catches
# code (keyring backends, terminal, signals, paths) that only builds on Linux.
#
# Usage: scripts/crossbuild.sh
set -euo pipefail

cd "$(dirname "$0")/.."
export CGO_ENABLED=0
failed=()
for goos in darwin windows; do
	for goarch in amd64 arm64; do
		echo "== $goos/$goarch: go build ./... && go vet ./..."
		if ! GOOS=$goos GOARCH=$goarch go build ./... ||
			! GOOS=$goos GOARCH=$goarch go vet ./...; then
			failed+=("$goos/$goarch")
		fi
	done
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "crossbuild.sh: FAILED for ${failed[*]}" >&2
	exit 1
fi
echo "crossbuild.sh: ok (darwin, windows × amd64, arm64)"
