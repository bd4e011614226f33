// Package redact keeps secrets out of output: a Secret type that never
// prints, and an HTTP transport that traces requests without leaking
// credentials or bodies.
package redact

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Mask is what a secret prints as.
const Mask = "***"

// Secret is a string that formats as *** in every verb, in JSON and in
// errors. Reveal returns the value for the one place that needs it.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string { return Mask }

// GoString implements fmt.GoStringer.
func (s Secret) GoString() string { return Mask }

// Format implements fmt.Formatter so that %s, %v, %q and %x all mask.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Mask) }

// MarshalJSON masks the secret in JSON output.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Mask + `"`), nil }

// sensitiveHeaders are shown with their value masked.
var sensitiveHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
	"Dpop":                true,
}

// sensitiveParams are masked in logged URLs.
var sensitiveParams = []string{"code", "state", "token", "access_token", "refresh_token", "device_code", "client_secret", "code_verifier", "user_code"}

// urlHeaders carry a URL whose sensitive parameters are masked like URL's.
var urlHeaders = map[string]bool{
	"Location":         true,
	"Content-Location": true,
	"Referer":          true, // Go's client sets it to the previous URL on a redirect
}

// URL returns u with sensitive query parameters, any userinfo and any
// fragment (an implicit-flow token lives there) masked.
func URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		c.User = url.User(Mask)
	}
	if c.Fragment != "" || c.RawFragment != "" {
		c.Fragment, c.RawFragment = Mask, ""
	}
	if c.RawQuery != "" {
		q := c.Query()
		for _, k := range sensitiveParams {
			if q.Has(k) {
				q.Set(k, Mask)
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// Header returns a header value fit for a log line.
func Header(name, value string) string {
	key := http.CanonicalHeaderKey(name)
	if urlHeaders[key] {
		u, err := url.Parse(value)
		if err != nil {
			return Mask
		}
		return URL(u)
	}
	if !sensitiveHeaders[key] {
		return value
	}
	scheme, _, ok := strings.Cut(value, " ")
	if ok && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Basic") || strings.EqualFold(scheme, "DPoP")) {
		return scheme + " " + Mask
	}
	return Mask
}

// Transport logs each request and response line and headers to Log, with
// secrets masked and bodies never shown.
type Transport struct {
	Base http.RoundTripper
	Log  io.Writer
	Now  func() time.Time
	// Secrets, when set, returns the tokens in use: masked in every logged
	// header value, whatever the header (a server may echo a token back).
	Secrets func() []string
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	now := t.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	var secrets []string
	if t.Secrets != nil {
		secrets = t.Secrets()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n", req.Method, URL(req.URL))
	writeHeaders(&b, "> ", req.Header, secrets)
	if req.ContentLength != 0 && req.Body != nil {
		fmt.Fprintf(&b, "> (request body not shown)\n")
	}
	_, _ = io.WriteString(t.Log, b.String())
	resp, err := t.Base.RoundTrip(req)
	elapsed := now().Sub(start).Round(time.Millisecond)
	if err != nil {
		fmt.Fprintf(t.Log, "< error after %s\n", elapsed)
		return resp, err
	}
	b.Reset()
	fmt.Fprintf(&b, "< %s %s (%s)\n", resp.Proto, Text(resp.Status, 200, secrets...), elapsed)
	writeHeaders(&b, "< ", resp.Header, secrets)
	_, _ = io.WriteString(t.Log, b.String())
	return resp, nil
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header, secrets []string) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s%s: %s\n", prefix, Text(k, 200, secrets...), Text(Header(k, v), 2000, secrets...))
		}
	}
}
