package credentials_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
)

// The Store against the real OS keyring (gnome-keyring through the Secret
// Service in CI: scripts/e2e-keyring.sh).
func TestRealKeyringStore(t *testing.T) {
	if os.Getenv("SESAME_TEST_REAL_KEYRING") != "1" {
		t.Skip("set SESAME_TEST_REAL_KEYRING=1 with an unlocked OS keyring (scripts/e2e-keyring.sh)")
	}
	service := "sesame-test-" + strings.ReplaceAll(t.Name(), "/", "-")
	kr := credentials.TimeoutKeyring{Keyring: credentials.OSKeyring{}, Timeout: 10 * time.Second}

	t.Run("not found", func(t *testing.T) {
		if _, err := kr.Get(service, "https://nothing.example.test"); !errors.Is(err, credentials.ErrKeyringNotFound) {
			t.Errorf("Get of a missing entry: %v, want ErrKeyringNotFound", err)
		}
		if err := kr.Delete(service, "https://nothing.example.test"); !errors.Is(err, credentials.ErrKeyringNotFound) {
			t.Errorf("Delete of a missing entry: %v, want ErrKeyringNotFound", err)
		}
	})

	for _, storage := range []string{credentials.StorageKeyring, credentials.StorageAuto} {
		t.Run(storage, func(t *testing.T) {
			const (
				access   = "at_real_keyring_0123456789"
				refresh  = "rt_real_keyring_0123456789"
				access2  = "at_real_keyring_rotated_0123"
				refresh2 = "rt_real_keyring_rotated_0123"
			)
			api := "https://api." + storage + ".example.test"
			dir := t.TempDir()
			notice := &strings.Builder{}
			s := &credentials.Store{Dir: dir, Service: service, Keyring: kr, Storage: storage, Notice: notice}
			t.Cleanup(func() { _ = credentials.OSKeyring{}.Delete(service, api) })
			ctx := context.Background()

			where, err := s.Save(ctx, &config.Login{APIURL: api, Issuer: "https://example.test", AccessToken: access, RefreshToken: refresh}, true)
			if err != nil || where != config.StorageKeyring {
				t.Fatalf("Save = %q, %v; want keyring, nil", where, err)
			}
			if notice.Len() != 0 {
				t.Errorf("notice with a working keyring: %q", notice)
			}
			assertNotInConfig(t, dir, access, refresh)
			raw, err := credentials.OSKeyring{}.Get(service, api)
			if err != nil || !strings.Contains(raw, access) || !strings.Contains(raw, refresh) {
				t.Fatalf("OS keyring entry: found %v, holds both tokens %v", err == nil, strings.Contains(raw, access) && strings.Contains(raw, refresh))
			}

			st, err := s.Load(api, "")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if st.AccessToken != access || st.RefreshToken != refresh || credentials.Origin(st) != credentials.SourceKeyring {
				t.Errorf("Load: tokens match %v, source %q; want true, keyring", st.AccessToken == access && st.RefreshToken == refresh, credentials.Origin(st))
			}

			// A refresh (the login's storage is set) rewrites the keyring entry.
			st.AccessToken, st.RefreshToken = access2, refresh2
			if where, err := s.Save(ctx, st, true); err != nil || where != config.StorageKeyring {
				t.Fatalf("Save after refresh = %q, %v; want keyring, nil", where, err)
			}
			assertNotInConfig(t, dir, access2, refresh2)
			if st, err := s.Load(api, ""); err != nil || st.AccessToken != access2 || st.RefreshToken != refresh2 {
				t.Errorf("Load after refresh: err %v, rotated tokens read back %v", err, err == nil && st.AccessToken == access2 && st.RefreshToken == refresh2)
			}

			removed, err := s.Delete(ctx, api, "", false)
			if err != nil || len(removed) != 1 || removed[0].RefreshToken != refresh2 {
				t.Fatalf("Delete: err %v, removed the login with its refresh token %v", err, len(removed) == 1 && removed[0].RefreshToken == refresh2)
			}
			if _, err := (credentials.OSKeyring{}).Get(service, api); !errors.Is(err, credentials.ErrKeyringNotFound) {
				t.Errorf("OS keyring after Delete: %v, want ErrKeyringNotFound", err)
			}
			if _, err := s.Load(api, ""); !errors.Is(err, credentials.ErrNotLoggedIn) {
				t.Errorf("Load after Delete: %v, want ErrNotLoggedIn", err)
			}
		})
	}
}

func assertNotInConfig(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	b, err := os.ReadFile(config.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			t.Errorf("config.json holds a token")
		}
	}
	if !strings.Contains(string(b), `"storage": "keyring"`) {
		t.Errorf("config.json does not record storage keyring:\n%s", b)
	}
}
