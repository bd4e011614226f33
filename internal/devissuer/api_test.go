package devissuer

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func staticTokens() []StaticToken {
	return []StaticToken{
		{Token: "sesame_live_abc", User: "alice", Scopes: []string{"documents.read"}},
		{Token: "sesame_test_xyz", User: "bob", Scopes: []string{"documents.read", "documents.write"}},
		{Token: "sesame_test_none", User: "john.doe"},
	}
}

func TestAPI(t *testing.T) {
	const (
		realmOnly = `Bearer realm="sesame-dev"`
		invalid   = `Bearer realm="sesame-dev", error="invalid_token", error_description="The access token is invalid"`
		expired   = `Bearer realm="sesame-dev", error="invalid_token", error_description="The access token expired"`
		revoked   = `Bearer realm="sesame-dev", error="invalid_token", error_description="The access token was revoked"`
		needRead  = `Bearer realm="sesame-dev", error="insufficient_scope", scope="documents.read"`
		needWrite = `Bearer realm="sesame-dev", error="insufficient_scope", scope="documents.write"`
	)
	for _, tc := range []struct {
		name      string
		setup     func(e *env) string // returns the token
		header    string              // raw Authorization header, overrides the token
		method    string
		path      string
		body      string
		wantCode  int
		wantWWW   string
		wantBody  map[string]any
		wantError string
	}{
		{name: "no token", path: "/v1/me", wantCode: 401, wantWWW: realmOnly, wantError: "unauthorized"},
		{name: "basic auth is not bearer", header: "Basic YTpi", path: "/v1/me", wantCode: 401, wantWWW: realmOnly, wantError: "unauthorized"},
		{name: "unknown token", setup: tokenIs("sesame_live_nope"), path: "/v1/me", wantCode: 401, wantWWW: invalid, wantError: "invalid_token"},
		{name: "lower-case scheme", header: "bearer sesame_live_abc", path: "/v1/me", wantCode: 200, wantBody: map[string]any{"id": "alice", "name": "Alice", "email": "alice@example.com", "type": "user", "scopes": []any{"documents.read"}}},
		{name: "static token", setup: tokenIs("sesame_test_none"), path: "/v1/me", wantCode: 200, wantBody: map[string]any{"id": "john.doe", "name": "John Doe", "email": "john.doe@example.com", "type": "user", "scopes": []any{}}},
		{
			name: "expired issued token",
			setup: func(e *env) string {
				at := e.deviceToken(publicAuth, "documents.read", "alice")["access_token"].(string)
				e.clock.Advance(time.Hour)
				return at
			},
			path: "/v1/me", wantCode: 401, wantWWW: expired, wantError: "invalid_token",
		},
		{
			name: "issued token just before expiry",
			setup: func(e *env) string {
				at := e.deviceToken(publicAuth, "documents.read", "alice")["access_token"].(string)
				e.clock.Advance(time.Hour - time.Second)
				return at
			},
			path: "/v1/documents", wantCode: 200,
		},
		{
			name:  "revoked static token",
			setup: func(e *env) string { e.s.RevokeAll("alice"); return "sesame_live_abc" },
			path:  "/v1/me", wantCode: 401, wantWWW: revoked, wantError: "invalid_token",
		},
		{
			name: "RevokeAll revokes issued tokens",
			setup: func(e *env) string {
				at := e.deviceToken(publicAuth, "documents.read", "carol")["access_token"].(string)
				e.s.RevokeAll("carol")
				return at
			},
			path: "/v1/me", wantCode: 401, wantWWW: revoked, wantError: "invalid_token",
		},
		{name: "documents", setup: tokenIs("sesame_live_abc"), path: "/v1/documents", wantCode: 200, wantBody: map[string]any{"documents": []any{map[string]any{"id": "doc_1", "title": "Welcome"}, map[string]any{"id": "doc_2", "title": "Getting started"}}}},
		{name: "documents without read scope", setup: tokenIs("sesame_test_none"), path: "/v1/documents", wantCode: 403, wantWWW: needRead, wantError: "insufficient_scope"},
		{name: "create without write scope", setup: tokenIs("sesame_live_abc"), method: "POST", path: "/v1/documents", body: `{"title":"x"}`, wantCode: 403, wantWWW: needWrite, wantError: "insufficient_scope"},
		{name: "create with non-JSON", setup: tokenIs("sesame_test_xyz"), method: "POST", path: "/v1/documents", body: `title=x`, wantCode: 400, wantError: "invalid_request"},
		{name: "create without title", setup: tokenIs("sesame_test_xyz"), method: "POST", path: "/v1/documents", body: `{}`, wantCode: 400, wantError: "invalid_request"},
		{name: "create", setup: tokenIs("sesame_test_xyz"), method: "POST", path: "/v1/documents", body: `{"title":"Hello"}`, wantCode: 201, wantBody: map[string]any{"id": "doc_3", "title": "Hello", "owner": "bob"}},
		{name: "wrong method", setup: tokenIs("sesame_test_xyz"), method: "DELETE", path: "/v1/documents", wantCode: 405, wantError: "method_not_allowed"},
		{name: "unknown path", setup: tokenIs("sesame_test_xyz"), path: "/v1/nope", wantCode: 404, wantError: "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{Static: staticTokens()})
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req, _ := http.NewRequest(method, e.api+tc.path, strings.NewReader(tc.body))
			if tc.setup != nil {
				req.Header.Set("Authorization", "Bearer "+tc.setup(e))
			}
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			r := e.do(req)
			if r.status != tc.wantCode {
				t.Fatalf("got %d %s, want %d", r.status, r.body, tc.wantCode)
			}
			if got := r.header.Get("WWW-Authenticate"); got != tc.wantWWW {
				t.Errorf("WWW-Authenticate:\n got %s\nwant %s", got, tc.wantWWW)
			}
			if r.header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
			m := r.json(t)
			if tc.wantError != "" && (m["error"] != tc.wantError || m["message"] == "") {
				t.Errorf("body %s, want error %s and a message", r.body, tc.wantError)
			}
			if tc.wantBody != nil {
				if diff := cmp.Diff(tc.wantBody, m); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func tokenIs(tok string) func(*env) string { return func(*env) string { return tok } }

func TestCreatedDocumentIsListed(t *testing.T) {
	e := newEnv(t, Options{Static: staticTokens()})
	if r := e.apiReq(http.MethodPost, "/v1/documents", "sesame_test_xyz", `{"title":"Notes"}`); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	docs := e.apiReq(http.MethodGet, "/v1/documents", "sesame_test_xyz", "").json(t)["documents"].([]any)
	if got := docs[len(docs)-1]; !cmp.Equal(got, map[string]any{"id": "doc_3", "title": "Notes", "owner": "bob"}) {
		t.Errorf("last document %v", got)
	}
}

func TestProtectedResourceMetadata(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.get(e.api + "/.well-known/oauth-protected-resource")
	want := map[string]any{
		"resource":                 e.api,
		"authorization_servers":    []any{e.issuer},
		"scopes_supported":         []any{"documents.read", "documents.write", "profile.read"},
		"bearer_methods_supported": []any{"header"},
		"resource_name":            "sesame dev API",
	}
	if diff := cmp.Diff(want, r.json(t)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	e = newEnv(t, Options{NoProtectedResourceMetadata: true})
	if r := e.get(e.api + "/.well-known/oauth-protected-resource"); r.status != 404 {
		t.Errorf("disabled: %d", r.status)
	}
}

func TestUserinfo(t *testing.T) {
	e := newEnv(t, Options{Static: staticTokens()})
	at := e.deviceToken(publicAuth, "openid profile email", "alice")["access_token"].(string)
	r := e.get(e.issuer+"/userinfo", "Authorization", "Bearer "+at)
	want := map[string]any{"sub": "alice", "name": "Alice", "email": "alice@example.com", "preferred_username": "alice"}
	if diff := cmp.Diff(want, r.json(t)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	r = e.get(e.issuer+"/userinfo", "Authorization", "Bearer dat_nope")
	if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Bearer realm="sesame-dev", error="invalid_token"`) {
		t.Errorf("invalid token: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
}

func TestCounters(t *testing.T) {
	e := newEnv(t, Options{Static: staticTokens()})
	e.get(e.issuer + "/.well-known/openid-configuration")
	e.get(e.issuer + "/.well-known/oauth-authorization-server")
	e.deviceToken(publicAuth, "documents.read offline_access", "alice")
	e.post("/token", url.Values{"grant_type": {grantClientCreds}}, basicAuth)
	e.post("/revoke", url.Values{"token": {"x"}}, publicAuth)
	e.get(e.issuer + "/device")
	e.get(e.issuer + "/nope")
	e.meStatus("sesame_live_abc")
	e.meStatus("")
	e.apiReq(http.MethodGet, "/v1/documents", "sesame_live_abc", "")
	e.get(e.api + "/.well-known/oauth-protected-resource")
	e.get(e.api + "/nope")
	e.register(`{"grant_types":["urn:ietf:params:oauth:grant-type:device_code"],"response_types":[],"token_endpoint_auth_method":"none"}`)
	e.get(e.issuer + "/authorize?client_id=nobody")

	want := map[string]int{
		".well-known/openid-configuration":       1,
		".well-known/oauth-authorization-server": 1,
		"device/code":                            1,
		"token":                                  2,
		"token:" + grantDevice:                   1,
		"token:client_credentials":               1,
		"revoke":                                 1,
		"device":                                 1,
		"other":                                  1,
		"api:/v1/me":                             2,
		"api:/v1/documents":                      1,
		"api:/.well-known/oauth-protected-resource": 1,
		"api:other":      1,
		"register":       1,
		"authorize":      1,
		"debug/counters": 1,
	}
	r := e.get(e.issuer + "/debug/counters")
	var got map[string]int
	if err := jsonUnmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/debug/counters (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, e.s.Counters()); diff != "" {
		t.Errorf("Counters() (-want +got):\n%s", diff)
	}
}

func TestStart(t *testing.T) {
	s := New(Options{Static: staticTokens()})
	if err := s.Start("", ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Start("", ""); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start: %v", err)
	}
	for _, u := range []string{s.IssuerURL(), s.APIURL()} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") || strings.HasSuffix(u, "/") {
			t.Errorf("URL %q", u)
		}
	}
	resp, err := http.Get(s.IssuerURL() + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"issuer":"`+s.IssuerURL()+`"`) {
		t.Errorf("discovery over the listener: %s", b)
	}
	req, _ := http.NewRequest(http.MethodGet, s.APIURL()+"/v1/me", nil)
	req.Header.Set("Authorization", "Bearer sesame_live_abc")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("API over the listener: %d", resp.StatusCode)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := http.Get(s.IssuerURL() + "/"); err == nil {
		t.Errorf("still serving after Close")
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "localhost:0"} {
		if err := New(Options{}).Start(addr, ""); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("Start(%q): %v, want ErrNotLoopback", addr, err)
		}
	}
	if err := CheckLoopback("[::1]:8080"); err != nil {
		t.Errorf("::1: %v", err)
	}
}
