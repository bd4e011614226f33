package cli

import (
	"slices"
	"strings"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/redact"
)

// givenTokenPlace names where an env or file token was given ("" when the
// token came from anywhere else: a stored login, client credentials, or
// no credential at all): logging in does not change such a token, so
// hints about it say to replace it where it is.
func (a *App) givenTokenPlace(t *credentials.Token) string {
	if t == nil {
		return ""
	}
	switch t.Source {
	case credentials.SourceEnv:
		return a.envName("TOKEN")
	case credentials.SourceCredentialsFile:
		return "the credentials file " + redact.Text(t.Path, 300) + " (" + a.envName("CREDENTIALS_FILE") + ")"
	}
	return ""
}

// authHint is the hint for a 401 on the active token t.
func (a *App) authHint(t *credentials.Token) string {
	if place := a.givenTokenPlace(t); place != "" {
		return "the token comes from " + place + ": replace it there (a login is not used while it is set)"
	}
	return "run '" + a.Name + " login' to get a new token"
}

// scopeHint is the hint for a 403 naming the missing scope(s) on the
// active token t (nil when unknown): replace an env or file token; log in
// again keeping the scopes a stored login has, the missing ones and
// offline_access.
func (a *App) scopeHint(t *credentials.Token, missing string) string {
	if place := a.givenTokenPlace(t); place != "" {
		return "the token given in " + place + " lacks it: replace it there with one that has it"
	}
	switch {
	case t != nil && t.Source == credentials.SourceClientCredentials:
		return "add it to " + a.envName("SCOPES") + " if the client " + a.envName("CLIENT_ID") + " may have it"
	case t != nil && t.Login != nil:
		return a.loginScopesHint(t.Login, missing)
	}
	return "use a token that has it"
}

// loginScopesHint is the login that gets l's scopes plus missing (and
// offline_access when l could refresh), as a command only when every
// scope is safe to paste.
func (a *App) loginScopesHint(l *config.Login, missing string) string {
	if l.Method == "token" {
		return "store a token that has it ('" + a.Name + " auth set --stdin')"
	}
	want := slices.Clone(l.Scopes)
	for _, s := range strings.Fields(missing) {
		if !slices.Contains(want, s) {
			want = append(want, s)
		}
	}
	offline := l.RefreshToken != "" || l.HasRefreshToken || slices.Contains(l.RequestedScopes, "offline_access")
	if offline && l.Method != credentials.MethodClientCredentials && !slices.Contains(want, "offline_access") {
		want = append(want, "offline_access")
	}
	if len(want) == 0 {
		return ""
	}
	for _, s := range want {
		if !redact.PlainScope(s) {
			return "log in again with --scopes listing the scopes the login has and the missing one"
		}
	}
	cmd := a.Name + " login"
	if l.Method == credentials.MethodClientCredentials {
		cmd += " --client-credentials"
	}
	return "run '" + cmd + " --scopes " + redact.ShellQuote(strings.Join(want, ",")) + "'"
}

// noteAPIOverride says which API URL a pasted token is stored for when the
// input named another one (its JSON apiUrl) that --api-url or
// <NAME>_API_URL overrode.
func (a *App) noteAPIOverride(given, used string) {
	if given == "" || credentials.NormalizeURL(given) == used {
		return
	}
	from := a.envName("API_URL")
	if a.apiURLFlag != "" {
		from = "--api-url"
	}
	a.errf("warning: using the API URL %s from %s, not %s from the input's apiUrl", redact.Text(used, 300), from, redact.Text(given, 300))
}
