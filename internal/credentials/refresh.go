package credentials

import (
	"context"
	"errors"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
)

// RefreshMargin is how long before expiry a stored access token is refreshed.
const RefreshMargin = 60 * time.Second

// ErrInvalidGrant is returned by a RefreshFunc (wrapped) when the server
// refused the refresh token (OAuth invalid_grant).
var ErrInvalidGrant = errors.New("the refresh token was refused")

// ErrSessionEnded means the stored login can no longer be refreshed (its
// refresh token was refused, or there is none and the access token expired);
// the user must log in again.
var ErrSessionEnded = errors.New("the stored login has expired")

// RefreshResult is what a refresh returned. An empty RefreshToken means the
// server did not rotate it: the old one stays.
type RefreshResult struct {
	AccessToken  string
	RefreshToken string
	TokenType    string
	Expiry       time.Time
	Scopes       []string
}

// RefreshFunc exchanges the stored refresh token for new tokens.
type RefreshFunc func(ctx context.Context, cur *Stored) (*RefreshResult, error)

// Refresh renews the login of seen.APIURL safely across processes. Under
// the config lock it re-reads the store; if another process already
// replaced the access token seen (and the new one is not expiring), it
// returns that one without a request. Otherwise it calls fn and writes the
// new refresh token and access token before returning them. If the server
// refuses the refresh token that is still the stored one, the login is
// removed and ErrSessionEnded returned. Any other failure (network) leaves
// the store untouched.
func (s *Store) Refresh(ctx context.Context, seen *Stored, force bool, fn RefreshFunc) (*Stored, error) {
	return s.renew(ctx, seen, force, fn, true)
}

// renew is Refresh and Remint: withRefreshToken says whether fn needs the
// stored refresh token.
func (s *Store) renew(ctx context.Context, seen *Stored, force bool, fn RefreshFunc, withRefreshToken bool) (*Stored, error) {
	unlock, err := config.Lock(ctx, s.Dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	cfg, err := config.Load(s.Dir)
	if err != nil {
		return nil, err
	}
	cur, err := s.loadFrom(cfg, seen.APIURL)
	if errors.Is(err, ErrNotLoggedIn) {
		return nil, ErrSessionEnded // logged out meanwhile
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if cur.AccessToken != seen.AccessToken && !Expired(cur, now, 0) {
		return cur, nil // a sibling process refreshed while we waited
	}
	if !force && !Expired(cur, now, RefreshMargin) {
		return cur, nil
	}
	if withRefreshToken && cur.RefreshToken == "" {
		return nil, ErrSessionEnded
	}
	res, err := fn(ctx, cur)
	if errors.Is(err, ErrInvalidGrant) {
		// Under the lock the stored refresh token is still the one that
		// failed, so the login is really over.
		s.dropLocked(cfg, cur)
		return nil, errors.Join(ErrSessionEnded, err)
	}
	if err != nil {
		return nil, err
	}
	next := &Stored{APIURL: cur.APIURL, Login: cur.Login, AccessToken: res.AccessToken, RefreshToken: cur.RefreshToken}
	if res.RefreshToken != "" {
		next.RefreshToken = res.RefreshToken
	}
	next.Login.ExpiresAt = res.Expiry.UTC()
	if res.Expiry.IsZero() {
		next.Login.ExpiresAt = time.Time{}
	}
	if res.TokenType != "" {
		next.Login.TokenType = res.TokenType
	}
	if res.Scopes != nil {
		next.Login.Scopes = res.Scopes
	}
	if _, err := s.SaveLocked(cfg, next); err != nil {
		return nil, err
	}
	return next, nil
}

// dropLocked removes a dead login (best effort) while the lock is held.
func (s *Store) dropLocked(cfg *config.File, cur *Stored) {
	if cur.Login.Storage == config.StorageKeyring {
		_ = s.Keyring.Delete(s.Service, cur.APIURL)
	}
	delete(cfg.APIs, cur.APIURL)
	_ = config.Save(s.Dir, cfg)
}
