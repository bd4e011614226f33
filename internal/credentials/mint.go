package credentials

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/oauth"
	"github.com/sesame-cli/sesame/internal/redact"
)

// NoExpiryReuse is how long a minted token that came without expires_in is
// reused from the cache.
const NoExpiryReuse = 5 * time.Minute

// mintRequest is a client-credentials token asked for from the env.
type mintRequest struct {
	key    MintKey
	secret string
}

// clientCredentials is the source between <NAME>_TOKEN and
// <NAME>_CREDENTIALS_FILE: when <NAME>_CLIENT_ID and <NAME>_CLIENT_SECRET
// are both set it returns a token minted with the client credentials grant
// for the API, reused from the cache in config.json until it nears expiry.
// Otherwise it does not apply (nil, nil).
func (p *Provider) clientCredentials(ctx context.Context, mint bool) (*Token, error) {
	id, secret := p.env("CLIENT_ID"), p.env("CLIENT_SECRET")
	if id == "" || secret == "" {
		return nil, nil
	}
	// The API: flag, env, else the API of the stored login (a
	// client-credentials login made earlier), else the default.
	// One read of config.json gives the current API and the cache.
	var cfg *config.File
	if st, err := p.Store(); err == nil {
		cfg, _ = config.Load(st.Dir)
	}
	current := ""
	if cfg != nil {
		current = cfg.CurrentAPI
	}
	api, from := p.API("", current)
	if err := p.CheckAPI(api, from); err != nil {
		return nil, err
	}
	t := &Token{
		Source:       SourceClientCredentials,
		SourceDetail: "client credentials " + p.EnvVar("CLIENT_ID") + "=" + redact.Text(id, 100),
		APIURL:       api,
		APIURLFrom:   from,
		mint:         &mintRequest{key: NewMintKey(api, id, "", oauth.ParseScopes(p.env("SCOPES"))), secret: secret},
	}
	if !mint {
		return t, nil
	}
	if _, err := p.mintEnv(ctx, t, false, cfg); err != nil {
		return nil, fmt.Errorf("get a token with %s and %s: %w", p.EnvVar("CLIENT_ID"), p.EnvVar("CLIENT_SECRET"), err)
	}
	return t, nil
}

// remintEnv replaces a minted token the API refused.
func (p *Provider) remintEnv(ctx context.Context, t *Token) error {
	if _, err := p.mintEnv(ctx, t, true, nil); err != nil {
		return fmt.Errorf("get a token with %s and %s: %w", p.EnvVar("CLIENT_ID"), p.EnvVar("CLIENT_SECRET"), err)
	}
	return nil
}

// mintEnv fills t with a cached token for its request that is good for
// more than RefreshMargin (unless force: the API refused it), else a new
// one, which it caches in config.json ("minted", mode 0600 like the rest
// of the config) and drops expired entries. A cache hit reads config.json
// and makes no request; a miss mints under the config lock, after checking
// again whether a sibling process just minted one. The cache never stops a
// token from being minted: when config.json cannot be read, locked or
// written, the token is minted anyway and a warning printed. cached says
// that no request was made. loaded is config.json as the caller already
// read it (nil: read it here).
func (p *Provider) mintEnv(ctx context.Context, t *Token, force bool, loaded *config.File) (cached bool, err error) {
	want := t.mint.key
	refused := t.Value.Reveal()
	st, err := p.Store()
	cfg := loaded
	if err == nil && cfg == nil {
		cfg, err = config.Load(st.Dir)
	}
	if err != nil {
		return false, p.mintUncached(ctx, t, "", err)
	}
	if hit, _ := p.lookupMint(cfg, want, refused); hit != nil && !force {
		p.fillMint(t, hit)
		return true, nil
	}
	minter := p.mint
	if p.mintFunc != nil {
		minter = p.mintFunc
	}
	var minted *config.Login
	err = config.UpdateUnless(ctx, st.Dir, func(cfg *config.File) bool {
		if hit, _ := p.lookupMint(cfg, want, refused); hit != nil {
			minted, cached = hit, true // a sibling process minted while we waited
			return true
		}
		return false
	}, func(cfg *config.File) error {
		hit, issuer := p.lookupMint(cfg, want, refused)
		if hit != nil {
			minted, cached = hit, true // a sibling process minted while we waited
			return config.ErrUnchanged
		}
		m, err := minter(ctx, want, t.mint.secret, p.issuerFor(cfg, want, issuer))
		if err != nil {
			return err
		}
		minted, cached = m, false
		p.storeMint(cfg, want, m)
		return nil
	})
	if errors.Is(err, config.ErrDone) {
		err = nil
	}
	if minted == nil {
		if ctx.Err() != nil || err == nil {
			return false, err
		}
		if _, ok := errors.AsType[*config.ParseError](err); ok {
			return false, p.mintUncached(ctx, t, "", err)
		}
		if _, ok := errors.AsType[*config.DirError](err); ok || errors.Is(err, config.ErrLockTimeout) {
			return false, p.mintUncached(ctx, t, "", err)
		}
		return false, err
	}
	if err != nil {
		p.warnCache(err)
	}
	p.fillMint(t, minted)
	return cached, nil
}

func (p *Provider) mintUncached(ctx context.Context, t *Token, issuer string, why error) error {
	p.warnCache(why)
	minter := p.mint
	if p.mintFunc != nil {
		minter = p.mintFunc
	}
	m, err := minter(ctx, t.mint.key, t.mint.secret, p.issuerFor(nil, t.mint.key, issuer))
	if err != nil {
		return err
	}
	p.fillMint(t, m)
	return nil
}

func (p *Provider) warnCache(err error) {
	if p.Warn != nil {
		fmt.Fprintf(p.Warn, "warning: cannot cache the client-credentials token: %v\n", err)
	}
}

func (p *Provider) fillMint(t *Token, m *config.Login) {
	t.Value, t.Issuer, t.Expiry, t.Scopes = redact.Secret(m.AccessToken), m.Issuer, m.ExpiresAt, m.Scopes
}

// mint runs the client credentials grant for want at issuer (the one
// issuerFor chose; "" to discover it from the API).
func (p *Provider) mint(ctx context.Context, want MintKey, secret, issuer string) (*config.Login, error) {
	var md *oauth.Metadata
	var err error
	resource := ""
	if issuer != "" {
		md, err = p.oauth().Discover(ctx, NormalizeURL(issuer))
	} else {
		md, resource, err = p.DiscoverFromAPI(ctx, want.APIURL)
	}
	if err != nil {
		return nil, err
	}
	tok, err := p.oauth().ClientCredentials(ctx, oauth.App{Metadata: md, ClientID: want.ClientID, ClientSecret: secret, Scopes: want.Scopes, Resource: resource})
	if err != nil {
		return nil, err
	}
	if err := oauth.CheckIssued(tok); err != nil {
		return nil, err
	}
	exp := tok.Expiry.UTC()
	if tok.Expiry.IsZero() {
		exp = p.now().Add(NoExpiryReuse).UTC()
	}
	return &config.Login{Issuer: md.Issuer, AccessToken: tok.AccessToken, ExpiresAt: exp, Scopes: APIScopes(oauth.GrantedScopes(tok))}, nil
}

// issuerFor is the issuer to mint want at: that of an earlier cache entry
// for the same request (so that only its metadata needs fetching), else
// --issuer / <NAME>_ISSUER, else that of a login stored for the API (cfg,
// when read), else "" (discovered from the API).
func (p *Provider) issuerFor(cfg *config.File, want MintKey, cached string) string {
	switch {
	case cached != "":
		return cached
	case p.IssuerFlag != "":
		return p.IssuerFlag
	case cfg != nil && cfg.APIs[want.APIURL] != nil:
		return cfg.APIs[want.APIURL].Issuer
	}
	return ""
}

// lookupMint returns the live cached token for want (not the refused one),
// or nil and the issuer of a stale entry for the same request ("" when
// none).
func (p *Provider) lookupMint(cfg *config.File, want MintKey, refused string) (*config.Login, string) {
	limit := p.now().Add(RefreshMargin)
	issuer := ""
	for _, raw := range slices.Sorted(maps.Keys(cfg.Minted)) {
		e := cfg.Minted[raw]
		k, ok := parseMintKey(raw)
		if !ok || e == nil || !k.sameRequest(want) {
			continue
		}
		if e.AccessToken != "" && e.AccessToken != refused && limit.Before(e.ExpiresAt) {
			out := *e
			out.Issuer = k.Issuer
			return &out, k.Issuer
		}
		issuer = k.Issuer
	}
	return nil, issuer
}

// storeMint replaces the entries of want's request by m and drops every
// expired entry.
func (p *Provider) storeMint(cfg *config.File, want MintKey, m *config.Login) {
	now := p.now()
	for raw, e := range cfg.Minted {
		k, ok := parseMintKey(raw)
		if !ok || e == nil || k.sameRequest(want) || !now.Before(e.ExpiresAt) {
			delete(cfg.Minted, raw)
		}
	}
	if cfg.Minted == nil {
		cfg.Minted = map[string]*config.Login{}
	}
	key := NewMintKey(want.APIURL, want.ClientID, m.Issuer, want.Scopes)
	cfg.Minted[key.String()] = &config.Login{AccessToken: m.AccessToken, ExpiresAt: m.ExpiresAt, Scopes: m.Scopes}
}

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

// CachedMint returns the cached client-credentials token that t (a token of
// Find, from client credentials in the env) would use now, without a
// request and without writing ("" when none is cached).
func (p *Provider) CachedMint(t *Token) string {
	if t == nil || t.mint == nil {
		return ""
	}
	st, err := p.Store()
	if err != nil {
		return ""
	}
	cfg, err := config.Load(st.Dir)
	if err != nil {
		return ""
	}
	if hit, _ := p.lookupMint(cfg, t.mint.key, ""); hit != nil {
		return hit.AccessToken
	}
	return ""
}
