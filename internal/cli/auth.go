package cli

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/apiclient"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/redact"
)

func (a *App) newAuthCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Manage the stored credentials (set, token, list, switch)",
		Args:  a.noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.newAuthSetCmd(), a.newAuthTokenCmd(), a.newAuthListCmd(), a.newAuthSwitchCmd())
	return cmd
}

type authSetOptions struct {
	Stdin bool
}

func (a *App) newAuthSetCmd() *cobra.Command {
	opts := &authSetOptions{}
	cmd := &cobra.Command{
		Use:   "set --stdin",
		Short: "Store a token read from stdin (a raw token or {\"token\": \"...\", \"apiUrl\": \"...\"})",
		Long: `Reads a raw token, or a JSON object {"token": "...", "apiUrl": "..."}, from
standard input, checks it with one request to the API, and stores it.
Nothing is stored when the API rejects it.`,
		Example: "  vault kv get -field=token secret/api | " + a.Name + " auth set --stdin",
		Args:    a.noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.runAuthSet(cmd.Context(), opts) },
	}
	cmd.Flags().BoolVar(&opts.Stdin, "stdin", false, "read the token from standard input")
	return cmd
}

func (a *App) runAuthSet(ctx context.Context, opts *authSetOptions) error {
	if !opts.Stdin {
		return usageErrorf("auth set needs --stdin (the token is never taken from an argument)")
	}
	tok, api, err := a.readTokenInput()
	if err != nil {
		return err
	}
	return a.validateAndStore(ctx, tok, api, "token")
}

// readTokenInput reads a token (raw or JSON) from stdin.
func (a *App) readTokenInput() (string, string, error) {
	data, err := io.ReadAll(io.LimitReader(a.Stdin, credentials.MaxInput+1))
	if err != nil {
		return "", "", &credentials.InputError{What: "stdin", Problem: "cannot read"}
	}
	tok, api, err := credentials.ParseTokenInput(data)
	if err != nil {
		return "", "", &credentials.InputError{What: "stdin", Problem: err.Error()}
	}
	return tok, api, nil
}

// loginAPI picks the API a login is for: --api-url > <NAME>_API_URL >
// given (from the input) > the config's current API > the build default.
func (a *App) loginAPI(given string) (string, error) {
	env := a.credEnv()
	current := ""
	if given == "" && a.apiURLFlag == "" && a.env("API_URL") == "" {
		st, err := a.Store()
		if err != nil {
			return "", err
		}
		if current, err = st.CurrentAPI(); err != nil {
			return "", err
		}
	}
	api, from := env.API(given, current)
	if from == "credentials-file" {
		from = "stdin"
	}
	if err := env.CheckAPI(api, from); err != nil {
		return "", err
	}
	return api, nil
}

// validateAndStore checks a pasted token with one API call and stores it.
func (a *App) validateAndStore(ctx context.Context, tok, givenAPI, method string) error {
	a.issued = append(a.issued, tok)
	api, err := a.loginAPI(givenAPI)
	if err != nil {
		return err
	}
	a.noteAPIOverride(givenAPI, api)
	me, err := a.apiClient(&credentials.Token{Value: redact.Secret(tok), APIURL: api}).Me(ctx, a.mePath())
	if err != nil {
		var ae *apiclient.AuthError
		if errors.As(err, &ae) {
			return withHint(&restated{msg: "the API rejected the token; nothing was stored", err: err}, "check the token (expired or revoked?) and the API URL "+api)
		}
		return err
	}
	return a.saveLogin(ctx, &config.Login{APIURL: api, AccessToken: tok, TokenType: "Bearer", User: apiclient.Identity(me), Account: apiclient.Account(me), Method: method})
}

func (a *App) whereWords(where string) string {
	if where == config.StorageKeyring {
		return "the OS keyring"
	}
	return a.store.ConfigPath()
}

func (a *App) newAuthTokenCmd() *cobra.Command {
	opts := &authTokenOptions{}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print the active token (refreshed if needed) on stdout",
		Long: `Prints the active token and a newline on stdout, nothing else, so that
scripts can use it: curl -H "Authorization: Bearer $(` + a.Name + ` auth token)" ...

An env or file token needs no API URL. --json prints {"token", "tokenType",
"expiresAt", "source", "apiUrl"} (absent values omitted).`,
		Args: a.noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAuthTokenCmd(cmd.Context(), opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the token with its type, expiry, source and API URL as JSON")
	return cmd
}

func (a *App) runAuthToken(ctx context.Context) error {
	t, err := a.activeCredential(ctx, false)
	if err != nil {
		return err
	}
	_, err = io.WriteString(a.Stdout, t.Value.Reveal()+"\n")
	return err
}
