package apiclient

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseBearerChallenge: no panic; keys are lowercase; the parameters
// survive a round trip through a canonical header; the errors built from a
// challenge are one printable line of bounded length.
func FuzzParseBearerChallenge(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="example", error="invalid_token", error_description="The access token expired"`,
		`Bearer error="insufficient_scope", scope="documents.write documents.read"`,
		`Basic realm="x", Bearer realm="api", scope="a b"`,
		`Bearer realm="a\"b\\c", error=invalid_token`,
		`Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"`,
		`DPoP algs="ES256", Bearer error="invalid_token"`,
		`Bearer`, `Bearer ,,,`, `Bearer a=`, `Bearer ="x"`, `Bearer a="unterminated`, `bearer A="1", a="2"`,
		`Bearer error="\u001b[2J\u009b31m"`, "Bearer error_description=\"\xff\xfe\"",
		`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		params := ParseBearerChallenge([]string{header})
		for k := range params {
			if k == "" || k != strings.ToLower(k) {
				t.Fatalf("key %q", k)
			}
		}
		// Round trip: the token-named parameters, written canonically, parse back.
		sub := map[string]string{}
		for k, v := range params {
			if isTokenString(k) {
				sub[k] = v
			}
		}
		if len(sub) > 0 {
			got := ParseBearerChallenge([]string{canonicalChallenge(sub)})
			if diff := cmp.Diff(sub, got); diff != "" {
				t.Fatalf("round trip of %q (-want +got):\n%s", header, diff)
			}
		}
		// What reaches the terminal is one printable line.
		for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
			err := Check(&http.Response{StatusCode: status, Header: http.Header{"Www-Authenticate": {header}}})
			if err == nil {
				t.Fatalf("Check(%d) = nil", status)
			}
			checkTerminalText(t, err.Error())
		}
	})
}

// FuzzIdentity: an identity built from an API's /me answer is printable.
func FuzzIdentity(f *testing.F) {
	f.Add("Alice", "alice@example.com", "u1")
	f.Add("\u001b]0;pwned\u0007", "a\u009b31m@x", "\xff")
	f.Add(strings.Repeat("é", 300), "", "")
	f.Fuzz(func(t *testing.T, name, email, id string) {
		checkTerminalText(t, Identity(map[string]any{"name": name, "email": email, "id": id}))
	})
}

func checkTerminalText(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("text is not valid UTF-8: %q", s)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			t.Fatalf("text has a control character %U: %q", r, s)
		}
	}
	if n := utf8.RuneCountInString(s); n > 600 {
		t.Fatalf("text is %d runes long", n)
	}
}

func isTokenString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isToken(s[i]) {
			return false
		}
	}
	return true
}

func canonicalChallenge(params map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(params)) {
		v := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(params[k])
		parts = append(parts, k+`="`+v+`"`)
	}
	return "Bearer " + strings.Join(parts, ", ")
}
