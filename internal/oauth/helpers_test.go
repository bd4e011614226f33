package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/httpx"
	"golang.org/x/oauth2"
)

// roundTripFunc is an in-memory transport.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// handlerClient serves every request with h in memory (works inside a
// synctest bubble, where httptest servers do not).
func handlerClient(h http.Handler) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result(), nil
	})}
}

// routedTLSClient talks to srv (a TLS httptest server) whatever the host
// name in the URL: its certificate covers example.com and *.example.com.
func routedTLSClient(srv *httptest.Server) *http.Client {
	hc := srv.Client()
	tr := hc.Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Listener.Addr().String())
	}
	return &http.Client{Transport: tr}
}

// failingClient fails every request at the transport.
func failingClient() *http.Client {
	return &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	})}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeHTML(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("<!doctype html><html><body>secret-looking page</body></html>"))
}

// form parses a POSTed form and fails on repeated parameters.
func form(t *testing.T, r *http.Request) url.Values {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q, want a form", ct)
	}
	if err := r.ParseForm(); err != nil {
		t.Errorf("parse form: %v", err)
	}
	for k, v := range r.PostForm {
		if len(v) != 1 {
			t.Errorf("parameter %s repeated: %q", k, v)
		}
	}
	return r.PostForm
}

// noSecrets fails when err's text contains any secret.
func noSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains secret %q", err, s)
		}
	}
}

// errCheck is a table's expectation on an error.
type errCheck func(t *testing.T, err error)

func wantNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantIs(target error) errCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Fatalf("error = %v, want errors.Is %v", err, target)
		}
	}
}

func wantResponseError(status int) errCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		re, ok := errors.AsType[*httpx.ResponseError](err)
		if !ok {
			t.Fatalf("error = %v (%T), want *httpx.ResponseError", err, err)
		}
		if status != 0 && re.Status != status {
			t.Fatalf("ResponseError.Status = %d, want %d", re.Status, status)
		}
	}
}

func wantOAuthError(code string) errCheck {
	return func(t *testing.T, err error) {
		t.Helper()
		oe, ok := errors.AsType[*OAuthError](err)
		if !ok {
			t.Fatalf("error = %v (%T), want *OAuthError", err, err)
		}
		if oe.Code != code {
			t.Fatalf("OAuthError.Code = %q, want %q", oe.Code, code)
		}
	}
}

func wantNetworkError(t *testing.T, err error) {
	t.Helper()
	if _, ok := errors.AsType[*httpx.NetworkError](err); !ok {
		t.Fatalf("error = %v (%T), want *httpx.NetworkError", err, err)
	}
}

// tokenView is what a grant returned, for comparing with cmp.
type tokenView struct {
	AccessToken, RefreshToken, TokenType, IDToken string
	Expiry                                        time.Time
	Scopes                                        []string
}

func view(t *oauth2.Token) *tokenView {
	if t == nil {
		return nil
	}
	return &tokenView{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType, IDToken: IDToken(t), Expiry: t.Expiry, Scopes: GrantedScopes(t)}
}
