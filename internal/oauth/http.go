package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/redact"
)

// maxBody is the largest response body read from any server.
const maxBody = 1 << 20

// Client runs the OAuth flows over the HTTP client the caller supplies
// (timeouts, proxy, user agent, debug transport). A nil HTTP gets a plain
// client with a 30 s timeout.
type Client struct {
	HTTP *http.Client
}

// response is a fully read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
	// secrets the request carried: scrubbed from any server text that ends
	// up in an error.
	secrets []string
}

func (r *response) ok() bool { return r.status >= 200 && r.status <= 299 }

// mediaType is the response's media type, sanitized for error text.
func (r *response) mediaType() string {
	return redact.Text(mediaType(r.header), 60, r.secrets...)
}

// httpClient returns a copy of the caller's client whose redirect policy
// refuses any hop that fails CheckURL, then applies httpx.CheckRedirect
// (GET only: a POST is never followed).
func (c *Client) httpClient() *http.Client {
	var hc http.Client
	if c.HTTP != nil {
		hc = *c.HTTP
	} else {
		hc.Timeout = httpx.DefaultTimeout
	}
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if _, err := CheckURL(req.URL.String()); err != nil {
			return err
		}
		return httpx.CheckRedirect(req, via)
	}
	return &hc
}

// get fetches rawURL with Accept: application/json, following safe redirects.
func (c *Client) get(ctx context.Context, op, rawURL string) (*response, error) {
	return c.send(ctx, op, http.MethodGet, rawURL, "", nil, nil)
}

// postForm POSTs a form (client authentication applied by the caller through
// header); redirects are not followed.
func (c *Client) postForm(ctx context.Context, op, rawURL string, form url.Values, header http.Header) (*response, error) {
	return c.send(ctx, op, http.MethodPost, rawURL, "application/x-www-form-urlencoded", []byte(form.Encode()), header)
}

// postJSON POSTs a JSON document; redirects are not followed.
func (c *Client) postJSON(ctx context.Context, op, rawURL string, v any) (*response, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return c.send(ctx, op, http.MethodPost, rawURL, "application/json", body, nil)
}

func (c *Client) send(ctx context.Context, op, method, rawURL, contentType string, body []byte, header http.Header) (*response, error) {
	u, err := CheckURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, transportError(ctx, op, u.String(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, transportError(ctx, op, u.String(), err)
	}
	if len(data) > maxBody {
		return nil, &httpx.ResponseError{Server: httpx.Issuer, Op: op, Status: resp.StatusCode, Problem: "response body larger than 1 MiB"}
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// transportError turns a failed round trip into ctx.Err() (wrapped) when the
// context ended, else a httpx.NetworkError. An insecure redirect keeps its
// sentinel.
func transportError(ctx context.Context, op, rawURL string, err error) error {
	if ctx.Err() == nil && (errors.Is(err, ErrInsecureURL) || errors.Is(err, ErrInvalidURL)) {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return fmt.Errorf("%s: redirect refused: %w", op, err)
	}
	if ctx.Err() == nil && errors.Is(err, httpx.ErrRedirect) {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return &httpx.NetworkError{Server: httpx.Issuer, Op: op, Err: err}
	}
	return httpx.Failed(ctx, httpx.Issuer, op, rawURL, err)
}

// errorJSON is the RFC 6749 §5.2 error body.
type errorJSON struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// parseErrorBody extracts error/error_description from a JSON or form body.
func parseErrorBody(r *response) (errorJSON, bool) {
	var e errorJSON
	e.Error, e.ErrorDescription = errorIn(r.body, mediaType(r.header))
	return e, e.Error != ""
}

// failure converts a response that is an error (non-2xx, or 2xx carrying an
// "error" member) into an OAuthError when the body is an RFC 6749 error, else
// a ResponseError. secrets are scrubbed from the description.
func failure(op string, r *response, secrets ...string) error {
	secrets = append(secrets, r.secrets...)
	if e, ok := parseErrorBody(r); ok {
		return &OAuthError{
			Op:          op,
			Status:      r.status,
			Code:        redact.Code(e.Error, secrets...),
			Description: redact.Text(e.ErrorDescription, maxDescription, secrets...),
		}
	}
	return unexpectedStatus(op, r.status, r.mediaType())
}

// decodeJSON decodes a 2xx body into v; the error never quotes the body.
func decodeJSON(op string, r *response, v any) error {
	err := json.Unmarshal(r.body, v)
	if err == nil {
		return nil
	}
	problem := fmt.Sprintf("response is not valid JSON (%s)", r.mediaType())
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
		problem = fmt.Sprintf("response field %q has the wrong type", redact.Text(te.Field, 60))
	}
	return &httpx.ResponseError{Server: httpx.Issuer, Op: op, Status: r.status, Problem: problem}
}
