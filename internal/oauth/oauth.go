// Package oauth implements every OAuth 2.0 client flow sesame needs:
// discovery (RFC 9728, OIDC discovery, RFC 8414), dynamic client registration
// (RFC 7591), the device authorization grant (RFC 8628), the authorization
// code grant with PKCE and a loopback redirect (RFC 7636, RFC 8252), refresh,
// client credentials and revocation (RFC 7009).
//
// The grants (device, authorization code with PKCE, client credentials,
// refresh) are golang.org/x/oauth2's: Config.DeviceAuth and
// DeviceAccessToken, AuthCodeURL with S256ChallengeOption and Exchange with
// VerifierOption, clientcredentials.Config, Config.TokenSource. Each call
// carries the caller's *http.Client in its context (oauth2.HTTPClient), so
// proxy, CA, timeouts and the redacting debug trace apply. Hand-written is
// only what x/oauth2 lacks: discovery, registration and revocation, and the
// retry of transient failures while polling. Every failure becomes one typed
// error (httpx.NetworkError, httpx.ResponseError, OAuthError or a sentinel)
// whose text never contains a response body or a secret.
package oauth

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/sesame-cli/sesame/internal/redact"
)

// Metadata is an RFC 8414 / OpenID Connect discovery document.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint,omitempty"`
	RegistrationEndpoint              string   `json:"registration_endpoint,omitempty"`
	RevocationEndpoint                string   `json:"revocation_endpoint,omitempty"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint,omitempty"`
	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	GrantTypesSupported               []string `json:"grant_types_supported,omitempty"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported,omitempty"`
}

// Token is the result of a successful token request.
type Token struct {
	AccessToken  string
	RefreshToken string // "" when the response had none (non-rotating refresh: keep the old one)
	TokenType    string
	IDToken      string
	Expiry       time.Time // zero when the server gave no expires_in
	Scopes       []string  // from the response's "scope"; nil when absent or empty (keep the requested ones)
}

// Sentinel errors; callers map them with errors.Is.
var (
	// ErrInsecureURL: an http:// URL on a host that is not a loopback address.
	ErrInsecureURL = errors.New("https is required for non-loopback hosts")
	// ErrInvalidURL: not an absolute http(s) URL.
	ErrInvalidURL = errors.New("not an absolute http(s) URL")
	// ErrIssuerMismatch: the discovery document (or the iss callback parameter)
	// names another issuer than the one asked for.
	ErrIssuerMismatch = errors.New("issuer mismatch")
	// ErrStateMismatch: the web login callback carried a wrong state.
	ErrStateMismatch = errors.New("state mismatch in the login callback")
	// ErrNotSupported: the authorization server does not advertise the endpoint a flow needs.
	ErrNotSupported = errors.New("not supported by the authorization server")
	// ErrTimeout: the web login got no callback in time.
	ErrTimeout = errors.New("timed out waiting for the browser login")
	// ErrNoRefreshToken: Refresh was called without a refresh token.
	ErrNoRefreshToken = errors.New("no refresh token")
)

// OAuthError is an RFC 6749 §5.2 error response (or an error redirect of the
// authorization endpoint, or a local equivalent such as expired_token).
// Code and Description are sanitized: printable and bounded in length.
type OAuthError struct {
	Op          string
	Status      int
	Code        string
	Description string
}

func (e *OAuthError) Error() string {
	if e.Description == "" {
		return e.Op + ": " + e.Code
	}
	return e.Op + ": " + e.Code + ": " + e.Description
}

// maxDescription bounds OAuthError.Description (in runes).
const maxDescription = 200

// IsLoopbackHost reports whether host (a name or IP, brackets optional, no port)
// is "localhost" or a loopback address (127.0.0.0/8, ::1).
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return addr.Unmap().IsLoopback()
}

// maxHost bounds a URL's host (with its port), in runes.
const maxHost = 300

// CheckURL parses raw and requires an absolute http or https URL with a
// printable host; http only for loopback hosts (else ErrInsecureURL).
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	// The host is decoded (%XX): it must be printable, as messages show it.
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" || (u.Scheme != "https" && u.Scheme != "http") || !printable(u.Host, maxHost) {
		return nil, fmt.Errorf("%q: %w", redact.Text(withoutUserinfo(raw), maxHost), ErrInvalidURL)
	}
	if u.User != nil {
		// A password in a URL ends up in logs, histories and Referer
		// headers; a verification URL with one is a phishing trick.
		return nil, fmt.Errorf("%s: a URL with a user name or password: %w", DisplayURL(raw), ErrInvalidURL)
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("http://%s: %w", u.Host, ErrInsecureURL)
	}
	return u, nil
}

// DefaultScopes picks from a server's scopes_supported every "*.read" and
// "*:read" scope plus openid, email and offline_access when supported.
// The result is sorted and without duplicates; nil when nothing matches.
func DefaultScopes(supported []string) []string {
	var out []string
	for _, s := range supported {
		switch {
		case s == "openid", s == "email", s == "offline_access":
		case len(s) > len(".read") && (strings.HasSuffix(s, ".read") || strings.HasSuffix(s, ":read")):
		default:
			continue
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ParseScopes splits a user-given scope list on commas and white space:
// "a,b", "a b" and "a, b" all give [a b]. Duplicates are dropped (first wins);
// an empty list gives nil.
func ParseScopes(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// DisplayURL is raw fit for a message: no user name or password (masked),
// sanitized and bounded.
func DisplayURL(raw string) string {
	return redact.Text(withoutUserinfo(raw), maxHost)
}

// withoutUserinfo is raw without anything before an "@" in its authority,
// for error text (no password printed).
func withoutUserinfo(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		if at := strings.IndexByte(rest, '@'); at >= 0 && !strings.ContainsAny(rest[:at], "/?#") {
			return raw[:i+3] + "***@" + rest[at+1:]
		}
	}
	return raw
}
