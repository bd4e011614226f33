// Package cli is sesame's command tree. It is the only package that reads
// the process environment, talks to the terminal and decides exit codes.
package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/buildinfo"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/redact"
)

// App is one run of the program: its streams, environment and clients.
type App struct {
	Name   string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	GOOS   string
	Now    func() time.Time
	// Vendor holds a vendor's defaults (API URL, client id, scopes, me-path,
	// issuer); a zero field falls back to the build's (buildinfo).
	Vendor Vendor
	// Base is what the platform knows of the home and AppData folders
	// (config.HostBase for the process; tests leave it empty).
	Base config.Base
	// Environ is the whole environment Getenv reads (os.Environ for the
	// process): what exec passes on to the command it runs.
	Environ func() []string
	// Keyring is the OS keyring (bounded by a timeout in Store).
	Keyring credentials.Keyring
	// Transport is the base HTTP transport (tests may replace it).
	Transport http.RoundTripper
	// StdinIsTerminal / StderrIsTerminal / StdoutIsTerminal report terminals.
	StdinIsTerminal, StdoutIsTerminal, StderrIsTerminal bool

	// global flags
	apiURLFlag string
	storage    string
	debug      bool

	issuerFlag string
	account    string

	httpClient *http.Client
	provider   *credentials.Provider
	store      *credentials.Store
	configDir  string

	// active is the credential in use (exit says where a refused token came
	// from), and issued the tokens a login just got: both masked in
	// everything printed (an API or server may echo them).
	active *credentials.Token
	issued []string
	// saved is the login saveLogin stored last (login --resume --json).
	saved *savedLogin
}

// Main runs the program with the process's arguments, streams and
// environment and returns the exit code.
func Main(ctx context.Context) int {
	return NewProcessApp().Run(ctx, os.Args[1:])
}

// Run executes args and returns the exit code.
func (a *App) Run(ctx context.Context, args []string) int {
	var err error
	if len(args) == 2 && args[0] == "auth" && args[1] == "token" {
		// The command scripts and prompts run thousands of times a day: the
		// same setup and runAuthToken as through cobra, without building
		// the command tree first (see BENCHMARKS.md).
		if err = a.setup(); err == nil {
			err = a.runAuthToken(ctx)
		}
	} else {
		err = a.execute(ctx, args)
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return a.exit(err)
}

// execute runs args through the cobra command tree.
func (a *App) execute(ctx context.Context, args []string) error {
	root := a.newRootCmd()
	root.SetArgs(args)
	root.SetIn(a.Stdin)
	root.SetOut(a.Stdout)
	root.SetErr(a.Stderr)
	return root.ExecuteContext(ctx)
}

// setup applies the global settings every command needs (the root
// command's PersistentPreRunE): the storage mode and --debug from the
// environment when no flag set them.
func (a *App) setup() error {
	if a.storage == "" {
		a.storage = a.env("STORAGE")
	}
	if a.storage == "" {
		a.storage = credentials.StorageAuto
	}
	if err := credentials.ValidStorage(a.storage); err != nil {
		return usageErrorf("%v", err)
	}
	if a.account == "" {
		a.account = a.env("ACCOUNT")
	}
	if !a.debug {
		d := a.env("DEBUG")
		a.debug = d != "" && d != "0" && d != "false"
	}
	return nil
}

// env returns the program's env var for key (SESAME_<key>).
func (a *App) env(key string) string { return a.Getenv(a.envName(key)) }

func (a *App) envName(key string) string { return buildinfo.EnvName(a.Name, key) }

func (a *App) newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   a.Name,
		Short: a.Name + " gets you a working API token and keeps it working",
		Long: a.Name + ` logs in to an API with OAuth (device flow, browser, client credentials or a
pasted token), finds the active token in a fixed order of places, refreshes
it silently and tells you where it came from.

Token resolution order (first found wins):
  1. ` + a.envName("TOKEN") + `
  2. ` + a.envName("CLIENT_ID") + ` + ` + a.envName("CLIENT_SECRET") + ` (client credentials)
  3. ` + a.envName("CREDENTIALS_FILE") + ` (a JSON {"token","apiUrl"} file or a raw token)
  4. the stored login (OS keyring or config file)`,
		Args:              a.noArgs,
		RunE:              func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SilenceUsage:      true,
		SilenceErrors:     true,
		Version:           a.versionString(),
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
		PersistentPreRunE: func(*cobra.Command, []string) error { return a.setup() },
	}
	root.SetVersionTemplate(a.versionTemplate())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("%v", err) })
	pf := root.PersistentFlags()
	pf.StringVar(&a.apiURLFlag, "api-url", "", "API base URL (env "+a.envName("API_URL")+")")
	pf.StringVar(&a.account, "account", "", "which of the API's stored logins to use (default: the active one; env "+a.envName("ACCOUNT")+")")
	pf.StringVar(&a.issuerFlag, "issuer", "", "authorization server (default: discovered from the API; env "+a.envName("ISSUER")+")")
	pf.BoolVar(&a.debug, "debug", false, "trace HTTP requests on stderr, secrets redacted (env "+a.envName("DEBUG")+"=1)")
	pf.StringVar(&a.storage, "storage", "", "where to store tokens: auto, keyring or file (env "+a.envName("STORAGE")+")")
	_ = root.RegisterFlagCompletionFunc("storage", cobra.FixedCompletions([]string{"auto", "keyring", "file"}, cobra.ShellCompDirectiveNoFileComp))

	root.AddCommand(
		a.newLoginCmd(),
		a.newLogoutCmd(),
		a.newWhoamiCmd(),
		a.newAuthCmd(),
		a.newVersionCmd(),
		a.newAPICmd(),
		a.newDoctorCmd(),
		a.newExecCmd(),
	)
	return root
}

// Vendor is what makes a build someone's own CLI besides its name: the
// defaults used when no flag, env var or stored login says otherwise.
type Vendor struct {
	DefaultAPIURL string   // the API when nothing else names one
	ClientID      string   // a pre-registered OAuth client id ("" = register one)
	Scopes        []string // the scopes a login asks for ("" = every read scope + offline_access)
	MePath        string   // the API path that says who the token belongs to ("/v1/me")
	Issuer        string   // the authorization server ("" = discovered from the API)
}

// vendor is a.Vendor with the build's values (buildinfo) for zero fields.
func (a *App) vendor() Vendor {
	v := a.Vendor
	if v.DefaultAPIURL == "" {
		v.DefaultAPIURL = buildinfo.DefaultAPIURL
	}
	if v.ClientID == "" {
		v.ClientID = buildinfo.ClientID
	}
	if v.MePath == "" {
		v.MePath = buildinfo.MePath
	}
	return v
}

// credEnv is the resolver's view of this run: names, env vars and flags.
func (a *App) credEnv() *credentials.Env {
	return &credentials.Env{Name: a.Name, Getenv: a.Getenv, GOOS: a.GOOS, APIURLFlag: a.apiURLFlag, IssuerFlag: a.issuer(), DefaultAPIURL: a.vendor().DefaultAPIURL, Account: a.account}
}

// Provider is the token provider of this run: where the credential comes
// from, and its renewal.
func (a *App) Provider() *credentials.Provider {
	if a.provider == nil {
		a.provider = &credentials.Provider{Env: *a.credEnv(), Warn: a.Stderr, Now: a.Now, HTTP: a.HTTPClient(), Store: a.Store}
	}
	return a.provider
}

// ConfigDir returns the config directory.
func (a *App) ConfigDir() (string, error) {
	if a.configDir != "" {
		return a.configDir, nil
	}
	d, err := config.Dir(a.GOOS, a.Name, a.Getenv, a.Base)
	if err != nil {
		return "", err
	}
	a.configDir = d
	return d, nil
}

// Store opens the token store (lazily: an env token never touches it).
func (a *App) Store() (*credentials.Store, error) {
	if a.store != nil {
		return a.store, nil
	}
	dir, err := a.ConfigDir()
	if err != nil {
		return nil, err
	}
	a.store = &credentials.Store{
		Dir:     dir,
		Service: a.Name,
		Keyring: credentials.TimeoutKeyring{Keyring: a.Keyring, Timeout: a.keyringTimeout()},
		Storage: a.storage,
		Notice:  a.Stderr,
		Now:     a.Now,
	}
	return a.store, nil
}

func (a *App) keyringTimeout() time.Duration {
	if d, err := time.ParseDuration(a.env("KEYRING_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return credentials.DefaultKeyringTimeout
}

// DefaultHTTPTimeout bounds a whole HTTP request.
const DefaultHTTPTimeout = httpx.DefaultTimeout

// HTTPClient returns the client for every request (httpx.NewClient): the
// whole-request timeout from <NAME>_HTTP_TIMEOUT (default 30 s), proxy and
// SSL_CERT_FILE read through Getenv, User-Agent <name>/<version>, the one
// redirect policy, and with --debug a redacting trace on stderr.
func (a *App) HTTPClient() *http.Client {
	if a.httpClient != nil {
		return a.httpClient
	}
	timeout := DefaultHTTPTimeout
	if d, ok := httpx.ParseTimeout(a.env("HTTP_TIMEOUT")); ok {
		timeout = d
	}
	o := httpx.Options{Getenv: a.Getenv, Timeout: timeout, UserAgent: a.Name + "/" + a.versionString(), Base: a.Transport, Now: a.Now}
	if a.debug {
		o.Debug = a.Stderr
		o.Secrets = a.secrets
	}
	a.httpClient = httpx.NewClient(o)
	return a.httpClient
}

// secrets are the tokens this run holds: never printed.
func (a *App) secrets() []string {
	out := slices.Clone(a.issued)
	if t := a.active; t != nil {
		out = append(out, t.Value.Reveal())
		if t.Login != nil {
			out = append(out, t.Login.AccessToken, t.Login.RefreshToken)
		}
	}
	return slices.DeleteFunc(out, func(s string) bool { return len(s) < 8 })
}

// mask replaces every token this run holds by "***".
func (a *App) mask(s string) string { return redact.Secrets(s, a.secrets()...) }

// errf writes a line to stderr (tokens masked).
func (a *App) errf(format string, args ...any) {
	fmt.Fprint(a.Stderr, a.mask(fmt.Sprintf(format, args...))+"\n")
}

// outf writes a line to stdout.
func (a *App) outf(format string, args ...any) {
	fmt.Fprintf(a.Stdout, format+"\n", args...)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func joinScopes(s []string) string { return strings.Join(s, " ") }

// noArgs is cobra.NoArgs as a usage error (exit 2).
func (a *App) noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return usageErrorf("%v", err)
	}
	return nil
}

// exactArgs is cobra.ExactArgs as a usage error (exit 2).
func (a *App) exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageErrorf("%v", err)
		}
		return nil
	}
}
