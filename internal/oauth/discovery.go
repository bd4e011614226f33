package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/redact"
)

// Values of FindIssuer's via.
const (
	ViaProtectedResource = "protected-resource"
	ViaAPIHost           = "api-host"
)

// ErrResourceMismatch: the API's RFC 9728 metadata names another resource
// than the URL asked about (RFC 9728 §3.3: it must not be used).
var ErrResourceMismatch = errors.New("the protected resource metadata is for another resource")

// FindIssuer finds the authorization server for an API:
// RFC 9728 GET {api}/.well-known/oauth-protected-resource (and, for an API URL
// with a path, the RFC 9728 path-insertion form) → authorization_servers[0];
// when that is absent or unusable, the API host without a leading "api."
// (https://api.example.com/v2 → https://example.com); else the API's
// scheme://host. via is ViaProtectedResource or ViaAPIHost. resource is
// the RFC 9728 metadata's resource (the RFC 8707 resource indicator to send),
// "" without metadata; metadata whose resource is not the URL asked about
// is refused (ErrResourceMismatch).
// A network error while asking the API is a NetworkError.
func (c *Client) FindIssuer(ctx context.Context, apiURL string) (issuer, via, resource string, err error) {
	const op = "find issuer"
	u, err := CheckURL(apiURL)
	if err != nil {
		return "", "", "", fmt.Errorf("%s: %w", op, err)
	}
	base := u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	candidates := []string{base + path + "/.well-known/oauth-protected-resource"}
	if path != "" {
		candidates = append(candidates, base+"/.well-known/oauth-protected-resource"+path)
	}
	for _, cand := range candidates {
		r, err := c.get(ctx, op, cand)
		if err != nil {
			var re *httpx.ResponseError
			if errors.As(err, &re) { // e.g. an oversized body: not usable, try the next step
				continue
			}
			return "", "", "", err
		}
		if !r.ok() {
			continue
		}
		var doc struct {
			Resource             string   `json:"resource"`
			AuthorizationServers []string `json:"authorization_servers"`
		}
		if decodeJSON(op, r, &doc) != nil || len(doc.AuthorizationServers) == 0 || doc.AuthorizationServers[0] == "" {
			continue
		}
		if doc.Resource != "" && !sameResource(doc.Resource, apiURL) {
			return "", "", "", fmt.Errorf("%s: %s names %s, not %s: %w", op, redact.URL(&url.URL{Scheme: u.Scheme, Host: u.Host, Path: cand[len(base):]}),
				redact.Text(doc.Resource, 200), redact.Text(apiURL, 200), ErrResourceMismatch)
		}
		as := doc.AuthorizationServers[0]
		if _, err := CheckURL(as); err != nil {
			if errors.Is(err, ErrInsecureURL) {
				return "", "", "", fmt.Errorf("%s: authorization server named by the API: %w", op, err)
			}
			continue
		}
		return as, ViaProtectedResource, doc.Resource, nil
	}
	host := u.Host
	if rest, ok := strings.CutPrefix(strings.ToLower(host), "api."); ok && (strings.Contains(rest, ".") || strings.HasPrefix(rest, "localhost")) {
		host = host[len("api."):]
	}
	return u.Scheme + "://" + host, ViaAPIHost, "", nil
}

// sameResource compares resource identifiers as RFC 9728 §3.3 asks
// (identical), forgiving only a trailing slash and the case of the scheme
// and host.
func sameResource(a, b string) bool {
	ua, err1 := url.Parse(strings.TrimSuffix(a, "/"))
	ub, err2 := url.Parse(strings.TrimSuffix(b, "/"))
	if err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) && ua.EscapedPath() == ub.EscapedPath() && ua.RawQuery == ub.RawQuery
}

// Discover fetches the issuer's metadata: {issuer}/.well-known/openid-configuration,
// then RFC 8414 {issuer}/.well-known/oauth-authorization-server (for an issuer
// with a path, the RFC 8414 path-insertion form first). The document's issuer
// must equal issuer (one trailing slash ignored on both) else ErrIssuerMismatch;
// every endpoint must pass CheckURL; token_endpoint is required.
func (c *Client) Discover(ctx context.Context, issuer string) (*Metadata, error) {
	const op = "discovery"
	u, err := CheckURL(issuer)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s: issuer %q has a query or fragment: %w", op, issuer, ErrInvalidURL)
	}
	want := strings.TrimSuffix(issuer, "/")
	base := u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	candidates := []string{want + "/.well-known/openid-configuration"}
	if path != "" {
		candidates = append(candidates, base+"/.well-known/oauth-authorization-server"+path)
	}
	candidates = append(candidates, want+"/.well-known/oauth-authorization-server")

	var firstErr error // the most telling failure: the first one that is not a 404
	for _, cand := range candidates {
		r, err := c.get(ctx, op, cand)
		if err != nil {
			var re *httpx.ResponseError
			if !errors.As(err, &re) {
				return nil, err // network, context, insecure redirect
			}
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if !r.ok() {
			if firstErr == nil && r.status != http.StatusNotFound {
				firstErr = failure(op, r)
			}
			continue
		}
		var md Metadata
		if err := decodeJSON(op, r, &md); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if err := checkMetadata(op, &md, want); err != nil {
			return nil, err
		}
		return &md, nil
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, &httpx.ResponseError{Server: httpx.Issuer, Op: op, Status: http.StatusNotFound, Problem: fmt.Sprintf("no OpenID or OAuth metadata found for issuer %s", want)}
}

func checkMetadata(op string, md *Metadata, want string) error {
	if md.Issuer == "" {
		return &httpx.ResponseError{Server: httpx.Issuer, Op: op, Status: http.StatusOK, Problem: "metadata has no issuer"}
	}
	if got := strings.TrimSuffix(md.Issuer, "/"); got != want {
		return fmt.Errorf("%s: metadata names issuer %q, expected %q: %w", op, redact.Text(md.Issuer, 200), want, ErrIssuerMismatch)
	}
	if md.TokenEndpoint == "" {
		return &httpx.ResponseError{Server: httpx.Issuer, Op: op, Status: http.StatusOK, Problem: "metadata has no token_endpoint"}
	}
	for _, ep := range []struct{ name, url string }{
		{"authorization_endpoint", md.AuthorizationEndpoint},
		{"token_endpoint", md.TokenEndpoint},
		{"device_authorization_endpoint", md.DeviceAuthorizationEndpoint},
		{"registration_endpoint", md.RegistrationEndpoint},
		{"revocation_endpoint", md.RevocationEndpoint},
		{"userinfo_endpoint", md.UserinfoEndpoint},
	} {
		if ep.url == "" {
			continue
		}
		if _, err := CheckURL(ep.url); err != nil {
			if errors.Is(err, ErrInsecureURL) {
				return fmt.Errorf("%s: %s: %w", op, ep.name, err)
			}
			return &httpx.ResponseError{Server: httpx.Issuer, Op: op, Status: http.StatusOK, Problem: fmt.Sprintf("%s is not an absolute http(s) URL", ep.name)}
		}
	}
	return nil
}
