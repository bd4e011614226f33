package apiclient

import "strings"

// ParseBearerChallenge returns the auth-params of the Bearer challenge in
// WWW-Authenticate header values (RFC 6750 §3, RFC 9110 §11.6.1), with
// lowercase keys. Other schemes are skipped; a malformed header yields what
// could be read.
func ParseBearerChallenge(values []string) map[string]string {
	params := map[string]string{}
	for _, v := range values {
		for _, ch := range splitChallenges(v) {
			scheme, rest, _ := strings.Cut(strings.TrimSpace(ch), " ")
			if !strings.EqualFold(scheme, "Bearer") {
				continue
			}
			for k, val := range parseParams(rest) {
				if _, ok := params[k]; !ok {
					params[k] = val
				}
			}
			return params
		}
	}
	return params
}

// splitChallenges splits a header value into challenges: a new challenge
// starts at a token followed by a space (not by '=') after a comma.
func splitChallenges(v string) []string {
	var out []string
	start, inQuote := 0, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			j := i + 1
			for j < len(v) && v[j] == ' ' {
				j++
			}
			k := j
			for k < len(v) && isToken(v[k]) {
				k++
			}
			if k > j && (k == len(v) || v[k] == ' ') && !strings.HasPrefix(strings.TrimLeft(v[k:], " "), "=") {
				out = append(out, v[start:i])
				start = j
			}
		}
	}
	return append(out, v[start:])
}

func parseParams(s string) map[string]string {
	out := map[string]string{}
	for len(s) > 0 {
		s = strings.TrimLeft(s, " ,\t")
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return out
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s); i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
					b.WriteByte(s[i])
					continue
				}
				if s[i] == '"' {
					break
				}
				b.WriteByte(s[i])
			}
			val = b.String()
			if i < len(s) {
				i++
			}
			s = s[i:]
		} else {
			end := strings.IndexAny(s, ", \t")
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
		}
		if key != "" {
			out[key] = val
		}
	}
	return out
}

func isToken(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
