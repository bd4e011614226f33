package cli

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
)

type authListOptions struct {
	JSON bool
}

func (a *App) newAuthListCmd() *cobra.Command {
	opts := &authListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the stored logins per API, the active account marked",
		Args:  a.noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.runAuthList(opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, `print {"logins":[{"apiUrl","account","active","storage","expiresAt","scopes"}]}`)
	return cmd
}

// loginJSON is one stored login in auth list --json.
type loginJSON struct {
	APIURL    string   `json:"apiUrl"`
	Account   string   `json:"account"`
	Active    bool     `json:"active"`
	Current   bool     `json:"current,omitempty"` // the API commands use without --api-url
	Storage   string   `json:"storage"`
	ExpiresAt string   `json:"expiresAt,omitempty"`
	Scopes    []string `json:"scopes,omitempty"`
}

func (a *App) runAuthList(opts *authListOptions) error {
	st, err := a.Store()
	if err != nil {
		return err
	}
	cfg, err := config.Load(st.Dir)
	if err != nil {
		return err
	}
	out := struct {
		Logins []loginJSON `json:"logins"`
	}{Logins: []loginJSON{}}
	for _, api := range slices.Sorted(maps.Keys(apisOf(cfg))) {
		for i, l := range cfg.Logins(api) {
			j := loginJSON{APIURL: api, Account: l.AccountName(), Active: i == 0 && cfg.APIs[api] == l, Current: api == cfg.CurrentAPI, Storage: l.Storage, Scopes: l.Scopes}
			if !l.ExpiresAt.IsZero() {
				j.ExpiresAt = l.ExpiresAt.UTC().Format(time.RFC3339)
			}
			out.Logins = append(out.Logins, j)
		}
	}
	if opts.JSON {
		return a.writeJSON(out)
	}
	if len(out.Logins) == 0 {
		a.errf("No stored logins.")
		return nil
	}
	last := ""
	for _, l := range out.Logins {
		if l.APIURL != last {
			mark := ""
			if l.Current {
				mark = " (current)"
			}
			a.outf("%s%s", l.APIURL, mark)
			last = l.APIURL
		}
		line := "    " + l.Account
		if l.Active {
			line = "  * " + l.Account + " (active)"
		}
		line += " — " + storageWords(l.Storage)
		if l.ExpiresAt != "" {
			if at, err := time.Parse(time.RFC3339, l.ExpiresAt); err == nil {
				line += ", " + expiryWords(at, a.Now(), false)
			}
		}
		a.outf("%s", line)
	}
	return nil
}

// apisOf is every API with a stored login.
func apisOf(cfg *config.File) map[string]bool {
	apis := map[string]bool{}
	for api := range cfg.APIs {
		apis[api] = true
	}
	for api := range cfg.Accounts {
		apis[api] = true
	}
	return apis
}

func storageWords(storage string) string {
	if storage == config.StorageKeyring {
		return "OS keyring"
	}
	return "config file"
}

// writeJSON prints v on stdout (see writeJSON).
func (a *App) writeJSON(v any) error { return writeJSON(a.Stdout, v) }

func (a *App) newAuthSwitchCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "switch [ACCOUNT]",
		Short: "Make another stored account the active one for the API",
		Long: `Makes ACCOUNT the active login of the API (--api-url, else the current
API). Without ACCOUNT: with two accounts, the other one; on a terminal, a
choice; otherwise name it.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.MaximumNArgs(1)(cmd, args); err != nil {
				return usageErrorf("%v", err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			account := ""
			if len(args) == 1 {
				account = args[0]
			}
			return a.runAuthSwitch(cmd.Context(), account)
		},
	}
}

func (a *App) runAuthSwitch(ctx context.Context, account string) error {
	st, err := a.Store()
	if err != nil {
		return err
	}
	cfg, err := config.Load(st.Dir)
	if err != nil {
		return err
	}
	api, _ := a.credEnv().API("", cfg.CurrentAPI)
	logins := cfg.Logins(api)
	if api == "" || len(logins) == 0 {
		return fmt.Errorf("%w: no stored login to switch between", credentials.ErrNoCredential)
	}
	if account == "" {
		switch {
		case len(logins) == 1:
			a.errf("Only one account is stored for %s: %s.", api, logins[0].AccountName())
			return nil
		case len(logins) == 2:
			account = logins[1].AccountName()
		case a.StdinIsTerminal && a.StderrIsTerminal:
			if account, err = a.chooseAccount(api, logins); err != nil {
				return err
			}
		default:
			return usageErrorf("name the account to switch to (see '%s auth list')", a.Name)
		}
	}
	if err := st.Switch(ctx, api, account); err != nil {
		return err
	}
	a.errf("Switched the active account for %s to %s.", api, account)
	return nil
}

// chooseAccount asks which account to switch to, on the terminal.
func (a *App) chooseAccount(api string, logins []*config.Login) (string, error) {
	a.errf("Accounts for %s:", api)
	for i, l := range logins {
		mark := ""
		if i == 0 {
			mark = " (active)"
		}
		a.errf("  %d. %s%s", i+1, l.AccountName(), mark)
	}
	fmt.Fprintf(a.Stderr, "Switch to [1-%d]: ", len(logins))
	line, err := bufio.NewReader(a.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", usageErrorf("no choice made")
	}
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || n < 1 || n > len(logins) {
		return "", usageErrorf("not a choice: %q", strings.TrimSpace(line))
	}
	return logins[n-1].AccountName(), nil
}
