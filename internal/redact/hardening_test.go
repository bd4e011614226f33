package redact

import (
	"net/url"
	"testing"
)

// Found by the fuzz target and the CLI's trace test: an implicit-flow
// fragment, and URLs in Location, Content-Location and Referer (which Go's
// client sets to the previous URL on a redirect, query included).
func TestURLsInHeadersAndFragments(t *testing.T) {
	u, _ := url.Parse("https://h.example.com/cb?code=c1&x=1#access_token=f1")
	if got, want := URL(u), "https://h.example.com/cb?code=%2A%2A%2A&x=1#***"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	for _, tt := range []struct{ name, value, want string }{
		{"Location", "/cb?code=c1&state=s1", "/cb?code=%2A%2A%2A&state=%2A%2A%2A"},
		{"content-location", "https://u:p@h/x?token=t1", "https://%2A%2A%2A@h/x?token=%2A%2A%2A"},
		{"Referer", "https://api.example.com/start?access_token=t1&page=2", "https://api.example.com/start?access_token=%2A%2A%2A&page=2"},
		{"Referer", "%zz not a url", "***"},
		{"Accept", "a?code=1", "a?code=1"},
	} {
		if got := Header(tt.name, tt.value); got != tt.want {
			t.Errorf("Header(%s, %q) = %q, want %q", tt.name, tt.value, got, tt.want)
		}
	}
}
