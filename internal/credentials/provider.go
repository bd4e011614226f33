package credentials

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/oauth"
	"github.com/sesame-cli/sesame/internal/redact"
)

// RefreshMargin is how long before expiry a token is renewed.
const RefreshMargin = 60 * time.Second

// ErrSessionEnded means the stored login can no longer be renewed (its
// refresh token was refused, or there is none and the access token
// expired); the user must log in again.
var ErrSessionEnded = errors.New("the stored login has expired")

// Provider owns "a valid token for this API": it resolves the credential
// in the fixed order (<NAME>_TOKEN, client credentials from the env,
// <NAME>_CREDENTIALS_FILE, the stored login), reuses, refreshes or re-mints
// it under the cross-process lock (lock, re-read, write the new refresh
// token before the new access token is used), and says where it came from
// and whether it can renew. Transport builds on it.
type Provider struct {
	Env
	Warn io.Writer // warnings (a world-readable credentials file, a cache that cannot be written)
	Now  func() time.Time
	// HTTP is the client for the authorization server (refresh, mint).
	HTTP *http.Client
	// Store opens the store; it is called only when the stored login or the
	// config dir is needed, so that an env token never touches either.
	Store func() (*Store, error)

	// mintFunc replaces the client credentials grant in tests.
	mintFunc func(ctx context.Context, want MintKey, secret, issuer string) (*config.Login, error)
}

func (p *Provider) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Provider) oauth() *oauth.Client { return &oauth.Client{HTTP: p.HTTP} }

// Resolve finds the active credential without renewing it:
// <NAME>_TOKEN, then client credentials (a cached or newly minted token),
// then <NAME>_CREDENTIALS_FILE, then the stored login of the API.
func (p *Provider) Resolve(ctx context.Context) (*Token, error) { return p.find(ctx, true) }

// Find is Resolve without a request: a credential from client credentials
// in the env is named but not minted (Value is empty). It is what doctor
// reports on.
func (p *Provider) Find(ctx context.Context) (*Token, error) { return p.find(ctx, false) }

func (p *Provider) find(ctx context.Context, mint bool) (*Token, error) {
	if raw := p.env("TOKEN"); raw != "" {
		tok, err := CleanToken(raw)
		if err != nil {
			return nil, &InputError{What: p.EnvVar("TOKEN"), Problem: err.Error()}
		}
		api, from := p.API("", "")
		return &Token{
			Value: redact.Secret(tok), Source: SourceEnv,
			SourceDetail: p.EnvVar("TOKEN") + " environment variable",
			APIURL:       api, APIURLFrom: from,
		}, nil
	}
	if t, err := p.clientCredentials(ctx, mint); err != nil || t != nil {
		return t, err
	}
	if path := p.env("CREDENTIALS_FILE"); path != "" {
		what := fmt.Sprintf("credentials file %s (%s)", redact.Text(path, 300), p.EnvVar("CREDENTIALS_FILE"))
		tok, fileAPI, err := ReadCredentialsFile(path, p.GOOS, p.Warn)
		if err != nil {
			return nil, &InputError{What: what, Problem: err.Error()}
		}
		api, from := p.API(fileAPI, "")
		return &Token{
			Value: redact.Secret(tok), Source: SourceCredentialsFile, SourceDetail: what,
			APIURL: api, APIURLFrom: from, Path: path,
		}, nil
	}
	st, err := p.Store()
	if err != nil {
		return nil, err
	}
	// One read of config.json gives both the current API and its login.
	cfg, err := config.Load(st.Dir)
	if err != nil {
		return nil, err
	}
	api, from := p.API("", cfg.CurrentAPI)
	if api == "" {
		return nil, ErrNoCredential
	}
	if !absoluteHTTPURL(api) {
		if err := p.CheckAPI(api, from); err != nil {
			return nil, err // a password in it, ...: said without the password
		}
		// Not "not logged in to ftp://...": say what is wrong with the URL.
		return nil, &InputError{
			What:    fmt.Sprintf("API URL %s (from %s)", oauth.DisplayURL(api), p.FromWords(from)),
			Problem: fmt.Sprintf("%q: not an absolute http(s) URL", oauth.DisplayURL(api)),
		}
	}
	l, err := st.loadFrom(cfg, api, p.Account)
	if errors.Is(err, ErrNotLoggedIn) {
		return nil, fmt.Errorf("%w to %s", ErrNoCredential, api)
	}
	if err != nil {
		return nil, err
	}
	return p.storedToken(st, l, from), nil
}

// storedToken is the Token of a stored login.
func (p *Provider) storedToken(st *Store, l *config.Login, from string) *Token {
	t := &Token{
		Value: redact.Secret(l.AccessToken), Source: Origin(l), APIURL: l.APIURL, APIURLFrom: from, Login: l,
		Issuer: l.Issuer, Expiry: l.ExpiresAt, Scopes: l.Scopes,
	}
	if t.Source == SourceKeyring {
		t.SourceDetail = "keyring (service " + st.Service + ")"
	} else {
		t.Path = st.ConfigPath()
		t.SourceDetail = "config file " + t.Path
	}
	return t
}

// Token returns the active credential, renewed first when it is due: a
// stored login or a minted token that expires within RefreshMargin. A
// stored login that has expired and cannot be renewed is ErrSessionEnded.
func (p *Provider) Token(ctx context.Context) (*Token, error) {
	t, err := p.Resolve(ctx)
	if err != nil {
		return nil, err
	}
	if t.Login == nil || !p.due(t.Login.ExpiresAt, RefreshMargin) {
		return t, nil
	}
	if !p.Renewable(t) {
		if p.due(t.Login.ExpiresAt, 0) {
			return nil, &SessionEnded{Login: t.Login}
		}
		return t, nil // expiring soon, but still good and not renewable
	}
	if err := p.renew(ctx, t, false); isWriteError(err) {
		// The refresh worked but could not be saved: this run goes on
		// with the new tokens, and says so loudly.
		p.warnWrite(err)
	} else if err != nil {
		return nil, err
	}
	return t, nil
}

// warnWrite says that renewed tokens could not be saved.
func (p *Provider) warnWrite(err error) {
	if p.Warn != nil {
		fmt.Fprintf(p.Warn, "warning: %v; this command uses the new token, but the login may have to be made again ('%s login')\n", err, p.Name)
	}
}

// due reports whether a token expiring at exp is within margin of it.
func (p *Provider) due(exp time.Time, margin time.Duration) bool {
	return !exp.IsZero() && !p.now().Add(margin).Before(exp)
}

// Renewable reports whether the credential can get a new access token
// without the user: a stored login with a refresh token, a stored
// client-credentials login whose secret is in the env, or a token minted
// from client credentials in the env.
func (p *Provider) Renewable(t *Token) bool {
	switch {
	case t.mint != nil:
		return true
	case t.Login == nil:
		return false
	case t.Login.RefreshToken != "":
		return true
	}
	return p.canRemint(t.Login)
}

// Renew gets a new access token for t now (after the API answered 401):
// a refresh, a re-mint, or a new client-credentials token in place of the
// cached one. t is updated in place.
func (p *Provider) Renew(ctx context.Context, t *Token) error {
	if !p.Renewable(t) {
		return errors.New("this token cannot be renewed")
	}
	return p.renew(ctx, t, true)
}

// ClientSecret returns <NAME>_CLIENT_SECRET for clientID: only when
// <NAME>_CLIENT_ID names that client, or when it is unset and the login
// was made with a confidential client. A secret is never sent for another
// client's id; public clients never send one.
func (p *Provider) ClientSecret(clientID string, confidential bool) string {
	id, secret := p.env("CLIENT_ID"), p.env("CLIENT_SECRET")
	if secret == "" || clientID == "" {
		return ""
	}
	if id == clientID || (id == "" && confidential) {
		return secret
	}
	return ""
}

// MethodClientCredentials is the Login.Method of a client-credentials login.
const MethodClientCredentials = "client-credentials"

// canRemint reports whether a stored login without a refresh token can be
// renewed without a person: a client-credentials login whose secret is in
// the environment.
func (p *Provider) canRemint(l *config.Login) bool {
	return l.Method == MethodClientCredentials && l.Issuer != "" && l.ClientID != "" &&
		p.ClientSecret(l.ClientID, true) != ""
}

// SessionEnded is ErrSessionEnded for one login: the error says so and the
// exit hint can name the way to log in again.
type SessionEnded struct {
	Login *config.Login
	Err   error // the refusal, when the server refused
}

func (e *SessionEnded) Error() string {
	if e.Err != nil {
		return "the stored login has expired or was revoked"
	}
	return ErrSessionEnded.Error()
}

// Unwrap returns ErrSessionEnded and the server's refusal.
func (e *SessionEnded) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrSessionEnded}
	}
	return []error{ErrSessionEnded, e.Err}
}
