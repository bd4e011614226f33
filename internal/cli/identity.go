package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/sesame-cli/sesame/internal/apiclient"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/oauth"
	"github.com/sesame-cli/sesame/internal/redact"
	"golang.org/x/oauth2"
)

// identity is who a login belongs to: for people, and the account name
// that tells several logins to one API apart.
type identity struct{ display, account string }

func identityOf(claims map[string]any) identity {
	return identity{apiclient.Identity(claims), apiclient.Account(claims)}
}

// identify names who just logged in: the API's me-path first; when the
// API has no such endpoint, the issuer's userinfo, then the ID token's
// claims (decoded for display only: it came straight from the token
// endpoint). An API that refuses the new token (401) fails the login: the
// token is for another audience or resource.
func (a *App) identify(ctx context.Context, api string, app oauth.App, tok *oauth2.Token) (identity, error) {
	me, err := a.apiClient(&credentials.Token{Value: redact.Secret(tok.AccessToken), APIURL: api}).Me(ctx, a.mePath())
	if err == nil {
		return identityOf(me), nil
	}
	if ctx.Err() != nil {
		return identity{}, ctx.Err()
	}
	if _, ok := errors.AsType[*apiclient.AuthError](err); ok {
		return identity{}, withHint(&restated{msg: "the API refused the token the authorization server just issued (401); nothing was stored", err: err},
			"the token may be for another audience or resource: check --issuer and --resource for "+api)
	}
	if app.Metadata != nil && app.Metadata.UserinfoEndpoint != "" {
		if _, uerr := oauth.CheckURL(app.Metadata.UserinfoEndpoint); uerr == nil {
			ut := &credentials.Token{Value: redact.Secret(tok.AccessToken), APIURL: httpx.Origin(app.Metadata.UserinfoEndpoint)}
			uc := &apiclient.Client{HTTP: a.Provider().Client(ut, a.HTTPClient()), BaseURL: app.Metadata.UserinfoEndpoint}
			if info, uerr := uc.GetJSONAt(ctx); uerr == nil {
				return identityOf(info), nil
			}
		}
	}
	if claims := idTokenClaims(oauth.IDToken(tok)); claims != nil {
		return identityOf(claims), nil
	}
	if !noIdentityEndpoint(err) {
		a.errf("warning: the API did not say who you are (%v)", oneLine(err.Error()))
	}
	return identity{display: "unknown user"}, nil
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
