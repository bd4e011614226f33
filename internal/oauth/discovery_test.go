package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sesame-cli/sesame/internal/httpx"
)

// pathLog records the paths a test server was asked for.
type pathLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *pathLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.paths = append(l.paths, r.URL.Path)
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *pathLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.paths...)
}

// routes builds a handler from path → handler; other paths 404.
func routes(m map[string]http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := m[r.URL.Path]; ok {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	})
}

func jsonAt(status int, v any) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, status, v) }
}

func htmlAt(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { writeHTML(w, status) }
}

func TestFindIssuer(t *testing.T) {
	prDoc := map[string]any{"resource": "https://api.example.com/v2", "authorization_servers": []string{"https://auth.example.com/tenant", "https://other.example.com"}}
	tests := []struct {
		name       string
		apiURL     string
		routes     map[string]http.HandlerFunc
		client     func(*httptest.Server) *http.Client
		wantIssuer string
		wantVia    string
		wantPaths  []string
		check      errCheck
	}{
		{
			name:       "RFC 9728 document under the API URL",
			apiURL:     "https://api.example.com/v2",
			routes:     map[string]http.HandlerFunc{"/v2/.well-known/oauth-protected-resource": jsonAt(200, prDoc)},
			wantIssuer: "https://auth.example.com/tenant", wantVia: ViaProtectedResource,
			wantPaths: []string{"/v2/.well-known/oauth-protected-resource"},
		},
		{
			name:       "RFC 9728 path-insertion form",
			apiURL:     "https://api.example.com/v2/",
			routes:     map[string]http.HandlerFunc{"/.well-known/oauth-protected-resource/v2": jsonAt(200, prDoc)},
			wantIssuer: "https://auth.example.com/tenant", wantVia: ViaProtectedResource,
			wantPaths: []string{"/v2/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/v2"},
		},
		{
			name:       "404 strips api. from the host",
			apiURL:     "https://api.example.com/v2",
			wantIssuer: "https://example.com", wantVia: ViaAPIHost,
			wantPaths: []string{"/v2/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/v2"},
		},
		{
			name:       "api. stripping keeps the port",
			apiURL:     "https://API.example.com:8443",
			wantIssuer: "https://example.com:8443", wantVia: ViaAPIHost,
			wantPaths: []string{"/.well-known/oauth-protected-resource"},
		},
		{
			name:       "HTML answer is not a document",
			apiURL:     "https://api.example.com",
			routes:     map[string]http.HandlerFunc{"/.well-known/oauth-protected-resource": htmlAt(200)},
			wantIssuer: "https://example.com", wantVia: ViaAPIHost,
		},
		{
			name:       "empty authorization_servers",
			apiURL:     "https://api.example.com",
			routes:     map[string]http.HandlerFunc{"/.well-known/oauth-protected-resource": jsonAt(200, map[string]any{"authorization_servers": []string{}})},
			wantIssuer: "https://example.com", wantVia: ViaAPIHost,
		},
		{
			name:       "401 falls through",
			apiURL:     "https://api.example.com",
			routes:     map[string]http.HandlerFunc{"/.well-known/oauth-protected-resource": jsonAt(401, map[string]any{"error": "unauthorized"})},
			wantIssuer: "https://example.com", wantVia: ViaAPIHost,
		},
		{
			name:       "host without api. is the issuer",
			apiURL:     "https://svc.example.com/x/y",
			wantIssuer: "https://svc.example.com", wantVia: ViaAPIHost,
		},
		{
			name:       "api. on a bare TLD is kept",
			apiURL:     "https://api.com",
			client:     func(*httptest.Server) *http.Client { return handlerClient(http.NotFoundHandler()) },
			wantIssuer: "https://api.com", wantVia: ViaAPIHost,
		},
		{
			name:   "insecure authorization server refused",
			apiURL: "https://api.example.com",
			routes: map[string]http.HandlerFunc{"/.well-known/oauth-protected-resource": jsonAt(200, map[string]any{"authorization_servers": []string{"http://auth.example.com"}})},
			check:  wantIs(ErrInsecureURL),
		},
		{
			name:   "insecure API URL refused",
			apiURL: "http://api.example.com",
			check:  wantIs(ErrInsecureURL),
		},
		{
			name:   "network error",
			apiURL: "https://api.example.com",
			client: func(*httptest.Server) *http.Client { return failingClient() },
			check:  wantNetworkError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log pathLog
			srv := httptest.NewTLSServer(log.wrap(routes(tt.routes)))
			defer srv.Close()
			hc := routedTLSClient(srv)
			if tt.client != nil {
				hc = tt.client(srv)
			}
			c := &Client{HTTP: hc}
			issuer, via, _, err := c.FindIssuer(t.Context(), tt.apiURL)
			if tt.check != nil {
				tt.check(t, err)
				return
			}
			wantNoErr(t, err)
			if diff := cmp.Diff([]string{tt.wantIssuer, tt.wantVia}, []string{issuer, via}); diff != "" {
				t.Errorf("issuer, via mismatch (-want +got):\n%s", diff)
			}
			if tt.wantPaths != nil {
				if diff := cmp.Diff(tt.wantPaths, log.get()); diff != "" {
					t.Errorf("requested paths (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestDiscover(t *testing.T) {
	doc := func(issuer string) map[string]any {
		return map[string]any{
			"issuer":                                issuer,
			"authorization_endpoint":                "https://example.com/authorize",
			"token_endpoint":                        "https://example.com/token",
			"device_authorization_endpoint":         "https://example.com/device",
			"registration_endpoint":                 "https://example.com/register",
			"revocation_endpoint":                   "https://example.com/revoke",
			"userinfo_endpoint":                     "https://example.com/userinfo",
			"scopes_supported":                      []string{"openid", "docs.read"},
			"grant_types_supported":                 []string{"urn:ietf:params:oauth:grant-type:device_code"},
			"token_endpoint_auth_methods_supported": []string{"none"},
			"code_challenge_methods_supported":      []string{"S256"},
			"jwks_uri":                              "https://example.com/jwks",
		}
	}
	full := func(issuer string) *Metadata {
		return &Metadata{
			Issuer:                            issuer,
			AuthorizationEndpoint:             "https://example.com/authorize",
			TokenEndpoint:                     "https://example.com/token",
			DeviceAuthorizationEndpoint:       "https://example.com/device",
			RegistrationEndpoint:              "https://example.com/register",
			RevocationEndpoint:                "https://example.com/revoke",
			UserinfoEndpoint:                  "https://example.com/userinfo",
			ScopesSupported:                   []string{"openid", "docs.read"},
			GrantTypesSupported:               []string{"urn:ietf:params:oauth:grant-type:device_code"},
			TokenEndpointAuthMethodsSupported: []string{"none"},
			CodeChallengeMethodsSupported:     []string{"S256"},
		}
	}
	with := func(m map[string]any, k string, v any) map[string]any { m[k] = v; return m }
	const oidc, as = "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"
	tests := []struct {
		name      string
		issuer    string
		routes    map[string]http.HandlerFunc
		want      *Metadata
		wantPaths []string
		check     errCheck
	}{
		{
			name:      "OpenID configuration",
			issuer:    "https://example.com",
			routes:    map[string]http.HandlerFunc{oidc: jsonAt(200, doc("https://example.com"))},
			want:      full("https://example.com"),
			wantPaths: []string{oidc},
		},
		{
			name:      "fallback to RFC 8414",
			issuer:    "https://example.com",
			routes:    map[string]http.HandlerFunc{as: jsonAt(200, doc("https://example.com"))},
			want:      full("https://example.com"),
			wantPaths: []string{oidc, as},
		},
		{
			name:      "issuer with a path: RFC 8414 path insertion",
			issuer:    "https://example.com/tenant",
			routes:    map[string]http.HandlerFunc{as + "/tenant": jsonAt(200, doc("https://example.com/tenant"))},
			want:      full("https://example.com/tenant"),
			wantPaths: []string{"/tenant" + oidc, as + "/tenant"},
		},
		{
			name:      "issuer with a path: appended RFC 8414 form",
			issuer:    "https://example.com/tenant",
			routes:    map[string]http.HandlerFunc{"/tenant" + as: jsonAt(200, doc("https://example.com/tenant"))},
			want:      full("https://example.com/tenant"),
			wantPaths: []string{"/tenant" + oidc, as + "/tenant", "/tenant" + as},
		},
		{
			name:   "one trailing slash ignored on both sides",
			issuer: "https://example.com/",
			routes: map[string]http.HandlerFunc{oidc: jsonAt(200, doc("https://example.com/"))},
			want:   full("https://example.com/"),
		},
		{
			name:   "HTML first, JSON at the fallback",
			issuer: "https://example.com",
			routes: map[string]http.HandlerFunc{oidc: htmlAt(200), as: jsonAt(200, doc("https://example.com"))},
			want:   full("https://example.com"),
		},
		{
			name:   "issuer mismatch refused",
			issuer: "https://example.com",
			routes: map[string]http.HandlerFunc{oidc: jsonAt(200, doc("https://evil.example.com"))},
			check:  wantIs(ErrIssuerMismatch),
		},
		{
			name:   "issuer differing by more than a slash refused",
			issuer: "https://example.com/tenant",
			routes: map[string]http.HandlerFunc{"/tenant" + oidc: jsonAt(200, doc("https://example.com/tenant//"))},
			check:  wantIs(ErrIssuerMismatch),
		},
		{
			name:   "http issuer on a non-loopback host refused",
			issuer: "http://example.com",
			check:  wantIs(ErrInsecureURL),
		},
		{
			name:   "http endpoint in the document refused",
			issuer: "https://example.com",
			routes: map[string]http.HandlerFunc{oidc: jsonAt(200, with(doc("https://example.com"), "token_endpoint", "http://example.com/token"))},
			check:  wantIs(ErrInsecureURL),
		},
		{
			name:   "relative endpoint",
			issuer: "https://example.com",
			routes: map[string]http.HandlerFunc{oidc: jsonAt(200, with(doc("https://example.com"), "device_authorization_endpoint", "/device"))},
			check:  wantResponseError(200),
		},
		{
			name:   "no token endpoint",
			issuer: "https://example.com",
			routes: map[string]http.HandlerFunc{oidc: jsonAt(200, with(doc("https://example.com"), "token_endpoint", ""))},
			check:  wantResponseError(200),
		},
		{
			name:   "HTML document",
			issuer: "https://example.com",
			routes: map[string]http.HandlerFunc{oidc: htmlAt(200), as: htmlAt(200)},
			check:  wantResponseError(200),
		},
		{
			name:   "wrong JSON types",
			issuer: "https://example.com",
			routes: map[string]http.HandlerFunc{oidc: jsonAt(200, with(doc("https://example.com"), "scopes_supported", "openid"))},
			check:  wantResponseError(200),
		},
		{
			name:   "5xx",
			issuer: "https://example.com",
			routes: map[string]http.HandlerFunc{oidc: htmlAt(503)},
			check:  wantResponseError(503),
		},
		{
			name:   "nothing anywhere",
			issuer: "https://example.com",
			check:  wantResponseError(404),
		},
		{
			name:   "oversized document",
			issuer: "https://example.com",
			routes: map[string]http.HandlerFunc{oidc: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"issuer":"https://example.com","x":"` + strings.Repeat("a", maxBody) + `"}`))
			}},
			check: wantResponseError(200),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log pathLog
			srv := httptest.NewTLSServer(log.wrap(routes(tt.routes)))
			defer srv.Close()
			c := &Client{HTTP: routedTLSClient(srv)}
			md, err := c.Discover(t.Context(), tt.issuer)
			if tt.check != nil {
				tt.check(t, err)
				if strings.Contains(err.Error(), "secret-looking") {
					t.Errorf("error %q quotes the response body", err)
				}
				return
			}
			wantNoErr(t, err)
			if diff := cmp.Diff(tt.want, md); diff != "" {
				t.Errorf("metadata mismatch (-want +got):\n%s", diff)
			}
			if tt.wantPaths != nil {
				if diff := cmp.Diff(tt.wantPaths, log.get()); diff != "" {
					t.Errorf("requested paths (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestDiscoverLoopbackHTTP(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(routes(map[string]http.HandlerFunc{
		"/.well-known/openid-configuration": func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 200, map[string]any{"issuer": srv.URL, "token_endpoint": srv.URL + "/token"})
		},
	}))
	defer srv.Close()
	c := &Client{HTTP: srv.Client()}
	md, err := c.Discover(t.Context(), srv.URL)
	wantNoErr(t, err)
	if diff := cmp.Diff(&Metadata{Issuer: srv.URL, TokenEndpoint: srv.URL + "/token"}, md); diff != "" {
		t.Errorf("metadata mismatch (-want +got):\n%s", diff)
	}
}

func TestDiscoverRedirects(t *testing.T) {
	tests := []struct {
		name   string
		target string
		check  errCheck
	}{
		{"https redirect followed", "https://example.com/real", nil},
		{"redirect to http refused", "http://example.com/real", wantIs(ErrInsecureURL)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewTLSServer(routes(map[string]http.HandlerFunc{
				"/.well-known/openid-configuration": func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, tt.target, http.StatusFound)
				},
				"/real": jsonAt(200, map[string]any{"issuer": "https://example.com", "token_endpoint": "https://example.com/token"}),
			}))
			defer srv.Close()
			c := &Client{HTTP: routedTLSClient(srv)}
			_, err := c.Discover(t.Context(), "https://example.com")
			if tt.check == nil {
				wantNoErr(t, err)
				return
			}
			tt.check(t, err)
		})
	}
}

func TestDiscoverCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c := &Client{HTTP: &http.Client{}}
	_, err := c.Discover(ctx, "https://example.com")
	wantIs(context.Canceled)(t, err)
	if _, ok := errors.AsType[*httpx.NetworkError](err); ok {
		t.Errorf("a canceled context is reported as a NetworkError: %v", err)
	}
}
