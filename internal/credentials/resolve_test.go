package credentials

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sesame-cli/sesame/internal/config"
)

func TestParseTokenInput(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		tok     string
		api     string
		wantErr string
	}{
		{name: "raw", in: "abc", tok: "abc"},
		{name: "newline", in: "abc\n", tok: "abc"},
		{name: "crlf", in: "abc\r\n", tok: "abc"},
		{name: "spaces", in: "  abc  \n\n", tok: "abc"},
		{name: "bom", in: "\xef\xbb\xbfabc", tok: "abc"},
		{name: "json", in: `{"token": "abc", "apiUrl": "https://api.example.com"}`, tok: "abc", api: "https://api.example.com"},
		{name: "json no api", in: `{"token":"abc"}`, tok: "abc"},
		{name: "json token padded", in: `{"token":" abc\n"}`, tok: "abc"},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "blank", in: " \n\t ", wantErr: "empty"},
		{name: "inner space", in: "ab c", wantErr: "white space"},
		{name: "two lines", in: "abc\ndef", wantErr: "white space"},
		{name: "nul", in: "ab\x00c", wantErr: "NUL"},
		{name: "invalid utf8", in: "ab\xffc", wantErr: "UTF-8"},
		{name: "malformed json", in: `{"token": "abc"`, wantErr: "not valid JSON"},
		{name: "number token", in: `{"token": 123}`, wantErr: `"token" is not a string`},
		{name: "null token", in: `{"token": null}`, wantErr: `"token" is not a string`},
		{name: "no token", in: `{"apiUrl": "x"}`, wantErr: `no "token"`},
		{name: "api not string", in: `{"token":"a","apiUrl":1}`, wantErr: `"apiUrl" is not a string`},
		{name: "array", in: `["abc"]`, wantErr: "not valid JSON"},
		{name: "json string", in: `"abc"`, wantErr: "not valid JSON"},
		{name: "too big", in: strings.Repeat("a", MaxInput+1), wantErr: "larger than"},
		{name: "too long token", in: strings.Repeat("a", 17<<10), wantErr: "longer than 16 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, api, err := ParseTokenInput([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				if strings.TrimSpace(tt.in) != "" && len(tt.in) < 100 && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
					t.Errorf("error %q echoes the input", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tt.tok, tt.api}, []string{tok, api}); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// noStore fails the test if the stored login is consulted.
func noStore(t *testing.T) func() (*Store, error) {
	return func() (*Store, error) {
		t.Helper()
		t.Error("the store was opened")
		return nil, errors.New("store opened")
	}
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestResolvePrecedence(t *testing.T) {
	dir := t.TempDir()
	credFile := filepath.Join(dir, "creds.json")
	if err := os.WriteFile(credFile, []byte(`{"token":"filetok","apiUrl":"https://file.example.com"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	st := newTestStore(t, &memKeyring{})
	if _, err := st.Save(context.Background(), &config.Login{APIURL: "https://stored.example.com", AccessToken: "storetok"}, true); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		env        map[string]string
		flag       string
		store      func() (*Store, error)
		wantSource Source
		wantToken  string
		wantAPI    string
	}{
		{
			name:       "env wins over file and store",
			env:        map[string]string{"SESAME_TOKEN": "envtok", "SESAME_CREDENTIALS_FILE": credFile, "SESAME_API_URL": "https://env.example.com"},
			store:      noStore(t),
			wantSource: SourceEnv, wantToken: "envtok", wantAPI: "https://env.example.com",
		},
		{
			name:       "file wins over store; its apiUrl is used",
			env:        map[string]string{"SESAME_CREDENTIALS_FILE": credFile},
			store:      noStore(t),
			wantSource: SourceCredentialsFile, wantToken: "filetok", wantAPI: "https://file.example.com",
		},
		{
			name:       "flag beats the file's apiUrl",
			env:        map[string]string{"SESAME_CREDENTIALS_FILE": credFile, "SESAME_API_URL": "https://env.example.com"},
			flag:       "https://flag.example.com/",
			store:      noStore(t),
			wantSource: SourceCredentialsFile, wantToken: "filetok", wantAPI: "https://flag.example.com",
		},
		{
			name:       "stored login, current API",
			env:        map[string]string{},
			store:      func() (*Store, error) { return st, nil },
			wantSource: SourceConfigFile, wantToken: "storetok", wantAPI: "https://stored.example.com",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := (&Provider{Env: Env{Name: "sesame", Getenv: envOf(tt.env), GOOS: "linux", APIURLFlag: tt.flag}, Store: tt.store}).Resolve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := []string{string(c.Source), c.Value.Reveal(), c.APIURL}
			if diff := cmp.Diff([]string{string(tt.wantSource), tt.wantToken, tt.wantAPI}, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestResolveNoCredential(t *testing.T) {
	st := newTestStore(t, &memKeyring{})
	_, err := (&Provider{Env: Env{Name: "sesame", Getenv: envOf(nil)}, Store: func() (*Store, error) { return st, nil }}).Resolve(context.Background())
	if !errors.Is(err, ErrNoCredential) {
		t.Fatalf("err = %v, want ErrNoCredential", err)
	}
	_, err = (&Provider{Env: Env{Name: "sesame", Getenv: envOf(map[string]string{"SESAME_API_URL": "https://x.example.com"})}, Store: func() (*Store, error) { return st, nil }}).Resolve(context.Background())
	if !errors.Is(err, ErrNoCredential) || !strings.Contains(err.Error(), "https://x.example.com") {
		t.Fatalf("err = %v, want ErrNoCredential naming the API", err)
	}
}

func TestWhiteLabelEnvNames(t *testing.T) {
	c, err := (&Provider{Store: noStore(t), Env: Env{
		Name:   "papermark",
		Getenv: envOf(map[string]string{"PAPERMARK_TOKEN": "pm", "SESAME_TOKEN": "no", "PAPERMARK_API_URL": "https://api.papermark.com"}),
	}}).Resolve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Value.Reveal() != "pm" || c.SourceDetail != "PAPERMARK_TOKEN environment variable" {
		t.Errorf("got %q from %q", c.Value.Reveal(), c.SourceDetail)
	}
}

func TestCredentialsFileWarnsWhenReadableByOthers(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "creds")
	if err := os.WriteFile(p, []byte("tok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	tok, _, err := ReadCredentialsFile(p, "linux", &warn)
	if err != nil || tok != "tok" {
		t.Fatalf("got %q, %v", tok, err)
	}
	if !strings.Contains(warn.String(), "readable by others (mode 0644); run: chmod 600") {
		t.Errorf("warning = %q", warn.String())
	}
	warn.Reset()
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadCredentialsFile(p, "linux", &warn); err != nil || warn.Len() != 0 {
		t.Errorf("0600 file: err %v, warning %q", err, warn.String())
	}
}
