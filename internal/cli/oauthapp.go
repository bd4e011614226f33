package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/oauth"
	"github.com/sesame-cli/sesame/internal/redact"
)

func (a *App) mePath() string { return a.vendor().MePath }

func (a *App) oauthClient() *oauth.Client { return &oauth.Client{HTTP: a.HTTPClient()} }

// target is where a login goes: the API, its authorization server and the
// RFC 8707 resource to ask tokens for.
type target struct {
	api      string
	md       *oauth.Metadata
	resource string
}

// loginTarget discovers the authorization server of api (or --issuer /
// <NAME>_ISSUER) and the resource indicator: the API's RFC 9728 resource,
// else --resource.
func (a *App) loginTarget(ctx context.Context, api, resourceFlag string) (*target, error) {
	t := &target{api: api}
	var err error
	if issuer := strings.TrimRight(a.issuer(), "/"); issuer != "" {
		if _, err := oauth.CheckURL(issuer); err != nil {
			return nil, fmt.Errorf("issuer %s: %w", redact.Text(issuer, 300), err)
		}
		t.md, err = a.oauthClient().Discover(ctx, issuer)
	} else {
		t.md, t.resource, err = a.Provider().DiscoverFromAPI(ctx, api)
	}
	if err != nil {
		return nil, err
	}
	if t.resource == "" && resourceFlag != "" {
		if _, err := oauth.CheckURL(resourceFlag); err != nil {
			return nil, usageErrorf("--resource %s: %v", redact.Text(resourceFlag, 300), err)
		}
		t.resource = resourceFlag
	}
	return t, nil
}

// discoverIssuer returns the metadata of --issuer (<NAME>_ISSUER), or of
// the authorization server found from the API.
func (a *App) discoverIssuer(ctx context.Context, api string) (*oauth.Metadata, error) {
	t, err := a.loginTarget(ctx, api, "")
	if err != nil {
		return nil, err
	}
	return t.md, nil
}

// loginClient is the OAuth client a login uses, and whether sesame
// registered it (so that it may register again when the server forgot it).
type loginClient struct {
	app         oauth.App
	registered  bool
	cached      bool   // registered by an earlier login (the server may have forgotten it)
	redirectURI string // the registered redirect URI ("" = any loopback port)
}

// oauthApp returns the client to log in with at t: --client-id, else the
// build's client id, else the client registered at the issuer (RFC 7591;
// registered now when none is cached, or when fresh).
func (a *App) oauthApp(ctx context.Context, t *target, opts *loginOptions, fresh bool) (*loginClient, error) {
	app := oauth.App{Metadata: t.md, Resource: t.resource, Scopes: a.loginScopes(t.md, opts.Scopes)}
	switch {
	case opts.ClientID != "":
		app.ClientID = opts.ClientID
		app.ClientSecret = a.Provider().ClientSecret(opts.ClientID, true)
		return &loginClient{app: app}, nil
	case a.vendor().ClientID != "":
		app.ClientID = a.vendor().ClientID
		return &loginClient{app: app}, nil
	}
	rc, cached, err := a.registeredClient(ctx, t.md, app.Scopes, fresh)
	if err != nil {
		return nil, err
	}
	app.ClientID = rc.ClientID
	return &loginClient{app: app, registered: true, cached: cached, redirectURI: rc.RedirectURI}, nil
}

// loginScopes are the scopes to ask for: --scopes (with offline_access kept
// when the server offers it, so that the login can refresh), else every
// read scope the server lists plus openid, email and offline_access.
func (a *App) loginScopes(md *oauth.Metadata, flag string) []string {
	if flag == "" && len(a.Vendor.Scopes) > 0 {
		flag = strings.Join(a.Vendor.Scopes, " ")
	}
	if flag == "" {
		return oauth.DefaultScopes(md.ScopesSupported)
	}
	scopes := oauth.ParseScopes(flag)
	if slices.Contains(md.ScopesSupported, "offline_access") && !slices.Contains(scopes, "offline_access") {
		scopes = append(scopes, "offline_access")
	}
	return scopes
}

// deviceAuth starts the device flow at t with the login's client. A client
// sesame registered earlier that the server no longer knows is registered
// again, once.
func (a *App) deviceAuth(ctx context.Context, t *target, opts *loginOptions) (*loginClient, *oauth.DeviceCode, error) {
	c, err := a.oauthApp(ctx, t, opts, false)
	if err != nil {
		return nil, nil, err
	}
	oc := a.oauthClient()
	dc, err := oc.DeviceAuth(ctx, c.app)
	if oauth.UnknownClient(err) && c.cached {
		if c, err = a.oauthApp(ctx, t, opts, true); err != nil {
			return nil, nil, err
		}
		dc, err = oc.DeviceAuth(ctx, c.app)
	}
	if err != nil {
		return nil, nil, a.unknownClient(c, err)
	}
	return c, dc, nil
}

// unknownClient turns "the server does not know this client" into an error
// that says so, for a client id that sesame did not register.
func (a *App) unknownClient(c *loginClient, err error) error {
	if !oauth.UnknownClient(err) || c.app.ClientSecret != "" {
		return err
	}
	return withHint(fmt.Errorf("the authorization server %s does not know the client id %s: %w", redact.Text(c.app.Metadata.Issuer, 300), redact.Text(c.app.ClientID, 100), err),
		"check --client-id (the client must be registered at that server)")
}

// registeredClient returns the client registered at the issuer, registering
// one (RFC 7591) the first time, or again when fresh (the server forgot
// the cached one, or its redirect port is taken), and caching it in
// config.json. cached says it came from the cache.
func (a *App) registeredClient(ctx context.Context, md *oauth.Metadata, scopes []string, fresh bool) (*config.RegisteredClient, bool, error) {
	st, err := a.Store()
	if err != nil {
		return nil, false, err
	}
	cfg, err := config.Load(st.Dir)
	if err != nil {
		return nil, false, err
	}
	if c := cfg.Clients[md.Issuer]; c != nil && c.ClientID != "" && !fresh {
		return c, true, nil
	}
	redirectURI, err := freeLoopbackRedirect()
	if err != nil {
		return nil, false, err
	}
	host, _ := os.Hostname()
	name := a.Name + " CLI"
	if host != "" {
		name += " on " + host
	}
	var regScopes []string
	for _, s := range scopes {
		if len(md.ScopesSupported) == 0 || slices.Contains(md.ScopesSupported, s) {
			regScopes = append(regScopes, s)
		}
	}
	rc, err := a.oauthClient().Register(ctx, md, oauth.Registration{
		ClientName:   name,
		RedirectURIs: []string{redirectURI},
		GrantTypes:   registrationGrants(md, slices.Contains(scopes, "offline_access")),
		Scope:        strings.Join(regScopes, " "),
	})
	if err != nil {
		if errors.Is(err, oauth.ErrNotSupported) {
			return nil, false, withHint(fmt.Errorf("the authorization server %s offers no client registration", md.Issuer), "pass --client-id with a client registered for "+a.Name)
		}
		return nil, false, fmt.Errorf("register a client at %s: %w", md.Issuer, err)
	}
	out := &config.RegisteredClient{ClientID: rc.ClientID, RegisteredAt: a.Now().UTC(), RedirectURI: redirectURI}
	err = config.Update(ctx, st.Dir, func(cfg *config.File) error {
		if cfg.Clients == nil {
			cfg.Clients = map[string]*config.RegisteredClient{}
		}
		cfg.Clients[md.Issuer] = out
		return nil
	})
	return out, false, err
}

// registrationGrants are the grant types to register: the device and
// authorization code grants the server offers (endpoint advertised, and
// listed in grant_types_supported when it lists any), and refresh_token
// whenever offline access is wanted or the server lists it, even when its
// grant_types_supported omits it (or its refresh tokens could never be used).
func registrationGrants(md *oauth.Metadata, offline bool) []string {
	listed := func(g string) bool {
		return len(md.GrantTypesSupported) == 0 || slices.Contains(md.GrantTypesSupported, g)
	}
	var out []string
	if md.DeviceAuthorizationEndpoint != "" && listed(oauth.GrantDevice) {
		out = append(out, oauth.GrantDevice)
	}
	if md.AuthorizationEndpoint != "" && listed("authorization_code") {
		out = append(out, "authorization_code")
	}
	if offline || listed("refresh_token") {
		out = append(out, "refresh_token")
	}
	return out
}

// freeLoopbackRedirect picks a free port on 127.0.0.1 for the redirect URI
// to register (RFC 8252 §7.3: servers should accept any port, but many
// compare exactly, so the exact one is registered and listened on later).
func freeLoopbackRedirect() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pick a loopback port for the redirect: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return "http://127.0.0.1:" + strconv.Itoa(port) + "/callback", nil
}

// listenAddr is the host:port a registered redirect URI names ("" for any).
func listenAddr(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Port() == "" || !oauth.IsLoopbackHost(u.Hostname()) {
		return ""
	}
	return u.Host
}
