package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-cli/sesame/internal/cli"
)

// runNamed runs the CLI in-process as the binary would, under name, with an
// environment holding only env.
func runNamed(t *testing.T, name string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := &cli.App{
		Name:   name,
		Stdin:  strings.NewReader(""),
		Stdout: &out,
		Stderr: &errb,
		Getenv: func(k string) string { return env[k] },
		GOOS:   runtime.GOOS,
		Now:    time.Now,
	}
	code = app.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

// TestCompletionsUpToDate fails when completions/ differs from what the
// current code generates. Fix: scripts/completions.sh, then commit.
func TestCompletionsUpToDate(t *testing.T) {
	for _, tt := range []struct{ shell, file string }{
		{"bash", "sesame.bash"},
		{"zsh", "sesame.zsh"},
		{"fish", "sesame.fish"},
		{"powershell", "sesame.ps1"},
	} {
		t.Run(tt.shell, func(t *testing.T) {
			code, got, stderr := runNamed(t, "sesame", nil, "completion", tt.shell)
			if code != 0 {
				t.Fatalf("sesame completion %s: exit %d: %s", tt.shell, code, stderr)
			}
			path := filepath.Join("..", "..", "completions", tt.file)
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run scripts/completions.sh)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s is stale; run scripts/completions.sh and commit the result (-checked in +generated):\n%s", path, diff)
			}
		})
	}
}

// TestCompletionValues checks that flag and argument values complete where
// it helps, through cobra's __complete protocol that every shell script
// calls.
func TestCompletionValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"storage flag", []string{"__complete", "--storage", ""}, []string{"auto", "keyring", "file"}},
		{"storage flag on a subcommand", []string{"__complete", "whoami", "--storage", ""}, []string{"auto", "keyring", "file"}},
		{"completion shells", []string{"__complete", "completion", ""}, []string{"bash", "fish", "powershell", "zsh"}},
		{"commands", []string{"__complete", "ver"}, []string{"version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runNamed(t, "sesame", nil, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if line == "" || strings.HasPrefix(line, ":") {
					continue // the directive line
				}
				value, _, _ := strings.Cut(line, "\t") // drop the description
				got = append(got, value)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("completions of %q (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}
