package oauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

const authCodeSecret = "AUTH-CODE-secret-value"

// fakeAS is an authorization server for WebLogin: /authorize redirects to the
// loopback redirect_uri the way the mode says; /token checks PKCE.
type fakeAS struct {
	t          *testing.T
	srv        *httptest.Server
	mode       string // "ok", "wrong-state", "denied", "wrong-iss", "bad-exchange"
	mu         sync.Mutex
	authQuery  url.Values
	challenge  string
	verifier   string
	tokenCalls atomic.Int32
}

func newFakeAS(t *testing.T, mode string) *fakeAS {
	as := &fakeAS{t: t, mode: mode}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", as.authorize)
	mux.HandleFunc("POST /token", as.token)
	as.srv = httptest.NewServer(mux)
	t.Cleanup(as.srv.Close)
	return as
}

func (as *fakeAS) app(scopes ...string) App {
	return App{
		Metadata: &Metadata{Issuer: as.srv.URL, AuthorizationEndpoint: as.srv.URL + "/authorize?tenant=t1", TokenEndpoint: as.srv.URL + "/token"},
		ClientID: "web-client",
		Scopes:   scopes,
	}
}

func (as *fakeAS) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	as.mu.Lock()
	as.authQuery = q
	as.challenge = q.Get("code_challenge")
	as.mu.Unlock()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := url.Values{"state": {q.Get("state")}}
	switch as.mode {
	case "ok", "bad-exchange":
		v.Set("code", authCodeSecret)
		v.Set("iss", as.srv.URL)
	case "wrong-state":
		v.Set("code", authCodeSecret)
		v.Set("state", "forged")
	case "wrong-iss":
		v.Set("code", authCodeSecret)
		v.Set("iss", "https://evil.example.com")
	case "denied":
		v.Set("error", "access_denied")
		v.Set("error_description", `The user <script>alert(1)</script> denied "it"`)
	}
	redirect.RawQuery = v.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (as *fakeAS) token(w http.ResponseWriter, r *http.Request) {
	as.tokenCalls.Add(1)
	f := form(as.t, r)
	as.mu.Lock()
	challenge, authQuery := as.challenge, as.authQuery
	as.verifier = f.Get("code_verifier")
	as.mu.Unlock()
	switch {
	case as.mode == "bad-exchange":
		writeJSON(w, 400, map[string]any{"error": "invalid_grant", "error_description": "code " + authCodeSecret + " is <b>spent</b>"})
	case f.Get("grant_type") != "authorization_code", f.Get("code") != authCodeSecret, f.Get("client_id") != "web-client",
		f.Get("redirect_uri") != authQuery.Get("redirect_uri"), r.Header.Get("Authorization") != "":
		writeJSON(w, 400, map[string]any{"error": "invalid_request", "error_description": "unexpected token request"})
	case oauth2.S256ChallengeFromVerifier(f.Get("code_verifier")) != challenge:
		writeJSON(w, 400, map[string]any{"error": "invalid_grant", "error_description": "PKCE verification failed"})
	default:
		writeJSON(w, 200, map[string]any{"access_token": "at-web", "refresh_token": "rt-web", "token_type": "Bearer", "expires_in": 3600, "scope": "docs.read"})
	}
}

// browser follows the authorization URL to the loopback callback, as a
// browser would, and keeps the final page.
type browser struct {
	t        *testing.T
	before   func(redirectBase string) // runs against the callback server before the real visit
	status   int
	page     string
	authURL  string
	callback *url.URL
}

func (b *browser) open(authURL string) error {
	b.authURL = authURL
	u, _ := url.Parse(authURL)
	redirect, _ := url.Parse(u.Query().Get("redirect_uri"))
	if b.before != nil {
		b.before("http://" + redirect.Host)
	}
	hc := &http.Client{CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		b.callback = r.URL
		return nil
	}}
	resp, err := hc.Get(authURL)
	if err != nil {
		b.t.Errorf("browser: %v", err)
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.status, b.page = resp.StatusCode, string(body)
	return nil
}

func TestWebLogin(t *testing.T) {
	tests := []struct {
		name       string
		mode       string
		scopes     []string
		want       *tokenView
		wantPage   []string
		wantStatus int
		wantCalls  int32
		timeout    time.Duration // 0: a minute
		check      errCheck
	}{
		{
			name:       "success with offline_access sends prompt=consent",
			mode:       "ok",
			scopes:     []string{"docs.read", "offline_access"},
			want:       &tokenView{AccessToken: "at-web", RefreshToken: "rt-web", TokenType: "Bearer", Scopes: []string{"docs.read"}},
			wantPage:   []string{"You are logged in. You can close this tab."},
			wantStatus: 200,
			wantCalls:  1,
		},
		{
			name:       "success without offline_access",
			mode:       "ok",
			scopes:     []string{"docs.read"},
			want:       &tokenView{AccessToken: "at-web", RefreshToken: "rt-web", TokenType: "Bearer", Scopes: []string{"docs.read"}},
			wantPage:   []string{"You are logged in."},
			wantStatus: 200,
			wantCalls:  1,
		},
		{
			name:       "wrong state: nothing exchanged, refused until the timeout",
			mode:       "wrong-state",
			timeout:    300 * time.Millisecond,
			wantPage:   []string{"state parameter did not match", "still waiting"},
			wantStatus: 400,
			check:      wantIs(ErrStateMismatch),
		},
		{
			name:       "iss of another issuer: nothing exchanged",
			mode:       "wrong-iss",
			wantPage:   []string{"another authorization server"},
			wantStatus: 400,
			check:      wantIs(ErrIssuerMismatch),
		},
		{
			name:       "access_denied, escaped on the page",
			mode:       "denied",
			wantPage:   []string{"Login failed", "access_denied", "&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;it&#34;"},
			wantStatus: 200,
			check: func(t *testing.T, err error) {
				wantOAuthError("access_denied")(t, err)
				if diff := cmp.Diff(`web login: access_denied: The user <script>alert(1)</script> denied "it"`, err.Error()); diff != "" {
					t.Errorf("error text (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:       "exchange rejected",
			mode:       "bad-exchange",
			wantPage:   []string{"Login failed", "invalid_grant", "&lt;b&gt;spent&lt;/b&gt;"},
			wantStatus: 200,
			wantCalls:  1,
			check:      wantOAuthError("invalid_grant"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := newFakeAS(t, tt.mode)
			b := &browser{t: t, before: func(base string) {
				for path, want := range map[string]int{"/": 404, "/favicon.ico": 404, "/callback/x": 404, "/callback": 400} {
					resp, err := (&http.Client{}).Get(base + path)
					if err != nil {
						t.Errorf("GET %s: %v", path, err)
						continue
					}
					resp.Body.Close()
					if resp.StatusCode != want {
						t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
					}
				}
				resp, err := (&http.Client{}).Post(base+"/callback", "text/plain", nil)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusMethodNotAllowed {
						t.Errorf("POST /callback = %d, want 405", resp.StatusCode)
					}
				}
			}}
			c := &Client{HTTP: as.srv.Client()}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			tok, err := c.WebLogin(t.Context(), as.app(tt.scopes...), WebOptions{Open: b.open, Timeout: timeout})

			as.mu.Lock()
			q, verifier := as.authQuery, as.verifier
			as.mu.Unlock()
			noSecrets(t, err, authCodeSecret, verifier, q.Get("state"), "at-web", "rt-web")
			if n := as.tokenCalls.Load(); n != tt.wantCalls {
				t.Errorf("token endpoint called %d times, want %d", n, tt.wantCalls)
			}
			if b.status != tt.wantStatus {
				t.Errorf("page status %d, want %d", b.status, tt.wantStatus)
			}
			for _, s := range tt.wantPage {
				if !strings.Contains(b.page, s) {
					t.Errorf("page does not contain %q:\n%s", s, b.page)
				}
			}
			for _, s := range []string{"<script", "src=", "href="} {
				if strings.Contains(b.page, s) {
					t.Errorf("page contains %q (must be self-contained and escaped):\n%s", s, b.page)
				}
			}

			// The authorization request.
			redirect, _ := url.Parse(q.Get("redirect_uri"))
			if redirect == nil || redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1" || redirect.Port() == "" || redirect.Path != "/callback" {
				t.Errorf("redirect_uri = %q, want http://127.0.0.1:<port>/callback", q.Get("redirect_uri"))
			}
			wantQ := map[string]string{
				"response_type":         "code",
				"client_id":             "web-client",
				"code_challenge_method": "S256",
				"scope":                 strings.Join(tt.scopes, " "),
				"tenant":                "t1",
			}
			for k, v := range wantQ {
				if q.Get(k) != v {
					t.Errorf("authorization request %s = %q, want %q", k, q.Get(k), v)
				}
			}
			if st := q.Get("state"); len(st) != 43 {
				t.Errorf("state %q is not 32 bytes base64url", st)
			}
			if len(q.Get("code_challenge")) != 43 {
				t.Errorf("code_challenge %q is not an S256 challenge", q.Get("code_challenge"))
			}
			wantPrompt := ""
			for _, s := range tt.scopes {
				if s == "offline_access" {
					wantPrompt = "consent"
				}
			}
			if q.Get("prompt") != wantPrompt {
				t.Errorf("prompt = %q, want %q", q.Get("prompt"), wantPrompt)
			}

			// The listener is closed once WebLogin returned.
			if b.callback != nil {
				if resp, err := (&http.Client{}).Get(b.callback.String()); err == nil {
					resp.Body.Close()
					t.Errorf("callback server still answers after WebLogin returned")
				}
			}

			if tt.check != nil {
				tt.check(t, err)
				return
			}
			wantNoErr(t, err)
			if tok.Expiry.IsZero() {
				t.Errorf("token has no expiry")
			}
			tok.Expiry = time.Time{}
			if diff := cmp.Diff(tt.want, view(tok)); diff != "" {
				t.Errorf("token (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebLoginSecondCallbackIgnored(t *testing.T) {
	as := newFakeAS(t, "ok")
	var second int
	open := func(authURL string) error {
		b := &browser{t: t}
		_ = b.open(authURL)
		if resp, err := (&http.Client{}).Get(b.callback.String()); err == nil { // a reload
			second = resp.StatusCode
			resp.Body.Close()
		}
		return nil
	}
	_, err := (&Client{HTTP: as.srv.Client()}).WebLogin(t.Context(), as.app("docs.read"), WebOptions{Open: open, Timeout: time.Minute})
	wantNoErr(t, err)
	if second != http.StatusConflict {
		t.Errorf("second callback status %d, want %d", second, http.StatusConflict)
	}
	if n := as.tokenCalls.Load(); n != 1 {
		t.Errorf("token endpoint called %d times, want 1", n)
	}
}

func TestWebLoginTimeout(t *testing.T) {
	as := newFakeAS(t, "ok")
	opened := 0
	_, err := (&Client{HTTP: as.srv.Client()}).WebLogin(t.Context(), as.app("docs.read"), WebOptions{
		Open:    func(string) error { opened++; return nil },
		Timeout: 50 * time.Millisecond,
	})
	wantIs(ErrTimeout)(t, err)
	if opened != 1 {
		t.Errorf("Open called %d times, want 1", opened)
	}
}

func TestWebLoginCanceled(t *testing.T) {
	as := newFakeAS(t, "ok")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := (&Client{HTTP: as.srv.Client()}).WebLogin(ctx, as.app("docs.read"), WebOptions{
		Open: func(string) error { cancel(); return nil },
	})
	wantIs(context.Canceled)(t, err)
}

func TestWebLoginOpenFails(t *testing.T) {
	as := newFakeAS(t, "ok")
	boom := errors.New("no browser")
	_, err := (&Client{HTTP: as.srv.Client()}).WebLogin(t.Context(), as.app(), WebOptions{Open: func(string) error { return boom }})
	wantIs(boom)(t, err)
}

func TestWebLoginRefused(t *testing.T) {
	noAuth := App{Metadata: &Metadata{Issuer: "https://example.com", TokenEndpoint: "https://example.com/token"}, ClientID: "c"}
	httpAuth := App{Metadata: &Metadata{Issuer: "https://example.com", AuthorizationEndpoint: "http://example.com/authorize", TokenEndpoint: "https://example.com/token"}, ClientID: "c"}
	ok := App{Metadata: &Metadata{Issuer: "https://example.com", AuthorizationEndpoint: "https://example.com/authorize", TokenEndpoint: "https://example.com/token"}, ClientID: "c"}
	open := func(string) error { t.Error("Open called"); return nil }
	tests := []struct {
		name  string
		app   App
		opts  WebOptions
		check errCheck
	}{
		{"no authorization endpoint", noAuth, WebOptions{Open: open}, wantIs(ErrNotSupported)},
		{"http authorization endpoint", httpAuth, WebOptions{Open: open}, wantIs(ErrInsecureURL)},
		{"non-loopback listen address", ok, WebOptions{Open: open, Addr: "0.0.0.0:0"}, func(t *testing.T, err error) {
			if err == nil {
				t.Fatal("no error")
			}
		}},
		{"no Open", ok, WebOptions{}, func(t *testing.T, err error) {
			if err == nil {
				t.Fatal("no error")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&Client{HTTP: failingClient()}).WebLogin(t.Context(), tt.app, tt.opts)
			tt.check(t, err)
		})
	}
}

// A callback with another state (a forged or stale redirect) is refused
// with an error page, and the login keeps waiting: the right callback that
// comes after it still logs in (issue 14).
func TestWebLoginWrongStateKeepsWaiting(t *testing.T) {
	as := newFakeAS(t, "ok")
	var forged int
	b := &browser{t: t, before: func(base string) {
		resp, err := (&http.Client{}).Get(base + "/callback?code=forged-code&state=forged")
		if err != nil {
			t.Errorf("forged callback: %v", err)
			return
		}
		forged = resp.StatusCode
		resp.Body.Close()
	}}
	tok, err := (&Client{HTTP: as.srv.Client()}).WebLogin(t.Context(), as.app("docs.read"), WebOptions{Open: b.open, Timeout: time.Minute})
	wantNoErr(t, err)
	if forged != http.StatusBadRequest {
		t.Errorf("forged callback status %d, want 400", forged)
	}
	if tok.AccessToken != "at-web" {
		t.Errorf("token %q", tok.AccessToken)
	}
	if n := as.tokenCalls.Load(); n != 1 {
		t.Errorf("token endpoint called %d times, want 1 (the forged code never exchanged)", n)
	}
}
