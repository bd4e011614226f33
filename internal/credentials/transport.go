package credentials

import (
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// ErrOtherHost refuses to send the token to a host other than the API's.
var ErrOtherHost = httpx.ErrOtherHost

// Client returns a copy of base whose requests carry t as a bearer token
// (only to t's API origin) and that, when the API answers 401 and t can be
// renewed, renews t once (in place) and retries the request once. Errors of
// the credential itself come back wrapped in httpx.CredentialError.
func (p *Provider) Client(t *Token, base *http.Client) *http.Client {
	c := *base
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = &bearer{p: p, t: t, base: rt}
	return &c
}

type bearer struct {
	p    *Provider
	t    *Token
	base http.RoundTripper
}

func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := sameOrigin(req.URL, b.t.APIURL); err != nil {
		return nil, &httpx.CredentialError{Err: err}
	}
	resp, err := b.base.RoundTrip(b.authorized(req, req.Body))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !b.p.Renewable(b.t) {
		return resp, err
	}
	var body io.ReadCloser
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return resp, nil // the body is gone: the caller sees the 401
		}
		if body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err := b.p.Renew(req.Context(), b.t); err != nil && !isWriteError(err) {
		return nil, &httpx.CredentialError{Err: err}
	} else if err != nil {
		b.p.warnWrite(err)
	}
	return b.base.RoundTrip(b.authorized(req, body))
}

// authorized is req with the bearer (and body) set, on a clone.
func (b *bearer) authorized(req *http.Request, body io.ReadCloser) *http.Request {
	r := req.Clone(req.Context())
	r.Body = body
	r.Header.Set("Authorization", "Bearer "+b.t.Value.Reveal())
	return r
}

// sameOrigin refuses a request to another scheme or host than the API's.
func sameOrigin(u *url.URL, api string) error {
	base, err := url.Parse(api)
	if err != nil || base.Host == "" {
		return fmt.Errorf("%w: no API URL to compare with", ErrOtherHost)
	}
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return fmt.Errorf("%w: %s is not %s", ErrOtherHost, u.Host, base.Host)
	}
	return nil
}
