package cli

import (
	"context"
	"fmt"

	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/oauth"
)

// activeCredential resolves the token every command uses, checks its API
// URL and refreshes a stored login that is about to expire.
func (a *App) activeCredential(ctx context.Context) (*credentials.Credential, error) {
	cred, err := credentials.Resolve(ctx, a.credEnv())
	if err != nil {
		return nil, err
	}
	if err := a.checkAPIURL(cred.APIURL, cred.APIURLFrom); err != nil {
		return nil, err
	}
	return cred, nil
}

// checkAPIURL refuses a missing, malformed or non-HTTPS (non-loopback) API URL.
func (a *App) checkAPIURL(api, from string) error {
	if api == "" {
		return fmt.Errorf("%w: pass --api-url or set %s", credentials.ErrNoAPIURL, a.envName("API_URL"))
	}
	if _, err := oauth.CheckURL(api); err != nil {
		return fmt.Errorf("API URL %s (from %s): %w", api, a.apiFromWords(from), err)
	}
	return nil
}

func (a *App) apiFromWords(from string) string {
	switch from {
	case "flag":
		return "--api-url"
	case "env":
		return a.envName("API_URL")
	case "credentials-file":
		return a.envName("CREDENTIALS_FILE")
	case "config":
		return "the config file"
	case "default":
		return "the build default"
	}
	return from
}
