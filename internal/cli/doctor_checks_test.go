package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-cli/sesame/internal/apiclient"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/oauth"
)

// TestDoctorChecks runs the pure checks on hand-made facts: the cases the
// end-to-end tests cannot easily reach (stat errors, Windows, timeouts,
// phase timings, a run out of time) and the rules between facts.
func TestDoctorChecks(t *testing.T) {
	const (
		api    = "https://api.example.com"
		issuer = "https://id.example.com"
		dir    = "/cfg/sesame"
		path   = dir + "/config.json"
	)
	// base: linux, a private config dir and file, a keyring, no token.
	base := func() *doctorFacts {
		return &doctorFacts{
			name: "sesame", goos: "linux", mePath: "/v1/me", storage: credentials.StorageAuto, hasKeyring: true,
			checkTimeout: 3 * time.Second, now: drNow,
			config: configFacts{dir: dir, path: path, dirMode: fs.ModeDir | 0o700, fileMode: 0o600},
			cfg:    &config.File{},
		}
	}
	// reachable: the API answered the probe with a 401.
	reachable := func(f *doctorFacts) {
		f.apiTarget, f.apiFrom, f.apiURL = api, "env", api
		f.probe = &apiProbe{host: "api.example.com", status: 401, took: 40 * time.Millisecond}
	}
	envToken := &credentials.Token{Source: credentials.SourceEnv, SourceDetail: "SESAME_TOKEN environment variable", APIURL: api}
	clientCreds := &credentials.Token{Source: credentials.SourceClientCredentials, SourceDetail: "client credentials SESAME_CLIENT_ID=ci", APIURL: api}
	credsFile := &credentials.Token{Source: credentials.SourceCredentialsFile, SourceDetail: "credentials file /t (SESAME_CREDENTIALS_FILE)", Path: "/t", APIURL: api}
	stored := func(issuer string, expires time.Duration, refresh string) *credentials.Token {
		s := &config.Login{APIURL: api, RefreshToken: refresh, Issuer: issuer, ExpiresAt: drNow.Add(expires)}
		return &credentials.Token{Source: credentials.SourceConfigFile, SourceDetail: "config file " + path, APIURL: api, Login: s}
	}
	authErr := &apiclient.AuthError{Code: "invalid_token"}
	refused := &oauth.OAuthError{Op: "client credentials", Status: 401, Code: "invalid_client"}
	netErr := &httpx.NetworkError{Server: httpx.Issuer, Op: "discovery", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}

	tests := []struct {
		name  string
		check func(*doctorFacts) checkResult
		facts func(f *doctorFacts)
		want  checkResult
	}{
		// config
		{"config: no dir", checkConfig, func(f *doctorFacts) { f.config = configFacts{dirErr: config.ErrNoConfigDir} },
			fail(config.ErrNoConfigDir.Error(), "set SESAME_CONFIG_DIR")},
		{"config: dir not readable", checkConfig, func(f *doctorFacts) {
			f.config.dirStat = &fs.PathError{Op: "stat", Path: dir, Err: fs.ErrPermission}
		}, fail("config directory "+dir+": permission denied", "check the permissions of "+dir)},
		{"config: file not readable", checkConfig, func(f *doctorFacts) {
			f.config.fileStat = &fs.PathError{Op: "stat", Path: path, Err: errors.New("input/output error")}
		}, fail(path+": input/output error", "check the permissions of "+path)},
		{"config: open file and dir, file reported", checkConfig, func(f *doctorFacts) {
			f.config.fileMode, f.config.dirMode = 0o606, fs.ModeDir|0o777
			f.cfg = &config.File{Minted: map[string]*config.Login{"k": {AccessToken: "x"}}}
		}, fail(path+" is readable and writable by other users (mode 0606) and holds tokens", "chmod 600 "+path)},
		{"config: windows ignores modes", checkConfig, func(f *doctorFacts) {
			f.goos, f.config.fileMode, f.config.dirMode = "windows", 0o666, fs.ModeDir|0o777
		}, pass(path + " is readable")},
		{"config: windows, no file", checkConfig, func(f *doctorFacts) {
			f.goos, f.config.fileStat = "windows", fs.ErrNotExist
		}, pass(dir + " (no config.json yet)")},
		{"config: private", checkConfig, func(*doctorFacts) {}, pass(path + " is private (mode 0600, directory 0700)")},

		// token
		{"token: half client credentials", checkToken, func(f *doctorFacts) { f.credErr, f.clientID = credentials.ErrNoCredential, true },
			fail("no token: not logged in", "set SESAME_CLIENT_SECRET too (SESAME_CLIENT_ID is set), or run 'sesame login'")},
		{"token: unreadable", checkToken, func(f *doctorFacts) { f.credErr = errors.New("disk on fire") },
			fail("cannot read the token: disk on fire", "")},
		{"token: open credentials file hiding the stored login", checkToken, func(f *doctorFacts) {
			f.cred, f.credFileMode, f.hidden = credsFile, 0o640, []string{"the stored login for " + api}
		}, warn("credentials file /t (SESAME_CREDENTIALS_FILE); the file is readable by other users (mode 0640); it hides the stored login for "+api, "chmod 600 /t")},
		{"token: windows ignores the file's mode", checkToken, func(f *doctorFacts) { f.cred, f.credFileMode, f.goos = credsFile, 0o644, "windows" },
			pass("credentials file /t (SESAME_CREDENTIALS_FILE)")},
		{"token: client credentials hide the credentials file", checkToken, func(f *doctorFacts) {
			f.cred, f.hidden = clientCreds, []string{"SESAME_CREDENTIALS_FILE"}
		}, warn("client credentials SESAME_CLIENT_ID=ci; it hides SESAME_CREDENTIALS_FILE", "unset SESAME_CLIENT_ID and SESAME_CLIENT_SECRET to use SESAME_CREDENTIALS_FILE")},
		{"token: env token ignores half client credentials", checkToken, func(f *doctorFacts) { f.cred, f.clientSecret = envToken, true },
			pass("SESAME_TOKEN environment variable")},

		// api
		{"api: no URL", checkAPI, func(*doctorFacts) {}, fail("no API URL", "pass --api-url or set SESAME_API_URL")},
		{"api: refused URL", checkAPI, func(f *doctorFacts) {
			f.apiTarget, f.apiURLErr = "http://api.example.com", fmt.Errorf("API URL http://api.example.com: %w", oauth.ErrInsecureURL)
		}, fail("API URL http://api.example.com: "+oauth.ErrInsecureURL.Error(), "use https (plain http is allowed only for loopback addresses)")},
		{"api: every phase timed", checkAPI, func(f *doctorFacts) {
			reachable(f)
			f.probe.status, f.probe.took = 200, 1234*time.Millisecond
			f.probe.phases = phaseTimes{sawDNS: true, dns: 5 * time.Millisecond, sawConn: true, conn: 10 * time.Millisecond, sawTLS: true, tls: 300 * time.Microsecond}
		}, pass(api + " reachable: HTTP 200 in 1.234s (DNS 5ms, connect 10ms, TLS <1ms)")},
		{"api: server error", checkAPI, func(f *doctorFacts) { reachable(f); f.probe.status = 503 },
			fail(api+" answers with an error: HTTP 503 in 40ms", "the API (or a proxy in front of it) has a problem; try again later")},
		{"api: a web page", checkAPI, func(f *doctorFacts) { reachable(f); f.probe.status, f.probe.contentType = 200, "text/html" },
			warn(api+" answers, but not like an API: HTTP 200 in 40ms for /v1/me", "check the API URL (--api-url or SESAME_API_URL): it should point at the API, not the website")},
		{"api: timed out", checkAPI, func(f *doctorFacts) { reachable(f); f.probe.err, f.probe.timedOut = context.DeadlineExceeded, true },
			fail("no answer from api.example.com within 3s", "check the API URL (--api-url or SESAME_API_URL) and your network connection (a proxy or firewall?)")},
		{"api: DNS failed (phase)", checkAPI, func(f *doctorFacts) {
			reachable(f)
			f.probe.host, f.probe.err = "api.example.com:443", errors.New("dial failed")
			f.probe.phases.dnsErr = &net.DNSError{Err: "no such host", Name: "api.example.com"}
		}, fail("cannot resolve api.example.com: no such host", "check the API URL (--api-url or SESAME_API_URL) and your network connection")},
		{"api: connect failed (phase)", checkAPI, func(f *doctorFacts) {
			reachable(f)
			f.probe.err = errors.New("dial failed")
			f.probe.phases.connErr = &net.OpError{Op: "dial", Err: errors.New("connection refused")}
		}, fail("cannot connect to api.example.com: connection refused", "check the API URL (--api-url or SESAME_API_URL) and your network connection; is the API running?")},
		{"api: other failure", checkAPI, func(f *doctorFacts) { reachable(f); f.probe.err = fmt.Errorf("get: %w", errors.New("EOF")) },
			fail("cannot reach api.example.com: EOF", "check the API URL (--api-url or SESAME_API_URL) and your network connection")},
		{"api: not probed", checkAPI, func(f *doctorFacts) { f.apiTarget, f.apiURL = api, api }, skip("the API was not probed")},

		// token-valid
		{"token-valid: no token", checkTokenValid, reachable, skip("no token to check")},
		{"token-valid: not sent", checkTokenValid, func(f *doctorFacts) { reachable(f); f.cred = envToken }, skip("the API is not reachable")},
		{"token-valid: accepted", checkTokenValid, func(f *doctorFacts) { reachable(f); f.cred, f.me = envToken, &meProbe{identity: "Alice"} },
			pass("the API accepts the token: Alice")},
		{"token-valid: minted", checkTokenValid, func(f *doctorFacts) {
			reachable(f)
			f.cred, f.me = clientCreds, &meProbe{identity: "CI bot", minted: true}
		}, pass("the API accepts the token: CI bot (a client-credentials token minted for this check, not cached)")},
		{"token-valid: no issuer to mint at", checkTokenValid, func(f *doctorFacts) {
			reachable(f)
			f.cred, f.me, f.disc = clientCreds, &meProbe{}, &discovery{err: netErr}
		}, fail("cannot mint a client-credentials token: "+netErr.Error(), "check your network connection and the issuer URL")},
		{"token-valid: client refused", checkTokenValid, func(f *doctorFacts) {
			reachable(f)
			f.cred, f.me, f.disc = clientCreds, &meProbe{mintErr: refused}, &discovery{}
		}, fail("the issuer refused the client credentials: "+refused.Error(), "check SESAME_CLIENT_ID and SESAME_CLIENT_SECRET")},
		{"token-valid: timed out", checkTokenValid, func(f *doctorFacts) {
			reachable(f)
			f.cred, f.me = envToken, &meProbe{err: context.DeadlineExceeded, timedOut: true}
		}, fail("no answer from the API within 3s", "try again; check your network connection")},
		{"token-valid: expired and renewable", checkTokenValid, func(f *doctorFacts) {
			reachable(f)
			f.cred, f.me, f.renewable = stored(issuer, -2*time.Hour, "r"), &meProbe{err: authErr}, true
		}, warn(authErr.Error()+"; the access token expired 2 hours ago and doctor does not refresh it", "run 'sesame whoami' to refresh it, or 'sesame login'")},
		{"token-valid: credentials file refused", checkTokenValid, func(f *doctorFacts) {
			reachable(f)
			f.cred, f.me = credsFile, &meProbe{err: authErr}
		}, fail(authErr.Error(), "put a valid token in /t, or unset SESAME_CREDENTIALS_FILE and run 'sesame login'")},
		{"token-valid: minted token refused", checkTokenValid, func(f *doctorFacts) {
			reachable(f)
			f.cred, f.me, f.disc = clientCreds, &meProbe{err: authErr, minted: true}, &discovery{}
		}, fail(authErr.Error(), "check the scopes (SESAME_SCOPES) and the client's access to the API")},

		// issuer
		{"issuer: API down, nothing stored", checkIssuer, func(f *doctorFacts) { f.cred = envToken },
			skip("the API is not reachable, so its authorization server cannot be found")},
		{"issuer: API down, stored issuer timed out", checkIssuer, func(f *doctorFacts) {
			f.cred = stored(issuer, time.Hour, "r")
			f.disc = &discovery{issuer: issuer, how: "from the stored login", err: netErr, timedOut: true}
		}, fail("cannot discover the authorization server "+issuer+" (from the stored login): no answer within 3s", "check your network connection and the issuer URL")},
		{"issuer: down, pasted token works without it", checkIssuer, func(f *doctorFacts) {
			reachable(f)
			f.cred, f.disc = envToken, &discovery{issuer: issuer, how: "named by the API", err: netErr}
		}, warn("cannot discover the authorization server "+issuer+" (named by the API): connection refused; the token works without it, but 'sesame login' would not", "to log in with OAuth, pass --issuer to 'sesame login'")},
		{"issuer: no device flow, no browser flow", checkIssuer, func(f *doctorFacts) {
			reachable(f)
			f.disc = &discovery{issuer: issuer, how: "named by the API", md: &oauth.Metadata{Issuer: issuer}, took: 12 * time.Millisecond}
		}, warn(issuer+" (named by the API) answers discovery in 12ms, but advertises no device authorization endpoint", "log in with 'sesame login --with-token'")},
		{"issuer: client credentials need no device flow", checkIssuer, func(f *doctorFacts) {
			reachable(f)
			f.cred, f.disc = clientCreds, &discovery{issuer: issuer, how: "guessed from the API host", md: &oauth.Metadata{Issuer: issuer}}
		}, pass(issuer + " (guessed from the API host) answers discovery in <1ms")},

		// keyring
		{"keyring: file storage", checkKeyring, func(f *doctorFacts) { f.storage = credentials.StorageFile },
			skip("not used: storage is file (tokens are kept in config.json)")},
		{"keyring: run out of time", checkKeyring, func(f *doctorFacts) { f.keyring = &keyringProbe{noTime: true} },
			fail("no time left to wait for the keyring", "try again")},
		{"keyring: locked, login stored there", checkKeyring, func(f *doctorFacts) {
			f.keyring = &keyringProbe{key: api, expected: true, err: &credentials.KeyringError{Op: "get", Err: errors.New("locked")}}
		}, fail("the OS keyring does not answer: locked; the token for "+api+" is stored there", "unlock or start the keyring, or run 'sesame login --storage file'")},
		{"keyring: holds the login", checkKeyring, func(f *doctorFacts) {
			f.storage, f.keyring = credentials.StorageKeyring, &keyringProbe{key: api, expected: true, found: true, took: 25 * time.Millisecond}
		}, pass("the OS keyring answers in 25ms and holds the token for " + api)},

		// expiry
		{"expiry: soon, not renewable", checkExpiry, func(f *doctorFacts) { f.cred = stored(issuer, time.Minute, "") },
			warn("expires in 1 minute and cannot be renewed (no refresh token)", "run 'sesame login' again")},
		{"expiry: client-credentials login minted again", checkExpiry, func(f *doctorFacts) {
			f.cred, f.clientSecret, f.renewable = stored("", 10*time.Minute, ""), true, true
			f.cred.Login.Method = "client-credentials"
		}, pass("expires in 10 minutes; minted again with SESAME_CLIENT_SECRET (renewed automatically)")},

		// clock
		{"clock: never probed", checkClock, func(*doctorFacts) {}, skip("the API is not reachable")},
		{"clock: no Date", checkClock, reachable, skip("the API sent no Date header")},
		{"clock: behind", checkClock, func(f *doctorFacts) {
			reachable(f)
			f.dateAt = drNow.Add(900 * time.Millisecond)
			f.date = drNow.Add(90 * time.Second)
		}, warn("the local clock is 1 minute behind the API's Date header", "set the system clock (enable NTP): expiry times are judged by it")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := base()
			tt.facts(f)
			if diff := cmp.Diff(tt.want, tt.check(f)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestDoctorCheckTable pins the order of the checks and that a check whose
// dependency failed is skipped without running.
func TestDoctorCheckTable(t *testing.T) {
	var names []string
	for _, c := range doctorChecks {
		names = append(names, c.name)
	}
	want := []string{"config", "token", "api", "token-valid", "issuer", "keyring", "expiry", "clock"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}

	ran := false
	c := doctorCheck{name: "x", deps: []dependency{{"a", "a failed"}, {"b", "b failed"}}, fn: func(*doctorFacts) checkResult {
		ran = true
		return pass("ran")
	}}
	for _, tt := range []struct {
		status map[string]checkStatus
		want   checkResult
		ran    bool
	}{
		{map[string]checkStatus{}, pass("ran"), true},
		{map[string]checkStatus{"a": statusWarn, "b": statusSkip}, pass("ran"), true},
		{map[string]checkStatus{"b": statusFail}, skip("b failed"), false},
		{map[string]checkStatus{"a": statusFail, "b": statusFail}, skip("a failed"), false},
	} {
		ran = false
		if diff := cmp.Diff(tt.want, c.evaluate(&doctorFacts{}, tt.status)); diff != "" || ran != tt.ran {
			t.Errorf("status %v: ran %v (-want +got):\n%s", tt.status, ran, diff)
		}
	}

	// The real dependencies: token-valid needs a token and the API, expiry
	// a token, clock the API.
	d := &doctor{status: map[string]checkStatus{"token": statusFail, "api": statusFail}}
	for name, want := range map[string]string{"token-valid": "no token to check", "expiry": "no token", "clock": "the API is not reachable"} {
		if got := d.checkNamed(name); got != skip(want) {
			t.Errorf("%s = %+v, want skip %q", name, got, want)
		}
	}
}
