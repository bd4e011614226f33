package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-cli/sesame/internal/apiclient"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/oauth"
)

// TestExit is the error → exit code, error line and hint mapping of
// App.exit: one row per branch of classify and classifyOAuth.
func TestExit(t *testing.T) {
	login := "hint: run 'sesame login' again\n"
	netAPI := &httpx.NetworkError{Server: httpx.API, URL: "https://api.example.com", Err: errors.New("connection refused")}
	respAPI := &httpx.ResponseError{Server: httpx.API, Status: 502, Problem: "not JSON"}
	netIssuer := &httpx.NetworkError{Server: httpx.Issuer, Op: "discover issuer", Err: errors.New("no such host")}
	respIssuer := &httpx.ResponseError{Server: httpx.Issuer, Op: "device authorization", Problem: "not JSON"}
	oauthErr := func(code string) error {
		return &oauth.OAuthError{Op: "device login", Status: 400, Code: code}
	}
	tests := []struct {
		name     string
		err      error
		wantCode int
		want     string // stderr
	}{
		{"nil", nil, ExitOK, ""},
		{"usage error", usageErrorf("unknown flag --x"), ExitUsage,
			"sesame: unknown flag --x\nhint: run 'sesame --help' for usage\n"},
		{"input error", &credentials.InputError{What: "stdin", Problem: "empty"}, ExitUsage,
			"sesame: stdin: empty\n"},
		{"input error: insecure URL", &credentials.InputError{What: "SESAME_API_URL", Problem: "not https", Err: oauth.ErrInsecureURL}, ExitUsage,
			"sesame: SESAME_API_URL: not https\nhint: use https (plain http is allowed only for loopback addresses)\n"},
		{"input error: invalid URL", &credentials.InputError{What: "--api-url", Problem: "not a URL", Err: oauth.ErrInvalidURL}, ExitUsage,
			"sesame: --api-url: not a URL\nhint: give an absolute URL such as https://api.example.com\n"},
		{"input error: other cause has no hint", &credentials.InputError{What: "stdin", Problem: "bad", Err: oauth.ErrIssuerMismatch}, ExitUsage,
			"sesame: stdin: bad\n"},
		{"no API URL", credentials.ErrNoAPIURL, ExitUsage,
			"sesame: no API URL\nhint: pass --api-url or set SESAME_API_URL\n"},
		{"config parse error", &config.ParseError{Path: "/c/config.json", Err: errors.New("bad JSON")}, ExitError,
			"sesame: config file /c/config.json: bad JSON\nhint: fix or remove /c/config.json\n"},
		{"no credential", credentials.ErrNoCredential, ExitAuth,
			"sesame: not logged in\nhint: run 'sesame login', or set SESAME_TOKEN\n"},
		{"not logged in", credentials.ErrNotLoggedIn, ExitAuth,
			"sesame: not logged in\nhint: run 'sesame login', or set SESAME_TOKEN\n"},
		{"session ended: device login", &credentials.SessionEnded{Login: &config.Login{Method: "device"}}, ExitAuth,
			"sesame: the stored login has expired\n" + login},
		{"session ended: revoked", &credentials.SessionEnded{Login: &config.Login{}, Err: oauthErr("invalid_grant")}, ExitAuth,
			"sesame: the stored login has expired or was revoked\n" + login},
		{"session ended: client credentials", &credentials.SessionEnded{Login: &config.Login{Method: credentials.MethodClientCredentials}}, ExitAuth,
			"sesame: the stored login has expired\nhint: set SESAME_CLIENT_SECRET to renew it, or run 'sesame login --client-credentials' again\n"},
		{"session ended sentinel", credentials.ErrSessionEnded, ExitAuth,
			"sesame: the stored login has expired\n" + login},
		{"write error", &credentials.WriteError{Err: errors.New("read-only file system")}, ExitError,
			"sesame: the renewed login could not be saved: read-only file system\nhint: check that sesame's config dir is writable, then run 'sesame login' again\n"},
		{"API 401", &apiclient.AuthError{Code: "invalid_token"}, ExitAuth,
			"sesame: the API rejected the token (401): invalid_token\nhint: run 'sesame login' to get a new token\n"},
		{"API 403 naming a scope", &apiclient.ScopeError{Scope: "docs.write"}, ExitForbidden,
			"sesame: the token lacks the scope docs.write (403)\nhint: use a token that has it\n"},
		{"API 403 without a scope", &apiclient.ScopeError{}, ExitForbidden,
			"sesame: forbidden (403)\n"},
		{"API network error", netAPI, ExitNetwork,
			"sesame: cannot reach https://api.example.com: connection refused\nhint: check the API URL and your network connection\n"},
		{"API response error", respAPI, ExitNetwork,
			"sesame: unexpected API response (HTTP 502): not JSON\nhint: check that the API URL points at the API\n"},
		{"issuer network error", netIssuer, ExitNetwork,
			"sesame: discover issuer: no such host\nhint: check your network connection and the issuer URL\n"},
		{"issuer response error", respIssuer, ExitNetwork,
			"sesame: device authorization: not JSON\nhint: the authorization server answered something unexpected; try again or check --issuer\n"},
		{"other host", fmt.Errorf("%w: evil.example is not api.example.com", httpx.ErrOtherHost), ExitUsage,
			"sesame: refusing to send the token to another host: evil.example is not api.example.com\nhint: pass a path relative to the API URL\n"},
		{"keyring error", &credentials.KeyringError{Op: "get", Err: errors.New("locked")}, ExitError,
			"sesame: keyring get: locked\nhint: use --storage file (or SESAME_STORAGE=file) to store tokens in the config file\n"},
		{"no config dir", config.ErrNoConfigDir, ExitError,
			"sesame: cannot determine the config directory\nhint: set SESAME_CONFIG_DIR\n"},
		{"lock timeout", config.ErrLockTimeout, ExitError,
			"sesame: timed out waiting for the config lock (another process is holding it)\nhint: another sesame process is busy; try again\n"},
		{"insecure URL", fmt.Errorf("issuer: %w", oauth.ErrInsecureURL), ExitNetwork,
			"sesame: issuer: " + oauth.ErrInsecureURL.Error() + "\nhint: use https (plain http is allowed only for loopback addresses)\n"},
		{"invalid URL", fmt.Errorf("issuer: %w", oauth.ErrInvalidURL), ExitUsage,
			"sesame: issuer: not an absolute http(s) URL\nhint: give an absolute URL such as https://api.example.com\n"},
		{"issuer mismatch", oauth.ErrIssuerMismatch, ExitNetwork,
			"sesame: issuer mismatch\nhint: the server's discovery document names another issuer; check --issuer\n"},
		{"state mismatch", oauth.ErrStateMismatch, ExitAuth,
			"sesame: state mismatch in the login callback\n" + login},
		{"web login timeout", oauth.ErrTimeout, ExitAuth,
			"sesame: timed out waiting for the browser login\nhint: run 'sesame login' again (use --timeout to wait longer)\n"},
		{"not supported", oauth.ErrNotSupported, ExitError,
			"sesame: not supported by the authorization server\n"},
		{"access_denied", oauthErr("access_denied"), ExitAuth,
			"sesame: device login: access_denied\nhint: the request was denied in the browser; run 'sesame login' again to retry\n"},
		{"expired_token", oauthErr("expired_token"), ExitAuth,
			"sesame: device login: expired_token\nhint: the code expired before it was approved; run 'sesame login' again\n"},
		{"invalid_grant", oauthErr("invalid_grant"), ExitAuth,
			"sesame: device login: invalid_grant\n" + login},
		{"invalid_token", oauthErr("invalid_token"), ExitAuth,
			"sesame: device login: invalid_token\n" + login},
		{"invalid_scope", oauthErr("invalid_scope"), ExitUsage,
			"sesame: device login: invalid_scope\nhint: choose other scopes with --scopes\n"},
		{"invalid_client", oauthErr("invalid_client"), ExitAuth,
			"sesame: device login: invalid_client\nhint: check the client id and secret\n"},
		{"unauthorized_client", oauthErr("unauthorized_client"), ExitAuth,
			"sesame: device login: unauthorized_client\nhint: check the client id and secret\n"},
		{"other OAuth error", &oauth.OAuthError{Op: "token", Code: "server_error", Description: "try later"}, ExitError,
			"sesame: token: server_error: try later\n"},
		{"canceled", context.Canceled, ExitInterrupted, "sesame: interrupted\n"},
		{"canceled inside a network error", fmt.Errorf("refresh: %w", context.Canceled), ExitInterrupted, "sesame: interrupted\n"},
		{"already reported", &exitError{code: ExitForbidden}, ExitForbidden, ""},
		{"already reported, wrapped", fmt.Errorf("run: %w", &exitError{code: ExitNetwork}), ExitNetwork, ""},
		{"unknown error", errors.New("boom"), ExitError, "sesame: boom\n"},
		{"wrapped keeps its mapping", fmt.Errorf("whoami: %w", &apiclient.AuthError{}), ExitAuth,
			"sesame: whoami: the API rejected the token (401)\nhint: run 'sesame login' to get a new token\n"},
		{"hint wins", withHint(credentials.ErrNoCredential, "set SESAME_TOKEN in CI"), ExitAuth,
			"sesame: not logged in\nhint: set SESAME_TOKEN in CI\n"},
		{"hint on an unmapped error", withHint(errors.New("boom"), "try again"), ExitError,
			"sesame: boom\nhint: try again\n"},
		{"restated keeps its mapping", &restated{msg: "cannot log in", err: netAPI}, ExitNetwork,
			"sesame: cannot log in\nhint: check the API URL and your network connection\n"},
		{"multi-line error and hint become one line each", withHint(errors.New("line one\r\nline two\n"), "a\nb"), ExitError,
			"sesame: line one line two\nhint: a b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ta := NewTestApp(t)
			code, stderr := ta.exit(tt.err), ta.Stderr
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d", code, tt.wantCode)
			}
			if diff := cmp.Diff(tt.want, stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExitName: the program's name (a white-label build) names the error
// line, the commands and the variables of the hints.
func TestExitName(t *testing.T) {
	ta := NewTestApp(t)
	ta.Name = "papermark"
	a, stderr := ta.App, ta.Stderr
	if code := a.exit(credentials.ErrNoCredential); code != ExitAuth {
		t.Errorf("exit code = %d, want %d", code, ExitAuth)
	}
	want := "papermark: not logged in\nhint: run 'papermark login', or set PAPERMARK_TOKEN\n"
	if diff := cmp.Diff(want, stderr.String()); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
}
