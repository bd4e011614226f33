package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/credentials/credtest"
	"github.com/sesame-cli/sesame/internal/devissuer"
)

// drNow is the fixed clock of the doctor tests.
var drNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

const (
	drStatic  = "sesame_live_doctorstatic"
	drRefresh = "drt_doctorrefreshsecret"
	drSecret  = "doctor-client-secret"
	drUnknown = "sesame_live_unknowntoken"
)

// drSecrets must never appear in doctor's output.
var drSecrets = []string{drStatic, drRefresh, drSecret, drUnknown}

// drApp is an App with the fixed clock, a config dir of its own, file
// storage and an in-memory keyring.
func drApp(t *testing.T, env map[string]string) (*App, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	ta := NewTestApp(t, WithEnv(env), WithNow(drNow), WithFileStorage())
	return ta.App, ta.Stdout, ta.Stderr
}

func drConfigDir(t *testing.T, a *App) string {
	t.Helper()
	dir, err := a.ConfigDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// drStore writes config.json with a login for api (tokens in the file).
func drStore(t *testing.T, a *App, api string, l *config.Login) {
	t.Helper()
	if err := config.Save(drConfigDir(t, a), &config.File{CurrentAPI: api, APIs: map[string]*config.Login{api: l}}); err != nil {
		t.Fatal(err)
	}
}

// drIssuer serves the development issuer and API on httptest servers whose
// Date header follows the fixed clock.
type drIssuer struct {
	srv    *devissuer.Server
	issuer *httptest.Server
	api    *httptest.Server
}

func newDrIssuer(t *testing.T, opts devissuer.Options) *drIssuer {
	t.Helper()
	opts.Static = append(opts.Static, devissuer.StaticToken{Token: drStatic, User: "alice", Scopes: []string{"documents.read"}})
	opts.Clients = append(opts.Clients, devissuer.Client{ID: "ci", Secret: drSecret, Name: "CI bot", GrantTypes: []string{"client_credentials"}, Scopes: []string{"documents.read"}})
	opts.Now = func() time.Time { return drNow }
	srv := devissuer.New(opts)
	dated := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", drNow.Format(http.TimeFormat))
			h.ServeHTTP(w, r)
		})
	}
	d := &drIssuer{srv: srv, issuer: httptest.NewServer(dated(srv.IssuerHandler())), api: httptest.NewServer(dated(srv.APIHandler()))}
	t.Cleanup(d.issuer.Close)
	t.Cleanup(d.api.Close)
	srv.SetIssuerURL(d.issuer.URL)
	srv.SetAPIURL(d.api.URL)
	return d
}

// deadURL is a loopback URL where nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

// doctorRun runs every check and returns the results by name; it also
// checks that no secret was printed and that the config dir is unchanged.
func doctorRun(t *testing.T, a *App, timeout time.Duration) map[string]checkResult {
	t.Helper()
	dir := drConfigDir(t, a)
	before := drSnapshot(t, dir)
	d := a.newDoctor()
	if timeout > 0 {
		d.checkTimeout = timeout
	}
	results := d.run(t.Context())
	if diff := cmp.Diff(before, drSnapshot(t, dir)); diff != "" {
		t.Errorf("doctor changed the config dir (-before +after):\n%s", diff)
	}
	byName := map[string]checkResult{}
	var names []string
	for _, r := range results {
		byName[r.Name] = r
		names = append(names, r.Name)
		for _, s := range drSecrets {
			if strings.Contains(r.Message, s) || strings.Contains(r.Hint, s) {
				t.Errorf("check %s shows a secret: %+v", r.Name, r)
			}
		}
	}
	want := []string{"config", "token", "api", "token-valid", "issuer", "keyring", "expiry", "clock"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("check order (-want +got):\n%s", diff)
	}
	return byName
}

// snapshot maps every file under dir to its contents and mode.
func drSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			return nil
		}
		v := fi.Mode().String()
		if !e.IsDir() {
			data, _ := os.ReadFile(p)
			v += " " + string(data)
		}
		files[p] = v
		return nil
	})
	return files
}

func drExpand(r checkResult, vars map[string]string) checkResult {
	for k, v := range vars {
		r.Message = strings.ReplaceAll(r.Message, k, v)
		r.Hint = strings.ReplaceAll(r.Hint, k, v)
	}
	return r
}

func TestDoctorConfig(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes")
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  checkResult
	}{
		{
			name:  "no dir yet",
			setup: func(*testing.T, string) {},
			want:  pass("no config directory yet ($DIR is created at the first login)"),
		},
		{
			name:  "dir without config.json",
			setup: func(t *testing.T, dir string) { drMkdir(t, dir, 0o700) },
			want:  pass("$DIR (mode 0700), no config.json yet"),
		},
		{
			name: "private",
			setup: func(t *testing.T, dir string) {
				drSave(t, dir, &config.File{})
			},
			want: pass("$DIR/config.json is private (mode 0600, directory 0700)"),
		},
		{
			name: "world-readable config.json with tokens",
			setup: func(t *testing.T, dir string) {
				drSave(t, dir, &config.File{APIs: map[string]*config.Login{"https://api.example.com": {Storage: "file", AccessToken: drStatic}}})
				drChmod(t, filepath.Join(dir, "config.json"), 0o644)
			},
			want: fail("$DIR/config.json is readable by other users (mode 0644) and holds tokens", "chmod 600 $DIR/config.json"),
		},
		{
			name: "group-writable config.json without tokens",
			setup: func(t *testing.T, dir string) {
				drSave(t, dir, &config.File{})
				drChmod(t, filepath.Join(dir, "config.json"), 0o620)
			},
			want: fail("$DIR/config.json is writable by other users (mode 0620)", "chmod 600 $DIR/config.json"),
		},
		{
			name: "open dir",
			setup: func(t *testing.T, dir string) {
				drSave(t, dir, &config.File{})
				drChmod(t, dir, 0o755)
			},
			want: warn("config directory $DIR is readable by other users (mode 0755)", "chmod 700 $DIR"),
		},
		{
			name: "not JSON",
			setup: func(t *testing.T, dir string) {
				drMkdir(t, dir, 0o700)
				drWrite(t, filepath.Join(dir, "config.json"), "{oops", 0o600)
			},
			want: fail("config file $DIR/config.json: not valid JSON (fix or delete the file)", "fix or remove $DIR/config.json"),
		},
		{
			name: "dir is a file",
			setup: func(t *testing.T, dir string) {
				drWrite(t, dir, "x", 0o600)
			},
			want: fail("$DIR is not a directory", "remove it, or set SESAME_CONFIG_DIR to another directory"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := drApp(t, nil)
			dir := drConfigDir(t, a)
			tt.setup(t, dir)
			got := a.newDoctor().checkConfig(t.Context())
			if diff := cmp.Diff(drExpand(tt.want, map[string]string{"$DIR": dir}), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDoctorConfigNoDir(t *testing.T) {
	a, _, _ := drApp(t, nil)
	a.Getenv = func(string) string { return "" }
	got := a.newDoctor().checkConfig(t.Context())
	want := fail("cannot determine the config directory", "set SESAME_CONFIG_DIR")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDoctorToken(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes")
	}
	const api = "https://api.example.com"
	tests := []struct {
		name   string
		env    map[string]string
		stored *config.Login
		file   string // credentials file contents, written to $FILE
		mode   os.FileMode
		want   checkResult
	}{
		{
			name: "env token",
			env:  map[string]string{"SESAME_TOKEN": drStatic},
			want: pass("SESAME_TOKEN environment variable"),
		},
		{
			name:   "env token hides the stored login",
			env:    map[string]string{"SESAME_TOKEN": drStatic},
			stored: &config.Login{Storage: "file", AccessToken: drUnknown},
			want:   warn("SESAME_TOKEN environment variable; it hides the stored login for "+api, "unset SESAME_TOKEN to use the stored login for "+api),
		},
		{
			name: "env token hides the credentials file and client credentials",
			env:  map[string]string{"SESAME_TOKEN": drStatic, "SESAME_CREDENTIALS_FILE": "/nowhere", "SESAME_CLIENT_ID": "ci", "SESAME_CLIENT_SECRET": drSecret},
			want: warn("SESAME_TOKEN environment variable; it hides the client credentials in SESAME_CLIENT_ID and SESAME_CREDENTIALS_FILE", "unset SESAME_TOKEN to use SESAME_CREDENTIALS_FILE"),
		},
		{
			name: "bad env token",
			env:  map[string]string{"SESAME_TOKEN": "two words"},
			want: fail("SESAME_TOKEN: token contains white space or control characters", "fix SESAME_TOKEN"),
		},
		{
			name: "credentials file",
			env:  map[string]string{"SESAME_CREDENTIALS_FILE": "$FILE"},
			file: `{"token": "` + drStatic + `"}`, mode: 0o600,
			want: pass("credentials file $FILE (SESAME_CREDENTIALS_FILE)"),
		},
		{
			name: "readable credentials file",
			env:  map[string]string{"SESAME_CREDENTIALS_FILE": "$FILE"},
			file: drStatic, mode: 0o644,
			want: warn("credentials file $FILE (SESAME_CREDENTIALS_FILE); the file is readable by other users (mode 0644)", "chmod 600 $FILE"),
		},
		{
			name: "client credentials",
			env:  map[string]string{"SESAME_CLIENT_ID": "ci", "SESAME_CLIENT_SECRET": drSecret},
			want: pass("client credentials SESAME_CLIENT_ID=ci"),
		},
		{
			name:   "client id without secret",
			env:    map[string]string{"SESAME_CLIENT_ID": "ci"},
			stored: &config.Login{Storage: "file", AccessToken: drStatic},
			want:   warn("config file $DIR/config.json; SESAME_CLIENT_ID is set without SESAME_CLIENT_SECRET, so client credentials are not used", "set both SESAME_CLIENT_ID and SESAME_CLIENT_SECRET, or neither"),
		},
		{
			name: "client secret alone and nothing else",
			env:  map[string]string{"SESAME_CLIENT_SECRET": drSecret},
			want: fail("no token: not logged in to "+api, "set SESAME_CLIENT_ID too (SESAME_CLIENT_SECRET is set), or run 'sesame login'"),
		},
		{
			name:   "stored login",
			stored: &config.Login{Storage: "file", AccessToken: drStatic, RefreshToken: drRefresh, User: "Alice", Method: "device"},
			want:   pass("config file $DIR/config.json (Alice, device login)"),
		},
		{
			name: "nothing",
			want: fail("no token: not logged in to "+api, "run 'sesame login', or set SESAME_TOKEN"),
		},
		{
			name: "missing credentials file",
			env:  map[string]string{"SESAME_CREDENTIALS_FILE": "$FILE"},
			want: fail("credentials file $FILE (SESAME_CREDENTIALS_FILE): no such file", "fix credentials file $FILE (SESAME_CREDENTIALS_FILE)"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "creds")
			env := map[string]string{"SESAME_API_URL": api}
			for k, v := range tt.env {
				env[k] = strings.ReplaceAll(v, "$FILE", file)
			}
			a, _, errb := drApp(t, env)
			if tt.file != "" {
				drWrite(t, file, tt.file, tt.mode)
			}
			if tt.stored != nil {
				drStore(t, a, api, tt.stored)
			}
			d := a.newDoctor()
			d.checkConfig(t.Context())
			got := d.checkToken(t.Context())
			want := drExpand(tt.want, map[string]string{"$DIR": drConfigDir(t, a), "$FILE": file})
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if errb.Len() != 0 {
				t.Errorf("stderr: %q", errb)
			}
		})
	}
}

func TestDoctorAPI(t *testing.T) {
	json401 := func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the api probe sent Authorization")
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("WWW-Authenticate", `Bearer realm="x"`)
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"unauthorized"}`))
	}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	tests := []struct {
		name      string
		handler   http.HandlerFunc // served on http://127.0.0.1
		tls       bool
		api       string // instead of the server
		transport http.RoundTripper
		timeout   time.Duration
		want      checkResult
		wantDate  bool
	}{
		{
			name:     "401",
			handler:  json401,
			want:     pass("$API reachable: HTTP 401 in <1ms (connect <1ms)"),
			wantDate: true,
		},
		{
			name: "200 JSON",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{}`))
			},
			want: pass("$API reachable: HTTP 200 in <1ms (connect <1ms)"),
		},
		{
			name:    "500",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) },
			want:    fail("$API answers with an error: HTTP 502 in <1ms (connect <1ms)", "the API (or a proxy in front of it) has a problem; try again later"),
		},
		{
			name: "website",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Write([]byte("<html>welcome</html>"))
			},
			want: warn("$API answers, but not like an API: HTTP 200 in <1ms (connect <1ms) for /v1/me", "check the API URL (--api-url or SESAME_API_URL): it should point at the API, not the website"),
		},
		{
			name:    "404",
			handler: http.NotFound,
			want:    warn("$API answers, but not like an API: HTTP 404 in <1ms (connect <1ms) for /v1/me", "check the API URL (--api-url or SESAME_API_URL): it should point at the API, not the website"),
		},
		{
			name:    "untrusted certificate",
			handler: json401,
			tls:     true,
			want:    fail("TLS handshake with $HOST failed: x509: certificate signed by unknown authority", "check that the API URL is right and that this system trusts the API's certificate"),
		},
		{
			name: "no answer",
			handler: func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-release:
				}
			},
			timeout: 50 * time.Millisecond,
			want:    fail("no answer from $HOST within 50ms", "check the API URL (--api-url or SESAME_API_URL) and your network connection (a proxy or firewall?)"),
		},
		{
			name: "connection refused",
			api:  "dead",
			want: fail("cannot connect to $HOST: connection refused", "check the API URL (--api-url or SESAME_API_URL) and your network connection; is the API running?"),
		},
		{
			name: "unknown host",
			api:  "https://api.example.test",
			transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "api.example.test", IsNotFound: true}}
			}},
			want: fail("cannot resolve api.example.test: no such host", "check the API URL (--api-url or SESAME_API_URL) and your network connection"),
		},
		{
			name: "plain http elsewhere",
			api:  "http://api.example.com",
			want: fail("API URL http://api.example.com (from SESAME_API_URL): http://api.example.com: https is required for non-loopback hosts", "use https (plain http is allowed only for loopback addresses)"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := tt.api
			if tt.handler != nil {
				srv := httptest.NewUnstartedServer(tt.handler)
				if tt.tls {
					srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
					srv.StartTLS()
				} else {
					srv.Start()
				}
				t.Cleanup(srv.Close)
				api = srv.URL
			}
			if api == "dead" {
				api = deadURL(t)
			}
			a, _, _ := drApp(t, map[string]string{"SESAME_API_URL": api})
			a.Transport = tt.transport
			d := a.newDoctor()
			if tt.timeout > 0 {
				d.checkTimeout = tt.timeout
			}
			got := d.checkAPI(t.Context())
			host := strings.TrimPrefix(strings.TrimPrefix(api, "http://"), "https://")
			if diff := cmp.Diff(drExpand(tt.want, map[string]string{"$API": api, "$HOST": host}), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got := !d.date.IsZero(); got != tt.wantDate && tt.wantDate {
				t.Errorf("Date header noted = %v, want %v", got, tt.wantDate)
			}
		})
	}
}

func TestDoctorNoAPIURL(t *testing.T) {
	a, _, _ := drApp(t, nil)
	got := doctorRun(t, a, 0)
	want := map[string]checkResult{
		"token":       {Name: "token", Status: statusFail, Message: "no token: not logged in", Hint: "run 'sesame login', or set SESAME_TOKEN"},
		"api":         {Name: "api", Status: statusFail, Message: "no API URL", Hint: "pass --api-url or set SESAME_API_URL"},
		"token-valid": {Name: "token-valid", Status: statusSkip, Message: "no token to check"},
		"issuer":      {Name: "issuer", Status: statusSkip, Message: "the API is not reachable, so its authorization server cannot be found"},
		"clock":       {Name: "clock", Status: statusSkip, Message: "the API is not reachable"},
	}
	for name, w := range want {
		if diff := cmp.Diff(w, got[name]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

func TestDoctorTokenValid(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		stored *config.Login
		api    string // "dead": unreachable; "forbidden": 403 on /v1/me
		want   checkResult
		// the devissuer's counters that must stay 0 (doctor never refreshes)
	}{
		{
			name: "env token accepted",
			env:  map[string]string{"SESAME_TOKEN": drStatic},
			want: pass("the API accepts the token: Alice <alice@example.com>"),
		},
		{
			name: "env token refused",
			env:  map[string]string{"SESAME_TOKEN": drUnknown},
			want: fail("the API rejected the token (401): invalid_token: The access token is invalid", "set a valid token in SESAME_TOKEN, or unset it and run 'sesame login'"),
		},
		{
			name:   "stored token refused",
			stored: &config.Login{Storage: "file", Issuer: "$ISSUER", ClientID: "x", AccessToken: drUnknown, RefreshToken: drRefresh, ExpiresAt: drNow.Add(time.Hour)},
			want:   fail("the API rejected the token (401): invalid_token: The access token is invalid", "run 'sesame login' to get a new token"),
		},
		{
			name:   "stored token expired, not refreshed",
			stored: &config.Login{Storage: "file", Issuer: "$ISSUER", ClientID: "x", AccessToken: drUnknown, RefreshToken: drRefresh, ExpiresAt: drNow.Add(-5 * time.Minute)},
			want: warn("the API rejected the token (401): invalid_token: The access token is invalid; the access token expired 5 minutes ago and doctor does not refresh it",
				"run 'sesame whoami' to refresh it, or 'sesame login'"),
		},
		{
			name: "client credentials minted",
			env:  map[string]string{"SESAME_CLIENT_ID": "ci", "SESAME_CLIENT_SECRET": drSecret},
			want: pass("the API accepts the token: CI bot (a client-credentials token minted for this check, not cached)"),
		},
		{
			name: "client credentials refused",
			env:  map[string]string{"SESAME_CLIENT_ID": "ci", "SESAME_CLIENT_SECRET": "wrong"},
			want: fail("the issuer refused the client credentials: client credentials: invalid_client: client authentication failed", "check SESAME_CLIENT_ID and SESAME_CLIENT_SECRET"),
		},
		{
			name: "forbidden",
			env:  map[string]string{"SESAME_TOKEN": drStatic},
			api:  "forbidden",
			want: warn("the API knows the token but refuses /v1/me: the token lacks the scope profile.read (403)", "the token given in SESAME_TOKEN lacks it: replace it there with one that has it"),
		},
		{
			name: "no token",
			want: skip("no token to check"),
		},
		{
			name: "api down",
			env:  map[string]string{"SESAME_TOKEN": drStatic},
			api:  "dead",
			want: skip("the API is not reachable"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := newDrIssuer(t, devissuer.Options{})
			api := iss.api.URL
			switch tt.api {
			case "dead":
				api = deadURL(t)
			case "forbidden":
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Header.Get("Authorization") == "" {
						w.WriteHeader(http.StatusUnauthorized)
						return
					}
					w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="profile.read"`)
					w.WriteHeader(http.StatusForbidden)
				}))
				t.Cleanup(srv.Close)
				api = srv.URL
			}
			env := map[string]string{"SESAME_API_URL": api}
			for k, v := range tt.env {
				env[k] = v
			}
			a, out, errb := drApp(t, env)
			if tt.stored != nil {
				l := *tt.stored
				l.Issuer = strings.ReplaceAll(l.Issuer, "$ISSUER", iss.issuer.URL)
				drStore(t, a, api, &l)
			}
			got := doctorRun(t, a, 0)["token-valid"]
			tt.want.Name = "token-valid"
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			counters := iss.srv.Counters()
			if n := counters["token:refresh_token"]; n != 0 {
				t.Errorf("doctor refreshed %d times", n)
			}
			if out.Len()+errb.Len() != 0 {
				t.Errorf("run printed %q %q", out, errb)
			}
		})
	}
}

func TestDoctorIssuer(t *testing.T) {
	noDevice := httptest.NewServer(nil)
	t.Cleanup(noDevice.Close)
	noDevice.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": noDevice.URL, "token_endpoint": noDevice.URL + "/token", "authorization_endpoint": noDevice.URL + "/authorize",
		})
	})
	dead := deadURL(t)
	tests := []struct {
		name   string
		opts   devissuer.Options
		env    map[string]string
		stored *config.Login
		api    string // "dead"
		want   checkResult
	}{
		{
			name:   "stored login's issuer",
			stored: &config.Login{Storage: "file", Issuer: "$ISSUER", AccessToken: drStatic},
			want:   pass("$ISSUER (from the stored login) answers discovery in <1ms, device flow advertised"),
		},
		{
			name: "named by the API",
			env:  map[string]string{"SESAME_TOKEN": drStatic},
			want: pass("$ISSUER (named by the API) answers discovery in <1ms, device flow advertised"),
		},
		{
			name: "no token: found for login",
			want: pass("$ISSUER (named by the API) answers discovery in <1ms, device flow advertised"),
		},
		{
			name: "client credentials: no device flow needed",
			env:  map[string]string{"SESAME_CLIENT_ID": "ci", "SESAME_CLIENT_SECRET": drSecret},
			want: pass("$ISSUER (named by the API) answers discovery in <1ms"),
		},
		{
			name: "pasted token, nothing to discover",
			opts: devissuer.Options{NoProtectedResourceMetadata: true},
			env:  map[string]string{"SESAME_TOKEN": drStatic},
			want: warn("cannot discover the authorization server $APIURL (guessed from the API host): discovery: no OpenID or OAuth metadata found for issuer $APIURL; the token works without it, but 'sesame login' would not",
				"to log in with OAuth, pass --issuer to 'sesame login'"),
		},
		{
			name: "no token, nothing to discover",
			opts: devissuer.Options{NoProtectedResourceMetadata: true},
			want: fail("cannot discover the authorization server $APIURL (guessed from the API host): discovery: no OpenID or OAuth metadata found for issuer $APIURL",
				"the authorization server answered something unexpected; try again or check --issuer"),
		},
		{
			name:   "stored issuer down",
			stored: &config.Login{Storage: "file", Issuer: dead, AccessToken: drStatic},
			want:   fail("cannot discover the authorization server "+dead+" (from the stored login): connection refused", "check your network connection and the issuer URL"),
		},
		{
			name:   "stored issuer without device flow",
			stored: &config.Login{Storage: "file", Issuer: noDevice.URL, AccessToken: drStatic},
			want:   warn(noDevice.URL+" (from the stored login) answers discovery in <1ms, but advertises no device authorization endpoint", "log in with 'sesame login --web'"),
		},
		{
			name:   "API down, stored issuer still checked",
			stored: &config.Login{Storage: "file", Issuer: "$ISSUER", AccessToken: drStatic},
			api:    "dead",
			want:   pass("$ISSUER (from the stored login) answers discovery in <1ms, device flow advertised"),
		},
		{
			name: "API down, nothing to ask",
			env:  map[string]string{"SESAME_TOKEN": drStatic},
			api:  "dead",
			want: skip("the API is not reachable, so its authorization server cannot be found"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := newDrIssuer(t, tt.opts)
			api := iss.api.URL
			if tt.api == "dead" {
				api = deadURL(t)
			}
			env := map[string]string{"SESAME_API_URL": api}
			for k, v := range tt.env {
				env[k] = v
			}
			a, _, _ := drApp(t, env)
			if tt.stored != nil {
				l := *tt.stored
				l.Issuer = strings.ReplaceAll(l.Issuer, "$ISSUER", iss.issuer.URL)
				drStore(t, a, api, &l)
			}
			got := doctorRun(t, a, 0)["issuer"]
			want := drExpand(tt.want, map[string]string{"$ISSUER": iss.issuer.URL, "$APIURL": api})
			want.Name = "issuer"
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDoctorKeyring(t *testing.T) {
	const api = "https://api.example.com"
	secret, _ := json.Marshal(map[string]string{"accessToken": drStatic})
	broken := errors.New("no Secret Service")
	remembered := &config.KeyringFailure{At: drNow.Add(-48 * time.Hour), Reason: "no Secret Service"}
	tests := []struct {
		name     string
		storage  string
		keyring  *credtest.Keyring // nil: no keyring at all
		stored   bool              // a login for api in the keyring
		remember bool
		want     checkResult
	}{
		{
			name: "file storage", storage: "file", keyring: &credtest.Keyring{},
			want: skip("not used: storage is file (tokens are kept in config.json)"),
		},
		{
			name: "auto, answers", storage: "auto", keyring: &credtest.Keyring{},
			want: pass("the OS keyring answers in <1ms"),
		},
		{
			name: "holds the login", storage: "auto", stored: true,
			keyring: &credtest.Keyring{Secrets: map[string]string{"sesame/" + api: string(secret)}},
			want:    pass("the OS keyring answers in <1ms and holds the token for " + api),
		},
		{
			name: "login entry missing", storage: "keyring", stored: true, keyring: &credtest.Keyring{},
			want: fail("the keyring answers in <1ms but has no entry for "+api+", though config.json says the token is there", "run 'sesame login' again"),
		},
		{
			name: "auto, broken", storage: "auto", keyring: &credtest.Keyring{Err: broken},
			want: warn("the OS keyring does not answer: no Secret Service; tokens will be kept in config.json", "fix the keyring, or set SESAME_STORAGE=file to stop trying it"),
		},
		{
			name: "auto, broken before and now", storage: "auto", keyring: &credtest.Keyring{Err: broken}, remember: true,
			want: warn("the OS keyring does not answer: no Secret Service; it failed before (no Secret Service), so tokens are kept in config.json", "fix the keyring, or set SESAME_STORAGE=file to stop trying it"),
		},
		{
			name: "auto, broken before, answers now", storage: "auto", keyring: &credtest.Keyring{}, remember: true,
			want: warn("the keyring answers in <1ms now, but failed on 2029-12-31 (no Secret Service), so tokens are kept in config.json", "log in once with --storage keyring to keep tokens in the keyring again"),
		},
		{
			name: "keyring storage, broken", storage: "keyring", keyring: &credtest.Keyring{Err: broken},
			want: fail("the OS keyring does not answer: no Secret Service (storage is keyring)", "use --storage file (or SESAME_STORAGE=file) to store tokens in the config file"),
		},
		{
			name: "hangs", storage: "auto", keyring: &credtest.Keyring{Block: make(chan struct{})},
			want: warn("the OS keyring does not answer: no answer within 50ms; tokens will be kept in config.json", "fix the keyring, or set SESAME_STORAGE=file to stop trying it"),
		},
		{
			name: "no keyring", storage: "auto",
			want: skip("no keyring on this system"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := drApp(t, map[string]string{"SESAME_API_URL": api})
			a.storage = tt.storage
			a.Keyring = nil
			if tt.keyring != nil {
				a.Keyring = tt.keyring
				if tt.keyring.Block != nil {
					t.Cleanup(func() { close(tt.keyring.Block) })
				}
			}
			cfg := &config.File{}
			if tt.stored {
				cfg.CurrentAPI = api
				cfg.APIs = map[string]*config.Login{api: {Storage: "keyring"}}
			}
			if tt.remember {
				cfg.KeyringUnavailable = remembered
			}
			drSave(t, drConfigDir(t, a), cfg)
			d := a.newDoctor()
			d.checkTimeout = 50 * time.Millisecond
			d.checkConfig(t.Context())
			d.checkToken(t.Context())
			got := d.checkKeyring(t.Context())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDoctorExpiry(t *testing.T) {
	stored := func(expires time.Duration, refresh string) *credentials.Token {
		s := &config.Login{APIURL: "https://api.example.com", AccessToken: drStatic, RefreshToken: refresh}
		if expires != 0 {
			s.ExpiresAt = drNow.Add(expires)
		}
		return &credentials.Token{Source: credentials.SourceConfigFile, Login: s}
	}
	clientCreds := func(expires time.Duration) *credentials.Token {
		c := stored(expires, "")
		c.Login.Method = "client-credentials"
		c.Login.ClientID = "ci"
		c.Login.Issuer = "https://example.com"
		return c
	}
	tests := []struct {
		name string
		cred *credentials.Token
		want checkResult
		env  map[string]string
	}{
		{"no token", nil, skip("no token"), nil},
		{"env", &credentials.Token{Source: credentials.SourceEnv}, skip("the expiry of a token from SESAME_TOKEN is not known to sesame"), nil},
		{"credentials file", &credentials.Token{Source: credentials.SourceCredentialsFile}, skip("the expiry of a token from SESAME_CREDENTIALS_FILE is not known to sesame"), nil},
		{"client credentials", &credentials.Token{Source: credentials.SourceClientCredentials}, skip("client-credentials tokens are minted when needed"), nil},
		{"no expiry", stored(0, ""), pass("no expiry recorded; no refresh token"), nil},
		{"refreshable", stored(59*time.Minute, drRefresh), pass("expires in 59 minutes; a refresh token is stored (renewed automatically)"), nil},
		{"not refreshable, later", stored(3*time.Hour, ""), pass("expires in 3 hours; no refresh token (log in again then)"), nil},
		{"not refreshable, soon", stored(30*time.Second, ""), warn("expires in 30 seconds and cannot be renewed (no refresh token)", "run 'sesame login' again"), nil},
		{"expired, refreshable", stored(-5*time.Minute, drRefresh), warn("expired 5 minutes ago; doctor does not refresh it, the next command will (a refresh token is stored)", "run 'sesame whoami' to refresh it now"), nil},
		{"expired for good", stored(-2*time.Hour, ""), fail("expired 2 hours ago and cannot be renewed (no refresh token)", "run 'sesame login' again"), nil},
		{"client credentials login, secret set", clientCreds(-time.Minute), warn("expired 1 minute ago; doctor does not refresh it, the next command will (minted again with SESAME_CLIENT_SECRET)", "run 'sesame whoami' to refresh it now"), map[string]string{"SESAME_CLIENT_SECRET": drSecret}},
		{"client credentials login, no secret", clientCreds(-time.Minute), fail("expired 1 minute ago and cannot be renewed (no refresh token)", "run 'sesame login' again"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := drApp(t, tt.env)
			d := a.newDoctor()
			d.cred = tt.cred
			// The rule the commands use.
			d.renewable = tt.cred != nil && tt.cred.Login != nil && a.Provider().Renewable(tt.cred)
			if diff := cmp.Diff(tt.want, d.checkExpiry(t.Context())); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDoctorClock(t *testing.T) {
	tests := []struct {
		name      string
		apiFailed bool
		skew      time.Duration // server minus local; 0 with noDate
		noDate    bool
		want      checkResult
	}{
		{name: "in sync", want: pass("the local clock agrees with the API's Date header (within a second)")},
		{name: "sub-second", skew: -800 * time.Millisecond, want: pass("the local clock agrees with the API's Date header (within a second)")},
		{name: "behind a little", skew: 30 * time.Second, want: pass("the local clock is 30 seconds behind the API's Date header")},
		{name: "ahead a little", skew: -59 * time.Second, want: pass("the local clock is 59 seconds ahead of the API's Date header")},
		{name: "behind", skew: 3 * time.Minute, want: warn("the local clock is 3 minutes behind the API's Date header", "set the system clock (enable NTP): expiry times are judged by it")},
		{name: "ahead", skew: -2 * time.Hour, want: warn("the local clock is 2 hours ahead of the API's Date header", "set the system clock (enable NTP): expiry times are judged by it")},
		{name: "no Date", noDate: true, want: skip("the API sent no Date header")},
		{name: "api failed", apiFailed: true, want: skip("the API is not reachable")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _, _ := drApp(t, nil)
			d := a.newDoctor()
			d.apiURL = "https://api.example.com"
			if tt.apiFailed {
				d.status["api"] = statusFail
			}
			if !tt.noDate {
				d.dateAt = drNow.Add(300 * time.Millisecond)
				d.date = d.dateAt.Add(tt.skew).Truncate(time.Second)
			}
			if diff := cmp.Diff(tt.want, d.checkClock(t.Context())); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestDoctorCommand runs 'sesame doctor' as a user would: human output,
// --json, exit codes and colours.
func TestDoctorCommand(t *testing.T) {
	iss := newDrIssuer(t, devissuer.Options{})
	login := &config.Login{Storage: "file", Issuer: iss.issuer.URL, ClientID: "x", AccessToken: drStatic, RefreshToken: drRefresh,
		ExpiresAt: drNow.Add(59 * time.Minute), User: "Alice <alice@example.com>", Method: "device"}
	run := func(t *testing.T, env map[string]string, terminal bool, args ...string) (int, string, string, string) {
		env2 := map[string]string{"SESAME_API_URL": iss.api.URL}
		for k, v := range env {
			env2[k] = v
		}
		a, out, errb := drApp(t, env2)
		a.StdoutIsTerminal = terminal
		a.storage = ""
		getenv := a.Getenv
		a.Getenv = func(k string) string {
			if k == "SESAME_STORAGE" {
				return "file"
			}
			return getenv(k)
		}
		drStore(t, a, iss.api.URL, login)
		code := a.Run(t.Context(), append([]string{"doctor"}, args...))
		for _, s := range drSecrets {
			if strings.Contains(out.String()+errb.String(), s) {
				t.Errorf("output shows a secret")
			}
		}
		return code, out.String(), errb.String(), drConfigDir(t, a)
	}

	t.Run("all pass", func(t *testing.T) {
		code, out, errOut, dir := run(t, nil, false)
		want := strings.ReplaceAll(strings.ReplaceAll(`✓ config       $DIR/config.json is private (mode 0600, directory 0700)
✓ token        config file $DIR/config.json (Alice <alice@example.com>, device login)
✓ api          $API reachable: HTTP 401 in <1ms (connect <1ms)
✓ token-valid  the API accepts the token: Alice <alice@example.com>
✓ issuer       $ISSUER (from the stored login) answers discovery in <1ms, device flow advertised
- keyring      not used: storage is file (tokens are kept in config.json)
✓ expiry       expires in 59 minutes; a refresh token is stored (renewed automatically)
✓ clock        the local clock agrees with the API's Date header (within a second)
7 passed, 1 skipped
`, "$DIR", dir), "$API", iss.api.URL)
		want = strings.ReplaceAll(want, "$ISSUER", iss.issuer.URL)
		if diff := cmp.Diff(want, out); diff != "" {
			t.Errorf("stdout (-want +got):\n%s", diff)
		}
		if code != 0 || errOut != "" {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("failure exits 1 with hints", func(t *testing.T) {
		code, out, errOut, _ := run(t, map[string]string{"SESAME_TOKEN": drUnknown}, false)
		if code != 1 || errOut != "" {
			t.Errorf("exit %d, stderr %q; want 1 and nothing", code, errOut)
		}
		for _, line := range []string{
			"! token        SESAME_TOKEN environment variable; it hides the stored login for " + iss.api.URL + "\n" +
				"               hint: unset SESAME_TOKEN to use the stored login for " + iss.api.URL + "\n",
			"✗ token-valid  the API rejected the token (401): invalid_token: The access token is invalid\n" +
				"               hint: set a valid token in SESAME_TOKEN, or unset it and run 'sesame login'\n",
			"4 passed, 1 warning, 1 failed, 2 skipped\n",
		} {
			if !strings.Contains(out, line) {
				t.Errorf("stdout lacks %q:\n%s", line, out)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		code, out, _, _ := run(t, nil, true, "--json")
		if code != 0 {
			t.Errorf("exit %d", code)
		}
		dec := json.NewDecoder(strings.NewReader(out))
		dec.DisallowUnknownFields()
		var rep struct {
			Checks []struct {
				Name    *string `json:"name"`
				Status  *string `json:"status"`
				Message *string `json:"message"`
				Hint    *string `json:"hint"`
			} `json:"checks"`
		}
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("decode: %v\n%s", err, out)
		}
		var got []string
		for _, c := range rep.Checks {
			if c.Name == nil || c.Status == nil || c.Message == nil || c.Hint == nil {
				t.Fatalf("check lacks a field: %s", out)
			}
			got = append(got, *c.Name+"="+*c.Status)
		}
		want := []string{"config=pass", "token=pass", "api=pass", "token-valid=pass", "issuer=pass", "keyring=skip", "expiry=pass", "clock=pass"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if strings.Contains(out, "\x1b[") {
			t.Errorf("colour in JSON")
		}
	})

	t.Run("colour on a terminal", func(t *testing.T) {
		_, out, _, _ := run(t, nil, true)
		if !strings.Contains(out, "\x1b[32m✓\x1b[0m config") || !strings.Contains(out, "\x1b[2m-\x1b[0m keyring") {
			t.Errorf("no colour on a terminal:\n%q", out)
		}
	})

	t.Run("NO_COLOR", func(t *testing.T) {
		_, out, _, _ := run(t, map[string]string{"NO_COLOR": "1"}, true)
		if strings.Contains(out, "\x1b[") {
			t.Errorf("colour despite NO_COLOR:\n%q", out)
		}
	})

	t.Run("usage", func(t *testing.T) {
		code, _, errOut, _ := run(t, nil, false, "extra")
		if code != ExitUsage || !strings.Contains(errOut, "unknown command") && !strings.Contains(errOut, "accepts 0 arg") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}

func TestDoctorInterrupted(t *testing.T) {
	a, _, errb := drApp(t, map[string]string{"SESAME_TOKEN": drStatic, "SESAME_API_URL": "https://api.example.com"})
	ctx, cancel := context.WithCancel(t.Context())
	a.Transport = drRoundTrip(func(r *http.Request) (*http.Response, error) {
		cancel()
		<-r.Context().Done()
		return nil, r.Context().Err()
	})
	if code := a.Run(ctx, []string{"doctor"}); code != ExitInterrupted {
		t.Errorf("exit %d, want %d (stderr %q)", code, ExitInterrupted, errb)
	}
}

type drRoundTrip func(*http.Request) (*http.Response, error)

func (f drRoundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDoctorNeverWritesTheStore(t *testing.T) {
	// An expired login with a refresh token: doctor reports it and leaves it.
	iss := newDrIssuer(t, devissuer.Options{})
	a, _, _ := drApp(t, map[string]string{"SESAME_API_URL": iss.api.URL})
	drStore(t, a, iss.api.URL, &config.Login{Storage: "file", Issuer: iss.issuer.URL, ClientID: "x", AccessToken: drStatic, RefreshToken: drRefresh, ExpiresAt: drNow.Add(-time.Minute)})
	got := doctorRun(t, a, 0) // compares the config dir before and after
	if got["expiry"].Status != statusWarn || !strings.Contains(got["expiry"].Message, "doctor does not refresh it") {
		t.Errorf("expiry = %+v", got["expiry"])
	}
	if n := iss.srv.Counters()["token:refresh_token"]; n != 0 {
		t.Errorf("doctor refreshed %d times", n)
	}
	var statuses []string
	for _, r := range got {
		statuses = append(statuses, string(r.Status))
	}
	if slices.Contains(statuses, string(statusFail)) {
		t.Errorf("a check failed: %+v", got)
	}
}

func drMkdir(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(dir, mode); err != nil {
		t.Fatal(err)
	}
	drChmod(t, dir, mode)
}

func drChmod(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func drWrite(t *testing.T, p, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	drChmod(t, p, mode)
}

func drSave(t *testing.T, dir string, cfg *config.File) {
	t.Helper()
	if err := config.Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
}
