package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/oauth"
	"github.com/sesame-cli/sesame/internal/redact"
)

// activeCredential resolves the token every command uses, checks its API
// URL and refreshes a stored login that is about to expire.
func (a *App) activeCredential(ctx context.Context) (*credentials.Credential, error) {
	cred, err := credentials.Resolve(ctx, a.credEnv())
	if err != nil {
		return nil, err
	}
	if err := a.checkAPIURL(cred.APIURL, cred.APIURLFrom); err != nil {
		return nil, err
	}
	if cred.Stored != nil && credentials.Expired(cred.Stored, a.Now(), credentials.RefreshMargin) {
		if cred.Stored.RefreshToken == "" && !a.canRemint(cred.Stored) {
			if credentials.Expired(cred.Stored, a.Now(), 0) {
				return nil, withHint(credentials.ErrSessionEnded, a.loginAgainHint(cred.Stored))
			}
			return cred, nil // expiring soon, but still good and not renewable
		}
		if err := a.refresh(ctx, cred, false); err != nil {
			return nil, err
		}
	}
	return cred, nil
}

// renewable reports whether a stored login can get a new access token
// without the user: a refresh token, or client credentials in the env.
func (a *App) renewable(cred *credentials.Credential) bool {
	return cred.Stored != nil && (cred.Stored.RefreshToken != "" || a.canRemint(cred.Stored))
}

// refresh renews a stored credential in place (force: even if it does not
// look expired, after the API answered 401).
func (a *App) refresh(ctx context.Context, cred *credentials.Credential, force bool) error {
	if cred.Stored == nil {
		return errors.New("only a stored login can be refreshed")
	}
	if cred.Stored.RefreshToken == "" && a.canRemint(cred.Stored) {
		return a.remint(ctx, cred, force)
	}
	st, err := a.Store()
	if err != nil {
		return err
	}
	next, err := st.Refresh(ctx, cred.Stored, force, a.refreshFunc)
	if err != nil {
		if errors.Is(err, credentials.ErrSessionEnded) {
			return withHint(&restated{msg: "the stored login has expired or was revoked", err: err}, "run '"+a.Name+" login' again")
		}
		return fmt.Errorf("refresh the token: %w", err)
	}
	cred.Stored = next
	cred.Token = redact.Secret(next.AccessToken)
	return nil
}

// refreshFunc is the OAuth refresh grant for a stored login.
func (a *App) refreshFunc(ctx context.Context, cur *credentials.Stored) (*credentials.RefreshResult, error) {
	if cur.Login.Issuer == "" || cur.Login.ClientID == "" {
		return nil, credentials.ErrSessionEnded
	}
	oc := a.oauthClient()
	md, err := oc.Discover(ctx, cur.Login.Issuer)
	if err != nil {
		return nil, err
	}
	app := oauth.App{Metadata: md, ClientID: cur.Login.ClientID, ClientSecret: a.clientSecretFor(cur.Login.ClientID, cur.Login.Confidential)}
	tok, err := oc.Refresh(ctx, app, cur.RefreshToken)
	if err != nil {
		var oe *oauth.OAuthError
		if errors.As(err, &oe) && (oe.Code == "invalid_grant" || oe.Code == "invalid_token") {
			return nil, fmt.Errorf("%w: %w", credentials.ErrInvalidGrant, err)
		}
		return nil, err
	}
	return refreshResult(tok), nil
}

// refreshResult is what a renewal got, for the store.
func refreshResult(tok *oauth.Token) *credentials.RefreshResult {
	return &credentials.RefreshResult{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		TokenType:    tok.TokenType,
		Expiry:       tok.Expiry,
		Scopes:       cleanScopes(tok.Scopes),
	}
}

// checkAPIURL refuses a missing, malformed or non-HTTPS (non-loopback) API URL.
func (a *App) checkAPIURL(api, from string) error {
	if api == "" {
		return fmt.Errorf("%w: pass --api-url or set %s", credentials.ErrNoAPIURL, a.envName("API_URL"))
	}
	if _, err := oauth.CheckURL(api); err != nil {
		return fmt.Errorf("API URL %s (from %s): %w", api, a.credEnv().FromWords(from), err)
	}
	return nil
}
