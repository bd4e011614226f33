package sesame

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/oauth2"
	"golang.org/x/term"

	"github.com/sesame-cli/sesame/internal/cli"
	"github.com/sesame-cli/sesame/internal/config"
)

// Config names a CLI and gives its defaults. Name is required; a zero
// field otherwise means sesame's default.
type Config struct {
	// Name is the program: the command in messages ("papermark: ..."), the
	// prefix of every environment variable (PAPERMARK_TOKEN), the config
	// directory (~/.config/papermark) and the keyring service. It is made
	// of ASCII letters, digits, '.', '_' and '-', starts with a letter or a
	// digit and is at most 64 bytes long.
	Name string
	// DefaultAPIURL is the API when no flag, environment variable,
	// credentials file or stored login names one.
	DefaultAPIURL string
	// ClientID is a pre-registered OAuth client id; "" registers a public
	// client once per issuer (RFC 7591).
	ClientID string
	// Scopes are the scopes login asks for; nil asks for every *.read or
	// *:read scope the issuer lists, and offline_access.
	Scopes []string
	// MePath is the API path that says whom a token belongs to ("" is
	// "/v1/me"); when the API does not answer it, whoami and doctor use
	// OIDC userinfo or the ID token.
	MePath string
	// Issuer is the authorization server; "" discovers it from the API
	// (RFC 9728, then the API host without "api.").
	Issuer string

	// Stdin, Stdout, Stderr and Getenv replace the process's streams and
	// environment, to run the CLI in a test; nil means the process's. With
	// Getenv, the config directory comes only from the variables it returns
	// (<NAME>_CONFIG_DIR, XDG_CONFIG_HOME, HOME, APPDATA). Set
	// <NAME>_STORAGE=file to keep a test away from the OS keyring.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// CLI is one run of a program built on sesame: its commands, its
// authenticated client and its exit codes.
type CLI struct {
	app *cli.App
	err error // what is wrong with the Config
}

// New returns the CLI for cfg, reading the process's streams and
// environment where cfg does not replace them. A Config that is not valid
// does not fail here: Execute and Run report it (exit 1), and the methods
// that return an error return it.
func New(cfg Config) *CLI {
	a := cli.NewProcessApp()
	err := cfg.check()
	if err == nil {
		a.Name = cfg.Name
	}
	a.Vendor = cli.Vendor{
		DefaultAPIURL: cfg.DefaultAPIURL,
		ClientID:      cfg.ClientID,
		Scopes:        append([]string(nil), cfg.Scopes...),
		MePath:        cfg.MePath,
		Issuer:        cfg.Issuer,
	}
	if cfg.Stdin != nil {
		a.Stdin, a.StdinIsTerminal = cfg.Stdin, isTerminal(cfg.Stdin)
	}
	if cfg.Stdout != nil {
		a.Stdout, a.StdoutIsTerminal = cfg.Stdout, isTerminal(cfg.Stdout)
	}
	if cfg.Stderr != nil {
		a.Stderr, a.StderrIsTerminal = cfg.Stderr, isTerminal(cfg.Stderr)
	}
	if cfg.Getenv != nil {
		a.Getenv, a.Base = cfg.Getenv, config.Base{}
	}
	return &CLI{app: a, err: err}
}

// AddTo adds login, logout, whoami, auth and doctor to root, and the
// global flags --api-url, --issuer, --debug and --storage as persistent
// flags. Their setup runs before root's PersistentPreRunE or
// PersistentPreRun (set yours before calling AddTo). root's Use should be
// the Config's Name.
func (c *CLI) AddTo(root *cobra.Command) { c.app.AddTo(root) }

// Execute runs root, given to AddTo, and returns the exit code for
// os.Exit. Its arguments are those of root.SetArgs, else the process's.
// Every error becomes one "<name>: ..." line on stderr, with at most one
// hint, and its exit code. Bad flags, unknown commands and arguments a
// command's Args refuses exit 2; a root without Args takes none.
func (c *CLI) Execute(ctx context.Context, root *cobra.Command) int {
	if c.err != nil {
		return c.app.Exit(ctx, c.err)
	}
	return c.app.Execute(ctx, root)
}

// Run runs sesame itself under the Config's name with args (os.Args[1:])
// and returns the exit code: AddTo's commands with sesame's api,
// completion and version. It is what the sesame command runs, and a
// vendor's whole CLI when it has no command of its own.
func (c *CLI) Run(ctx context.Context, args []string) int {
	if c.err != nil {
		return c.app.Exit(ctx, c.err)
	}
	return c.app.Run(ctx, args)
}

// HTTPClient returns a client whose requests carry the active credential,
// renewed first when it is due. It sends the token only to the API's
// origin (see APIURL), and on a 401 renews the token once and retries. Its
// errors, and those of CheckResponse, exit as 'sesame api' does.
func (c *CLI) HTTPClient(ctx context.Context) (*http.Client, error) {
	if c.err != nil {
		return nil, c.err
	}
	hc, _, err := c.app.AuthClient(ctx)
	return hc, err
}

// APIURL returns the base URL (no trailing slash) of the API the active
// credential is for: --api-url, <NAME>_API_URL, the credentials file's
// apiUrl, the stored login's API or the Config's DefaultAPIURL.
func (c *CLI) APIURL(ctx context.Context) (string, error) {
	if c.err != nil {
		return "", c.err
	}
	_, api, err := c.app.AuthClient(ctx)
	return api, err
}

// TokenSource returns the active credential as an oauth2.TokenSource, for
// clients built on golang.org/x/oauth2. Each Token call resolves the
// credential again and renews it when it is due.
func (c *CLI) TokenSource(ctx context.Context) oauth2.TokenSource {
	return tokenSource{ctx: ctx, c: c}
}

type tokenSource struct {
	ctx context.Context
	c   *CLI
}

func (s tokenSource) Token() (*oauth2.Token, error) {
	if s.c.err != nil {
		return nil, s.c.err
	}
	return s.c.app.AccessToken(s.ctx)
}

// CheckResponse returns nil for a response with a status below 400, else
// the error 'sesame api' gives for it: a 401 exits 4 with a hint to log in,
// a 403 exits 5 naming the scopes to log in with, and any other status
// exits 1.
func (c *CLI) CheckResponse(resp *http.Response) error { return c.app.CheckResponse(resp) }

// check reports what is wrong with cfg.
func (cfg *Config) check() error {
	if err := checkName(cfg.Name); err != nil {
		return err
	}
	for _, u := range []struct{ field, value string }{{"DefaultAPIURL", cfg.DefaultAPIURL}, {"Issuer", cfg.Issuer}} {
		if u.value == "" {
			continue
		}
		p, err := url.Parse(u.value)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return fmt.Errorf("sesame.Config: %s %q is not an absolute http(s) URL", u.field, u.value)
		}
	}
	if cfg.MePath != "" && !strings.HasPrefix(cfg.MePath, "/") {
		return fmt.Errorf("sesame.Config: MePath %q does not start with /", cfg.MePath)
	}
	if strings.ContainsFunc(cfg.ClientID, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return fmt.Errorf("sesame.Config: ClientID %q has control characters", cfg.ClientID)
	}
	for _, s := range cfg.Scopes {
		if !isScopeToken(s) {
			return fmt.Errorf("sesame.Config: scope %q is not an OAuth scope token", s)
		}
	}
	return nil
}

func checkName(name string) error {
	ok := name != "" && len(name) <= 64 && isAlnum(name[0])
	for i := 0; ok && i < len(name); i++ {
		ok = isAlnum(name[i]) || name[i] == '.' || name[i] == '_' || name[i] == '-'
	}
	if !ok {
		return fmt.Errorf("sesame.Config: Name %q is not a program name (ASCII letters, digits, '.', '_', '-'; at most 64 bytes)", name)
	}
	return nil
}

func isAlnum(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// isScopeToken reports a non-empty RFC 6749 scope-token: printable ASCII
// but space, '"' and '\'.
func isScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b <= ' ' || b > '~' || b == '"' || b == '\\' {
			return false
		}
	}
	return s != ""
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
