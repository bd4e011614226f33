package cli

import (
	"context"
	"fmt"

	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/oauth"
	"github.com/sesame-cli/sesame/internal/redact"
)

// methodClientCredentials is the Login.Method of a client-credentials login.
const methodClientCredentials = "client-credentials"

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
	md, err := a.discoverIssuer(ctx, api, opts.Issuer)
	if err != nil {
		return err
	}
	app := oauth.App{Metadata: md, ClientID: id, ClientSecret: secret, Scopes: a.clientCredentialsScopes(opts.Scopes)}
	tok, err := a.oauthClient().ClientCredentials(ctx, app)
	if err != nil {
		return err
	}
	return a.storeLogin(ctx, api, app, tok, methodClientCredentials)
}

// mintCredential is the resolver's client-credentials source (between
// <NAME>_TOKEN and <NAME>_CREDENTIALS_FILE): when <NAME>_CLIENT_ID and
// <NAME>_CLIENT_SECRET are both set it returns a token minted with the
// client credentials grant for the API, reused from the cache in
// config.json until it nears expiry. Otherwise it does not apply (nil, nil).
func (a *App) mintCredential(ctx context.Context, api, from string) (*credentials.Credential, error) {
	id, secret := a.env("CLIENT_ID"), a.env("CLIENT_SECRET")
	if id == "" || secret == "" {
		return nil, nil
	}
	if err := a.checkAPIURL(api, from); err != nil {
		return nil, err
	}
	scopes := a.clientCredentialsScopes("")
	mint := func(ctx context.Context, issuer string) (*credentials.Minted, error) {
		md, err := a.discoverIssuer(ctx, api, issuer)
		if err != nil {
			return nil, err
		}
		app := oauth.App{Metadata: md, ClientID: id, ClientSecret: secret, Scopes: scopes}
		tok, err := a.oauthClient().ClientCredentials(ctx, app)
		if err != nil {
			return nil, err
		}
		return &credentials.Minted{Issuer: md.Issuer, AccessToken: tok.AccessToken, ExpiresAt: tok.Expiry, Scopes: cleanScopes(tok.Scopes)}, nil
	}
	var (
		m   *credentials.Minted
		err error
	)
	if dir, derr := a.ConfigDir(); derr == nil {
		cache := &credentials.MintCache{Dir: dir, Now: a.Now, Warn: a.Stderr}
		m, err = cache.Token(ctx, api, id, scopes, mint)
	} else {
		m, err = mint(ctx, "")
	}
	if err != nil {
		return nil, fmt.Errorf("get a token with %s and %s: %w", a.envName("CLIENT_ID"), a.envName("CLIENT_SECRET"), err)
	}
	return &credentials.Credential{
		Token:        redact.Secret(m.AccessToken),
		Source:       credentials.SourceClientCredentials,
		SourceDetail: "client credentials " + a.envName("CLIENT_ID") + "=" + id,
		APIURL:       api,
		APIURLFrom:   from,
	}, nil
}

// canRemint reports whether a stored login without a refresh token can be
// renewed without a person: a client-credentials login whose secret is in
// the environment.
func (a *App) canRemint(s *credentials.Stored) bool {
	return s.Login.Method == methodClientCredentials && s.Login.Issuer != "" && s.Login.ClientID != "" &&
		a.clientSecretFor(s.Login.ClientID, true) != ""
}

// remint renews a client-credentials login in place.
func (a *App) remint(ctx context.Context, cred *credentials.Credential, force bool) error {
	st, err := a.Store()
	if err != nil {
		return err
	}
	next, err := st.Remint(ctx, cred.Stored, force, a.remintFunc)
	if err != nil {
		return fmt.Errorf("renew the client-credentials token: %w", err)
	}
	cred.Stored = next
	cred.Token = redact.Secret(next.AccessToken)
	return nil
}

// remintFunc mints a new token for a stored client-credentials login with
// the scopes the login asked for (for a login stored before they were
// recorded, the scopes it holds).
func (a *App) remintFunc(ctx context.Context, cur *credentials.Stored) (*credentials.RefreshResult, error) {
	oc := a.oauthClient()
	md, err := oc.Discover(ctx, cur.Login.Issuer)
	if err != nil {
		return nil, err
	}
	scopes := cur.Login.RequestedScopes
	if scopes == nil {
		scopes = cur.Login.Scopes
	}
	app := oauth.App{Metadata: md, ClientID: cur.Login.ClientID, ClientSecret: a.clientSecretFor(cur.Login.ClientID, true), Scopes: scopes}
	tok, err := oc.ClientCredentials(ctx, app)
	if err != nil {
		return nil, err
	}
	return refreshResult(tok), nil
}

// loginAgainHint says how to get a new login when a stored one ended.
func (a *App) loginAgainHint(s *credentials.Stored) string {
	if s != nil && s.Login.Method == methodClientCredentials {
		return "set " + a.envName("CLIENT_SECRET") + " to renew it, or run '" + a.Name + " login --client-credentials' again"
	}
	return "run '" + a.Name + " login' again"
}
