package credentials_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
)

// mcMinter is a MintFunc that counts its calls and records the issuer
// hints it was given.
type mcMinter struct {
	mu    sync.Mutex
	now   func() time.Time
	ttl   time.Duration
	n     int
	hints []string
	err   error
}

func (m *mcMinter) mint(_ context.Context, issuer string) (*credentials.Minted, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hints = append(m.hints, issuer)
	if m.err != nil {
		return nil, m.err
	}
	m.n++
	out := &credentials.Minted{Issuer: "https://issuer.example", AccessToken: fmt.Sprintf("tok-%d", m.n)}
	if m.ttl > 0 {
		out.ExpiresAt = m.now().Add(m.ttl)
	}
	return out, nil
}

func TestMintCacheReuseAndExpiry(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	m := &mcMinter{now: clock, ttl: time.Hour}
	cache := &credentials.MintCache{Dir: dir, Now: clock}
	const api = "https://api.example"

	type got struct {
		Token  string
		Cached bool
		Hints  []string
	}
	steps := []struct {
		name    string
		advance time.Duration
		client  string
		scopes  []string
		want    got
	}{
		{"first run mints", 0, "ci", []string{"b", "a"}, got{"tok-1", false, []string{""}}},
		{"same scopes in another order: cached, no mint", time.Minute, "ci", []string{"a", "b", "a"}, got{"tok-1", true, nil}},
		{"other scopes: another token", 0, "ci", []string{"a"}, got{"tok-2", false, []string{""}}},
		{"other client: another token", 0, "other", []string{"a"}, got{"tok-3", false, []string{""}}},
		{"still more than 60s left: cached", 57 * time.Minute, "ci", []string{"a", "b"}, got{"tok-1", true, nil}},
		{"within 60s of expiry: minted again with the known issuer", 90 * time.Second, "ci", []string{"b", "a"}, got{"tok-4", false, []string{"https://issuer.example"}}},
		{"no scopes", 0, "ci", nil, got{"tok-5", false, []string{""}}},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		m.hints = nil
		tok, err := cache.Token(t.Context(), api, s.client, s.scopes, m.mint)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if diff := cmp.Diff(s.want, got{tok.AccessToken, tok.Cached, m.hints}); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s.name, diff)
		}
	}

	// Two hours later everything has expired: the next mint drops every
	// expired entry, whatever its request.
	now = now.Add(2 * time.Hour)
	if _, err := cache.Token(t.Context(), api, "ci", []string{"a"}, m.mint); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k, e := range cfg.Minted {
		keys = append(keys, k+" => "+e.AccessToken)
	}
	want := []string{"api=https%3A%2F%2Fapi.example&client_id=ci&issuer=https%3A%2F%2Fissuer.example&scope=a => tok-6"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("cache after pruning (-want +got):\n%s", diff)
	}
	fi, err := os.Stat(config.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("config.json mode %04o, want 0600", fi.Mode().Perm())
	}
}

func TestMintCacheKeyedByAPI(t *testing.T) {
	// The same client at two APIs never shares a token: a token minted for
	// one API is not sent to another.
	dir := t.TempDir()
	m := &mcMinter{now: time.Now, ttl: time.Hour}
	cache := &credentials.MintCache{Dir: dir}
	a, err := cache.Token(t.Context(), "https://a.example", "ci", nil, m.mint)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cache.Token(t.Context(), "https://b.example", "ci", nil, m.mint)
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessToken == b.AccessToken {
		t.Errorf("both APIs got %s", a.AccessToken)
	}
}

func TestMintCacheWithoutExpiry(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	m := &mcMinter{now: clock} // no expires_in
	cache := &credentials.MintCache{Dir: dir, Now: clock}
	var got []string
	for _, step := range []time.Duration{0, credentials.NoExpiryReuse - credentials.RefreshMargin - time.Second, 2 * time.Second} {
		now = now.Add(step)
		tok, err := cache.Token(t.Context(), "https://api.example", "ci", nil, m.mint)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tok.AccessToken)
	}
	if diff := cmp.Diff([]string{"tok-1", "tok-1", "tok-2"}, got); diff != "" {
		t.Errorf("tokens (-want +got):\n%s", diff)
	}
}

func TestMintCacheConcurrentMintsOnce(t *testing.T) {
	dir := t.TempDir()
	m := &mcMinter{now: time.Now, ttl: time.Hour}
	cache := &credentials.MintCache{Dir: dir}
	const n = 8
	toks := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tok, err := cache.Token(t.Context(), "https://api.example", "ci", []string{"a"}, m.mint)
			if err != nil {
				t.Error(err)
				return
			}
			toks[i] = tok.AccessToken
		})
	}
	wg.Wait()
	if m.n != 1 {
		t.Errorf("minted %d tokens, want 1", m.n)
	}
	if want := slices.Repeat([]string{"tok-1"}, n); !slices.Equal(toks, want) {
		t.Errorf("tokens %v, want %v", toks, want)
	}
}

func TestMintCacheFailures(t *testing.T) {
	boom := errors.New("boom")
	for _, tt := range []struct {
		name      string
		setup     func(t *testing.T) string // returns the config dir
		mintErr   error
		wantErr   error
		wantToken string
		wantWarn  string
		wantFile  string // config.json afterwards, when set
	}{
		{
			name:    "mint error: returned, nothing cached",
			setup:   func(t *testing.T) string { return t.TempDir() },
			mintErr: boom,
			wantErr: boom,
		},
		{
			name: "config dir is a file: minted anyway, with a warning",
			setup: func(t *testing.T) string {
				p := filepath.Join(t.TempDir(), "file")
				if err := os.WriteFile(p, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			},
			wantToken: "tok-1",
			wantWarn:  "warning: cannot cache the client-credentials token: ",
		},
		{
			name: "config.json does not parse: minted anyway, with a warning, file left alone",
			setup: func(t *testing.T) string {
				dir := t.TempDir()
				if err := os.WriteFile(config.Path(dir), []byte("{not json"), 0o600); err != nil {
					t.Fatal(err)
				}
				return dir
			},
			wantToken: "tok-1",
			wantWarn:  "warning: cannot cache the client-credentials token: config file ",
			wantFile:  "{not json",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.setup(t)
			var warn bytes.Buffer
			m := &mcMinter{now: time.Now, ttl: time.Hour, err: tt.mintErr}
			cache := &credentials.MintCache{Dir: dir, Warn: &warn}
			tok, err := cache.Token(t.Context(), "https://api.example", "ci", nil, m.mint)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tok != nil && tok.AccessToken != tt.wantToken {
				t.Errorf("token %q, want %q", tok.AccessToken, tt.wantToken)
			}
			if !strings.HasPrefix(warn.String(), tt.wantWarn) || (tt.wantWarn == "") != (warn.Len() == 0) {
				t.Errorf("warning %q, want prefix %q", warn.String(), tt.wantWarn)
			}
			if tt.wantFile != "" {
				data, err := os.ReadFile(config.Path(dir))
				if err != nil || string(data) != tt.wantFile {
					t.Errorf("config.json = %q (%v), want %q", data, err, tt.wantFile)
				}
			}
			if tt.mintErr != nil {
				if cfg, err := config.Load(dir); err == nil && len(cfg.Minted) > 0 {
					t.Errorf("a failed mint cached %v", cfg.Minted)
				}
			}
		})
	}
}
