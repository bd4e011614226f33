package redact

import (
	"strings"
	"testing"
)

// The cases of the sanitizer that lived in internal/oauth before it moved here.
func TestTextAsOAuthSanitized(t *testing.T) {
	tests := []struct {
		in      string
		secrets []string
		want    string
	}{
		{"plain text", nil, "plain text"},
		{"line\nbreak\t\ttab\x1b[31mred\x00", nil, "line break tab[31mred"},
		{"token abc123 is bad", []string{"abc123"}, "token *** is bad"},
		{strings.Repeat("é", 300), nil, strings.Repeat("é", 200) + "…"},
		{"\xff\xfebad utf8", nil, "bad utf8"},
	}
	for _, tt := range tests {
		if got := Text(tt.in, 200, tt.secrets...); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for in, want := range map[string]string{
		"invalid_grant":          "invalid_grant",
		"bad \"code\"\n<b>":      "badcode<b>",
		"":                       "unknown_error",
		strings.Repeat("x", 100): strings.Repeat("x", 64),
	} {
		if got := Code(in); got != want {
			t.Errorf("Code(%q) = %q, want %q", in, got, want)
		}
	}
}
