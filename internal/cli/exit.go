package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sesame-cli/sesame/internal/apiclient"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/oauth"
	"github.com/sesame-cli/sesame/internal/redact"
)

// Exit codes: stable, documented in the README.
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2
	ExitNetwork     = 3
	ExitAuth        = 4
	ExitForbidden   = 5
	ExitInterrupted = 130
)

// usageError is bad usage or bad input.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// hinted attaches a hint to an error without changing how it maps.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }

func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hinted{err: err, hint: hint}
}

// restated replaces an error's message but keeps what it maps to.
type restated struct {
	msg string
	err error
}

func (r *restated) Error() string { return r.msg }
func (r *restated) Unwrap() error { return r.err }

// exitError is an error that has already been reported, with its code.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// exit prints err as one "<name>: ..." line and at most one "hint: ..."
// line, and returns its exit code. It is the only place errors become
// exit codes.
func (a *App) exit(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	code, hint := a.classify(err)
	var h *hinted
	if errors.As(err, &h) {
		hint = h.hint
	}
	// The one boundary: whatever server text an error carries, no
	// control or invisible character and no token of this run is printed.
	secrets := a.secrets()
	msg := redact.Text(err.Error(), 2000, secrets...)
	if code == ExitInterrupted {
		msg = "interrupted"
	}
	if hint != "" && strings.Contains(msg, oneLine(hint)) {
		hint = "" // the error line says it already
	}
	fmt.Fprintf(a.Stderr, "%s: %s\n", a.Name, msg)
	if hint != "" {
		fmt.Fprintf(a.Stderr, "hint: %s\n", redact.Text(hint, 2000, secrets...))
	}
	return code
}

func (a *App) classify(err error) (int, string) {
	var (
		usage    *usageError
		input    *credentials.InputError
		parse    *config.ParseError
		authErr  *apiclient.AuthError
		scopeErr *apiclient.ScopeError
		netErr   *httpx.NetworkError
		respErr  *httpx.ResponseError
		krErr    *credentials.KeyringError
		ended    *credentials.SessionEnded
		unsafe   *config.UnsafeError
		tooLarge *config.TooLargeError
		writeErr *credentials.WriteError
		startErr *execStartError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return ExitInterrupted, ""
	case errors.As(err, &usage):
		return ExitUsage, "run '" + a.Name + " --help' for usage"
	case errors.As(err, &input):
		if _, hint, ok := a.classifyOAuth(err); ok && (errors.Is(err, oauth.ErrInvalidURL) || errors.Is(err, oauth.ErrInsecureURL)) {
			return ExitUsage, hint
		}
		return ExitUsage, ""
	case errors.Is(err, credentials.ErrNoAPIURL):
		return ExitUsage, "pass --api-url or set " + a.envName("API_URL")
	case errors.As(err, &unsafe):
		return ExitError, unsafe.Fix
	case errors.As(err, &tooLarge):
		return ExitError, "nothing was changed; the login that did not fit was not saved"
	case errors.As(err, &parse):
		return ExitError, "fix or remove " + parse.Path
	case errors.Is(err, credentials.ErrNoAccount):
		return ExitUsage, "see the stored accounts with '" + a.Name + " auth list'"
	case errors.Is(err, credentials.ErrNoCredential), errors.Is(err, credentials.ErrNotLoggedIn):
		return ExitAuth, "run '" + a.Name + " login', or set " + a.envName("TOKEN")
	case errors.As(err, &ended):
		return ExitAuth, a.loginAgainHint(ended.Login.Method)
	case errors.Is(err, credentials.ErrSessionEnded):
		return ExitAuth, "run '" + a.Name + " login' again"
	case errors.As(err, &writeErr):
		return ExitError, "check that " + a.Name + "'s config dir is writable, then run '" + a.Name + " login' again"
	case errors.As(err, &authErr):
		return ExitAuth, a.authHint(a.active)
	case errors.As(err, &scopeErr):
		if scopeErr.Scope != "" {
			return ExitForbidden, a.scopeHint(a.active, scopeErr.Scope)
		}
		return ExitForbidden, ""
	case errors.Is(err, errNoPending):
		return ExitAuth, "start one with '" + a.Name + " login --no-wait'"
	case errors.As(err, &startErr):
		return startErr.code, startErr.hint
	case errors.As(err, &netErr) && netErr.Server == httpx.API:
		return ExitNetwork, "check the API URL and your network connection"
	case errors.As(err, &respErr) && respErr.Server == httpx.API:
		return ExitNetwork, "check that the API URL points at the API"
	case errors.Is(err, apiclient.ErrOtherHost):
		return ExitUsage, "pass a path relative to the API URL"
	case errors.As(err, &krErr):
		return ExitError, "use --storage file (or " + a.envName("STORAGE") + "=file) to store tokens in the config file"
	case errors.Is(err, config.ErrRelativeConfigDir):
		return ExitUsage, "set " + a.envName("CONFIG_DIR") + " to an absolute path"
	case errors.Is(err, config.ErrNoConfigDir):
		return ExitError, "set " + a.envName("CONFIG_DIR")
	case errors.Is(err, config.ErrLockTimeout):
		return ExitError, "another " + a.Name + " process is busy; try again"
	}
	if code, hint, ok := a.classifyOAuth(err); ok {
		return code, hint
	}
	return ExitError, ""
}

// oneLine keeps an error to one line.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", " ")
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.TrimSpace(s)
}

func (a *App) classifyOAuth(err error) (int, string, bool) {
	var (
		netErr  *httpx.NetworkError
		respErr *httpx.ResponseError
		oe      *oauth.OAuthError
	)
	login := "run '" + a.Name + " login' again"
	switch {
	case errors.Is(err, oauth.ErrInsecureURL):
		return ExitNetwork, "use https (plain http is allowed only for loopback addresses)", true
	case errors.Is(err, oauth.ErrInvalidURL):
		return ExitUsage, "give an absolute URL such as https://api.example.com", true
	case errors.Is(err, oauth.ErrResourceMismatch):
		return ExitNetwork, "use the API URL exactly as the API's metadata names it (RFC 9728)", true
	case errors.Is(err, oauth.ErrIssuerMismatch):
		return ExitNetwork, "the server's discovery document names another issuer; check --issuer", true
	case errors.Is(err, oauth.ErrStateMismatch):
		return ExitAuth, login, true
	case errors.Is(err, oauth.ErrTimeout):
		return ExitAuth, login + " (use --timeout to wait longer)", true
	case errors.Is(err, oauth.ErrNotSupported):
		return ExitError, "", true
	case errors.As(err, &netErr):
		return ExitNetwork, "check your network connection and the issuer URL", true
	case errors.As(err, &respErr):
		return ExitNetwork, "the authorization server answered something unexpected; try again or check --issuer", true
	case errors.As(err, &oe):
		switch oe.Code {
		case "access_denied":
			return ExitAuth, "the request was denied in the browser; " + login + " to retry", true
		case "expired_token":
			return ExitAuth, "the code expired before it was approved; " + login, true
		case "invalid_grant", "invalid_token":
			return ExitAuth, login, true
		case "invalid_scope":
			return ExitUsage, "choose other scopes with --scopes", true
		case "invalid_client", "unauthorized_client":
			return ExitAuth, "check the client id and secret", true
		}
		return ExitError, "", true
	}
	return 0, "", false
}
