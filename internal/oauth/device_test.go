package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

const deviceCodeSecret = "dc-SECRET-device-code"

func deviceApp(base string) App {
	return App{
		Metadata: &Metadata{Issuer: base, TokenEndpoint: base + "/token", DeviceAuthorizationEndpoint: base + "/device"},
		ClientID: "cid",
		Scopes:   []string{"docs.read", "offline_access"},
	}
}

func TestDeviceAuth(t *testing.T) {
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // synctest's epoch
	ok := func() map[string]any {
		return map[string]any{
			"device_code":               deviceCodeSecret,
			"user_code":                 "ABCD-EFGH",
			"verification_uri":          "https://example.com/device",
			"verification_uri_complete": "https://example.com/device?user_code=ABCD-EFGH",
			"expires_in":                600,
			"interval":                  7,
		}
	}
	with := func(k string, v any) map[string]any {
		m := ok()
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		answer http.HandlerFunc
		want   *DeviceCode
		check  errCheck
	}{
		{
			name:   "valid",
			answer: jsonAt(200, ok()),
			want: &DeviceCode{DeviceCode: deviceCodeSecret, UserCode: "ABCD-EFGH", VerificationURI: "https://example.com/device",
				VerificationURIComplete: "https://example.com/device?user_code=ABCD-EFGH", Expiry: t0.Add(10 * time.Minute), Interval: 7 * time.Second},
		},
		{
			name:   "no interval → 5 s",
			answer: jsonAt(200, with("interval", nil)),
			want: &DeviceCode{DeviceCode: deviceCodeSecret, UserCode: "ABCD-EFGH", VerificationURI: "https://example.com/device",
				VerificationURIComplete: "https://example.com/device?user_code=ABCD-EFGH", Expiry: t0.Add(10 * time.Minute), Interval: 5 * time.Second},
		},
		{
			name:   "interval 0 → 5 s, verification_url spelling",
			answer: jsonAt(200, map[string]any{"device_code": deviceCodeSecret, "user_code": "U", "verification_url": "https://example.com/d", "expires_in": 60, "interval": 0}),
			want:   &DeviceCode{DeviceCode: deviceCodeSecret, UserCode: "U", VerificationURI: "https://example.com/d", Expiry: t0.Add(time.Minute), Interval: 5 * time.Second},
		},
		{name: "missing device_code", answer: jsonAt(200, with("device_code", nil)), check: wantResponseError(200)},
		{name: "missing user_code", answer: jsonAt(200, with("user_code", nil)), check: wantResponseError(200)},
		{name: "missing verification_uri", answer: jsonAt(200, with("verification_uri", nil)), check: wantResponseError(200)},
		{name: "relative verification_uri", answer: jsonAt(200, with("verification_uri", "/device")), check: wantResponseError(200)},
		{name: "http verification_uri", answer: jsonAt(200, with("verification_uri", "http://example.com/device")), check: wantIs(ErrInsecureURL)},
		{name: "http verification_uri_complete", answer: jsonAt(200, with("verification_uri_complete", "http://example.com/device?c=1")), check: wantIs(ErrInsecureURL)},
		{name: "interval 1e9", answer: jsonAt(200, with("interval", 1e9)), check: wantResponseError(200)},
		{name: "interval 301", answer: jsonAt(200, with("interval", 301)), check: wantResponseError(200)},
		{name: "negative interval", answer: jsonAt(200, with("interval", -1)), check: wantResponseError(200)},
		{name: "expires_in 0", answer: jsonAt(200, with("expires_in", 0)), check: wantResponseError(200)},
		{name: "expires_in missing", answer: jsonAt(200, with("expires_in", nil)), check: wantResponseError(200)},
		{name: "expires_in not a number", answer: jsonAt(200, with("expires_in", "soon")), check: wantResponseError(200)},
		{name: "HTML", answer: htmlAt(200), check: wantResponseError(200)},
		{name: "HTML 500", answer: htmlAt(500), check: wantResponseError(500)},
		{name: "unauthorized_client", answer: jsonAt(400, map[string]any{"error": "unauthorized_client"}), check: wantOAuthError("unauthorized_client")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := &tokenServer{t: t, answer: tt.answer}
				c := &Client{HTTP: handlerClient(srv)}
				got, err := c.DeviceAuth(t.Context(), deviceApp("https://example.com"))
				noSecrets(t, err, deviceCodeSecret, "secret-looking")
				if diff := cmp.Diff(url.Values{"client_id": {"cid"}, "scope": {"docs.read offline_access"}}, srv.form); diff != "" {
					t.Errorf("form (-want +got):\n%s", diff)
				}
				if tt.check != nil {
					tt.check(t, err)
					return
				}
				wantNoErr(t, err)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("device code (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestDeviceAuthNotSupported(t *testing.T) {
	app := deviceApp("https://example.com")
	app.Metadata.DeviceAuthorizationEndpoint = ""
	_, err := (&Client{HTTP: failingClient()}).DeviceAuth(t.Context(), app)
	wantIs(ErrNotSupported)(t, err)
}

// step is one scripted answer of the fake token endpoint.
type step struct {
	status int
	body   map[string]any // nil with status 0: a transport error; nil otherwise: an HTML page
}

var (
	pending  = step{400, map[string]any{"error": "authorization_pending"}}
	slowDown = step{400, map[string]any{"error": "slow_down"}}
	denied   = step{400, map[string]any{"error": "access_denied", "error_description": "user said no to " + deviceCodeSecret}}
	expired  = step{400, map[string]any{"error": "expired_token"}}
	success  = step{200, map[string]any{"access_token": "at-device", "refresh_token": "rt-device", "token_type": "Bearer", "expires_in": 300}}
	fail500  = step{500, nil}
	netFail  = step{0, nil}
)

// script serves steps in order (the last one repeats) and records when each
// poll happened, relative to start.
type script struct {
	t     *testing.T
	start time.Time
	steps []step
	mu    sync.Mutex
	polls []time.Duration
}

func (s *script) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	n := len(s.polls)
	s.polls = append(s.polls, time.Since(s.start))
	s.mu.Unlock()
	st := s.steps[min(n, len(s.steps)-1)]
	if st.status == 0 {
		return nil, errors.New("connection reset by peer")
	}
	return handlerClient(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := form(s.t, r)
		want := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {deviceCodeSecret}, "client_id": {"cid"}}
		if diff := cmp.Diff(want, f); diff != "" {
			s.t.Errorf("poll form (-want +got):\n%s", diff)
		}
		if st.body == nil {
			writeHTML(w, st.status)
			return
		}
		writeJSON(w, st.status, st.body)
	})).Transport.RoundTrip(r)
}

func (s *script) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.polls...)
}

func TestPollDevice(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name      string
		steps     []step
		interval  time.Duration
		expiresIn time.Duration
		timeout   time.Duration // ctx deadline, 0 = none
		cancelAt  int           // cancel ctx in the cancelAt-th tick, 0 = never
		wantPolls []time.Duration
		wantTicks int
		check     errCheck
	}{
		{
			name:      "pending ×3 then success after exactly 4 intervals",
			steps:     []step{pending, pending, pending, success},
			interval:  5 * s,
			wantPolls: []time.Duration{5 * s, 10 * s, 15 * s, 20 * s},
			wantTicks: 3,
		},
		{
			name:      "zero interval means 5 s",
			steps:     []step{pending, success},
			wantPolls: []time.Duration{5 * s, 10 * s},
			wantTicks: 1,
		},
		{
			name:      "slow_down adds 5 s for this and every later poll",
			steps:     []step{pending, slowDown, pending, slowDown, success},
			interval:  5 * s,
			wantPolls: []time.Duration{5 * s, 10 * s, 20 * s, 30 * s, 45 * s},
			wantTicks: 4,
		},
		{
			name:      "expiry ends it with expired_token",
			steps:     []step{pending},
			interval:  5 * s,
			expiresIn: 12 * s,
			wantPolls: []time.Duration{5 * s, 10 * s},
			wantTicks: 2,
			check:     wantOAuthError("expired_token"),
		},
		{
			name:      "expiry on a poll boundary does not poll",
			steps:     []step{pending},
			interval:  5 * s,
			expiresIn: 10 * s,
			wantPolls: []time.Duration{5 * s},
			wantTicks: 1,
			check:     wantOAuthError("expired_token"),
		},
		{
			name:      "server says expired_token",
			steps:     []step{pending, expired},
			interval:  5 * s,
			wantPolls: []time.Duration{5 * s, 10 * s},
			wantTicks: 1,
			check:     wantOAuthError("expired_token"),
		},
		{
			name:      "access_denied",
			steps:     []step{pending, denied},
			interval:  5 * s,
			wantPolls: []time.Duration{5 * s, 10 * s},
			wantTicks: 1,
			check:     wantOAuthError("access_denied"),
		},
		{
			name:      "other OAuth errors end it",
			steps:     []step{{400, map[string]any{"error": "invalid_client"}}},
			interval:  5 * s,
			wantPolls: []time.Duration{5 * s},
			check:     wantOAuthError("invalid_client"),
		},
		{
			name:      "a 500 then success recovers",
			steps:     []step{fail500, success},
			interval:  5 * s,
			wantPolls: []time.Duration{5 * s, 10 * s},
			wantTicks: 1,
		},
		{
			name:      "network errors and 500s interleaved with pending recover",
			steps:     []step{netFail, fail500, netFail, fail500, pending, netFail, fail500, netFail, fail500, success},
			interval:  5 * s,
			wantPolls: []time.Duration{5 * s, 10 * s, 15 * s, 20 * s, 25 * s, 30 * s, 35 * s, 40 * s, 45 * s, 50 * s},
			wantTicks: 9,
		},
		{
			name:      "5 consecutive 500s give up",
			steps:     []step{pending, fail500},
			interval:  5 * s,
			wantPolls: []time.Duration{5 * s, 10 * s, 15 * s, 20 * s, 25 * s, 30 * s},
			wantTicks: 5,
			check:     wantResponseError(500),
		},
		{
			name:      "5 consecutive network errors give up",
			steps:     []step{netFail},
			interval:  5 * s,
			wantPolls: []time.Duration{5 * s, 10 * s, 15 * s, 20 * s, 25 * s},
			wantTicks: 4,
			check:     wantNetworkError,
		},
		{
			name:      "an HTML 200 is not retried",
			steps:     []step{{200, nil}},
			interval:  5 * s,
			wantPolls: []time.Duration{5 * s},
			check:     wantResponseError(200),
		},
		{
			name:      "ctx canceled while waiting",
			steps:     []step{pending},
			interval:  5 * s,
			cancelAt:  2,
			wantPolls: []time.Duration{5 * s, 10 * s},
			wantTicks: 2,
			check:     wantIs(context.Canceled),
		},
		{
			name:      "ctx deadline while waiting",
			steps:     []step{pending},
			interval:  5 * s,
			timeout:   7 * s,
			wantPolls: []time.Duration{5 * s},
			wantTicks: 1,
			check:     wantIs(context.DeadlineExceeded),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				sc := &script{t: t, start: start, steps: tt.steps}
				c := &Client{HTTP: &http.Client{Transport: sc}}
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tt.timeout > 0 {
					ctx, cancel = context.WithTimeout(ctx, tt.timeout)
					defer cancel()
				}
				expiresIn := tt.expiresIn
				if expiresIn == 0 {
					expiresIn = 15 * time.Minute
				}
				dc := &DeviceCode{DeviceCode: deviceCodeSecret, UserCode: "U", VerificationURI: "https://example.com/device", Expiry: start.Add(expiresIn), Interval: tt.interval}
				ticks := 0
				tok, err := c.PollDevice(ctx, deviceApp("https://example.com"), dc, func() {
					ticks++
					if ticks == tt.cancelAt {
						cancel()
					}
				})
				end := time.Since(start)
				noSecrets(t, err, deviceCodeSecret, "at-device", "rt-device", "secret-looking")

				// Nothing polls after PollDevice returned.
				time.Sleep(time.Hour)
				synctest.Wait()
				if diff := cmp.Diff(tt.wantPolls, sc.got()); diff != "" {
					t.Errorf("poll times (-want +got):\n%s", diff)
				}
				if ticks != tt.wantTicks {
					t.Errorf("tick called %d times, want %d", ticks, tt.wantTicks)
				}
				if tt.check != nil {
					tt.check(t, err)
					return
				}
				wantNoErr(t, err)
				if last := tt.wantPolls[len(tt.wantPolls)-1]; end != last {
					t.Errorf("returned after %v, want %v", end, last)
				}
				want := &tokenView{AccessToken: "at-device", RefreshToken: "rt-device", TokenType: "Bearer", Expiry: start.Add(end + 300*time.Second)}
				if diff := cmp.Diff(want, view(tok)); diff != "" {
					t.Errorf("token (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestPollDeviceExpiryTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		sc := &script{t: t, start: start, steps: []step{pending}}
		dc := &DeviceCode{DeviceCode: deviceCodeSecret, Expiry: start.Add(12 * time.Second), Interval: 5 * time.Second}
		_, err := (&Client{HTTP: &http.Client{Transport: sc}}).PollDevice(t.Context(), deviceApp("https://example.com"), dc, nil)
		wantOAuthError("expired_token")(t, err)
		if got := time.Since(start); got != 12*time.Second {
			t.Errorf("gave up after %v, want 12s (the expiry)", got)
		}
	})
}
