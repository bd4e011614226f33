package cli_test

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-cli/sesame/internal/buildinfo"
)

func TestVersion(t *testing.T) {
	info := buildinfo.Current()
	commit, date := info.Commit, info.Date
	if commit == "" {
		commit = "unknown"
	} else if info.Modified {
		commit += " (modified)"
	}
	if date == "" {
		date = "unknown"
	}
	text := func(name string) string {
		return name + " version " + info.Version + "\n" +
			"commit:   " + commit + "\n" +
			"date:     " + date + "\n" +
			"go:       " + info.GoVersion + "\n" +
			"platform: " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	}
	tests := []struct {
		name       string
		prog       string
		env        map[string]string
		args       []string
		wantCode   int
		wantStdout string
	}{
		{name: "version", prog: "sesame", args: []string{"version"}, wantStdout: text("sesame")},
		{name: "--version prints the same", prog: "sesame", args: []string{"--version"}, wantStdout: text("sesame")},
		{name: "white-label name", prog: "papermark", args: []string{"version"}, wantStdout: text("papermark")},
		{name: "bad storage env does not hide the version", prog: "sesame", env: map[string]string{"SESAME_STORAGE": "nope"}, args: []string{"version"}, wantStdout: text("sesame")},
		{name: "no arguments", prog: "sesame", args: []string{"version", "extra"}, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runNamed(t, tt.prog, tt.env, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr)
			}
			if tt.wantCode != 0 {
				if !strings.HasPrefix(stderr, tt.prog+": ") {
					t.Errorf("stderr = %q, want a %q error line", stderr, tt.prog+": ")
				}
				return
			}
			if diff := cmp.Diff(tt.wantStdout, stdout); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if stderr != "" {
				t.Errorf("stderr = %q, want nothing", stderr)
			}
		})
	}
}

func TestVersionJSON(t *testing.T) {
	code, stdout, stderr := runNamed(t, "papermark", nil, "version", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("version --json printed %q: %v", stdout, err)
	}
	info := buildinfo.Current()
	want := map[string]any{
		"name":      "papermark",
		"version":   info.Version,
		"goVersion": info.GoVersion,
		"os":        runtime.GOOS,
		"arch":      runtime.GOARCH,
	}
	if info.Commit != "" {
		want["commit"] = info.Commit
	}
	if info.Modified {
		want["modified"] = true
	}
	if info.Date != "" {
		want["date"] = info.Date
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("version --json (-want +got):\n%s", diff)
	}
}
