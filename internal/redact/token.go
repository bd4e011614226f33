package redact

import "errors"

// MaxToken bounds a bearer token (access or refresh), in bytes.
const MaxToken = 16 << 10

// Errors of CheckToken. They never hold the token.
var (
	ErrTokenEmpty   = errors.New("token is empty")
	ErrTokenTooLong = errors.New("token is longer than 16 KiB")
	ErrTokenCharset = errors.New("token contains characters outside RFC 6750 b64token")
)

// CheckToken validates a bearer token that was issued by a server or pasted
// by the user, before it is stored or sent: it must be RFC 6750's b64token,
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", and at most
// MaxToken bytes. So a token can never carry a control character, a space,
// a line break (header injection) or a quote. Refresh tokens are checked with
// the same function. The error is one of ErrTokenEmpty, ErrTokenTooLong and
// ErrTokenCharset.
func CheckToken(tok string) error {
	switch {
	case tok == "":
		return ErrTokenEmpty
	case len(tok) > MaxToken:
		return ErrTokenTooLong
	}
	i := 0
	for i < len(tok) && b64tokenChar(tok[i]) {
		i++
	}
	if i == 0 {
		return ErrTokenCharset
	}
	for i < len(tok) && tok[i] == '=' {
		i++
	}
	if i != len(tok) {
		return ErrTokenCharset
	}
	return nil
}

func b64tokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '+', '/':
		return true
	}
	return false
}
