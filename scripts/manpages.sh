#!/usr/bin/env bash
# Generates a man page for every command into man/ (gzipped: man/<name>.1.gz,
# man/<name>-<command>.1.gz, ...) with cobra's doc generator (cmd/gendocs).
# goreleaser runs it before a release; the release archives and the deb/rpm
# packages ship the pages. man/ is build output and is not committed.
#
# Usage: scripts/manpages.sh [NAME [VERSION [DATE]]]
#   NAME     program name (default sesame)
#   VERSION  version named in the page footers (default dev)
#   DATE     date in the page footers, YYYY-MM-DD or RFC 3339 (default
#            $SOURCE_DATE_EPOCH, else today)
# MAN_DIR overrides the output directory (default man).
set -euo pipefail

cd "$(dirname "$0")/.."
name=${1:-sesame}
version=${2:-dev}
date=${3:-}
out=${MAN_DIR:-man}

args=(-name "$name" -version "$version" -out "$out")
if [ -n "$date" ]; then
	args+=(-date "$date")
fi

rm -rf "$out"
go run ./cmd/gendocs "${args[@]}"
# -n: no file name or time stamp in the .gz, so the output is reproducible.
gzip -9 -n -f "$out"/*.1
echo "manpages.sh: wrote $(ls "$out" | wc -l) pages to $out/"
