package oauth

import (
	"golang.org/x/oauth2"

	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/redact"
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
	if err := redact.CheckToken(t.AccessToken); err != nil {
		return bad("the access " + err.Error())
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
