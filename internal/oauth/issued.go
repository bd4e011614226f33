package oauth

import (
	"errors"

	"golang.org/x/oauth2"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// MaxToken bounds an issued token.
const MaxToken = 16 << 10

// CheckIssued checks the tokens a grant returned before anything stores or
// sends them, as pasted tokens are checked: the access token must be an RFC
// 6750 b64token (it goes into an Authorization header) and the refresh
// token printable ASCII (RFC 6749 VSCHAR), each at most 16 KiB. A hostile
// token is a ResponseError (the server answered nonsense).
func CheckIssued(t *oauth2.Token) error {
	bad := func(problem string) error {
		return &httpx.ResponseError{Server: httpx.Issuer, Op: "token response", Problem: problem}
	}
	if err := checkB64Token(t.AccessToken); err != nil {
		return bad("the access token " + err.Error())
	}
	if t.RefreshToken != "" {
		if len(t.RefreshToken) > MaxToken {
			return bad("the refresh token is longer than 16 KiB")
		}
		for i := 0; i < len(t.RefreshToken); i++ {
			if c := t.RefreshToken[i]; c < 0x20 || c > 0x7e {
				return bad("the refresh token contains characters outside RFC 6749 VSCHAR")
			}
		}
	}
	return nil
}

// checkB64Token checks RFC 6750's b64token: 1*( ALPHA / DIGIT / "-" / "." /
// "_" / "~" / "+" / "/" ) *"=".
func checkB64Token(s string) error {
	switch {
	case s == "":
		return errors.New("is empty")
	case len(s) > MaxToken:
		return errors.New("is longer than 16 KiB")
	}
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' {
			continue
		}
		break
	}
	if i == 0 {
		return errors.New("contains characters outside RFC 6750 b64token")
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return errors.New("contains characters outside RFC 6750 b64token")
		}
	}
	return nil
}
