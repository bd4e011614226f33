package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zalando/go-keyring"

	"github.com/sesame-cli/sesame/internal/config"
)

// Two accounts on one API: a second login keeps the first (inactive), a
// switch swaps them without moving tokens, each refreshes in place, and
// logging out the active one makes the other active.
func TestStoreAccounts(t *testing.T) {
	ctx := context.Background()
	const api = "https://api.example.com"
	for _, storage := range []string{StorageFile, StorageKeyring} {
		t.Run(storage, func(t *testing.T) {
			kr := &memKeyring{}
			st := newTestStore(t, kr)
			st.Storage = storage
			save := func(l *config.Login, login bool) {
				t.Helper()
				if _, err := st.Save(ctx, l, login); err != nil {
					t.Fatal(err)
				}
			}
			active := func() string {
				t.Helper()
				l, err := st.Load(api, "")
				if err != nil {
					t.Fatal(err)
				}
				return l.AccountName() + "=" + l.AccessToken
			}
			save(&config.Login{APIURL: api, Account: "ann@example.com", AccessToken: "at-ann", RefreshToken: "rt-ann"}, true)
			save(&config.Login{APIURL: api, Account: "bob@example.com", AccessToken: "at-bob"}, true)
			if got := active(); got != "bob@example.com=at-bob" {
				t.Fatalf("active after the second login: %s", got)
			}
			ann, err := st.Load(api, "ann@example.com")
			if err != nil || ann.AccessToken != "at-ann" || ann.RefreshToken != "rt-ann" {
				t.Fatalf("the first account: %+v, %v", ann, err)
			}
			// A refresh of the inactive account stays inactive.
			ann.AccessToken = "at-ann-2"
			save(ann, false)
			if got := active(); got != "bob@example.com=at-bob" {
				t.Fatalf("a refresh moved the active account: %s", got)
			}
			if err := st.Switch(ctx, api, "ann@example.com"); err != nil {
				t.Fatal(err)
			}
			if got := active(); got != "ann@example.com=at-ann-2" {
				t.Fatalf("after switch: %s", got)
			}
			if err := st.Switch(ctx, api, "carol"); !errors.Is(err, ErrNoAccount) {
				t.Fatalf("switch to an unknown account: %v", err)
			}
			if _, err := st.Load(api, "carol"); !errors.Is(err, ErrNoAccount) {
				t.Fatalf("load an unknown account: %v", err)
			}
			removed, err := st.Delete(ctx, api, "", false)
			if err != nil || len(removed) != 1 || removed[0].AccessToken != "at-ann-2" {
				t.Fatalf("logout of the active account: %+v, %v", removed, err)
			}
			if got := active(); got != "bob@example.com=at-bob" {
				t.Fatalf("after logging out the active account: %s", got)
			}
			if cur, _ := st.CurrentAPI(); cur != api {
				t.Errorf("current API %q after a logout that left a login", cur)
			}
			removed, err = st.Delete(ctx, api, "", true)
			if err != nil || len(removed) != 1 {
				t.Fatalf("logout --all: %+v, %v", removed, err)
			}
			if _, err := st.Load(api, ""); !errors.Is(err, ErrNotLoggedIn) {
				t.Errorf("after --all: %v", err)
			}
			if len(kr.m) != 0 {
				t.Errorf("keyring entries left: %v", kr.m)
			}
		})
	}
}

// A config.json written before accounts keeps working: its login is the
// active one, named by its user, and a second account parks it.
func TestStoreAccountsOldConfig(t *testing.T) {
	ctx := context.Background()
	const api = "https://api.example.com"
	st := newTestStore(t, &memKeyring{})
	old := `{"version":1,"currentApi":"` + api + `","apis":{"` + api + `":{"storage":"file","user":"Ann <ann@example.com>","accessToken":"at-old"}}}`
	if err := os.MkdirAll(st.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(st.ConfigPath(), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := st.Load(api, "")
	if err != nil || l.AccessToken != "at-old" {
		t.Fatalf("old login: %+v, %v", l, err)
	}
	if _, err := st.Save(ctx, &config.Login{APIURL: api, Account: "bob@example.com", AccessToken: "at-bob"}, true); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(st.ConfigPath())
	var cfg config.File
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range cfg.Logins(api) {
		names = append(names, l.AccountName())
	}
	if diff := cmp.Diff([]string{"bob@example.com", "Ann <ann@example.com>"}, names); diff != "" {
		t.Errorf("logins (-want +got):\n%s", diff)
	}
	if l, err := st.Load(api, "Ann <ann@example.com>"); err != nil || l.AccessToken != "at-old" {
		t.Errorf("the old login by its name: %+v, %v", l, err)
	}
}

// tooBig is a keyring that refuses large secrets the way go-keyring does.
type tooBig struct{ memKeyring }

func (k *tooBig) Set(service, user, secret string) error {
	if len(secret) > 100 {
		return keyring.ErrSetDataTooBig
	}
	return k.memKeyring.Set(service, user, secret)
}

// A login too large for the keyring goes to the file, with a notice; the
// keyring is not marked unavailable, so the next login uses it again.
func TestStoreKeyringTooLarge(t *testing.T) {
	ctx := context.Background()
	kr := &tooBig{}
	st := newTestStore(t, kr)
	st.Storage = StorageAuto
	var notice strings.Builder
	st.Notice = &notice
	where, err := st.Save(ctx, &config.Login{APIURL: "https://a.example.com", AccessToken: strings.Repeat("a", 200)}, true)
	if err != nil || where != config.StorageFile {
		t.Fatalf("Save = %q, %v", where, err)
	}
	if !strings.Contains(notice.String(), "too large for the OS keyring") {
		t.Errorf("notice = %q", notice.String())
	}
	where, err = st.Save(ctx, &config.Login{APIURL: "https://b.example.com", AccessToken: "small"}, true)
	if err != nil || where != config.StorageKeyring {
		t.Fatalf("the next login: %q, %v (the keyring must stay in use)", where, err)
	}
	cfg, _ := config.Load(st.Dir)
	if cfg.KeyringUnavailable != nil {
		t.Errorf("keyring marked unavailable: %+v", cfg.KeyringUnavailable)
	}
}

// An update (a refresh) of an account that was logged out meanwhile never
// displaces another account's active login.
func TestStoreUpdateOfAMissingAccount(t *testing.T) {
	ctx := context.Background()
	const api = "https://api.example.com"
	st := newTestStore(t, &memKeyring{})
	if _, err := st.Save(ctx, &config.Login{APIURL: api, Account: "bob@example.com", AccessToken: "at-bob"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Save(ctx, &config.Login{APIURL: api, Account: "ann@example.com", AccessToken: "at-ann-2"}, false); err != nil {
		t.Fatal(err)
	}
	if l, err := st.Load(api, ""); err != nil || l.AccessToken != "at-bob" {
		t.Fatalf("active login: %+v, %v; want bob's", l, err)
	}
}
