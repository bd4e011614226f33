package buildinfo

import (
	"regexp"
	"runtime"
	"runtime/debug"
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

// pseudoRe matches the tail of a Go pseudo-version: a UTC timestamp and a
// 12-character commit prefix, optionally followed by +incompatible or
// +dirty.
var pseudoRe = regexp.MustCompile(`[-.](\d{14})-([0-9a-f]{12})(?:\+[0-9A-Za-z.-]+)?$`)

func fromPseudoVersion(v string) (commit, date string) {
	m := pseudoRe.FindStringSubmatch(v)
	if m == nil {
		return "", ""
	}
	t, err := time.Parse("20060102150405", m[1])
	if err != nil {
		return "", ""
	}
	return m[2], t.UTC().Format(time.RFC3339)
}
