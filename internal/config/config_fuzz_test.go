package config

import (
	"encoding/json"
	"errors"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// parseErrorText is every message Parse may fail with: fixed texts that
// never quote the file (which may hold tokens).
var parseErrorText = regexp.MustCompile(`^config file /cfg/config\.json: (file is too large|not valid JSON \(fix or delete the file\)|written by a newer version \(schema \d+, this build reads 1\))$`)

// FuzzParse: no panic; failures are a *ParseError with a fixed message; what
// parses survives Save's encoding unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"version":1,"currentApi":"https://api.example.com","apis":{"https://api.example.com":{"storage":"file","issuer":"https://example.com","clientId":"cid","scopes":["documents.read"],"tokenType":"Bearer","expiresAt":"2026-01-01T00:00:00Z","user":"Alice","method":"device","accessToken":"at","refreshToken":"rt","hasRefreshToken":true}},"clients":{"https://example.com":{"clientId":"cid","registeredAt":"2025-12-01T10:00:00+01:00"}}}`,
		`{"version":1,"keyringUnavailable":{"at":"2026-01-01T00:00:00Z","reason":"no Secret Service"}}`,
		`{"version":1,"minted":{"k":{"accessToken":"at","expiresAt":"2026-01-01T00:00:00Z","scopes":["a"]}}}`,
		`{"version":2}`, `{"version":-1}`, `{"version":"1"}`, `{"apis":{"x":null}}`, `{"apis":[]}`, `{"apis":{}}`,
		`{"apis":{"x":{"expiresAt":"not a time"}}}`, `{"apis":{"x":{"expiresAt":"0001-01-01T00:00:00Z"}}}`,
		`{"apis":{"x":{"scopes":"a"}}}`, `{"currentApi":"\u0000"}`, `{"accessToken": "at"}`, `{"APIS":{"x":{"ACCESSTOKEN":"y"}}}`,
		"\ufeff{}", "", "   ", "null", "[]", "{", `{"version":1}{"version":2}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("/cfg/config.json", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !parseErrorText.MatchString(err.Error()) {
				t.Fatalf("Parse error %q (%T)", err, err)
			}
			return
		}
		if cfg.Version != Version {
			t.Fatalf("version %d", cfg.Version)
		}
		out, err := json.MarshalIndent(cfg, "", "  ")
		if err != nil {
			t.Fatalf("a parsed config does not encode: %v", err)
		}
		again, err := Parse("/cfg/config.json", out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if diff := cmp.Diff(cfg, again, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
