package cli

import (
	"context"

	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/oauth"
)

// clientCredentialsScopes are the scopes to ask for: --scopes, else
// <NAME>_SCOPES, else none (no scope parameter: the server's default).
func (a *App) clientCredentialsScopes(flag string) []string {
	if flag == "" {
		flag = a.env("SCOPES")
	}
	return credentials.NewMintKey("", "", "", oauth.ParseScopes(flag)).Scopes
}

// runClientCredentialsLogin gets a token with the client credentials grant
// from <NAME>_CLIENT_ID (or --client-id) and <NAME>_CLIENT_SECRET and stores
// it like any login. There is no refresh token: when it nears expiry and the
// secret is still in the environment, it is minted again.
func (a *App) runClientCredentialsLogin(ctx context.Context, opts *loginOptions) error {
	id := opts.ClientID
	if id == "" {
		id = a.env("CLIENT_ID")
	}
	secret := a.env("CLIENT_SECRET")
	switch {
	case id == "":
		return withHint(usageErrorf("--client-credentials needs a client id: set %s", a.envName("CLIENT_ID")),
			"set "+a.envName("CLIENT_ID")+" and "+a.envName("CLIENT_SECRET"))
	case secret == "":
		return withHint(usageErrorf("--client-credentials needs %s (the secret is never read from a flag)", a.envName("CLIENT_SECRET")),
			"set "+a.envName("CLIENT_SECRET")+" in the environment")
	}
	api, err := a.loginAPI("")
	if err != nil {
		return err
	}
	md, err := a.discoverIssuer(ctx, api)
	if err != nil {
		return err
	}
	app := oauth.App{Metadata: md, ClientID: id, ClientSecret: secret, Scopes: a.clientCredentialsScopes(opts.Scopes)}
	tok, err := a.oauthClient().ClientCredentials(ctx, app)
	if err != nil {
		return err
	}
	return a.storeLogin(ctx, api, app, tok, credentials.MethodClientCredentials)
}

// loginAgainHint says how to get a new login when a stored one ended.
func (a *App) loginAgainHint(method string) string {
	if method == credentials.MethodClientCredentials {
		return "set " + a.envName("CLIENT_SECRET") + " to renew it, or run '" + a.Name + " login --client-credentials' again"
	}
	return "run '" + a.Name + " login' again"
}
