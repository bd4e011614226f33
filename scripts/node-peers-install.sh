#!/usr/bin/env bash
# node-peers-install.sh [mcp|oidcprovider]... — installs the pinned npm
# packages of the Node peers of the end-to-end suite (e2e/mcp: the MCP
# TypeScript SDK's example server; e2e/oidcprovider: panva's oidc-provider)
# with `npm ci` from their committed package-lock.json, into
# ${SESAME_CACHE:-$HOME/.cache/sesame-e2e}/<name>. A cache whose lock file
# matches the committed one is reused. Prints one line per peer:
# "<name>=<dir>" (the dir holds node_modules and the lock file).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${SESAME_CACHE:-$HOME/.cache/sesame-e2e}
[ $# -gt 0 ] || set -- mcp oidcprovider
for name in "$@"; do
	src=$root/e2e/$name
	dst=$cache/$name
	if [ ! -f "$src/package-lock.json" ]; then
		echo "node-peers-install: no $src/package-lock.json" >&2
		exit 2
	fi
	if [ -d "$dst/node_modules" ] && cmp -s "$src/package-lock.json" "$dst/package-lock.json"; then
		echo "$name=$dst"
		continue
	fi
	mkdir -p "$dst"
	rm -rf "$dst/node_modules"
	cp "$src/package.json" "$src/package-lock.json" "$dst/"
	echo "node-peers-install: npm ci in $dst" >&2
	(cd "$dst" && npm ci --no-audit --no-fund --ignore-scripts >&2)
	echo "$name=$dst"
done
