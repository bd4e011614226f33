package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-cli/sesame/internal/credentials/credtest"
)

// errFPKeyring is the answer of a keyring that always fails.
var errFPKeyring = errors.New("no keyring in this test")

type fpResult struct {
	Code           int
	Stdout, Stderr string
}

// fpRun runs a fresh App in a new temp dir holding files (the config dir
// is $DIR/config), through run.
func fpRun(t *testing.T, env map[string]string, files map[string]string, run func(a *App) int) fpResult {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{"SESAME_CONFIG_DIR": filepath.Join(dir, "config")}
	for k, v := range env {
		vars[k] = strings.ReplaceAll(v, "$DIR", dir)
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ta := NewTestApp(t, WithEnv(vars), WithNow(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), WithKeyring(&credtest.Keyring{Err: errFPKeyring}))
	a, stdout, stderr := ta.App, ta.Stdout, ta.Stderr
	code := run(a)
	return fpResult{Code: code, Stdout: strings.ReplaceAll(stdout.String(), dir, "$DIR"), Stderr: strings.ReplaceAll(stderr.String(), dir, "$DIR")}
}

func fpConfig(storage, expiresAt, refresh string) string {
	return `{"version": 1, "currentApi": "http://127.0.0.1:9", "apis": {"http://127.0.0.1:9": {
		"storage": "` + storage + `", "issuer": "http://127.0.0.1:8", "clientId": "c1", "tokenType": "Bearer",
		"expiresAt": "` + expiresAt + `", "user": "dev", "accessToken": "stored-token", "refreshToken": "` + refresh + `"}}}`
}

// TestAuthTokenFastPath proves that `auth token`, which Run serves without
// building the cobra command tree, answers exactly as the command in the
// tree does, in every case that does not go to the network.
func TestAuthTokenFastPath(t *testing.T) {
	const api = "https://api.example.com"
	tests := []struct {
		name  string
		env   map[string]string
		files map[string]string
		want  fpResult
	}{
		{
			name: "env token",
			env:  map[string]string{"SESAME_TOKEN": "tok1", "SESAME_API_URL": api},
			want: fpResult{Code: ExitOK, Stdout: "tok1\n"},
		},
		{
			name: "env token with a trailing newline, debug on",
			env:  map[string]string{"SESAME_TOKEN": "tok1\r\n", "SESAME_API_URL": api, "SESAME_DEBUG": "1"},
			want: fpResult{Code: ExitOK, Stdout: "tok1\n"},
		},
		{
			name: "env token without an API URL: printed, no API needed",
			env:  map[string]string{"SESAME_TOKEN": "tok1"},
			want: fpResult{Code: ExitOK, Stdout: "tok1\n"},
		},
		{
			name: "env token with white space inside",
			env:  map[string]string{"SESAME_TOKEN": "to k1", "SESAME_API_URL": api},
			want: fpResult{Code: ExitUsage},
		},
		{
			name: "env token with an http API URL that is not loopback: bad input",
			env:  map[string]string{"SESAME_TOKEN": "tok1", "SESAME_API_URL": "http://api.example.com"},
			want: fpResult{Code: ExitUsage},
		},
		{
			name: "bad storage mode",
			env:  map[string]string{"SESAME_TOKEN": "tok1", "SESAME_API_URL": api, "SESAME_STORAGE": "floppy"},
			want: fpResult{Code: ExitUsage},
		},
		{
			name:  "credentials file",
			env:   map[string]string{"SESAME_CREDENTIALS_FILE": "$DIR/creds.json"},
			files: map[string]string{"creds.json": `{"token": "file-token", "apiUrl": "` + api + `"}`},
			want:  fpResult{Code: ExitOK, Stdout: "file-token\n"},
		},
		{
			name: "missing credentials file",
			env:  map[string]string{"SESAME_CREDENTIALS_FILE": "$DIR/nope.json", "SESAME_API_URL": api},
			want: fpResult{Code: ExitUsage},
		},
		{
			name:  "stored login in the config file, not expiring",
			files: map[string]string{"config/config.json": fpConfig("file", "2099-01-01T00:00:00Z", "r1")},
			want:  fpResult{Code: ExitOK, Stdout: "stored-token\n"},
		},
		{
			name:  "stored login expired without a refresh token",
			files: map[string]string{"config/config.json": fpConfig("file", "2020-01-01T00:00:00Z", "")},
			want:  fpResult{Code: ExitAuth},
		},
		{
			name:  "stored login in a keyring that fails",
			files: map[string]string{"config/config.json": fpConfig("keyring", "2099-01-01T00:00:00Z", "")},
			want:  fpResult{Code: ExitError},
		},
		{
			name:  "config file that does not parse",
			files: map[string]string{"config/config.json": "{"},
			want:  fpResult{Code: ExitError},
		},
		{
			name: "not logged in",
			env:  map[string]string{"SESAME_API_URL": api},
			want: fpResult{Code: ExitAuth},
		},
	}
	args := []string{"auth", "token"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fast := fpRun(t, tt.env, tt.files, func(a *App) int { return a.Run(t.Context(), args) })
			tree := fpRun(t, tt.env, tt.files, func(a *App) int { return a.exit(a.execute(t.Context(), args)) })
			if diff := cmp.Diff(tree, fast); diff != "" {
				t.Errorf("auth token: fast path differs from the command tree (-tree +fast):\n%s", diff)
			}
			if fast.Code != ExitOK && !strings.HasPrefix(fast.Stderr, "sesame: ") {
				t.Errorf("exit %d without an error line on stderr: %q", fast.Code, fast.Stderr)
			}
			got := fast
			got.Stderr = "" // the same as the tree's, compared above
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("auth token (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAuthTokenNotFastPath: anything but exactly `auth token` goes
// through the command tree (flags, help, extra arguments).
func TestAuthTokenNotFastPath(t *testing.T) {
	env := map[string]string{"SESAME_TOKEN": "tok1", "SESAME_API_URL": "https://api.example.com"}
	tests := []struct {
		args       []string
		code       int
		stdoutHas  string
		stderrHave string
	}{
		{args: []string{"auth", "token", "--api-url", "https://other.example.com"}, code: ExitOK, stdoutHas: "tok1\n"},
		{args: []string{"--storage", "file", "auth", "token"}, code: ExitOK, stdoutHas: "tok1\n"},
		{args: []string{"auth", "token", "--help"}, code: ExitOK, stdoutHas: "Prints the active token"},
		{args: []string{"auth", "token", "extra"}, code: ExitUsage, stderrHave: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got := fpRun(t, env, nil, func(a *App) int { return a.Run(context.Background(), tt.args) })
			if got.Code != tt.code || !strings.Contains(got.Stdout, tt.stdoutHas) || !strings.Contains(got.Stderr, tt.stderrHave) {
				t.Errorf("Run(%q) = %+v; want exit %d, stdout with %q, stderr with %q", tt.args, got, tt.code, tt.stdoutHas, tt.stderrHave)
			}
		})
	}
}
