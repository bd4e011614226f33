package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-cli/sesame/internal/apiclient"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
)

// TestTruthfulHints: a 401 or 403 is hinted from where the token came
// from; a login's scopes are kept, offline_access too, and a scope that is
// not safe to paste leaves the command out.
func TestTruthfulHints(t *testing.T) {
	env := &credentials.Token{Source: credentials.SourceEnv}
	file := &credentials.Token{Source: credentials.SourceCredentialsFile, Path: "/run/secrets/api/credentials.json"}
	stored := func(l *config.Login) *credentials.Token {
		return &credentials.Token{Source: credentials.SourceConfigFile, Login: l}
	}
	forbidden := &apiclient.ScopeError{Scope: "documents.write"}
	rejected := &apiclient.AuthError{Code: "invalid_token"}
	tests := []struct {
		name   string
		active *credentials.Token
		err    error
		want   string
	}{
		{"401 env", env, rejected,
			"sesame: the API rejected the token (401): invalid_token\nhint: the token comes from SESAME_TOKEN: replace it there (a login is not used while it is set)\n"},
		{"401 file", file, rejected,
			"sesame: the API rejected the token (401): invalid_token\nhint: the token comes from the credentials file /run/secrets/api/credentials.json (SESAME_CREDENTIALS_FILE): replace it there (a login is not used while it is set)\n"},
		{"401 stored", stored(&config.Login{Method: "device"}), rejected,
			"sesame: the API rejected the token (401): invalid_token\nhint: run 'sesame login' to get a new token\n"},
		{"403 env", env, forbidden,
			"sesame: the token lacks the scope documents.write (403)\nhint: the token given in SESAME_TOKEN lacks it: replace it there with one that has it\n"},
		{"403 file", file, forbidden,
			"sesame: the token lacks the scope documents.write (403)\nhint: the token given in the credentials file /run/secrets/api/credentials.json (SESAME_CREDENTIALS_FILE) lacks it: replace it there with one that has it\n"},
		{"403 stored device login keeps its scopes and offline_access", stored(&config.Login{Method: "device", Scopes: []string{"documents.read", "email"}, RequestedScopes: []string{"documents.read", "email", "offline_access"}, RefreshToken: "r"}), forbidden,
			"sesame: the token lacks the scope documents.write (403)\nhint: run 'sesame login --scopes documents.read,email,documents.write,offline_access'\n"},
		{"403 stored login without refresh", stored(&config.Login{Method: "web", Scopes: []string{"documents.read"}}), &apiclient.ScopeError{Scope: "documents.write admin"},
			"sesame: the token lacks the scope documents.write admin (403)\nhint: run 'sesame login --scopes documents.read,documents.write,admin'\n"},
		{"403 stored client-credentials login", stored(&config.Login{Method: credentials.MethodClientCredentials, Scopes: []string{"documents.read"}}), forbidden,
			"sesame: the token lacks the scope documents.write (403)\nhint: run 'sesame login --client-credentials --scopes documents.read,documents.write'\n"},
		{"403 pasted token", stored(&config.Login{Method: "token"}), forbidden,
			"sesame: the token lacks the scope documents.write (403)\nhint: store a token that has it ('sesame auth set --stdin')\n"},
		{"403 scope not safe to paste", stored(&config.Login{Method: "device", Scopes: []string{"documents.read"}}), &apiclient.ScopeError{Scope: "x;rm$(id)"},
			"sesame: the token lacks the scope x;rm$(id) (403)\nhint: log in again with --scopes listing the scopes the login has and the missing one\n"},
		{"403 granted scope not safe to paste", stored(&config.Login{Method: "device", Scopes: []string{"it's"}}), forbidden,
			"sesame: the token lacks the scope documents.write (403)\nhint: log in again with --scopes listing the scopes the login has and the missing one\n"},
		{"403 minted from the env", &credentials.Token{Source: credentials.SourceClientCredentials}, forbidden,
			"sesame: the token lacks the scope documents.write (403)\nhint: add it to SESAME_SCOPES if the client SESAME_CLIENT_ID may have it\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ta := NewTestApp(t)
			ta.active = tt.active
			code := ta.exit(tt.err)
			if code != ExitAuth && code != ExitForbidden {
				t.Errorf("exit code %d", code)
			}
			if diff := cmp.Diff(tt.want, ta.Stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExitNoRepeatedHint: a hint the error line already says is left out.
func TestExitNoRepeatedHint(t *testing.T) {
	ta := NewTestApp(t)
	ta.exit(fmt.Errorf("%w: pass --api-url or set SESAME_API_URL", credentials.ErrNoAPIURL))
	if diff := cmp.Diff("sesame: no API URL: pass --api-url or set SESAME_API_URL\n", ta.Stderr.String()); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
	ta = NewTestApp(t)
	ta.exit(credentials.ErrNoAPIURL)
	if diff := cmp.Diff("sesame: no API URL\nhint: pass --api-url or set SESAME_API_URL\n", ta.Stderr.String()); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
}

// TestDoctorDefaultAPIWithBadConfig: doctor tests the build's default API
// when config.json cannot be read.
func TestDoctorDefaultAPIWithBadConfig(t *testing.T) {
	ta := NewTestApp(t, WithFileStorage())
	ta.Vendor.DefaultAPIURL = "https://api.vendor.example/"
	if err := os.MkdirAll(ta.ConfigDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ta.ConfigDir, "config.json"), []byte("{oops"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := ta.newDoctor()
	d.gatherConfig()
	d.gatherToken(t.Context())
	if d.cfg != nil {
		t.Fatal("config.json was read")
	}
	api, from := d.findAPI()
	if api != "https://api.vendor.example" || from != "default" {
		t.Errorf("findAPI = %q, %q; want the build default", api, from)
	}
}

func TestChildEnv(t *testing.T) {
	env := []string{"PATH=/bin", "SESAME_TOKEN=old", "SESAME_API_URL=https://old", "X=1=2", "sesame_token=lower"}
	got := childEnv(env, "linux", "SESAME_TOKEN", "new", "SESAME_API_URL", "")
	want := []string{"PATH=/bin", "X=1=2", "sesame_token=lower", "SESAME_TOKEN=new"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("linux (-want +got):\n%s", diff)
	}
	got = childEnv(env, "windows", "TF_VAR_token", "new", "SESAME_API_URL", "https://api")
	want = []string{"PATH=/bin", "SESAME_TOKEN=old", "X=1=2", "sesame_token=lower", "TF_VAR_token=new", "SESAME_API_URL=https://api"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("windows (-want +got):\n%s", diff)
	}
}

func TestValidEnvName(t *testing.T) {
	for s, want := range map[string]bool{"SESAME_TOKEN": true, "_x": true, "a1": true, "": false, "1A": false, "A-B": false, "A=B": false, "É": false} {
		if got := validEnvName(s); got != want {
			t.Errorf("validEnvName(%q) = %v", s, got)
		}
	}
}

func TestStartError(t *testing.T) {
	tests := []struct {
		err  error
		code int
		msg  string
	}{
		{&exec.Error{Name: "x", Err: exec.ErrNotFound}, ExitCommandNotFound, "exec x: command not found"},
		{&exec.Error{Name: "x", Err: exec.ErrDot}, ExitCommandNotFound, "exec x: found only relative to the current directory through PATH"},
		{&os.PathError{Op: "fork/exec", Path: "x", Err: os.ErrPermission}, ExitCommandNotRunnable, "exec x: permission denied (not executable?)"},
		{&os.PathError{Op: "fork/exec", Path: "x", Err: errors.New("exec format error")}, ExitCommandNotRunnable, "exec x: cannot run it: exec format error"},
	}
	for _, tt := range tests {
		ta := NewTestApp(t)
		err := startError("x", tt.err)
		if code := ta.exit(err); code != tt.code || err.Error() != tt.msg {
			t.Errorf("startError(%v) = %d %q; want %d %q", tt.err, code, err, tt.code, tt.msg)
		}
	}
}
