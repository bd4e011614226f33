package credentials

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
)

// NoExpiryReuse is how long a minted token that came without expires_in is
// reused from the cache.
const NoExpiryReuse = 5 * time.Minute

// MintKey names a cached client-credentials token: the API it is used for,
// the client, the issuer that minted it and the scopes asked for. It never
// holds the client secret. Its String form is the key in config.json's
// "minted" map.
type MintKey struct {
	APIURL   string
	ClientID string
	Issuer   string
	Scopes   []string // sorted, without duplicates (see NewMintKey)
}

// NewMintKey returns the key of (api, clientID, issuer, scopes) with the
// scopes sorted and deduplicated, so that "b a" and "a b" share a token.
func NewMintKey(api, clientID, issuer string, scopes []string) MintKey {
	s := slices.Clone(scopes)
	slices.Sort(s)
	s = slices.Compact(s)
	if len(s) == 0 {
		s = nil
	}
	return MintKey{APIURL: api, ClientID: clientID, Issuer: issuer, Scopes: s}
}

// String encodes the key as a query string (api, client_id, issuer, scope):
// unambiguous whatever the values hold.
func (k MintKey) String() string {
	v := url.Values{"api": {k.APIURL}, "client_id": {k.ClientID}, "issuer": {k.Issuer}}
	if len(k.Scopes) > 0 {
		v.Set("scope", strings.Join(k.Scopes, " "))
	}
	return v.Encode()
}

// parseMintKey decodes String's form.
func parseMintKey(s string) (MintKey, bool) {
	v, err := url.ParseQuery(s)
	if err != nil || v.Get("api") == "" || v.Get("client_id") == "" || v.Get("issuer") == "" {
		return MintKey{}, false
	}
	return NewMintKey(v.Get("api"), v.Get("client_id"), v.Get("issuer"), strings.Fields(v.Get("scope"))), true
}

// sameRequest reports whether k is for the same API, client and scopes as
// want (whatever the issuer).
func (k MintKey) sameRequest(want MintKey) bool {
	return k.APIURL == want.APIURL && k.ClientID == want.ClientID && slices.Equal(k.Scopes, want.Scopes)
}

// Minted is a client-credentials token.
type Minted struct {
	Issuer      string
	AccessToken string
	ExpiresAt   time.Time // zero: the server gave no expires_in
	Scopes      []string  // granted (as the server said), nil when not said
	Cached      bool      // true when it came from the cache
}

// MintFunc mints a token with the client credentials grant. issuer is the
// issuer of an earlier cache entry for the same API, client and scopes (so
// that only the issuer's metadata needs fetching), "" when there is none.
// The returned Minted must name its Issuer.
type MintFunc func(ctx context.Context, issuer string) (*Minted, error)

// MintCache caches client-credentials tokens in config.json ("minted", file
// mode 0600 like the rest of the config) so that a CI job that runs many
// commands mints one token and reuses it until it nears expiry. A cache hit
// reads config.json and makes no request; a miss mints under the config
// lock, after checking again whether a sibling process just minted one.
// The cache never stops a token from being minted: when config.json cannot
// be read, locked or written, the token is minted anyway and a warning goes
// to Warn.
type MintCache struct {
	Dir  string // config dir
	Now  func() time.Time
	Warn io.Writer
}

// Token returns a token for (api, clientID, scopes): a cached one that is
// good for more than RefreshMargin, else a new one from mint, which it
// caches (and it drops expired entries).
func (c *MintCache) Token(ctx context.Context, api, clientID string, scopes []string, mint MintFunc) (*Minted, error) {
	want := NewMintKey(api, clientID, "", scopes)
	cfg, err := config.Load(c.Dir)
	if err != nil {
		return c.uncached(ctx, mint, err)
	}
	if m, _ := c.lookup(cfg, want); m != nil {
		return m, nil
	}
	unlock, err := config.Lock(ctx, c.Dir)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return c.uncached(ctx, mint, err)
	}
	defer unlock()
	cfg, err = config.Load(c.Dir)
	if err != nil {
		return c.uncached(ctx, mint, err)
	}
	m, issuer := c.lookup(cfg, want)
	if m != nil {
		return m, nil // a sibling process minted while we waited
	}
	m, err = mint(ctx, issuer)
	if err != nil {
		return nil, err
	}
	c.store(cfg, want, m)
	if err := config.Save(c.Dir, cfg); err != nil {
		c.warn(err)
	}
	return m, nil
}

// lookup returns the live cached token for want, or nil and the issuer of
// a stale entry for the same request ("" when none).
func (c *MintCache) lookup(cfg *config.File, want MintKey) (*Minted, string) {
	limit := c.now().Add(RefreshMargin)
	issuer := ""
	for _, raw := range slices.Sorted(maps.Keys(cfg.Minted)) {
		e := cfg.Minted[raw]
		k, ok := parseMintKey(raw)
		if !ok || e == nil || !k.sameRequest(want) {
			continue
		}
		if e.AccessToken != "" && limit.Before(e.ExpiresAt) {
			return &Minted{Issuer: k.Issuer, AccessToken: e.AccessToken, ExpiresAt: e.ExpiresAt, Scopes: e.Scopes, Cached: true}, k.Issuer
		}
		issuer = k.Issuer
	}
	return nil, issuer
}

// store replaces the entries of want's request by m and drops every
// expired entry.
func (c *MintCache) store(cfg *config.File, want MintKey, m *Minted) {
	now := c.now()
	for raw, e := range cfg.Minted {
		k, ok := parseMintKey(raw)
		if !ok || e == nil || k.sameRequest(want) || !now.Before(e.ExpiresAt) {
			delete(cfg.Minted, raw)
		}
	}
	if cfg.Minted == nil {
		cfg.Minted = map[string]*config.MintedToken{}
	}
	exp := m.ExpiresAt
	if exp.IsZero() {
		exp = now.Add(NoExpiryReuse)
	}
	key := NewMintKey(want.APIURL, want.ClientID, m.Issuer, want.Scopes)
	cfg.Minted[key.String()] = &config.MintedToken{AccessToken: m.AccessToken, ExpiresAt: exp.UTC(), Scopes: m.Scopes}
}

func (c *MintCache) uncached(ctx context.Context, mint MintFunc, why error) (*Minted, error) {
	c.warn(why)
	return mint(ctx, "")
}

func (c *MintCache) warn(err error) {
	if c.Warn != nil {
		fmt.Fprintf(c.Warn, "warning: cannot cache the client-credentials token: %v\n", err)
	}
}

func (c *MintCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Remint renews a stored login that has no refresh token but can be
// renewed without a person (a client-credentials login): like Refresh, under
// the config lock it re-reads the store and returns what a sibling process
// already renewed; otherwise it calls fn and stores the result. A failure
// leaves the stored login as it was.
func (s *Store) Remint(ctx context.Context, seen *Stored, force bool, fn RefreshFunc) (*Stored, error) {
	return s.renew(ctx, seen, force, fn, false)
}
