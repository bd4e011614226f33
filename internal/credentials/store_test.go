package credentials

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
)

// memKeyring is an in-memory Keyring; fail makes every call fail, block
// makes every call hang until released.
type memKeyring struct {
	mu    sync.Mutex
	m     map[string]string
	fail  error
	calls int
	block chan struct{}
}

func (k *memKeyring) op() error {
	k.mu.Lock()
	k.calls++
	block, fail := k.block, k.fail
	k.mu.Unlock()
	if block != nil {
		<-block
	}
	return fail
}

func (k *memKeyring) Get(service, user string) (string, error) {
	if err := k.op(); err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.m[service+"/"+user]
	if !ok {
		return "", ErrKeyringNotFound
	}
	return s, nil
}

func (k *memKeyring) Set(service, user, secret string) error {
	if err := k.op(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]string{}
	}
	k.m[service+"/"+user] = secret
	return nil
}

func (k *memKeyring) Delete(service, user string) error {
	if err := k.op(); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[service+"/"+user]; !ok {
		return ErrKeyringNotFound
	}
	delete(k.m, service+"/"+user)
	return nil
}

func newTestStore(t *testing.T, kr Keyring) *Store {
	t.Helper()
	return &Store{Dir: t.TempDir(), Service: "sesame", Keyring: TimeoutKeyring{Keyring: kr, Timeout: 200 * time.Millisecond}, Storage: StorageFile, Notice: &bytes.Buffer{}}
}

func TestStoreFileRoundTrip(t *testing.T) {
	st := newTestStore(t, &memKeyring{})
	ctx := context.Background()
	where, err := st.Save(ctx, &config.Login{APIURL: "https://api.example.com", AccessToken: "at", RefreshToken: "rt", Issuer: "https://example.com"}, true)
	if err != nil || where != config.StorageFile {
		t.Fatalf("Save = %q, %v", where, err)
	}
	fi, err := os.Stat(st.ConfigPath())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v, %v", fi.Mode(), err)
	}
	got, err := st.Load("https://api.example.com", "")
	if err != nil || got.AccessToken != "at" || got.RefreshToken != "rt" || Origin(got) != SourceConfigFile || !got.HasRefreshToken {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	old, err := st.Delete(ctx, "https://api.example.com", "", false)
	if err != nil || len(old) != 1 || old[0].RefreshToken != "rt" {
		t.Fatalf("Delete = %+v, %v", old, err)
	}
	if _, err := st.Load("https://api.example.com", ""); !errors.Is(err, ErrNotLoggedIn) {
		t.Fatalf("after delete: %v", err)
	}
	data, _ := os.ReadFile(st.ConfigPath())
	if strings.Contains(string(data), `"at"`) || strings.Contains(string(data), `"rt"`) {
		t.Error("tokens left in config.json after delete")
	}
}

func TestStoreKeyringKeepsTokensOutOfTheFile(t *testing.T) {
	kr := &memKeyring{}
	st := newTestStore(t, kr)
	st.Storage = StorageKeyring
	where, err := st.Save(context.Background(), &config.Login{APIURL: "https://api.example.com", AccessToken: "secret-at", RefreshToken: "secret-rt"}, true)
	if err != nil || where != config.StorageKeyring {
		t.Fatalf("Save = %q, %v", where, err)
	}
	data, _ := os.ReadFile(st.ConfigPath())
	if strings.Contains(string(data), "secret-") {
		t.Fatalf("config.json holds a token:\n%s", data)
	}
	got, err := st.Load("https://api.example.com", "")
	if err != nil || got.AccessToken != "secret-at" || Origin(got) != SourceKeyring {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	if _, err := st.Delete(context.Background(), "https://api.example.com", "", false); err != nil {
		t.Fatal(err)
	}
	if len(kr.m) != 0 {
		t.Errorf("keyring still holds %v", kr.m)
	}
}

func TestStoreAutoFallsBackOnceAndRemembers(t *testing.T) {
	kr := &memKeyring{fail: errors.New(`exec: "dbus-launch": executable file not found in $PATH`)}
	st := newTestStore(t, kr)
	st.Storage = StorageAuto
	notice := &bytes.Buffer{}
	st.Notice = notice
	ctx := context.Background()
	where, err := st.Save(ctx, &config.Login{APIURL: "https://a.example.com", AccessToken: "t1"}, true)
	if err != nil || where != config.StorageFile {
		t.Fatalf("Save = %q, %v", where, err)
	}
	if n := strings.Count(notice.String(), "notice:"); n != 1 {
		t.Fatalf("notices = %d: %q", n, notice.String())
	}
	calls := kr.calls
	if _, err := st.Save(ctx, &config.Login{APIURL: "https://b.example.com", AccessToken: "t2"}, true); err != nil {
		t.Fatal(err)
	}
	if kr.calls != calls {
		t.Error("auto tried the keyring again after it failed")
	}
	if n := strings.Count(notice.String(), "notice:"); n != 1 {
		t.Errorf("second save printed another notice: %q", notice.String())
	}
	// explicit keyring storage is an error, not a fallback
	st.Storage = StorageKeyring
	var ke *KeyringError
	if _, err := st.Save(ctx, &config.Login{APIURL: "https://c.example.com", AccessToken: "t3"}, true); !errors.As(err, &ke) {
		t.Fatalf("keyring storage: err = %v, want KeyringError", err)
	}
}

func TestStoreAutoFallsBackWhenTheKeyringHangs(t *testing.T) {
	kr := &memKeyring{block: make(chan struct{})}
	defer close(kr.block)
	st := newTestStore(t, kr)
	st.Storage = StorageAuto
	start := time.Now()
	where, err := st.Save(context.Background(), &config.Login{APIURL: "https://a.example.com", AccessToken: "t"}, true)
	if err != nil || where != config.StorageFile {
		t.Fatalf("Save = %q, %v", where, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("fallback took %s", d)
	}
}
