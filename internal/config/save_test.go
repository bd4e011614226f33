package config

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A hostile login's token of "<" is written as "<", not "\u003c" (6 bytes
// each), and reads back the same.
func TestSaveDoesNotEscapeHTML(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sesame")
	tok := strings.Repeat("<>&", 1<<18) // 768 KiB
	cfg := &File{APIs: map[string]*Login{"https://api.example.com/?a=1&b=<2>": {Storage: StorageFile, AccessToken: tok}}}
	if err := Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(`\u003c`)) || bytes.Contains(data, []byte(`\u0026`)) {
		t.Error("HTML-escaped")
	}
	if len(data) > len(tok)+1024 {
		t.Errorf("%d bytes for a %d-byte token", len(data), len(tok))
	}
	if !bytes.HasSuffix(data, []byte("}\n")) || !bytes.Contains(data, []byte("\n  \"apis\": {\n")) {
		t.Errorf("not indented JSON ending in a newline:\n%.200s", data)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.APIs["https://api.example.com/?a=1&b=<2>"].AccessToken != tok {
		t.Error("token changed on the way back")
	}
}

// Save never writes what Load would refuse: one oversized login leaves
// config.json, and every other login in it, as it was.
func TestSaveRefusesWhatLoadCannotRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sesame")
	ctx := context.Background()
	if err := Update(ctx, dir, func(f *File) error {
		f.APIs = map[string]*Login{"https://a.example.com": {Storage: StorageFile, AccessToken: "keep"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(Path(dir))
	for _, tt := range []struct {
		name string
		tok  string
		ok   bool
	}{
		{"just under", strings.Repeat("a", MaxFileSize-400), true},
		{"just over", strings.Repeat("a", MaxFileSize), false},
		{"escaped would be over", strings.Repeat("\x01", MaxFileSize/6+1), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := Update(ctx, dir, func(f *File) error {
				f.APIs["https://b.example.com"] = &Login{Storage: StorageFile, AccessToken: tt.tok}
				return nil
			})
			var tl *TooLargeError
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := Load(dir); err != nil {
					t.Fatalf("Load after a Save: %v", err)
				}
				if err := os.WriteFile(Path(dir), before, 0o600); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.As(err, &tl) || tl.Max != MaxFileSize || tl.Size <= MaxFileSize || tl.Path != Path(dir) {
				t.Fatalf("Update = %v, want a *TooLargeError", err)
			}
			if strings.Contains(err.Error(), "aaaa") {
				t.Errorf("error shows the content: %.100s", err)
			}
			after, _ := os.ReadFile(Path(dir))
			if !bytes.Equal(after, before) {
				t.Error("config.json changed")
			}
			cfg, err := Load(dir)
			if err != nil || cfg.APIs["https://a.example.com"].AccessToken != "keep" {
				t.Errorf("the other login: %v", err)
			}
		})
	}
}

// A config.json past the cap (written by hand) is refused from its size,
// before it is read.
func TestLoadRefusesTooLargeFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sesame")
	if err := EnsureDir(dir); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(Path(dir), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 40); err != nil { // sparse: 1 TiB
		f.Close()
		t.Skipf("truncate: %v", err)
	}
	f.Close()
	var pe *ParseError
	if _, err := Load(dir); !errors.As(err, &pe) || !strings.Contains(err.Error(), "file is too large") {
		t.Fatalf("Load = %v", err)
	}
}

func TestLoadRefusesADirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sesame")
	if err := os.MkdirAll(Path(dir), 0o700); err != nil {
		t.Fatal(err)
	}
	var pe *ParseError
	if _, err := Load(dir); !errors.As(err, &pe) || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Load = %v", err)
	}
}
