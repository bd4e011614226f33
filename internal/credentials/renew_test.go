package credentials

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/oauth"
)

// renewal runs renewStored as Provider.renew does, with a fake grant.
func renewal(t *testing.T, st *Store, now time.Time) *Provider {
	t.Helper()
	return &Provider{Env: Env{Name: "sesame", Getenv: func(string) string { return "" }}, Now: func() time.Time { return now }, Store: func() (*Store, error) { return st, nil }}
}

func TestRenewStoredRefresh(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	expired := now.Add(-time.Minute)
	const api = "https://api.example.com"
	setup := func(t *testing.T) (*Store, *Provider, *config.Login) {
		st := newTestStore(t, &memKeyring{})
		st.Now = func() time.Time { return now }
		if _, err := st.Save(ctx, &config.Login{APIURL: api, AccessToken: "at1", RefreshToken: "rt1", ExpiresAt: expired}, true); err != nil {
			t.Fatal(err)
		}
		seen, err := st.Load(api, "")
		if err != nil {
			t.Fatal(err)
		}
		return st, renewal(t, st, now), seen
	}
	t.Run("rotates and writes before returning", func(t *testing.T) {
		st, p, seen := setup(t)
		next, err := p.renewStored(ctx, st, seen, false, func(_ context.Context, cur *config.Login) (*oauth2.Token, error) {
			if cur.RefreshToken != "rt1" {
				t.Errorf("refreshed with %q", cur.RefreshToken)
			}
			return &oauth2.Token{AccessToken: "at2", RefreshToken: "rt2", Expiry: now.Add(time.Hour)}, nil
		})
		if err != nil || next.AccessToken != "at2" {
			t.Fatalf("renewStored = %+v, %v", next, err)
		}
		got, _ := st.Load(api, "")
		if got.AccessToken != "at2" || got.RefreshToken != "rt2" || !got.ExpiresAt.Equal(now.Add(time.Hour)) {
			t.Errorf("stored %+v", got)
		}
	})
	t.Run("non-rotating server keeps the old refresh token", func(t *testing.T) {
		st, p, seen := setup(t)
		_, err := p.renewStored(ctx, st, seen, false, func(context.Context, *config.Login) (*oauth2.Token, error) {
			return &oauth2.Token{AccessToken: "at2", Expiry: now.Add(time.Hour)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := st.Load(api, "")
		if got.RefreshToken != "rt1" {
			t.Errorf("refresh token = %q", got.RefreshToken)
		}
	})
	t.Run("a refresh never changes the current API", func(t *testing.T) {
		st, p, seen := setup(t)
		if _, err := st.Save(ctx, &config.Login{APIURL: "https://other.example.com", AccessToken: "o"}, true); err != nil {
			t.Fatal(err)
		}
		if _, err := p.renewStored(ctx, st, seen, false, func(context.Context, *config.Login) (*oauth2.Token, error) {
			return &oauth2.Token{AccessToken: "at2", Expiry: now.Add(time.Hour)}, nil
		}); err != nil {
			t.Fatal(err)
		}
		if cur, _ := st.CurrentAPI(); cur != "https://other.example.com" {
			t.Errorf("current API = %q after a refresh of %s", cur, api)
		}
	})
	t.Run("a sibling already refreshed: no request", func(t *testing.T) {
		st, p, seen := setup(t)
		if _, err := st.Save(ctx, &config.Login{APIURL: api, AccessToken: "sibling", RefreshToken: "rt2", Storage: config.StorageFile, ExpiresAt: now.Add(time.Hour)}, false); err != nil {
			t.Fatal(err)
		}
		next, err := p.renewStored(ctx, st, seen, false, func(context.Context, *config.Login) (*oauth2.Token, error) {
			t.Error("refreshed again")
			return nil, errors.New("no")
		})
		if err != nil || next.AccessToken != "sibling" {
			t.Fatalf("renewStored = %+v, %v", next, err)
		}
	})
	t.Run("invalid_grant ends the session and clears the login", func(t *testing.T) {
		st, p, seen := setup(t)
		_, err := p.renewStored(ctx, st, seen, false, func(context.Context, *config.Login) (*oauth2.Token, error) {
			return nil, &oauth.OAuthError{Op: "refresh", Status: 400, Code: "invalid_grant"}
		})
		if !errors.Is(err, ErrSessionEnded) {
			t.Fatalf("err = %v", err)
		}
		if _, err := st.Load(api, ""); !errors.Is(err, ErrNotLoggedIn) {
			t.Errorf("login kept: %v", err)
		}
	})
	t.Run("a network failure leaves the store untouched", func(t *testing.T) {
		st, p, seen := setup(t)
		before, _ := os.ReadFile(st.ConfigPath())
		netErr := errors.New("connection refused")
		_, err := p.renewStored(ctx, st, seen, false, func(context.Context, *config.Login) (*oauth2.Token, error) { return nil, netErr })
		if !errors.Is(err, netErr) {
			t.Fatalf("err = %v", err)
		}
		after, _ := os.ReadFile(st.ConfigPath())
		if !bytes.Equal(before, after) {
			t.Error("config.json changed")
		}
	})
	t.Run("a hostile token is refused and nothing stored", func(t *testing.T) {
		st, p, seen := setup(t)
		before, _ := os.ReadFile(st.ConfigPath())
		_, err := p.renewStored(ctx, st, seen, false, func(context.Context, *config.Login) (*oauth2.Token, error) {
			return &oauth2.Token{AccessToken: "at2\r\nX-Evil: 1", Expiry: now.Add(time.Hour)}, nil
		})
		if err == nil {
			t.Fatal("a token with CR LF was accepted")
		}
		after, _ := os.ReadFile(st.ConfigPath())
		if !bytes.Equal(before, after) {
			t.Error("config.json changed")
		}
	})
	t.Run("no refresh token, not renewable: session ended", func(t *testing.T) {
		st := newTestStore(t, &memKeyring{})
		st.Now = func() time.Time { return now }
		if _, err := st.Save(ctx, &config.Login{APIURL: api, AccessToken: "at1", ExpiresAt: expired}, true); err != nil {
			t.Fatal(err)
		}
		p := renewal(t, st, now)
		if _, err := p.Token(ctx); !errors.Is(err, ErrSessionEnded) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRenewStoredRemint(t *testing.T) {
	const api = "https://api.example"
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	boom := errors.New("boom")
	for _, tt := range []struct {
		name       string
		expiresIn  time.Duration // of the stored token, from now
		force      bool
		sibling    bool // another process renewed it since it was read
		loggedOut  bool
		fnErr      error
		wantErr    error
		wantCalls  int
		wantToken  string // returned and stored
		wantExpiry time.Time
	}{
		{name: "expiring: minted again", expiresIn: 30 * time.Second, wantCalls: 1, wantToken: "new", wantExpiry: start.Add(time.Hour)},
		{name: "not expiring: kept", expiresIn: time.Hour, wantToken: "old", wantExpiry: start.Add(time.Hour)},
		{name: "forced (a 401): minted again", expiresIn: time.Hour, force: true, wantCalls: 1, wantToken: "new", wantExpiry: start.Add(time.Hour)},
		{name: "a sibling renewed it: its token, no request", expiresIn: 30 * time.Second, sibling: true, wantToken: "sibling", wantExpiry: start.Add(2 * time.Hour)},
		{name: "failure: the stored login is left alone", expiresIn: 30 * time.Second, fnErr: boom, wantErr: boom, wantCalls: 1, wantToken: "old", wantExpiry: start.Add(30 * time.Second)},
		{name: "logged out meanwhile", expiresIn: 30 * time.Second, loggedOut: true, wantErr: ErrSessionEnded},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &Store{Dir: t.TempDir(), Service: "sesame", Storage: StorageFile, Now: func() time.Time { return start }}
			seen := &config.Login{APIURL: api, AccessToken: "old",
				Issuer: "https://issuer.example", ClientID: "ci", Method: MethodClientCredentials, Confidential: true,
				Scopes: []string{"a"}, ExpiresAt: start.Add(tt.expiresIn),
			}
			if _, err := st.Save(t.Context(), seen, true); err != nil {
				t.Fatal(err)
			}
			if tt.sibling {
				next := *seen
				next.AccessToken, next.ExpiresAt = "sibling", start.Add(2*time.Hour)
				if _, err := st.Save(t.Context(), &next, false); err != nil {
					t.Fatal(err)
				}
			}
			if tt.loggedOut {
				if _, err := st.Delete(t.Context(), api, "", false); err != nil {
					t.Fatal(err)
				}
			}
			calls := 0
			fn := func(_ context.Context, cur *config.Login) (*oauth2.Token, error) {
				calls++
				if diff := cmp.Diff([]string{"a"}, cur.Scopes); diff != "" {
					t.Errorf("scopes (-want +got):\n%s", diff)
				}
				if tt.fnErr != nil {
					return nil, tt.fnErr
				}
				return &oauth2.Token{AccessToken: "new", TokenType: "Bearer", Expiry: start.Add(time.Hour)}, nil
			}
			got, err := renewal(t, st, start).renewStored(t.Context(), st, seen, tt.force, fn)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls, tt.wantCalls)
			}
			if tt.loggedOut {
				return
			}
			if err == nil && got.AccessToken != tt.wantToken {
				t.Errorf("returned %q, want %q", got.AccessToken, tt.wantToken)
			}
			stored, err := st.Load(api, "")
			if err != nil {
				t.Fatal(err)
			}
			type view struct {
				Token, Method string
				Expiry        time.Time
				Refresh       string
			}
			want := view{tt.wantToken, MethodClientCredentials, tt.wantExpiry, ""}
			if diff := cmp.Diff(want, view{stored.AccessToken, stored.Method, stored.ExpiresAt, stored.RefreshToken}); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
		})
	}
}
