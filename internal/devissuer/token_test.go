package devissuer

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// refreshWith refreshes rt through x/oauth2, as sesame does.
func refreshWith(t *testing.T, conf *oauth2.Config, rt string) (*oauth2.Token, error) {
	t.Helper()
	return conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: rt, Expiry: time.Unix(1, 0)}).Token()
}

func TestRefreshRotationAndReuse(t *testing.T) {
	e := newEnv(t, Options{})
	conf := e.oauthConfig()
	first := e.deviceToken(publicAuth, "documents.read offline_access", "alice")
	at1, rt1 := first["access_token"].(string), first["refresh_token"].(string)

	second, err := refreshWith(t, conf, rt1)
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == "" || second.RefreshToken == rt1 || second.AccessToken == at1 {
		t.Fatalf("no rotation: new refresh token %v, same access %v", second.RefreshToken != rt1, second.AccessToken == at1)
	}
	if second.Extra("scope") != "documents.read" {
		t.Errorf("scope %v", second.Extra("scope"))
	}
	for _, at := range []string{at1, second.AccessToken} {
		if s := e.meStatus(at); s != 200 {
			t.Errorf("access token before reuse: %d", s)
		}
	}

	// Presenting the rotated token again revokes the whole grant.
	if _, err := refreshWith(t, conf, rt1); oauthErrorCode(err) != "invalid_grant" {
		t.Fatalf("reuse: %v", err)
	}
	if _, err := refreshWith(t, conf, second.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("newest refresh token after reuse: %v", err)
	}
	for _, at := range []string{at1, second.AccessToken} {
		if s := e.meStatus(at); s != 401 {
			t.Errorf("access token after reuse: %d, want 401", s)
		}
	}
	if got := e.s.Counters()["token:refresh_token"]; got != 3 {
		t.Errorf("token:refresh_token counter %d, want 3", got)
	}
}

func TestRefreshCases(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       Options
		scope      string // device grant scope
		form       url.Values
		auth       auth
		wantErr    string
		wantScope  string
		wantNewRT  bool
		wantSameRT bool
	}{
		{name: "rotation", scope: "documents.read documents.write offline_access", auth: publicAuth, wantScope: "documents.read documents.write", wantNewRT: true},
		{name: "no rotation", opts: Options{NoRotation: true}, scope: "documents.read offline_access", auth: publicAuth, wantScope: "documents.read"},
		{name: "narrowing", scope: "documents.read documents.write offline_access", form: url.Values{"scope": {"documents.read"}}, auth: publicAuth, wantScope: "documents.read", wantNewRT: true},
		{name: "widening", scope: "documents.read offline_access", form: url.Values{"scope": {"documents.write"}}, auth: publicAuth, wantErr: "invalid_scope"},
		{name: "another client", scope: "documents.read offline_access", auth: basicAuth, wantErr: "invalid_grant"},
		{name: "unknown token", scope: "documents.read offline_access", form: url.Values{"refresh_token": {"drt_nope"}}, auth: publicAuth, wantErr: "invalid_grant"},
		{name: "missing token", scope: "documents.read offline_access", form: url.Values{"refresh_token": {""}}, auth: publicAuth, wantErr: "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			tok := e.deviceToken(publicAuth, tc.scope, "alice")
			rt := tok["refresh_token"].(string)
			form := url.Values{"grant_type": {grantRefresh}, "refresh_token": {rt}}
			for k, v := range tc.form {
				form[k] = v
			}
			if form.Get("refresh_token") == "" {
				form.Del("refresh_token")
			}
			r := e.post("/token", form, tc.auth)
			if got := r.oauthErr(); got != tc.wantErr {
				t.Fatalf("got %d %s, want %q", r.status, r.body, tc.wantErr)
			}
			if tc.wantErr != "" {
				return
			}
			m := r.json(t)
			newRT, _ := m["refresh_token"].(string)
			if m["scope"] != tc.wantScope || (newRT != "") != tc.wantNewRT || newRT == rt {
				t.Errorf("scope %v (want %q), refresh token returned %v (want %v)", m["scope"], tc.wantScope, newRT != "", tc.wantNewRT)
			}
			if !tc.wantNewRT {
				// Without rotation the old refresh token keeps working.
				if r := e.post("/token", url.Values{"grant_type": {grantRefresh}, "refresh_token": {rt}}, publicAuth); r.status != 200 {
					t.Errorf("second refresh without rotation: %s", r.body)
				}
			}
		})
	}
}

func TestNoRefreshTokenWithoutOfflineAccess(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.deviceToken(publicAuth, "openid documents.read", "alice")
	if _, ok := tok["refresh_token"]; ok || tok["scope"] != "documents.read" {
		t.Errorf("token %v", tok)
	}
}

func TestClientCredentials(t *testing.T) {
	for _, tc := range []struct {
		name       string
		style      oauth2.AuthStyle
		id, secret string
		scopes     []string
		wantErr    string
		wantScope  string
	}{
		{name: "basic, default scopes", style: oauth2.AuthStyleInHeader, id: confID, secret: confSec, wantScope: "documents.read documents.write"},
		{name: "post, narrowed", style: oauth2.AuthStyleInParams, id: confID, secret: confSec, scopes: []string{"documents.read"}, wantScope: "documents.read"},
		{name: "scope not allowed", style: oauth2.AuthStyleInParams, id: confID, secret: confSec, scopes: []string{"profile.read"}, wantErr: "invalid_scope"},
		{name: "wrong secret, basic", style: oauth2.AuthStyleInHeader, id: confID, secret: "wrong", wantErr: "invalid_client"},
		{name: "wrong secret, post", style: oauth2.AuthStyleInParams, id: confID, secret: "wrong", wantErr: "invalid_client"},
		{name: "unknown client", style: oauth2.AuthStyleInHeader, id: "nobody", secret: "x", wantErr: "invalid_client"},
		{name: "client without the grant", style: oauth2.AuthStyleInHeader, id: "ccless", secret: "x", wantErr: "unauthorized_client"},
		{name: "public client", style: oauth2.AuthStyleInParams, id: publicID, wantErr: "unauthorized_client"},
		{name: "public client with Authorization header", style: oauth2.AuthStyleInHeader, id: publicID, wantErr: "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			cc := &clientcredentials.Config{ClientID: tc.id, ClientSecret: tc.secret, TokenURL: e.issuer + "/token", Scopes: tc.scopes, AuthStyle: tc.style}
			tok, err := cc.Token(t.Context())
			if tc.wantErr != "" {
				if got := oauthErrorCode(err); got != tc.wantErr {
					t.Fatalf("got %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.RefreshToken != "" || tok.Extra("scope") != tc.wantScope || !strings.HasPrefix(tok.AccessToken, "dat_") {
				t.Errorf("refresh token %v, scope %v", tok.RefreshToken != "", tok.Extra("scope"))
			}
			me := e.apiReq(http.MethodGet, "/v1/me", tok.AccessToken, "").json(t)
			want := map[string]any{"id": "client:svc", "name": "Nightly job", "type": "service_account", "client_id": "svc", "scopes": toAny(strings.Fields(tc.wantScope))}
			if diff := cmp.Diff(want, me); diff != "" {
				t.Errorf("/v1/me (-want +got):\n%s", diff)
			}
		})
	}
}

func toAny(ss []string) []any {
	out := []any{}
	for _, s := range ss {
		out = append(out, s)
	}
	return out
}

func TestTokenEndpointRequests(t *testing.T) {
	for _, tc := range []struct {
		name        string
		contentType string
		body        string
		basic       bool
		wantStatus  int
		wantErr     string
	}{
		{name: "JSON body", contentType: "application/json", body: `{"grant_type":"client_credentials"}`, wantStatus: 400, wantErr: "invalid_request"},
		{name: "repeated parameter", body: "grant_type=client_credentials&client_id=svc&client_secret=a&client_secret=b", wantStatus: 400, wantErr: "invalid_request"},
		{name: "unsupported grant", body: "grant_type=password&client_id=cli", wantStatus: 400, wantErr: "unsupported_grant_type"},
		{name: "no grant type", body: "client_id=cli", wantStatus: 400, wantErr: "invalid_request"},
		{name: "no client", body: "grant_type=client_credentials", wantStatus: 401, wantErr: "invalid_client"},
		{name: "basic and post together", body: "grant_type=client_credentials&client_secret=" + url.QueryEscape(confSec), basic: true, wantStatus: 400, wantErr: "invalid_request"},
		{name: "too large", body: "grant_type=client_credentials&x=" + strings.Repeat("a", 65<<10), wantStatus: 400, wantErr: "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			ct := tc.contentType
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			req, _ := http.NewRequest(http.MethodPost, e.issuer+"/token", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", ct)
			if tc.basic {
				req.SetBasicAuth(confID, url.QueryEscape(confSec))
			}
			r := e.do(req)
			if r.status != tc.wantStatus || r.oauthErr() != tc.wantErr || r.header.Get("Content-Type") != "application/json" {
				t.Errorf("got %d %q %s, want %d %s", r.status, r.header.Get("Content-Type"), r.body, tc.wantStatus, tc.wantErr)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	for _, tc := range []struct {
		name       string
		token      func(tok map[string]any) string
		auth       auth
		wantStatus int
		wantErr    string
		wantAccess int    // /v1/me status with the access token afterwards
		wantRefErr string // refresh error afterwards ("" = works)
	}{
		{name: "access token", token: field("access_token"), auth: publicAuth, wantStatus: 200, wantAccess: 401},
		{name: "refresh token revokes the grant", token: field("refresh_token"), auth: publicAuth, wantStatus: 200, wantAccess: 401, wantRefErr: "invalid_grant"},
		{name: "unknown token", token: func(map[string]any) string { return "dat_nope" }, auth: publicAuth, wantStatus: 200, wantAccess: 200},
		{name: "another client's token", token: field("refresh_token"), auth: basicAuth, wantStatus: 200, wantAccess: 200},
		{name: "bad client auth", token: field("refresh_token"), auth: auth{id: confID, secret: "bad", basic: true}, wantStatus: 401, wantErr: "invalid_client", wantAccess: 200},
		{name: "missing token", token: func(map[string]any) string { return "" }, auth: publicAuth, wantStatus: 400, wantErr: "invalid_request", wantAccess: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			tok := e.deviceToken(publicAuth, "documents.read offline_access", "alice")
			form := url.Values{"token": {tc.token(tok)}, "token_type_hint": {"refresh_token"}}
			if form.Get("token") == "" {
				form.Del("token")
			}
			r := e.post("/revoke", form, tc.auth)
			if r.status != tc.wantStatus || r.oauthErr() != tc.wantErr {
				t.Fatalf("got %d %s, want %d %q", r.status, r.body, tc.wantStatus, tc.wantErr)
			}
			if s := e.meStatus(tok["access_token"].(string)); s != tc.wantAccess {
				t.Errorf("access token afterwards: %d, want %d", s, tc.wantAccess)
			}
			rr := e.post("/token", url.Values{"grant_type": {grantRefresh}, "refresh_token": {tok["refresh_token"].(string)}}, publicAuth)
			if got := rr.oauthErr(); got != tc.wantRefErr {
				t.Errorf("refresh afterwards: %s, want %q", rr.body, tc.wantRefErr)
			}
		})
	}
}

func field(name string) func(map[string]any) string {
	return func(m map[string]any) string { return m[name].(string) }
}

func TestFail5xx(t *testing.T) {
	e := newEnv(t, Options{Fail5xx: 2})
	form := url.Values{"grant_type": {grantClientCreds}}
	for i, want := range []int{500, 500, 200} {
		r := e.post("/token", form, basicAuth)
		if r.status != want {
			t.Errorf("request %d: %d, want %d", i, r.status, want)
		}
		if want == 500 && (!strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "<html>")) {
			t.Errorf("500 answer: %q %s", r.header.Get("Content-Type"), r.body)
		}
	}
	got := e.s.Counters()
	want := map[string]int{"token": 3, "token:client_credentials": 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counters (-want +got):\n%s", diff)
	}
}

func TestLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, hc := memServer(t, Options{Latency: 1500 * time.Millisecond})
		start := time.Now()
		resp, err := hc.Get("http://api.test/v1/me")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if d := time.Since(start); d != 1500*time.Millisecond || resp.StatusCode != 401 {
			t.Errorf("took %v, status %d", d, resp.StatusCode)
		}
	})
}
