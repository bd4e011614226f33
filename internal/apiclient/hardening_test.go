package apiclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/httpx"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Every kind of timeout reads "timed out" (which fires first is chance) and
// still unwraps to its cause.
func TestTimeoutsSayTimedOut(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		io.WriteString(w, `{"id":`)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer slow.Close()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	tests := []struct {
		name string
		hc   *http.Client
		base string
	}{
		{"whole request, waiting for headers", &http.Client{Timeout: 50 * time.Millisecond}, hang.URL},
		{"response header timeout", &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 50 * time.Millisecond}}, hang.URL},
		{"whole request, reading the body", &http.Client{Timeout: 200 * time.Millisecond}, slow.URL},
		{"a transport's deadline", &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			return nil, context.DeadlineExceeded
		})}, "https://api.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{HTTP: tt.hc, BaseURL: tt.base}
			_, err := c.Me(context.Background(), "/v1/me")
			var ne *httpx.NetworkError
			if !errors.As(err, &ne) || !strings.HasSuffix(err.Error(), ": timed out") {
				t.Fatalf("err = %v (%T), want a NetworkError ending in timed out", err, err)
			}
			var te *httpx.TimeoutError
			if !errors.As(err, &te) || errors.Unwrap(te) == nil {
				t.Errorf("err = %v does not unwrap to its cause", err)
			}
		})
	}
}

// Server text reaching the terminal has no control characters (C0 or C1:
// U+009B is a CSI on some terminals: dropped; white space becomes one
// space), is valid UTF-8, and is cut on a character boundary.
func TestServerTextIsSanitized(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"identity with escapes", Identity(map[string]any{"name": "A\x1b]0;x\x07", "email": "a\u009b31m@x"}), "A]0;x <a31m@x>"},
		{"invalid UTF-8 dropped", Identity(map[string]any{"name": "a\xffb"}), "ab"},
		{"cut on a rune", Identity(map[string]any{"name": strings.Repeat("é", 300)}), strings.Repeat("é", 200) + "…"},
		{"401 error code", (&AuthError{Code: "bad\x1b[2J", Description: "x\ny"}).Error(), "the API rejected the token (401): bad[2J: x y"},
		{"403 scope", (&ScopeError{Scope: "a\u0085b"}).Error(), "the token lacks the scope a b (403)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
