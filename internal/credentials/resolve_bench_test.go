package credentials_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/credentials/credtest"
)

// errBenchKeyring fails every keyring call: the benchmarks use the file store.
var errBenchKeyring = errors.New("no keyring in benchmarks")

func benchEnv(vars map[string]string, store func() (*credentials.Store, error)) *credentials.Provider {
	return &credentials.Provider{
		Env:   credentials.Env{Name: "sesame", Getenv: func(k string) string { return vars[k] }, GOOS: "linux"},
		Store: store,
	}
}

// BenchmarkResolveEnv is `auth token` with SESAME_TOKEN set: no store, no
// file, no allocation beyond the credential.
func BenchmarkResolveEnv(b *testing.B) {
	e := benchEnv(map[string]string{
		"SESAME_TOKEN":   "sesame_live_0123456789abcdef0123456789abcdef",
		"SESAME_API_URL": "https://api.example.com",
	}, func() (*credentials.Store, error) {
		b.Fatal("the env token opened the store")
		return nil, nil
	})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Resolve(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResolveStored is `auth token` from a stored login in the config
// file (storage "file"), among a few other APIs: one read and parse of
// config.json.
func BenchmarkResolveStored(b *testing.B) {
	dir := b.TempDir()
	st := &credentials.Store{Dir: dir, Service: "sesame", Keyring: &credtest.Keyring{Err: errBenchKeyring}, Storage: credentials.StorageFile, Now: time.Now}
	ctx := context.Background()
	for _, api := range []string{"https://api.other.example", "https://api.third.example", "https://api.example.com"} {
		_, err := st.Save(ctx, &config.Login{
			APIURL:       api,
			AccessToken:  "dat_0123456789abcdef0123456789abcdef",
			RefreshToken: "drt_0123456789abcdef0123456789abcdef",
			Issuer:       "https://example.com", ClientID: "client-0123456789", TokenType: "Bearer",
			Scopes: []string{"documents.read", "profile.read", "offline_access"}, User: "dev",
			ExpiresAt: time.Now().Add(time.Hour), Method: "device",
		}, true)
		if err != nil {
			b.Fatal(err)
		}
	}
	e := benchEnv(map[string]string{}, func() (*credentials.Store, error) { return st, nil })
	b.ReportAllocs()
	for b.Loop() {
		c, err := e.Resolve(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if c.Source != credentials.SourceConfigFile || c.APIURL != "https://api.example.com" {
			b.Fatalf("resolved %s from %s, want the config file's current API", c.APIURL, c.Source)
		}
	}
}
