package cli

import (
	"context"
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/oauth"
)

type logoutOptions struct {
	Local bool
	All   bool
}

func (a *App) newLogoutCmd() *cobra.Command {
	opts := &logoutOptions{}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Remove the stored login of the active account (and revoke it at the issuer)",
		Args:  a.noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.runLogout(cmd.Context(), opts) },
	}
	cmd.Flags().BoolVar(&opts.Local, "local", false, "only remove the local copy; do not revoke at the issuer")
	cmd.Flags().BoolVar(&opts.All, "all", false, "log out every account of the API (default: the active one, or --account)")
	return cmd
}

func (a *App) runLogout(ctx context.Context, opts *logoutOptions) error {
	st, err := a.Store()
	if err != nil {
		return err
	}
	current, err := st.CurrentAPI()
	if err != nil {
		return err
	}
	api, _ := a.credEnv().API("", current)
	var removed bool
	if api != "" {
		olds, err := st.Delete(ctx, api, a.account, opts.All)
		if err != nil {
			return err
		}
		for _, old := range olds {
			removed = true
			from := "the config file"
			if old.Storage == config.StorageKeyring {
				from = "the OS keyring"
			}
			if !opts.Local {
				a.revoke(ctx, old)
			}
			who := ""
			if old.Account != "" && (len(olds) > 1 || a.account != "") {
				who = " as " + old.Account
			}
			a.errf("Logged out of %s%s (removed the stored tokens from %s)", api, who, from)
		}
		if removed {
			if l, err := st.Load(api, ""); err == nil {
				a.errf("The active account for %s is now %s.", api, l.AccountName())
			}
		}
	}
	if !removed {
		if api == "" {
			a.errf("Not logged in; nothing to remove.")
		} else {
			a.errf("Not logged in to %s; nothing to remove.", api)
		}
	}
	if a.env("TOKEN") != "" {
		a.errf("warning: %s is set and still supplies a token; unset it to log out completely", a.envName("TOKEN"))
	}
	if a.env("CLIENT_ID") != "" && a.env("CLIENT_SECRET") != "" {
		a.errf("warning: %s and %s are set and still mint a token; unset them to log out completely", a.envName("CLIENT_ID"), a.envName("CLIENT_SECRET"))
	}
	if a.env("CREDENTIALS_FILE") != "" {
		a.errf("warning: %s is set and still supplies a token; unset it to log out completely", a.envName("CREDENTIALS_FILE"))
	}
	return nil
}

// revoke revokes a removed login at its issuer (RFC 7009): the refresh
// token first (it usually ends the whole grant), then the access token, and
// says how each went: revoked, already invalid, not supported by the
// server, or failed (then it stays valid until it expires). Failures do
// not stop the logout.
func (a *App) revoke(ctx context.Context, old *config.Login) {
	if old.Issuer == "" || old.ClientID == "" {
		return // a pasted token: there is no issuer to tell
	}
	oc := a.oauthClient()
	md, err := oc.Discover(ctx, old.Issuer)
	if err != nil {
		a.errf("warning: could not revoke the tokens at %s: %s", old.Issuer, oneLine(err.Error()))
		return
	}
	if md.RevocationEndpoint == "" {
		a.errf("The authorization server %s does not support revocation; the access token stays valid until it expires.", old.Issuer)
		return
	}
	app := oauth.App{Metadata: md, ClientID: old.ClientID, ClientSecret: a.Provider().ClientSecret(old.ClientID, old.Confidential)}
	outcomes := map[string][]string{}
	var order []string
	note := func(outcome, what string) {
		if outcomes[outcome] == nil {
			order = append(order, outcome)
		}
		outcomes[outcome] = append(outcomes[outcome], what)
	}
	for _, tk := range []struct{ value, hint, what string }{
		{old.RefreshToken, "refresh_token", "refresh token"},
		{old.AccessToken, "access_token", "access token"},
	} {
		if tk.value == "" {
			continue
		}
		err := oc.Revoke(ctx, app, tk.value, tk.hint)
		oe, isOAuth := errors.AsType[*oauth.OAuthError](err)
		switch {
		case err == nil:
			note("revoked", tk.what)
		case isOAuth && (oe.Code == "invalid_token" || oe.Code == "invalid_grant"):
			note("already invalid", tk.what)
		case isOAuth && oe.Code == "unsupported_token_type":
			note("not supported", tk.what)
		default:
			note("failed", tk.what+" ("+oneLine(err.Error())+")")
		}
	}
	for _, outcome := range order {
		what := strings.Join(outcomes[outcome], " and the ")
		switch outcome {
		case "revoked":
			a.errf("Revoked the %s at %s.", what, old.Issuer)
		case "already invalid":
			a.errf("The %s was already invalid at %s.", what, old.Issuer)
		case "not supported":
			a.errf("%s does not revoke the %s; it stays valid until it expires.", old.Issuer, what)
		case "failed":
			a.errf("warning: could not revoke the %s at %s; it stays valid until it expires", what, old.Issuer)
		}
	}
}
