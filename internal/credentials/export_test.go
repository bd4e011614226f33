package credentials

import (
	"context"
	"io"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
)

// Minted, MintFunc and MintCache drive the client-credentials cache of
// Provider (mintEnv) with a fake grant, as the tests of the cache did when
// it was a type of its own.
type Minted struct {
	Issuer      string
	AccessToken string
	ExpiresAt   time.Time
	Scopes      []string
	Cached      bool
}

type MintFunc func(ctx context.Context, issuer string) (*Minted, error)

type MintCache struct {
	Dir  string
	Now  func() time.Time
	Warn io.Writer
}

func (c *MintCache) Token(ctx context.Context, api, clientID string, scopes []string, mint MintFunc) (*Minted, error) {
	p := &Provider{
		Env:  Env{Name: "sesame", Getenv: func(string) string { return "" }},
		Now:  c.Now,
		Warn: c.Warn,
		Store: func() (*Store, error) {
			return &Store{Dir: c.Dir, Service: "sesame", Storage: StorageFile, Now: c.Now}, nil
		},
		mintFunc: func(ctx context.Context, _ MintKey, _, issuer string) (*config.Login, error) {
			m, err := mint(ctx, issuer)
			if err != nil {
				return nil, err
			}
			exp := m.ExpiresAt
			if exp.IsZero() {
				exp = p0(c.Now).Add(NoExpiryReuse)
			}
			return &config.Login{Issuer: m.Issuer, AccessToken: m.AccessToken, ExpiresAt: exp, Scopes: m.Scopes}, nil
		},
	}
	t := &Token{APIURL: api, mint: &mintRequest{key: NewMintKey(api, clientID, "", scopes), secret: "s"}}
	cached, err := p.mintEnv(ctx, t, false, nil)
	if err != nil {
		return nil, err
	}
	return &Minted{Issuer: t.Issuer, AccessToken: t.Value.Reveal(), ExpiresAt: t.Expiry, Scopes: t.Scopes, Cached: cached}, nil
}

func p0(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}
