package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sesame-cli/sesame/internal/cli"
	"github.com/sesame-cli/sesame/internal/devissuer"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sesame": func() {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			code := cli.Main(ctx)
			stop()
			os.Exit(code)
		},
		"fakebrowser": func() { os.Exit(fakeBrowser(os.Args[1:])) },
		"envchild":    func() { os.Exit(envChild(os.Args[1:])) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "..", "testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			work := env.WorkDir
			env.Setenv("HOME", filepath.Join(work, "home"))
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(work, "home", ".config"))
			env.Setenv("CONFIGDIR", filepath.Join(work, "home", ".config", "sesame"))
			env.Setenv("SESAME_STORAGE", "file")
			env.Setenv("SESAME_HTTP_TIMEOUT", "10s")
			env.Values[issuerKey{}] = &issuerHolder{}
			return os.MkdirAll(filepath.Join(work, "home"), 0o755)
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"devissuer": cmdDevissuer,
			"counter":   cmdCounter,
			"filemode":  cmdFilemode,
			"approve":   cmdApprove,
			"revokeall": cmdRevokeAll,
			"fakeapi":   cmdFakeAPI,
			"bigfile":   cmdBigfile,
			"expand":    cmdExpand,
			"exits":     cmdExits,
			"race":      cmdRace,
			"samelines": cmdSameLines,
			"stopapi":   cmdStopAPI,
			"stopissuer": func(ts *testscript.TestScript, neg bool, args []string) {
				ts.Check(server(ts).Close())
			},
			"killloop": cmdKillLoop,
			"holdport": cmdHoldPort,
			"forgetclients": func(ts *testscript.TestScript, neg bool, args []string) {
				server(ts).ForgetClients()
			},
			"expire": cmdExpire,

			// scripts and agents: two-step login, exec (script_agents_test.go)
			"signal":        cmdSignal,
			"expirepending": cmdExpirePending,

			// hostile input, faults, secrets, network (script_hostile_test.go)
			"hostile":       cmdHostile,
			"writeq":        cmdWriteQ,
			"envq":          cmdEnvQ,
			"cleanerr":      cmdCleanErr,
			"interrupt":     cmdInterrupt,
			"holdlock":      cmdHoldLock,
			"setkillloop":   cmdSetKillLoop,
			"notemp":        cmdNoTemp,
			"recordsecrets": cmdRecordSecrets,
			"nosecrets":     cmdNoSecrets,
			"nosecretfiles": cmdNoSecretFiles,
			"secretkinds":   cmdSecretKinds,
			"tlslab":        cmdTLSLab,
		},
	})
}

type issuerKey struct{}

// issuerHolder carries a script's development issuer between commands.
type issuerHolder struct{ srv *devissuer.Server }

// cmdDevissuer starts the development issuer in-process and sets $ISSUER
// and $API:  devissuer [-auto-approve 1s] [-interval 1s] [-token T:USER:S1,S2] ...
func cmdDevissuer(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! devissuer")
	}
	fs := flag.NewFlagSet("devissuer", flag.ContinueOnError)
	opts := devissuer.Options{}
	fs.DurationVar(&opts.AutoApprove, "auto-approve", 0, "")
	fs.DurationVar(&opts.Interval, "interval", time.Second, "")
	fs.DurationVar(&opts.DeviceTTL, "device-ttl", 0, "")
	fs.DurationVar(&opts.AccessTTL, "access-ttl", 0, "")
	fs.IntVar(&opts.SlowDown, "slow-down", 0, "")
	fs.IntVar(&opts.Fail5xx, "fail-5xx", 0, "")
	fs.BoolVar(&opts.NoRotation, "no-rotation", false, "")
	fs.BoolVar(&opts.DisableRegistration, "no-registration", false, "")
	fs.BoolVar(&opts.NoDeviceFlow, "no-device", false, "")
	fs.BoolVar(&opts.NoProtectedResourceMetadata, "no-prm", false, "")
	fs.BoolVar(&opts.ExactRedirect, "exact-redirect", false, "")
	fs.IntVar(&opts.RefreshBareStatus, "refresh-bare-status", 0, "")
	fs.BoolVar(&opts.NoMePath, "no-me", false, "")
	fs.BoolVar(&opts.NoUserinfo, "no-userinfo", false, "")
	fs.BoolVar(&opts.IDToken, "id-token", false, "")
	fs.BoolVar(&opts.RequireResource, "require-resource", false, "")
	fs.StringVar(&opts.ResourceHost, "resource-host", "", "")
	fs.Func("grant-types-supported", "G1,G2", func(v string) error { opts.GrantTypesSupported = splitComma(v); return nil })
	fs.Func("token", "TOKEN:USER:SCOPES", func(v string) error {
		p := strings.SplitN(v, ":", 3)
		if len(p) != 3 {
			return fmt.Errorf("want TOKEN:USER:SCOPES")
		}
		opts.Static = append(opts.Static, devissuer.StaticToken{Token: p[0], User: p[1], Scopes: splitComma(p[2])})
		return nil
	})
	fs.Func("client", "ID:SECRET:SCOPES", func(v string) error {
		p := strings.SplitN(v, ":", 3)
		if len(p) != 3 {
			return fmt.Errorf("want ID:SECRET:SCOPES")
		}
		opts.Clients = append(opts.Clients, devissuer.Client{ID: p[0], Secret: p[1], Name: p[0],
			GrantTypes: []string{"client_credentials", "urn:ietf:params:oauth:grant-type:device_code", "authorization_code", "refresh_token"},
			Scopes:     splitComma(p[2])})
		return nil
	})
	ts.Check(fs.Parse(args))
	srv := devissuer.New(opts)
	ts.Check(srv.Start("127.0.0.1:0", "127.0.0.1:0"))
	ts.Defer(func() { srv.Close() })
	ts.Setenv("ISSUER", srv.IssuerURL())
	ts.Setenv("API", srv.APIURL())
	ts.Setenv("SESAME_API_URL", srv.APIURL())
	ts.Value(issuerKey{}).(*issuerHolder).srv = srv
}

func server(ts *testscript.TestScript) *devissuer.Server {
	s := ts.Value(issuerKey{}).(*issuerHolder).srv
	if s == nil {
		ts.Fatalf("no devissuer started")
	}
	return s
}

// cmdCounter asserts a devissuer counter: counter KEY N
func cmdCounter(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: counter KEY N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	got := server(ts).Counters()[args[0]]
	if (got == want) == neg {
		ts.Fatalf("counter %s = %d, want %s%d", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// cmdFilemode asserts permission bits: filemode 0600 FILE
func cmdFilemode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: filemode MODE FILE")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[1]))
	ts.Check(err)
	if got := uint64(fi.Mode().Perm()); (got == want) == neg {
		ts.Fatalf("%s has mode %04o, want %04o", args[1], got, want)
	}
}

// cmdApprove approves (or with -deny denies) the last device code shown in
// a file: approve [-deny] STDERRFILE
func cmdApprove(ts *testscript.TestScript, neg bool, args []string) {
	deny := len(args) > 0 && args[0] == "-deny"
	if deny {
		args = args[1:]
	}
	m := regexp.MustCompile(`(?:Enter code: |"userCode": ")([^\s"]+)`).FindAllStringSubmatch(ts.ReadFile(args[0]), -1)
	if m == nil {
		ts.Fatalf("no code in %s", args[0])
	}
	code := m[len(m)-1][1]
	if deny {
		ts.Check(server(ts).Deny(code))
		return
	}
	ts.Check(server(ts).Approve(code, "alice"))
}

// cmdRevokeAll revokes every token of a user at the devissuer.
func cmdRevokeAll(ts *testscript.TestScript, neg bool, args []string) {
	server(ts).RevokeAll(args[0])
}

func splitComma(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

var (
	formRe   = regexp.MustCompile(`(?s)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	hiddenRe = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*name="([^"]*)"[^>]*value="([^"]*)"`)
	inputRe  = regexp.MustCompile(`<input[^>]*name="([^"]*)"[^>]*value="([^"]*)"`)
)

// fakeBrowser stands in for $BROWSER: it logs the URL it was given to
// $FAKEBROWSER_LOG, opens it, and submits the page's form with
// action=$FAKEBROWSER_ACTION (default approve), following redirects (to
// sesame's loopback callback in the web flow). With FAKEBROWSER_TAMPER=state
// it changes the state of that last redirect.
func fakeBrowser(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: fakebrowser URL")
		return 2
	}
	target := args[0]
	if log := os.Getenv("FAKEBROWSER_LOG"); log != "" {
		f, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			fmt.Fprintln(f, target)
			f.Close()
		}
	}
	action := os.Getenv("FAKEBROWSER_ACTION")
	if action == "" {
		action = "approve"
	}
	if action == "none" {
		return 0
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	tamper := tamperState(c)
	if d, err := time.ParseDuration(os.Getenv("FAKEBROWSER_DELAY")); err == nil {
		time.Sleep(d)
	}
	resp, err := c.Get(target)
	if err == nil && tamper {
		resp, err = followTampered(c, resp)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakebrowser:", err)
		return 1
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := formRe.FindSubmatch(body)
	if m == nil {
		return 0 // nothing to approve (auto-approved, or a final page)
	}
	form := url.Values{}
	for _, in := range inputRe.FindAllSubmatch(m[2], -1) {
		form.Set(string(in[1]), string(in[2]))
	}
	for _, in := range hiddenRe.FindAllSubmatch(m[2], -1) {
		form.Set(string(in[1]), string(in[2]))
	}
	if u, err := url.Parse(target); err == nil && u.Query().Get("user_code") != "" && form.Get("user_code") == "" {
		form.Set("user_code", u.Query().Get("user_code"))
	}
	if form.Has("username") {
		form.Set("username", "alice")
	}
	form.Set("action", action)
	actionURL, err := resp.Request.URL.Parse(string(m[1]))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakebrowser:", err)
		return 1
	}
	resp, err = c.PostForm(actionURL.String(), form)
	if err == nil && tamper {
		resp, err = followTampered(c, resp)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakebrowser:", err)
		return 1
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return 0
}

// cmdFakeAPI starts a server standing in for a broken API and sets $NAME to
// its URL: fakeapi NAME html|500|dead|slow
func cmdFakeAPI(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: fakeapi NAME html|500|dead")
	}
	kind := args[1]
	if kind == "dead" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		ts.Check(err)
		addr := l.Addr().String()
		l.Close()
		ts.Setenv(args[0], "http://"+addr)
		return
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch kind {
		case "html":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html><body>Welcome to our website</body></html>")
		case "500":
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "<html>Internal Server Error</html>")
		case "slow":
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		}
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL)
}

// cmdBigfile writes SIZE bytes of 'a' to FILE: bigfile FILE SIZE
func cmdBigfile(ts *testscript.TestScript, neg bool, args []string) {
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(strings.Repeat("a", n)), 0o600))
}

// cmdExpand copies SRC to DST expanding $VARS: expand SRC DST
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	data := os.Expand(ts.ReadFile(args[0]), ts.Getenv)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(data), 0o600))
}

// cmdExits runs a program and asserts its exit code: exits N PROG ARGS...
// stdout and stderr are then checked as after exec.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N PROG ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// cmdRace runs N copies of a program at once and writes their stdout, one
// line each, to OUT; every copy must exit 0: race N OUT PROG ARGS...
func cmdRace(ts *testscript.TestScript, neg bool, args []string) {
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	env := scriptEnv(ts)
	type result struct {
		out, errOut string
		err         error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(args[2], args[3:]...)
			cmd.Env = env
			cmd.Dir = ts.Getenv("WORK")
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			<-start
			err := cmd.Run()
			results[i] = result{stdout.String(), stderr.String(), err}
		}()
	}
	close(start)
	wg.Wait()
	var out strings.Builder
	for i, r := range results {
		if r.err != nil {
			ts.Fatalf("copy %d: %v\n%s", i, r.err, r.errOut)
		}
		out.WriteString(r.out)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(out.String()), 0o600))
}

// cmdExpire marks every stored login's access token as expired (the
// server still accepts it) so that the next use refreshes it.
func cmdExpire(ts *testscript.TestScript, neg bool, args []string) {
	p := filepath.Join(ts.Getenv("CONFIGDIR"), "config.json")
	var cfg map[string]any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(p)), &cfg))
	apis, _ := cfg["apis"].(map[string]any)
	for _, l := range apis {
		l.(map[string]any)["expiresAt"] = time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	}
	data, err := json.Marshal(cfg)
	ts.Check(err)
	ts.Check(os.WriteFile(p, data, 0o600))
}

// cmdSameLines asserts that FILE holds N identical non-empty lines and sets
// $LINE to that line: samelines N FILE
func cmdSameLines(ts *testscript.TestScript, neg bool, args []string) {
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	lines := strings.Split(strings.TrimSuffix(ts.ReadFile(args[1]), "\n"), "\n")
	if len(lines) != n {
		ts.Fatalf("%s has %d lines, want %d", args[1], len(lines), n)
	}
	for i, l := range lines {
		if l == "" || l != lines[0] {
			ts.Fatalf("%s line %d differs from line 1", args[1], i+1)
		}
	}
	ts.Setenv("LINE", lines[0])
}

// scriptEnv is the environment of a script, for programs started by Go code.
func scriptEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "XDG_CONFIG_HOME", "SESAME_API_URL", "SESAME_STORAGE", "SESAME_HTTP_TIMEOUT", "SESAME_CONFIG_DIR", "SESAME_TOKEN", "SESAME_CREDENTIALS_FILE"} {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// cmdKillLoop kills "sesame auth token" with SIGKILL at varying moments of a
// refresh, N times. After each kill config.json must parse, and the next run
// must either print a token or end cleanly with "log in again" (exit 4), in
// which case the loop logs in again: killloop N
func cmdKillLoop(ts *testscript.TestScript, neg bool, args []string) {
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	env := scriptEnv(ts)
	run := func(args ...string) (string, int) {
		cmd := exec.Command("sesame", args...)
		cmd.Env, cmd.Dir = env, ts.Getenv("WORK")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		ts.Check(err)
		return string(out), 0
	}
	cfgPath := filepath.Join(ts.Getenv("CONFIGDIR"), "config.json")
	relogins := 0
	for i := range n {
		cmdExpire(ts, false, nil)
		cmd := exec.Command("sesame", "auth", "token")
		cmd.Env, cmd.Dir = env, ts.Getenv("WORK")
		ts.Check(cmd.Start())
		time.Sleep(time.Duration(i%10) * 15 * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		var cfg map[string]any
		if err := json.Unmarshal([]byte(ts.ReadFile(cfgPath)), &cfg); err != nil {
			ts.Fatalf("round %d: config.json does not parse after SIGKILL: %v", i, err)
		}
		out, code := run("auth", "token")
		switch code {
		case 0:
		case 4:
			if !strings.Contains(out, "login' again") {
				ts.Fatalf("round %d: exit 4 without a clean hint:\n%s", i, out)
			}
			relogins++
			if out, code := run("login", "--no-browser"); code != 0 {
				ts.Fatalf("round %d: login again failed:\n%s", i, out)
			}
		default:
			ts.Fatalf("round %d: auth token exited %d after a SIGKILL:\n%s", i, code, out)
		}
	}
	ts.Logf("%d rounds, %d needed a new login", n, relogins)
}

// cmdHoldPort listens, until the script ends, on the port of the redirect
// URI registered in config.json: holdport CONFIG_JSON
func cmdHoldPort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: holdport CONFIG_JSON")
	}
	m := regexp.MustCompile(`"redirectUri": "http://(127\.0\.0\.1:\d+)/callback"`).FindStringSubmatch(ts.ReadFile(args[0]))
	if m == nil {
		ts.Fatalf("no registered redirect URI in %s", args[0])
	}
	ln, err := net.Listen("tcp", m[1])
	ts.Check(err)
	ts.Defer(func() { ln.Close() })
}
