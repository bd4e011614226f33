package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// DevVersion is Version in a build that -ldflags did not stamp.
const DevVersion = "dev"

// Stamp is what a release build sets with -ldflags -X.
type Stamp struct {
	Name    string
	Version string
	Commit  string
	Date    string
}

// Stamped returns the values this binary was built with.
func Stamped() Stamp {
	return Stamp{Name: Name, Version: Version, Commit: Commit, Date: Date}
}

// Info describes a build: what `<name> version` prints.
type Info struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Commit is the source revision ("" when unknown).
	Commit string `json:"commit,omitempty"`
	// Modified reports uncommitted changes in a local VCS build.
	Modified bool `json:"modified,omitempty"`
	// Date is when the commit was made or the binary built (RFC 3339, ""
	// when unknown).
	Date      string `json:"date,omitempty"`
	GoVersion string `json:"goVersion"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
}

// Current returns the Info of the running binary.
func Current() Info {
	bi, _ := debug.ReadBuildInfo()
	return Collect(Stamped(), bi, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// Collect merges the -ldflags stamp with the Go toolchain's build info
// (bi may be nil). Stamped values win. A build without a stamped version
// (`go install module@version`, `go build` in a checkout) takes the module
// version, and the commit and date from the VCS settings or, failing those,
// from a pseudo-version (v0.0.0-20260102030405-abcdef123456).
func Collect(s Stamp, bi *debug.BuildInfo, goos, goarch, goVersion string) Info {
	info := Info{
		Name:      s.Name,
		Version:   s.Version,
		Commit:    s.Commit,
		Date:      s.Date,
		GoVersion: goVersion,
		OS:        goos,
		Arch:      goarch,
	}
	if bi == nil {
		if info.Version == "" {
			info.Version = DevVersion
		}
		return info
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	stamped := info.Version != "" && info.Version != DevVersion
	modVersion := bi.Main.Version
	if modVersion == "(devel)" {
		modVersion = ""
	}
	if !stamped {
		info.Version = DevVersion
		if modVersion != "" {
			info.Version = modVersion
		}
	}
	if stamped && info.Commit != "" {
		return info // a release build: the stamp is the whole truth
	}
	var revision, vcsTime string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			revision = kv.Value
		case "vcs.time":
			vcsTime = kv.Value
		case "vcs.modified":
			if info.Commit == "" {
				info.Modified = kv.Value == "true"
			}
		}
	}
	if revision == "" && modVersion != "" {
		revision, vcsTime = fromPseudoVersion(modVersion)
	}
	if info.Commit == "" {
		info.Commit = revision
	}
	if info.Date == "" {
		info.Date = vcsTime
	}
	return info
}

// fromPseudoVersion returns the commit and date of a Go pseudo-version: its
// tail is [-.], a 14-digit UTC timestamp, "-" and a 12-character commit
// prefix, optionally followed by +incompatible or +dirty. It is plain
// string code, not a regexp: a package-level regexp is compiled at every
// start of the program, and this runs only for `version`.
func fromPseudoVersion(v string) (commit, date string) {
	// The build suffix holds no "+", so it can only start at the last one;
	// without one that fits, the tail ends the string.
	stamp, hash, ok := "", "", false
	if i := strings.LastIndexByte(v, '+'); i >= 0 && isBuildSuffix(v[i+1:]) {
		stamp, hash, ok = pseudoTail(v[:i])
	}
	if !ok {
		stamp, hash, ok = pseudoTail(v)
	}
	if !ok {
		return "", ""
	}
	t, err := time.Parse("20060102150405", stamp)
	if err != nil {
		return "", ""
	}
	return hash, t.UTC().Format(time.RFC3339)
}

// pseudoTail matches [-.]YYYYMMDDhhmmss-abcdef123456 at the end of v.
func pseudoTail(v string) (stamp, hash string, ok bool) {
	const n = 1 + 14 + 1 + 12
	if len(v) < n {
		return "", "", false
	}
	tail := v[len(v)-n:]
	stamp, hash = tail[1:15], tail[16:]
	if (tail[0] != '-' && tail[0] != '.') || tail[15] != '-' || !allBytes(stamp, isDigit) || !allBytes(hash, isLowerHex) {
		return "", "", false
	}
	return stamp, hash, true
}

func isBuildSuffix(s string) bool {
	return s != "" && allBytes(s, func(c byte) bool {
		return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == '-'
	})
}

func isDigit(c byte) bool    { return '0' <= c && c <= '9' }
func isLowerHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' }

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
