package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSaveLoadModesAndAtomicity(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sesame")
	cfg := &File{CurrentAPI: "https://api.example.com", APIs: map[string]*Login{"https://api.example.com": {Storage: StorageFile, AccessToken: "t"}}}
	if err := Save(dir, cfg); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, Path(dir): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %04o, want %04o", path, fi.Mode().Perm(), want)
		}
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cfg, got); diff != "" {
		t.Errorf("(-saved +loaded)\n%s", diff)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
	data, _ := os.ReadFile(Path(dir))
	if !strings.Contains(string(data), `"version": 1`) {
		t.Errorf("no version in %s", data)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr string
	}{
		{name: "empty file", data: ""},
		{name: "blank", data: "\n \n"},
		{name: "bom", data: "\xef\xbb\xbf{\"version\":1}"},
		{name: "garbage", data: "not json", wantErr: "not valid JSON"},
		{name: "truncated", data: `{"version":1,"apis":{`, wantErr: "not valid JSON"},
		{name: "wrong types", data: `{"version":"one"}`, wantErr: "not valid JSON"},
		{name: "newer version", data: `{"version":99}`, wantErr: "newer version"},
		{name: "too big", data: strings.Repeat(" ", maxFileSize+1), wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("config.json", []byte(tt.data))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want ParseError with %q", err, tt.wantErr)
			}
		})
	}
}

// TestUpdateSerializes runs concurrent read-modify-writes: none is lost.
func TestUpdateSerializes(t *testing.T) {
	dir := t.TempDir()
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := Update(context.Background(), dir, func(f *File) error {
				if f.Clients == nil {
					f.Clients = map[string]*RegisteredClient{}
				}
				f.Clients[fmt.Sprint("issuer", i)] = &RegisteredClient{ClientID: fmt.Sprint(i)}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Clients) != n {
		t.Errorf("%d clients saved, want %d", len(cfg.Clients), n)
	}
}

func TestUpdateErrorWritesNothing(t *testing.T) {
	dir := t.TempDir()
	if err := Save(dir, &File{CurrentAPI: "a"}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(Path(dir))
	boom := errors.New("boom")
	if err := Update(context.Background(), dir, func(f *File) error { f.CurrentAPI = "b"; return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(Path(dir))
	if string(before) != string(after) {
		t.Error("config changed after a failed update")
	}
	var f File
	if err := json.Unmarshal(after, &f); err != nil || f.CurrentAPI != "a" {
		t.Errorf("config = %s", after)
	}
}

func TestReadOnlyDirIsAnError(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can write to a read-only directory")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if err := Save(dir, &File{}); err == nil {
		t.Fatal("saved into a read-only dir")
	}
}
