package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/sesame-cli/sesame/internal/apiclient"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/oauth"
	"github.com/sesame-cli/sesame/internal/redact"
	"golang.org/x/oauth2"
)

// identify names who just logged in: the API's /v1/me first; when the API
// has no such endpoint, the issuer's userinfo, then the ID token's claims
// (decoded for display only: it came straight from the token endpoint).
func (a *App) identify(ctx context.Context, api string, app oauth.App, tok *oauth2.Token) (string, error) {
	me, err := a.apiClient(&credentials.Token{Value: redact.Secret(tok.AccessToken), APIURL: api}).Me(ctx, a.mePath())
	if err == nil {
		return apiclient.Identity(me), nil
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if app.Metadata != nil && app.Metadata.UserinfoEndpoint != "" {
		if _, uerr := oauth.CheckURL(app.Metadata.UserinfoEndpoint); uerr == nil {
			ut := &credentials.Token{Value: redact.Secret(tok.AccessToken), APIURL: originOf(app.Metadata.UserinfoEndpoint)}
			uc := &apiclient.Client{HTTP: a.Provider().Client(ut, a.HTTPClient()), BaseURL: app.Metadata.UserinfoEndpoint}
			if info, uerr := uc.GetJSONAt(ctx); uerr == nil {
				return apiclient.Identity(info), nil
			}
		}
	}
	if claims := idTokenClaims(oauth.IDToken(tok)); claims != nil {
		return apiclient.Identity(claims), nil
	}
	a.errf("warning: the API did not say who you are (%v)", oneLine(err.Error()))
	return "unknown user", nil
}

// idTokenClaims decodes a JWT's payload without verifying it; nil when it
// is not one. Only for naming the user in a message.
func idTokenClaims(jwt string) map[string]any {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var claims map[string]any
	if json.Unmarshal(data, &claims) != nil {
		return nil
	}
	return claims
}

// originOf is scheme://host of a URL ("" when it has none).
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
