package sesame_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame"
)

// run is one papermark run: a CLI with its own environment and buffers.
type run struct {
	c              *sesame.CLI
	root           *cobra.Command
	stdout, stderr *bytes.Buffer
}

// newRun returns papermark with env over an empty config dir and file
// storage, and cmds under its root besides sesame's.
func newRun(t *testing.T, env map[string]string, cmds ...func(*sesame.CLI) *cobra.Command) *run {
	t.Helper()
	e := map[string]string{"PAPERMARK_CONFIG_DIR": t.TempDir(), "PAPERMARK_STORAGE": "file"}
	for k, v := range env {
		e[k] = v
	}
	r := &run{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	r.c = sesame.New(sesame.Config{
		Name:          "papermark",
		DefaultAPIURL: "https://api.papermark.example",
		Stdin:         strings.NewReader(""),
		Stdout:        r.stdout,
		Stderr:        r.stderr,
		Getenv:        func(k string) string { return e[k] },
	})
	r.root = &cobra.Command{Use: "papermark"}
	r.c.AddTo(r.root)
	for _, cmd := range cmds {
		r.root.AddCommand(cmd(r.c))
	}
	return r
}

func (r *run) exec(ctx context.Context, args ...string) int {
	r.root.SetArgs(args)
	return r.c.Execute(ctx, r.root)
}

// command is a vendor command running fn.
func command(name string, fn func(cmd *cobra.Command, c *sesame.CLI) error) func(*sesame.CLI) *cobra.Command {
	return func(c *sesame.CLI) *cobra.Command {
		return &cobra.Command{Use: name, Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error { return fn(cmd, c) }}
	}
}

// get requests path on the API with the CLI's client and checks the answer.
func get(path string) func(*cobra.Command, *sesame.CLI) error {
	return func(cmd *cobra.Command, c *sesame.CLI) error {
		api, err := c.APIURL(cmd.Context())
		if err != nil {
			return err
		}
		client, err := c.HTTPClient(cmd.Context())
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, api+path, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if err := c.CheckResponse(resp); err != nil {
			return err
		}
		if req.Header.Get("Authorization") != "" {
			return fmt.Errorf("the client changed the caller's request")
		}
		_, err = fmt.Fprintln(cmd.OutOrStdout(), "ok")
		return err
	}
}

// fakeAPI answers /ok with 200 to the bearer pm_good, /forbidden with a 403
// naming documents.read, /broken with a 500 and anything else with a 401.
func fakeAPI(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer pm_good":
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/ok":
			fmt.Fprintln(w, `{}`)
		case r.URL.Path == "/forbidden":
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="documents.read"`)
			w.WriteHeader(http.StatusForbidden)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAddTo(t *testing.T) {
	r := newRun(t, nil)
	var cmds []string
	for _, c := range r.root.Commands() {
		cmds = append(cmds, c.Name())
	}
	if diff := cmp.Diff([]string{"auth", "doctor", "login", "logout", "whoami"}, cmds); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	for _, f := range []string{"api-url", "issuer", "debug", "storage"} {
		flag := r.root.PersistentFlags().Lookup(f)
		if flag == nil {
			t.Errorf("no persistent flag --%s", f)
		} else if f != "debug" && !strings.Contains(flag.Usage, "PAPERMARK_") {
			t.Errorf("--%s: usage %q does not name a PAPERMARK_ variable", f, flag.Usage)
		}
	}
	auth, _, err := r.root.Find([]string{"auth", "token"})
	if err != nil || auth.Name() != "token" {
		t.Errorf("auth token: %v, %v", auth, err)
	}
}

// TestExecute: the vendor's own commands exit as sesame's do, with the same
// hints, under the vendor's name.
func TestExecute(t *testing.T) {
	api := fakeAPI(t)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name       string
		ctx        context.Context
		env        map[string]string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "ok", env: map[string]string{"PAPERMARK_TOKEN": "pm_good", "PAPERMARK_API_URL": api.URL}, args: []string{"get", "/ok"},
			wantStdout: "ok\n"},
		{name: "no credential", args: []string{"get", "/ok"}, wantCode: 4,
			wantStderr: "papermark: not logged in to https://api.papermark.example\nhint: run 'papermark login', or set PAPERMARK_TOKEN\n"},
		{name: "401", env: map[string]string{"PAPERMARK_TOKEN": "pm_bad", "PAPERMARK_API_URL": api.URL}, args: []string{"get", "/ok"}, wantCode: 4,
			wantStderr: "papermark: the API rejected the token (401): invalid_token\nhint: the token comes from PAPERMARK_TOKEN: replace it there (a login is not used while it is set)\n"},
		{name: "403", env: map[string]string{"PAPERMARK_TOKEN": "pm_good", "PAPERMARK_API_URL": api.URL}, args: []string{"get", "/forbidden"}, wantCode: 5,
			wantStderr: "papermark: the token lacks the scope documents.read (403)\nhint: the token given in PAPERMARK_TOKEN lacks it: replace it there with one that has it\n"},
		{name: "500", env: map[string]string{"PAPERMARK_TOKEN": "pm_good", "PAPERMARK_API_URL": api.URL}, args: []string{"get", "/broken"}, wantCode: 1,
			wantStderr: "papermark: GET /broken: HTTP 500 Internal Server Error\n"},
		{name: "API down", env: map[string]string{"PAPERMARK_TOKEN": "pm_good", "PAPERMARK_API_URL": down.URL}, args: []string{"get", "/ok"}, wantCode: 3,
			wantStderr: "papermark: cannot reach " + down.URL + ": "},
		{name: "wrapped client error keeps its text", env: map[string]string{"PAPERMARK_TOKEN": "pm_good", "PAPERMARK_API_URL": down.URL}, args: []string{"wrapped"}, wantCode: 3,
			wantStderr: `papermark: listing: Get "` + down.URL + `/ok": dial tcp `},
		{name: "interrupted", ctx: canceled, env: map[string]string{"PAPERMARK_TOKEN": "pm_good", "PAPERMARK_API_URL": api.URL}, args: []string{"get", "/ok"}, wantCode: 130,
			wantStderr: "papermark: interrupted\n"},
		{name: "bad args", args: []string{"get", "/ok", "extra"}, wantCode: 2,
			wantStderr: "papermark: accepts 1 arg(s), received 2\nhint: run 'papermark --help' for usage\n"},
		{name: "unknown command", args: []string{"nope"}, wantCode: 2,
			wantStderr: "papermark: unknown command \"nope\" for \"papermark\"\nhint: run 'papermark --help' for usage\n"},
		{name: "bad flag", args: []string{"whoami", "--nope"}, wantCode: 2,
			wantStderr: "papermark: unknown flag: --nope\nhint: run 'papermark --help' for usage\n"},
		{name: "bad storage", env: map[string]string{"PAPERMARK_STORAGE": "cloud"}, args: []string{"get", "/ok"}, wantCode: 2,
			wantStderr: "papermark: "},
		{name: "sesame's command", env: map[string]string{"PAPERMARK_TOKEN": "pm_good"}, args: []string{"auth", "token"},
			wantStdout: "pm_good\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getCmd := func(c *sesame.CLI) *cobra.Command {
				return &cobra.Command{Use: "get PATH", Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
					return get(args[0])(cmd, c)
				}}
			}
			wrapped := command("wrapped", func(cmd *cobra.Command, c *sesame.CLI) error {
				api, _ := c.APIURL(cmd.Context())
				client, err := c.HTTPClient(cmd.Context())
				if err != nil {
					return err
				}
				_, err = client.Get(api + "/ok")
				return fmt.Errorf("listing: %w", err)
			})
			r := newRun(t, tt.env, getCmd, wrapped)
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			if got := r.exec(ctx, tt.args...); got != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", got, tt.wantCode, r.stderr)
			}
			if got := r.stdout.String(); got != tt.wantStdout {
				t.Errorf("stdout %q, want %q", got, tt.wantStdout)
			}
			if got := r.stderr.String(); !strings.HasPrefix(got, tt.wantStderr) || strings.HasSuffix(tt.wantStderr, "\n") && got != tt.wantStderr {
				t.Errorf("stderr %q, want %q", got, tt.wantStderr)
			}
		})
	}
}

// TestAddToHooks: sesame's setup runs before the root's own hook, which
// still runs; a subcommand's own hook does not hide the setup from the
// client.
func TestAddToHooks(t *testing.T) {
	api := fakeAPI(t)
	env := map[string]string{"PAPERMARK_TOKEN": "pm_good", "PAPERMARK_API_URL": api.URL, "PAPERMARK_DEBUG": "1"}
	var ran []string
	e := map[string]string{"PAPERMARK_STORAGE": "file"}
	for k, v := range env {
		e[k] = v
	}
	var stdout, stderr bytes.Buffer
	c := sesame.New(sesame.Config{Name: "papermark", Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return e[k] }})
	root := &cobra.Command{Use: "papermark", PersistentPreRun: func(*cobra.Command, []string) { ran = append(ran, "root hook") }}
	c.AddTo(root)
	own := command("own", get("/ok"))(c)
	own.PersistentPreRunE = func(*cobra.Command, []string) error { ran = append(ran, "own hook"); return nil }
	root.AddCommand(command("plain", func(*cobra.Command, *sesame.CLI) error { ran = append(ran, "plain"); return nil })(c), own)

	for _, args := range [][]string{{"plain"}, {"own"}} {
		root.SetArgs(args)
		if code := c.Execute(context.Background(), root); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, &stderr)
		}
	}
	if diff := cmp.Diff([]string{"root hook", "plain", "own hook"}, ran); diff != "" {
		t.Errorf("hooks (-want +got):\n%s", diff)
	}
	// PAPERMARK_DEBUG reached the client of the command with its own hook.
	if !strings.Contains(stderr.String(), "Bearer ***") || strings.Contains(stderr.String(), "pm_good") {
		t.Errorf("want a redacted debug trace on stderr, got:\n%s", &stderr)
	}
}

func TestTokenSource(t *testing.T) {
	r := newRun(t, map[string]string{"PAPERMARK_TOKEN": "pm_good"})
	tok, err := r.c.TokenSource(context.Background()).Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "pm_good" || tok.Type() != "Bearer" || !tok.Expiry.IsZero() {
		t.Errorf("token %+v", tok)
	}
	r = newRun(t, nil)
	if _, err := r.c.TokenSource(context.Background()).Token(); err == nil {
		t.Errorf("no credential: want an error")
	}
}

// TestHTTPClientOtherHost: the token goes to the API's origin only.
func TestHTTPClientOtherHost(t *testing.T) {
	api, other := fakeAPI(t), fakeAPI(t)
	r := newRun(t, map[string]string{"PAPERMARK_TOKEN": "pm_good", "PAPERMARK_API_URL": api.URL})
	client, err := r.c.HTTPClient(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get(other.URL + "/ok"); err == nil || !strings.Contains(err.Error(), "refusing to send the token to another host") {
		t.Errorf("request to another host: %v", err)
	}
	if got, err := r.c.APIURL(context.Background()); got != api.URL || err != nil {
		t.Errorf("APIURL = %q, %v; want %q", got, err, api.URL)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     sesame.Config
		wantErr string // "" = valid
	}{
		{name: "name only", cfg: sesame.Config{Name: "papermark"}},
		{name: "everything", cfg: sesame.Config{Name: "paper-mark_2.0", DefaultAPIURL: "https://api.papermark.example/v2", ClientID: "pm cli", Scopes: []string{"documents.read", "offline_access"}, MePath: "/v1/me", Issuer: "https://papermark.example"}},
		{name: "no name", cfg: sesame.Config{}, wantErr: `Name ""`},
		{name: "name with a slash", cfg: sesame.Config{Name: "../etc"}, wantErr: `Name "../etc"`},
		{name: "name with a space", cfg: sesame.Config{Name: "paper mark"}, wantErr: `Name "paper mark"`},
		{name: "name too long", cfg: sesame.Config{Name: strings.Repeat("p", 65)}, wantErr: "at most 64 bytes"},
		{name: "relative API URL", cfg: sesame.Config{Name: "pm", DefaultAPIURL: "api.papermark.example"}, wantErr: "DefaultAPIURL"},
		{name: "ftp issuer", cfg: sesame.Config{Name: "pm", Issuer: "ftp://papermark.example"}, wantErr: "Issuer"},
		{name: "me path", cfg: sesame.Config{Name: "pm", MePath: "v1/me"}, wantErr: "MePath"},
		{name: "scope with a space", cfg: sesame.Config{Name: "pm", Scopes: []string{"documents.read offline_access"}}, wantErr: "scope"},
		{name: "empty scope", cfg: sesame.Config{Name: "pm", Scopes: []string{""}}, wantErr: "scope"},
		{name: "client id with a newline", cfg: sesame.Config{Name: "pm", ClientID: "a\nb"}, wantErr: "ClientID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cfg := tt.cfg
			cfg.Stdout, cfg.Stderr = &bytes.Buffer{}, &stderr
			cfg.Getenv = func(k string) string { return map[string]string{"PM_TOKEN": "pm_good", "PM_STORAGE": "file"}[k] }
			c := sesame.New(cfg)
			root := &cobra.Command{Use: "pm", RunE: func(*cobra.Command, []string) error { return nil }}
			c.AddTo(root)
			root.SetArgs([]string{})
			code := c.Execute(context.Background(), root)
			_, hcErr := c.HTTPClient(context.Background())
			_, tsErr := c.TokenSource(context.Background()).Token()
			if tt.wantErr == "" {
				if code != 0 {
					t.Errorf("exit %d: %s", code, &stderr)
				}
				return
			}
			if code != 1 || !strings.Contains(stderr.String(), "sesame.Config: ") || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, &stderr, tt.wantErr)
			}
			for _, err := range []error{hcErr, tsErr} {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want %q", err, tt.wantErr)
				}
			}
		})
	}
}

// TestRun: Run is sesame itself under the Config's name, api and version
// included, with the auth token fast path.
func TestRun(t *testing.T) {
	api := fakeAPI(t)
	var stdout, stderr bytes.Buffer
	env := map[string]string{"PM_TOKEN": "pm_good", "PM_API_URL": api.URL, "PM_STORAGE": "file"}
	c := sesame.New(sesame.Config{Name: "pm", Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }})
	for _, args := range [][]string{{"auth", "token"}, {"api", "/ok"}, {"version"}} {
		stdout.Reset()
		if code := c.Run(context.Background(), args); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, &stderr)
		}
		if args[0] == "version" && !strings.HasPrefix(stdout.String(), "pm version ") ||
			args[0] != "version" && !slices.Contains([]string{"pm_good\n", "{}\n"}, stdout.String()) {
			t.Errorf("%v: stdout %q", args, &stdout)
		}
	}
	if code := c.Run(context.Background(), []string{"nope"}); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
}
