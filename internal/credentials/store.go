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
// config.json as Storage says. Every write goes through config.Update.
type Store struct {
	Dir     string  // config dir
	Service string  // keyring service name (the program name)
	Keyring Keyring // bounded by a timeout by the caller
	Storage string  // auto, keyring or file
	Notice  io.Writer
	Now     func() time.Time
}

// Origin tells where a stored login's tokens live.
func Origin(l *config.Login) Source {
	if l.Storage == config.StorageKeyring {
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

// Load returns the login stored for apiURL with its tokens, ErrNotLoggedIn
// when there is none. It takes no lock: config.json is replaced atomically.
func (s *Store) Load(apiURL string) (*config.Login, error) {
	cfg, err := config.Load(s.Dir)
	if err != nil {
		return nil, err
	}
	return s.loadFrom(cfg, apiURL)
}

func (s *Store) loadFrom(cfg *config.File, apiURL string) (*config.Login, error) {
	l, ok := cfg.APIs[apiURL]
	if !ok || l == nil {
		return nil, ErrNotLoggedIn
	}
	out := *l
	out.APIURL = apiURL
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
		out.AccessToken, out.RefreshToken = sec.AccessToken, sec.RefreshToken
	}
	if out.AccessToken == "" {
		return nil, ErrNotLoggedIn
	}
	return &out, nil
}

// Save stores a login (l.APIURL names it) and, for a new login, makes its
// API the current one. It returns where the tokens went ("keyring" or
// "file").
func (s *Store) Save(ctx context.Context, l *config.Login, makeCurrent bool) (string, error) {
	var where string
	err := config.Update(ctx, s.Dir, func(cfg *config.File) error {
		var err error
		where, err = s.put(cfg, l, makeCurrent)
		return err
	})
	return where, err
}

// put writes l into cfg (and its secret into the keyring first, so that the
// metadata never points to a secret that is not there yet).
func (s *Store) put(cfg *config.File, in *config.Login, makeCurrent bool) (string, error) {
	if cfg.APIs == nil {
		cfg.APIs = map[string]*config.Login{}
	}
	prev := cfg.APIs[in.APIURL]
	l := *in
	l.UpdatedAt = s.now().UTC()
	l.HasRefreshToken = in.RefreshToken != ""
	l.AccessToken, l.RefreshToken = "", ""
	where, err := s.chooseAndWrite(cfg, in)
	if err != nil {
		return "", err
	}
	l.Storage = where
	if where == config.StorageFile {
		l.AccessToken, l.RefreshToken = in.AccessToken, in.RefreshToken
	}
	cfg.APIs[in.APIURL] = &l
	if makeCurrent {
		cfg.CurrentAPI = in.APIURL
	}
	if where == config.StorageFile && prev != nil && prev.Storage == config.StorageKeyring {
		_ = s.Keyring.Delete(s.Service, in.APIURL)
	}
	return where, nil
}

func (s *Store) chooseAndWrite(cfg *config.File, l *config.Login) (string, error) {
	mode := s.Storage
	if mode == "" {
		mode = StorageAuto
	}
	if l.Storage != "" {
		// An update of an existing login (a refresh) stays where it is.
		mode = l.Storage
	}
	if mode == StorageFile || (mode == StorageAuto && cfg.KeyringUnavailable != nil) {
		return config.StorageFile, nil
	}
	sec, _ := json.Marshal(keyringSecret{AccessToken: l.AccessToken, RefreshToken: l.RefreshToken})
	err := s.Keyring.Set(s.Service, l.APIURL, string(sec))
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
// returns the removed login with its tokens (nil when none was stored).
func (s *Store) Delete(ctx context.Context, apiURL string) (*config.Login, error) {
	// Nothing stored: nothing to lock or write (so a config dir that cannot
	// be written is no error here). Under the lock it is checked again.
	if cfg, err := config.Load(s.Dir); err == nil && cfg.APIs[apiURL] == nil {
		return nil, nil
	}
	var removed *config.Login
	err := config.Update(ctx, s.Dir, func(cfg *config.File) error {
		l, ok := cfg.APIs[apiURL]
		if !ok || l == nil {
			return config.ErrUnchanged
		}
		out := *l
		out.APIURL = apiURL
		removed = &out
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
		s.drop(cfg, apiURL)
		return nil
	})
	return removed, err
}

// drop removes apiURL's login from cfg.
func (s *Store) drop(cfg *config.File, apiURL string) {
	delete(cfg.APIs, apiURL)
	if cfg.CurrentAPI == apiURL {
		cfg.CurrentAPI = ""
	}
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
