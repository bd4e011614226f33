package devissuer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// registerJSON registers a client and returns the whole response.
func (e *env) registerJSON(body string) map[string]any {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/register", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	r := e.do(req)
	if r.status != http.StatusCreated {
		e.t.Fatalf("register: %d %s", r.status, r.body)
	}
	return r.json(e.t)
}

const nativeWithPort = `{"client_name":"sesame","redirect_uris":["http://127.0.0.1:5000/callback"],"grant_types":["authorization_code","refresh_token","urn:ietf:params:oauth:grant-type:device_code"],"token_endpoint_auth_method":"none","application_type":"native"}`

func authorizeURL(e *env, clientID, redirectURI string, extra ...string) string {
	q := url.Values{
		"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "state": {"st"},
		"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}, "scope": {"documents.read offline_access"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return e.issuer + "/authorize?" + q.Encode()
}

func TestExactRedirect(t *testing.T) {
	for _, tc := range []struct {
		name       string
		exact      bool
		redirect   string
		wantStatus int
		wantErr    string // error in the redirect; "" = a code
	}{
		{"exact: registered port", true, "http://127.0.0.1:5000/callback", 302, ""},
		{"exact: other port", true, "http://127.0.0.1:5001/callback", 302, "invalid_request"},
		{"exact: no port", true, "http://127.0.0.1/callback", 302, "invalid_request"},
		{"exact: other path", true, "http://127.0.0.1:5000/other", 400, ""},
		{"default: other port (RFC 8252 7.3)", false, "http://127.0.0.1:5001/callback", 302, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{ExactRedirect: tc.exact, AutoApprove: time.Second})
			id := e.registerJSON(nativeWithPort)["client_id"].(string)
			r := e.get(authorizeURL(e, id, tc.redirect))
			if r.status != tc.wantStatus {
				t.Fatalf("got %d %s, want %d", r.status, r.body, tc.wantStatus)
			}
			if r.status != 302 {
				return
			}
			u, q := locationQuery(t, r)
			if got := u.Scheme + "://" + u.Host + u.Path; got != tc.redirect {
				t.Errorf("redirected to %s, want %s", got, tc.redirect)
			}
			if q.Get("error") != tc.wantErr || (tc.wantErr == "") != (q.Get("code") != "") {
				t.Errorf("redirect query %v, want error %q", q, tc.wantErr)
			}
			if tc.wantErr != "" && q.Get("error_description") != "Unregistered redirect_uri" {
				t.Errorf("error_description %q", q.Get("error_description"))
			}
		})
	}
}

func TestForgetClients(t *testing.T) {
	e := newEnv(t, Options{AutoApprove: time.Second})
	id := e.registerJSON(nativeWithPort)["client_id"].(string)
	a := auth{id: id}
	tok := e.deviceToken(a, "documents.read offline_access", "alice")

	req, _ := http.NewRequest(http.MethodPost, e.issuer+"/debug/forget-clients", nil)
	if r := e.do(req); r.status != 200 || r.json(t)["forgotten"] != float64(1) {
		t.Fatalf("forget-clients: %d %s", r.status, r.body)
	}
	if n := e.s.ForgetClients(); n != 0 {
		t.Errorf("ForgetClients again forgot %d", n)
	}
	for name, r := range map[string]result{
		"device/code": e.post("/device/code", url.Values{"scope": {"documents.read"}}, a),
		"refresh":     e.post("/token", url.Values{"grant_type": {grantRefresh}, "refresh_token": {tok["refresh_token"].(string)}}, a),
		"revoke":      e.post("/revoke", url.Values{"token": {tok["refresh_token"].(string)}}, a),
	} {
		if r.status != http.StatusUnauthorized || r.oauthErr() != "invalid_client" {
			t.Errorf("%s with a forgotten client: %d %s, want 401 invalid_client", name, r.status, r.body)
		}
	}
	if r := e.get(authorizeURL(e, id, "http://127.0.0.1:5000/callback")); r.status != 400 || !strings.Contains(r.body, "invalid_client") {
		t.Errorf("authorize with a forgotten client: %d %s", r.status, r.body)
	}
	// Pre-registered clients are not forgotten.
	e.deviceToken(publicAuth, "documents.read", "bob")
	if !e.s.ForgetClient(publicID) || e.s.ForgetClient(publicID) {
		t.Error("ForgetClient(publicID) should forget it once")
	}
}

func TestRefreshBareStatus(t *testing.T) {
	e := newEnv(t, Options{RefreshBareStatus: http.StatusBadRequest})
	tok := e.deviceToken(publicAuth, "documents.read offline_access", "alice")
	r := e.post("/token", url.Values{"grant_type": {grantRefresh}, "refresh_token": {tok["refresh_token"].(string)}}, publicAuth)
	if r.status != 400 || r.body != "" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("refresh: %d %q %q, want 400 with an empty text/plain body", r.status, r.header.Get("Content-Type"), r.body)
	}
	if e.s.Counters()["token:refresh_token"] != 1 {
		t.Errorf("counters %v", e.s.Counters())
	}
}

func TestNoMePathNoUserinfo(t *testing.T) {
	e := newEnv(t, Options{NoMePath: true, NoUserinfo: true})
	tok := e.deviceToken(publicAuth, "documents.read", "alice")["access_token"].(string)
	if st := e.meStatus(tok); st != http.StatusNotFound {
		t.Errorf("/v1/me: %d, want 404", st)
	}
	if r := e.apiReq(http.MethodGet, "/v1/documents", tok, ""); r.status != 200 {
		t.Errorf("/v1/documents: %d, the token should work", r.status)
	}
	if r := e.get(e.issuer+"/userinfo", "Authorization", "Bearer "+tok); r.status != http.StatusNotFound {
		t.Errorf("/userinfo: %d, want 404", r.status)
	}
	if _, ok := e.get(e.issuer + "/.well-known/openid-configuration").json(t)["userinfo_endpoint"]; ok {
		t.Error("userinfo_endpoint advertised")
	}
}

func TestNoDeviceFlowRefusesGrant(t *testing.T) {
	e := newEnv(t, Options{NoDeviceFlow: true})
	if r := e.post("/device/code", url.Values{"scope": {"documents.read"}}, publicAuth); r.status != http.StatusNotFound {
		t.Errorf("device/code: %d %s, want 404", r.status, r.body)
	}
	r := e.post("/token", url.Values{"grant_type": {grantDevice}, "device_code": {"x"}}, publicAuth)
	if r.oauthErr() != "unsupported_grant_type" {
		t.Errorf("device grant: %d %s", r.status, r.body)
	}
}

func TestGrantTypesSupportedAndRefreshGrant(t *testing.T) {
	e := newEnv(t, Options{GrantTypesSupported: []string{grantAuthCode, grantDevice}})
	doc := e.get(e.issuer + "/.well-known/oauth-authorization-server").json(t)
	if d := cmp.Diff([]any{grantAuthCode, grantDevice}, doc["grant_types_supported"]); d != "" {
		t.Errorf("grant_types_supported (-want +got):\n%s", d)
	}
	// A client registered without refresh_token gets refresh tokens it may
	// not use (unauthorized_client), as strict servers do.
	without := auth{id: e.registerJSON(`{"grant_types":["urn:ietf:params:oauth:grant-type:device_code"],"response_types":[],"token_endpoint_auth_method":"none","application_type":"native"}`)["client_id"].(string)}
	with := auth{id: e.registerJSON(`{"grant_types":["urn:ietf:params:oauth:grant-type:device_code","refresh_token"],"response_types":[],"token_endpoint_auth_method":"none","application_type":"native"}`)["client_id"].(string)}
	for _, tc := range []struct {
		a    auth
		want string
	}{{without, "unauthorized_client"}, {with, ""}} {
		tok := e.deviceToken(tc.a, "documents.read offline_access", "alice")
		r := e.post("/token", url.Values{"grant_type": {grantRefresh}, "refresh_token": {tok["refresh_token"].(string)}}, tc.a)
		if r.oauthErr() != tc.want {
			t.Errorf("refresh for %s: %d %s, want %q", tc.a.id, r.status, r.body, tc.want)
		}
	}
	got := map[string][]string{}
	for _, c := range e.s.RegisteredClients() {
		got[c.ID] = c.GrantTypes
	}
	want := map[string][]string{without.id: {grantDevice}, with.id: {grantDevice, grantRefresh}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("RegisteredClients (-want +got):\n%s", d)
	}
}

func TestRequireResource(t *testing.T) {
	e := newEnv(t, Options{RequireResource: true, AutoApprove: time.Second})
	res := e.api
	if e.s.ResourceURL() != res {
		t.Fatalf("ResourceURL %q, want %q", e.s.ResourceURL(), res)
	}
	if got := e.get(e.api + "/.well-known/oauth-protected-resource").json(t)["resource"]; got != res {
		t.Errorf("RFC 9728 resource %v", got)
	}
	withRes := func(v url.Values, r string) url.Values { v.Set("resource", r); return v }

	// Device authorization and token requests.
	for _, tc := range []struct{ resource, want string }{{"", "invalid_target"}, {"http://other.example", "invalid_target"}, {res, ""}} {
		v := url.Values{"scope": {"documents.read offline_access"}}
		if tc.resource != "" {
			v.Set("resource", tc.resource)
		}
		if r := e.post("/device/code", v, publicAuth); r.oauthErr() != tc.want {
			t.Errorf("device/code resource %q: %d %s, want %q", tc.resource, r.status, r.body, tc.want)
		}
	}
	if got, sent := e.s.LastResource("device/code"); got != res || !sent {
		t.Errorf("LastResource(device/code) = %q, %v", got, sent)
	}
	dc, uc := e.deviceAuthValues(withRes(url.Values{"scope": {"documents.read offline_access"}}, res))
	_ = uc
	if r := e.post("/token", url.Values{"grant_type": {grantDevice}, "device_code": {dc}}, publicAuth); r.oauthErr() != "invalid_target" {
		t.Errorf("device token without resource: %d %s", r.status, r.body)
	}
	e.clock.Advance(10 * time.Second)
	r := e.post("/token", withRes(url.Values{"grant_type": {grantDevice}, "device_code": {dc}}, res), publicAuth)
	if r.status != 200 {
		t.Fatalf("device token with resource: %d %s", r.status, r.body)
	}
	tok := r.json(t)
	if st := e.meStatus(tok["access_token"].(string)); st != 200 {
		t.Errorf("/v1/me with a bound token: %d", st)
	}

	// Refresh.
	rt := tok["refresh_token"].(string)
	if r := e.post("/token", url.Values{"grant_type": {grantRefresh}, "refresh_token": {rt}}, publicAuth); r.oauthErr() != "invalid_target" {
		t.Errorf("refresh without resource: %d %s", r.status, r.body)
	}
	if _, sent := e.s.LastResource("token:refresh_token"); sent {
		t.Error("LastResource(token:refresh_token) says sent")
	}
	if r := e.post("/token", withRes(url.Values{"grant_type": {grantRefresh}, "refresh_token": {rt}}, res), publicAuth); r.status != 200 {
		t.Errorf("refresh with resource: %d %s", r.status, r.body)
	}

	// Authorization request.
	id := e.registerJSON(nativeWithPort)["client_id"].(string)
	_, q := locationQuery(t, e.get(authorizeURL(e, id, "http://127.0.0.1:5000/callback")))
	if q.Get("error") != "invalid_target" {
		t.Errorf("authorize without resource: %v", q)
	}
	_, q = locationQuery(t, e.get(authorizeURL(e, id, "http://127.0.0.1:5000/callback", "resource", res)))
	if q.Get("code") == "" {
		t.Errorf("authorize with resource: %v", q)
	}
	if got, sent := e.s.LastResource("authorize"); got != res || !sent {
		t.Errorf("LastResource(authorize) = %q, %v", got, sent)
	}
	var seen map[string]resourceSeen
	if err := json.Unmarshal([]byte(e.get(e.issuer+"/debug/resources").body), &seen); err != nil || !seen["authorize"].Sent {
		t.Errorf("/debug/resources: %v %v", seen, err)
	}
}

// deviceAuthValues starts a device authorization with form values.
func (e *env) deviceAuthValues(v url.Values) (deviceCode, userCode string) {
	e.t.Helper()
	r := e.post("/device/code", v, publicAuth)
	if r.status != http.StatusOK {
		e.t.Fatalf("device/code: %d %s", r.status, r.body)
	}
	m := r.json(e.t)
	return m["device_code"].(string), m["user_code"].(string)
}

func TestRequireResourceRejectsUnboundToken(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.deviceToken(publicAuth, "documents.read", "alice")["access_token"].(string)
	e.s.opts.RequireResource = true // the server became strict
	r := e.apiReq(http.MethodGet, "/v1/me", tok, "")
	if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("unbound token: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
}

func TestResourceHostMismatch(t *testing.T) {
	e := newEnv(t, Options{ResourceHost: "localhost"})
	want := strings.Replace(e.api, "127.0.0.1", "localhost", 1)
	if got := e.get(e.api + "/.well-known/oauth-protected-resource").json(t)["resource"]; got != want {
		t.Errorf("resource %v, want %s", got, want)
	}
	// The URL the client asked about is not the resource.
	if r := e.post("/device/code", url.Values{"resource": {e.api}}, publicAuth); r.oauthErr() != "invalid_target" {
		t.Errorf("device/code with the asked URL: %d %s", r.status, r.body)
	}
	if e2 := newEnv(t, Options{Resource: "https://api.example/mcp"}); e2.s.ResourceURL() != "https://api.example/mcp" {
		t.Errorf("Resource option ignored: %s", e2.s.ResourceURL())
	}
}

func TestClientConfigurationRFC7592(t *testing.T) {
	e := newEnv(t, Options{ExactRedirect: true, AutoApprove: time.Second})
	reg := e.registerJSON(nativeWithPort)
	id, tok, uri := reg["client_id"].(string), reg["registration_access_token"].(string), reg["registration_client_uri"].(string)
	if uri != e.issuer+"/register/"+id {
		t.Errorf("registration_client_uri %q", uri)
	}
	call := func(method, token, body string) result {
		req, _ := http.NewRequest(method, uri, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		return e.do(req)
	}
	if r := call(http.MethodGet, "wrong", ""); r.status != http.StatusUnauthorized {
		t.Errorf("GET with a wrong token: %d", r.status)
	}
	if r := call(http.MethodGet, tok, ""); r.status != 200 || r.json(t)["client_id"] != id {
		t.Errorf("GET: %d %s", r.status, r.body)
	}
	put := strings.Replace(nativeWithPort, "5000", "6000", 1)
	if r := call(http.MethodPut, tok, put); r.status != 200 {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	if d := cmp.Diff([]string{"http://127.0.0.1:6000/callback"}, e.s.RegisteredClients()[0].RedirectURIs); d != "" {
		t.Errorf("redirect URIs after PUT (-want +got):\n%s", d)
	}
	if _, q := locationQuery(t, e.get(authorizeURL(e, id, "http://127.0.0.1:6000/callback"))); q.Get("code") == "" {
		t.Errorf("authorize on the new port: %v", q)
	}
	if r := call(http.MethodDelete, tok, ""); r.status != http.StatusNoContent {
		t.Errorf("DELETE: %d", r.status)
	}
	if len(e.s.RegisteredClients()) != 0 {
		t.Error("client still registered after DELETE")
	}
}

func TestIDToken(t *testing.T) {
	e := newEnv(t, Options{IDToken: true})
	doc := e.get(e.issuer + "/.well-known/openid-configuration").json(t)
	if doc["jwks_uri"] != e.issuer+"/jwks" {
		t.Fatalf("jwks_uri %v", doc["jwks_uri"])
	}
	if tok := e.deviceToken(publicAuth, "documents.read", "alice"); tok["id_token"] != nil {
		t.Error("id_token without openid")
	}
	idt := e.deviceToken(publicAuth, "openid documents.read", "alice")["id_token"].(string)
	parts := strings.Split(idt, ".")
	if len(parts) != 3 {
		t.Fatalf("id_token has %d parts", len(parts))
	}
	var jwks struct {
		Keys []struct{ X, Y string } `json:"keys"`
	}
	if err := json.Unmarshal([]byte(e.get(e.issuer+"/jwks").body), &jwks); err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("jwks: %v %v", jwks, err)
	}
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(dec(jwks.Keys[0].X)), Y: new(big.Int).SetBytes(dec(jwks.Keys[0].Y))}
	sig := dec(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("id_token signature does not verify")
	}
	var claims map[string]any
	if err := json.Unmarshal(dec(parts[1]), &claims); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"iss": e.issuer, "sub": "alice", "aud": publicID, "email": "alice@example.com", "name": "Alice", "preferred_username": "alice"}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
}
