package devissuer

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDeviceCodeEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name       string
		form       url.Values
		auth       auth
		header     map[string]string
		wantStatus int
		wantErr    string
	}{
		{name: "public client", auth: publicAuth, form: url.Values{"scope": {"documents.read offline_access"}}, wantStatus: 200},
		{name: "confidential basic", auth: basicAuth, form: url.Values{"scope": {"documents.read"}}, wantStatus: 200},
		{name: "confidential post", auth: postAuth, wantStatus: 200},
		{name: "unknown client", auth: auth{id: "nobody"}, wantStatus: 401, wantErr: "invalid_client"},
		{name: "no client", wantStatus: 401, wantErr: "invalid_client"},
		{name: "confidential without secret", auth: auth{id: confID}, wantStatus: 401, wantErr: "invalid_client"},
		{name: "wrong secret", auth: auth{id: confID, secret: "nope", basic: true}, wantStatus: 401, wantErr: "invalid_client"},
		{name: "public client with Authorization header", auth: auth{id: publicID, basic: true}, wantStatus: 400, wantErr: "invalid_request"},
		{name: "client without device grant", auth: auth{id: "ccless", secret: "x"}, wantStatus: 400, wantErr: "unauthorized_client"},
		{name: "unsupported scope", auth: publicAuth, form: url.Values{"scope": {"documents.read admin"}}, wantStatus: 400, wantErr: "invalid_scope"},
		{name: "repeated parameter", auth: publicAuth, form: url.Values{"scope": {"a", "b"}}, wantStatus: 400, wantErr: "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			r := e.post("/device/code", tc.form, tc.auth)
			if r.status != tc.wantStatus || r.oauthErr() != tc.wantErr {
				t.Fatalf("got %d %s, want %d %q", r.status, r.body, tc.wantStatus, tc.wantErr)
			}
			if r.status != 200 {
				return
			}
			m := r.json(t)
			uc, _ := m["user_code"].(string)
			if !regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`).MatchString(uc) {
				t.Errorf("user_code %q", uc)
			}
			if dc, _ := m["device_code"].(string); len(dc) != 43 {
				t.Errorf("device_code has %d characters, want 43", len(dc))
			}
			got := map[string]any{"verification_uri": m["verification_uri"], "verification_uri_complete": m["verification_uri_complete"], "expires_in": m["expires_in"], "interval": m["interval"]}
			want := map[string]any{
				"verification_uri":          e.issuer + "/device",
				"verification_uri_complete": e.issuer + "/device?user_code=" + uc,
				"expires_in":                600.0,
				"interval":                  5.0,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("form bodies only", func(t *testing.T) {
		e := newEnv(t, Options{})
		req, _ := http.NewRequest(http.MethodPost, e.issuer+"/device/code", strings.NewReader(`{"client_id":"cli"}`))
		req.Header.Set("Content-Type", "application/json")
		if r := e.do(req); r.status != 400 || r.oauthErr() != "invalid_request" {
			t.Errorf("got %d %s", r.status, r.body)
		}
	})
}

// TestDevicePoll walks the device token endpoint's answers with an injected clock.
func TestDevicePoll(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		// before the last poll: act on the server, clock and code
		setup   func(e *env, dc, uc string) string // returns the device code to poll with
		pollAs  auth
		wantErr string
	}{
		{name: "pending", wantErr: "authorization_pending"},
		{
			name: "approved",
			setup: func(e *env, dc, uc string) string {
				mustApprove(e, strings.ToLower(strings.ReplaceAll(uc, "-", "")), "alice")
				return dc
			},
		},
		{
			name: "denied",
			setup: func(e *env, dc, uc string) string {
				if err := e.s.Deny(uc); err != nil {
					e.t.Fatal(err)
				}
				return dc
			},
			wantErr: "access_denied",
		},
		{
			name:    "expired",
			setup:   func(e *env, dc, uc string) string { e.clock.Advance(10 * time.Minute); return dc },
			wantErr: "expired_token",
		},
		{
			name: "expired after approval",
			setup: func(e *env, dc, uc string) string {
				mustApprove(e, uc, "")
				e.clock.Advance(10 * time.Minute)
				return dc
			},
			wantErr: "expired_token",
		},
		{
			name:    "custom TTL not yet expired",
			opts:    Options{DeviceTTL: time.Minute},
			setup:   func(e *env, dc, uc string) string { e.clock.Advance(59 * time.Second); return dc },
			wantErr: "authorization_pending",
		},
		{
			name:    "custom TTL expired",
			opts:    Options{DeviceTTL: time.Minute},
			setup:   func(e *env, dc, uc string) string { e.clock.Advance(time.Minute); return dc },
			wantErr: "expired_token",
		},
		{name: "unknown code", setup: func(e *env, dc, uc string) string { return "nope" }, wantErr: "invalid_grant"},
		{name: "another client's code", pollAs: postAuth, wantErr: "invalid_grant"},
		{name: "slow_down injected", opts: Options{SlowDown: 1}, setup: func(e *env, dc, uc string) string { mustApprove(e, uc, ""); return dc }, wantErr: "slow_down"},
		{
			name: "polling too fast",
			setup: func(e *env, dc, uc string) string {
				if r := e.pollDevice(publicAuth, dc); r.oauthErr() != "authorization_pending" {
					e.t.Fatalf("first poll: %s", r.body)
				}
				e.clock.Advance(2 * time.Second)
				return dc
			},
			wantErr: "slow_down",
		},
		{
			name: "polling at the interval",
			setup: func(e *env, dc, uc string) string {
				e.pollDevice(publicAuth, dc)
				e.clock.Advance(5 * time.Second)
				return dc
			},
			wantErr: "authorization_pending",
		},
		{
			name: "interval grows after slow_down",
			setup: func(e *env, dc, uc string) string {
				e.pollDevice(publicAuth, dc)
				e.clock.Advance(time.Second)
				if r := e.pollDevice(publicAuth, dc); r.oauthErr() != "slow_down" {
					e.t.Fatalf("second poll: %s", r.body)
				}
				e.clock.Advance(5 * time.Second) // < 10s
				return dc
			},
			wantErr: "slow_down",
		},
		{
			name:    "auto-approve not yet",
			opts:    Options{AutoApprove: 3 * time.Second},
			setup:   func(e *env, dc, uc string) string { e.clock.Advance(2 * time.Second); return dc },
			wantErr: "authorization_pending",
		},
		{
			name:  "auto-approve",
			opts:  Options{AutoApprove: 3 * time.Second},
			setup: func(e *env, dc, uc string) string { e.clock.Advance(3 * time.Second); return dc },
		},
		{
			name: "single use",
			setup: func(e *env, dc, uc string) string {
				mustApprove(e, uc, "")
				if r := e.pollDevice(publicAuth, dc); r.status != 200 {
					e.t.Fatalf("first redemption: %s", r.body)
				}
				e.clock.Advance(5 * time.Second)
				return dc
			},
			wantErr: "invalid_grant",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts)
			dc, uc := e.deviceAuth(publicAuth, "documents.read offline_access")
			if tc.setup != nil {
				dc = tc.setup(e, dc, uc)
			}
			a := tc.pollAs
			if a.id == "" {
				a = publicAuth
			}
			r := e.pollDevice(a, dc)
			if got := r.oauthErr(); got != tc.wantErr {
				t.Fatalf("got %d %s, want %q", r.status, r.body, tc.wantErr)
			}
			if tc.wantErr != "" {
				if r.status != http.StatusBadRequest || r.header.Get("Cache-Control") != "no-store" {
					t.Errorf("error response: %d, Cache-Control %q", r.status, r.header.Get("Cache-Control"))
				}
				return
			}
			m := r.json(t)
			at, _ := m["access_token"].(string)
			rt, _ := m["refresh_token"].(string)
			if !strings.HasPrefix(at, "dat_") || !strings.HasPrefix(rt, "drt_") {
				t.Errorf("tokens lack their prefixes: %q %q", at[:4], rt[:4])
			}
			delete(m, "access_token")
			delete(m, "refresh_token")
			want := map[string]any{"token_type": "Bearer", "expires_in": 3600.0, "scope": "documents.read"}
			if diff := cmp.Diff(want, m); diff != "" {
				t.Errorf("token response (-want +got):\n%s", diff)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
			}
			if s := e.meStatus(at); s != 200 {
				t.Errorf("API with the new token: %d", s)
			}
		})
	}
}

func mustApprove(e *env, uc, user string) {
	e.t.Helper()
	if err := e.s.Approve(uc, user); err != nil {
		e.t.Fatal(err)
	}
}

func TestDeviceCodeReplayRevokesGrant(t *testing.T) {
	e := newEnv(t, Options{})
	dc, uc := e.deviceAuth(publicAuth, "documents.read offline_access")
	mustApprove(e, uc, "alice")
	r := e.pollDevice(publicAuth, dc)
	tok := r.json(t)
	if e.meStatus(tok["access_token"].(string)) != 200 {
		t.Fatal("token does not work")
	}
	e.clock.Advance(10 * time.Second)
	if r := e.pollDevice(publicAuth, dc); r.oauthErr() != "invalid_grant" {
		t.Fatalf("replay: %s", r.body)
	}
	if s := e.meStatus(tok["access_token"].(string)); s != 401 {
		t.Errorf("access token after replay: %d, want 401", s)
	}
	r = e.post("/token", url.Values{"grant_type": {grantRefresh}, "refresh_token": {tok["refresh_token"].(string)}}, publicAuth)
	if r.oauthErr() != "invalid_grant" {
		t.Errorf("refresh after replay: %s", r.body)
	}
}

func TestApproveDeny(t *testing.T) {
	e := newEnv(t, Options{})
	_, uc := e.deviceAuth(publicAuth, "")
	if err := e.s.Approve("BBBB-BBBB", ""); !errors.Is(err, ErrUnknownUserCode) {
		t.Errorf("unknown code: %v", err)
	}
	mustApprove(e, " "+strings.ToLower(uc)+" ", "")
	if err := e.s.Deny(uc); !errors.Is(err, ErrUserCodeUsed) {
		t.Errorf("deny after approve: %v", err)
	}
	_, uc2 := e.deviceAuth(publicAuth, "")
	e.clock.Advance(10 * time.Minute)
	if err := e.s.Approve(uc2, ""); !errors.Is(err, ErrUnknownUserCode) {
		t.Errorf("expired code: %v", err)
	}
}

func TestDevicePage(t *testing.T) {
	e := newEnv(t, Options{})
	dc, uc := e.deviceAuth(publicAuth, "documents.read offline_access")

	r := e.get(e.issuer + "/device?user_code=" + uc)
	for _, want := range []string{
		`id="approve" name="action" value="approve"`,
		`id="deny" name="action" value="deny"`,
		`name="user_code" value="` + uc + `"`,
		`name="username" value="dev"`,
		"Sesame CLI",
		"documents.read",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("device page lacks %q", want)
		}
	}
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("device page: %d %q", r.status, r.header.Get("Content-Type"))
	}
	if strings.Contains(r.body, "http") && strings.Contains(r.body, "src=") {
		t.Errorf("device page loads external assets")
	}

	submit := func(form url.Values) result {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+"/device", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return e.do(req)
	}
	for _, tc := range []struct {
		name       string
		form       url.Values
		wantStatus int
		wantText   string
	}{
		{"unknown code", url.Values{"user_code": {"BBBB-BBBB"}, "action": {"approve"}}, 400, "Unknown or expired code"},
		{"approve lower case without dash", url.Values{"user_code": {strings.ToLower(strings.ReplaceAll(uc, "-", ""))}, "action": {"approve"}, "username": {"bob"}}, 200, "Device approved"},
		{"already used", url.Values{"user_code": {uc}, "action": {"deny"}}, 400, "already"},
		{"no action", url.Values{"user_code": {uc}}, 400, "Choose approve or deny"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := submit(tc.form)
			if r.status != tc.wantStatus || !strings.Contains(r.body, tc.wantText) {
				t.Errorf("got %d %s, want %d %q", r.status, r.body, tc.wantStatus, tc.wantText)
			}
		})
	}
	// The approval was for bob.
	tok := e.pollDevice(publicAuth, dc).json(t)
	me := e.apiReq(http.MethodGet, "/v1/me", tok["access_token"].(string), "").json(t)
	if me["id"] != "bob" {
		t.Errorf("approved as %v, want bob", me["id"])
	}

	_, uc2 := e.deviceAuth(publicAuth, "")
	if r := submit(url.Values{"user_code": {uc2}, "action": {"deny"}}); r.status != 200 || !strings.Contains(r.body, "Device denied") {
		t.Errorf("deny: %d %s", r.status, r.body)
	}
}

// TestDeviceFlowOAuth2 drives the device flow with x/oauth2, as sesame does,
// in a synctest bubble.
func TestDeviceFlowOAuth2(t *testing.T) {
	for _, tc := range []struct {
		name        string
		opts        Options
		approve     func(s *Server, userCode string)
		wantErr     string
		wantElapsed time.Duration
		wantPolls   int
		wantUser    string
	}{
		{
			name:        "auto-approve",
			opts:        Options{Interval: 2 * time.Second, AutoApprove: 7 * time.Second},
			wantElapsed: 8 * time.Second, wantPolls: 4, wantUser: "dev",
		},
		{
			name: "a person approves",
			opts: Options{Interval: time.Second},
			approve: func(s *Server, uc string) {
				time.Sleep(2500 * time.Millisecond)
				if err := s.Approve(uc, "alice"); err != nil {
					panic(err)
				}
			},
			wantElapsed: 3 * time.Second, wantPolls: 3, wantUser: "alice",
		},
		{
			name:        "slow_down",
			opts:        Options{Interval: time.Second, AutoApprove: time.Second, SlowDown: 2},
			wantElapsed: 1*time.Second + 6*time.Second + 11*time.Second, wantPolls: 3, wantUser: "dev",
		},
		{
			name: "denied",
			opts: Options{Interval: time.Second},
			approve: func(s *Server, uc string) {
				time.Sleep(1500 * time.Millisecond)
				if err := s.Deny(uc); err != nil {
					panic(err)
				}
			},
			wantErr: "access_denied", wantElapsed: 2 * time.Second, wantPolls: 2,
		},
		{
			name:    "latency",
			opts:    Options{Interval: time.Second, AutoApprove: time.Second, Latency: 300 * time.Millisecond},
			wantErr: "", wantElapsed: 300*time.Millisecond + time.Second + 300*time.Millisecond, wantPolls: 1, wantUser: "dev",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, ctx, hc := memServer(t, tc.opts)
				conf := memConfig("documents.read", "offline_access")
				start := time.Now()
				da, err := conf.DeviceAuth(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if tc.approve != nil {
					go tc.approve(s, da.UserCode)
				}
				tok, err := conf.DeviceAccessToken(ctx, da)
				elapsed := time.Since(start)
				if tc.wantErr != "" {
					if got := oauthErrorCode(err); got != tc.wantErr {
						t.Fatalf("error %v, want %s", err, tc.wantErr)
					}
				} else if err != nil {
					t.Fatal(err)
				}
				if elapsed != tc.wantElapsed {
					t.Errorf("took %v, want %v", elapsed, tc.wantElapsed)
				}
				if got := s.Counters()["token:"+grantDevice]; got != tc.wantPolls {
					t.Errorf("%d polls, want %d", got, tc.wantPolls)
				}
				if tc.wantErr != "" {
					return
				}
				if tok.RefreshToken == "" || tok.TokenType != "Bearer" || tok.Extra("scope") != "documents.read" {
					t.Errorf("token: refresh %v, type %q, scope %v", tok.RefreshToken != "", tok.TokenType, tok.Extra("scope"))
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.test/v1/me", nil)
				tok.SetAuthHeader(req)
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var me struct{ ID string }
				if err := json.NewDecoder(resp.Body).Decode(&me); err != nil || resp.StatusCode != 200 || me.ID != tc.wantUser {
					t.Errorf("/v1/me: %d %+v %v, want id %s", resp.StatusCode, me, err, tc.wantUser)
				}
			})
		})
	}
}
