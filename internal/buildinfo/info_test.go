package buildinfo

import (
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCollect(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	bi := func(version string, settings []debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{
			GoVersion: "go1.26.8",
			Main:      debug.Module{Path: "github.com/sesame-cli/sesame", Version: version},
			Settings:  settings,
		}
	}
	const (
		rev  = "0123456789abcdef0123456789abcdef01234567"
		when = "2026-01-02T03:04:05Z"
	)
	tests := []struct {
		name  string
		stamp Stamp
		bi    *debug.BuildInfo
		want  Info
	}{
		{
			name:  "release build: the stamp wins over everything",
			stamp: Stamp{Name: "sesame", Version: "1.2.3", Commit: "abc1234", Date: "2026-03-04T05:06:07Z"},
			bi:    bi("(devel)", vcs("vcs.revision", rev, "vcs.time", when, "vcs.modified", "true")),
			want:  Info{Name: "sesame", Version: "1.2.3", Commit: "abc1234", Date: "2026-03-04T05:06:07Z", GoVersion: "go1.26.8", OS: "linux", Arch: "amd64"},
		},
		{
			name:  "go install module@version (no VCS info in a module zip)",
			stamp: Stamp{Name: "sesame", Version: "dev"},
			bi:    bi("v1.4.0", nil),
			want:  Info{Name: "sesame", Version: "v1.4.0", GoVersion: "go1.26.8", OS: "linux", Arch: "amd64"},
		},
		{
			name:  "go install module@commit: commit and date from the pseudo-version",
			stamp: Stamp{Name: "sesame", Version: "dev"},
			bi:    bi("v0.0.0-20260102030405-abcdef123456", nil),
			want:  Info{Name: "sesame", Version: "v0.0.0-20260102030405-abcdef123456", Commit: "abcdef123456", Date: when, GoVersion: "go1.26.8", OS: "linux", Arch: "amd64"},
		},
		{
			name:  "pseudo-version after a tag",
			stamp: Stamp{Name: "sesame", Version: "dev"},
			bi:    bi("v1.2.4-0.20260102030405-abcdef123456", nil),
			want:  Info{Name: "sesame", Version: "v1.2.4-0.20260102030405-abcdef123456", Commit: "abcdef123456", Date: when, GoVersion: "go1.26.8", OS: "linux", Arch: "amd64"},
		},
		{
			name:  "go build in a checkout: VCS settings",
			stamp: Stamp{Name: "sesame", Version: "dev"},
			bi:    bi("v0.0.0-20260102030405-0123456789ab+dirty", vcs("vcs", "git", "vcs.revision", rev, "vcs.time", when, "vcs.modified", "true")),
			want:  Info{Name: "sesame", Version: "v0.0.0-20260102030405-0123456789ab+dirty", Commit: rev, Modified: true, Date: when, GoVersion: "go1.26.8", OS: "linux", Arch: "amd64"},
		},
		{
			name:  "go build with -buildvcs=false",
			stamp: Stamp{Name: "sesame", Version: "dev"},
			bi:    bi("(devel)", nil),
			want:  Info{Name: "sesame", Version: "dev", GoVersion: "go1.26.8", OS: "linux", Arch: "amd64"},
		},
		{
			name:  "clean checkout",
			stamp: Stamp{Name: "sesame", Version: "dev"},
			bi:    bi("(devel)", vcs("vcs.revision", rev, "vcs.time", when, "vcs.modified", "false")),
			want:  Info{Name: "sesame", Version: "dev", Commit: rev, Date: when, GoVersion: "go1.26.8", OS: "linux", Arch: "amd64"},
		},
		{
			name:  "vendor stamps only name and version: commit and date still found",
			stamp: Stamp{Name: "papermark", Version: "2.0.0"},
			bi:    bi("(devel)", vcs("vcs.revision", rev, "vcs.time", when)),
			want:  Info{Name: "papermark", Version: "2.0.0", Commit: rev, Date: when, GoVersion: "go1.26.8", OS: "linux", Arch: "amd64"},
		},
		{
			name:  "no build info at all",
			stamp: Stamp{Name: "sesame", Version: ""},
			bi:    nil,
			want:  Info{Name: "sesame", Version: "dev", GoVersion: "go1.0-runtime", OS: "linux", Arch: "amd64"},
		},
		{
			name:  "Go version from the runtime when build info has none",
			stamp: Stamp{Name: "sesame", Version: "1.0.0", Commit: "c"},
			bi:    &debug.BuildInfo{},
			want:  Info{Name: "sesame", Version: "1.0.0", Commit: "c", GoVersion: "go1.0-runtime", OS: "linux", Arch: "amd64"},
		},
		{
			name:  "not a pseudo-version: no commit guessed",
			stamp: Stamp{Name: "sesame", Version: "dev"},
			bi:    bi("v1.2.3-rc.20260102030405", nil),
			want:  Info{Name: "sesame", Version: "v1.2.3-rc.20260102030405", GoVersion: "go1.26.8", OS: "linux", Arch: "amd64"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Collect(tt.stamp, tt.bi, "linux", "amd64", "go1.0-runtime")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Collect() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCurrent(t *testing.T) {
	got := Current()
	if got.Name != Name || got.Version == "" || got.GoVersion == "" || got.OS == "" || got.Arch == "" {
		t.Errorf("Current() = %+v: want name %q and non-empty version, Go version, OS and arch", got, Name)
	}
}

func TestEnvName(t *testing.T) {
	tests := []struct{ name, key, want string }{
		{"sesame", "TOKEN", "SESAME_TOKEN"},
		{"papermark", "CREDENTIALS_FILE", "PAPERMARK_CREDENTIALS_FILE"},
		{"my-cli", "TOKEN", "MY_CLI_TOKEN"},
		{"acme.io", "API_URL", "ACME_IO_API_URL"},
		{"tool2", "TOKEN", "TOOL2_TOKEN"},
	}
	for _, tt := range tests {
		if got := EnvName(tt.name, tt.key); got != tt.want {
			t.Errorf("EnvName(%q, %q) = %q, want %q", tt.name, tt.key, got, tt.want)
		}
	}
}
