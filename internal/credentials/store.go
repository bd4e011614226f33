package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
)

// Storage modes chosen with <NAME>_STORAGE or --storage.
const (
	StorageAuto    = "auto"
	StorageKeyring = config.StorageKeyring
	StorageFile    = config.StorageFile
)

// ErrNotLoggedIn means no login is stored for the API.
var ErrNotLoggedIn = errors.New("not logged in")

// ErrBadStorage is an unknown storage mode.
var ErrBadStorage = errors.New("storage must be auto, keyring or file")

// ValidStorage reports whether mode is one of auto, keyring, file.
func ValidStorage(mode string) error {
	switch mode {
	case StorageAuto, StorageKeyring, StorageFile:
		return nil
	}
	return fmt.Errorf("%w, not %q", ErrBadStorage, mode)
}

// Store keeps logins: metadata in config.json, tokens in the keyring or in
// config.json as Storage says.
type Store struct {
	Dir     string  // config dir
	Service string  // keyring service name (the program name)
	Keyring Keyring // bounded by a timeout by the caller
	Storage string  // auto, keyring or file
	Notice  io.Writer
	Now     func() time.Time
}

// Stored is one API's login with its secrets.
type Stored struct {
	APIURL       string
	Login        config.Login
	AccessToken  string
	RefreshToken string
}

// Source tells where the stored tokens live.
func (s *Stored) Source() Source {
	if s.Login.Storage == config.StorageKeyring {
		return SourceKeyring
	}
	return SourceConfigFile
}

type keyringSecret struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken,omitempty"`
}

// ConfigPath is config.json's path.
func (s *Store) ConfigPath() string { return config.Path(s.Dir) }

// CurrentAPI returns the API of the last login, "" when none.
func (s *Store) CurrentAPI() (string, error) {
	cfg, err := config.Load(s.Dir)
	if err != nil {
		return "", err
	}
	return cfg.CurrentAPI, nil
}

// Load returns the login stored for apiURL, ErrNotLoggedIn when there is
// none. It takes no lock: config.json is replaced atomically.
func (s *Store) Load(apiURL string) (*Stored, error) {
	cfg, err := config.Load(s.Dir)
	if err != nil {
		return nil, err
	}
	return s.loadFrom(cfg, apiURL)
}

func (s *Store) loadFrom(cfg *config.File, apiURL string) (*Stored, error) {
	l, ok := cfg.APIs[apiURL]
	if !ok || l == nil {
		return nil, ErrNotLoggedIn
	}
	st := &Stored{APIURL: apiURL, Login: *l}
	if l.Storage == config.StorageKeyring {
		raw, err := s.Keyring.Get(s.Service, apiURL)
		if errors.Is(err, ErrKeyringNotFound) {
			return nil, ErrNotLoggedIn
		}
		if err != nil {
			return nil, err
		}
		var sec keyringSecret
		if err := json.Unmarshal([]byte(raw), &sec); err != nil || sec.AccessToken == "" {
			return nil, &KeyringError{Op: "read", Err: errors.New("the stored entry is not one this program wrote")}
		}
		st.AccessToken, st.RefreshToken = sec.AccessToken, sec.RefreshToken
	} else {
		st.AccessToken, st.RefreshToken = l.AccessToken, l.RefreshToken
	}
	st.Login.AccessToken, st.Login.RefreshToken = "", ""
	if st.AccessToken == "" {
		return nil, ErrNotLoggedIn
	}
	return st, nil
}

// Save stores a login for apiURL and makes it the current API. It returns
// where the tokens went ("keyring" or "file").
func (s *Store) Save(ctx context.Context, st *Stored) (string, error) {
	unlock, err := config.Lock(ctx, s.Dir)
	if err != nil {
		return "", err
	}
	defer unlock()
	cfg, err := config.Load(s.Dir)
	if err != nil {
		return "", err
	}
	where, err := s.SaveLocked(cfg, st)
	if err != nil {
		return "", err
	}
	return where, nil
}

// SaveLocked is Save for a caller that already holds the lock and has
// loaded cfg. The secret is written before the metadata that points to it.
func (s *Store) SaveLocked(cfg *config.File, st *Stored) (string, error) {
	if cfg.APIs == nil {
		cfg.APIs = map[string]*config.Login{}
	}
	prev := cfg.APIs[st.APIURL]
	l := st.Login
	l.UpdatedAt = s.now().UTC()
	l.HasRefreshToken = st.RefreshToken != ""
	l.AccessToken, l.RefreshToken = "", ""
	where, err := s.chooseAndWrite(cfg, st)
	if err != nil {
		return "", err
	}
	l.Storage = where
	if where == config.StorageFile {
		l.AccessToken, l.RefreshToken = st.AccessToken, st.RefreshToken
	}
	cfg.APIs[st.APIURL] = &l
	cfg.CurrentAPI = st.APIURL
	if err := config.Save(s.Dir, cfg); err != nil {
		return "", err
	}
	if where == config.StorageFile && prev != nil && prev.Storage == config.StorageKeyring {
		_ = s.Keyring.Delete(s.Service, st.APIURL)
	}
	return where, nil
}

func (s *Store) chooseAndWrite(cfg *config.File, st *Stored) (string, error) {
	mode := s.Storage
	if mode == "" {
		mode = StorageAuto
	}
	if st.Login.Storage != "" {
		// An update of an existing login (a refresh) stays where it is.
		mode = st.Login.Storage
	}
	if mode == StorageFile || (mode == StorageAuto && cfg.KeyringUnavailable != nil) {
		return config.StorageFile, nil
	}
	sec, _ := json.Marshal(keyringSecret{AccessToken: st.AccessToken, RefreshToken: st.RefreshToken})
	err := s.Keyring.Set(s.Service, st.APIURL, string(sec))
	if err == nil {
		if mode == StorageKeyring {
			cfg.KeyringUnavailable = nil
		}
		return config.StorageKeyring, nil
	}
	if mode == StorageKeyring {
		return "", err
	}
	reason := err.Error()
	var ke *KeyringError
	if errors.As(err, &ke) {
		reason = ke.Err.Error()
	}
	cfg.KeyringUnavailable = &config.KeyringFailure{At: s.now().UTC(), Reason: reason}
	if s.Notice != nil {
		fmt.Fprintf(s.Notice, "notice: the OS keyring is not available (%s); storing the token in %s (mode 0600) from now on\n", reason, s.ConfigPath())
	}
	return config.StorageFile, nil
}

// Delete removes the login of apiURL from the keyring and config.json. It
// returns the removed login (nil when none was stored).
func (s *Store) Delete(ctx context.Context, apiURL string) (*Stored, error) {
	// Nothing stored: nothing to lock or write (so a config dir that cannot
	// be written is no error here). Under the lock it is checked again.
	if cfg, err := config.Load(s.Dir); err == nil && cfg.APIs[apiURL] == nil {
		return nil, nil
	}
	var removed *Stored
	err := config.Update(ctx, s.Dir, func(cfg *config.File) error {
		l, ok := cfg.APIs[apiURL]
		if !ok || l == nil {
			return nil
		}
		removed = &Stored{APIURL: apiURL, Login: *l, AccessToken: l.AccessToken, RefreshToken: l.RefreshToken}
		if l.Storage == config.StorageKeyring {
			if raw, err := s.Keyring.Get(s.Service, apiURL); err == nil {
				var sec keyringSecret
				if json.Unmarshal([]byte(raw), &sec) == nil {
					removed.AccessToken, removed.RefreshToken = sec.AccessToken, sec.RefreshToken
				}
			}
			if err := s.Keyring.Delete(s.Service, apiURL); err != nil && !errors.Is(err, ErrKeyringNotFound) {
				return err
			}
		}
		removed.Login.AccessToken, removed.Login.RefreshToken = "", ""
		delete(cfg.APIs, apiURL)
		if cfg.CurrentAPI == apiURL {
			cfg.CurrentAPI = ""
		}
		return nil
	})
	return removed, err
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
