package credentials

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/oauth"
	"github.com/sesame-cli/sesame/internal/redact"
)

// renew renews t in place (force: even when it does not look due, after a
// 401).
func (p *Provider) renew(ctx context.Context, t *Token, force bool) error {
	if t.mint != nil {
		return p.remintEnv(ctx, t)
	}
	st, err := p.Store()
	if err != nil {
		return err
	}
	var l *config.Login
	if t.Login.RefreshToken != "" {
		l, err = p.renewStored(ctx, st, t.Login, force, p.refreshGrant)
		if err != nil && !errors.Is(err, ErrSessionEnded) && !isWriteError(err) {
			err = fmt.Errorf("refresh the token: %w", err)
		}
	} else {
		l, err = p.renewStored(ctx, st, t.Login, force, p.mintGrant)
		if err != nil && !isWriteError(err) {
			err = fmt.Errorf("renew the client-credentials token: %w", err)
		}
	}
	if l != nil {
		*t = *p.storedToken(st, l, t.APIURLFrom)
	}
	return err
}

// grantFunc gets new tokens for a stored login.
type grantFunc func(ctx context.Context, cur *config.Login) (*oauth2.Token, error)

// renewStored renews the stored login seen safely across processes. Under
// the config lock it re-reads the store; if another process already
// replaced the access token seen (and the new one is not expiring), it
// returns that one without a request. Otherwise it calls grant and writes
// the new refresh token and access token before returning them. If the
// server refuses the refresh token that is still the stored one
// (invalid_grant), the login is removed and a SessionEnded returned. Any
// other failure (network) leaves the store untouched. When the new tokens
// cannot be written, they are returned with the write error (a
// *WriteError): usable for this run, not saved.
func (p *Provider) renewStored(ctx context.Context, st *Store, seen *config.Login, force bool, grant grantFunc) (*config.Login, error) {
	var next *config.Login
	var ended *SessionEnded
	// While waiting for the lock: has a sibling renewed (or removed) it?
	// Only config.json's metadata is read (no keyring call per poll).
	renewed := func(cfg *config.File) bool {
		l, _ := find(cfg, seen.APIURL, seen.AccountName())
		return l == nil || (l.UpdatedAt.After(seen.UpdatedAt) && !p.due(l.ExpiresAt, 0))
	}
	err := config.UpdateUnless(ctx, st.Dir, renewed, func(cfg *config.File) error {
		cur, err := st.loadFrom(cfg, seen.APIURL, seen.AccountName())
		if errors.Is(err, ErrNotLoggedIn) {
			return &SessionEnded{Login: seen} // logged out meanwhile
		}
		if err != nil {
			return err
		}
		if cur.AccessToken != seen.AccessToken && !p.due(cur.ExpiresAt, 0) {
			next = cur // a sibling process renewed it while we waited
			return config.ErrUnchanged
		}
		if !force && !p.due(cur.ExpiresAt, RefreshMargin) {
			next = cur
			return config.ErrUnchanged
		}
		tok, err := grant(ctx, cur)
		if oe, ok := errors.AsType[*oauth.OAuthError](err); ok && cur.RefreshToken != "" && (oe.Code == "invalid_grant" || oe.Code == "invalid_token") {
			// Under the lock the stored refresh token is still the one that
			// failed, so the login is really over.
			if cur.Storage == config.StorageKeyring {
				_ = st.Keyring.Delete(st.Service, keyringUser(cur))
			}
			if l, _ := find(cfg, cur.APIURL, cur.AccountName()); l != nil {
				current := cfg.CurrentAPI
				st.drop(cfg, cur.APIURL, l)
				cfg.CurrentAPI = current // "not logged in to API" from now on
			}
			ended = &SessionEnded{Login: cur, Err: err}
			return nil
		}
		if err != nil {
			if cur.RefreshToken != "" && refused(err) && !(cur.Confidential && oauth.UnknownClient(err)) {
				// Any 400/401 of the token endpoint to a refresh: the
				// login is no longer valid (a revoked chain may answer
				// without a JSON body). Not so for a confidential client
				// whose secret is refused: the secret is what to fix.
				return &SessionEnded{Login: cur, Err: err}
			}
			return err
		}
		if err := oauth.CheckIssued(tok); err != nil {
			return err
		}
		n := *cur
		n.AccessToken, n.ExpiresAt = tok.AccessToken, tok.Expiry.UTC()
		if tok.Expiry.IsZero() {
			n.ExpiresAt = time.Time{}
		}
		if tok.RefreshToken != "" {
			n.RefreshToken = tok.RefreshToken
		}
		if tok.TokenType != "" {
			n.TokenType = tok.TokenType
		}
		if s := APIScopes(oauth.GrantedScopes(tok)); s != nil {
			n.Scopes = s
		}
		next = &n
		if _, err := st.put(cfg, &n, false); err != nil {
			return &WriteError{Err: err}
		}
		return nil
	})
	if errors.Is(err, config.ErrDone) {
		l, err := st.Load(seen.APIURL, seen.AccountName())
		if errors.Is(err, ErrNotLoggedIn) {
			return nil, &SessionEnded{Login: seen}
		}
		return l, err
	}
	if ended != nil {
		return nil, ended
	}
	if err == nil || next == nil {
		return next, err
	}
	if _, ok := errors.AsType[*SessionEnded](err); ok {
		return nil, err
	}
	// The grant succeeded but the new tokens could not be written: the old
	// refresh token may already be spent, so this run uses the new ones and
	// the write is tried once more.
	if _, err2 := st.Save(ctx, next, false); err2 == nil {
		return next, nil
	}
	return next, &WriteError{Err: err}
}

// WriteError means renewed tokens could not be saved: they work for this
// run, but the login must be made again later.
type WriteError struct{ Err error }

func (e *WriteError) Error() string {
	return "the renewed login could not be saved: " + e.Err.Error()
}
func (e *WriteError) Unwrap() error { return e.Err }

func isWriteError(err error) bool {
	_, ok := errors.AsType[*WriteError](err)
	return ok
}

// APIScopes drops the OpenID protocol scopes, which say nothing about what
// the API allows.
func APIScopes(scopes []string) []string {
	if scopes == nil {
		return nil
	}
	return slices.DeleteFunc(slices.Clone(scopes), func(s string) bool { return s == "openid" || s == "offline_access" })
}

// app is the OAuth client of a stored login at its issuer.
func (p *Provider) app(ctx context.Context, l *config.Login, secret string) (oauth.App, error) {
	md, err := p.oauth().Discover(ctx, l.Issuer)
	if err != nil {
		return oauth.App{}, err
	}
	return oauth.App{Metadata: md, ClientID: l.ClientID, ClientSecret: secret, Resource: l.Resource}, nil
}

// refreshGrant is the refresh grant for a stored login.
func (p *Provider) refreshGrant(ctx context.Context, cur *config.Login) (*oauth2.Token, error) {
	if cur.Issuer == "" || cur.ClientID == "" {
		return nil, &SessionEnded{Login: cur}
	}
	app, err := p.app(ctx, cur, p.ClientSecret(cur.ClientID, cur.Confidential))
	if err != nil {
		return nil, err
	}
	return p.oauth().Refresh(ctx, app, cur.RefreshToken)
}

// mintGrant mints a new token for a stored client-credentials login with
// the scopes the login asked for (for a login stored before they were
// recorded, the scopes it holds).
func (p *Provider) mintGrant(ctx context.Context, cur *config.Login) (*oauth2.Token, error) {
	app, err := p.app(ctx, cur, p.ClientSecret(cur.ClientID, true))
	if err != nil {
		return nil, err
	}
	app.Scopes = cur.RequestedScopes
	if app.Scopes == nil {
		app.Scopes = cur.Scopes
	}
	return p.oauth().ClientCredentials(ctx, app)
}

// DiscoverFromAPI finds the authorization server of an API (RFC 9728, the
// API host without "api.") and fetches its metadata. resource is the
// API's RFC 9728 resource ("" without metadata).
func (p *Provider) DiscoverFromAPI(ctx context.Context, api string) (md *oauth.Metadata, resource string, err error) {
	issuer, _, resource, err := p.oauth().FindIssuer(ctx, api)
	if err != nil {
		return nil, "", err
	}
	if _, err := oauth.CheckURL(issuer); err != nil {
		return nil, "", fmt.Errorf("issuer %s: %w", redact.Text(issuer, 300), err)
	}
	md, err = p.oauth().Discover(ctx, issuer)
	return md, resource, err
}

// refused reports whether the token endpoint answered 400 or 401.
func refused(err error) bool {
	if oe, ok := errors.AsType[*oauth.OAuthError](err); ok {
		return oe.Status == http.StatusBadRequest || oe.Status == http.StatusUnauthorized
	}
	if re, ok := errors.AsType[*httpx.ResponseError](err); ok {
		return re.Server == httpx.Issuer && (re.Status == http.StatusBadRequest || re.Status == http.StatusUnauthorized)
	}
	return false
}
