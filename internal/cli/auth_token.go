package cli

import (
	"context"
	"time"

	"github.com/sesame-cli/sesame/internal/credentials"
)

type authTokenOptions struct {
	JSON bool
}

// authTokenJSON is what auth token --json prints.
type authTokenJSON struct {
	Token     string             `json:"token"`
	TokenType string             `json:"tokenType"`
	ExpiresAt string             `json:"expiresAt,omitempty"`
	Source    credentials.Source `json:"source"`
	APIURL    string             `json:"apiUrl,omitempty"`
}

func (a *App) runAuthTokenCmd(ctx context.Context, opts *authTokenOptions) error {
	if !opts.JSON {
		return a.runAuthToken(ctx)
	}
	t, err := a.activeCredential(ctx, false)
	if err != nil {
		return err
	}
	return writeJSON(a.Stdout, tokenJSON(t))
}

// tokenJSON is t as auth token --json prints it. The type is always
// Bearer: it is the scheme sesame sends the token with.
func tokenJSON(t *credentials.Token) authTokenJSON {
	out := authTokenJSON{Token: t.Value.Reveal(), TokenType: "Bearer", Source: t.Source, APIURL: t.APIURL}
	if !t.Expiry.IsZero() {
		out.ExpiresAt = t.Expiry.UTC().Format(time.RFC3339)
	}
	return out
}
