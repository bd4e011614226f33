package cli

import (
	"context"
	"time"

	"github.com/sesame-cli/sesame/internal/oauth"
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
	app, err := a.oauthApp(ctx, api, opts, flowWeb)
	if err != nil {
		return err
	}
	var spin *spinner
	tok, err := a.oauthClient().WebLogin(ctx, app, oauth.WebOptions{
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
	if err != nil {
		return err
	}
	return a.storeLogin(ctx, api, app, tok, "web")
}
