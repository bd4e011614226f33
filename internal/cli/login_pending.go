package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/oauth"
	"github.com/sesame-cli/sesame/internal/redact"
)

// pendingOptions are login's flags for the two-step device login.
type pendingOptions struct {
	// NoWait starts the device flow, saves it as pending and returns.
	NoWait bool
	// Resume polls the pending device login to the end.
	Resume bool
	// JSON prints the result of either on stdout as JSON.
	JSON bool
}

func (a *App) addPendingLoginFlags(f *pflag.FlagSet, opts *pendingOptions) {
	f.BoolVar(&opts.NoWait, "no-wait", false, "start the device login, print the code and exit; finish it later with --resume")
	f.BoolVar(&opts.Resume, "resume", false, "finish the device login started with --no-wait")
	f.BoolVar(&opts.JSON, "json", false, "with --no-wait or --resume: print the result as JSON on stdout")
}

// errNoPending means there is no pending login to resume: none was
// started, it was used already, or it expired.
var errNoPending = errors.New("no pending login")

// pendingGone is errNoPending in words.
type pendingGone struct{ msg string }

func (e *pendingGone) Error() string { return e.msg }
func (e *pendingGone) Unwrap() error { return errNoPending }

// noWaitJSON is what login --no-wait --json prints.
type noWaitJSON struct {
	VerificationURI         string `json:"verificationUri"`
	VerificationURIComplete string `json:"verificationUriComplete,omitempty"`
	UserCode                string `json:"userCode"`
	ExpiresAt               string `json:"expiresAt"`
	Interval                int    `json:"interval"`
}

// resumeJSON is what login --resume --json prints once logged in.
type resumeJSON struct {
	APIURL    string   `json:"apiUrl"`
	User      string   `json:"user"`
	Account   string   `json:"account,omitempty"`
	Storage   string   `json:"storage"`
	ExpiresAt string   `json:"expiresAt,omitempty"`
	Scopes    []string `json:"scopes,omitempty"`
}

// checkPendingFlags refuses --no-wait, --resume and --json with flags that
// do not go with them.
func checkPendingFlags(opts *loginOptions) error {
	p := opts.pendingOptions
	switch {
	case p.NoWait && p.Resume:
		return usageErrorf("--no-wait and --resume cannot be used together")
	case p.JSON && !p.NoWait && !p.Resume:
		return usageErrorf("--json goes with --no-wait or --resume")
	}
	flag := "--no-wait"
	if p.Resume {
		flag = "--resume"
	}
	for _, other := range []struct {
		set  bool
		name string
	}{
		{opts.Token != "", "--token"}, {opts.WithToken, "--with-token"}, {opts.Web, "--web"}, {opts.ClientCredentials, "--client-credentials"},
	} {
		if other.set {
			return usageErrorf("%s is for the device login and cannot be used with %s", flag, other.name)
		}
	}
	if p.Resume {
		for _, other := range []struct {
			set  bool
			name string
		}{
			{opts.ClientID != "", "--client-id"}, {opts.Scopes != "", "--scopes"}, {opts.Resource != "", "--resource"}, {opts.QR, "--qr"},
		} {
			if other.set {
				return usageErrorf("%s was settled by 'login --no-wait' and cannot be given to --resume", other.name)
			}
		}
	}
	return nil
}

// runPendingLogin is login --no-wait or login --resume.
func (a *App) runPendingLogin(ctx context.Context, opts *loginOptions) error {
	if err := checkPendingFlags(opts); err != nil {
		return err
	}
	if opts.Resume {
		return a.resumeLogin(ctx, opts.JSON)
	}
	return a.startPendingLogin(ctx, opts)
}

// startPendingLogin starts the device flow as login does (discovery,
// client registration), saves the authorization as the API's pending login
// and prints what the user must do.
func (a *App) startPendingLogin(ctx context.Context, opts *loginOptions) error {
	api, err := a.loginAPI("")
	if err != nil {
		return err
	}
	t, err := a.loginTarget(ctx, api, opts.Resource)
	if err != nil {
		return err
	}
	if t.md.DeviceAuthorizationEndpoint == "" {
		return withHint(fmt.Errorf("device authorization: the authorization server %s offers no device flow, which --no-wait needs: %w", redact.Text(t.md.Issuer, 300), oauth.ErrNotSupported),
			"run '"+a.Name+" login --web' on a machine with a browser")
	}
	c, dc, err := a.deviceAuth(ctx, t, opts)
	if err != nil {
		return err
	}
	st, err := a.Store()
	if err != nil {
		return err
	}
	p := &config.PendingLogin{
		APIURL: api, Issuer: c.app.Metadata.Issuer, ClientID: c.app.ClientID,
		Confidential: c.app.ClientSecret != "", Registered: c.registered,
		Scopes: c.app.Scopes, Resource: c.app.Resource, Method: "device",
		DeviceCode: dc.DeviceCode, UserCode: dc.UserCode,
		VerificationURI: dc.VerificationURI, VerificationURIComplete: dc.VerificationURIComplete,
		ExpiresAt: dc.Expiry.UTC(), Interval: int(dc.Interval / time.Second), CreatedAt: a.Now().UTC(),
	}
	err = config.UpdatePending(ctx, st.Dir, func(pf *config.Pending) error {
		pf.Logins[api] = p // one per API: a newer one replaces the last
		return nil
	})
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(a.Stdout, noWaitJSON{
			VerificationURI: dc.VerificationURI, VerificationURIComplete: dc.VerificationURIComplete,
			UserCode: dc.UserCode, ExpiresAt: p.ExpiresAt.Format(time.RFC3339), Interval: p.Interval,
		})
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
	a.errf("Then run '%s login --resume' to finish logging in to %s (before %s).", a.Name, api, p.ExpiresAt.Format("15:04:05 UTC"))
	return nil
}

// pendingFor finds the pending login to resume: the one of --api-url or
// <NAME>_API_URL when given, else the only one, else the one of the API a
// login would use.
func (a *App) pendingFor(st string) (*config.PendingLogin, string, error) {
	pf, err := config.LoadPending(st)
	if err != nil {
		return nil, "", err
	}
	if a.apiURLFlag == "" && a.env("API_URL") == "" && len(pf.Logins) == 1 {
		for api, p := range pf.Logins {
			return p, api, nil
		}
	}
	api, err := a.loginAPI("")
	if err != nil {
		return nil, "", err
	}
	return pf.Logins[api], api, nil
}

// resumeLogin polls the pending device login to the end, with login's
// exit codes and output, then removes it. One that expired, or that the
// authorization server ended (denied, expired, used), is removed too; one
// interrupted or cut off by the network stays, to be resumed again.
func (a *App) resumeLogin(ctx context.Context, asJSON bool) error {
	st, err := a.Store()
	if err != nil {
		return err
	}
	p, api, err := a.pendingFor(st.Dir)
	if err != nil {
		return err
	}
	if p == nil {
		return &pendingGone{msg: fmt.Sprintf("no pending login for %s: it was finished already, or none was started", redact.Text(api, 300))}
	}
	remove := func() error {
		return config.UpdatePending(context.WithoutCancel(ctx), st.Dir, func(pf *config.Pending) error {
			if cur := pf.Logins[api]; cur == nil || cur.DeviceCode != p.DeviceCode {
				return config.ErrUnchanged // replaced meanwhile by a newer --no-wait
			}
			delete(pf.Logins, api)
			return nil
		})
	}
	if !a.Now().Before(p.ExpiresAt) {
		_ = remove()
		return &pendingGone{msg: fmt.Sprintf("the pending login for %s expired at %s", redact.Text(api, 300), p.ExpiresAt.UTC().Format(time.RFC3339))}
	}
	md, err := a.oauthClient().Discover(ctx, p.Issuer)
	if err != nil {
		return err
	}
	app := oauth.App{Metadata: md, ClientID: p.ClientID, Scopes: p.Scopes, Resource: p.Resource}
	if p.Confidential {
		if app.ClientSecret = a.Provider().ClientSecret(p.ClientID, true); app.ClientSecret == "" {
			return usageErrorf("the pending login uses the confidential client %s: set %s (and %s to it) to resume it", redact.Text(p.ClientID, 100), a.envName("CLIENT_SECRET"), a.envName("CLIENT_ID"))
		}
	}
	c := &loginClient{app: app, registered: p.Registered}
	dc := &oauth.DeviceCode{
		DeviceCode: p.DeviceCode, UserCode: p.UserCode,
		VerificationURI: p.VerificationURI, VerificationURIComplete: p.VerificationURIComplete,
		Expiry: p.ExpiresAt, Interval: time.Duration(p.Interval) * time.Second,
	}
	spin := a.spinner("Waiting for approval of code " + p.UserCode)
	tok, err := a.oauthClient().PollDevice(ctx, app, dc, spin.tick)
	spin.stop()
	if err != nil {
		if pendingEnded(err) {
			_ = remove()
			err = withHint(err, "start again with '"+a.Name+" login --no-wait'")
		}
		return a.unknownClient(c, err)
	}
	// The device code is spent: the pending login goes whatever follows.
	if err := remove(); err != nil {
		a.errf("warning: could not remove the pending login: %s", oneLine(err.Error()))
	}
	a.saved = nil
	if err := a.storeLogin(ctx, api, app, tok, p.Method); err != nil {
		return err
	}
	if !asJSON || a.saved == nil {
		return nil
	}
	return writeJSON(a.Stdout, resumeResult(a.saved.login, a.saved.where))
}

func resumeResult(l *config.Login, where string) resumeJSON {
	out := resumeJSON{APIURL: l.APIURL, User: l.User, Account: l.AccountName(), Storage: where, Scopes: l.Scopes}
	if !l.ExpiresAt.IsZero() {
		out.ExpiresAt = l.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return out
}

// pendingEnded reports whether err ends the pending login for good: the
// authorization server answered with an OAuth error (denied, expired, a
// device code it does not know) rather than failing for a while.
func pendingEnded(err error) bool {
	oe, ok := errors.AsType[*oauth.OAuthError](err)
	return ok && oe.Status < 500 && oe.Status != 429
}

// savedLogin is a login saveLogin stored, and where.
type savedLogin struct {
	login *config.Login
	where string
}

// afterSave records the login just stored and warns when an env var will
// keep supplying another token in its place.
func (a *App) afterSave(l *config.Login, where string) {
	a.saved = &savedLogin{login: l, where: where}
	for _, key := range []string{"TOKEN", "CREDENTIALS_FILE"} {
		if a.env(key) != "" {
			a.errf("warning: %s is set and its token is used before this login; unset it to use the login", a.envName(key))
		}
	}
}
