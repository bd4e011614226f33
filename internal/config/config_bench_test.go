package config

import (
	"context"
	"testing"
	"time"
)

// benchFile is a config with three logins and registered clients.
func benchFile() *File {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := &File{Version: Version, CurrentAPI: "https://api.example.com", APIs: map[string]*Login{}, Clients: map[string]*RegisteredClient{}}
	for _, host := range []string{"api.example.com", "api.other.example", "api.third.example"} {
		cfg.APIs["https://"+host] = &Login{
			Storage: StorageFile, Issuer: "https://" + host[4:], ClientID: "client-0123456789",
			Scopes: []string{"documents.read", "profile.read", "offline_access"}, TokenType: "Bearer",
			ExpiresAt: at.Add(time.Hour), User: "dev", Method: "device", UpdatedAt: at,
			AccessToken:  "dat_0123456789abcdef0123456789abcdef",
			RefreshToken: "drt_0123456789abcdef0123456789abcdef", HasRefreshToken: true,
		}
		cfg.Clients["https://"+host[4:]] = &RegisteredClient{ClientID: "client-0123456789", RegisteredAt: at}
	}
	return cfg
}

// BenchmarkConfigLoad reads and parses config.json (every stored-login run).
func BenchmarkConfigLoad(b *testing.B) {
	dir := b.TempDir()
	if err := Save(dir, benchFile()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := Load(dir)
		if err != nil {
			b.Fatal(err)
		}
		if len(cfg.APIs) != 3 {
			b.Fatalf("loaded %d logins, want 3", len(cfg.APIs))
		}
	}
}

// BenchmarkConfigSave writes config.json atomically: temp file, fsync,
// rename, fsync of the dir (every login and refresh).
func BenchmarkConfigSave(b *testing.B) {
	dir := b.TempDir()
	cfg := benchFile()
	b.ReportAllocs()
	for b.Loop() {
		if err := Save(dir, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConfigUpdate is a read-modify-write under the cross-process lock.
func BenchmarkConfigUpdate(b *testing.B) {
	dir := b.TempDir()
	if err := Save(dir, benchFile()); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		err := Update(ctx, dir, func(cfg *File) error {
			cfg.APIs["https://api.example.com"].UpdatedAt = time.Now().UTC()
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
