// Package oauth implements every OAuth 2.0 client flow sesame needs:
// discovery (RFC 9728, OIDC discovery, RFC 8414), dynamic client registration
// (RFC 7591), the device authorization grant (RFC 8628), the authorization
// code grant with PKCE and a loopback redirect (RFC 7636, RFC 8252), refresh,
// client credentials and revocation (RFC 7009).
//
// It is a leaf package over golang.org/x/oauth2 (configuration, authorization
// URLs, PKCE). Token-endpoint requests are sent and parsed here so that every
// failure becomes a typed error (NetworkError, ResponseError, OAuthError or a
// sentinel) whose text never contains a response body or a secret.
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
	"unicode/utf8"
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

// NetworkError is a transport failure: DNS, connect, TLS, timeout, reset.
type NetworkError struct {
	Op  string
	Err error
}

func (e *NetworkError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *NetworkError) Unwrap() error { return e.Err }

// ResponseError is a server answer that makes no sense: HTML instead of JSON,
// an unexpected status, missing required fields, absurd values, an oversized
// body. Problem never contains the response body.
type ResponseError struct {
	Op      string
	Status  int // HTTP status, 0 when not applicable
	Problem string
}

func (e *ResponseError) Error() string { return e.Op + ": " + e.Problem }

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

// sanitize keeps printable runes (other whitespace becomes a space), collapses
// runs of spaces, trims, bounds the length to max runes, and replaces every
// occurrence of a secret by "***".
func sanitize(s string, max int, secrets ...string) string {
	s = scrub(s, secrets)
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			if !unicode.IsSpace(r) {
				continue
			}
			r = ' '
		}
		if r == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		if n == max {
			break
		}
		b.WriteRune(r)
		n++
	}
	// Dropping characters may have joined the pieces of a secret.
	return scrub(strings.TrimSpace(b.String()), secrets)
}

// scrub replaces every secret, and its ASCII lowercase form (media types
// are folded to lowercase), by "***".
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		s = strings.ReplaceAll(s, sec, "***")
		if lower := asciiLower(sec); lower != sec {
			s = strings.ReplaceAll(s, lower, "***")
		}
	}
	return s
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// sanitizeCode keeps an error code to the RFC 6749 character set and 64
// characters, with every secret replaced by "***".
func sanitizeCode(s string, secrets ...string) string {
	s = scrub(s, secrets)
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 64; i++ {
		if c := s[i]; c >= 0x21 && c <= 0x7e && c != '"' && c != '\\' {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return "unknown_error"
	}
	return scrub(b.String(), secrets)
}

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
		return nil, fmt.Errorf("%q: %w", raw, ErrInvalidURL)
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
