package redact

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text is the one sanitizer for untrusted text (from a server, a
// certificate, a file or the environment) before it reaches a terminal, an
// error or a hint: control and format characters are dropped (white space
// becomes one space, invalid UTF-8 U+FFFD), the result is trimmed and cut
// at max runes (then "…" is added), and every
// secret is replaced by "***", before and after cleaning (dropping
// characters may join the pieces of a secret).
func Text(s string, max int, secrets ...string) string {
	s = scrub(strings.ToValidUTF8(s, "\uFFFD"), secrets)
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if r != utf8.RuneError && !unicode.IsPrint(r) {
			if !unicode.IsSpace(r) {
				continue
			}
			r = ' '
		}
		if r == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		if n == max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return scrub(strings.TrimSpace(b.String()), secrets)
}

// Code keeps an OAuth error code to the RFC 6749 character set and 64
// characters, with every secret replaced by "***".
func Code(s string, secrets ...string) string {
	s = scrub(s, secrets)
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 64; i++ {
		if c := s[i]; c >= 0x21 && c <= 0x7e && c != '"' && c != '\\' {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return "unknown_error"
	}
	return scrub(b.String(), secrets)
}

// scrub replaces every secret, and its ASCII lowercase form (media types
// are folded to lowercase), by "***".
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		s = strings.ReplaceAll(s, sec, Mask)
		if lower := strings.ToLower(sec); lower != sec {
			s = strings.ReplaceAll(s, lower, Mask)
		}
	}
	return s
}
