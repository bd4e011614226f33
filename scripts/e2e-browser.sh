#!/usr/bin/env bash
# The browser suite: `sesame login` (device flow) and `sesame login --web`
# (authorization code + PKCE, loopback redirect) against the development
# issuer, approved in a real headless Chromium: $BROWSER is
# e2e/browser/browser.sh, which opens the URL with playwright-core and clicks
# Approve on the real page. Both logins must end logged in (whoami), and the
# success pages are saved as screenshots in $SESAME_SCREENSHOT_DIR (default
# e2e/artifacts/): device-success.png, web-success.png (and *-consent.png).
#
# Installs Debian's chromium with apt-get and the node dependencies with
# npm ci when missing, unless SESAME_E2E_NO_INSTALL=1. Needs Go, Node >= 20
# and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf '== %s\n' "$*"; }
fail() { printf 'e2e-browser: %s\n' "$*" >&2; exit 1; }

start=$(date +%s)
chromium=${CHROMIUM:-/usr/bin/chromium}
browser_dir="$root/e2e/browser"

# 1. Chromium (Debian's: npx playwright install cannot download browsers).
if [ ! -x "$chromium" ]; then
	[ "${SESAME_E2E_NO_INSTALL:-}" = 1 ] && fail "$chromium is missing (SESAME_E2E_NO_INSTALL=1: not installing); apt-get install -y chromium"
	say "installing chromium"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null || fail "apt-get update failed"
	apt-get install -y -q chromium >/dev/null || fail "apt-get install chromium failed"
	[ -x "$chromium" ] || fail "chromium installed but $chromium is missing"
fi
"$chromium" --version 2>/dev/null || fail "$chromium does not run"

# 2. Node and playwright-core (pinned in e2e/browser/package-lock.json).
command -v node >/dev/null || fail "node is missing: install Node.js 20 or later"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
	fail "node $(node --version) is too old: playwright-core needs Node.js 20 or later"
want=$(node -p 'require(process.argv[1]).dependencies["playwright-core"]' "$browser_dir/package.json")
have=$(node -p 'try { require(process.argv[1]).version } catch { "" }' "$browser_dir/node_modules/playwright-core/package.json")
if [ "$have" != "$want" ]; then
	[ "${SESAME_E2E_NO_INSTALL:-}" = 1 ] && fail "playwright-core $want is not installed (SESAME_E2E_NO_INSTALL=1); cd e2e/browser && npm ci"
	say "npm ci (playwright-core $want)"
	(cd "$browser_dir" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in e2e/browser failed"
fi
say "tools ready in $(( $(date +%s) - start )) s"

# 3. Build, then start the development issuer (a person approves: no auto-approve).
work=$(mktemp -d)
issuer_pid=
cleanup() {
	if [ -n "$issuer_pid" ]; then kill "$issuer_pid" 2>/dev/null || true; wait "$issuer_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/bin/sesame" ./cmd/sesame
go build -o "$work/bin/devissuer" ./cmd/devissuer
"$work/bin/devissuer" --interval 1s --ready-file "$work/ready" >"$work/issuer.log" 2>&1 &
issuer_pid=$!
for _ in $(seq 1 200); do [ -s "$work/ready" ] && break; sleep 0.05; done
[ -s "$work/ready" ] || { cat "$work/issuer.log" >&2; fail "the development issuer did not start"; }
api=$(sed -n 's/^api=//p' "$work/ready")

artifacts=${SESAME_SCREENSHOT_DIR:-$root/e2e/artifacts}
mkdir -p "$artifacts"
artifacts=$(cd "$artifacts" && pwd)
if [ "$artifacts" = "$root/e2e/artifacts" ] && [ ! -e "$artifacts/.gitignore" ]; then
	printf '# screenshots and logs of scripts/e2e-browser.sh\n*\n' >"$artifacts/.gitignore"
fi
rm -f "$artifacts"/device-*.png "$artifacts"/web-*.png "$artifacts/browser.log"

sesame() { "$work/bin/sesame" "$@"; }
unset SESAME_TOKEN SESAME_CREDENTIALS_FILE SESAME_CLIENT_ID SESAME_CLIENT_SECRET SESAME_DEBUG || true
export SESAME_CONFIG_DIR="$work/config" SESAME_STORAGE=file SESAME_API_URL="$api"
export BROWSER="$browser_dir/browser.sh" SESAME_SCREENSHOT_DIR="$artifacts" SESAME_BROWSER_LOG="$artifacts/browser.log"
export CHROMIUM="$chromium"

# wait_browser N: waits until browser.sh has finished N times; fails unless the last one exited 0.
wait_browser() {
	for _ in $(seq 1 900); do
		n=$(grep -c '^exit ' "$SESAME_BROWSER_LOG" 2>/dev/null || true)
		[ "${n:-0}" -ge "$1" ] && break
		sleep 0.1
	done
	last=$(grep '^exit ' "$SESAME_BROWSER_LOG" 2>/dev/null | tail -n1 || true)
	[ "$last" = "exit 0" ] || { cat "$SESAME_BROWSER_LOG" >&2 || true; fail "the browser did not approve (${last:-no exit after 90 s})"; }
}

# check_login FLOW: whoami works, the success screenshot is a PNG.
check_login() {
	out=$(sesame whoami --json) || fail "$1: whoami failed after login"
	grep -q '"source": *"config-file"' <<<"$out" || fail "$1: whoami does not show the stored login: $out"
	grep -Eq '"identity": *"Dev (<|\\u003c)dev@example.com' <<<"$out" || fail "$1: whoami does not show the approving user: $out"
	for f in "$1-consent.png" "$1-success.png"; do
		[ -s "$artifacts/$f" ] || fail "$1: no screenshot $artifacts/$f"
		[ "$(head -c 4 "$artifacts/$f" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "$1: $artifacts/$f is not a PNG"
	done
	sesame logout
}

# 4. Device flow: sesame opens verification_uri_complete; Chromium approves.
say "sesame login (device flow, approved in Chromium)"
t0=$(date +%s)
timeout 180 "$work/bin/sesame" login || fail "device login failed (exit $?)"
wait_browser 1
check_login device
say "device flow: passed in $(( $(date +%s) - t0 )) s"

# 5. Web flow: authorization code + PKCE with a loopback redirect.
help=$(sesame login --help)
grep -q -- '--web' <<<"$help" || fail "sesame login has no --web flag"
say "sesame login --web (authorization code + PKCE, approved in Chromium)"
t0=$(date +%s)
timeout 180 "$work/bin/sesame" login --web --timeout 120s || fail "web login failed (exit $?)"
wait_browser 2
check_login web
say "web flow: passed in $(( $(date +%s) - t0 )) s"

cat "$SESAME_BROWSER_LOG"
say "screenshots: $artifacts/device-success.png $artifacts/web-success.png"
say "browser suite passed in $(( $(date +%s) - start )) s"
