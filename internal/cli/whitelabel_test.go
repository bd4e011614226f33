package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/cli"
)

const (
	wlName    = "papermark"
	wlVersion = "9.9.9-whitelabel"
	wlAPI     = "https://api.papermark.com"
)

// TestWhiteLabel builds the real binary under another name, the way a
// vendor does, and proves that its help, env vars, config dir, messages,
// completions, version, default API and User-Agent all follow the name.
func TestWhiteLabel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary; skipped with -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	exe := filepath.Join(t.TempDir(), wlName)
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	const pkg = "github.com/sesame-cli/sesame/internal/buildinfo"
	build := exec.CommandContext(t.Context(), goTool, "build", "-o", exe, "-ldflags",
		"-X "+pkg+".Name="+wlName+" -X "+pkg+".DefaultAPIURL="+wlAPI+" -X "+pkg+".Version="+wlVersion,
		"github.com/sesame-cli/sesame/cmd/sesame")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	home := t.TempDir()
	wantConfigDir := filepath.Join(home, ".config", wlName)
	if runtime.GOOS == "windows" {
		wantConfigDir = filepath.Join(home, "AppData", "Roaming", wlName)
	}

	// run runs the binary with HOME in a temp dir and no other environment
	// but env: nothing from the developer's or CI's environment leaks in.
	run := func(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), exe, args...)
		cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "PAPERMARK_STORAGE=file", "PAPERMARK_HTTP_TIMEOUT=10s"}
		if runtime.GOOS == "windows" {
			cmd.Env = append(cmd.Env, "USERPROFILE="+home, "APPDATA="+filepath.Join(home, "AppData", "Roaming"), "SystemRoot="+os.Getenv("SystemRoot"))
		}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var out, errb bytes.Buffer
		cmd.Stdin = strings.NewReader("")
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			code = ee.ExitCode()
		case err != nil:
			t.Fatalf("%s %q: %v", wlName, args, err)
		}
		return code, out.String(), errb.String()
	}
	// noSesame fails when the default name shows through.
	noSesame := func(t *testing.T, what, text string) {
		t.Helper()
		if i := strings.Index(strings.ToLower(text), "sesame"); i >= 0 {
			t.Errorf("%s mentions the default name: ...%s...", what, text[max(0, i-60):min(len(text), i+40)])
		}
	}

	t.Run("help", func(t *testing.T) {
		code, stdout, stderr := run(t, nil, "--help")
		if code != 0 {
			t.Fatalf("--help: exit %d: %s", code, stderr)
		}
		for _, want := range []string{"Usage:\n  papermark [flags]", "papermark [command]", "PAPERMARK_TOKEN", "PAPERMARK_CREDENTIALS_FILE", "PAPERMARK_API_URL"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("papermark --help does not mention %q:\n%s", want, stdout)
			}
		}
		// Every command's help, whatever commands exist today.
		for _, path := range commandPaths(cli.NewRootCommand(wlName)) {
			args := append(slices.Clone(path), "--help")
			code, stdout, stderr := run(t, nil, args...)
			if code != 0 {
				t.Errorf("papermark %s: exit %d: %s", strings.Join(args, " "), code, stderr)
				continue
			}
			if !strings.Contains(stdout, "papermark") {
				t.Errorf("papermark %s does not name papermark:\n%s", strings.Join(args, " "), stdout)
			}
			noSesame(t, "papermark "+strings.Join(args, " "), stdout)
		}
	})

	t.Run("env token", func(t *testing.T) {
		code, stdout, stderr := run(t, map[string]string{"PAPERMARK_TOKEN": "x"}, "auth", "token")
		if code != 0 || stdout != "x\n" {
			t.Errorf("PAPERMARK_TOKEN=x papermark auth token: exit %d, stdout %q, stderr %q; want exit 0, %q", code, stdout, stderr, "x\n")
		}
	})

	t.Run("credentials file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "creds.json")
		if err := os.WriteFile(f, []byte(`{"token": "from-file"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := run(t, map[string]string{"PAPERMARK_CREDENTIALS_FILE": f}, "auth", "token")
		if code != 0 || stdout != "from-file\n" {
			t.Errorf("PAPERMARK_CREDENTIALS_FILE: exit %d, stdout %q, stderr %q; want from-file", code, stdout, stderr)
		}
	})

	t.Run("SESAME_ variables are not its own", func(t *testing.T) {
		code, stdout, stderr := run(t, map[string]string{"SESAME_TOKEN": "y", "SESAME_CONFIG_DIR": t.TempDir()}, "auth", "token")
		if code != 4 || stdout != "" {
			t.Errorf("SESAME_TOKEN=y papermark auth token: exit %d, stdout %q; want exit 4 (not authenticated) and no token", code, stdout)
		}
		if !strings.HasPrefix(stderr, "papermark: ") {
			t.Errorf("stderr = %q, want a line starting %q", stderr, "papermark: ")
		}
		noSesame(t, "the error", stderr)
	})

	t.Run("completions", func(t *testing.T) {
		for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
			code, stdout, stderr := run(t, nil, "completion", shell)
			if code != 0 {
				t.Errorf("completion %s: exit %d: %s", shell, code, stderr)
				continue
			}
			if !strings.Contains(stdout, "papermark") {
				t.Errorf("papermark completion %s does not mention papermark", shell)
			}
			noSesame(t, "papermark completion "+shell, stdout)
		}
	})

	t.Run("version", func(t *testing.T) {
		for _, args := range [][]string{{"version"}, {"--version"}} {
			code, stdout, stderr := run(t, nil, args...)
			if want := "papermark version " + wlVersion + "\n"; code != 0 || !strings.HasPrefix(stdout, want) {
				t.Errorf("papermark %s: exit %d, stdout %q, stderr %q; want it to start %q", args[0], code, stdout, stderr, want)
			}
		}
		_, stdout, _ := run(t, nil, "version", "--json")
		var got struct{ Name, Version string }
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("version --json: %v: %q", err, stdout)
		}
		if diff := cmp.Diff(struct{ Name, Version string }{wlName, wlVersion}, got); diff != "" {
			t.Errorf("version --json (-want +got):\n%s", diff)
		}
	})

	t.Run("config dir, messages and User-Agent", func(t *testing.T) {
		var mu sync.Mutex
		var agents []string
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			agents = append(agents, r.UserAgent())
			mu.Unlock()
			if r.Header.Get("Authorization") != "Bearer tok-123" {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id": "u1", "login": "alice"}`)
		}))
		defer api.Close()
		env := map[string]string{"PAPERMARK_API_URL": api.URL}

		code, _, stderr := run(t, env, "login", "--token", "tok-123")
		if code != 0 {
			t.Fatalf("papermark login --token: exit %d: %s", code, stderr)
		}
		noSesame(t, "login's messages", stderr)
		cfg := filepath.Join(wantConfigDir, "config.json")
		if _, err := os.Stat(cfg); err != nil {
			t.Errorf("login stored nothing in %s: %v", cfg, err)
		}
		for _, wrong := range []string{filepath.Join(home, ".config", "sesame"), filepath.Join(home, "AppData", "Roaming", "sesame")} {
			if _, err := os.Stat(wrong); err == nil {
				t.Errorf("%s exists: the config dir does not follow the name", wrong)
			}
		}

		code, stdout, stderr := run(t, env, "whoami", "--json")
		if code != 0 {
			t.Fatalf("papermark whoami --json: exit %d: %s", code, stderr)
		}
		var who struct{ Source, APIURL string }
		if err := json.Unmarshal([]byte(stdout), &who); err != nil {
			t.Fatalf("whoami --json: %v: %q", err, stdout)
		}
		if who.Source != "config-file" {
			t.Errorf("whoami source = %q, want config-file (from %s)", who.Source, cfg)
		}

		code, _, stderr = run(t, map[string]string{"PAPERMARK_API_URL": api.URL, "PAPERMARK_TOKEN": "tok-123"}, "logout")
		if code != 0 || !strings.Contains(stderr, "Logged out") || !strings.Contains(stderr, "PAPERMARK_TOKEN is set") {
			t.Errorf("papermark logout: exit %d, stderr %q; want a logout message and a PAPERMARK_TOKEN warning", code, stderr)
		}
		noSesame(t, "logout's messages", stderr)

		code, _, stderr = run(t, env, "whoami")
		if code != 4 || !strings.HasPrefix(stderr, "papermark: ") {
			t.Errorf("papermark whoami after logout: exit %d, stderr %q; want exit 4 and a papermark: line", code, stderr)
		}
		noSesame(t, "whoami's error", stderr)

		mu.Lock()
		defer mu.Unlock()
		if len(agents) == 0 {
			t.Fatal("the API saw no request")
		}
		for _, ua := range agents {
			if want := wlName + "/" + wlVersion; ua != want {
				t.Errorf("User-Agent = %q, want %q", ua, want)
			}
		}
	})

	t.Run("default API URL", func(t *testing.T) {
		// A proxy that refuses every CONNECT and records where it was to go:
		// with no API URL configured, requests go to the build's default.
		var mu sync.Mutex
		var hosts []string
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hosts = append(hosts, r.Method+" "+r.Host)
			mu.Unlock()
			http.Error(w, "no", http.StatusForbidden)
		}))
		defer proxy.Close()
		code, _, stderr := run(t, map[string]string{"PAPERMARK_TOKEN": "x", "HTTPS_PROXY": proxy.URL, "PAPERMARK_HTTP_TIMEOUT": "5s"}, "whoami")
		if code == 0 {
			t.Errorf("whoami through a refusing proxy succeeded")
		}
		noSesame(t, "whoami's error", stderr)
		mu.Lock()
		defer mu.Unlock()
		if !slices.Contains(hosts, "CONNECT api.papermark.com:443") {
			t.Errorf("proxy saw %q, want CONNECT api.papermark.com:443 (the default API); stderr: %s", hosts, stderr)
		}
	})
}

// commandPaths lists every available command under root as argument
// lists: [], [login], [auth set], ...
func commandPaths(root *cobra.Command) [][]string {
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				walk(sub, append(slices.Clone(path), sub.Name()))
			}
		}
	}
	walk(root, nil)
	return paths
}
