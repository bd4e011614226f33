package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/redact"
)

// App is one OAuth client at one issuer.
type App struct {
	Metadata     *Metadata
	ClientID     string
	ClientSecret string // "" = public client: client_id in the form body, no Authorization header
	Scopes       []string
	// Resource is the RFC 8707 resource indicator sent with every grant
	// request ("" = none).
	Resource string
}

// AuthStyle is how the app authenticates at the token, device authorization
// and revocation endpoints: public clients and servers that list only
// client_secret_post get oauth2.AuthStyleInParams, other confidential
// clients oauth2.AuthStyleInHeader (client_secret_basic). Never AutoDetect.
func (a App) AuthStyle() oauth2.AuthStyle {
	if a.ClientSecret == "" {
		return oauth2.AuthStyleInParams
	}
	if a.Metadata != nil {
		m := a.Metadata.TokenEndpointAuthMethodsSupported
		if slices.Contains(m, "client_secret_post") && !slices.Contains(m, "client_secret_basic") {
			return oauth2.AuthStyleInParams
		}
	}
	return oauth2.AuthStyleInHeader
}

// Config is the x/oauth2 configuration of the app (explicit AuthStyle).
func (a App) Config(redirectURL string) *oauth2.Config {
	cfg := &oauth2.Config{
		ClientID:     a.ClientID,
		ClientSecret: a.ClientSecret,
		RedirectURL:  redirectURL,
		Scopes:       a.Scopes,
	}
	if a.Metadata != nil {
		cfg.Endpoint = oauth2.Endpoint{
			AuthURL:       a.Metadata.AuthorizationEndpoint,
			DeviceAuthURL: a.Metadata.DeviceAuthorizationEndpoint,
			TokenURL:      a.Metadata.TokenEndpoint,
			AuthStyle:     a.AuthStyle(),
		}
	}
	return cfg
}

// authenticate adds client authentication to a form (and returns the header
// to send) for the hand-written requests (revocation): client_secret_basic
// per RFC 6749 §2.3.1, or client_id (and client_secret) in the body.
func (a App) authenticate(form url.Values) http.Header {
	if a.AuthStyle() == oauth2.AuthStyleInHeader {
		req := http.Request{Header: http.Header{}}
		req.SetBasicAuth(url.QueryEscape(a.ClientID), url.QueryEscape(a.ClientSecret))
		return req.Header
	}
	form.Set("client_id", a.ClientID)
	if a.ClientSecret != "" {
		form.Set("client_secret", a.ClientSecret)
	}
	return nil
}

func (a App) check(op string, endpoint, name string) error {
	if a.Metadata == nil {
		return fmt.Errorf("%s: no authorization server metadata", op)
	}
	if a.ClientID == "" {
		return fmt.Errorf("%s: no client id", op)
	}
	if endpoint == "" {
		return fmt.Errorf("%s: no %s: %w", op, name, ErrNotSupported)
	}
	if _, err := CheckURL(endpoint); err != nil {
		return fmt.Errorf("%s: %s: %w", op, name, err)
	}
	return nil
}

// IDToken returns the OpenID Connect ID token a token response carried, "" when none.
func IDToken(t *oauth2.Token) string {
	s, _ := t.Extra("id_token").(string)
	return s
}

// GrantedScopes returns the scopes of a token response's "scope" (comma or
// space separated), nil when absent or empty (the requested ones apply).
// A scope that is not an RFC 6749 scope-token (printable ASCII but space,
// '"' and '\\'), or longer than 200 bytes, is dropped: it would be stored
// and printed.
func GrantedScopes(t *oauth2.Token) []string {
	s, _ := t.Extra("scope").(string)
	return slices.DeleteFunc(ParseScopes(s), func(sc string) bool { return !scopeToken(sc) })
}

// scopeToken reports whether s is an RFC 6749 §3.3 scope-token of at most
// 200 bytes.
func scopeToken(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// ClientCredentials runs the client credentials grant
// (clientcredentials.Config); scope is sent only when app.Scopes is not empty.
func (c *Client) ClientCredentials(ctx context.Context, app App) (*oauth2.Token, error) {
	const op = "client credentials"
	if err := app.check(op, app.Metadata.TokenEndpoint, "token endpoint"); err != nil {
		return nil, err
	}
	cc := &clientcredentials.Config{
		ClientID:     app.ClientID,
		ClientSecret: app.ClientSecret,
		TokenURL:     app.Metadata.TokenEndpoint,
		Scopes:       app.Scopes,
		AuthStyle:    app.AuthStyle(),
	}
	if app.Resource != "" {
		cc.EndpointParams = url.Values{"resource": {app.Resource}}
	}
	g := c.grant(app, nil)
	tok, err := cc.Token(g.context(ctx))
	return g.result(ctx, op, tok, err, app.ClientSecret)
}

// Refresh redeems a refresh token (oauth2.Config.TokenSource). A rejected
// one is an OAuthError with Code "invalid_grant". When the server did not
// rotate it, the returned token carries the old refresh token.
func (c *Client) Refresh(ctx context.Context, app App, refreshToken string) (*oauth2.Token, error) {
	const op = "refresh"
	if refreshToken == "" {
		return nil, fmt.Errorf("%s: %w", op, ErrNoRefreshToken)
	}
	if err := app.check(op, app.Metadata.TokenEndpoint, "token endpoint"); err != nil {
		return nil, err
	}
	g := c.grant(app, nil)
	cfg := app.Config("")
	cfg.Scopes = nil
	tok, err := cfg.TokenSource(g.context(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	return g.result(ctx, op, tok, err, refreshToken, app.ClientSecret)
}

// maxExpiresIn bounds expires_in (x/oauth2 clamps larger values to it).
const maxExpiresIn = math.MaxInt32

// result turns what a grant returned into a checked token or one typed error.
func (g *grant) result(ctx context.Context, op string, tok *oauth2.Token, err error, secrets ...string) (*oauth2.Token, error) {
	if err != nil {
		return nil, g.failure(ctx, op, err, secrets...)
	}
	bad := func(problem string) error {
		return &httpx.ResponseError{Server: httpx.Issuer, Op: op, Status: g.last.status, Problem: problem}
	}
	switch {
	case tok == nil || tok.AccessToken == "":
		return nil, bad("response has no access_token")
	case tok.ExpiresIn < 0 || tok.ExpiresIn >= maxExpiresIn:
		return nil, bad("response has an invalid expires_in")
	}
	if tok.TokenType == "" {
		tok.TokenType = "Bearer"
	}
	return tok, nil
}

// failure is the one translation of what x/oauth2 (or a hand-written
// request) returned into sesame's typed errors: ctx.Err() (wrapped) when
// the context ended, an OAuthError for an RFC 6749 error answer, a
// httpx.ResponseError for any other answer, a httpx.NetworkError for a
// transport failure. No response body reaches the text; server text goes
// through the sanitizer with the request's secrets masked.
func (g *grant) failure(ctx context.Context, op string, err error, secrets ...string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	last := g.last
	last.mediaType = redact.Text(last.mediaType, 60, secrets...)
	if ba, ok := errors.AsType[*badAnswer](err); ok {
		return &httpx.ResponseError{Server: httpx.Issuer, Op: op, Status: ba.status, Problem: redact.Text(ba.problem, 200, secrets...)}
	}
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if re.ErrorCode != "" {
			return &OAuthError{Op: op, Status: status, Code: redact.Code(re.ErrorCode, secrets...), Description: redact.Text(re.ErrorDescription, maxDescription, secrets...)}
		}
		return unexpectedStatus(op, status, last.mediaType)
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return httpx.Failed(ctx, httpx.Issuer, op, ue.URL, err)
	}
	// x/oauth2 could not use a 2xx answer: it did not parse, or it had no
	// access_token.
	if code, desc := errorIn(last.body, last.mediaType); code != "" {
		return &OAuthError{Op: op, Status: last.status, Code: redact.Code(code, secrets...), Description: redact.Text(desc, maxDescription, secrets...)}
	}
	if parsesAsAnswer(last.body, last.mediaType) {
		return &httpx.ResponseError{Server: httpx.Issuer, Op: op, Status: last.status, Problem: "response has no access_token"}
	}
	return &httpx.ResponseError{Server: httpx.Issuer, Op: op, Status: last.status, Problem: fmt.Sprintf("response is not valid JSON (%s)", last.mediaType)}
}

func unexpectedStatus(op string, status int, mediaType string) *httpx.ResponseError {
	text := http.StatusText(status)
	if text != "" {
		text = " " + text
	}
	return &httpx.ResponseError{Server: httpx.Issuer, Op: op, Status: status, Problem: fmt.Sprintf("unexpected HTTP status %d%s (%s)", status, text, mediaType)}
}

// expiredCode is the local equivalent of the server's expired_token.
func expiredCode(op string) error {
	return &OAuthError{Op: op, Code: "expired_token", Description: "the device code expired before the login was approved"}
}

// parsesAsAnswer reports whether body is a JSON object (or a form, for a
// form media type).
func parsesAsAnswer(body []byte, mediaType string) bool {
	if mediaType == "application/x-www-form-urlencoded" {
		_, err := url.ParseQuery(string(body))
		return err == nil
	}
	var obj map[string]json.RawMessage
	return json.Unmarshal(body, &obj) == nil && obj != nil
}
