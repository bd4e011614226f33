package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DeviceCode is a device authorization response (RFC 8628 §3.2).
type DeviceCode struct {
	DeviceCode              string
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string
	Expiry                  time.Time
	Interval                time.Duration
}

const (
	// maxUserCode bounds the user code's length in runes (RFC 8628 codes
	// are meant to be typed: a handful of characters).
	maxUserCode     = 64
	defaultInterval = 5 * time.Second
	maxInterval     = 300 * time.Second
	slowDownStep    = 5 * time.Second
	// maxPollFailures is how many consecutive transient failures (network,
	// 5xx, 429) PollDevice tolerates; the last one is returned.
	maxPollFailures = 5
)

// DeviceAuth starts the device authorization grant with app.Scopes. It
// requires device_code, user_code and verification_uri (which must pass
// CheckURL, as must verification_uri_complete) and expires_in > 0; a missing
// or zero interval means 5 s, one above 300 s is a ResponseError.
// No device_authorization_endpoint → ErrNotSupported.
func (c *Client) DeviceAuth(ctx context.Context, app App) (*DeviceCode, error) {
	const op = "device authorization"
	if err := app.check(op); err != nil {
		return nil, err
	}
	if app.Metadata.DeviceAuthorizationEndpoint == "" {
		return nil, fmt.Errorf("%s: no device authorization endpoint: %w", op, ErrNotSupported)
	}
	form := url.Values{}
	if len(app.Scopes) > 0 {
		form.Set("scope", strings.Join(app.Scopes, " "))
	}
	header := app.authenticate(form)
	start := time.Now()
	r, err := c.postForm(ctx, op, app.Metadata.DeviceAuthorizationEndpoint, form, header)
	if err != nil {
		return nil, err
	}
	r.secrets = []string{app.ClientSecret}
	if !r.ok() {
		return nil, failure(op, r)
	}
	var dj struct {
		DeviceCode              string          `json:"device_code"`
		UserCode                string          `json:"user_code"`
		VerificationURI         string          `json:"verification_uri"`
		VerificationURL         string          `json:"verification_url"` // Google's spelling
		VerificationURIComplete string          `json:"verification_uri_complete"`
		ExpiresIn               json.RawMessage `json:"expires_in"`
		Interval                json.RawMessage `json:"interval"`
		Error                   string          `json:"error"`
	}
	if err := decodeJSON(op, r, &dj); err != nil {
		return nil, err
	}
	if dj.Error != "" {
		return nil, failure(op, r)
	}
	bad := func(problem string) error { return &ResponseError{Op: op, Status: r.status, Problem: problem} }
	if dj.VerificationURI == "" {
		dj.VerificationURI = dj.VerificationURL
	}
	switch {
	case dj.DeviceCode == "":
		return nil, bad("response has no device_code")
	case dj.UserCode == "":
		return nil, bad("response has no user_code")
	case dj.VerificationURI == "":
		return nil, bad("response has no verification_uri")
	case !printable(dj.UserCode, maxUserCode):
		// It is shown on the terminal: no escape sequences.
		return nil, bad("response has an invalid user_code")
	}
	for _, v := range []struct{ name, url string }{
		{"verification_uri", dj.VerificationURI},
		{"verification_uri_complete", dj.VerificationURIComplete},
	} {
		if v.url == "" {
			continue
		}
		if _, err := CheckURL(v.url); err != nil {
			if errors.Is(err, ErrInsecureURL) {
				return nil, fmt.Errorf("%s: %s: %w", op, v.name, err)
			}
			return nil, bad(v.name + " is not an absolute http(s) URL")
		}
	}
	exp, _, err := seconds(dj.ExpiresIn)
	if err != nil || exp <= 0 {
		return nil, bad("response has a missing or invalid expires_in")
	}
	interval, _, err := seconds(dj.Interval)
	switch {
	case err != nil || interval < 0:
		return nil, bad("response has an invalid interval")
	case time.Duration(interval)*time.Second > maxInterval:
		return nil, bad(fmt.Sprintf("response asks to poll every %d s (more than %d s)", interval, int(maxInterval/time.Second)))
	}
	dc := &DeviceCode{
		DeviceCode:              dj.DeviceCode,
		UserCode:                dj.UserCode,
		VerificationURI:         dj.VerificationURI,
		VerificationURIComplete: dj.VerificationURIComplete,
		Expiry:                  start.Add(time.Duration(exp) * time.Second),
		Interval:                time.Duration(interval) * time.Second,
	}
	if dc.Interval == 0 {
		dc.Interval = defaultInterval
	}
	return dc, nil
}

// PollDevice polls the token endpoint until the user approves, denies, the
// code expires or ctx ends. It waits dc.Interval before each poll;
// authorization_pending keeps polling, slow_down adds 5 s to the interval;
// access_denied and expired_token (and any other OAuth error) end it as an
// OAuthError; reaching dc.Expiry is OAuthError{Code: "expired_token"}.
// Network errors, 5xx and 429 answers are retried at the interval, up to 5
// consecutive failures (the last is returned). A canceled ctx returns an
// error wrapping ctx.Err(). tick, when not nil, is called after every poll
// that did not finish. It never polls again after a success.
func (c *Client) PollDevice(ctx context.Context, app App, dc *DeviceCode, tick func()) (*Token, error) {
	const op = "device login"
	if err := app.check(op); err != nil {
		return nil, err
	}
	if dc == nil || dc.DeviceCode == "" {
		return nil, fmt.Errorf("%s: no device code", op)
	}
	interval := dc.Interval
	if interval <= 0 {
		interval = defaultInterval
	}
	expired := func() error {
		return &OAuthError{Op: op, Code: "expired_token", Description: "the device code expired before the login was approved"}
	}
	var expiry <-chan time.Time
	if !dc.Expiry.IsZero() {
		t := time.NewTimer(time.Until(dc.Expiry))
		defer t.Stop()
		expiry = t.C
	}
	wait := time.NewTimer(interval)
	defer wait.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: %w", op, ctx.Err())
		case <-expiry:
			return nil, expired()
		case <-wait.C:
		}
		if !dc.Expiry.IsZero() && !time.Now().Before(dc.Expiry) {
			return nil, expired()
		}
		form := url.Values{
			"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
			"device_code": {dc.DeviceCode},
		}
		tok, err := c.tokenRequest(ctx, op, app, form, dc.DeviceCode)
		if err == nil {
			return tok, nil
		}
		if ctx.Err() != nil {
			return nil, err // wraps ctx.Err()
		}
		var oe *OAuthError
		switch {
		case errors.As(err, &oe) && oe.Code == "authorization_pending":
			failures = 0
		case errors.As(err, &oe) && oe.Code == "slow_down":
			failures = 0
			interval += slowDownStep
		case transient(err):
			failures++
			if failures >= maxPollFailures {
				return nil, err
			}
		default:
			return nil, err
		}
		if tick != nil {
			tick()
		}
		wait.Reset(interval)
	}
}

// transient reports whether a failed poll may be retried: a network error,
// or an answer with status 5xx or 429.
func transient(err error) bool {
	if _, ok := errors.AsType[*NetworkError](err); ok {
		return true
	}
	status := 0
	if re, ok := errors.AsType[*ResponseError](err); ok {
		status = re.Status
	} else if oe, ok := errors.AsType[*OAuthError](err); ok {
		status = oe.Status
	}
	return status >= 500 || status == http.StatusTooManyRequests
}

// printable reports whether s is valid UTF-8 of at most max runes, every one
// printable (unicode.IsPrint: no control or format characters).
func printable(s string, max int) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
