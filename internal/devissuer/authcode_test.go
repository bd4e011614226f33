package devissuer

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

func (e *env) register(body string) string {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/register", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	r := e.do(req)
	if r.status != http.StatusCreated {
		e.t.Fatalf("register: %d %s", r.status, r.body)
	}
	return r.json(e.t)["client_id"].(string)
}

func (e *env) registerNative() string {
	return e.register(`{"client_name":"sesame web","redirect_uris":["http://127.0.0.1/callback"],"grant_types":["authorization_code","refresh_token"],"token_endpoint_auth_method":"none","application_type":"native"}`)
}

var requestIDRe = regexp.MustCompile(`name="request_id" value="([^"]+)"`)

// consent loads the consent page for authURL and submits action as user.
func (e *env) consent(authURL, action, user string) result {
	e.t.Helper()
	page := e.get(authURL)
	m := requestIDRe.FindStringSubmatch(page.body)
	if page.status != 200 || m == nil {
		e.t.Fatalf("consent page: %d %s", page.status, page.body)
	}
	form := url.Values{"request_id": {m[1]}, "action": {action}, "username": {user}}
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/authorize/decision", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(req)
}

func locationQuery(t *testing.T, r result) (*url.URL, url.Values) {
	t.Helper()
	if r.status != http.StatusFound {
		t.Fatalf("want a redirect, got %d %s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u, u.Query()
}

func TestAuthorizeErrors(t *testing.T) {
	e := newEnv(t, Options{})
	native := e.registerNative()
	web := e.register(`{"client_name":"web","redirect_uris":["http://127.0.0.1:8000/cb"],"token_endpoint_auth_method":"none","application_type":"web"}`)
	deviceOnly := e.register(`{"grant_types":["urn:ietf:params:oauth:grant-type:device_code"],"response_types":[],"token_endpoint_auth_method":"none","application_type":"native"}`)
	deviceWithRedirect := e.register(`{"redirect_uris":["http://127.0.0.1/cb"],"grant_types":["urn:ietf:params:oauth:grant-type:device_code"],"response_types":[],"token_endpoint_auth_method":"none","application_type":"native"}`)
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	base := func(client, redirect string) url.Values {
		return url.Values{
			"client_id": {client}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {"xyz"},
			"scope": {"documents.read offline_access"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
		}
	}
	with := func(v url.Values, kv ...string) url.Values {
		v = cloneValues(v)
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	good := base(native, "http://127.0.0.1:53123/callback")
	for _, tc := range []struct {
		name       string
		query      url.Values
		wantStatus int
		wantErr    string // in the redirect
	}{
		{"native client, any loopback port", good, 200, ""},
		{"native client, IPv6 loopback not registered", with(good, "redirect_uri", "http://[::1]:5000/callback"), 400, ""},
		{"native client, other path", with(good, "redirect_uri", "http://127.0.0.1:53123/other"), 400, ""},
		{"localhost is not 127.0.0.1", with(good, "redirect_uri", "http://localhost:53123/callback"), 400, ""},
		{"web client, exact URI", base(web, "http://127.0.0.1:8000/cb"), 200, ""},
		{"web client, other port", base(web, "http://127.0.0.1:8001/cb"), 400, ""},
		{"pre-registered client, any loopback", base(publicID, "http://127.0.0.1:4444/anything"), 200, ""},
		{"unknown client", with(good, "client_id", "nobody"), 400, ""},
		{"missing redirect_uri", with(good, "redirect_uri", ""), 400, ""},
		{"public client without PKCE", with(good, "code_challenge", "", "code_challenge_method", ""), 302, "invalid_request"},
		{"plain PKCE", with(good, "code_challenge_method", "plain"), 302, "invalid_request"},
		{"PKCE method missing", with(good, "code_challenge_method", ""), 302, "invalid_request"},
		{"malformed challenge", with(good, "code_challenge", "short"), 302, "invalid_request"},
		{"implicit", with(good, "response_type", "token"), 302, "unsupported_response_type"},
		{"unsupported scope", with(good, "scope", "admin"), 302, "invalid_scope"},
		{"client without redirect URIs", base(deviceOnly, "http://127.0.0.1/callback"), 400, ""},
		{"confidential client without PKCE", with(base(confID, "http://127.0.0.1:1/cb"), "code_challenge", "", "code_challenge_method", ""), 200, ""},
		{"client without the authorization_code grant", base(deviceWithRedirect, "http://127.0.0.1:1/cb"), 302, "unauthorized_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(e.issuer + "/authorize?" + tc.query.Encode())
			if r.status != tc.wantStatus {
				t.Fatalf("got %d %s %s, want %d", r.status, r.header.Get("Location"), r.body, tc.wantStatus)
			}
			switch r.status {
			case 400:
				if r.header.Get("Location") != "" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
					t.Errorf("error page: Location %q, Content-Type %q", r.header.Get("Location"), r.header.Get("Content-Type"))
				}
			case 302:
				_, q := locationQuery(t, r)
				if q.Get("error") != tc.wantErr || q.Get("state") != "xyz" {
					t.Errorf("redirect %v, want error %s and state xyz", q, tc.wantErr)
				}
			case 200:
				if !strings.Contains(r.body, `id="approve"`) || !strings.Contains(r.body, `id="deny"`) || !strings.Contains(r.body, "documents.read") {
					t.Errorf("consent page: %s", r.body)
				}
			}
		})
	}
}

func TestAuthorizationCodeFlow(t *testing.T) {
	e := newEnv(t, Options{})
	native := e.registerNative()
	conf := e.oauthConfig("documents.read", "offline_access")
	conf.ClientID = native
	conf.RedirectURL = "http://127.0.0.1:53123/callback"
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier))

	r := e.consent(authURL, "approve", "carol")
	u, q := locationQuery(t, r)
	if got := u.Scheme + "://" + u.Host + u.Path; got != conf.RedirectURL {
		t.Errorf("redirected to %s", got)
	}
	if q.Get("state") != "st4te" || q.Get("iss") != e.issuer || q.Get("code") == "" {
		t.Fatalf("redirect query %v", q)
	}
	code := q.Get("code")
	ctx := t.Context()

	for _, tc := range []struct {
		name    string
		opts    []oauth2.AuthCodeOption
		conf    func(c oauth2.Config) *oauth2.Config
		wantErr string
	}{
		{name: "wrong verifier", opts: []oauth2.AuthCodeOption{oauth2.VerifierOption(oauth2.GenerateVerifier())}, wantErr: "invalid_grant"},
		{name: "no verifier", wantErr: "invalid_grant"},
		{name: "malformed verifier", opts: []oauth2.AuthCodeOption{oauth2.VerifierOption("short")}, wantErr: "invalid_request"},
		{name: "other redirect_uri", opts: []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}, conf: func(c oauth2.Config) *oauth2.Config {
			c.RedirectURL = "http://127.0.0.1:1/callback"
			return &c
		}, wantErr: "invalid_grant"},
		{name: "other client", opts: []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}, conf: func(c oauth2.Config) *oauth2.Config {
			c.ClientID = publicID
			return &c
		}, wantErr: "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := conf
			if tc.conf != nil {
				c = tc.conf(*conf)
			}
			_, err := c.Exchange(ctx, code, tc.opts...)
			if got := oauthErrorCode(err); got != tc.wantErr {
				t.Errorf("got %v, want %s", err, tc.wantErr)
			}
		})
	}

	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.Extra("scope") != "documents.read" {
		t.Errorf("token: refresh %v, scope %v", tok.RefreshToken != "", tok.Extra("scope"))
	}
	me := e.apiReq(http.MethodGet, "/v1/me", tok.AccessToken, "")
	want := map[string]any{"id": "carol", "name": "Carol", "email": "carol@example.com", "type": "user", "scopes": []any{"documents.read"}}
	if diff := cmp.Diff(want, me.json(t)); diff != "" {
		t.Errorf("/v1/me (-want +got):\n%s", diff)
	}

	// Reuse: invalid_grant, and the grant's tokens are revoked.
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("reuse: %v", err)
	}
	if s := e.meStatus(tok.AccessToken); s != 401 {
		t.Errorf("access token after code reuse: %d, want 401", s)
	}
}

func TestAuthorizationCodeDenyExpiryAutoApprove(t *testing.T) {
	t.Run("deny", func(t *testing.T) {
		e := newEnv(t, Options{})
		conf := e.oauthConfig("documents.read")
		r := e.consent(conf.AuthCodeURL("s1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "deny", "")
		_, q := locationQuery(t, r)
		if q.Get("error") != "access_denied" || q.Get("state") != "s1" || q.Get("code") != "" {
			t.Errorf("redirect %v", q)
		}
	})
	t.Run("decision is single use", func(t *testing.T) {
		e := newEnv(t, Options{})
		conf := e.oauthConfig("documents.read")
		page := e.get(conf.AuthCodeURL("s1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		id := requestIDRe.FindStringSubmatch(page.body)[1]
		form := url.Values{"request_id": {id}, "action": {"approve"}}.Encode()
		for i, want := range []int{302, 400} {
			req, _ := http.NewRequest(http.MethodPost, e.issuer+"/authorize/decision", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if r := e.do(req); r.status != want {
				t.Errorf("submission %d: %d, want %d", i, r.status, want)
			}
		}
	})
	t.Run("code expires after 60s", func(t *testing.T) {
		e := newEnv(t, Options{})
		conf := e.oauthConfig("documents.read")
		v := oauth2.GenerateVerifier()
		_, q := locationQuery(t, e.consent(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), "approve", ""))
		e.clock.Advance(60 * time.Second)
		if _, err := conf.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(v)); oauthErrorCode(err) != "invalid_grant" {
			t.Errorf("expired code: %v", err)
		}
	})
	t.Run("auto-approve redirects at once", func(t *testing.T) {
		e := newEnv(t, Options{AutoApprove: time.Second})
		conf := e.oauthConfig("documents.read")
		v := oauth2.GenerateVerifier()
		_, q := locationQuery(t, e.get(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v))))
		tok, err := conf.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if tok.RefreshToken != "" {
			t.Errorf("refresh token without offline_access")
		}
		if got := e.apiReq(http.MethodGet, "/v1/me", tok.AccessToken, "").json(t)["id"]; got != "dev" {
			t.Errorf("user %v, want dev", got)
		}
		if got := e.s.Counters()["authorize"]; got != 1 {
			t.Errorf("authorize counter %d", got)
		}
	})
}
