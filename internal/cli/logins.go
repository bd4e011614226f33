package cli

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/sesame-cli/sesame/internal/apiclient"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/oauth"
	"github.com/sesame-cli/sesame/internal/redact"
	"golang.org/x/oauth2"
)

// Storing a login: shared by login (every way), auth set and login --resume.

// readTokenInput reads a token (raw or JSON) from stdin.
func (a *App) readTokenInput() (string, string, error) {
	data, err := io.ReadAll(io.LimitReader(a.Stdin, credentials.MaxInput+1))
	if err != nil {
		return "", "", &credentials.InputError{What: "stdin", Problem: "cannot read"}
	}
	tok, api, err := credentials.ParseTokenInput(data)
	if err != nil {
		return "", "", &credentials.InputError{What: "stdin", Problem: err.Error()}
	}
	return tok, api, nil
}

// loginAPI picks the API a login is for: --api-url > <NAME>_API_URL >
// given (from the input) > the config's current API > the build default.
func (a *App) loginAPI(given string) (string, error) {
	env := a.credEnv()
	current := ""
	if given == "" && a.apiURLFlag == "" && a.env("API_URL") == "" {
		st, err := a.Store()
		if err != nil {
			return "", err
		}
		if current, err = st.CurrentAPI(); err != nil {
			return "", err
		}
	}
	api, from := env.API(given, current)
	if from == "credentials-file" {
		from = "stdin"
	}
	if err := env.CheckAPI(api, from); err != nil {
		return "", err
	}
	return api, nil
}

// validateAndStore checks a pasted token with one API call and stores it.
func (a *App) validateAndStore(ctx context.Context, tok, givenAPI, method string) error {
	a.issued = append(a.issued, tok)
	api, err := a.loginAPI(givenAPI)
	if err != nil {
		return err
	}
	a.noteAPIOverride(givenAPI, api)
	me, err := a.apiClient(&credentials.Token{Value: redact.Secret(tok), APIURL: api}).Me(ctx, a.mePath())
	if err != nil {
		var ae *apiclient.AuthError
		if errors.As(err, &ae) {
			return withHint(&restated{msg: "the API rejected the token; nothing was stored", err: err}, "check the token (expired or revoked?) and the API URL "+api)
		}
		return err
	}
	return a.saveLogin(ctx, &config.Login{APIURL: api, AccessToken: tok, TokenType: "Bearer", User: apiclient.Identity(me), Account: apiclient.Account(me), Method: method})
}

func (a *App) whereWords(where string) string {
	if where == config.StorageKeyring {
		return "the OS keyring"
	}
	return a.store.ConfigPath()
}

// storeLogin checks the tokens a grant returned, saves the login and says
// who is logged in.
func (a *App) storeLogin(ctx context.Context, api string, app oauth.App, tok *oauth2.Token, method string) error {
	a.issued = append(a.issued, tok.AccessToken, tok.RefreshToken)
	if err := oauth.CheckIssued(tok); err != nil {
		return err
	}
	scopes := oauth.GrantedScopes(tok)
	if scopes == nil {
		scopes = app.Scopes
	}
	who, err := a.identify(ctx, api, app, tok)
	if err != nil {
		return err
	}
	l := &config.Login{
		APIURL:          api,
		AccessToken:     tok.AccessToken,
		RefreshToken:    tok.RefreshToken,
		Issuer:          app.Metadata.Issuer,
		ClientID:        app.ClientID,
		Scopes:          credentials.APIScopes(scopes),
		RequestedScopes: app.Scopes,
		TokenType:       tok.TokenType,
		ExpiresAt:       tok.Expiry.UTC(),
		User:            who.display,
		Account:         who.account,
		Method:          method,
		Confidential:    app.ClientSecret != "",
		Resource:        app.Resource,
	}
	if tok.Expiry.IsZero() {
		l.ExpiresAt = time.Time{}
	}
	return a.saveLogin(ctx, l)
}

// saveLogin stores a login, makes its API the current one and says so.
func (a *App) saveLogin(ctx context.Context, l *config.Login) error {
	st, err := a.Store()
	if err != nil {
		return err
	}
	where, err := st.Save(ctx, l, true)
	if err != nil {
		return err
	}
	a.errf("Logged in to %s as %s (token stored in %s)", l.APIURL, l.User, a.whereWords(where))
	a.afterSave(l, where)
	return nil
}
