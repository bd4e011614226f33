// Package httpx is the one HTTP layer under the authorization server and the
// API: the client every request goes through (timeouts, proxy and CA from an
// injected environment, user agent, one redirect policy, an optional
// redacting trace) and the one error family for what can go wrong on the
// wire (NetworkError, ResponseError). Error texts never contain a body.
package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/sesame-cli/sesame/internal/redact"
)

// Server names who answered (or failed to), for messages and exit hints.
type Server string

// The servers sesame talks to.
const (
	API    Server = "API"
	Issuer Server = "authorization server"
)

// NetworkError is a transport failure: DNS, connect, TLS, timeout, reset.
type NetworkError struct {
	Server Server
	Op     string // what was being done ("discover issuer", "refresh"); "" for an API request
	URL    string // scheme://host of the request
	Err    error
}

func (e *NetworkError) Error() string {
	if e.Op != "" {
		return e.Op + ": " + e.Err.Error()
	}
	return "cannot reach " + e.URL + ": " + e.Err.Error()
}

func (e *NetworkError) Unwrap() error { return e.Err }

// ResponseError is an answer that makes no sense: HTML instead of JSON, an
// unexpected status, missing fields, absurd values, an oversized body.
// Problem is written by sesame (server text in it went through the
// sanitizer); it never holds a response body.
type ResponseError struct {
	Server  Server
	Op      string
	Status  int // 0 when not applicable
	Problem string
}

func (e *ResponseError) Error() string {
	if e.Op != "" {
		return e.Op + ": " + e.Problem
	}
	if e.Status != 0 {
		return fmt.Sprintf("unexpected %s response (HTTP %d): %s", e.Server, e.Status, e.Problem)
	}
	return "unexpected " + string(e.Server) + " response: " + e.Problem
}

// TimeoutError is a request that got no (complete) answer in time, whichever
// of the dial, handshake, header and whole-request timeouts fired first
// (their own texts differ by chance).
type TimeoutError struct{ Err error }

func (e *TimeoutError) Error() string { return "timed out" }
func (e *TimeoutError) Unwrap() error { return e.Err }

// Timeout implements net.Error's Timeout.
func (e *TimeoutError) Timeout() bool { return true }

// ErrOtherHost refuses to send the token to a host other than the API's.
var ErrOtherHost = errors.New("refusing to send the token to another host")

// ErrRedirect is a redirect the policy refused (errors.Is a RedirectError).
var ErrRedirect = errors.New("redirect refused")

// RedirectError is a redirect the policy refused, and why.
type RedirectError struct{ Reason string }

func (e *RedirectError) Error() string        { return e.Reason }
func (e *RedirectError) Is(target error) bool { return target == ErrRedirect }

// Failed turns an error of a round trip into ctx.Err() when the context
// ended (so that Ctrl-C is "interrupted", not a network error), else a
// NetworkError: for the authorization server ("op: Post "url": …") with the
// *url.Error, for the API ("cannot reach URL: …") without it.
// A refused redirect keeps its own error.
func Failed(ctx context.Context, server Server, op, rawURL string, err error) error {
	if ctx.Err() != nil {
		if op != "" {
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
		return ctx.Err()
	}
	if ue, ok := errors.AsType[*url.Error](err); ok && errors.Is(err, ErrRedirect) {
		// "cannot reach …: redirected to another host (…)"
		return &NetworkError{Server: server, Op: op, URL: origin(rawURL), Err: ue.Err}
	}
	ue, isURLErr := errors.AsType[*url.Error](err)
	if op != "" && isURLErr {
		// "refresh: Post "https://…/token": dial tcp …: connection refused"
		if ue.Timeout() {
			err = &url.Error{Op: ue.Op, URL: ue.URL, Err: &TimeoutError{Err: ue.Err}}
		}
	} else if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		err = &TimeoutError{Err: err}
	} else if isURLErr {
		err = ue.Err
	}
	return &NetworkError{Server: server, Op: op, URL: origin(rawURL), Err: err}
}

func origin(raw string) string {
	if o := Origin(raw); o != "" {
		return o
	}
	return raw
}

// Origin is scheme://host of a URL, "" when it has no host.
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// DefaultTimeout bounds a whole HTTP request.
const DefaultTimeout = 30 * time.Second

// Options configures NewClient. Getenv reads the proxy and CA variables;
// nothing is read from the process environment directly.
type Options struct {
	Getenv    func(string) string
	Timeout   time.Duration     // whole request; 0 → DefaultTimeout
	UserAgent string            // "sesame/1.2.3"
	Base      http.RoundTripper // nil → a transport built from Getenv
	Debug     io.Writer         // non-nil: a redacting trace of every request
	Now       func() time.Time
	Secrets   func() []string // the tokens in use, masked in the trace wherever they appear
}

// ParseTimeout reads a timeout setting: a Go duration ("30s") or whole seconds.
func ParseTimeout(v string) (time.Duration, bool) {
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, true
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second, true
	}
	return 0, false
}

// NewClient returns the client for every request: timeouts (connect, TLS
// handshake, response headers, whole request), HTTPS_PROXY/HTTP_PROXY/
// NO_PROXY and SSL_CERT_FILE read through Getenv, the user agent, the
// redirect policy of CheckRedirect, and with Debug a redacting trace.
func NewClient(o Options) *http.Client {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	base := o.Base
	if base == nil {
		base = newTransport(o.Getenv, timeout)
	}
	var rt http.RoundTripper = &userAgent{base: base, ua: o.UserAgent}
	if o.Debug != nil {
		rt = &redact.Transport{Base: rt, Log: o.Debug, Now: o.Now, Secrets: o.Secrets}
	}
	return &http.Client{Transport: rt, Timeout: timeout, CheckRedirect: CheckRedirect}
}

// CheckRedirect is the one redirect policy: at most 5 hops, never to
// another host (Go would carry the Authorization header there), never from
// https to http, and never a method-changing POST redirect of a form (a
// token endpoint that redirects would make the client resend its secrets):
// a POST is not followed at all.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if via[0].Method != http.MethodGet && via[0].Method != http.MethodHead {
		return http.ErrUseLastResponse
	}
	if len(via) >= 5 {
		return &RedirectError{"too many redirects"}
	}
	from := via[0].URL
	if req.URL.Host != from.Host {
		return &RedirectError{"redirected to another host (" + redact.Text(req.URL.Host, 100) + ")"}
	}
	if req.URL.Scheme != from.Scheme && !(from.Scheme == "http" && req.URL.Scheme == "https") {
		return &RedirectError{"redirected from " + from.Scheme + " to " + redact.Text(req.URL.Scheme, 20)}
	}
	return nil
}

func newTransport(getenv func(string) string, timeout time.Duration) http.RoundTripper {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	// Both spellings, upper case first, as curl and Go's own
	// ProxyFromEnvironment (which reads the process environment once).
	first := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	proxyFor := (&httpproxy.Config{
		HTTPProxy:  first("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: first("HTTPS_PROXY", "https_proxy"),
		NoProxy:    first("NO_PROXY", "no_proxy"),
		CGI:        getenv("REQUEST_METHOD") != "",
	}).ProxyFunc()
	// SSL_CERT_FILE replaces the system roots (as OpenSSL and Go on Linux
	// do) on every platform; a file without a certificate fails every
	// request rather than silently trusting the system roots.
	var roots *x509.CertPool
	var rootsErr error
	if f := getenv("SSL_CERT_FILE"); f != "" {
		pem, err := readCAFile(f)
		roots = x509.NewCertPool()
		switch {
		case err != nil:
			rootsErr = fmt.Errorf("SSL_CERT_FILE %s: %v", redact.Text(f, 200), err)
		case !roots.AppendCertsFromPEM(pem):
			rootsErr = fmt.Errorf("SSL_CERT_FILE %s: no PEM certificate in it", redact.Text(f, 200))
		}
	}
	dialTimeout := min(timeout, 10*time.Second)
	return &http.Transport{
		Proxy: func(req *http.Request) (*url.URL, error) {
			if rootsErr != nil {
				return nil, rootsErr
			}
			return proxyFor(req.URL)
		},
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   dialTimeout,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
}

// maxCAFile bounds SSL_CERT_FILE.
const maxCAFile = 4 << 20

// readCAFile reads a user-named CA bundle: a regular file, at most 4 MiB
// (a FIFO or /dev/zero must not hang or fill memory).
func readCAFile(name string) ([]byte, error) {
	// Stat before opening: opening a FIFO for reading blocks until a
	// writer comes.
	if fi, err := os.Stat(name); err != nil {
		return nil, errors.New("cannot read it")
	} else if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, errors.New("cannot read it")
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCAFile+1))
	if err != nil {
		return nil, errors.New("cannot read it")
	}
	if len(data) > maxCAFile {
		return nil, errors.New("larger than 4 MiB")
	}
	return data, nil
}

type userAgent struct {
	base http.RoundTripper
	ua   string
}

func (u *userAgent) RoundTrip(req *http.Request) (*http.Response, error) {
	if u.ua != "" && req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", u.ua)
	}
	return u.base.RoundTrip(req)
}

// CredentialError carries an error of getting or renewing the credential
// through an http.Client (which wraps what a transport returns in a
// *url.Error): it is not a network failure.
type CredentialError struct{ Err error }

func (e *CredentialError) Error() string { return e.Err.Error() }
func (e *CredentialError) Unwrap() error { return e.Err }
