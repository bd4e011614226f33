package redact

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const fuzzMarker = "SeKr3tMarkerQ7"

// FuzzURL: whatever URL is traced, a sensitive query parameter, a password
// in the userinfo or a fragment never shows.
func FuzzURL(f *testing.F) {
	for _, s := range []string{
		"https://issuer.example.com/token", "http://127.0.0.1:1234/callback?state=x&code=y",
		"https://u:p@h/p?a=1&a=2#frag", "https://h/?%zz&code=1", "https://h/?code=1;state=2", "https://h/?c%6Fde=1",
		"https://h/p%2Fq?x", "/relative?token=t", "mailto:a@b", "https://[::1]:8/?access_token=a",
	} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, raw string, which uint8) {
		u, err := url.Parse(raw)
		if err != nil || strings.Contains(raw, fuzzMarker) {
			return
		}
		name := sensitiveParams[int(which)%len(sensitiveParams)]
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += name + "=" + fuzzMarker
		u.Fragment = "access_token=" + fuzzMarker
		if u.Host != "" {
			u.User = url.UserPassword("user", fuzzMarker)
		}
		if got := URL(u); strings.Contains(got, fuzzMarker) {
			t.Fatalf("URL(%q) = %q shows a secret", u.String(), got)
		}
		for _, h := range []string{"Location", "Content-Location", "Referer"} {
			if got := Header(h, u.String()); strings.Contains(got, fuzzMarker) {
				t.Fatalf("Header(%s, %q) = %q shows a secret", h, u.String(), got)
			}
		}
	})
}

// FuzzHeader: a credential header shows at most its scheme.
func FuzzHeader(f *testing.F) {
	for _, s := range []string{"Bearer abc", "Basic Zm9vOmJhcg==", "DPoP x", "bearer", "Token abc", " Bearer x", "Bearer  x y", ""} {
		f.Add("Authorization", s)
		f.Add("Cookie", s)
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		got := Header(name, value)
		if !sensitiveHeaders[http.CanonicalHeaderKey(name)] {
			return
		}
		if got != Mask && !(strings.HasSuffix(got, " "+Mask) && !strings.Contains(strings.TrimSuffix(got, " "+Mask), " ")) {
			t.Fatalf("Header(%q, %q) = %q", name, value, got)
		}
		if scheme, _, ok := strings.Cut(got, " "); ok && !(strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Basic") || strings.EqualFold(scheme, "DPoP")) {
			t.Fatalf("Header(%q, %q) = %q shows more than a scheme", name, value, got)
		}
	})
}
