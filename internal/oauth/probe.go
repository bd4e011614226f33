package oauth

import (
	"context"
	"errors"

	"golang.org/x/oauth2"
)

// KnowsClient reports whether the token endpoint still knows app's client:
// it redeems an authorization code that cannot exist (with a PKCE
// verifier and redirectURI, as a real exchange would). Only invalid_client
// means that the server does not know the client; any other answer (the
// expected invalid_grant, a network error) counts as known, so that the
// login goes on and reports its own errors. It lets a login find a client
// the server forgot (restarted, deleted) before a browser is sent to an
// authorization page that would only show an error.
func (c *Client) KnowsClient(ctx context.Context, app App, redirectURI string) bool {
	const op = "check client"
	if err := app.check(op, app.Metadata.TokenEndpoint, "token endpoint"); err != nil {
		return true
	}
	g := c.grant(app, nil)
	_, err := app.Config(redirectURI).Exchange(g.context(ctx), "sesame-client-check-"+oauth2.GenerateVerifier()[:16], oauth2.VerifierOption(oauth2.GenerateVerifier()))
	return !UnknownClient(g.failure(ctx, op, err))
}

// UnknownClient reports whether err says that the authorization server does
// not know the client (invalid_client).
func UnknownClient(err error) bool {
	oe, ok := errors.AsType[*OAuthError](err)
	return ok && oe.Code == "invalid_client"
}
