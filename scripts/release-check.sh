#!/usr/bin/env bash
# Checks the release configuration end to end, without publishing:
#
#   1. goreleaser check
#   2. goreleaser release --snapshot --clean --skip=publish  (into dist/)
#   3. the 6 archives (linux, darwin: tar.gz; windows: zip; amd64 and arm64),
#      checksums.txt (and that it verifies), the .deb and .rpm packages, the
#      Homebrew formula and the Scoop manifest all exist
#   4. the archives hold the binary, README.md, LICENSE, completions and man
#      pages; the linux/amd64 archive, unpacked, runs `<name> version`
#   5. dpkg-deb -c (and rpm -qlp, or the rpm header read with python3): the
#      packages install the binary, the bash/zsh/fish completions and the man
#      pages in the standard places
#
# Exits non-zero with a message naming the first thing missing. Takes about
# 1-3 minutes with warm caches (the first `go run` of goreleaser builds it:
# 4-12 minutes on 2 cores).
#
# Usage: scripts/release-check.sh
#   GORELEASER  command to run goreleaser
#               (default: go run github.com/goreleaser/goreleaser/v2@v2.15.1;
#               GORELEASER=true re-checks an existing dist/ without rebuilding)
set -euo pipefail

cd "$(dirname "$0")/.."
read -r -a goreleaser <<<"${GORELEASER:-go run github.com/goreleaser/goreleaser/v2@v2.15.1}"

fail() {
	echo "release-check: FAIL: $*" >&2
	exit 1
}
step() { echo "== release-check: $*"; }

tmp=$(mktemp -d)
had_man=false
[ -e man ] && had_man=true
cleanup() {
	rm -rf "$tmp"
	# man/ is build output of the goreleaser hooks: do not leave it behind
	# in a tree that did not have it.
	if [ "$had_man" = false ]; then rm -rf man; fi
}
trap cleanup EXIT

# Without a git remote goreleaser ignores the whole git state in a snapshot
# (commit "none", no commit date). Name the project's remote for git through
# the environment, leaving the repository's config alone.
if [ -z "$(git remote 2>/dev/null)" ]; then
	export GIT_CONFIG_COUNT=1
	export GIT_CONFIG_KEY_0=remote.origin.url
	export GIT_CONFIG_VALUE_0=https://github.com/sesame-cli/sesame.git
fi

step "goreleaser check"
"${goreleaser[@]}" check || fail "goreleaser check rejected .goreleaser.yaml"

step "goreleaser release --snapshot --clean --skip=publish"
"${goreleaser[@]}" release --snapshot --clean --skip=publish || fail "the snapshot release failed"

[ -f dist/metadata.json ] || fail "dist/metadata.json missing: did goreleaser run?"
field() { sed -n 's/.*"'"$1"'": *"\([^"]*\)".*/\1/p' dist/metadata.json | head -n1; }
name=$(field project_name)
version=$(field version)
commit=$(field commit)
[ -n "$name" ] && [ -n "$version" ] || fail "cannot read project_name and version from dist/metadata.json"
step "checking the artifacts of $name $version"

# exactly one file matching a pattern in dist/
one() {
	local matches=(dist/$1)
	[ -e "${matches[0]}" ] || fail "missing: dist/$1"
	[ ${#matches[@]} -eq 1 ] || fail "more than one dist/$1: ${matches[*]}"
	echo "${matches[0]}"
}

archives=()
for os in linux darwin windows; do
	ext=tar.gz
	[ "$os" = windows ] && ext=zip
	for arch in amd64 arm64; do
		archives+=("$(one "${name}_${version}_${os}_${arch}.${ext}")")
	done
done
echo "archives: ${archives[*]}"

[ -f dist/checksums.txt ] || fail "missing: dist/checksums.txt"
for a in "${archives[@]}"; do
	grep -q " $(basename "$a")\$" dist/checksums.txt || fail "dist/checksums.txt does not list $(basename "$a")"
done
(cd dist && sha256sum --check --quiet checksums.txt) || fail "dist/checksums.txt does not verify"

# Package versions spell a pre-release "-" as "~" (0.0.1~next).
pkgversion=${version/-/\~}
deb_amd64=$(one "${name}_${pkgversion}_amd64.deb")
one "${name}_${pkgversion}_arm64.deb" >/dev/null
rpm_amd64=$(one "${name}-${pkgversion}-1.x86_64.rpm")
one "${name}-${pkgversion}-1.aarch64.rpm" >/dev/null
formula=$(one "homebrew/Formula/${name}.rb")
manifest=$(one "scoop/${name}.json")
grep -q "version \"$version\"" "$formula" || fail "$formula does not name version $version"
grep -q "bash_completion.install" "$formula" || fail "$formula does not install completions"
grep -q "\"version\": \"$version\"" "$manifest" || fail "$manifest does not name version $version"
grep -q "windows_amd64.zip" "$manifest" || fail "$manifest does not point at the windows amd64 zip"

# archive contents
want_files=("README.md" "LICENSE" "completions/$name.bash" "completions/$name.zsh" "completions/$name.fish" "completions/$name.ps1" "man/$name.1.gz")
for a in "${archives[@]}"; do
	case $a in
	*.zip) list=$(unzip -Z1 "$a") bin=$name.exe ;;
	*) list=$(tar -tzf "$a") bin=$name ;;
	esac
	for f in "$bin" "${want_files[@]}"; do
		grep -qx "$f" <<<"$list" || fail "$(basename "$a") does not contain $f"
	done
done

# the linux amd64 binary runs and knows its version
linux=$(one "${name}_${version}_linux_amd64.tar.gz")
mkdir "$tmp/unpacked" "$tmp/home"
tar -xzf "$linux" -C "$tmp/unpacked"
out=$(cd "$tmp/unpacked" && env -i HOME="$tmp/home" PATH=/usr/bin:/bin ./"$name" version) ||
	fail "./$name version from $(basename "$linux") failed"
echo "$out" | sed 's/^/    /'
head -n1 <<<"$out" | grep -qx "$name version $version" ||
	fail "./$name version printed '$(head -n1 <<<"$out")', want '$name version $version'"
grep -q "^commit: *${commit:0:7}" <<<"$out" || fail "./$name version does not show commit $commit"
grep -q '^platform: linux/amd64$' <<<"$out" || fail "./$name version does not show platform linux/amd64"
grep -q '^date: *[0-9]' <<<"$out" || fail "./$name version does not show the build date"
(cd "$tmp/unpacked" && env -i HOME="$tmp/home" ./"$name" version --json) | grep -q "\"version\": \"$version\"" ||
	fail "./$name version --json does not show version $version"

# the .deb puts everything in the standard places
command -v dpkg-deb >/dev/null || fail "dpkg-deb not found (apt-get install dpkg)"
deb_list=$(dpkg-deb -c "$deb_amd64" | awk '{print $NF}')
for f in \
	"./usr/bin/$name" \
	"./usr/share/bash-completion/completions/$name" \
	"./usr/share/zsh/vendor-completions/_$name" \
	"./usr/share/fish/vendor_completions.d/$name.fish" \
	"./usr/share/man/man1/$name.1.gz" \
	"./usr/share/man/man1/$name-version.1.gz"; do
	grep -qx "$f" <<<"$deb_list" || fail "$(basename "$deb_amd64") does not install $f"
done
[ "$(dpkg-deb -f "$deb_amd64" Package)" = "$name" ] || fail "$(basename "$deb_amd64") is not package $name"

# the .rpm: its file list from rpm, or else from its header (python3)
rpm_files() {
	if command -v rpm >/dev/null; then
		rpm -qlp "$1"
		return
	fi
	python3 - "$1" <<'PY'
# Lists an rpm's files from its header (BASENAMES, DIRNAMES, DIRINDEXES).
import struct, sys
def ls(path):
    d = open(path, 'rb').read()
    off = 96  # lead
    def header(off):
        if d[off:off+3] != b'\x8e\xad\xe8':
            raise SystemExit('not an rpm header at %d' % off)
        n, size = struct.unpack('>II', d[off+8:off+16])
        idx = off + 16
        store = idx + 16 * n
        tags = {}
        for i in range(n):
            tag, typ, o, cnt = struct.unpack('>IIII', d[idx+16*i:idx+16*i+16])
            tags[tag] = (typ, store + o, cnt)
        return tags, store + size
    _, end = header(off)           # signature header
    end += (8 - end % 8) % 8       # padded to 8 bytes
    tags, _ = header(end)          # main header
    def strings(tag):
        typ, o, cnt = tags[tag]
        out = []
        for _ in range(cnt):
            e = d.index(b'\0', o)
            out.append(d[o:e].decode()); o = e + 1
        return out
    def ints(tag):
        typ, o, cnt = tags[tag]
        return list(struct.unpack('>%dI' % cnt, d[o:o+4*cnt]))
    base, dirs, di = strings(1117), strings(1118), ints(1116)
    for b, i in zip(base, di):
        print(dirs[i] + b)
ls(sys.argv[1])
PY
}
if command -v rpm >/dev/null || command -v python3 >/dev/null; then
	rpm_list=$(rpm_files "$rpm_amd64") || fail "cannot list the files of $(basename "$rpm_amd64")"
	for f in "/usr/bin/$name" "/usr/share/bash-completion/completions/$name" "/usr/share/zsh/site-functions/_$name" \
		"/usr/share/fish/vendor_completions.d/$name.fish" "/usr/share/man/man1/$name.1.gz"; do
		grep -qx "$f" <<<"$rpm_list" || fail "$(basename "$rpm_amd64") does not install $f"
	done
else
	echo "neither rpm nor python3: $(basename "$rpm_amd64") exists; its file list is not checked"
fi

step "ok: 6 archives, checksums, deb, rpm, Homebrew formula and Scoop manifest for $name $version"
