package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// DeviceCode is a device authorization response (RFC 8628 §3.2), checked.
type DeviceCode struct {
	DeviceCode              string
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string
	Expiry                  time.Time
	Interval                time.Duration
}

// GrantDevice is the device authorization grant type (RFC 8628).
const GrantDevice = "urn:ietf:params:oauth:grant-type:device_code"

const (
	// maxUserCode bounds the user code's length in runes (RFC 8628 codes
	// are meant to be typed: a handful of characters).
	maxUserCode     = 64
	defaultInterval = 5 * time.Second
	maxInterval     = 300 * time.Second
	// maxPollFailures is how many consecutive transient failures (network,
	// 5xx, 429) PollDevice tolerates; the last one is returned.
	maxPollFailures = 5
)

// DeviceAuth starts the device authorization grant with app.Scopes
// (oauth2.Config.DeviceAuth). It requires device_code, user_code and
// verification_uri (which must pass CheckURL, as must
// verification_uri_complete) and expires_in > 0; a missing or zero interval
// means 5 s, one above 300 s is a ResponseError.
// No device_authorization_endpoint → ErrNotSupported.
func (c *Client) DeviceAuth(ctx context.Context, app App) (*DeviceCode, error) {
	const op = "device authorization"
	if err := app.check(op, app.Metadata.DeviceAuthorizationEndpoint, "device authorization endpoint"); err != nil {
		return nil, err
	}
	g := c.grant(app, nil)
	da, err := app.Config("").DeviceAuth(g.context(ctx))
	if err != nil {
		return nil, g.failure(ctx, op, err, app.ClientSecret)
	}
	if code, _ := errorIn(g.last.body, g.last.mediaType); code != "" {
		return nil, g.failure(ctx, op, errors.New("error in a 2xx answer"), app.ClientSecret)
	}
	bad := func(problem string) error {
		return &httpx.ResponseError{Server: httpx.Issuer, Op: op, Status: g.last.status, Problem: problem}
	}
	switch {
	case da.DeviceCode == "":
		return nil, bad("response has no device_code")
	case da.UserCode == "":
		return nil, bad("response has no user_code")
	case da.VerificationURI == "":
		return nil, bad("response has no verification_uri")
	case !printable(da.UserCode, maxUserCode):
		// It is shown on the terminal: no escape sequences.
		return nil, bad("response has an invalid user_code")
	}
	for _, v := range []struct{ name, url string }{
		{"verification_uri", da.VerificationURI},
		{"verification_uri_complete", da.VerificationURIComplete},
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
	switch {
	case da.Expiry.IsZero() || !da.Expiry.After(time.Now()):
		return nil, bad("response has a missing or invalid expires_in")
	case da.Interval < 0:
		return nil, bad("response has an invalid interval")
	case da.Interval > int64(maxInterval/time.Second):
		return nil, bad(fmt.Sprintf("response asks to poll every %d s (more than %d s)", da.Interval, int(maxInterval/time.Second)))
	}
	dc := &DeviceCode{
		DeviceCode:              da.DeviceCode,
		UserCode:                da.UserCode,
		VerificationURI:         da.VerificationURI,
		VerificationURIComplete: da.VerificationURIComplete,
		Expiry:                  da.Expiry.Round(time.Second),
		Interval:                time.Duration(da.Interval) * time.Second,
	}
	if dc.Interval == 0 {
		dc.Interval = defaultInterval
	}
	return dc, nil
}

// PollDevice polls the token endpoint until the user approves, denies, the
// code expires or ctx ends (oauth2.Config.DeviceAccessToken: it waits the
// interval before each poll, keeps polling on authorization_pending, adds
// 5 s on slow_down, ends on any other OAuth error, and stops at the
// expiry, which is OAuthError{Code: "expired_token"}). Around it, network
// errors, 5xx and 429 answers are retried at the interval, up to 5
// consecutive failures (the last is returned), which x/oauth2 does not do.
// A canceled ctx returns an error wrapping ctx.Err(). tick, when not nil,
// is called after every poll that did not finish. It never polls again
// after a success.
func (c *Client) PollDevice(ctx context.Context, app App, dc *DeviceCode, tick func()) (*oauth2.Token, error) {
	const op = "device login"
	if err := app.check(op, app.Metadata.TokenEndpoint, "token endpoint"); err != nil {
		return nil, err
	}
	if dc == nil || dc.DeviceCode == "" {
		return nil, fmt.Errorf("%s: no device code", op)
	}
	interval := dc.Interval
	if interval <= 0 {
		interval = defaultInterval
	}
	if tick == nil {
		tick = func() {}
	}
	failures := 0
	g := c.grant(app, func(code string) {
		switch code {
		case "authorization_pending":
			failures = 0
			tick()
		case "slow_down":
			failures = 0
			interval += 5 * time.Second // as x/oauth2 does, for the polls after a retry
			tick()
		}
	})
	cfg := app.Config("")
	cfg.Scopes = nil // the poll carries no scope
	for {
		da := &oauth2.DeviceAuthResponse{DeviceCode: dc.DeviceCode, Expiry: dc.Expiry, Interval: int64(interval / time.Second)}
		tok, err := cfg.DeviceAccessToken(g.context(ctx), da)
		if err == nil {
			return g.result(ctx, op, tok, nil, dc.DeviceCode, app.ClientSecret)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", op, ctx.Err())
		}
		if !dc.Expiry.IsZero() && !time.Now().Before(dc.Expiry) {
			return nil, expiredCode(op)
		}
		err = g.failure(ctx, op, err, dc.DeviceCode, app.ClientSecret)
		if !transient(err) {
			return nil, err
		}
		failures++
		if failures >= maxPollFailures {
			return nil, err
		}
		tick()
	}
}

// transient reports whether a failed poll may be retried: a network error,
// or an answer with status 5xx or 429.
func transient(err error) bool {
	if _, ok := errors.AsType[*httpx.NetworkError](err); ok {
		return true
	}
	status := 0
	if re, ok := errors.AsType[*httpx.ResponseError](err); ok {
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
