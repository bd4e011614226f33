package credentials

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// inputErrors is every message ParseTokenInput may fail with: fixed texts,
// so no part of the input (a token) is ever echoed.
var inputErrors = map[string]bool{
	"input is larger than 1048576 bytes":                         true,
	`empty: expected a token or {"token": "..."}`:                true,
	"contains NUL bytes":                                         true,
	`not valid JSON: expected {"token": "...", "apiUrl": "..."}`: true,
	`JSON has no "token" field`:                                  true,
	`JSON "token" is not a string`:                               true,
	`JSON "apiUrl" is not a string`:                              true,
	"token is empty":                                             true,
	"token is not valid UTF-8":                                   true,
	"token contains white space or control characters":           true,
	"token is longer than 16 KiB":                                true,
}

// FuzzParseTokenInput covers the credentials file, auth set --stdin and
// login --with-token input. Properties: no panic; failures are one of the
// fixed messages; an accepted token is clean; JSON and raw forms round-trip.
func FuzzParseTokenInput(f *testing.F) {
	for _, s := range []string{
		"sesame_live_abc\n", "  sesame_live_abc \r\n", "\ufeffsesame_live_abc", "\ufeff{\"token\":\"t\"}",
		`{"token": "sesame_live_abc", "apiUrl": "https://api.example.com"}`,
		`{"token": "sesame_live_abc", "apiUrl": null}`, `{"token": null}`, `{"token": 123}`, `{"token": ["a"]}`,
		`{"token": "a b"}`, `{"token": "a\u0000b"}`, `{"token": ""}`, `{"apiUrl": "x"}`, `{"token": "t", "apiUrl": 1}`,
		`["token"]`, `"token"`, `{"token": "t"`, "", "   \n\t", "a\x00b", "\xff\xfe", "tok en", "tok\u00a0en",
		`{"token": "t", "token": "u"}`, `{"TOKEN": "t"}`, `{"token": "\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, api, err := ParseTokenInput(data)
		if err != nil {
			if !inputErrors[err.Error()] {
				t.Fatalf("unexpected message %q", err)
			}
			return
		}
		if tok == "" || len(tok) > 16<<10 || !utf8.ValidString(tok) || strings.ContainsFunc(tok, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
			t.Fatalf("accepted token %q", tok)
		}
		if c, err := CleanToken(tok); err != nil || c != tok {
			t.Fatalf("CleanToken(%q) = %q, %v", tok, c, err)
		}
		if api != strings.TrimSpace(api) {
			t.Fatalf("apiUrl %q not trimmed", api)
		}
		// JSON round trip.
		j, err := json.Marshal(map[string]string{"token": tok, "apiUrl": api})
		if err != nil {
			t.Fatal(err)
		}
		tok2, api2, err := ParseTokenInput(j)
		if err != nil || tok2 != tok || api2 != api {
			t.Fatalf("JSON round trip of %q: %q, %q, %v", j, tok2, api2, err)
		}
		// Raw round trip (a raw token cannot start like JSON).
		if !strings.ContainsAny(tok[:1], `{["`) {
			tok3, api3, err := ParseTokenInput([]byte(tok + "\n"))
			if err != nil || tok3 != tok || api3 != "" {
				t.Fatalf("raw round trip of %q: %q, %q, %v", tok, tok3, api3, err)
			}
		}
	})
}
