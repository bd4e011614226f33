package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/sesame-cli/sesame/internal/buildinfo"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/oauth"
	"github.com/sesame-cli/sesame/internal/redact"
)

type loginOptions struct {
	Token     string
	WithToken bool
	ClientID  string
	Scopes    string
	NoBrowser bool
	QR        bool
	// Web: authorization code + PKCE with a loopback redirect.
	Web     bool
	Timeout time.Duration
	// ClientCredentials: the client credentials grant from <NAME>_CLIENT_ID
	// and <NAME>_CLIENT_SECRET.
	ClientCredentials bool
}

func (a *App) newLoginCmd() *cobra.Command {
	opts := &loginOptions{}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in (device flow by default, browser, client credentials or a pasted token)",
		Long: `Logs in to the API and stores the token.

By default it uses the OAuth device flow: it finds the authorization server
from the API URL, registers a client if needed, prints a URL and a code, and
waits while you approve in a browser (on this machine or another one).

--web logs in in a browser on this machine instead (authorization code with
PKCE): it prints the authorization URL, opens it, and waits (--timeout) for
the browser to come back to a local address on 127.0.0.1.

--client-credentials is for CI and service accounts: it gets a token with
the client credentials grant from ` + a.envName("CLIENT_ID") + ` and ` + a.envName("CLIENT_SECRET") + `
(the secret is never read from a flag), with --scopes or ` + a.envName("SCOPES") + `.

--client-id with ` + a.envName("CLIENT_SECRET") + ` set uses a confidential client in the
device and browser flows (and for refresh and revocation later).

--token T or --with-token (token on stdin) store a token you already have,
after checking it with one request to the API.`,
		Example: `  ` + a.Name + ` login --api-url https://api.example.com
  ` + a.Name + ` login --no-browser --qr
  ` + a.Name + ` login --web
  ` + a.envName("CLIENT_ID") + `=ci-bot ` + a.envName("CLIENT_SECRET") + `=... ` + a.Name + ` login --client-credentials --scopes documents.read
  echo "$TOKEN" | ` + a.Name + ` login --with-token`,
		Args: a.noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runLogin(cmd.Context(), opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.Token, "token", "", "store this token (visible to other processes: prefer --with-token)")
	f.BoolVar(&opts.WithToken, "with-token", false, "read a token from standard input and store it")
	f.StringVar(&opts.ClientID, "client-id", "", "OAuth client id (default: the build's, else registered dynamically)")
	f.StringVar(&opts.Scopes, "scopes", "", "scopes to ask for, comma or space separated (default: every read scope + offline_access)")
	f.BoolVar(&opts.NoBrowser, "no-browser", false, "do not open a browser")
	f.BoolVar(&opts.QR, "qr", false, "print the verification URL as a QR code (approve on a phone)")
	f.BoolVar(&opts.Web, "web", false, "log in with a browser on this machine (authorization code + PKCE)")
	f.DurationVar(&opts.Timeout, "timeout", defaultWebTimeout, "with --web: how long to wait for the browser")
	f.BoolVar(&opts.ClientCredentials, "client-credentials", false, "use the client credentials grant ("+a.envName("CLIENT_ID")+", "+a.envName("CLIENT_SECRET")+")")
	return cmd
}

func (a *App) runLogin(ctx context.Context, opts *loginOptions) error {
	if err := checkLoginFlags(opts); err != nil {
		return err
	}
	switch {
	case opts.Token != "":
		a.errf("warning: a token on the command line is visible to other processes and kept in shell history; prefer --with-token")
		tok, err := credentials.CleanToken(opts.Token)
		if err != nil {
			return &credentials.InputError{What: "--token", Problem: err.Error()}
		}
		return a.validateAndStore(ctx, tok, "", "token")
	case opts.WithToken:
		tok, api, err := a.readTokenInput()
		if err != nil {
			return err
		}
		return a.validateAndStore(ctx, tok, api, "token")
	case opts.Web:
		return a.runWebLogin(ctx, opts)
	case opts.ClientCredentials:
		return a.runClientCredentialsLogin(ctx, opts)
	}
	return a.runDeviceLogin(ctx, opts)
}

// checkLoginFlags refuses flags that name more than one way to log in.
func checkLoginFlags(opts *loginOptions) error {
	var ways []string
	if opts.Token != "" {
		ways = append(ways, "--token")
	}
	if opts.WithToken {
		ways = append(ways, "--with-token")
	}
	if opts.Web {
		ways = append(ways, "--web")
	}
	if opts.ClientCredentials {
		ways = append(ways, "--client-credentials")
	}
	if len(ways) > 1 {
		return usageErrorf("%s cannot be used together", strings.Join(ways, " and "))
	}
	if opts.Timeout <= 0 {
		return usageErrorf("--timeout must be positive, not %s", opts.Timeout)
	}
	return nil
}

func (a *App) mePath() string { return buildinfo.MePath }

func (a *App) oauthClient() *oauth.Client { return &oauth.Client{HTTP: a.HTTPClient()} }

// oauthApp discovers the issuer of api and returns the client to use there,
// registering one when no client id is configured.
func (a *App) oauthApp(ctx context.Context, api string, opts *loginOptions, flow string) (oauth.App, error) {
	oc := a.oauthClient()
	md, err := a.discoverIssuer(ctx, api)
	if err != nil {
		return oauth.App{}, err
	}
	// Before registering anything, make sure the server offers the flow.
	switch {
	case flow == flowDevice && md.DeviceAuthorizationEndpoint == "":
		return oauth.App{}, withHint(fmt.Errorf("device authorization: the authorization server %s offers no device flow: %w", md.Issuer, oauth.ErrNotSupported),
			"use '"+a.Name+" login --web' to log in with a browser on this machine")
	case flow == flowWeb && md.AuthorizationEndpoint == "":
		return oauth.App{}, withHint(fmt.Errorf("authorization: the authorization server %s offers no browser login: %w", md.Issuer, oauth.ErrNotSupported),
			"use '"+a.Name+" login' (device flow)")
	}
	app := oauth.App{Metadata: md}
	if opts.Scopes != "" {
		app.Scopes = oauth.ParseScopes(opts.Scopes)
	} else {
		app.Scopes = oauth.DefaultScopes(md.ScopesSupported)
	}
	switch {
	case opts.ClientID != "":
		app.ClientID = opts.ClientID
		app.ClientSecret = a.env("CLIENT_SECRET")
	case buildinfo.ClientID != "":
		app.ClientID = buildinfo.ClientID
	default:
		id, err := a.registeredClient(ctx, oc, md, app.Scopes)
		if err != nil {
			return oauth.App{}, err
		}
		app.ClientID = id
	}
	return app, nil
}

// discoverIssuer returns the metadata of --issuer (<NAME>_ISSUER), or of
// the authorization server found from the API.
func (a *App) discoverIssuer(ctx context.Context, api string) (*oauth.Metadata, error) {
	issuer := strings.TrimRight(a.issuer(), "/")
	if issuer == "" {
		return a.Provider().DiscoverFromAPI(ctx, api)
	}
	if _, err := oauth.CheckURL(issuer); err != nil {
		return nil, fmt.Errorf("issuer %s: %w", redact.Text(issuer, 300), err)
	}
	return a.oauthClient().Discover(ctx, issuer)
}

// registeredClient returns the client registered at the issuer, registering
// one (RFC 7591) the first time and caching its id in config.json.
func (a *App) registeredClient(ctx context.Context, oc *oauth.Client, md *oauth.Metadata, scopes []string) (string, error) {
	st, err := a.Store()
	if err != nil {
		return "", err
	}
	cfg, err := config.Load(st.Dir)
	if err != nil {
		return "", err
	}
	if c := cfg.Clients[md.Issuer]; c != nil && c.ClientID != "" {
		return c.ClientID, nil
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
	rc, err := oc.Register(ctx, md, oauth.Registration{
		ClientName:   name,
		RedirectURIs: []string{"http://127.0.0.1/callback"},
		GrantTypes:   supportedGrants(md, "urn:ietf:params:oauth:grant-type:device_code", "refresh_token", "authorization_code"),
		Scope:        strings.Join(regScopes, " "),
	})
	if err != nil {
		if errors.Is(err, oauth.ErrNotSupported) {
			return "", withHint(fmt.Errorf("the authorization server %s offers no client registration", md.Issuer), "pass --client-id with a client registered for "+a.Name)
		}
		return "", fmt.Errorf("register a client at %s: %w", md.Issuer, err)
	}
	err = config.Update(ctx, st.Dir, func(cfg *config.File) error {
		if cfg.Clients == nil {
			cfg.Clients = map[string]*config.RegisteredClient{}
		}
		cfg.Clients[md.Issuer] = &config.RegisteredClient{ClientID: rc.ClientID, RegisteredAt: a.Now().UTC()}
		return nil
	})
	return rc.ClientID, err
}

func (a *App) runDeviceLogin(ctx context.Context, opts *loginOptions) error {
	api, err := a.loginAPI("")
	if err != nil {
		return err
	}
	app, err := a.oauthApp(ctx, api, opts, flowDevice)
	if err != nil {
		return err
	}
	oc := a.oauthClient()
	dc, err := oc.DeviceAuth(ctx, app)
	if err != nil {
		return err
	}
	a.errf("Open %s in your browser.", dc.VerificationURI)
	a.errf("Enter code: %s", dc.UserCode)
	openURL := dc.VerificationURIComplete
	if openURL == "" {
		openURL = dc.VerificationURI
	}
	if opts.QR {
		a.printQR(openURL)
	}
	if !opts.NoBrowser {
		a.openBrowser(openURL)
	}
	spin := a.spinner("Waiting for approval")
	tok, err := oc.PollDevice(ctx, app, dc, spin.tick)
	spin.stop()
	if err != nil {
		return err
	}
	return a.storeLogin(ctx, api, app, tok, "device")
}

// storeLogin checks the tokens a grant returned, saves the login and says
// who is logged in.
func (a *App) storeLogin(ctx context.Context, api string, app oauth.App, tok *oauth2.Token, method string) error {
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
		User:            who,
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
	return nil
}

// The flows oauthApp prepares a client for.
const (
	flowDevice = "device"
	flowWeb    = "web"
)

// supportedGrants keeps the grant types the server lists (all of them when
// it lists none), so that a strict server does not refuse the registration.
func supportedGrants(md *oauth.Metadata, want ...string) []string {
	if len(md.GrantTypesSupported) == 0 {
		return want
	}
	var out []string
	for _, g := range want {
		if slices.Contains(md.GrantTypesSupported, g) {
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return want
	}
	return out
}
