#!/usr/bin/env bash
# Regenerates the shell completion scripts in completions/ from the built
# binary, with cobra's generators (`<name> completion SHELL`):
#
#   completions/<name>.bash  .zsh  .fish  .ps1
#
# Usage: scripts/completions.sh [NAME]
#   NAME  program name (default sesame); a white-label build passes its own
#         and gets completions/<NAME>.* for a binary built with
#         -X github.com/sesame-cli/sesame/internal/buildinfo.Name=NAME.
#
# internal/cli/completions_test.go fails when completions/ is stale; run this
# script and commit the result.
set -euo pipefail

cd "$(dirname "$0")/.."
name=${1:-sesame}
case $name in
'' | *[!A-Za-z0-9._-]*)
	echo "completions.sh: bad program name: '$name'" >&2
	exit 2
	;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bin=$tmp/$name
CGO_ENABLED=0 go build -trimpath \
	-ldflags "-X github.com/sesame-cli/sesame/internal/buildinfo.Name=$name" \
	-o "$bin" ./cmd/sesame

mkdir -p completions
for pair in bash:bash zsh:zsh fish:fish powershell:ps1; do
	shell=${pair%%:*}
	ext=${pair##*:}
	"$bin" completion "$shell" >"$tmp/$name.$ext"
	if [ ! -s "$tmp/$name.$ext" ]; then
		echo "completions.sh: $name completion $shell printed nothing" >&2
		exit 1
	fi
	mv "$tmp/$name.$ext" "completions/$name.$ext"
done
echo "completions.sh: wrote completions/$name.{bash,zsh,fish,ps1}"
