package redact

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
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

// FuzzText: whatever a server sends, Text's result is valid UTF-8 with no
// control, bidi, format or other invisible rune, single spaces only, at most
// max runes (plus the ellipsis), and never holds a secret of 4 bytes or more
// (nor its lowercase form), even when the input hides it behind characters
// that Text drops.
func FuzzText(f *testing.F) {
	for _, s := range []string{
		"", "plain", "a\x1b]0;title\x07b", "\u202egnp.exe", "a\u200bb", "x\r\ny\tz", "\xff\xfe",
		"the token " + fuzzMarker + " expired", "text/x-" + strings.ToLower(fuzzMarker),
		"SeKr3t\x1bMarkerQ7", "SeKr3t\u200eMarkerQ7", "*****", strings.Repeat("é", 40),
	} {
		f.Add(s, 10, fuzzMarker)
		f.Add(s, 0, "")
	}
	f.Fuzz(func(t *testing.T, s string, max int, secret string) {
		got := Text(s, max, secret)
		if max <= 0 {
			max = DefaultMax
		}
		checkClean(t, s, got)
		n := utf8.RuneCountInString(got)
		if n > max+1 || (n == max+1 && !strings.HasSuffix(got, Ellipsis)) {
			t.Fatalf("Text(%q, %d) = %q: %d runes", s, max, got, n)
		}
		if len(secret) >= 4 && (strings.Contains(got, secret) || strings.Contains(got, asciiLower(secret))) {
			t.Fatalf("Text(%q, %d, %q) = %q shows the secret", s, max, secret, got)
		}
		// the marker spliced into the input, with junk in its middle
		for _, junk := range []string{"", "\x1b", "\u200b", "\u202e", "\xff", "\r\n"} {
			in := s + fuzzMarker[:5] + junk + fuzzMarker[5:] + s
			if got := Text(in, max, fuzzMarker); strings.Contains(got, fuzzMarker) || strings.Contains(got, asciiLower(fuzzMarker)) {
				t.Fatalf("Text(%q) = %q shows the marker", in, got)
			}
		}
	})
}

func checkClean(t *testing.T, in, got string) {
	t.Helper()
	if !utf8.ValidString(got) {
		t.Fatalf("Text(%q) = %q: invalid UTF-8", in, got)
	}
	if got != strings.TrimSpace(got) || strings.Contains(got, "  ") {
		t.Fatalf("Text(%q) = %q: spaces not collapsed and trimmed", in, got)
	}
	for _, r := range got {
		if r == ' ' {
			continue
		}
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) || !unicode.IsPrint(r) ||
			unicode.In(r, unicode.Cf, unicode.Bidi_Control, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) {
			t.Fatalf("Text(%q) = %q holds %U", in, got, r)
		}
	}
}

// FuzzCode: an error code is 1 to 64 characters of RFC 6749's error set
// (without the space) and never shows a secret.
func FuzzCode(f *testing.F) {
	for _, s := range []string{"invalid_grant", "", "a b", "x\"y\\z", "\x1b[2J", fuzzMarker, "SeKr3t\x00MarkerQ7"} {
		f.Add(s, fuzzMarker)
	}
	f.Fuzz(func(t *testing.T, s, secret string) {
		got := Code(s, secret)
		if got == "" || len(got) > 64 {
			t.Fatalf("Code(%q) = %q", s, got)
		}
		for i := 0; i < len(got); i++ {
			if !codeChar(got[i]) {
				t.Fatalf("Code(%q) = %q holds %q", s, got, got[i])
			}
		}
		if len(secret) >= 4 && got != "unknown_error" && (strings.Contains(got, secret) || strings.Contains(got, asciiLower(secret))) {
			t.Fatalf("Code(%q, %q) = %q shows the secret", s, secret, got)
		}
	})
}

// FuzzCheckToken: a token is accepted exactly when it is RFC 6750's
// b64token of at most MaxToken bytes, and the error never holds it.
func FuzzCheckToken(f *testing.F) {
	for _, s := range []string{"abc", "Zm9v==", "a b", "abc\r\nX: y", "=", "a=b", "eyJ.eyJ.sig", "tök", "~+/-._", strings.Repeat("A", MaxToken)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		err := CheckToken(tok)
		if want := b64token(tok) && len(tok) <= MaxToken; (err == nil) != want {
			t.Fatalf("CheckToken(%.60q) = %v, want ok=%v", tok, err, want)
		}
		if err != nil && err != ErrTokenEmpty && err != ErrTokenTooLong && err != ErrTokenCharset {
			t.Fatalf("CheckToken(%.60q) = %v: not one of the errors", tok, err)
		}
		if err == nil {
			for _, r := range tok {
				if r <= ' ' || r >= 0x7f || strings.ContainsRune("\"',;\\", r) {
					t.Fatalf("CheckToken accepted %q holding %q", tok, r)
				}
			}
		}
	})
}

// b64token is RFC 6750's grammar, written independently of CheckToken.
func b64token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	return strings.Trim(body, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/") == ""
}
