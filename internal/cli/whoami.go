package cli

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/apiclient"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/redact"
)

type whoamiOptions struct {
	JSON bool
}

func (a *App) newWhoamiCmd() *cobra.Command {
	opts := &whoamiOptions{}
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show who the active token belongs to and where it came from",
		Args:  a.noArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.runWhoami(cmd.Context(), opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

type whoamiJSON struct {
	Source       credentials.Source `json:"source"`
	SourceDetail string             `json:"sourceDetail"`
	APIURL       string             `json:"apiUrl"`
	Identity     string             `json:"identity"`
	User         map[string]any     `json:"user"`
	ExpiresAt    string             `json:"expiresAt,omitempty"`
	Scopes       []string           `json:"scopes,omitempty"`
	Issuer       string             `json:"issuer,omitempty"`
	Account      string             `json:"account,omitempty"`
	Refreshable  bool               `json:"refreshable,omitempty"`
}

func (a *App) runWhoami(ctx context.Context, opts *whoamiOptions) error {
	t, err := a.activeCredential(ctx, true)
	if err != nil {
		return err
	}
	// The API's answer; a 401 renews t once (in place) and asks again. An
	// API without the identity endpoint is no error: the identity is the
	// one recorded at login, else unknown.
	me, err := a.apiClient(t).Me(ctx, a.mePath())
	identity := apiclient.Identity(me)
	switch {
	case noIdentityEndpoint(err):
		me, identity = nil, "unknown user (the API has no "+a.mePath()+" endpoint)"
		if t.Login != nil && t.Login.User != "" && t.Login.User != "unknown user" {
			identity = t.Login.User + " (as recorded at login; the API has no " + a.mePath() + " endpoint)"
		}
	case err != nil:
		return err
	}
	out := whoamiJSON{
		Source:       t.Source,
		SourceDetail: t.SourceDetail,
		APIURL:       t.APIURL,
		Identity:     identity,
		User:         me,
	}
	var expires time.Time
	if t.Login != nil {
		expires = t.Login.ExpiresAt
		out.Scopes = t.Login.Scopes
		out.Issuer = t.Login.Issuer
		out.Account = t.Login.AccountName()
		out.Refreshable = a.Provider().Renewable(t)
	}
	if !expires.IsZero() {
		out.ExpiresAt = expires.UTC().Format(time.RFC3339)
	}
	// The API's answer is printed as it came, but never a token in it.
	out.Identity = a.mask(out.Identity)
	out.User = maskJSON(out.User, a.secrets()).(map[string]any)
	if opts.JSON {
		return a.writeJSON(out)
	}
	a.outf("Logged in to %s as %s", out.APIURL, out.Identity)
	a.outf("  Token source: %s", out.SourceDetail)
	if len(out.Scopes) > 0 {
		a.outf("  Scopes: %s", joinScopes(out.Scopes))
	}
	if !expires.IsZero() {
		a.outf("  Expiry: %s", expiryWords(expires, a.Now(), out.Refreshable))
	}
	return nil
}

// expiryWords says when a token expires: "expires in 42 minutes;
// refreshes automatically".
func expiryWords(at, now time.Time, refreshable bool) string {
	d := at.Sub(now)
	var s string
	if d <= 0 {
		s = "expired " + durationWords(-d) + " ago"
	} else {
		s = "expires in " + durationWords(d)
	}
	if refreshable {
		s += "; refreshes automatically"
	} else if d <= 0 {
		s += "; run 'login' again"
	}
	return s
}

func durationWords(d time.Duration) string {
	switch {
	case d < time.Minute:
		return plural(int(d.Seconds()), "second")
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute")
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour")
	}
	return plural(int(d.Hours()/24), "day")
}

// noIdentityEndpoint reports whether err says that the API has no identity
// endpoint (404, 405, 501) rather than anything about the token.
func noIdentityEndpoint(err error) bool {
	re, ok := errors.AsType[*httpx.ResponseError](err)
	return ok && re.Server == httpx.API && (re.Status == http.StatusNotFound || re.Status == http.StatusMethodNotAllowed || re.Status == http.StatusNotImplemented)
}

// maskJSON replaces every secret in the strings of a decoded JSON value
// (keys included) by "***".
func maskJSON(v any, secrets []string) any {
	scrub := func(s string) string { return redact.Secrets(s, secrets...) }
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[scrub(k)] = maskJSON(e, secrets)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskJSON(e, secrets)
		}
		return out
	case string:
		return scrub(x)
	}
	return v
}
