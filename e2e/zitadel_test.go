package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// zitadelEnv is a sesame environment pointed at z's API.
func zitadelEnv(t *testing.T, z *zitadelOP) *sesameEnv {
	e := newSesameEnv(t)
	e.set("SESAME_API_URL", z.api.URL)
	return e
}

// deviceLogin runs `sesame login` (device flow) and approves or denies the
// code at the OP's device pages while sesame polls.
func (z *zitadelOP) deviceLogin(t *testing.T, e *sesameEnv, allow bool) result {
	t.Helper()
	p := e.start("login", "--no-browser", "--issuer", z.Issuer, "--client-id", zPublicClient)
	code := p.waitLine("Enter code:")
	z.approveDevice(t, code, allow)
	return p.wait()
}

// whoami runs `sesame whoami --json`.
func whoami(t *testing.T, e *sesameEnv) map[string]any {
	t.Helper()
	r := e.mustRun(0, "whoami", "--json")
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("whoami --json: %v\n%s", err, r)
	}
	return out
}

func pick(m map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

// refreshWith asks the token endpoint for a refresh as sesame's public
// client would, and returns the HTTP status and the OAuth error code.
func refreshWith(t *testing.T, endpoint, clientID, refreshToken string) (int, string) {
	t.Helper()
	return tokenForm(t, endpoint, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {clientID},
	})
}

func TestZitadelDeviceLoginApproved(t *testing.T) {
	t.Parallel()
	z := startZitadel(t)
	e := zitadelEnv(t, z)

	r := z.deviceLogin(t, e, true)
	if r.code != 0 {
		t.Fatalf("device login:\n%s", r)
	}
	if want := "Logged in to " + z.api.URL + " as " + zEmail; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	l := e.login(z.api.URL)
	got := map[string]any{"issuer": l.Issuer, "clientId": l.ClientID, "method": l.Method, "storage": l.Storage, "user": l.User,
		"hasAccessToken": l.AccessToken != "", "hasRefreshToken": l.RefreshToken != "", "scopes": l.Scopes}
	want := map[string]any{"issuer": z.Issuer, "clientId": zPublicClient, "method": "device", "storage": "file", "user": zEmail,
		"hasAccessToken": true, "hasRefreshToken": true, "scopes": []string{"email"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stored login (-want +got):\n%s", d)
	}
	checkNoSecrets(t, r, l.AccessToken, l.RefreshToken)

	w := whoami(t, e)
	if d := cmp.Diff(map[string]any{"source": "config-file", "identity": zEmail, "issuer": z.Issuer, "refreshable": true},
		pick(w, "source", "identity", "issuer", "refreshable")); d != "" {
		t.Errorf("whoami --json (-want +got):\n%s", d)
	}
	tok := e.mustRun(0, "auth", "token")
	if d := cmp.Diff(l.AccessToken+"\n", tok.stdout); d != "" {
		t.Errorf("auth token (-want +got):\n%s", d)
	}
}

func TestZitadelDeviceLoginDenied(t *testing.T) {
	t.Parallel()
	z := startZitadel(t)
	e := zitadelEnv(t, z)

	r := z.deviceLogin(t, e, false)
	if r.code != 4 {
		t.Fatalf("want exit 4 (denied), got:\n%s", r)
	}
	if !strings.Contains(r.stderr, "access_denied") || !strings.Contains(r.stderr, "hint: ") {
		t.Errorf("stderr should name access_denied and give a hint:\n%s", r.stderr)
	}
	if cf := e.tryConfig(); cf != nil && cf.APIs[z.api.URL] != nil {
		t.Errorf("a denied login stored a token")
	}
	e.mustRun(4, "whoami")
}

func TestZitadelRefreshRotation(t *testing.T) {
	t.Parallel()
	z := startZitadel(t)
	e := zitadelEnv(t, z)
	if r := z.deviceLogin(t, e, true); r.code != 0 {
		t.Fatalf("device login:\n%s", r)
	}
	first := e.login(z.api.URL)

	// zitadel's access tokens live 5 minutes: make sesame see this one
	// as expired so that the next command refreshes it.
	e.expireAccessToken(z.api.URL)
	r := e.mustRun(0, "auth", "token")
	second := e.login(z.api.URL)
	switch {
	case second.AccessToken == first.AccessToken:
		t.Fatal("auth token did not refresh the expired access token")
	case r.stdout != second.AccessToken+"\n":
		t.Error("auth token printed another token than the one it stored")
	case second.RefreshToken == "" || second.RefreshToken == first.RefreshToken:
		t.Error("zitadel rotates refresh tokens: the new one was not stored")
	case !second.ExpiresAt.After(first.ExpiresAt):
		t.Errorf("expiry not renewed: %v then %v", first.ExpiresAt, second.ExpiresAt)
	}
	checkNoSecrets(t, r, second.RefreshToken, first.RefreshToken)

	// The old refresh token is spent (rotation) ...
	if status, code := refreshWith(t, z.tokenEndpoint(), zPublicClient, first.RefreshToken); status != http.StatusBadRequest || code != "invalid_grant" {
		t.Errorf("old refresh token: want 400 invalid_grant, got %d %q", status, code)
	}
	// ... and the new tokens work.
	if w := whoami(t, e); w["identity"] != zEmail {
		t.Errorf("whoami after refresh: %v", w)
	}
	if got := e.login(z.api.URL); got.AccessToken != second.AccessToken || got.RefreshToken != second.RefreshToken {
		t.Error("whoami refreshed again although the new access token was valid")
	}
}

func TestZitadelLogoutRevokes(t *testing.T) {
	t.Parallel()
	z := startZitadel(t)
	e := zitadelEnv(t, z)
	if r := z.deviceLogin(t, e, true); r.code != 0 {
		t.Fatalf("device login:\n%s", r)
	}
	l := e.login(z.api.URL)
	if _, err := z.userinfo(t.Context(), l.AccessToken); err != nil {
		t.Fatalf("the access token does not work before logout: %v", err)
	}

	r := e.mustRun(0, "logout")
	if !strings.Contains(r.stderr, "Logged out of "+z.api.URL) || strings.Contains(r.stderr, "warning") {
		t.Errorf("logout output:\n%s", r.stderr)
	}
	if cf := e.tryConfig(); cf != nil && cf.APIs[z.api.URL] != nil {
		t.Error("logout left the login in config.json")
	}
	if status, code := refreshWith(t, z.tokenEndpoint(), zPublicClient, l.RefreshToken); status != http.StatusBadRequest || code != "invalid_grant" {
		t.Errorf("revoked refresh token: want 400 invalid_grant, got %d %q", status, code)
	}
	if _, err := z.userinfo(t.Context(), l.AccessToken); err != errInactive {
		t.Errorf("revoked access token at userinfo: want inactive, got %v", err)
	}
	e.mustRun(4, "whoami")
}

func TestZitadelWebLogin(t *testing.T) {
	requireLoginFlag(t, "--web")
	t.Parallel()
	z := startZitadel(t)
	e := zitadelEnv(t, z)
	browserLog := filepath.Join(t.TempDir(), "browser.log")
	e.set("BROWSER", built.browser)
	e.set("TESTBROWSER_LOG", browserLog)
	e.set("TESTBROWSER_USER", zUser)
	e.set("TESTBROWSER_PASSWORD", zPassword)

	r := e.run("login", "--web", "--issuer", z.Issuer, "--client-id", zPublicClient)
	log := readBrowserLog(t, browserLog)
	if r.code != 0 {
		t.Fatalf("login --web:\n%s\nbrowser:\n%s", r, log)
	}
	// sesame asked for PKCE (S256) with a loopback redirect, and for
	// consent (zitadel drops offline_access without it); the browser went
	// through zitadel's login page and ended on sesame's loopback page.
	for _, want := range []string{"code_challenge_method=S256", "prompt=consent", "redirect_uri=http://127.0.0.1:", "/login/username", "page 200 http://127.0.0.1:", "/callback\n", "end 200 Logged in"} {
		if !strings.Contains(log, want) {
			t.Errorf("browser log lacks %q:\n%s", want, log)
		}
	}
	l := e.login(z.api.URL)
	if l.Method != "web" || l.User != zEmail || l.AccessToken == "" || l.RefreshToken == "" {
		t.Errorf("stored web login: method %q user %q access token %t refresh token %t (offline_access needs prompt=consent)",
			l.Method, l.User, l.AccessToken != "", l.RefreshToken != "")
	}
	checkNoSecrets(t, r, l.AccessToken, l.RefreshToken)

	// The web login's refresh token works (with rotation) too.
	e.expireAccessToken(z.api.URL)
	if w := whoami(t, e); w["identity"] != zEmail {
		t.Errorf("whoami after refresh: %v", w)
	}
	if next := e.login(z.api.URL); next.RefreshToken == l.RefreshToken || next.AccessToken == l.AccessToken {
		t.Error("the web login's tokens were not refreshed")
	}
}

// zitadelServiceEnv is an environment with the confidential client's
// credentials. zitadel gives client credentials no default scope; the API
// asks userinfo, which needs openid.
func zitadelServiceEnv(t *testing.T, z *zitadelOP) *sesameEnv {
	e := zitadelEnv(t, z)
	e.set("SESAME_CLIENT_ID", zServiceClient)
	e.set("SESAME_CLIENT_SECRET", zServiceSecret)
	e.set("SESAME_SCOPES", "openid")
	return e
}

func TestZitadelClientCredentialsLogin(t *testing.T) {
	requireLoginFlag(t, "--client-credentials")
	t.Parallel()
	z := startZitadel(t)
	e := zitadelServiceEnv(t, z)

	r := e.mustRun(0, "login", "--client-credentials", "--issuer", z.Issuer, "--debug")
	checkNoSecrets(t, r, zServiceSecret)
	l := e.login(z.api.URL)
	if l.Method != "client-credentials" || l.AccessToken == "" || l.RefreshToken != "" || l.ClientID != zServiceClient {
		t.Errorf("stored login: method %q client %q access token %t refresh token %t", l.Method, l.ClientID, l.AccessToken != "", l.RefreshToken != "")
	}
	checkNoSecrets(t, r, l.AccessToken)

	// Without SESAME_CLIENT_ID the env source does not apply: the stored
	// login is used, and with SESAME_CLIENT_SECRET still set an expired
	// one is minted again rather than "log in again".
	delete(e.vars, "SESAME_CLIENT_ID")
	if w := whoami(t, e); w["identity"] != zServiceClient || w["source"] != "config-file" {
		t.Errorf("whoami: %v", w)
	}
	e.expireAccessToken(z.api.URL)
	r = e.mustRun(0, "whoami", "--debug")
	checkNoSecrets(t, r, zServiceSecret)
	if next := e.login(z.api.URL); next.AccessToken == l.AccessToken {
		t.Error("the expired client-credentials token was not replaced")
	}
}

func TestZitadelClientCredentialsEnv(t *testing.T) {
	requireLoginFlag(t, "--client-credentials")
	t.Parallel()
	z := startZitadel(t)
	e := zitadelServiceEnv(t, z)
	// Nothing on the command line names the issuer: this API announces it
	// (RFC 9728), as an API meant for client credentials would.
	api := startAPI(t, z.userinfo, z.Issuer)
	e.set("SESAME_API_URL", api.URL)

	var tokens []string
	for range 2 {
		w := whoami(t, e)
		if d := cmp.Diff(map[string]any{"source": "client-credentials", "identity": zServiceClient},
			pick(w, "source", "identity")); d != "" {
			t.Errorf("whoami --json (-want +got):\n%s", d)
		}
		r := e.mustRun(0, "auth", "token", "--debug")
		checkNoSecrets(t, r, zServiceSecret)
		tokens = append(tokens, strings.TrimSpace(r.stdout))
	}
	if slices.Contains(tokens, "") || tokens[0] != tokens[1] {
		t.Error("the minted token was not reused across runs")
	}
	if cf := e.tryConfig(); cf != nil && cf.APIs[api.URL] != nil {
		t.Error("the env source stored a login")
	}
}
