package redact

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultMax is the cap Text applies when it is given max <= 0.
const DefaultMax = 200

// Ellipsis ends a text that Text cut.
const Ellipsis = "…"

// Text is the one sanitizer for untrusted text (from a server, a
// certificate, a file or the environment) before it reaches a terminal, an
// error or a hint. It
//
//   - turns every white-space character (TAB, CR, LF, VT, FF, NEL, NBSP,
//     U+2028, U+2029, …) into a space;
//   - drops C0 and C1 control characters and DEL, bidi controls (U+202A–202E,
//     U+2066–2069, U+200E, U+200F, U+061C), zero-width and other format or
//     default-ignorable characters (unicode.Cf, U+FEFF, variation selectors,
//     Hangul fillers, …), private-use, unassigned and non-characters, U+FFFD
//     and invalid UTF-8;
//   - collapses runs of spaces, trims, and cuts the result to max runes,
//     ending it with "…" when it was cut (max <= 0 means DefaultMax);
//   - replaces every occurrence of each secret, and of its ASCII lowercase
//     form, by "***" both before and after the cleaning, since dropping a
//     character can join the pieces of a secret.
//
// The result is at most max+1 runes long and holds only printable runes and
// single spaces.
func Text(s string, max int, secrets ...string) string {
	if max <= 0 {
		max = DefaultMax
	}
	secrets = secretForms(secrets)
	s = scrub(s, secrets)
	// The whole text is cleaned before it is cut: a secret joined by a
	// dropped character is masked wherever it is, and masks shorten what
	// comes before the cut.
	var b strings.Builder
	b.Grow(len(s))
	space := true // drops leading spaces
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		switch {
		case isSpace(r):
			if !space {
				b.WriteByte(' ')
				space = true
			}
		case !visible(r):
			// dropped
		default:
			b.WriteRune(r)
			space = false
		}
	}
	out := scrub(strings.TrimRight(b.String(), " "), secrets)
	if utf8.RuneCountInString(out) > max {
		out = strings.TrimRight(cut(out, max), " ")
		// A prefix of a scrubbed text holds no secret; with the ellipsis
		// it could (only a secret that holds "…" itself).
		if !containsAny(out+Ellipsis, secrets) {
			out += Ellipsis
		}
	}
	return out
}

// Code keeps an OAuth error code (RFC 6749's "error" parameter) to the
// characters of its grammar without the space (%x21 / %x23-5B / %x5D-7E) and
// to 64 characters, with every secret replaced by "***" before and after.
// An empty result is "unknown_error".
func Code(s string, secrets ...string) string {
	secrets = secretForms(secrets)
	s = scrub(s, secrets)
	// All of it is filtered before the cut, as in Text.
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; codeChar(c) {
			b = append(b, c)
		}
	}
	out := scrub(string(b), secrets)
	if len(out) > 64 {
		out = out[:64] // ASCII only
	}
	if out == "" {
		return "unknown_error"
	}
	return out
}

func codeChar(c byte) bool {
	return c >= 0x21 && c <= 0x7e && c != '"' && c != '\\'
}

// ShellQuote quotes s for a POSIX shell, so that a hint such as
// "run 'sesame login --scopes X'" stays one argument whatever X holds: s is
// returned as is when it is made only of characters no shell treats
// specially (letters, digits and _ @ % + = : , . / -), otherwise between
// single quotes, each single quote inside written as quote, backslash,
// quote, quote. The empty string is a pair of single quotes. Quoting keeps
// every byte: pass text that Text (or a check such as PlainScope) has
// already made printable.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	plain := true
	for i := 0; i < len(s); i++ {
		if !shellSafe(s[i]) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("_@%+=:,./-", c) >= 0
}

// MaxPlainScope bounds a scope that PlainScope accepts, in bytes.
const MaxPlainScope = 128

// PlainScope reports whether s is a scope that is safe to paste unquoted
// into a command: 1 to 128 characters of A-Z a-z 0-9 . _ : / -.
func PlainScope(s string) bool {
	if s == "" || len(s) > MaxPlainScope {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == ':', c == '/', c == '-':
		default:
			return false
		}
	}
	return true
}

// isSpace reports white space that Text turns into one space.
func isSpace(r rune) bool {
	return r == ' ' || (unicode.IsSpace(r) && r != utf8.RuneError)
}

// visible reports whether r may be shown: a graphic rune (letter, mark,
// number, punctuation, symbol) that is not a format, bidi, join control,
// default-ignorable or non-character code point. U+FFFD (also what invalid
// UTF-8 decodes to) is not.
func visible(r rune) bool {
	if r < 0x80 {
		return r > 0x20 && r < 0x7f
	}
	if r == utf8.RuneError || !unicode.IsPrint(r) {
		return false
	}
	return !unicode.In(r, unicode.Cf, unicode.Bidi_Control, unicode.Join_Control,
		unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector,
		unicode.Noncharacter_Code_Point, unicode.Co, unicode.Cs)
}

// secretForms returns the non-empty secrets and their ASCII lowercase forms
// (media types and header names are folded to lowercase), longest first so
// that a secret that holds another is masked whole.
func secretForms(secrets []string) []string {
	var out []string
	add := func(s string) {
		if s == "" {
			return
		}
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	for _, s := range secrets {
		add(s)
		add(asciiLower(s))
	}
	// insertion sort by length, longest first (the list is short)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j]) > len(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func containsAny(s string, secrets []string) bool {
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			return true
		}
	}
	return false
}

// scrub replaces every secret by Mask until none is left: a replacement can
// form a new occurrence ("*****" holds "****" again after one pass). Each
// pass of a secret longer than Mask shortens s, so the loop ends; a secret
// of up to 3 bytes is replaced in one pass.
func scrub(s string, secrets []string) string {
	for range 64 {
		changed := false
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				s = strings.ReplaceAll(s, sec, Mask)
				changed = changed || len(sec) > len(Mask)
			}
		}
		if !changed {
			return s
		}
	}
	// Pathological: give up on the text rather than risk showing a secret.
	for _, sec := range secrets {
		if len(sec) > len(Mask) && strings.Contains(s, sec) {
			return Mask
		}
	}
	return s
}

// Secrets replaces every secret in s (and its ASCII-lowercase form) by
// "***" and changes nothing else: for text sesame wrote itself, laid out as
// it is, that may quote a token (Text also cleans server text).
func Secrets(s string, secrets ...string) string {
	return scrub(s, secretForms(secrets))
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// cut returns the first n runes of s.
func cut(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
