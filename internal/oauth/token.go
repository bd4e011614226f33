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
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// App is one OAuth client at one issuer.
type App struct {
	Metadata     *Metadata
	ClientID     string
	ClientSecret string // "" = public client: client_id in the form body, no Authorization header
	Scopes       []string
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
// to send): client_secret_basic per RFC 6749 §2.3.1, or client_id (and
// client_secret) in the body.
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

func (a App) check(op string) error {
	if a.Metadata == nil {
		return fmt.Errorf("%s: no authorization server metadata", op)
	}
	if a.ClientID == "" {
		return fmt.Errorf("%s: no client id", op)
	}
	return nil
}

// maxSeconds bounds expires_in/interval values to keep durations sane.
const maxSeconds = math.MaxInt32

// seconds reads an optional JSON number of seconds (numbers and numeric
// strings accepted). present is false for an absent or null value.
func seconds(raw json.RawMessage) (n int64, present bool, err error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return 0, false, nil
	}
	s = strings.Trim(s, `"`)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f > maxSeconds || f < -maxSeconds {
		return 0, true, errors.New("not a number of seconds")
	}
	return int64(f), true, nil
}

// tokenJSON is a token endpoint response (RFC 6749 §5.1 / §5.2).
type tokenJSON struct {
	AccessToken      string          `json:"access_token"`
	TokenType        string          `json:"token_type"`
	RefreshToken     string          `json:"refresh_token"`
	IDToken          string          `json:"id_token"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	Scope            string          `json:"scope"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

// tokenRequest POSTs a grant to the token endpoint with client authentication
// and parses the answer. secrets (codes, verifiers, refresh tokens) are
// scrubbed from any server text that ends up in an error.
func (c *Client) tokenRequest(ctx context.Context, op string, app App, form url.Values, secrets ...string) (*Token, error) {
	if err := app.check(op); err != nil {
		return nil, err
	}
	if app.Metadata.TokenEndpoint == "" {
		return nil, fmt.Errorf("%s: no token endpoint: %w", op, ErrNotSupported)
	}
	secrets = append(secrets, app.ClientSecret)
	header := app.authenticate(form)
	start := time.Now()
	r, err := c.postForm(ctx, op, app.Metadata.TokenEndpoint, form, header)
	if err != nil {
		return nil, err
	}
	r.secrets = secrets
	if !r.ok() {
		return nil, failure(op, r)
	}
	var tj tokenJSON
	if r.mediaType() == "application/x-www-form-urlencoded" {
		vals, err := url.ParseQuery(string(r.body))
		if err != nil {
			return nil, &ResponseError{Op: op, Status: r.status, Problem: "response is not a valid form"}
		}
		tj = tokenJSON{
			AccessToken: vals.Get("access_token"), TokenType: vals.Get("token_type"),
			RefreshToken: vals.Get("refresh_token"), IDToken: vals.Get("id_token"),
			Scope: vals.Get("scope"), Error: vals.Get("error"), ErrorDescription: vals.Get("error_description"),
		}
		if e := vals.Get("expires_in"); e != "" {
			tj.ExpiresIn = json.RawMessage(e)
		}
	} else if err := decodeJSON(op, r, &tj); err != nil {
		return nil, err
	}
	if tj.Error != "" { // some servers answer errors with 200
		return nil, &OAuthError{Op: op, Status: r.status, Code: sanitizeCode(tj.Error, secrets...), Description: sanitize(tj.ErrorDescription, maxDescription, secrets...)}
	}
	if tj.AccessToken == "" {
		return nil, &ResponseError{Op: op, Status: r.status, Problem: "response has no access_token"}
	}
	exp, present, err := seconds(tj.ExpiresIn)
	if err != nil || (present && exp < 0) {
		return nil, &ResponseError{Op: op, Status: r.status, Problem: "response has an invalid expires_in"}
	}
	tok := &Token{
		AccessToken:  tj.AccessToken,
		RefreshToken: tj.RefreshToken,
		TokenType:    tj.TokenType,
		IDToken:      tj.IDToken,
		Scopes:       ParseScopes(tj.Scope),
	}
	if tok.TokenType == "" {
		tok.TokenType = "Bearer"
	}
	if exp > 0 {
		tok.Expiry = start.Add(time.Duration(exp) * time.Second)
	}
	return tok, nil
}

// Refresh redeems a refresh token. A rejected one is an OAuthError with Code
// "invalid_grant". Token.RefreshToken is "" when the server did not rotate it.
func (c *Client) Refresh(ctx context.Context, app App, refreshToken string) (*Token, error) {
	const op = "refresh"
	if refreshToken == "" {
		return nil, fmt.Errorf("%s: %w", op, ErrNoRefreshToken)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	return c.tokenRequest(ctx, op, app, form, refreshToken)
}

// ClientCredentials runs the client credentials grant; scope is sent only
// when app.Scopes is not empty.
func (c *Client) ClientCredentials(ctx context.Context, app App) (*Token, error) {
	const op = "client credentials"
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(app.Scopes) > 0 {
		form.Set("scope", strings.Join(app.Scopes, " "))
	}
	return c.tokenRequest(ctx, op, app, form)
}

// Revoke revokes a token at the revocation endpoint (RFC 7009) with the same
// client authentication as the token endpoint. hint ("access_token",
// "refresh_token") may be "". No revocation_endpoint → ErrNotSupported.
func (c *Client) Revoke(ctx context.Context, app App, token, hint string) error {
	const op = "revoke"
	if err := app.check(op); err != nil {
		return err
	}
	if app.Metadata.RevocationEndpoint == "" {
		return fmt.Errorf("%s: no revocation endpoint: %w", op, ErrNotSupported)
	}
	if token == "" {
		return fmt.Errorf("%s: empty token", op)
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	header := app.authenticate(form)
	r, err := c.postForm(ctx, op, app.Metadata.RevocationEndpoint, form, header)
	if err != nil {
		return err
	}
	r.secrets = []string{token, app.ClientSecret}
	if !r.ok() {
		return failure(op, r)
	}
	return nil
}
