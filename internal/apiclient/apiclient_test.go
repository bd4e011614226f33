package apiclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sesame-cli/sesame/internal/httpx"
)

func TestParseBearerChallenge(t *testing.T) {
	tests := []struct {
		in   []string
		want map[string]string
	}{
		{[]string{`Bearer realm="x", error="insufficient_scope", scope="documents.read"`}, map[string]string{"realm": "x", "error": "insufficient_scope", "scope": "documents.read"}},
		{[]string{`Bearer error="invalid_token", error_description="The access token expired"`}, map[string]string{"error": "invalid_token", "error_description": "The access token expired"}},
		{[]string{`Basic realm="a", Bearer realm="b", scope="a b"`}, map[string]string{"realm": "b", "scope": "a b"}},
		{[]string{`Basic realm="a"`, `bearer error=invalid_token`}, map[string]string{"error": "invalid_token"}},
		{[]string{`Bearer realm="quote \"inside\", comma"`}, map[string]string{"realm": `quote "inside", comma`}},
		{[]string{`Bearer`}, map[string]string{}},
		{[]string{`Bearer ===`}, map[string]string{}},
		{[]string{`Bearer realm="unterminated`}, map[string]string{"realm": "unterminated"}},
		{nil, map[string]string{}},
	}
	for _, tt := range tests {
		got := ParseBearerChallenge(tt.in)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q: (-want +got)\n%s", tt.in, diff)
		}
	}
}

func TestIdentity(t *testing.T) {
	tests := []struct {
		me   map[string]any
		want string
	}{
		{map[string]any{"email": "a@x", "name": "Ann"}, "Ann <a@x>"},
		{map[string]any{"email": "a@x"}, "a@x"},
		{map[string]any{"displayName": "Ann"}, "Ann"},
		{map[string]any{"user_id": "u1"}, "u1"},
		{map[string]any{"sub": "s1"}, "s1"},
		{map[string]any{"id": float64(42)}, "42"},
		{map[string]any{"name": "evil\n\x1b[31mred"}, "evil [31mred"},
		{map[string]any{}, "unknown user"},
	}
	for _, tt := range tests {
		if got := Identity(tt.me); got != tt.want {
			t.Errorf("Identity(%v) = %q, want %q", tt.me, got, tt.want)
		}
	}
}

func TestResolveURL(t *testing.T) {
	c := &Client{BaseURL: "https://api.example.com/base"}
	for in, want := range map[string]string{
		"/v1/me":                                "https://api.example.com/base/v1/me",
		"v1/me?x=1":                             "https://api.example.com/base/v1/me?x=1",
		"https://api.example.com/other":         "https://api.example.com/other",
		"https://evil.example.com/v1/me":        "",
		"http://api.example.com/v1/me":          "",
		"https://api.example.com.evil.com/v1/x": "",
	} {
		u, err := c.ResolveURL(in)
		if want == "" {
			if !errors.Is(err, ErrOtherHost) {
				t.Errorf("%s: err = %v, want ErrOtherHost", in, err)
			}
			continue
		}
		if err != nil || u.String() != want {
			t.Errorf("%s: got %v, %v; want %s", in, u, err, want)
		}
	}
}

func TestMeErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		check   func(error) bool
	}{
		{"401", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(401)
		}, func(err error) bool { var e *AuthError; return errors.As(err, &e) && e.Code == "invalid_token" }},
		{"403", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="me.read"`)
			w.WriteHeader(403)
		}, func(err error) bool { var e *ScopeError; return errors.As(err, &e) && e.Scope == "me.read" }},
		{"html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>")
		}, func(err error) bool { var e *httpx.ResponseError; return errors.As(err, &e) }},
		{"not an object", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `[1,2]`)
		}, func(err error) bool { var e *httpx.ResponseError; return errors.As(err, &e) }},
		{"truncated", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":`)
		}, func(err error) bool { var e *httpx.ResponseError; return errors.As(err, &e) }},
		{"500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, func(err error) bool { var e *httpx.ResponseError; return errors.As(err, &e) && e.Status == 500 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := &Client{HTTP: srv.Client(), BaseURL: srv.URL}
			_, err := c.Me(context.Background(), "/v1/me")
			if !tt.check(err) {
				t.Fatalf("err = %#v", err)
			}
			if strings.Contains(err.Error(), "secret-token") {
				t.Error("error shows the token")
			}
		})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Close()
	c := &Client{HTTP: http.DefaultClient, BaseURL: srv.URL}
	var ne *httpx.NetworkError
	if _, err := c.Me(context.Background(), "/v1/me"); !errors.As(err, &ne) {
		t.Fatalf("closed server: %v", err)
	}
}
