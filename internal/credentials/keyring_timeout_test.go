package credentials_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/credentials/credtest"
)

var errReleased = errors.New("released at the end of the test")

var errLocked = errors.New("the collection is locked")

func TestTimeoutKeyring(t *testing.T) {
	const timeout = 3 * time.Second
	ops := []struct {
		name string
		op   string // KeyringError.Op
		call func(k credentials.Keyring) error
	}{
		{"get", "read", func(k credentials.Keyring) error { _, err := k.Get("sesame", "https://api.test"); return err }},
		{"set", "write", func(k credentials.Keyring) error { return k.Set("sesame", "https://api.test", "{}") }},
		{"delete", "delete", func(k credentials.Keyring) error { return k.Delete("sesame", "https://api.test") }},
	}
	tests := []struct {
		name        string
		hang        bool
		err         error
		wantElapsed time.Duration
		wantKRErr   bool  // a *KeyringError
		wantIs      error // errors.Is target, when set
	}{
		{name: "hangs", hang: true, wantElapsed: timeout, wantKRErr: true},
		{name: "fails", err: errLocked, wantKRErr: true, wantIs: errLocked},
		{name: "not found passes through", err: credentials.ErrKeyringNotFound, wantIs: credentials.ErrKeyringNotFound},
	}
	for _, op := range ops {
		for _, tt := range tests {
			t.Run(op.name+"/"+tt.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					inner := &credtest.Keyring{Err: tt.err}
					if tt.hang {
						inner.Block = make(chan struct{})
						defer close(inner.Block)
					}
					k := credentials.TimeoutKeyring{Keyring: inner, Timeout: timeout}
					start := time.Now()
					err := op.call(k)
					if got := time.Since(start); got != tt.wantElapsed {
						t.Errorf("returned after %v, want %v", got, tt.wantElapsed)
					}
					var ke *credentials.KeyringError
					if got := errors.As(err, &ke); got != tt.wantKRErr {
						t.Fatalf("err = %v; *KeyringError: %v, want %v", err, got, tt.wantKRErr)
					}
					if ke != nil && ke.Op != op.op {
						t.Errorf("KeyringError.Op = %q, want %q", ke.Op, op.op)
					}
					if tt.hang && !strings.Contains(err.Error(), "no answer within 3s") {
						t.Errorf("err = %q, want it to say no answer within 3s", err)
					}
					if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
						t.Errorf("err = %v, want errors.Is %v", err, tt.wantIs)
					}
				})
			})
		}
	}
}

func TestTimeoutKeyringAnswersAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inner := &credtest.Keyring{}
		k := credentials.TimeoutKeyring{Keyring: inner, Timeout: time.Hour}
		start := time.Now()
		if err := k.Set("sesame", "u", "s"); err != nil {
			t.Fatal(err)
		}
		got, err := k.Get("sesame", "u")
		if err != nil || got != "s" {
			t.Fatalf("Get = %q, %v; want \"s\", nil", got, err)
		}
		if err := k.Delete("sesame", "u"); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("took %v of fake time, want 0", d)
		}
	})
}

// A Secret Service that never answers: "auto" falls back to the file after
// the timeout with one notice and remembers it; the next process neither
// waits nor asks the keyring. "keyring" fails with a *KeyringError and
// stores nothing.
func TestStoreWithHangingKeyring(t *testing.T) {
	const (
		timeout = 2 * time.Second
		api     = "https://api.example.test"
		access  = "at_hanging_0123456789"
		refresh = "rt_hanging_0123456789"
	)
	type run struct {
		elapsed  time.Duration
		where    string
		errKR    bool // Save failed with a *KeyringError
		notices  int
		newCalls int32 // keyring calls made by this run
	}
	tests := []struct {
		name    string
		storage string
		want    []run // successive processes, each with a new Store
		inFile  bool  // tokens end up in config.json
	}{
		{
			name:    "auto falls back once and remembers",
			storage: credentials.StorageAuto,
			want: []run{
				{elapsed: timeout, where: config.StorageFile, notices: 1, newCalls: 1},
				{elapsed: 0, where: config.StorageFile, notices: 0, newCalls: 0},
			},
			inFile: true,
		},
		{
			name:    "keyring fails every time",
			storage: credentials.StorageKeyring,
			want: []run{
				{elapsed: timeout, errKR: true, newCalls: 1},
				{elapsed: timeout, errKR: true, newCalls: 1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			synctest.Test(t, func(t *testing.T) {
				inner := &credtest.Keyring{Block: make(chan struct{}), Err: errReleased}
				defer close(inner.Block)
				var got []run
				for range tt.want {
					var notice bytes.Buffer
					s := &credentials.Store{
						Dir:     dir,
						Service: "sesame",
						Keyring: credentials.TimeoutKeyring{Keyring: inner, Timeout: timeout},
						Storage: tt.storage,
						Notice:  &notice,
					}
					before := int32(inner.Calls())
					start := time.Now()
					where, err := s.Save(context.Background(), &config.Login{
						APIURL:       api,
						AccessToken:  access,
						RefreshToken: refresh,
					}, true)
					var ke *credentials.KeyringError
					if err != nil && !errors.As(err, &ke) {
						t.Fatalf("Save: %v, want nil or a *KeyringError", err)
					}
					got = append(got, run{
						elapsed:  time.Since(start),
						where:    where,
						errKR:    ke != nil,
						notices:  strings.Count(notice.String(), "notice: "),
						newCalls: int32(inner.Calls()) - before,
					})
					if n := notice.String(); strings.Contains(n, access) || strings.Contains(n, refresh) {
						t.Errorf("notice shows a token: %q", n)
					}
				}
				if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(run{})); diff != "" {
					t.Errorf("runs (-want +got):\n%s", diff)
				}

				raw, err := os.ReadFile(config.Path(dir))
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					t.Fatal(err)
				}
				if got := strings.Contains(string(raw), access) && strings.Contains(string(raw), refresh); got != tt.inFile {
					t.Errorf("tokens in config.json: %v, want %v", got, tt.inFile)
				}
				cfg, err := config.Load(dir)
				if err != nil {
					t.Fatal(err)
				}
				if got := cfg.KeyringUnavailable != nil; got != tt.inFile {
					t.Errorf("keyringUnavailable recorded: %v, want %v", got, tt.inFile)
				}
				s := &credentials.Store{Dir: dir, Service: "sesame", Keyring: credentials.TimeoutKeyring{Keyring: inner, Timeout: timeout}, Storage: tt.storage}
				st, err := s.Load(api, "")
				if !tt.inFile {
					if !errors.Is(err, credentials.ErrNotLoggedIn) {
						t.Errorf("Load after a failed save: %v, want ErrNotLoggedIn", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if st.AccessToken != access || st.RefreshToken != refresh || credentials.Origin(st) != credentials.SourceConfigFile {
					t.Errorf("Load = access ok %v, refresh ok %v, source %q; want both, %q",
						st.AccessToken == access, st.RefreshToken == refresh, credentials.Origin(st), credentials.SourceConfigFile)
				}
			})
		})
	}
}

// After "auto" remembered a failed keyring, an explicit "keyring" tries it
// again, and a success there forgets the failure.
func TestStoreKeyringModeRetriesAfterAutoFallback(t *testing.T) {
	const api = "https://api.example.test"
	dir := t.TempDir()
	broken := &credtest.Keyring{Err: errLocked}
	auto := &credentials.Store{Dir: dir, Service: "sesame", Keyring: credentials.TimeoutKeyring{Keyring: broken, Timeout: time.Second}, Storage: credentials.StorageAuto, Notice: &bytes.Buffer{}}
	if where, err := auto.Save(context.Background(), &config.Login{APIURL: api, AccessToken: "at_1"}, true); err != nil || where != config.StorageFile {
		t.Fatalf("auto Save = %q, %v; want file, nil", where, err)
	}

	fixed := &credtest.Keyring{}
	kr := &credentials.Store{Dir: dir, Service: "sesame", Keyring: credentials.TimeoutKeyring{Keyring: fixed, Timeout: time.Second}, Storage: credentials.StorageKeyring}
	if where, err := kr.Save(context.Background(), &config.Login{APIURL: api, AccessToken: "at_2"}, true); err != nil || where != config.StorageKeyring {
		t.Fatalf("keyring Save = %q, %v; want keyring, nil", where, err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.KeyringUnavailable != nil {
		t.Errorf("keyringUnavailable = %+v after a keyring success, want nil", cfg.KeyringUnavailable)
	}
	if l := cfg.APIs[api]; l == nil || l.AccessToken != "" || l.Storage != config.StorageKeyring {
		t.Errorf("config.json login = %+v, want storage keyring and no token", l)
	}
	if fixed.Calls() != 1 {
		t.Errorf("keyring calls = %d, want 1", fixed.Calls())
	}
}
