package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/oauth"
)

type loginOptions struct {
	Token     string
	WithToken bool
	ClientID  string
	Resource  string
	Scopes    string
	NoBrowser bool
	QR        bool
	// Web: authorization code + PKCE with a loopback redirect.
	Web     bool
	Timeout time.Duration
	// ClientCredentials: the client credentials grant from <NAME>_CLIENT_ID
	// and <NAME>_CLIENT_SECRET.
	ClientCredentials bool
	// The two-step device login (login_pending.go).
	pendingOptions
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
after checking it with one request to the API.

--no-wait and --resume split the device login in two for scripts and agents:
the first prints the URL and code (--json: as JSON on stdout) and exits; the
second waits for the approval and stores the login (see docs/scripts-agents.md).`,
		Example: `  ` + a.Name + ` login --api-url https://api.example.com
  ` + a.Name + ` login --no-browser --qr
  ` + a.Name + ` login --web
  ` + a.envName("CLIENT_ID") + `=ci-bot ` + a.envName("CLIENT_SECRET") + `=... ` + a.Name + ` login --client-credentials --scopes documents.read
  echo "$TOKEN" | ` + a.Name + ` login --with-token
  ` + a.Name + ` login --no-wait --json && ` + a.Name + ` login --resume`,
		Args: a.noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runLogin(cmd.Context(), opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.Token, "token", "", "store this token (visible to other processes: prefer --with-token)")
	f.BoolVar(&opts.WithToken, "with-token", false, "read a token from standard input and store it")
	f.StringVar(&opts.ClientID, "client-id", "", "OAuth client id (default: the build's, else registered dynamically)")
	f.StringVar(&opts.Scopes, "scopes", "", "scopes to ask for, comma or space separated (default: every read scope + offline_access; offline_access is kept when the server offers it)")
	f.StringVar(&opts.Resource, "resource", "", "RFC 8707 resource to ask tokens for (default: the API's RFC 9728 resource)")
	f.BoolVar(&opts.NoBrowser, "no-browser", false, "do not open a browser")
	f.BoolVar(&opts.QR, "qr", false, "print the verification URL as a QR code (approve on a phone)")
	f.BoolVar(&opts.Web, "web", false, "log in with a browser on this machine (authorization code + PKCE)")
	f.DurationVar(&opts.Timeout, "timeout", defaultWebTimeout, "with --web: how long to wait for the browser")
	f.BoolVar(&opts.ClientCredentials, "client-credentials", false, "use the client credentials grant ("+a.envName("CLIENT_ID")+", "+a.envName("CLIENT_SECRET")+")")
	a.addPendingLoginFlags(f, &opts.pendingOptions)
	return cmd
}

func (a *App) runLogin(ctx context.Context, opts *loginOptions) error {
	if opts.NoWait || opts.Resume || opts.JSON {
		return a.runPendingLogin(ctx, opts)
	}
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

// runDeviceLogin logs in with the device flow, or with the browser flow
// when the server has no device endpoint and a browser can be opened here.
func (a *App) runDeviceLogin(ctx context.Context, opts *loginOptions) error {
	api, err := a.loginAPI("")
	if err != nil {
		return err
	}
	t, err := a.loginTarget(ctx, api, opts.Resource)
	if err != nil {
		return err
	}
	if t.md.DeviceAuthorizationEndpoint == "" {
		if t.md.AuthorizationEndpoint == "" {
			return fmt.Errorf("device authorization: the authorization server %s offers neither the device flow nor a browser login: %w", t.md.Issuer, oauth.ErrNotSupported)
		}
		if opts.NoBrowser || !a.canOpenBrowser() {
			return withHint(fmt.Errorf("device authorization: the authorization server %s offers only the browser flow, and no browser can be opened here: %w", t.md.Issuer, oauth.ErrNotSupported),
				"run '"+a.Name+" login --web' and open the printed URL in a browser on this machine")
		}
		a.errf("The authorization server %s offers no device flow; logging in with a browser on this machine.", t.md.Issuer)
		return a.webLogin(ctx, t, opts)
	}
	c, dc, err := a.deviceAuth(ctx, t, opts)
	if err != nil {
		return err
	}
	oc := a.oauthClient()
	app := c.app
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
		return a.unknownClient(c, err)
	}
	return a.storeLogin(ctx, api, app, tok, "device")
}
