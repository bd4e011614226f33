#!/usr/bin/env bash
# Builds Ory Hydra v2.3.0 for the end-to-end suite (e2e/hydra_test.go).
#
# `go install github.com/ory/hydra/v2@v2.3.0` refuses (Hydra's go.mod has
# replace directives), so this builds it in a scratch module: `go get -tool`,
# Hydra's own replace for gobuffalo/pop, `go mod tidy`, then a cgo build with
# the sqlite tags (needed for DSN=memory).
#
# Output: ${SESAME_CACHE:-$HOME/.cache/sesame-e2e}/bin/hydra. Idempotent: does
# nothing when that binary exists (delete it to rebuild). Prints the path.
set -euo pipefail

version=v2.3.0
cache=${SESAME_CACHE:-$HOME/.cache/sesame-e2e}
bin=$cache/bin/hydra
work=$cache/hydra-build

if [ -x "$bin" ]; then
	echo "hydra-build: $bin exists (delete it to rebuild)" >&2
	echo "$bin"
	exit 0
fi

command -v go >/dev/null || { echo "hydra-build: go is not installed" >&2; exit 1; }
cc=$(go env CC)
command -v "${cc%% *}" >/dev/null ||
	{ echo "hydra-build: a C compiler is needed (Hydra's sqlite driver uses cgo)" >&2; exit 1; }

start=$(date +%s)
fail() {
	echo "hydra-build: $1 failed after $(( $(date +%s) - start )) s (see the output above)" >&2
	exit 1
}

mkdir -p "$work" "$cache/bin"
cd "$work"
if [ ! -f go.mod ]; then
	go mod init sesame-e2e/hydra-build >/dev/null 2>&1 || fail "go mod init"
fi
# Not the caller's module settings: this is a scratch module of its own.
export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=1

echo "hydra-build: fetching github.com/ory/hydra/v2@$version" >&2
go get -tool "github.com/ory/hydra/v2@$version" || fail "go get -tool github.com/ory/hydra/v2@$version"
# Hydra's go.mod replaces gobuffalo/pop with Ory's fork; replace directives of
# a dependency are ignored, so repeat it here (without it:
# "p.conn.Store.SQLDB undefined").
go mod edit -replace github.com/gobuffalo/pop/v6=github.com/ory/pop/v6@v6.2.1-0.20241121111754-e5dfc0f3344b
go mod tidy || fail "go mod tidy"
t_fetch=$(( $(date +%s) - start ))

echo "hydra-build: building (cgo, tags sqlite,sqlite_omit_load_extension)" >&2
go build -trimpath -tags sqlite,sqlite_omit_load_extension \
	-ldflags "-X github.com/ory/hydra/v2/driver/config.Version=$version" \
	-o "$bin.tmp" github.com/ory/hydra/v2 || fail "go build"
mv "$bin.tmp" "$bin"
echo "hydra-build: fetched in ${t_fetch} s, built in $(( $(date +%s) - start - t_fetch )) s, total $(( $(date +%s) - start )) s" >&2
"$bin" version >&2 || true
echo "$bin"
