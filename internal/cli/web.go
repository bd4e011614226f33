package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sesame-cli/sesame/internal/oauth"
	"golang.org/x/oauth2"
)

// defaultWebTimeout is how long login --web waits for the browser.
const defaultWebTimeout = 5 * time.Minute

// runWebLogin logs in with the authorization code grant, PKCE (S256) and a
// loopback redirect (RFC 8252), with the same client as the device flow.
// Nothing is stored unless the browser comes back with a code that the
// issuer exchanges for tokens.
func (a *App) runWebLogin(ctx context.Context, opts *loginOptions) error {
	api, err := a.loginAPI("")
	if err != nil {
		return err
	}
	t, err := a.loginTarget(ctx, api, opts.Resource)
	if err != nil {
		return err
	}
	return a.webLogin(ctx, t, opts)
}

// webLogin is the browser flow at t. A client that sesame registered is
// used with its exact redirect URI; it is registered again (once) when the
// server no longer knows it or its port is taken.
func (a *App) webLogin(ctx context.Context, t *target, opts *loginOptions) error {
	if t.md.AuthorizationEndpoint == "" {
		return withHint(fmt.Errorf("authorization: the authorization server %s offers no browser login: %w", t.md.Issuer, oauth.ErrNotSupported),
			"use '"+a.Name+" login' (device flow)")
	}
	c, err := a.oauthApp(ctx, t, opts, false)
	if err != nil {
		return err
	}
	oc := a.oauthClient()
	if c.cached && !oc.KnowsClient(ctx, c.app, c.redirectURI) {
		if c, err = a.oauthApp(ctx, t, opts, true); err != nil {
			return err
		}
	}
	tok, err := a.browserGrant(ctx, c, opts)
	if errors.Is(err, oauth.ErrListen) && c.registered && c.redirectURI != "" {
		// The registered port is taken: register with another one.
		if c, err = a.oauthApp(ctx, t, opts, true); err != nil {
			return err
		}
		tok, err = a.browserGrant(ctx, c, opts)
	}
	if err != nil {
		return a.unknownClient(c, err)
	}
	return a.storeLogin(ctx, t.api, c.app, tok, "web")
}

// browserGrant runs the authorization code grant with PKCE for c.
func (a *App) browserGrant(ctx context.Context, c *loginClient, opts *loginOptions) (*oauth2.Token, error) {
	var spin *spinner
	tok, err := a.oauthClient().WebLogin(ctx, c.app, oauth.WebOptions{
		Addr:    listenAddr(c.redirectURI),
		Timeout: opts.Timeout,
		Open: func(authURL string) error {
			a.errf("Open this URL in your browser to log in:")
			a.errf("%s", authURL)
			if opts.QR {
				a.printQR(authURL)
			}
			if !opts.NoBrowser {
				a.openBrowser(authURL)
			}
			spin = a.spinner("Waiting for the browser")
			return nil
		},
	})
	if spin != nil {
		spin.stop()
	}
	return tok, err
}
