#!/usr/bin/env bash
# Benchmarks (issue 9): sesame auth token against a Go program that prints an
# env var, gh for reference, peak memory, binary size, whoami against curl, the
# time from approval to "Logged in" in a device login, and 50 parallel
# auth token at expiry (one refresh). Writes BENCHMARKS.md and prints the table.
#
# Usage: scripts/bench.sh [--quick] [--before REF] [--out FILE] [--json DIR] [--strict]
#   --quick       fewer runs (CI): under a minute instead of one to three
#   --before REF  also measure sesame built from git REF ("[before]" rows)
#   --out FILE    write the report there (default BENCHMARKS.md)
#   --json DIR    keep hyperfine's JSON exports (one per comparison and round)
#   --strict      exit 1 when a target is missed (timing targets are noisy on
#                 a shared machine; by default a miss is reported, not fatal)
#
# Needs Go (and git for --before). Installs hyperfine, gh, GNU time and curl
# with apt-get when they are missing and it runs as root; otherwise it does
# without them (its own timer; no gh row; no memory rows; no curl row).
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
	-h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "bench.sh: installing ${need[*]} with apt-get" >&2
	(apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${need[@]}" >/dev/null 2>&1; }) ||
		echo "bench.sh: apt-get could not install ${need[*]}; going on without" >&2
fi
tool() { command -v "$1" 2>/dev/null || true; }
hyperfine=$(tool hyperfine) gh=$(tool gh) curl=$(tool curl) gnutime=
if [ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1; then gnutime=/usr/bin/time; fi
[ -n "$hyperfine" ] || echo "bench.sh: no hyperfine; timing with the harness's own interleaved runner" >&2
[ -n "$gh" ] || echo "bench.sh: no gh; the reference row is left out" >&2
[ -n "$gnutime" ] || echo "bench.sh: no GNU time; the memory rows are left out" >&2

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

"$work/bench" -sesame "$work/sesame" -baseline "$work/baseline" "${before_args[@]}" \
	${hyperfine:+-hyperfine "$hyperfine"} ${gh:+-gh "$gh"} ${curl:+-curl "$curl"} ${gnutime:+-time "$gnutime"} \
	-gobench "$work/gobench.txt" -build-flags "CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w\"" \
	${load_start:+-load-start "$load_start"} -out "$out" "${json[@]}" "${quick[@]}" "${strict[@]}"
