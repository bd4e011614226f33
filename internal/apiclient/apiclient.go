// Package apiclient makes requests to the protected API with a bearer
// token and turns its answers into typed errors: 401, 403 with the missing
// scope (RFC 6750 WWW-Authenticate), unreachable, nonsense.
package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/redact"
)

// MaxBody bounds a response body read into memory.
const MaxBody = 10 << 20

// Client talks to one API. Its HTTP client adds the token (see
// credentials.Provider.Client): this package never sees it.
type Client struct {
	HTTP    *http.Client
	BaseURL string // no trailing slash
}

// AuthError is a 401: the API does not accept the token.
type AuthError struct {
	Code        string // invalid_token, ...
	Description string
}

func (e *AuthError) Error() string {
	msg := "the API rejected the token (401)"
	if e.Code != "" {
		msg += ": " + redact.Text(e.Code, 200)
	}
	if e.Description != "" {
		msg += ": " + redact.Text(e.Description, 200)
	}
	return msg
}

// ScopeError is a 403: the token lacks a scope.
type ScopeError struct {
	Scope       string // the missing scope(s) the API named, "" when unknown
	Description string
}

func (e *ScopeError) Error() string {
	if e.Scope != "" {
		return "the token lacks the scope " + redact.Text(e.Scope, 200) + " (403)"
	}
	return "forbidden (403)"
}

// ErrOtherHost refuses to send the token to a host other than the API's.
var ErrOtherHost = httpx.ErrOtherHost

// ResolveURL joins path to the API URL. An absolute URL must be on the API's
// own scheme and host.
func (c *Client) ResolveURL(path string) (*url.URL, error) {
	base, err := url.Parse(c.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("bad API URL: %w", err)
	}
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		u, err := url.Parse(path)
		if err != nil {
			return nil, fmt.Errorf("bad URL: %w", err)
		}
		if u.Scheme != base.Scheme || u.Host != base.Host {
			return nil, fmt.Errorf("%w: %s is not %s", ErrOtherHost, u.Host, base.Host)
		}
		return u, nil
	}
	rel, err := url.Parse(strings.TrimPrefix(path, "/"))
	if err != nil || rel.Host != "" || rel.Scheme != "" {
		return nil, fmt.Errorf("bad path %q", path)
	}
	b := *base
	if !strings.HasSuffix(b.Path, "/") {
		b.Path += "/"
	}
	return b.ResolveReference(rel), nil
}

// Do sends a request to the API with the token. It returns the response for
// every status; the caller decides (Check turns 401/403 into errors).
func (c *Client) Do(ctx context.Context, method, path string, header http.Header, body io.Reader) (*http.Response, error) {
	u, err := c.ResolveURL(path)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ce, ok := errors.AsType[*httpx.CredentialError](err); ok {
			return nil, ce.Err
		}
		return nil, httpx.Failed(ctx, httpx.API, "", u.String(), err)
	}
	return resp, nil
}

// Check turns a 401 or 403 response into AuthError or ScopeError.
func Check(resp *http.Response) error {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		ch := ParseBearerChallenge(resp.Header.Values("WWW-Authenticate"))
		return &AuthError{Code: ch["error"], Description: ch["error_description"]}
	case http.StatusForbidden:
		ch := ParseBearerChallenge(resp.Header.Values("WWW-Authenticate"))
		return &ScopeError{Scope: ch["scope"], Description: ch["error_description"]}
	}
	return nil
}

// GetJSON requests path and decodes a 2xx JSON object.
func (c *Client) GetJSON(ctx context.Context, path string) (map[string]any, http.Header, error) {
	resp, err := c.Do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if err := Check(resp); err != nil {
		return nil, resp.Header, err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, resp.Header, ctx.Err()
		}
		return nil, resp.Header, httpx.Failed(ctx, httpx.API, "", c.BaseURL, err)
	}
	if len(data) > MaxBody {
		return nil, resp.Header, &httpx.ResponseError{Server: httpx.API, Status: resp.StatusCode, Problem: "body is larger than the limit"}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, resp.Header, &httpx.ResponseError{Server: httpx.API, Status: resp.StatusCode, Problem: http.StatusText(resp.StatusCode)}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "" && mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return nil, resp.Header, &httpx.ResponseError{Server: httpx.API, Status: resp.StatusCode, Problem: "expected JSON, got " + redact.Text(mt, 100)}
	}
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return nil, resp.Header, &httpx.ResponseError{Server: httpx.API, Status: resp.StatusCode, Problem: "expected a JSON object"}
	}
	return obj, resp.Header, nil
}

// GetJSONAt requests BaseURL itself (an absolute endpoint such as userinfo)
// and decodes a 2xx JSON object.
func (c *Client) GetJSONAt(ctx context.Context) (map[string]any, error) {
	obj, _, err := c.GetJSON(ctx, c.BaseURL)
	return obj, err
}

// Me returns the API's answer about the token's owner (GET mePath).
func (c *Client) Me(ctx context.Context, mePath string) (map[string]any, error) {
	obj, _, err := c.GetJSON(ctx, mePath)
	return obj, err
}

// Account names the account an identity belongs to, for telling several
// logins to one API apart: its email, else its login name, else its
// subject ("" when none is given).
func Account(me map[string]any) string {
	for _, k := range []string{"email", "login", "username", "preferred_username", "sub", "id", "user_id"} {
		switch v := me[k].(type) {
		case string:
			if v != "" {
				return redact.Text(v, 200)
			}
		case float64:
			return fmt.Sprint(v)
		}
	}
	return ""
}

// Identity picks a display identity from common /me fields:
// email, name or displayName, id, user_id or sub.
func Identity(me map[string]any) string {
	str := func(keys ...string) string {
		for _, k := range keys {
			if s, ok := me[k].(string); ok && s != "" {
				return s
			}
			if n, ok := me[k].(float64); ok {
				return fmt.Sprint(n)
			}
		}
		return ""
	}
	email, name, id := str("email"), str("name", "displayName", "display_name", "login", "username", "preferred_username"), str("id", "user_id", "sub")
	switch {
	case name != "" && email != "":
		return redact.Text(name, 200) + " <" + redact.Text(email, 200) + ">"
	case email != "":
		return redact.Text(email, 200)
	case name != "":
		return redact.Text(name, 200)
	case id != "":
		return redact.Text(id, 200)
	}
	return "unknown user"
}
