package cli

import (
	"context"

	"github.com/sesame-cli/sesame/internal/apiclient"
	"github.com/sesame-cli/sesame/internal/credentials"
)

// activeCredential is the token every command uses (renewed first when it
// is due), with its API URL checked: always when apiNeeded, else when one
// is named (an env or file token needs none to be printed).
func (a *App) activeCredential(ctx context.Context, apiNeeded bool) (*credentials.Token, error) {
	t, err := a.Provider().Token(ctx)
	if err != nil {
		return nil, err
	}
	if apiNeeded || t.APIURL != "" {
		if err := a.credEnv().CheckAPI(t.APIURL, t.APIURLFrom); err != nil {
			return nil, err
		}
	}
	a.active = t
	return t, nil
}

// apiClient is a client of t's API whose requests carry t and renew it
// once on a 401.
func (a *App) apiClient(t *credentials.Token) *apiclient.Client {
	return &apiclient.Client{HTTP: a.Provider().Client(t, a.HTTPClient()), BaseURL: t.APIURL}
}

// issuer is --issuer, else <NAME>_ISSUER, else the vendor's ("" to
// discover it from the API).
func (a *App) issuer() string {
	if a.issuerFlag != "" {
		return a.issuerFlag
	}
	if v := a.env("ISSUER"); v != "" {
		return v
	}
	return a.Vendor.Issuer
}
