package cli

// What the public package (github.com/sesame-cli/sesame, at the module
// root) builds on: sesame's commands and global flags under a vendor's own
// root command, the authenticated client for the vendor's commands, and the
// exit mapping for them. The root package only forwards to these.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/sesame-cli/sesame/internal/buildinfo"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/redact"
)

// NewProcessApp returns the App of this process, as Main runs it: its
// streams, environment, keyring and terminals, named after the build.
func NewProcessApp() *App {
	return &App{
		Name:             buildinfo.Name,
		Stdin:            os.Stdin,
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		Getenv:           os.Getenv,
		Environ:          os.Environ,
		GOOS:             runtime.GOOS,
		Now:              time.Now,
		Keyring:          credentials.OSKeyring{},
		Base:             config.HostBase(),
		StdinIsTerminal:  isTerminal(os.Stdin),
		StdoutIsTerminal: isTerminal(os.Stdout),
		StderrIsTerminal: isTerminal(os.Stderr),
	}
}

// EmbeddedCommands are the commands AddTo gives a vendor's root: the
// credential's life cycle. api, version and completion stay sesame's own
// (cobra gives every root its completion command).
func EmbeddedCommands() []string { return []string{"login", "logout", "whoami", "auth", "doctor"} }

// AddTo adds the embedded commands and every global flag of sesame's root
// (--api-url, --issuer, --debug, --storage, …) to root, so that they work
// under it exactly as under sesame. The App's setup runs before root's own
// PersistentPreRunE (or PersistentPreRun), and flag errors become usage
// errors (exit 2).
func (a *App) AddTo(root *cobra.Command) {
	tree := a.newRootCmd()
	root.PersistentFlags().AddFlagSet(tree.PersistentFlags())
	for _, c := range tree.Commands() {
		if slices.Contains(EmbeddedCommands(), c.Name()) {
			tree.RemoveCommand(c)
			root.AddCommand(c)
		}
	}
	prevE, prev := root.PersistentPreRunE, root.PersistentPreRun
	root.PersistentPreRun = nil
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := a.setup(); err != nil {
			return err
		}
		switch {
		case prevE != nil:
			return prevE(cmd, args)
		case prev != nil:
			prev(cmd, args)
		}
		return nil
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("%v", err) })
}

// Execute runs root (its args: root.SetArgs, else the process's) with the
// App's streams and returns the exit code, mapping every error as sesame
// does: one "<name>: ..." line, at most one hint. Arguments a command's Args
// refuses, unknown commands and bad flags are usage errors (exit 2), as in
// sesame; a root without Args takes none, and a root that cannot run shows
// its help.
func (a *App) Execute(ctx context.Context, root *cobra.Command) int {
	root.SilenceErrors = true
	root.SilenceUsage = true
	root.SetIn(a.Stdin)
	root.SetOut(a.Stdout)
	root.SetErr(a.Stderr)
	if root.Args == nil {
		root.Args = cobra.NoArgs
		if !root.Runnable() {
			root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		}
	}
	usageArgs(root)
	err := root.ExecuteContext(ctx)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return a.Exit(ctx, err)
}

// usageArgs makes the errors of the Args of c and its subcommands usage
// errors.
func usageArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			var u *usageError
			if err != nil && !errors.As(err, &u) {
				return usageErrorf("%v", err)
			}
			return err
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

// Exit prints err as exit does and returns its exit code. An error of a
// request made with AuthClient's client (a *url.Error) maps as the same
// failure of 'api' would: the credential's own error, or the API
// unreachable (exit 3).
func (a *App) Exit(ctx context.Context, err error) int {
	ue, ok := errors.AsType[*url.Error](err)
	if !ok {
		return a.exit(err)
	}
	var inner error
	var netErr *httpx.NetworkError
	if ce, ok := errors.AsType[*httpx.CredentialError](ue); ok {
		inner = ce.Err
	} else if errors.As(ue, &netErr) {
		inner = netErr
	} else {
		inner = httpx.Failed(ctx, httpx.API, "", ue.URL, ue)
	}
	if err == error(ue) || errors.Is(inner, context.Canceled) {
		return a.exit(inner) // the request alone: say what failed, not Get "URL": …
	}
	return a.exit(&restated{msg: err.Error(), err: inner})
}

// AuthClient returns the active credential's API URL and a copy of the
// App's HTTP client whose requests carry the credential (to that API's
// origin only) and renew it once on a 401, as 'api' does. The credential is
// resolved now, and renewed first when it is due.
func (a *App) AuthClient(ctx context.Context) (*http.Client, string, error) {
	if err := a.setup(); err != nil {
		return nil, "", err
	}
	t, err := a.activeCredential(ctx, true)
	if err != nil {
		return nil, "", err
	}
	return a.Provider().Client(t, a.HTTPClient()), t.APIURL, nil
}

// AccessToken returns the active credential (renewed first when due) as an
// *oauth2.Token.
func (a *App) AccessToken(ctx context.Context) (*oauth2.Token, error) {
	if err := a.setup(); err != nil {
		return nil, err
	}
	t, err := a.activeCredential(ctx, false)
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: t.Value.Reveal(), TokenType: "Bearer", Expiry: t.Expiry}, nil
}

// CheckResponse returns nil for a response below 400 and otherwise the
// error 'api' returns for it: a 401 is not authenticated (exit 4), a 403
// says which scopes to log in with (exit 5), any other status is an error
// naming the request (exit 1).
func (a *App) CheckResponse(resp *http.Response) error {
	switch {
	case resp.StatusCode < 400:
		return nil
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden:
		t := a.active // the credential AuthClient gave the client
		if t == nil {
			t = &credentials.Token{}
		}
		if t.Source == "" && resp.StatusCode == http.StatusForbidden && resp.Request != nil {
			// The hint names the scopes granted besides the missing one.
			if found, err := a.Provider().Find(resp.Request.Context()); err == nil {
				t = found
			}
		}
		return a.apiStatusError(resp, t)
	}
	what := "HTTP " + redact.Text(resp.Status, 100)
	if r := resp.Request; r != nil && r.URL != nil {
		what = r.Method + " " + redact.Text(r.URL.Path, 200) + ": " + what
	}
	return errors.New(what)
}
