#!/usr/bin/env bash
# Benchmarks (issues 9 and 17): sesame auth token against a Go program that
# prints an env var, gh for reference, auth token from gnome-keyring against gh
# 2.63 reading the same keyring and against the file store, sesame exec -- true
# against true (when the build has exec), peak memory, binary size, whoami
# against curl, the device login (start to code, first run and with a cached
# client; approval to "Logged in"), and 10 to 500 parallel auth token at expiry
# (one refresh each time; chart BENCHMARKS-refresh.svg). Writes BENCHMARKS.md
# and prints the table.
#
# Usage: scripts/bench.sh [--quick] [--before REF] [--out FILE] [--json DIR] [--strict]
#   --quick       fewer runs: about a minute instead of about four
#   --before REF  also measure sesame built from git REF ("[before]" rows)
#   --out FILE    write the report there (default BENCHMARKS.md)
#   --json DIR    keep hyperfine's JSON exports (one per comparison and round)
#   --strict      exit 1 when a target is missed (timing targets are noisy on
#                 a shared machine; by default a miss is reported, not fatal)
#
# Needs Go (and git for --before). Installs hyperfine, gh, GNU time, curl,
# gnuplot-nox, dbus and gnome-keyring with apt-get when they are missing and it
# runs as root; otherwise it does without them (its own timer; no gh row; no
# memory rows; no curl row; no chart; no keyring rows), saying so. Builds gh
# 2.63.0 (keyring storage) once in a scratch module, cached in
# ${SESAME_CACHE:-$HOME/.cache/sesame-bench} (about two minutes the first time).
set -euo pipefail
load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || true)
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }

quick=() before= out= strict=() json=()
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=(-quick) ;;
	--before) before=${2:?--before needs a git ref}; shift ;;
	--out) out=$(abs "${2:?--out needs a file}"); shift ;;
	--json) json=(-json "$(abs "${2:?--json needs a directory}")"); mkdir -p "${json[1]}"; shift ;;
	--strict) strict=(-strict) ;;
	-h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
cd "$(dirname "$0")/.."
out=${out:-$PWD/BENCHMARKS.md}

# Tools from Debian's packages, when missing and allowed.
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v gh >/dev/null || need+=(gh)
[ -x /usr/bin/time ] || need+=(time)
command -v curl >/dev/null || need+=(curl)
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
command -v dbus-run-session >/dev/null || need+=(dbus)
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
can_install=
[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && can_install=1
if [ ${#need[@]} -gt 0 ] && [ -n "$can_install" ]; then
	echo "bench.sh: installing ${need[*]} with apt-get" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt=(apt-get install -y -qq --no-install-recommends "${need[@]}")
	("${apt[@]}" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && "${apt[@]}" >/dev/null 2>&1; }) ||
		echo "bench.sh: apt-get could not install ${need[*]}; going on without" >&2
fi
tool() { command -v "$1" 2>/dev/null || true; }
hyperfine=$(tool hyperfine) gh=$(tool gh) curl=$(tool curl) gnuplot=$(tool gnuplot) gnutime=
if [ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1; then gnutime=/usr/bin/time; fi
skipped=() # "what: why", for the report
why() {    # what, Debian package
	if [ -n "$can_install" ]; then
		echo "$1: apt-get could not install $2"
	else
		echo "$1: no $2 (not root or no apt-get, so bench.sh did not install it)"
	fi
}
[ -n "$hyperfine" ] || echo "bench.sh: no hyperfine; timing with the harness's own interleaved runner" >&2
[ -n "$gh" ] || echo "bench.sh: no gh; the reference row is left out" >&2
[ -n "$gnutime" ] || skipped+=("$(why "peak memory" time)")
[ -n "$curl" ] || skipped+=("$(why "whoami against curl" curl)")
[ -n "$gnuplot" ] || skipped+=("$(why "chart of latency against process count" gnuplot-nox)")
keyring=1
command -v dbus-run-session >/dev/null || { keyring=; skipped+=("$(why "auth token from the OS keyring" dbus)"); }
command -v gnome-keyring-daemon >/dev/null || { keyring=; skipped+=("$(why "auth token from the OS keyring" gnome-keyring)"); }

# A recent gh, with keyring storage (Debian's 2.23 predates it): built once
# in a scratch module and cached (go install cannot: the proxy refuses its
# version list). Used for both gh rows when there; Debian's gh otherwise.
ghv=v2.63.0
cache=${SESAME_CACHE:-$HOME/.cache/sesame-bench}
ghk=$cache/gh-$ghv
if [ ! -x "$ghk" ]; then
	echo "bench.sh: building gh $ghv in $cache (once; about two minutes)" >&2
	mkdir -p "$cache/gh-build"
	if (cd "$cache/gh-build" && { [ -f go.mod ] || go mod init scratch; } &&
		go get "github.com/cli/cli/v2/cmd/gh@$ghv" &&
		CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$ghk.tmp" github.com/cli/cli/v2/cmd/gh) >"$cache/gh-build.log" 2>&1; then
		mv "$ghk.tmp" "$ghk"
	else
		echo "bench.sh: building gh $ghv failed (log: $cache/gh-build.log); no gh keyring row" >&2
		skipped+=("gh reading its token from the keyring: building gh $ghv failed: $(tail -n 1 "$cache/gh-build.log")")
		ghk=
	fi
fi
[ -z "$ghk" ] || gh=$ghk

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CGO_ENABLED=0
flags=(-trimpath -ldflags "-s -w")
echo "bench.sh: building sesame, the baseline and the harness" >&2
go build "${flags[@]}" -o "$work/sesame" ./cmd/sesame
go build "${flags[@]}" -o "$work/baseline" ./scripts/bench/baseline
go build -o "$work/bench" ./scripts/bench
before_args=()
if [ -n "$before" ]; then
	rev=$(git rev-parse --short "$before^{commit}")
	echo "bench.sh: building sesame at $before ($rev)" >&2
	mkdir "$work/before-src"
	git archive "$rev" | tar -x -C "$work/before-src"
	(cd "$work/before-src" && go build "${flags[@]}" -o "$work/sesame-before" ./cmd/sesame)
	label=$before
	case "$rev" in "$before"*) ;; *) label="$before ($rev)" ;; esac
	before_args=(-before "$work/sesame-before" -before-ref "$label")
fi

echo "bench.sh: Go benchmarks (resolver, config load and save)" >&2
benchtime=1s
[ ${#quick[@]} -gt 0 ] && benchtime=100ms
go test -run '^$' -bench . -benchmem -benchtime "$benchtime" ./internal/credentials ./internal/config >"$work/gobench.txt"

skip_args=()
for s in "${skipped[@]}"; do skip_args+=(-skipped "$s"); done
# The harness runs inside a D-Bus session with an unlocked gnome-keyring (as
# scripts/e2e-keyring.sh does), with a throwaway keyring under $work.
session=()
if [ -n "$keyring" ]; then
	mkdir -p "$work/keyring-data"
	# shellcheck disable=SC2016 # expanded by the inner shell
	session=(env XDG_DATA_HOME="$work/keyring-data" dbus-run-session -- sh -c
		'echo -n pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$@"' sh)
fi
"${session[@]}" "$work/bench" -sesame "$work/sesame" -baseline "$work/baseline" "${before_args[@]}" \
	${hyperfine:+-hyperfine "$hyperfine"} ${gh:+-gh "$gh"} ${ghk:+-gh-keyring "$ghk"} ${curl:+-curl "$curl"} \
	${gnutime:+-time "$gnutime"} ${gnuplot:+-gnuplot "$gnuplot"} "${skip_args[@]}" \
	-gobench "$work/gobench.txt" -build-flags "CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w\"" \
	${load_start:+-load-start "$load_start"} -out "$out" "${json[@]}" "${quick[@]}" "${strict[@]}"
