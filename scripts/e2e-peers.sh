#!/usr/bin/env bash
# End-to-end suite against real OAuth / OpenID servers (issue 7, part A):
# builds Ory Hydra v2.3.0 (scripts/hydra-build.sh; cached), then runs the
# nested e2e module's Zitadel and Hydra tests against the real sesame
# binary. zitadel/oidc runs in-process (a test dependency of e2e/ only).
# Node peers (issue 13): the MCP TypeScript SDK's example server and panva's
# oidc-provider, npm packages pinned by e2e/{mcp,oidcprovider}/package-lock.json,
# installed by scripts/node-peers-install.sh (npm ci; cached).
# A peer that cannot be built or started fails this script.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

echo "== e2e peers: building Ory Hydra (cached in ${SESAME_CACHE:-$HOME/.cache/sesame-e2e})"
if ! hydra=$(bash scripts/hydra-build.sh); then
	echo "e2e-peers: FAILED: Ory Hydra could not be built (see above)" >&2
	exit 1
fi
echo "== e2e peers: installing the Node peers (npm ci when the cache is stale)"
if ! bash scripts/node-peers-install.sh mcp oidcprovider; then
	echo "e2e-peers: FAILED: the Node peers could not be installed (see above)" >&2
	exit 1
fi
built=$(date +%s)
echo "== e2e peers: hydra and node peers ready in $(( built - start )) s: $hydra"

echo "== e2e peers: go test (zitadel/oidc in-process, Hydra at $hydra, MCP example server, oidc-provider)"
status=0
(cd e2e && HYDRA_BIN="$hydra" E2E_REQUIRE_HYDRA=1 E2E_REQUIRE_NODE=1 go test -count=1 -timeout 15m -run 'Zitadel|Hydra|Mcp|OIDCProvider' ./...) || status=$?
echo "== e2e peers: tests took $(( $(date +%s) - built )) s; total $(( $(date +%s) - start )) s"
if [ "$status" -ne 0 ]; then
	echo "e2e-peers: FAILED (go test exit $status)" >&2
fi
exit "$status"
