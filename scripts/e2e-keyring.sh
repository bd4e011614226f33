#!/usr/bin/env bash
# The keyring suite: sesame against a real Secret Service (gnome-keyring over
# D-Bus), then against none.
#
#  1. inside dbus-run-session with an unlocked gnome-keyring:
#     SESAME_TEST_REAL_KEYRING=1 go test -run 'TestRealKeyring' ./internal/credentials
#     (the Store against the OS keyring; the sesame binary with
#     SESAME_STORAGE=keyring and auto: tokens in the keyring and not in
#     config.json, whoami says keyring, logout removes them)
#  2. outside any session bus:
#     SESAME_TEST_NO_KEYRING=1 go test -run TestNoKeyringCLI ./internal/credentials
#     (auto falls back to the file within the timeout with one notice and
#     remembers it; SESAME_STORAGE=keyring exits 1 with the hint; a hanging
#     keyring is cut off by SESAME_KEYRING_TIMEOUT)
#
# Installs gnome-keyring, dbus and libsecret-tools with apt-get when missing,
# unless SESAME_E2E_NO_INSTALL=1. Linux only.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '== %s\n' "$*"; }
fail() { printf 'e2e-keyring: %s\n' "$*" >&2; exit 1; }

start=$(date +%s)
missing=()
command -v dbus-run-session >/dev/null || missing+=(dbus)
command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
command -v secret-tool >/dev/null || missing+=(libsecret-tools)
if [ ${#missing[@]} -gt 0 ]; then
	if [ "${SESAME_E2E_NO_INSTALL:-}" = 1 ]; then
		fail "missing ${missing[*]} (SESAME_E2E_NO_INSTALL=1: not installing); apt-get install -y gnome-keyring dbus libsecret-tools"
	fi
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null || fail "apt-get update failed"
	apt-get install -y -q --no-install-recommends gnome-keyring dbus libsecret-tools >/dev/null ||
		fail "apt-get install gnome-keyring dbus libsecret-tools failed"
	say "installed in $(( $(date +%s) - start )) s"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# gnome-keyring keeps its keyring files under $XDG_DATA_HOME/keyrings: a
# throwaway one, so that the suite never touches the user's keyring.
mkdir -p "$work/data"

go test -c -o "$work/credentials.test" ./internal/credentials

# The test output streams through tee; the status is the test's own.
set +o pipefail

say "with a Secret Service (dbus-run-session + gnome-keyring)"
t0=$(date +%s)
# shellcheck disable=SC2016 # expanded by the inner shell
XDG_DATA_HOME="$work/data" dbus-run-session -- sh -c '
	set -e
	echo -n pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null
	cd internal/credentials
	SESAME_TEST_REAL_KEYRING=1 "$0" -test.count=1 -test.v -test.run "^(TestRealKeyringStore|TestRealKeyringCLI)$"
' "$work/credentials.test" 2>&1 | grep -v 'Failed to set fd limit' | tee "$work/real.log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || fail "the tests with a real keyring failed (exit $status)"
grep -q -- '--- PASS: TestRealKeyringCLI ' "$work/real.log" || fail "TestRealKeyringCLI did not run"
say "with a Secret Service: passed in $(( $(date +%s) - t0 )) s"

say "without a session bus"
t0=$(date +%s)
(
	cd internal/credentials
	env -u DBUS_SESSION_BUS_ADDRESS SESAME_TEST_NO_KEYRING=1 \
		"$work/credentials.test" -test.count=1 -test.v -test.run '^TestNoKeyringCLI$'
) 2>&1 | tee "$work/none.log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || fail "the tests without a keyring failed (exit $status)"
grep -q -- '--- PASS: TestNoKeyringCLI ' "$work/none.log" || fail "TestNoKeyringCLI did not run"
say "without a session bus: passed in $(( $(date +%s) - t0 )) s"
say "keyring suite passed in $(( $(date +%s) - start )) s"
