package oauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// Regressions found by the fuzz targets: a server's text must not smuggle
// back a secret sesame sent (split by characters that sanitizing drops, in
// the error code, in the Content-Type), and a user code shown on the
// terminal must not carry escape sequences.
func TestServerTextNeverEchoesSecrets(t *testing.T) {
	const (
		rt     = "rt-SENT-secret-0123"
		secret = "cs-SENT-secret-4567"
	)
	tests := []struct {
		name   string
		status int
		ctype  string
		body   string
	}{
		{"description with the token split by NUL", 400, "application/json", `{"error":"invalid_grant","error_description":"token rt-SENT-\u0000secret-0123 revoked"}`},
		{"description with the secret split by a zero-width space", 400, "application/json", `{"error":"invalid_client","error_description":"cs-SENT-\u200bsecret-4567"}`},
		{"description with the token split by a line break", 400, "application/json", `{"error":"invalid_grant","error_description":"rt-SENT-secret-\n0123"}`},
		{"the error code is the secret", 400, "application/json", `{"error":"cs-SENT-secret-4567"}`},
		{"the error code is the token with a quote inside", 400, "application/json", `{"error":"rt-SENT-\"secret-0123"}`},
		{"the error code of a 200 answer", 200, "application/json", `{"error":"rt-SENT-secret-0123"}`},
		{"form-encoded error", 400, "application/x-www-form-urlencoded", `error=invalid_grant&error_description=rt-SENT-secret-%000123`},
		{"the Content-Type echoes the token", 502, "text/rt-SENT-secret-0123", `nope`},
		{"the Content-Type of a 200 answer echoes the secret", 200, "text/cs-SENT-secret-4567", `nope`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = []string{tt.ctype}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			c := &Client{HTTP: handlerClient(h)}
			app := testApp("https://issuer.example.com")
			app.ClientSecret = secret
			_, err := c.Refresh(context.Background(), app, rt)
			if err == nil {
				t.Fatal("Refresh succeeded")
			}
			msg := strings.ToLower(err.Error())
			for _, s := range []string{rt, secret} {
				if strings.Contains(msg, strings.ToLower(s)) {
					t.Errorf("refresh error %q shows %q", err, s)
				}
			}
			if err := c.Revoke(context.Background(), app, rt, "refresh_token"); err != nil && strings.Contains(strings.ToLower(err.Error()), strings.ToLower(rt)) {
				t.Errorf("revoke error %q shows the token", err)
			}
		})
	}
}

func TestDeviceAuthRefusesUnprintableUserCodes(t *testing.T) {
	for _, code := range []string{"AB\u001b[2JCD", "AB\u009bCD", "AB\u200bCD", "\u0000", strings.Repeat("A", maxUserCode+1)} {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"device_code": "dc", "user_code": code, "verification_uri": "https://example.com/d", "expires_in": 60})
		})
		c := &Client{HTTP: handlerClient(h)}
		_, err := c.DeviceAuth(context.Background(), deviceApp("https://example.com"))
		var re *httpx.ResponseError
		if !errors.As(err, &re) || re.Problem != "response has an invalid user_code" {
			t.Errorf("user_code %q: err = %v, want the invalid user_code ResponseError", code, err)
		}
	}
	for _, code := range []string{"ABCD-EFGH", "ABCD EFGH", "ÄÖÜ-123", strings.Repeat("A", maxUserCode)} {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]any{"device_code": "dc", "user_code": code, "verification_uri": "https://example.com/d", "expires_in": 60})
		})
		c := &Client{HTTP: handlerClient(h)}
		if dc, err := c.DeviceAuth(context.Background(), deviceApp("https://example.com")); err != nil || dc.UserCode != code {
			t.Errorf("user_code %q: %v", code, err)
		}
	}
}

// Every kind of timeout reads "timed out" (which of the dial, handshake,
// header and whole-request timeouts fires first is chance).
func TestTimeoutsSayTimedOut(t *testing.T) {
	for _, cause := range []error{context.DeadlineExceeded, errTimeout{}} {
		c := &Client{HTTP: &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, cause })}}
		_, err := c.Discover(context.Background(), "https://issuer.example.com")
		want := `discovery: Get "https://issuer.example.com/.well-known/openid-configuration": timed out`
		if _, ok := errors.AsType[*httpx.NetworkError](err); !ok || err.Error() != want || !errors.Is(err, cause) {
			t.Errorf("cause %v: err = %v (%T), want a NetworkError %q", cause, err, err, want)
		}
	}
}

type errTimeout struct{}

func (errTimeout) Error() string   { return "net/http: TLS handshake timeout" }
func (errTimeout) Timeout() bool   { return true }
func (errTimeout) Temporary() bool { return true }

// A host is shown in messages decoded: one that does not decode to
// printable text (invalid UTF-8, terminal escapes) is not a URL sesame uses.
func TestCheckURLRefusesUnprintableHosts(t *testing.T) {
	for _, raw := range []string{"http://100.0.0A%8000", "https://api%1b%5b2J.example.com", "https://api%c2%9b.example.com", "https://%e2%80%8b.example.com"} {
		if _, err := CheckURL(raw); !errors.Is(err, ErrInvalidURL) {
			t.Errorf("CheckURL(%q) = %v, want ErrInvalidURL", raw, err)
		}
	}
	for _, raw := range []string{"https://bücher.example", "https://xn--bcher-kva.example", "http://[::1]:8080"} {
		if _, err := CheckURL(raw); err != nil {
			t.Errorf("CheckURL(%q) = %v", raw, err)
		}
	}
}
