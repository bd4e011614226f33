package oauth

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sesame-cli/sesame/internal/httpx"
)

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost":        true,
		"LOCALHOST":        true,
		"127.0.0.1":        true,
		"127.1.2.3":        true,
		"::1":              true,
		"[::1]":            true,
		"::ffff:127.0.0.1": true,
		"128.0.0.1":        false,
		"10.0.0.1":         false,
		"::2":              false,
		"example.com":      false,
		"localhost.evil":   false,
		"api.localhost":    false,
		"":                 false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		raw  string
		want error // nil: accepted
	}{
		{"https://example.com", nil},
		{"https://example.com/path?q=1", nil},
		{"HTTPS://example.com", nil},
		{"http://127.0.0.1:8080/x", nil},
		{"http://localhost:1234", nil},
		{"http://[::1]:80/", nil},
		{"http://example.com", ErrInsecureURL},
		{"http://10.0.0.1", ErrInsecureURL},
		{"ftp://example.com", ErrInvalidURL},
		{"/relative/path", ErrInvalidURL},
		{"example.com", ErrInvalidURL},
		{"https://", ErrInvalidURL},
		{"https:opaque", ErrInvalidURL},
		{"https://exa mple.com", ErrInvalidURL},
		{"", ErrInvalidURL},
	}
	for _, tt := range tests {
		u, err := CheckURL(tt.raw)
		if tt.want == nil {
			if err != nil || u == nil {
				t.Errorf("CheckURL(%q) = %v, %v; want ok", tt.raw, u, err)
			}
			continue
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("CheckURL(%q) error = %v, want %v", tt.raw, err, tt.want)
		}
	}
}

func TestDefaultScopes(t *testing.T) {
	tests := []struct {
		name      string
		supported []string
		want      []string
	}{
		{"none", nil, nil},
		{"nothing matches", []string{"profile", "docs.write", "read"}, nil},
		{"read scopes and extras sorted", []string{"profile", "offline_access", "users:read", "docs.read", "docs.write", "openid", "email", "docs.read"},
			[]string{"docs.read", "email", "offline_access", "openid", "users:read"}},
		{"bare suffix is not a scope match", []string{".read", ":read", "a.read"}, []string{"a.read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, DefaultScopes(tt.supported)); diff != "" {
				t.Errorf("DefaultScopes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseScopes(t *testing.T) {
	for in, want := range map[string][]string{
		"":                    nil,
		"  ,  ":               nil,
		"a,b":                 {"a", "b"},
		"a b":                 {"a", "b"},
		"a, b":                {"a", "b"},
		" a\tb\n c ,, d ":     {"a", "b", "c", "d"},
		"docs.read docs.read": {"docs.read"},
	} {
		if diff := cmp.Diff(want, ParseScopes(in)); diff != "" {
			t.Errorf("ParseScopes(%q) mismatch (-want +got):\n%s", in, diff)
		}
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&httpx.NetworkError{Op: "refresh", Err: errors.New("dial tcp: connection refused")}, "refresh: dial tcp: connection refused"},
		{&httpx.ResponseError{Op: "discovery", Status: 502, Problem: "unexpected HTTP status 502"}, "discovery: unexpected HTTP status 502"},
		{&OAuthError{Op: "refresh", Status: 400, Code: "invalid_grant", Description: "expired"}, "refresh: invalid_grant: expired"},
		{&OAuthError{Op: "device login", Code: "access_denied"}, "device login: access_denied"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	inner := errors.New("boom")
	if !errors.Is(&httpx.NetworkError{Op: "x", Err: inner}, inner) {
		t.Error("NetworkError does not unwrap")
	}
}
