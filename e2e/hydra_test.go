package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// hydraEnv is a sesame environment pointed at h's API, with the scripted
// browser as $BROWSER.
func hydraEnv(t *testing.T, h *hydraServer) (*sesameEnv, string) {
	e := newSesameEnv(t)
	e.set("SESAME_API_URL", h.api.URL)
	browserLog := filepath.Join(t.TempDir(), "browser.log")
	e.set("BROWSER", built.browser)
	e.set("TESTBROWSER_LOG", browserLog)
	return e, browserLog
}

// webLogin runs `sesame login --web` against Hydra with no client id:
// sesame registers one (RFC 7591), then the browser goes through Hydra and
// the login/consent app back to sesame's loopback address.
func (h *hydraServer) webLogin(t *testing.T, e *sesameEnv, browserLog string) *storedLogin {
	t.Helper()
	r := e.run("login", "--web", "--issuer", h.Issuer)
	log := readBrowserLog(t, browserLog)
	if r.code != 0 {
		t.Fatalf("login --web:\n%s\nbrowser:\n%s", r, log)
	}
	for _, want := range []string{"code_challenge_method=S256", "redirect_uri=http://127.0.0.1:", "end 200 Logged in"} {
		if !strings.Contains(log, want) {
			t.Errorf("browser log lacks %q:\n%s", want, log)
		}
	}
	if want := "Logged in to " + h.api.URL + " as " + hydraEmail; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	l := e.login(h.api.URL)
	checkNoSecrets(t, r, l.AccessToken, l.RefreshToken)
	return l
}

func TestHydraRegistrationAndWebLogin(t *testing.T) {
	requireLoginFlag(t, "--web")
	t.Parallel()
	h := startHydra(t)
	e, browserLog := hydraEnv(t, h)

	l := h.webLogin(t, e, browserLog)
	cf := e.config()
	var registered string
	for iss, c := range cf.Clients {
		if strings.TrimSuffix(iss, "/") == h.Issuer {
			registered = c.ClientID
		}
	}
	if registered == "" {
		t.Fatalf("no registered client cached for %s: %v", h.Issuer, cf.Clients)
	}
	got := map[string]any{"issuer": strings.TrimSuffix(l.Issuer, "/"), "clientId": l.ClientID, "method": l.Method, "user": l.User,
		"hasAccessToken": l.AccessToken != "", "hasRefreshToken": l.RefreshToken != ""}
	want := map[string]any{"issuer": h.Issuer, "clientId": registered, "method": "web", "user": hydraEmail,
		"hasAccessToken": true, "hasRefreshToken": true}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stored login (-want +got):\n%s", d)
	}
	// Hydra knows the client sesame registered: public, native, PKCE.
	var client struct {
		TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
		RedirectURIs            []string `json:"redirect_uris"`
	}
	if err := h.admin(t.Context(), http.MethodGet, "/admin/clients/"+registered, nil, &client); err != nil {
		t.Fatal(err)
	}
	if client.TokenEndpointAuthMethod != "none" {
		t.Errorf("registered client authenticates with %q, want none", client.TokenEndpointAuthMethod)
	}
	if w := whoami(t, e); w["identity"] != hydraEmail || w["source"] != "config-file" {
		t.Errorf("whoami: %v", w)
	}

	// A second login reuses the registered client.
	if next := h.webLogin(t, e, browserLog); next.ClientID != registered {
		t.Errorf("second login used client %q, want the cached %q", next.ClientID, registered)
	}
	var clients []struct {
		ClientID string `json:"client_id"`
	}
	if err := h.admin(t.Context(), http.MethodGet, "/admin/clients", nil, &clients); err != nil {
		t.Fatal(err)
	}
	if len(clients) != 1 {
		t.Errorf("hydra has %d clients, want the one sesame registered", len(clients))
	}
}

func TestHydraRefreshRotationAndReuse(t *testing.T) {
	requireLoginFlag(t, "--web")
	t.Parallel()
	h := startHydra(t)
	e, browserLog := hydraEnv(t, h)
	first := h.webLogin(t, e, browserLog)

	e.expireAccessToken(h.api.URL)
	r := e.mustRun(0, "auth", "token")
	second := e.login(h.api.URL)
	switch {
	case second.AccessToken == first.AccessToken:
		t.Fatal("auth token did not refresh the expired access token")
	case r.stdout != second.AccessToken+"\n":
		t.Error("auth token printed another token than the one it stored")
	case second.RefreshToken == "" || second.RefreshToken == first.RefreshToken:
		t.Fatal("hydra rotates refresh tokens: the new one was not stored")
	}
	if w := whoami(t, e); w["identity"] != hydraEmail {
		t.Errorf("whoami after refresh: %v", w)
	}

	// Someone replays the spent refresh token: Hydra refuses it and, to be
	// safe, revokes the whole family, the new tokens included.
	status, code := refreshWith(t, h.tokenEndpoint(), first.ClientID, first.RefreshToken)
	if status != http.StatusBadRequest && status != http.StatusUnauthorized || code != "invalid_grant" {
		t.Errorf("replayed refresh token: want invalid_grant, got %d %q", status, code)
	}
	if h.active(t, second.AccessToken) || h.active(t, second.RefreshToken) {
		t.Fatal("hydra did not revoke the token family after the replay")
	}

	// sesame: the API rejects the access token, the refresh token is
	// refused: the login is over (exit 4, log in again), and it is removed.
	r = e.run("whoami")
	t.Logf("after Hydra revoked the family, sesame says:\n%s", r.stderr)
	if r.code != 4 || !strings.Contains(r.stderr, "hint: ") {
		t.Errorf("whoami after the family was revoked: want exit 4 with a hint, got:\n%s", r)
	}
	if cf := e.tryConfig(); cf != nil && cf.APIs[h.api.URL] != nil {
		t.Error("the dead login was kept")
	}
}

func TestHydraLogoutRevokes(t *testing.T) {
	requireLoginFlag(t, "--web")
	t.Parallel()
	h := startHydra(t)
	e, browserLog := hydraEnv(t, h)
	l := h.webLogin(t, e, browserLog)
	if !h.active(t, l.AccessToken) || !h.active(t, l.RefreshToken) {
		t.Fatal("the new tokens are not active")
	}

	r := e.mustRun(0, "logout")
	if !strings.Contains(r.stderr, "Logged out of "+h.api.URL) || strings.Contains(r.stderr, "warning") {
		t.Errorf("logout output:\n%s", r.stderr)
	}
	if h.active(t, l.AccessToken) || h.active(t, l.RefreshToken) {
		t.Error("logout did not revoke the tokens at Hydra")
	}
	if status, code := refreshWith(t, h.tokenEndpoint(), l.ClientID, l.RefreshToken); status == http.StatusOK || code == "" {
		t.Errorf("revoked refresh token: want an error, got %d %q", status, code)
	}
	e.mustRun(4, "whoami")
}

func TestHydraClientCredentials(t *testing.T) {
	requireLoginFlag(t, "--client-credentials")
	t.Parallel()
	h := startHydra(t)
	id := h.createClient(t, "api.read")

	t.Run("login", func(t *testing.T) {
		e, _ := hydraEnv(t, h)
		e.set("SESAME_CLIENT_ID", id)
		e.set("SESAME_CLIENT_SECRET", hydraSecret)
		r := e.mustRun(0, "login", "--client-credentials", "--issuer", h.Issuer, "--scopes", "api.read", "--debug")
		checkNoSecrets(t, r, hydraSecret)
		l := e.login(h.api.URL)
		if l.Method != "client-credentials" || l.ClientID != id || l.AccessToken == "" || l.RefreshToken != "" {
			t.Errorf("stored login: method %q client %q access token %t refresh token %t", l.Method, l.ClientID, l.AccessToken != "", l.RefreshToken != "")
		}
		delete(e.vars, "SESAME_CLIENT_ID") // the stored login, not the env source
		if w := whoami(t, e); w["identity"] != id || w["source"] != "config-file" {
			t.Errorf("whoami: %v", w)
		}
		e.expireAccessToken(h.api.URL)
		r = e.mustRun(0, "whoami", "--debug")
		checkNoSecrets(t, r, hydraSecret)
		if next := e.login(h.api.URL); next.AccessToken == l.AccessToken {
			t.Error("the expired client-credentials token was not replaced")
		}
	})

	t.Run("env", func(t *testing.T) {
		e, _ := hydraEnv(t, h)
		// This API names Hydra as its authorization server (RFC 9728).
		api := startAPI(t, h.introspect, h.Issuer)
		e.set("SESAME_API_URL", api.URL)
		e.set("SESAME_CLIENT_ID", id)
		e.set("SESAME_CLIENT_SECRET", hydraSecret)
		e.set("SESAME_SCOPES", "api.read")
		var tokens []string
		for range 2 {
			w := whoami(t, e)
			if d := cmp.Diff(map[string]any{"source": "client-credentials", "identity": id}, pick(w, "source", "identity")); d != "" {
				t.Errorf("whoami --json (-want +got):\n%s", d)
			}
			r := e.mustRun(0, "auth", "token", "--debug")
			checkNoSecrets(t, r, hydraSecret)
			tokens = append(tokens, strings.TrimSpace(r.stdout))
		}
		if tokens[0] == "" || tokens[0] != tokens[1] {
			t.Error("the minted token was not reused across runs")
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		e, _ := hydraEnv(t, h)
		e.set("SESAME_CLIENT_ID", id)
		e.set("SESAME_CLIENT_SECRET", "not-the-secret")
		r := e.mustRun(4, "login", "--client-credentials", "--issuer", h.Issuer, "--scopes", "api.read")
		if !strings.Contains(r.stderr, "invalid_client") {
			t.Errorf("stderr should name invalid_client:\n%s", r.stderr)
		}
	})
}

// Hydra v2.3.0 has no device authorization grant (RFC 8628), nor has the
// fosite version it uses. This suite does not skip the device flow against
// Hydra silently: it asserts that sesame says so clearly (exit 1).
func TestHydraDeviceFlowUnsupported(t *testing.T) {
	t.Parallel()
	h := startHydra(t)
	e, _ := hydraEnv(t, h)
	delete(e.vars, "BROWSER")

	r := e.mustRun(1, "login", "--no-browser", "--issuer", h.Issuer)
	t.Logf("Hydra v2.3.0 has no device flow; sesame says:\n%s", r.stderr)
	for _, want := range []string{"device authorization", "not supported by the authorization server"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "Enter code") {
		t.Errorf("sesame printed a code although Hydra has no device flow:\n%s", r.stderr)
	}
	if cf := e.tryConfig(); cf != nil && cf.APIs[h.api.URL] != nil {
		t.Error("a failed device login stored something")
	}
}
