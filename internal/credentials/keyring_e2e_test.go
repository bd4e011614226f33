//go:build unix

package credentials_test

// End-to-end tests of the keyring with the real sesame binary and a real
// Secret Service (or none). They run only when asked, from
// scripts/e2e-keyring.sh:
//
//	SESAME_TEST_REAL_KEYRING=1  inside dbus-run-session with an unlocked gnome-keyring
//	SESAME_TEST_NO_KEYRING=1    outside any D-Bus session (Linux)

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/devissuer"
)

const (
	e2eStaticToken = "sesame_e2e_keyring_0123456789abcdef"
	e2eUser        = "alice"
)

// buildSesame builds ./cmd/sesame into a temp dir and returns its path.
func buildSesame(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sesame")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/sesame-cli/sesame/cmd/sesame")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/sesame: %v\n%s", err, out)
	}
	return bin
}

// startIssuer runs the development issuer in-process on loopback.
func startIssuer(t *testing.T) *devissuer.Server {
	t.Helper()
	s := devissuer.New(devissuer.Options{
		Static:      []devissuer.StaticToken{{Token: e2eStaticToken, User: e2eUser, Scopes: []string{"documents.read"}}},
		AutoApprove: 10 * time.Millisecond,
		Interval:    time.Second,
	})
	if err := s.Start("127.0.0.1:0", "127.0.0.1:0"); err != nil {
		t.Fatalf("start devissuer: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sesameRun is one sesame process's outcome.
type sesameRun struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// e2eEnv is a sesame process's environment: nothing from the test's own
// environment except what is listed, so no token or keyring leaks in.
type e2eEnv struct {
	bin  string
	home string
	vars map[string]string
}

func newE2EEnv(t *testing.T, bin, apiURL, storage string) *e2eEnv {
	home := t.TempDir()
	return &e2eEnv{bin: bin, home: home, vars: map[string]string{
		"HOME":                     home,
		"SESAME_CONFIG_DIR":        filepath.Join(home, "config"),
		"SESAME_API_URL":           apiURL,
		"SESAME_STORAGE":           storage,
		"SESAME_KEYRING_TIMEOUT":   "5s",
		"SESAME_HTTP_TIMEOUT":      "20s",
		"PATH":                     filepath.Join(home, "bin"), // empty: no dbus-launch, no browser
		"DBUS_SESSION_BUS_ADDRESS": "",
	}}
}

func (e *e2eEnv) configPath() string { return config.Path(e.vars["SESAME_CONFIG_DIR"]) }

func (e *e2eEnv) configJSON(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(e.configPath())
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (e *e2eEnv) run(t *testing.T, stdin string, args ...string) sesameRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, args...)
	for k, v := range e.vars {
		if v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	start := time.Now()
	err := cmd.Run()
	r := sesameRun{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("sesame %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("sesame %s: exit %d in %v\nstderr: %s", strings.Join(args, " "), r.code, r.elapsed.Round(time.Millisecond), r.stderr)
	return r
}

func (e *e2eEnv) mustRun(t *testing.T, stdin string, args ...string) sesameRun {
	t.Helper()
	r := e.run(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("sesame %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func (e *e2eEnv) whoamiSource(t *testing.T) credentials.Source {
	t.Helper()
	r := e.mustRun(t, "", "whoami", "--json")
	var out struct {
		Source credentials.Source `json:"source"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("whoami --json: %v\n%s", err, r.stdout)
	}
	return out.Source
}

// storedTokens reads the access and refresh token of apiURL from the
// Secret Service through go-keyring.
func storedTokens(t *testing.T, apiURL string) (access, refresh string, found bool) {
	t.Helper()
	raw, err := credentials.OSKeyring{}.Get("sesame", apiURL)
	if errors.Is(err, credentials.ErrKeyringNotFound) {
		return "", "", false
	}
	if err != nil {
		t.Fatalf("read the keyring: %v", err)
	}
	var sec struct {
		AccessToken  string `json:"accessToken"`
		RefreshToken string `json:"refreshToken"`
	}
	if err := json.Unmarshal([]byte(raw), &sec); err != nil {
		t.Fatalf("keyring entry is not JSON: %v", err)
	}
	return sec.AccessToken, sec.RefreshToken, true
}

// secretToolLookup asks the Secret Service through libsecret's secret-tool,
// independently of go-keyring; ok is false when secret-tool is missing.
func secretToolLookup(t *testing.T, apiURL string) (secret string, ok bool) {
	t.Helper()
	path, err := exec.LookPath("secret-tool")
	if err != nil {
		t.Log("secret-tool not installed; checked through go-keyring only")
		return "", false
	}
	out, err := exec.Command(path, "lookup", "service", "sesame", "username", apiURL).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 {
			return "", true // not found
		}
		t.Fatalf("secret-tool lookup: %v", err)
	}
	return string(out), true
}

func TestRealKeyringCLI(t *testing.T) {
	if os.Getenv("SESAME_TEST_REAL_KEYRING") != "1" {
		t.Skip("set SESAME_TEST_REAL_KEYRING=1 inside a D-Bus session with an unlocked Secret Service (scripts/e2e-keyring.sh)")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" && runtime.GOOS == "linux" {
		t.Fatal("SESAME_TEST_REAL_KEYRING=1 but DBUS_SESSION_BUS_ADDRESS is empty: run inside dbus-run-session")
	}
	bin := buildSesame(t)

	tests := []struct {
		name        string
		storage     string
		login       []string
		stdin       string
		wantRefresh bool
	}{
		{name: "keyring/with-token", storage: "keyring", login: []string{"login", "--with-token"}, stdin: e2eStaticToken + "\n"},
		{name: "keyring/device", storage: "keyring", login: []string{"login", "--no-browser"}, wantRefresh: true},
		{name: "auto/with-token", storage: "auto", login: []string{"login", "--with-token"}, stdin: e2eStaticToken + "\n"},
		{name: "auto/device", storage: "auto", login: []string{"login", "--no-browser"}, wantRefresh: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := startIssuer(t)
			api := iss.APIURL()
			e := newE2EEnv(t, bin, api, tt.storage)
			e.vars["DBUS_SESSION_BUS_ADDRESS"] = os.Getenv("DBUS_SESSION_BUS_ADDRESS")
			t.Cleanup(func() { _ = credentials.OSKeyring{}.Delete("sesame", api) })

			r := e.mustRun(t, tt.stdin, tt.login...)
			if strings.Contains(r.stderr, "notice:") {
				t.Errorf("login printed a notice with a working keyring:\n%s", r.stderr)
			}
			if !strings.Contains(r.stderr, "token stored in the OS keyring") {
				t.Errorf("login stderr does not say the OS keyring:\n%s", r.stderr)
			}

			access, refresh, found := storedTokens(t, api)
			if !found || access == "" {
				t.Fatalf("no access token in the keyring for %s", api)
			}
			if tt.stdin != "" && access != e2eStaticToken {
				t.Errorf("keyring holds another access token than the pasted one")
			}
			if got := refresh != ""; got != tt.wantRefresh {
				t.Errorf("refresh token in the keyring: %v, want %v", got, tt.wantRefresh)
			}
			if sec, ok := secretToolLookup(t, api); ok && !strings.Contains(sec, access) {
				t.Errorf("secret-tool lookup service sesame username %s does not find the access token", api)
			}

			cfg := e.configJSON(t)
			if strings.Contains(cfg, access) || (refresh != "" && strings.Contains(cfg, refresh)) {
				t.Errorf("config.json holds a token:\n%s", cfg)
			}
			if !strings.Contains(cfg, `"storage": "keyring"`) {
				t.Errorf("config.json does not record storage keyring:\n%s", cfg)
			}

			if got := e.whoamiSource(t); got != credentials.SourceKeyring {
				t.Errorf("whoami source = %q, want %q", got, credentials.SourceKeyring)
			}
			if r := e.mustRun(t, "", "auth", "token"); strings.TrimSpace(r.stdout) != access {
				t.Errorf("auth token does not print the keyring's token")
			}

			r = e.mustRun(t, "", "logout")
			if !strings.Contains(r.stderr, "from the OS keyring") {
				t.Errorf("logout stderr does not say the OS keyring:\n%s", r.stderr)
			}
			if _, _, found := storedTokens(t, api); found {
				t.Errorf("the keyring still holds the login after logout")
			}
			if sec, ok := secretToolLookup(t, api); ok && sec != "" {
				t.Errorf("secret-tool still finds the login after logout")
			}
			if cfg, err := config.Load(e.vars["SESAME_CONFIG_DIR"]); err != nil || cfg.APIs[api] != nil {
				t.Errorf("config.json still holds the login after logout (load error %v)", err)
			}
			if tt.wantRefresh && iss.Counters()["revoke"] == 0 {
				t.Errorf("logout did not revoke at the issuer")
			}
			if r := e.run(t, "", "whoami"); r.code != 4 {
				t.Errorf("whoami after logout: exit %d, want 4", r.code)
			}
		})
	}
}

// writeFakeDBusLaunch puts a dbus-launch on PATH that logs its pid to log
// and then either fails at once or hangs (as a Secret Service that never
// answers would).
func writeFakeDBusLaunch(t *testing.T, dir, log string, hang bool) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := "#!/bin/sh\necho $$ >>'" + log + "'\n"
	if hang {
		body += "exec /bin/sleep 120\n"
	} else {
		body += "echo 'fake dbus-launch: no X display' >&2\nexit 1\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "dbus-launch"), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b, _ := os.ReadFile(log)
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
}

func launches(t *testing.T, log string) int {
	t.Helper()
	b, err := os.ReadFile(log)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(strings.Fields(string(b)))
}

func TestNoKeyringCLI(t *testing.T) {
	if os.Getenv("SESAME_TEST_NO_KEYRING") != "1" {
		t.Skip("set SESAME_TEST_NO_KEYRING=1 outside any D-Bus session (scripts/e2e-keyring.sh)")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the Secret Service is Linux's keyring")
	}
	if _, err := os.Stat("/run/user/" + strconv.Itoa(os.Getuid()) + "/bus"); err == nil {
		t.Fatal("a D-Bus user bus runs at /run/user/UID/bus: go-keyring would find it; run on a machine without a session bus")
	}
	bin := buildSesame(t)

	tests := []struct {
		name        string
		dbusLaunch  string // "": none on PATH; "fail"; "hang"
		timeout     time.Duration
		wantReason  string
		wantMinWait time.Duration
	}{
		{name: "no dbus-launch", timeout: 3 * time.Second, wantReason: `"dbus-launch": executable file not found`},
		{name: "dbus-launch fails", dbusLaunch: "fail", timeout: 3 * time.Second, wantReason: "exit status 1"},
		{name: "keyring hangs", dbusLaunch: "hang", timeout: 1500 * time.Millisecond, wantReason: "no answer within 1.5s", wantMinWait: 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := startIssuer(t)
			api := iss.APIURL()
			e := newE2EEnv(t, bin, api, "auto")
			e.vars["SESAME_KEYRING_TIMEOUT"] = tt.timeout.String()
			log := filepath.Join(e.home, "dbus-launch.log")
			if tt.dbusLaunch != "" {
				writeFakeDBusLaunch(t, e.vars["PATH"], log, tt.dbusLaunch == "hang")
			}
			// The slack covers the HTTP round trips of a loopback login.
			const slack = 2 * time.Second

			// 1. auto: the keyring fails, the file is used, one notice.
			r := e.mustRun(t, e2eStaticToken+"\n", "login", "--with-token")
			if n := strings.Count(r.stderr, "notice:"); n != 1 {
				t.Errorf("first login printed %d notices, want 1:\n%s", n, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantReason) {
				t.Errorf("notice does not give the reason %q:\n%s", tt.wantReason, r.stderr)
			}
			if !strings.Contains(r.stderr, "(token stored in "+e.configPath()+")") {
				t.Errorf("login does not say the config file:\n%s", r.stderr)
			}
			if r.elapsed < tt.wantMinWait || r.elapsed > tt.timeout+slack {
				t.Errorf("first login took %v, want between %v and the timeout %v (+%v)", r.elapsed, tt.wantMinWait, tt.timeout, slack)
			}
			if strings.Contains(r.stderr, e2eStaticToken) {
				t.Errorf("stderr shows the token")
			}
			cfg := e.configJSON(t)
			if !strings.Contains(cfg, e2eStaticToken) || !strings.Contains(cfg, `"keyringUnavailable"`) {
				t.Errorf("config.json lacks the token or the remembered keyring failure:\n%s", cfg)
			}
			if tt.dbusLaunch != "" && launches(t, log) != 1 {
				t.Errorf("dbus-launch ran %d times in the first login, want 1", launches(t, log))
			}
			if got := e.whoamiSource(t); got != credentials.SourceConfigFile {
				t.Errorf("whoami source = %q, want %q", got, credentials.SourceConfigFile)
			}

			// 2. The next login remembers: no notice, no keyring, no wait.
			r = e.mustRun(t, e2eStaticToken+"\n", "login", "--with-token")
			if strings.Contains(r.stderr, "notice:") {
				t.Errorf("second login printed a notice:\n%s", r.stderr)
			}
			if r.elapsed >= tt.timeout {
				t.Errorf("second login took %v, at least the keyring timeout %v", r.elapsed, tt.timeout)
			}
			if tt.dbusLaunch != "" && launches(t, log) != 1 {
				t.Errorf("dbus-launch ran %d times in all, want 1 (the second login tried the keyring)", launches(t, log))
			}
			if got := e.whoamiSource(t); got != credentials.SourceConfigFile {
				t.Errorf("whoami source = %q, want %q", got, credentials.SourceConfigFile)
			}
			e.mustRun(t, "", "logout")

			// 3. keyring explicitly: a clear error, exit 1, the hint, nothing stored.
			e.vars["SESAME_STORAGE"] = "keyring"
			before := launches(t, log)
			r = e.run(t, e2eStaticToken+"\n", "login", "--with-token")
			if r.code != 1 {
				t.Errorf("login with SESAME_STORAGE=keyring: exit %d, want 1", r.code)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(lines) < 2 || !strings.HasPrefix(lines[len(lines)-2], "sesame: keyring write: ") ||
				lines[len(lines)-1] != "hint: use --storage file (or SESAME_STORAGE=file) to store tokens in the config file" {
				t.Errorf("stderr ends without the error and hint:\n%s", r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantReason) {
				t.Errorf("error does not give the reason %q:\n%s", tt.wantReason, r.stderr)
			}
			if r.elapsed > tt.timeout+slack {
				t.Errorf("keyring login took %v, want at most the timeout %v (+%v)", r.elapsed, tt.timeout, slack)
			}
			if strings.Contains(r.stderr, e2eStaticToken) {
				t.Errorf("stderr shows the token")
			}
			if tt.dbusLaunch != "" && launches(t, log) != before+1 {
				t.Errorf("SESAME_STORAGE=keyring did not try the keyring again")
			}
			if cfg := e.configJSON(t); strings.Contains(cfg, e2eStaticToken) {
				t.Errorf("config.json holds the token after a failed keyring login:\n%s", cfg)
			}
		})
	}
}
