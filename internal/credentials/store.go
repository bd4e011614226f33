package credentials

import (
	"context"

	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/zalando/go-keyring"

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

// ErrNoAccount means no login of that account is stored for the API.
var ErrNoAccount = errors.New("no such account")

// Load returns the login stored for apiURL and account ("" = the active
// one) with its tokens, ErrNotLoggedIn when there is none. It takes no
// lock: config.json is replaced atomically.
func (s *Store) Load(apiURL, account string) (*config.Login, error) {
	cfg, err := config.Load(s.Dir)
	if err != nil {
		return nil, err
	}
	return s.loadFrom(cfg, apiURL, account)
}

// find returns the login of (api, account) in cfg ("" = the active one)
// and whether it is the active one.
func find(cfg *config.File, api, account string) (*config.Login, bool) {
	if l := cfg.APIs[api]; l != nil && (account == "" || l.AccountName() == account) {
		return l, true
	}
	if account == "" {
		return nil, false
	}
	if l := cfg.Accounts[api][account]; l != nil {
		return l, false
	}
	return nil, false
}

// keyringUser is the keyring entry of a login.
func keyringUser(l *config.Login) string {
	if l.KeyringUser != "" {
		return l.KeyringUser
	}
	return l.APIURL
}

func (s *Store) loadFrom(cfg *config.File, apiURL, account string) (*config.Login, error) {
	l, _ := find(cfg, apiURL, account)
	if l == nil {
		if account != "" && len(cfg.Logins(apiURL)) > 0 {
			return nil, fmt.Errorf("%w %q for %s", ErrNoAccount, account, apiURL)
		}
		return nil, ErrNotLoggedIn
	}
	out := *l
	out.APIURL = apiURL
	if l.Storage == config.StorageKeyring {
		raw, err := s.Keyring.Get(s.Service, keyringUser(&out))
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

// Save stores a login (l.APIURL and l.Account name it). A new login
// (login true) becomes the active one of its API (another account's login
// is kept, inactive) and its API the current one; an update (a refresh)
// stays where it is and changes neither. It returns where the tokens went
// ("keyring" or "file").
func (s *Store) Save(ctx context.Context, l *config.Login, login bool) (string, error) {
	var where string
	err := config.Update(ctx, s.Dir, func(cfg *config.File) error {
		var err error
		where, err = s.put(cfg, l, login)
		return err
	})
	return where, err
}

// put writes in into cfg (and its secret into the keyring first, so that
// the metadata never points to a secret that is not there yet).
func (s *Store) put(cfg *config.File, in *config.Login, login bool) (string, error) {
	if cfg.APIs == nil {
		cfg.APIs = map[string]*config.Login{}
	}
	account := in.AccountName()
	prev, wasActive := find(cfg, in.APIURL, account)
	if prev == nil && !login {
		// An update of a login that is no longer stored (logged out by
		// another process meanwhile): kept where it cannot displace another
		// account's active login.
		wasActive = cfg.APIs[in.APIURL] == nil
	}
	l := *in
	l.Account = account
	l.UpdatedAt = s.now().UTC()
	l.HasRefreshToken = in.RefreshToken != ""
	l.AccessToken, l.RefreshToken = "", ""
	switch {
	case prev != nil:
		l.KeyringUser = prev.KeyringUser
	case len(cfg.Logins(in.APIURL)) > 0:
		l.KeyringUser = in.APIURL + "#" + account // another account of this API
	default:
		l.KeyringUser = ""
	}
	where, err := s.chooseAndWrite(cfg, &l, in)
	if err != nil {
		return "", err
	}
	l.Storage = where
	if where == config.StorageFile {
		l.AccessToken, l.RefreshToken = in.AccessToken, in.RefreshToken
	}
	l.APIURL = ""
	switch {
	case wasActive:
		cfg.APIs[in.APIURL] = &l
	case !login:
		park(cfg, in.APIURL, &l)
	default:
		// A login of another (or a parked) account becomes the active one;
		// the active one is parked.
		delete(cfg.Accounts[in.APIURL], account)
		if cur := cfg.APIs[in.APIURL]; cur != nil {
			park(cfg, in.APIURL, cur)
		}
		cfg.APIs[in.APIURL] = &l
	}
	if login {
		cfg.CurrentAPI = in.APIURL
	}
	if where == config.StorageFile && prev != nil && prev.Storage == config.StorageKeyring {
		_ = s.Keyring.Delete(s.Service, keyringUser(&config.Login{APIURL: in.APIURL, KeyringUser: prev.KeyringUser}))
	}
	return where, nil
}

// park keeps l as an inactive login of api.
func park(cfg *config.File, api string, l *config.Login) {
	if cfg.Accounts == nil {
		cfg.Accounts = map[string]map[string]*config.Login{}
	}
	if cfg.Accounts[api] == nil {
		cfg.Accounts[api] = map[string]*config.Login{}
	}
	if l.Account == "" {
		l.Account = l.AccountName()
	}
	cfg.Accounts[api][l.Account] = l
}

// Switch makes account the active login of api.
func (s *Store) Switch(ctx context.Context, api, account string) error {
	return config.Update(ctx, s.Dir, func(cfg *config.File) error {
		l, active := find(cfg, api, account)
		switch {
		case l == nil:
			return fmt.Errorf("%w %q for %s", ErrNoAccount, account, api)
		case active:
			return config.ErrUnchanged
		}
		delete(cfg.Accounts[api], account)
		if cur := cfg.APIs[api]; cur != nil {
			park(cfg, api, cur)
		}
		cfg.APIs[api] = l
		return nil
	})
}

func (s *Store) chooseAndWrite(cfg *config.File, meta, l *config.Login) (string, error) {
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
	err := s.Keyring.Set(s.Service, keyringUser(&config.Login{APIURL: l.APIURL, KeyringUser: meta.KeyringUser}), string(sec))
	if err == nil {
		if mode == StorageKeyring {
			cfg.KeyringUnavailable = nil
		}
		return config.StorageKeyring, nil
	}
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		// This one login does not fit in the keyring (Windows' credential
		// manager holds 2.5 KiB): it goes to the file; the keyring stays
		// in use for the others.
		if s.Notice != nil {
			fmt.Fprintf(s.Notice, "notice: the login for %s is too large for the OS keyring; storing its tokens in %s (mode 0600)\n", l.APIURL, s.ConfigPath())
		}
		return config.StorageFile, nil
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

// Delete removes the login of (apiURL, account) ("" = the active one; all
// of them with all) from the keyring and config.json. It returns the
// removed logins with their tokens (none when none was stored). When the
// active login is removed, another account's login (the first by name)
// becomes the active one.
func (s *Store) Delete(ctx context.Context, apiURL, account string, all bool) ([]*config.Login, error) {
	// Nothing stored: nothing to lock or write (so a config dir that cannot
	// be written is no error here). Under the lock it is checked again.
	if cfg, err := config.Load(s.Dir); err == nil && len(cfg.Logins(apiURL)) == 0 {
		return nil, nil
	}
	var removed []*config.Login
	err := config.Update(ctx, s.Dir, func(cfg *config.File) error {
		var targets []*config.Login
		if all {
			targets = cfg.Logins(apiURL)
		} else if l, _ := find(cfg, apiURL, account); l != nil {
			targets = []*config.Login{l}
		} else if account != "" && len(cfg.Logins(apiURL)) > 0 {
			return fmt.Errorf("%w %q for %s", ErrNoAccount, account, apiURL)
		}
		if len(targets) == 0 {
			return config.ErrUnchanged
		}
		for _, l := range targets {
			out := *l
			out.APIURL = apiURL
			if l.Storage == config.StorageKeyring {
				if raw, err := s.Keyring.Get(s.Service, keyringUser(&out)); err == nil {
					var sec keyringSecret
					if json.Unmarshal([]byte(raw), &sec) == nil {
						out.AccessToken, out.RefreshToken = sec.AccessToken, sec.RefreshToken
					}
				}
				if err := s.Keyring.Delete(s.Service, keyringUser(&out)); err != nil && !errors.Is(err, ErrKeyringNotFound) {
					return err
				}
			}
			removed = append(removed, &out)
			s.drop(cfg, apiURL, l)
		}
		return nil
	})
	return removed, err
}

// drop removes l, a login of apiURL, from cfg; when it was the active one,
// the first other account's login becomes active, and when none is left
// the API is no longer the current one.
func (s *Store) drop(cfg *config.File, apiURL string, l *config.Login) {
	if cfg.APIs[apiURL] == l {
		delete(cfg.APIs, apiURL)
		if others := cfg.Logins(apiURL); len(others) > 0 {
			next := others[0]
			delete(cfg.Accounts[apiURL], next.AccountName())
			cfg.APIs[apiURL] = next
		}
	} else {
		delete(cfg.Accounts[apiURL], l.AccountName())
	}
	if len(cfg.Accounts[apiURL]) == 0 {
		delete(cfg.Accounts, apiURL)
	}
	if cfg.APIs[apiURL] == nil && cfg.CurrentAPI == apiURL {
		cfg.CurrentAPI = ""
	}
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
