package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A writer killed between its temp file and its rename leaves a temp file
// that may hold tokens; the next Save (under the lock) removes it.
func TestSaveRemovesTempFilesOfKilledWriters(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "."+FileName+".tmp-123456")
	if err := os.WriteFile(stale, []byte(`{"apis":{"x":{"accessToken":"leftover"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, ".other.tmp-1")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Update(context.Background(), dir, func(*File) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file that is not ours was removed: %v", err)
	}
}

// A config dir whose parent is a file (ENOTDIR: honest even for root, who
// ignores permission bits) reads as empty and fails to write with a
// *DirError that maps like ErrNoConfigDir.
func TestUnusableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "afile")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "sesame")
	cfg, err := Load(dir)
	if err != nil || len(cfg.APIs) != 0 {
		t.Fatalf("Load = %+v, %v; want an empty config", cfg, err)
	}
	for name, err := range map[string]error{
		"Save":   Save(dir, &File{}),
		"Update": Update(context.Background(), dir, func(*File) error { return nil }),
	} {
		var de *DirError
		if !errors.As(err, &de) || !errors.Is(err, ErrNoConfigDir) {
			t.Errorf("%s: %v (%T), want a *DirError that is ErrNoConfigDir", name, err, err)
			continue
		}
		if want := "config dir " + dir + " is not usable: not a directory"; err.Error() != want {
			t.Errorf("%s: %q, want %q", name, err, want)
		}
	}
	if _, err := Lock(context.Background(), dir); !errors.Is(err, ErrNoConfigDir) {
		t.Errorf("Lock: %v, want a *DirError", err)
	}
	if _, err := os.Stat(dir); err == nil || strings.Contains(err.Error(), "exists") {
		t.Errorf("dir was created: %v", err)
	}
}
