package cli

import (
	"context"
	"io"

	"github.com/spf13/cobra"
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
