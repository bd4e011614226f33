package config

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestPending(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sesame")
	pf, err := LoadPending(dir)
	if err != nil || len(pf.Logins) != 0 {
		t.Fatalf("LoadPending of nothing = %v, %v", pf, err)
	}
	exp := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	err = UpdatePending(t.Context(), dir, func(pf *Pending) error {
		pf.Logins["https://api.example.com"] = &PendingLogin{Issuer: "https://example.com", ClientID: "c", DeviceCode: "dc", UserCode: "AB<CD", ExpiresAt: exp, Interval: 5, Method: "device"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, PendingFileName)
	if fi, err := os.Stat(p); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("stat %s: %v %v", p, fi, err)
	}
	pf, err = LoadPending(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := pf.Logins["https://api.example.com"]
	if got == nil || got.APIURL != "https://api.example.com" || got.DeviceCode != "dc" || got.UserCode != "AB<CD" || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("read back %+v", got)
	}
	// the last one removed: no file left
	if err := UpdatePending(t.Context(), dir, func(pf *Pending) error {
		delete(pf.Logins, "https://api.example.com")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s still there: %v", p, err)
	}
	// garbage is a ParseError
	if err := os.WriteFile(p, []byte("{oops"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPending(dir); !errors.As(err, new(*ParseError)) {
		t.Fatalf("LoadPending of garbage = %v", err)
	}
}
