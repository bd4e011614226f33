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
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxBody bounds a response body read into memory.
const MaxBody = 10 << 20

// Client talks to one API with one token.
type Client struct {
	HTTP    *http.Client
	BaseURL string // no trailing slash
	Token   string
}

// AuthError is a 401: the API does not accept the token.
type AuthError struct {
	Code        string // invalid_token, ...
	Description string
}

func (e *AuthError) Error() string {
	msg := "the API rejected the token (401)"
	if e.Code != "" {
		msg += ": " + sanitize(e.Code)
	}
	if e.Description != "" {
		msg += ": " + sanitize(e.Description)
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
		return "the token lacks the scope " + sanitize(e.Scope) + " (403)"
	}
	return "forbidden (403)"
}

// NetworkError means the API could not be reached.
type NetworkError struct {
	URL string
	Err error
}

func (e *NetworkError) Error() string { return fmt.Sprintf("cannot reach %s: %v", e.URL, e.Err) }
func (e *NetworkError) Unwrap() error { return e.Err }

// ResponseError means the API answered something unusable.
type ResponseError struct {
	Status  int
	Problem string
}

func (e *ResponseError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("unexpected API response (HTTP %d): %s", e.Status, e.Problem)
	}
	return "unexpected API response: " + e.Problem
}

// ErrOtherHost refuses to send the token to a host other than the API's.
var ErrOtherHost = errors.New("refusing to send the token to another host")

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
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &NetworkError{URL: u.Scheme + "://" + u.Host, Err: unwrapURLError(err)}
	}
	return resp, nil
}

// unwrapURLError drops the *url.Error around err (its text repeats the
// URL) and says "timed out" for every kind of timeout: which of the dial,
// handshake, header and whole-request timeouts fired first is chance, and
// their texts differ ("context deadline exceeded", "net/http: TLS
// handshake timeout", ...).
func unwrapURLError(err error) error {
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return &TimeoutError{Err: err}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// TimeoutError is a request that got no (complete) answer in time.
type TimeoutError struct{ Err error }

func (e *TimeoutError) Error() string { return "timed out" }
func (e *TimeoutError) Unwrap() error { return e.Err }

// Timeout implements net.Error's Timeout.
func (e *TimeoutError) Timeout() bool { return true }

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
		return nil, resp.Header, &NetworkError{URL: c.BaseURL, Err: unwrapURLError(err)}
	}
	if len(data) > MaxBody {
		return nil, resp.Header, &ResponseError{Status: resp.StatusCode, Problem: "body is larger than the limit"}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, resp.Header, &ResponseError{Status: resp.StatusCode, Problem: http.StatusText(resp.StatusCode)}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "" && mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return nil, resp.Header, &ResponseError{Status: resp.StatusCode, Problem: "expected JSON, got " + sanitize(mt)}
	}
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return nil, resp.Header, &ResponseError{Status: resp.StatusCode, Problem: "expected a JSON object"}
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
		return sanitize(name) + " <" + sanitize(email) + ">"
	case email != "":
		return sanitize(email)
	case name != "":
		return sanitize(name)
	case id != "":
		return sanitize(id)
	}
	return "unknown user"
}

// sanitize keeps server text to one printable line of bounded length: C0
// and C1 control characters (terminal escapes) become spaces, invalid UTF-8
// becomes U+FFFD, and it is cut at 200 characters, on a character boundary.
func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if utf8.RuneCountInString(s) > 200 {
		s = string([]rune(s)[:200]) + "…"
	}
	return s
}
