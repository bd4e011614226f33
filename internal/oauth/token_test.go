package oauth

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tokenServer answers every request with answer and records the request.
type tokenServer struct {
	t      *testing.T
	calls  atomic.Int32
	form   url.Values
	header http.Header
	answer http.HandlerFunc
}

func (s *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	s.header = r.Header.Clone()
	s.form = form(s.t, r)
	s.answer(w, r)
}

func testApp(base string) App {
	return App{
		Metadata: &Metadata{Issuer: base, TokenEndpoint: base + "/token", RevocationEndpoint: base + "/revoke"},
		ClientID: "cid",
	}
}

func TestTokenResponses(t *testing.T) {
	const rt = "rt-OLD-secret"
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // synctest's epoch
	tests := []struct {
		name   string
		answer http.HandlerFunc
		want   *tokenView
		check  errCheck
	}{
		{
			name:   "rotation",
			answer: jsonAt(200, map[string]any{"access_token": "at-new", "refresh_token": "rt-new", "token_type": "Bearer", "expires_in": 300, "scope": "docs.read offline_access", "id_token": "idt"}),
			want:   &tokenView{AccessToken: "at-new", RefreshToken: "rt-new", TokenType: "Bearer", IDToken: "idt", Expiry: t0.Add(300 * time.Second), Scopes: []string{"docs.read", "offline_access"}},
		},
		{
			name:   "non-rotating: no refresh_token, no scope",
			answer: jsonAt(200, map[string]any{"access_token": "at-new", "token_type": "bearer", "expires_in": "3600"}),
			want:   &tokenView{AccessToken: "at-new", RefreshToken: rt, TokenType: "bearer", Expiry: t0.Add(time.Hour)}, // not rotated: the old one is kept
		},
		{
			name:   "empty scope, no expires_in, no token_type",
			answer: jsonAt(200, map[string]any{"access_token": "at-new", "scope": ""}),
			want:   &tokenView{AccessToken: "at-new", RefreshToken: rt, TokenType: "Bearer"},
		},
		{
			name: "form-encoded answer",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
				_, _ = w.Write([]byte("access_token=at-form&token_type=bearer&expires_in=60&scope=a%2Cb"))
			},
			want: &tokenView{AccessToken: "at-form", RefreshToken: rt, TokenType: "bearer", Expiry: t0.Add(time.Minute), Scopes: []string{"a", "b"}},
		},
		{
			name: "form-encoded error",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
				w.WriteHeader(400)
				_, _ = w.Write([]byte("error=invalid_grant&error_description=bad+" + rt))
			},
			check: wantOAuthError("invalid_grant"),
		},
		{
			name:   "invalid_grant",
			answer: jsonAt(400, map[string]any{"error": "invalid_grant", "error_description": "refresh token " + rt + " was already used"}),
			check:  wantOAuthError("invalid_grant"),
		},
		{
			name:   "error in a 200",
			answer: jsonAt(200, map[string]any{"error": "invalid_grant"}),
			check:  wantOAuthError("invalid_grant"),
		},
		{
			name:   "no access_token",
			answer: jsonAt(200, map[string]any{"token_type": "Bearer", "refresh_token": "rt-new"}),
			check:  wantResponseError(200),
		},
		{
			name:   "negative expires_in",
			answer: jsonAt(200, map[string]any{"access_token": "at", "expires_in": -5}),
			check:  wantResponseError(200),
		},
		{
			name:   "absurd expires_in",
			answer: jsonAt(200, map[string]any{"access_token": "at", "expires_in": 1e30}),
			check:  wantResponseError(200),
		},
		{
			name:   "HTML 200",
			answer: htmlAt(200),
			check:  wantResponseError(200),
		},
		{
			name:   "HTML 502",
			answer: htmlAt(502),
			check:  wantResponseError(502),
		},
		{
			name: "body over 1 MiB",
			answer: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"access_token":"` + strings.Repeat("a", maxBody) + `"}`))
			},
			check: wantResponseError(200),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := &tokenServer{t: t, answer: tt.answer}
				c := &Client{HTTP: handlerClient(srv)}
				got, err := c.Refresh(t.Context(), testApp("https://example.com"), rt)
				noSecrets(t, err, rt, "at-new", "rt-new", "secret-looking")
				if diff := cmp.Diff(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"cid"}}, srv.form); diff != "" {
					t.Errorf("form (-want +got):\n%s", diff)
				}
				if h := srv.header.Get("Authorization"); h != "" {
					t.Errorf("public client sent Authorization %q", h)
				}
				if tt.check != nil {
					tt.check(t, err)
					return
				}
				wantNoErr(t, err)
				if diff := cmp.Diff(tt.want, view(got)); diff != "" {
					t.Errorf("token (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestRefreshEmpty(t *testing.T) {
	c := &Client{HTTP: failingClient()}
	_, err := c.Refresh(t.Context(), testApp("https://example.com"), "")
	wantIs(ErrNoRefreshToken)(t, err)
}

func TestRefreshNetworkError(t *testing.T) {
	c := &Client{HTTP: failingClient()}
	_, err := c.Refresh(t.Context(), testApp("https://example.com"), "rt-secret")
	wantNetworkError(t, err)
	noSecrets(t, err, "rt-secret")
}

func TestClientCredentials(t *testing.T) {
	const secret = "s3cr3t:with/odd chars"
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("ci%2Fd:"+url.QueryEscape(secret)))
	tests := []struct {
		name       string
		methods    []string
		scopes     []string
		wantForm   url.Values
		wantHeader string
	}{
		{
			name:       "basic by default, no scope",
			wantForm:   url.Values{"grant_type": {"client_credentials"}},
			wantHeader: basic,
		},
		{
			name:       "basic when both are listed, with scopes",
			methods:    []string{"client_secret_post", "client_secret_basic"},
			scopes:     []string{"docs.read", "docs.write"},
			wantForm:   url.Values{"grant_type": {"client_credentials"}, "scope": {"docs.read docs.write"}},
			wantHeader: basic,
		},
		{
			name:     "post when only client_secret_post is listed",
			methods:  []string{"client_secret_post", "private_key_jwt"},
			scopes:   []string{"docs.read"},
			wantForm: url.Values{"grant_type": {"client_credentials"}, "scope": {"docs.read"}, "client_id": {"ci/d"}, "client_secret": {secret}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &tokenServer{t: t, answer: jsonAt(200, map[string]any{"access_token": "at-cc", "token_type": "Bearer", "expires_in": 60})}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			app := testApp(hs.URL)
			app.ClientID, app.ClientSecret, app.Scopes = "ci/d", secret, tt.scopes
			app.Metadata.TokenEndpointAuthMethodsSupported = tt.methods
			c := &Client{HTTP: hs.Client()}
			tok, err := c.ClientCredentials(t.Context(), app)
			wantNoErr(t, err)
			if tok.AccessToken != "at-cc" || tok.Expiry.IsZero() {
				t.Errorf("token = %+v", tok)
			}
			if diff := cmp.Diff(tt.wantForm, srv.form); diff != "" {
				t.Errorf("form (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantHeader, srv.header.Get("Authorization")); diff != "" {
				t.Errorf("Authorization (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientCredentialsRejected(t *testing.T) {
	const secret = "cc-secret-value"
	srv := &tokenServer{t: t, answer: jsonAt(401, map[string]any{"error": "invalid_client", "error_description": "bad secret " + secret})}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	app := testApp(hs.URL)
	app.ClientSecret = secret
	_, err := (&Client{HTTP: hs.Client()}).ClientCredentials(t.Context(), app)
	wantOAuthError("invalid_client")(t, err)
	noSecrets(t, err, secret)
}

func TestTokenEndpointRedirectNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elsewhere.Add(1)
		writeJSON(w, 200, map[string]any{"access_token": "at"})
	}))
	defer other.Close()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/token", http.StatusTemporaryRedirect)
	}))
	defer hs.Close()
	_, err := (&Client{HTTP: hs.Client()}).Refresh(t.Context(), testApp(hs.URL), "rt-secret")
	wantResponseError(http.StatusTemporaryRedirect)(t, err)
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("redirect target got %d requests, want 0", n)
	}
}

func TestInsecureTokenEndpoint(t *testing.T) {
	_, err := (&Client{HTTP: failingClient()}).Refresh(t.Context(), testApp("http://example.com"), "rt")
	wantIs(ErrInsecureURL)(t, err)
}

func TestRevoke(t *testing.T) {
	const tok = "at-to-revoke"
	tests := []struct {
		name       string
		secret     string
		hint       string
		answer     http.HandlerFunc
		wantForm   url.Values
		wantHeader string
		check      errCheck
	}{
		{
			name:     "public client, 200",
			hint:     "refresh_token",
			answer:   func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) },
			wantForm: url.Values{"token": {tok}, "token_type_hint": {"refresh_token"}, "client_id": {"cid"}},
		},
		{
			name:       "confidential client, basic, no hint",
			secret:     "sec",
			answer:     func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) },
			wantForm:   url.Values{"token": {tok}},
			wantHeader: "Basic " + base64.StdEncoding.EncodeToString([]byte("cid:sec")),
		},
		{
			name:     "unsupported_token_type",
			hint:     "access_token",
			answer:   jsonAt(400, map[string]any{"error": "unsupported_token_type", "error_description": "cannot revoke " + tok}),
			wantForm: url.Values{"token": {tok}, "token_type_hint": {"access_token"}, "client_id": {"cid"}},
			check:    wantOAuthError("unsupported_token_type"),
		},
		{
			name:     "503",
			answer:   htmlAt(503),
			wantForm: url.Values{"token": {tok}, "client_id": {"cid"}},
			check:    wantResponseError(503),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &tokenServer{t: t, answer: tt.answer}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			app := testApp(hs.URL)
			app.ClientSecret = tt.secret
			err := (&Client{HTTP: hs.Client()}).Revoke(t.Context(), app, tok, tt.hint)
			noSecrets(t, err, tok)
			if diff := cmp.Diff(tt.wantForm, srv.form); diff != "" {
				t.Errorf("form (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantHeader, srv.header.Get("Authorization")); diff != "" {
				t.Errorf("Authorization (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, err)
				return
			}
			wantNoErr(t, err)
		})
	}
}

func TestRevokeNotSupported(t *testing.T) {
	app := testApp("https://example.com")
	app.Metadata.RevocationEndpoint = ""
	err := (&Client{HTTP: failingClient()}).Revoke(t.Context(), app, "tok", "")
	wantIs(ErrNotSupported)(t, err)
}

func TestRevokeNetworkError(t *testing.T) {
	err := (&Client{HTTP: failingClient()}).Revoke(t.Context(), testApp("https://example.com"), "tok-secret", "")
	wantNetworkError(t, err)
	noSecrets(t, err, "tok-secret")
}
