package httpx_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-cli/sesame/internal/httpx"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func get(t *testing.T, c *http.Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sesame_live_secret")
	resp, err := c.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func TestUserAgent(t *testing.T) {
	uas := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { uas <- r.Header.Get("User-Agent") }))
	defer srv.Close()
	c := httpx.NewClient(httpx.Options{UserAgent: "sesame/1.2.3"})
	if _, err := get(t, c, srv.URL); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("User-Agent", "caller/1")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if diff := cmp.Diff([]string{"sesame/1.2.3", "caller/1"}, []string{<-uas, <-uas}); diff != "" {
		t.Errorf("User-Agent (-want +got):\n%s", diff)
	}
}

// The whole-request timeout fires on a server that never answers, and
// Failed names it "timed out", with or without an operation.
func TestTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	c := httpx.NewClient(httpx.Options{Timeout: 100 * time.Millisecond})
	ctx := context.Background()
	_, err := get(t, c, srv.URL+"/v1/me")
	if err == nil {
		t.Fatal("no error from a server that never answers")
	}
	for _, op := range []string{"", "refresh"} {
		got := httpx.Failed(ctx, httpx.API, op, srv.URL+"/v1/me", err)
		ne, ok := errors.AsType[*httpx.NetworkError](got)
		if !ok {
			t.Fatalf("op %q: %T %v, want a NetworkError", op, got, got)
		}
		if _, ok := errors.AsType[*httpx.TimeoutError](got); !ok {
			t.Errorf("op %q: %v does not wrap a TimeoutError", op, got)
		}
		if ne.URL != srv.URL || !strings.HasSuffix(got.Error(), ": timed out") {
			t.Errorf("op %q: %q (URL %q), want it to end in \": timed out\"", op, got, ne.URL)
		}
	}
}

func TestFailed(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	if got := httpx.Failed(ctx, httpx.API, "", "https://api.example.com/x", netErr); got != context.Canceled {
		t.Errorf("canceled, no op: %v, want context.Canceled", got)
	}
	if got := httpx.Failed(ctx, httpx.Issuer, "refresh", "https://id.example.com/token", netErr); !errors.Is(got, context.Canceled) || got.Error() != "refresh: context canceled" {
		t.Errorf("canceled, op: %v, want \"refresh: context canceled\"", got)
	}
	got := httpx.Failed(context.Background(), httpx.API, "", "https://api.example.com/v1/me?x=1", netErr)
	if want := "cannot reach https://api.example.com: dial tcp: connection refused"; got.Error() != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A CONNECT proxy (logging the targets it saw) in front of an httptest TLS
// server whose certificate is valid for example.com.
type proxyLab struct {
	mu       sync.Mutex
	seen     []string // "CONNECT host:port" or "GET absolute-URL"
	proxyURL string
	caFile   string
}

func (l *proxyLab) saw() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen...)
}

func startProxyLab(t *testing.T) *proxyLab {
	t.Helper()
	l := &proxyLab{}
	api := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	api.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	api.StartTLS()
	t.Cleanup(api.Close)
	l.caFile = filepath.Join(t.TempDir(), "ca.pem")
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw})
	if err := os.WriteFile(l.caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		if r.Method == http.MethodConnect {
			l.seen = append(l.seen, "CONNECT "+r.Host)
		} else {
			l.seen = append(l.seen, r.Method+" "+r.URL.String())
		}
		l.mu.Unlock()
		if r.Method != http.MethodConnect {
			_, _ = io.WriteString(w, "proxied")
			return
		}
		upstream, err := net.Dial("tcp", api.Listener.Addr().String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer upstream.Close()
		w.WriteHeader(http.StatusOK)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		go func() {
			_, _ = io.Copy(upstream, buf)
			if c, ok := upstream.(*net.TCPConn); ok {
				_ = c.CloseWrite()
			}
		}()
		_, _ = io.Copy(conn, upstream)
	}))
	t.Cleanup(func() {
		proxy.CloseClientConnections()
		proxy.Close()
	})
	l.proxyURL = proxy.URL
	return l
}

// The proxy and CA variables are read through Getenv (never the process
// environment): HTTPS_PROXY tunnels, HTTP_PROXY forwards, NO_PROXY goes
// direct, SSL_CERT_FILE is the only trusted root and a bad one fails every
// request with a clear error.
func TestProxyAndCA(t *testing.T) {
	lab := startProxyLab(t)
	dir := t.TempDir()
	noPEM := filepath.Join(dir, "no-pem.pem")
	if err := os.WriteFile(noPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A 64-character label: every resolver refuses it at once.
	long := strings.Repeat("a", 64) + ".test"
	tests := []struct {
		name     string
		env      map[string]string
		url      string
		wantErr  string // "" = 200
		wantSeen []string
	}{
		{"HTTPS_PROXY and SSL_CERT_FILE", map[string]string{"HTTPS_PROXY": lab.proxyURL, "SSL_CERT_FILE": lab.caFile}, "https://example.com/v1/me", "", []string{"CONNECT example.com:443"}},
		{"lower-case https_proxy", map[string]string{"https_proxy": lab.proxyURL, "SSL_CERT_FILE": lab.caFile}, "https://example.com/v1/me", "", []string{"CONNECT example.com:443"}},
		{"HTTP_PROXY forwards plain http", map[string]string{"HTTP_PROXY": lab.proxyURL}, "http://example.com/v1/me", "", []string{"GET http://example.com/v1/me"}},
		{"HTTP_PROXY is not used for https", map[string]string{"HTTP_PROXY": lab.proxyURL, "SSL_CERT_FILE": lab.caFile}, "https://" + long + "/v1/me", "no such host", nil},
		{"without the CA the certificate is refused", map[string]string{"HTTPS_PROXY": lab.proxyURL}, "https://example.com/v1/me", "certificate signed by unknown authority", []string{"CONNECT example.com:443"}},
		{"a file without PEM fails every request", map[string]string{"HTTPS_PROXY": lab.proxyURL, "SSL_CERT_FILE": noPEM}, "https://example.com/v1/me", "SSL_CERT_FILE " + noPEM + ": no PEM certificate in it", nil},
		{"a missing file fails every request", map[string]string{"HTTPS_PROXY": lab.proxyURL, "SSL_CERT_FILE": noPEM + ".nope"}, "https://example.com/v1/me", "SSL_CERT_FILE " + noPEM + ".nope: cannot read it", nil},
		{"a directory fails every request", map[string]string{"HTTPS_PROXY": lab.proxyURL, "SSL_CERT_FILE": dir}, "https://example.com/v1/me", "SSL_CERT_FILE " + dir + ": not a regular file", nil},
		{"a bad CA fails plain http too", map[string]string{"HTTP_PROXY": lab.proxyURL, "SSL_CERT_FILE": dir}, "http://example.com/v1/me", "not a regular file", nil},
		{"NO_PROXY goes direct", map[string]string{"HTTPS_PROXY": lab.proxyURL, "SSL_CERT_FILE": lab.caFile, "NO_PROXY": "example.org," + long}, "https://" + long + "/v1/me", "no such host", nil},
		{"NO_PROXY for another host", map[string]string{"HTTPS_PROXY": lab.proxyURL, "SSL_CERT_FILE": lab.caFile, "NO_PROXY": "example.org"}, "https://example.com/v1/me", "", []string{"CONNECT example.com:443"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(lab.saw())
			c := httpx.NewClient(httpx.Options{Getenv: envOf(tt.env), Timeout: 5 * time.Second})
			resp, err := get(t, c, tt.url)
			switch {
			case tt.wantErr == "" && (err != nil || resp.StatusCode != 200):
				t.Fatalf("GET %s: %v %v", tt.url, resp, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("GET %s: error %v, want %q", tt.url, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantSeen, lab.saw()[before:], cmpEmpty); diff != "" {
				t.Errorf("the proxy saw (-want +got):\n%s", diff)
			}
		})
	}
}

var cmpEmpty = cmp.Transformer("nilEmpty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

// redirects serves /hop/N → /hop/N-1 … /hop/0 (200), and /to?u=URL → URL.
func redirects(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/to":
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	case r.URL.Path == "/hop/0":
		_, _ = io.WriteString(w, "arrived")
	case strings.HasPrefix(r.URL.Path, "/hop/"):
		n := strings.TrimPrefix(r.URL.Path, "/hop/")
		http.Redirect(w, r, "/hop/"+string(rune(n[0]-1)), http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

// The one redirect policy, on real servers: same-host GETs are followed (at
// most 4 hops), another host, https → http and a 5th hop are refused with
// a RedirectError, a POST is never followed.
func TestCheckRedirect(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(redirects))
	defer plain.Close()
	other := httptest.NewServer(http.HandlerFunc(redirects))
	defer other.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(redirects))
	defer tlsSrv.Close()
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	httpOfTLS := "http://" + tlsSrv.Listener.Addr().String() + "/hop/0"

	tests := []struct {
		name       string
		client     *http.Client
		method     string
		url        string
		wantStatus int
		wantErr    string // "" = no error
	}{
		{"same host, GET", plain.Client(), http.MethodGet, plain.URL + "/to?u=/hop/0", 200, ""},
		{"same host, HEAD", plain.Client(), http.MethodHead, plain.URL + "/to?u=/hop/0", 200, ""},
		{"four hops", plain.Client(), http.MethodGet, plain.URL + "/hop/4", 200, ""},
		{"five hops", plain.Client(), http.MethodGet, plain.URL + "/hop/5", 0, "too many redirects"},
		{"another host", plain.Client(), http.MethodGet, plain.URL + "/to?u=" + other.URL + "/hop/0", 0, "redirected to another host (" + other.Listener.Addr().String() + ")"},
		{"https to http", tlsSrv.Client(), http.MethodGet, tlsSrv.URL + "/to?u=" + httpOfTLS, 0, "redirected from https to http"},
		{"POST is not followed", plain.Client(), http.MethodPost, plain.URL + "/to?u=/hop/0", http.StatusFound, ""},
		{"POST to another host is not followed", plain.Client(), http.MethodPost, plain.URL + "/to?u=" + other.URL + "/hop/0", http.StatusFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := httpx.NewClient(httpx.Options{Base: tt.client.Transport, Timeout: 5 * time.Second})
			req, _ := http.NewRequest(tt.method, tt.url, nil)
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			if tt.wantErr != "" {
				var re *httpx.RedirectError
				if err == nil || !errors.As(err, &re) || !errors.Is(err, httpx.ErrRedirect) || !strings.HasSuffix(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want a RedirectError %q", err, tt.wantErr)
				}
				got := httpx.Failed(context.Background(), httpx.API, "", tt.url, err)
				if _, ok := errors.AsType[*httpx.NetworkError](got); !ok || !errors.Is(got, httpx.ErrRedirect) || !strings.HasPrefix(got.Error(), "cannot reach ") {
					t.Errorf("Failed: %T %q, want a NetworkError that is ErrRedirect", got, got)
				}
				return
			}
			if err != nil || resp.StatusCode != tt.wantStatus {
				t.Fatalf("%s %s: %v %v, want HTTP %d", tt.method, tt.url, resp, err, tt.wantStatus)
			}
		})
	}
}

// recordingTransport is an in-memory transport that records requests.
type recordingTransport struct {
	mu   sync.Mutex
	seen []string // "URL auth=yes|no"
	h    http.Handler
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	auth := "no"
	if r.Header.Get("Authorization") != "" {
		auth = "yes"
	}
	rt.seen = append(rt.seen, r.URL.String()+" auth="+auth)
	rt.mu.Unlock()
	rec := httptest.NewRecorder()
	rt.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// The token never follows a redirect to another host (or port) nor from
// https to http on the same host (Go would forward Authorization there in
// clear). Moved from internal/cli (TestHTTPClientRedirectPolicy).
func TestRedirectKeepsTheToken(t *testing.T) {
	tests := []struct {
		name     string
		location string
		wantErr  string
		wantSeen []string
	}{
		{"same host, same scheme", "https://api.example.com/v2/me", "", []string{"https://api.example.com/v1/me auth=yes", "https://api.example.com/v2/me auth=yes"}},
		{"another host", "https://evil.example.com/v1/me", "redirected to another host (evil.example.com)", []string{"https://api.example.com/v1/me auth=yes"}},
		{"another port", "https://api.example.com:8443/v1/me", "redirected to another host (api.example.com:8443)", []string{"https://api.example.com/v1/me auth=yes"}},
		{"https to http on the same host", "http://api.example.com/v1/me", "redirected from https to http", []string{"https://api.example.com/v1/me auth=yes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := &recordingTransport{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v1/me" && r.URL.Host == "api.example.com" && r.URL.Scheme == "https" {
					http.Redirect(w, r, tt.location, http.StatusFound)
					return
				}
				_, _ = io.WriteString(w, `{"email":"a@example.com"}`)
			})}
			c := httpx.NewClient(httpx.Options{Base: rt})
			resp, err := get(t, c, "https://api.example.com/v1/me")
			_ = resp
			if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantSeen, rt.seen); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// The Debug trace masks the bearer token, a redirect's code, cookies and
// never shows a body. Moved from internal/cli
// (TestHTTPClientDebugTraceMasksSecrets).
func TestDebugTraceMasksSecrets(t *testing.T) {
	rt := &recordingTransport{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "/cb?code=the-auth-code&state=s#access_token=frag-token", http.StatusFound)
			return
		}
		w.Header().Set("Set-Cookie", "session=cookie-secret")
		_, _ = io.WriteString(w, `{"access_token":"body-token"}`)
	})}
	var trace bytes.Buffer
	c := httpx.NewClient(httpx.Options{Base: rt, Debug: &trace, Now: time.Now})
	req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/start?token=query-token", nil)
	req.Header.Set("Authorization", "Bearer header-token")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out := trace.String()
	for _, s := range []string{"the-auth-code", "frag-token", "cookie-secret", "body-token", "query-token", "header-token"} {
		if strings.Contains(out, s) {
			t.Errorf("the trace shows %s:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "> Authorization: Bearer ***") || !strings.Contains(out, "< Location: /cb?code=%2A%2A%2A") {
		t.Errorf("trace:\n%s", out)
	}
}

func TestParseTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{"30s": 30 * time.Second, "5": 5 * time.Second, "1m": time.Minute, "0": 0, "-1s": 0, "x": 0, "": 0} {
		got, ok := httpx.ParseTimeout(in)
		if got != want || ok != (want != 0) {
			t.Errorf("ParseTimeout(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
}
