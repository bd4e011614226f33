package devissuer

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiscovery(t *testing.T) {
	for _, tc := range []struct {
		name    string
		path    string
		noReg   bool
		wantReg bool
	}{
		{"openid-configuration", "/.well-known/openid-configuration", false, true},
		{"oauth-authorization-server", "/.well-known/oauth-authorization-server", false, true},
		{"registration disabled", "/.well-known/openid-configuration", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{DisableRegistration: tc.noReg})
			r := e.get(e.issuer + tc.path)
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("got %d %q", r.status, r.header.Get("Content-Type"))
			}
			iss := e.issuer
			want := map[string]any{
				"issuer":                                         iss,
				"authorization_endpoint":                         iss + "/authorize",
				"token_endpoint":                                 iss + "/token",
				"device_authorization_endpoint":                  iss + "/device/code",
				"revocation_endpoint":                            iss + "/revoke",
				"userinfo_endpoint":                              iss + "/userinfo",
				"scopes_supported":                               []any{"openid", "email", "profile", "offline_access", "documents.read", "documents.write", "profile.read"},
				"response_types_supported":                       []any{"code"},
				"response_modes_supported":                       []any{"query"},
				"grant_types_supported":                          []any{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "client_credentials"},
				"code_challenge_methods_supported":               []any{"S256"},
				"token_endpoint_auth_methods_supported":          []any{"none", "client_secret_basic", "client_secret_post"},
				"revocation_endpoint_auth_methods_supported":     []any{"none", "client_secret_basic", "client_secret_post"},
				"authorization_response_iss_parameter_supported": true,
			}
			if tc.wantReg {
				want["registration_endpoint"] = iss + "/register"
			}
			if diff := cmp.Diff(want, r.json(t)); diff != "" {
				t.Errorf("discovery (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRegister(t *testing.T) {
	for _, tc := range []struct {
		name        string
		contentType string
		body        string
		noReg       bool
		wantStatus  int
		wantErr     string
		wantSecret  bool
	}{
		{
			name:       "public native device client",
			body:       `{"client_name":"sesame","grant_types":["urn:ietf:params:oauth:grant-type:device_code","refresh_token"],"response_types":[],"token_endpoint_auth_method":"none","application_type":"native","scope":"documents.read offline_access"}`,
			wantStatus: http.StatusCreated,
		},
		{
			name:       "public native web-flow client",
			body:       `{"client_name":"sesame","redirect_uris":["http://127.0.0.1/callback","http://[::1]/callback"],"grant_types":["authorization_code","refresh_token"],"token_endpoint_auth_method":"none","application_type":"native"}`,
			wantStatus: http.StatusCreated,
		},
		{
			name:       "confidential by default gets a secret",
			body:       `{"client_name":"svc","redirect_uris":["https://app.example.com/cb"]}`,
			wantStatus: http.StatusCreated,
			wantSecret: true,
		},
		{
			name:       "confidential client credentials",
			body:       `{"grant_types":["client_credentials"],"response_types":[],"token_endpoint_auth_method":"client_secret_post","scope":"documents.read"}`,
			wantStatus: http.StatusCreated,
			wantSecret: true,
		},
		{name: "not JSON", contentType: "application/x-www-form-urlencoded", body: "client_name=x", wantStatus: 400, wantErr: "invalid_client_metadata"},
		{name: "malformed JSON", body: `{"client_name":`, wantStatus: 400, wantErr: "invalid_client_metadata"},
		{name: "unsupported scope", body: `{"grant_types":["urn:ietf:params:oauth:grant-type:device_code"],"response_types":[],"token_endpoint_auth_method":"none","scope":"admin"}`, wantStatus: 400, wantErr: "invalid_client_metadata"},
		{name: "unsupported grant", body: `{"grant_types":["password"],"response_types":[],"token_endpoint_auth_method":"none"}`, wantStatus: 400, wantErr: "invalid_client_metadata"},
		{name: "unsupported response type", body: `{"response_types":["token"],"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none"}`, wantStatus: 400, wantErr: "invalid_client_metadata"},
		{name: "unsupported auth method", body: `{"grant_types":["urn:ietf:params:oauth:grant-type:device_code"],"response_types":[],"token_endpoint_auth_method":"private_key_jwt"}`, wantStatus: 400, wantErr: "invalid_client_metadata"},
		{name: "authorization code without redirect", body: `{"token_endpoint_auth_method":"none"}`, wantStatus: 400, wantErr: "invalid_redirect_uri"},
		{name: "localhost redirect", body: `{"redirect_uris":["http://localhost:8080/cb"],"token_endpoint_auth_method":"none"}`, wantStatus: 400, wantErr: "invalid_redirect_uri"},
		{name: "plain http redirect", body: `{"redirect_uris":["http://example.com/cb"],"token_endpoint_auth_method":"none"}`, wantStatus: 400, wantErr: "invalid_redirect_uri"},
		{name: "redirect with fragment", body: `{"redirect_uris":["https://example.com/cb#x"],"token_endpoint_auth_method":"none"}`, wantStatus: 400, wantErr: "invalid_redirect_uri"},
		{name: "public client credentials", body: `{"grant_types":["client_credentials"],"response_types":[],"token_endpoint_auth_method":"none"}`, wantStatus: 400, wantErr: "invalid_client_metadata"},
		{name: "registration disabled", noReg: true, body: `{}`, wantStatus: 404, wantErr: "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{DisableRegistration: tc.noReg})
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			req, _ := http.NewRequest(http.MethodPost, e.issuer+"/register", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", ct)
			r := e.do(req)
			if r.status != tc.wantStatus || r.oauthErr() != tc.wantErr {
				t.Fatalf("got %d %s, want %d %q", r.status, r.body, tc.wantStatus, tc.wantErr)
			}
			if r.status != http.StatusCreated {
				return
			}
			m := r.json(t)
			id, _ := m["client_id"].(string)
			if !strings.HasPrefix(id, "dc_") || m["client_id_issued_at"] == nil {
				t.Errorf("client_id %q, client_id_issued_at %v", id, m["client_id_issued_at"])
			}
			if _, got := m["client_secret"]; got != tc.wantSecret {
				t.Errorf("client_secret present = %v, want %v", got, tc.wantSecret)
			}
		})
	}
}

// TestRegisterThenUse checks that registered clients work at the endpoints
// their metadata allows, and only there.
func TestRegisterThenUse(t *testing.T) {
	e := newEnv(t, Options{})
	register := func(body string) map[string]any {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+"/register", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		r := e.do(req)
		if r.status != http.StatusCreated {
			t.Fatalf("register: %d %s", r.status, r.body)
		}
		return r.json(t)
	}
	dev := register(`{"client_name":"sesame","grant_types":["urn:ietf:params:oauth:grant-type:device_code","refresh_token"],"response_types":[],"token_endpoint_auth_method":"none","application_type":"native"}`)
	wantEcho := map[string]any{
		"client_name":                "sesame",
		"grant_types":                []any{grantDevice, grantRefresh},
		"response_types":             []any{},
		"token_endpoint_auth_method": "none",
		"application_type":           "native",
	}
	gotEcho := map[string]any{}
	for k := range wantEcho {
		gotEcho[k] = dev[k]
	}
	if diff := cmp.Diff(wantEcho, gotEcho); diff != "" {
		t.Errorf("metadata echo (-want +got):\n%s", diff)
	}
	devAuth := auth{id: dev["client_id"].(string)}
	tok := e.deviceToken(devAuth, "documents.read offline_access", "alice")
	if tok["refresh_token"] == nil {
		t.Errorf("no refresh token: %v", tok)
	}

	cc := register(`{"client_name":"job","grant_types":["client_credentials"],"response_types":[],"token_endpoint_auth_method":"client_secret_basic","scope":"documents.read"}`)
	ccAuth := auth{id: cc["client_id"].(string), secret: cc["client_secret"].(string), basic: true}
	r := e.post("/token", url.Values{"grant_type": {grantClientCreds}}, ccAuth)
	if r.status != http.StatusOK || r.json(t)["scope"] != "documents.read" {
		t.Errorf("client credentials: %d %s", r.status, r.body)
	}
	if r := e.post("/device/code", url.Values{"scope": {"documents.read"}}, ccAuth); r.oauthErr() != "unauthorized_client" {
		t.Errorf("device/code for a client credentials client: %d %s", r.status, r.body)
	}
}
