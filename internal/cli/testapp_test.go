package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/credentials/credtest"
)

// TestApp is an App for unit tests with its output buffers and config dir.
type TestApp struct {
	*App
	Stdout, Stderr *bytes.Buffer
	ConfigDir      string // SESAME_CONFIG_DIR
	Env            map[string]string
}

// TestAppOption changes what NewTestApp builds.
type TestAppOption func(*TestApp)

// WithEnv sets environment variables (over SESAME_CONFIG_DIR too).
func WithEnv(env map[string]string) TestAppOption {
	return func(ta *TestApp) {
		for k, v := range env {
			ta.Env[k] = v
		}
	}
}

// WithNow fixes the App's clock.
func WithNow(now time.Time) TestAppOption {
	return func(ta *TestApp) { ta.Now = func() time.Time { return now } }
}

// WithKeyring replaces the in-memory keyring.
func WithKeyring(k credentials.Keyring) TestAppOption {
	return func(ta *TestApp) { ta.Keyring = k }
}

// WithFileStorage sets the storage as --storage file would.
func WithFileStorage() TestAppOption {
	return func(ta *TestApp) { ta.storage = credentials.StorageFile }
}

// NewTestApp returns an App named sesame on linux with empty stdin, its
// stdout and stderr in buffers, an environment of its own (only
// SESAME_CONFIG_DIR, a new temp dir, unless options add more), the real
// clock and an empty credtest.Keyring.
func NewTestApp(t testing.TB, opts ...TestAppOption) *TestApp {
	t.Helper()
	ta := &TestApp{
		Stdout:    &bytes.Buffer{},
		Stderr:    &bytes.Buffer{},
		ConfigDir: filepath.Join(t.TempDir(), "sesame"),
	}
	ta.Env = map[string]string{"SESAME_CONFIG_DIR": ta.ConfigDir}
	ta.App = &App{
		Name:    "sesame",
		Stdin:   strings.NewReader(""),
		Stdout:  ta.Stdout,
		Stderr:  ta.Stderr,
		Getenv:  func(k string) string { return ta.Env[k] },
		GOOS:    "linux",
		Now:     time.Now,
		Keyring: &credtest.Keyring{},
	}
	for _, o := range opts {
		o(ta)
	}
	if d := ta.Env["SESAME_CONFIG_DIR"]; d != ta.ConfigDir {
		ta.ConfigDir = d
	}
	return ta
}
