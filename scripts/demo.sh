#!/usr/bin/env bash
# The demo: builds sesame and the development issuer, starts the issuer on
# loopback with auto-approve, then logs in with the device flow and shows
# whoami, auth token (masked), an API request, doctor and logout.
# Needs only Go. Leaves nothing behind.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
issuer_pid=
cleanup() {
	if [ -n "$issuer_pid" ]; then kill "$issuer_pid" 2>/dev/null || true; wait "$issuer_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

echo "Building sesame and the development issuer..."
go build -o "$work/bin/sesame" ./cmd/sesame
go build -o "$work/bin/devissuer" ./cmd/devissuer
export PATH="$work/bin:$PATH"

devissuer --auto-approve 2s --interval 1s --ready-file "$work/ready" >"$work/issuer.log" 2>&1 &
issuer_pid=$!
for _ in $(seq 1 100); do [ -s "$work/ready" ] && break; sleep 0.05; done
[ -s "$work/ready" ] || { echo "the development issuer did not start:"; cat "$work/issuer.log"; exit 1; }
api=$(sed -n 's/^api=//p' "$work/ready")
issuer=$(sed -n 's/^issuer=//p' "$work/ready")
echo "Development issuer: $issuer   sample API: $api"

# Everything sesame keeps goes to a throwaway config dir; no browser opens.
export SESAME_CONFIG_DIR="$work/config" SESAME_STORAGE=file SESAME_API_URL="$api"
unset SESAME_TOKEN SESAME_CREDENTIALS_FILE SESAME_CLIENT_ID SESAME_CLIENT_SECRET BROWSER || true

step "sesame login --no-browser    # device flow; the dev issuer approves after 2 s"
sesame login --no-browser

step "sesame whoami"
sesame whoami

step "sesame auth token | mask"
sesame auth token | sed -E 's/^(.{6}).*(.{4})$/\1…\2 (masked)/'

if sesame --help | grep -q "^  api "; then
	step "sesame api /v1/documents"
	sesame api /v1/documents
else
	step "curl -H \"Authorization: Bearer \$(sesame auth token)\" $api/v1/documents"
	curl -fsS -H "Authorization: Bearer $(sesame auth token)" "$api/v1/documents"; echo
fi

if sesame --help | grep -q "^  doctor "; then
	step "sesame doctor"
	sesame doctor
fi

step "sesame logout"
sesame logout

step "sesame whoami    # after logout: exit 4"
set +e
sesame whoami
code=$?
set -e
echo "(exit $code)"
[ "$code" -eq 4 ] || exit 1
echo
echo "Demo finished."
