// Package e2e drives the real sesame binary against real OAuth / OpenID
// servers on loopback: zitadel/oidc (in-process, zitadel_test.go) and Ory
// Hydra v2.3.0 (a separate process built by scripts/hydra-build.sh,
// hydra_test.go). It is a nested module so that the peers' dependencies
// never enter sesame's own go.mod.
//
// Run: scripts/e2e-peers.sh (builds Hydra, then
// `go test -count=1 -run 'Zitadel|Hydra' ./...` in this directory).
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// bins holds the programs TestMain builds once.
type bins struct {
	sesame  string // the real sesame binary (../cmd/sesame)
	browser string // the scripted browser (./testbrowser), used as $BROWSER
}

// built is set once by TestMain before any test runs and only read after.
var built bins

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sesame-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	exe := ""
	if runtime.GOOS == "windows" {
		exe = ".exe"
	}
	built = bins{
		sesame:  filepath.Join(dir, "sesame"+exe),
		browser: filepath.Join(dir, "testbrowser"+exe),
	}
	for _, b := range []struct{ dir, pkg, out string }{
		{"..", "./cmd/sesame", built.sesame}, // the sesame module (not this one)
		{".", "./testbrowser", built.browser},
	} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Dir = b.dir
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: go build %s: %v\n", b.pkg, err)
			return 1
		}
	}
	return m.Run()
}

// sesameEnv is a clean environment for sesame: its own HOME and config dir,
// file storage, no BROWSER, nothing from the caller's SESAME_* variables.
type sesameEnv struct {
	t    *testing.T
	home string
	vars map[string]string
}

func newSesameEnv(t *testing.T) *sesameEnv {
	t.Helper()
	home := t.TempDir()
	return &sesameEnv{t: t, home: home, vars: map[string]string{
		"HOME":              home,
		"XDG_CONFIG_HOME":   filepath.Join(home, "xdg"),
		"SESAME_CONFIG_DIR": filepath.Join(home, "config"),
		"SESAME_STORAGE":    "file",
		"PATH":              os.Getenv("PATH"),
		"TMPDIR":            os.TempDir(),
		"NO_COLOR":          "1",
	}}
}

func (e *sesameEnv) set(k, v string) { e.vars[k] = v }

func (e *sesameEnv) environ() []string {
	out := make([]string, 0, len(e.vars))
	for k, v := range e.vars {
		out = append(out, k+"="+v)
	}
	return out
}

func (e *sesameEnv) configPath() string {
	return filepath.Join(e.vars["SESAME_CONFIG_DIR"], "config.json")
}

// result is a finished sesame run.
type result struct {
	args   []string
	code   int
	stdout string
	stderr string
}

func (r result) String() string {
	return fmt.Sprintf("sesame %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// runTimeout bounds one sesame run (a device login polls every 5 s).
const runTimeout = 2 * time.Minute

// run runs sesame to completion.
func (e *sesameEnv) run(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), runTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, built.sesame, args...)
	cmd.Env = e.environ()
	cmd.Stdin = strings.NewReader("")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return e.finish(args, err, stdout.String(), stderr.String())
}

func (e *sesameEnv) finish(args []string, err error, stdout, stderr string) result {
	e.t.Helper()
	r := result{args: args, stdout: stdout, stderr: stderr}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		e.t.Fatalf("sesame %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr)
	}
	return r
}

// mustRun runs sesame and fails the test unless it exits with want.
func (e *sesameEnv) mustRun(want int, args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != want {
		e.t.Fatalf("want exit %d, got:\n%s", want, r)
	}
	return r
}

// proc is a sesame run in the background whose stderr is read line by line.
type proc struct {
	e      *sesameEnv
	args   []string
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	stderr bytes.Buffer
	lines  chan string // stderr lines as they come; closed at EOF
	done   chan struct{}
	err    error
}

func (e *sesameEnv) start(args ...string) *proc {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), runTimeout)
	p := &proc{e: e, args: args, lines: make(chan string, 100), done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, built.sesame, args...)
	p.cmd.Env = e.environ()
	p.cmd.Stdin = strings.NewReader("")
	p.cmd.Stdout = &p.stdout
	p.cmd.WaitDelay = 5 * time.Second
	pr, err := p.cmd.StderrPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default: // nobody is listening for more lines
			}
		}
		close(p.lines)
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	e.t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// waitLine returns the rest of the first stderr line that starts with prefix.
func (p *proc) waitLine(prefix string) string {
	p.e.t.Helper()
	for line := range p.lines {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			return strings.TrimSpace(rest)
		}
	}
	<-p.done
	p.e.t.Fatalf("sesame ended without printing %q:\n%s", prefix, p.result())
	return ""
}

// wait waits for the run to end.
func (p *proc) wait() result {
	p.e.t.Helper()
	go func() { // drain: the reader must not block on a full channel
		for range p.lines {
		}
	}()
	<-p.done
	return p.result()
}

func (p *proc) result() result {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.e.finish(p.args, p.err, p.stdout.String(), p.stderr.String())
}

// storedLogin is the part of config.json the tests look at.
type storedLogin struct {
	Storage      string    `json:"storage"`
	Issuer       string    `json:"issuer"`
	ClientID     string    `json:"clientId"`
	Scopes       []string  `json:"scopes"`
	ExpiresAt    time.Time `json:"expiresAt"`
	User         string    `json:"user"`
	Method       string    `json:"method"`
	AccessToken  string    `json:"accessToken"`
	RefreshToken string    `json:"refreshToken"`
}

type configFile struct {
	CurrentAPI string                  `json:"currentApi"`
	APIs       map[string]*storedLogin `json:"apis"`
	Clients    map[string]struct {
		ClientID string `json:"clientId"`
	} `json:"clients"`
}

func (e *sesameEnv) config() *configFile {
	e.t.Helper()
	cf := e.tryConfig()
	if cf == nil {
		e.t.Fatalf("no %s", e.configPath())
	}
	return cf
}

// tryConfig reads config.json; nil when there is none.
func (e *sesameEnv) tryConfig() *configFile {
	e.t.Helper()
	data, err := os.ReadFile(e.configPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	var cf configFile
	if err := json.Unmarshal(data, &cf); err != nil {
		e.t.Fatalf("config.json: %v", err)
	}
	return &cf
}

// login returns the stored login for api (fails the test when absent).
func (e *sesameEnv) login(api string) *storedLogin {
	e.t.Helper()
	l := e.config().APIs[api]
	if l == nil {
		e.t.Fatalf("config.json has no login for %s", api)
	}
	return l
}

// expireAccessToken rewrites the stored login's expiresAt to the past, as
// if the access token's lifetime had run out, so that the next command
// refreshes it (the peers' access tokens live for minutes to an hour).
func (e *sesameEnv) expireAccessToken(api string) {
	e.t.Helper()
	data, err := os.ReadFile(e.configPath())
	if err != nil {
		e.t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		e.t.Fatal(err)
	}
	apis, _ := doc["apis"].(map[string]any)
	l, _ := apis[api].(map[string]any)
	if l == nil {
		e.t.Fatalf("config.json has no login for %s", api)
	}
	l["expiresAt"] = time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.configPath(), out, 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// hasLoginFlag reports whether `sesame login --help` lists flag (features being
// built by other engineers appear there once they exist).
func hasLoginFlag(t *testing.T, flag string) bool {
	t.Helper()
	out, err := exec.Command(built.sesame, "login", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("sesame login --help: %v\n%s", err, out)
	}
	return strings.Contains(string(out), flag)
}

func requireLoginFlag(t *testing.T, flag string) {
	t.Helper()
	if !hasLoginFlag(t, flag) {
		t.Skipf("this sesame has no `login %s` yet", flag)
	}
}

// tokenForm POSTs a form to a token (or revocation) endpoint the way a
// public client does (client_id in the body) and returns the status and
// the OAuth error code, if any.
func tokenForm(t *testing.T, endpoint string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(endpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return resp.StatusCode, e.Error
}

// checkNoSecrets fails when one of secrets appears in a run's output.
func checkNoSecrets(t *testing.T, r result, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && (strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s)) {
			t.Errorf("sesame %s printed a secret", strings.Join(r.args, " "))
		}
	}
}

// readBrowserLog waits for the scripted browser to log its last page and
// returns the log: sesame exits as soon as it has the token, possibly
// before the browser has read the loopback page.
func readBrowserLog(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(path)
		if bytes.Contains(data, []byte("\nend ")) || bytes.HasPrefix(data, []byte("end ")) || time.Now().After(deadline) {
			return string(data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
