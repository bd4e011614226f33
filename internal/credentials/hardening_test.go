package credentials

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Hostile token input found by the hostile-input table and the fuzz target.
func TestParseTokenInputHostile(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // token, or "" for an error
		wantErr  string
	}{
		{"invalid UTF-8 inside JSON (decoded as U+FFFD)", "{\"token\": \"tok\xf6en\"}", "", "token is not valid UTF-8"},
		{"a lone surrogate escape", `{"token": "tok\ud800en"}`, "", "token is not valid UTF-8"},
		{"a replacement character", "tok\uFFFDen", "", "token is not valid UTF-8"},
		{"raw invalid UTF-8", "tok\xf6en", "", "token is not valid UTF-8"},
		{"BOM and CRLF", "\ufefftoken\r\n", "token", ""},
		{"an escaped non-ASCII token", `{"token": "t\u00f6ken"}`, "töken", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, _, err := ParseTokenInput([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseTokenInput = %q, %v; want error %q", tok, err, tt.wantErr)
				}
				return
			}
			if err != nil || tok != tt.want {
				t.Fatalf("ParseTokenInput = %q, %v; want %q", tok, err, tt.want)
			}
		})
	}
}

// A symbolic-link loop names its cause instead of a bare "cannot open".
func TestReadCredentialsFileLoop(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := errors.Join(os.Symlink(b, a), os.Symlink(a, b)); err != nil {
		t.Skip("no symlinks here:", err)
	}
	_, _, err := ReadCredentialsFile(a, "linux", nil)
	if err == nil || err.Error() != "cannot open: too many levels of symbolic links" {
		t.Fatalf("err = %v", err)
	}
}

// A malformed API URL is bad input (exit 2), not "not logged in to ftp://...".
func TestResolveMalformedAPIURL(t *testing.T) {
	st := newTestStore(t, &memKeyring{})
	tests := []struct {
		env  map[string]string
		flag string
		want string
	}{
		{map[string]string{"SESAME_API_URL": "ftp://api.example.com"}, "", `API URL ftp://api.example.com (from SESAME_API_URL): "ftp://api.example.com": not an absolute http(s) URL`},
		{nil, "not-a-url", `API URL not-a-url (from --api-url): "not-a-url": not an absolute http(s) URL`},
		{map[string]string{"SESAME_API_URL": "https://"}, "", `API URL https: (from SESAME_API_URL): "https:": not an absolute http(s) URL`},
	}
	for _, tt := range tests {
		_, err := (&Provider{Env: Env{Name: "sesame", Getenv: envOf(tt.env), APIURLFlag: tt.flag}, Store: func() (*Store, error) { return st, nil }}).Resolve(context.Background())
		var ie *InputError
		if !errors.As(err, &ie) || err.Error() != tt.want {
			t.Errorf("Resolve = %v (%T), want InputError %q", err, err, tt.want)
		}
	}
}

// Logging out when nothing is stored needs no lock and no write, so a
// config dir that cannot be written is no error there.
func TestDeleteNothingStoredNeedsNoWrite(t *testing.T) {
	file := filepath.Join(t.TempDir(), "afile")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	st := &Store{Dir: filepath.Join(file, "sesame"), Service: "sesame", Keyring: &memKeyring{}, Storage: StorageFile}
	if removed, err := st.Delete(context.Background(), "https://api.example.com", "", false); removed != nil || err != nil {
		t.Fatalf("Delete = %v, %v; want nil, nil", removed, err)
	}
}
