package devissuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

const (
	publicID = "cli"
	confID   = "svc"
	confSec  = "s3cr:t /+%" // exercises the form-urlencoding of Basic credentials
)

// clock is a settable time source for tests that do not run in a synctest
// bubble.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func allGrants() []string {
	return []string{grantClientCreds, grantDevice, grantAuthCode, grantRefresh}
}

// defaultClients is a public CLI client, a confidential service client and a
// device-only client without client credentials.
func defaultClients() []Client {
	return []Client{
		{ID: publicID, Name: "Sesame CLI", GrantTypes: []string{grantDevice, grantAuthCode, grantRefresh}},
		{ID: confID, Secret: confSec, Name: "Nightly job", GrantTypes: allGrants(), Scopes: []string{"documents.read", "documents.write"}},
		{ID: "ccless", Secret: "x", Name: "No CC", GrantTypes: []string{grantAuthCode}},
	}
}

// env is a Server behind two httptest servers.
type env struct {
	t      *testing.T
	s      *Server
	clock  *clock
	issuer string
	api    string
	hc     *http.Client // does not follow redirects
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	c := newClock()
	if opts.Now == nil {
		opts.Now = c.Now
	}
	if opts.Clients == nil {
		opts.Clients = defaultClients()
	}
	s := New(opts)
	is := httptest.NewServer(s.IssuerHandler())
	t.Cleanup(is.Close)
	as := httptest.NewServer(s.APIHandler())
	t.Cleanup(as.Close)
	s.SetIssuerURL(is.URL + "/")
	s.SetAPIURL(as.URL)
	return &env{
		t: t, s: s, clock: c, issuer: is.URL, api: as.URL,
		hc: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
}

type result struct {
	status int
	header http.Header
	body   string
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// oauthErr is the RFC 6749 error code of a response, or "" on success.
func (r result) oauthErr() string {
	if r.status < 400 {
		return ""
	}
	var m struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal([]byte(r.body), &m)
	return m.Error
}

func (e *env) do(req *http.Request) result {
	e.t.Helper()
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (e *env) get(u string, header ...string) result {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(req)
}

// auth is how a form request authenticates its client.
type auth struct {
	id, secret string
	basic      bool
}

var (
	publicAuth = auth{id: publicID}
	basicAuth  = auth{id: confID, secret: confSec, basic: true}
	postAuth   = auth{id: confID, secret: confSec}
)

func (e *env) post(path string, form url.Values, a auth) result {
	e.t.Helper()
	form = cloneValues(form)
	if !a.basic && a.id != "" {
		form.Set("client_id", a.id)
		if a.secret != "" {
			form.Set("client_secret", a.secret)
		}
	}
	req, err := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if a.basic { // RFC 6749 2.3.1: form-urlencode, then Basic
		req.SetBasicAuth(url.QueryEscape(a.id), url.QueryEscape(a.secret))
	}
	return e.do(req)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func (e *env) apiReq(method, path, token, body string) result {
	e.t.Helper()
	req, err := http.NewRequest(method, e.api+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.do(req)
}

// meStatus is the status of GET /v1/me with token.
func (e *env) meStatus(token string) int {
	e.t.Helper()
	return e.apiReq(http.MethodGet, "/v1/me", token, "").status
}

// deviceAuth starts a device authorization for the client.
func (e *env) deviceAuth(a auth, scope string) (deviceCode, userCode string) {
	e.t.Helper()
	r := e.post("/device/code", url.Values{"scope": {scope}}, a)
	if r.status != http.StatusOK {
		e.t.Fatalf("device/code: %d %s", r.status, r.body)
	}
	m := r.json(e.t)
	return m["device_code"].(string), m["user_code"].(string)
}

func (e *env) pollDevice(a auth, deviceCode string) result {
	e.t.Helper()
	return e.post("/token", url.Values{"grant_type": {grantDevice}, "device_code": {deviceCode}}, a)
}

// deviceToken runs a device flow approved by user and returns the token
// response.
func (e *env) deviceToken(a auth, scope, user string) map[string]any {
	e.t.Helper()
	dc, uc := e.deviceAuth(a, scope)
	if err := e.s.Approve(uc, user); err != nil {
		e.t.Fatal(err)
	}
	r := e.pollDevice(a, dc)
	if r.status != http.StatusOK {
		e.t.Fatalf("device token: %d %s", r.status, r.body)
	}
	return r.json(e.t)
}

// oauthConfig is an x/oauth2 config for the public client.
func (e *env) oauthConfig(scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: publicID,
		Scopes:   scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:       e.issuer + "/authorize",
			TokenURL:      e.issuer + "/token",
			DeviceAuthURL: e.issuer + "/device/code",
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		RedirectURL: "http://127.0.0.1:9999/callback",
	}
}

func oauthErrorCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return fmt.Sprintf("not a RetrieveError: %v", err)
}

// memTransport serves requests in memory, for synctest bubbles where
// httptest servers do not work: host issuer.test is the issuer, api.test the API.
type memTransport struct{ s *Server }

func (m memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var h http.Handler
	switch req.URL.Host {
	case "issuer.test":
		h = m.s.IssuerHandler()
	case "api.test":
		h = m.s.APIHandler()
	default:
		return nil, fmt.Errorf("no host %q", req.URL.Host)
	}
	sreq := req.Clone(req.Context())
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, sreq)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// memServer is a Server for synctest bubbles and a client context for x/oauth2.
func memServer(t *testing.T, opts Options) (*Server, context.Context, *http.Client) {
	if opts.Clients == nil {
		opts.Clients = defaultClients()
	}
	s := New(opts)
	s.SetIssuerURL("http://issuer.test")
	s.SetAPIURL("http://api.test")
	hc := &http.Client{Transport: memTransport{s}}
	return s, context.WithValue(t.Context(), oauth2.HTTPClient, hc), hc
}

func memConfig(scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: publicID,
		Scopes:   scopes,
		Endpoint: oauth2.Endpoint{
			TokenURL:      "http://issuer.test/token",
			DeviceAuthURL: "http://issuer.test/device/code",
			AuthStyle:     oauth2.AuthStyleInParams,
		},
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
