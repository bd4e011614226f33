// Package config reads and writes the config directory: config.json with
// per-API state, written atomically under a cross-process lock.
package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"time"
)

// Version is the config.json schema version this build writes.
const Version = 1

// FileName is the config file's name inside the config dir.
const FileName = "config.json"

// maxFileSize bounds what is read from config.json.
const maxFileSize = 4 << 20

// Storage kinds.
const (
	StorageKeyring = "keyring"
	StorageFile    = "file"
)

// File is config.json.
type File struct {
	Version int `json:"version"`
	// CurrentAPI is the API of the last login.
	CurrentAPI string `json:"currentApi,omitempty"`
	// KeyringUnavailable remembers that the OS keyring failed, so that
	// storage "auto" does not wait for it again.
	KeyringUnavailable *KeyringFailure `json:"keyringUnavailable,omitempty"`
	// APIs holds the active stored login per API URL.
	APIs map[string]*Login `json:"apis,omitempty"`
	// Accounts holds the other logins per API URL, by account name: a
	// switch swaps one with the active login (the tokens do not move: a
	// login's keyring entry is named by its KeyringUser).
	Accounts map[string]map[string]*Login `json:"accounts,omitempty"`
	// Clients caches dynamically registered clients per issuer.
	Clients map[string]*RegisteredClient `json:"clients,omitempty"`
	// Minted caches client-credentials tokens by key (client id, issuer,
	// scopes): only AccessToken, ExpiresAt and Scopes are set.
	Minted map[string]*Login `json:"minted,omitempty"`
}

// KeyringFailure records when and why the keyring failed.
type KeyringFailure struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// Login is one API's stored login. In config.json the tokens are here only
// when Storage is "file"; with "keyring" they live in the OS keyring. In
// memory (credentials.Store.Load) they are always filled in.
type Login struct {
	// APIURL is the key of the login in config.json (not written twice).
	APIURL string `json:"-"`
	// Account names the login among the API's logins: the identity's
	// email, else its login name, else its subject ("" for a login stored
	// before accounts: see AccountName).
	Account string `json:"account,omitempty"`
	// KeyringUser is the keyring entry ("user") holding the tokens when
	// Storage is "keyring"; "" means the API URL (logins stored before
	// accounts).
	KeyringUser string   `json:"keyringUser,omitempty"`
	Storage     string   `json:"storage,omitempty"`
	Issuer      string   `json:"issuer,omitempty"`
	ClientID    string   `json:"clientId,omitempty"`
	Scopes      []string `json:"scopes,omitempty"`
	// RequestedScopes are the scopes the login asked for (openid and
	// offline_access included); a renewal asks for the same.
	RequestedScopes []string  `json:"requestedScopes,omitempty"`
	TokenType       string    `json:"tokenType,omitempty"`
	ExpiresAt       time.Time `json:"expiresAt,omitzero"`
	User            string    `json:"user,omitempty"`
	Method          string    `json:"method,omitempty"`
	// Confidential: the client authenticates with <NAME>_CLIENT_SECRET.
	Confidential bool `json:"confidential,omitempty"`
	// Resource is the RFC 8707 resource indicator the login was made for
	// (sent again with every refresh).
	Resource     string    `json:"resource,omitempty"`
	UpdatedAt    time.Time `json:"updatedAt,omitzero"`
	AccessToken  string    `json:"accessToken,omitempty"`
	RefreshToken string    `json:"refreshToken,omitempty"`
	// HasRefreshToken is true when a refresh token is stored (in either place).
	HasRefreshToken bool `json:"hasRefreshToken,omitempty"`
}

// AccountName is the login's account name: Account, else (a login stored
// before accounts) its User, else "default".
func (l *Login) AccountName() string {
	switch {
	case l.Account != "":
		return l.Account
	case l.User != "" && l.User != "unknown user":
		return l.User
	}
	return "default"
}

// Logins returns every login stored for api, the active one first, then
// the others by account name.
func (f *File) Logins(api string) []*Login {
	var out []*Login
	if l := f.APIs[api]; l != nil {
		out = append(out, l)
	}
	for _, name := range slices.Sorted(maps.Keys(f.Accounts[api])) {
		if l := f.Accounts[api][name]; l != nil {
			out = append(out, l)
		}
	}
	return out
}

// RegisteredClient is a client registered with RFC 7591 at an issuer.
type RegisteredClient struct {
	ClientID     string    `json:"clientId"`
	RegisteredAt time.Time `json:"registeredAt,omitzero"`
	// RedirectURI is the exact loopback redirect URI registered, port
	// included ("" for a client registered without one: any port).
	RedirectURI string `json:"redirectUri,omitempty"`
}

// ParseError means config.json exists but cannot be used.
type ParseError struct {
	Path string
	Err  error
}

func (e *ParseError) Error() string { return fmt.Sprintf("config file %s: %v", e.Path, e.Err) }
func (e *ParseError) Unwrap() error { return e.Err }

// DirError means the config directory cannot be created or written: a path
// that goes through a file, a read-only file system, no permission. It
// unwraps to the OS error and to ErrNoConfigDir, whose advice (choose
// another directory with <NAME>_CONFIG_DIR) applies.
type DirError struct {
	Dir string
	Err error
}

func (e *DirError) Error() string {
	return fmt.Sprintf("config dir %s is not usable: %v", e.Dir, e.Err)
}

// Unwrap returns the OS error and ErrNoConfigDir.
func (e *DirError) Unwrap() []error { return []error{e.Err, ErrNoConfigDir} }

// dirError wraps an OS error about dir, keeping only its cause ("not a
// directory", "read-only file system") when it is a *fs.PathError.
func dirError(dir string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &DirError{Dir: dir, Err: err}
}

// Path returns config.json inside dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// Load reads config.json from dir. A missing file is an empty config.
//
// It refuses (with an *UnsafeError) a dir or file that another user could
// change (see CheckPrivate), and (with a *ParseError) a config.json that is
// not a regular file (a FIFO must not hang) or larger than maxFileSize.
func Load(dir string) (*File, error) {
	p := Path(dir)
	data, err := readPrivate(dir, FileName, maxFileSize)
	if err != nil {
		return nil, err
	}
	if data == nil {
		// No file, or a part of the path is a file: there is no config
		// yet; writing one will say that the dir is not usable.
		return &File{Version: Version}, nil
	}
	return Parse(p, data)
}

// readPrivate reads dir/name as every file of the config dir is read: the
// dir and the file must be ones no other user can change (CheckPrivate's
// rule, an *UnsafeError otherwise), the file regular (opened without
// blocking: a FIFO must not hang) and at most max bytes (a *ParseError
// otherwise). A missing file, or a path that goes through a file, is nil
// data and no error.
func readPrivate(dir, name string, max int64) ([]byte, error) {
	p := filepath.Join(dir, name)
	if runtime.GOOS != "windows" {
		for _, path := range []string{dir, p} {
			if err := checkPath(path); err != nil {
				if _, ok := errors.AsType[*UnsafeError](err); ok {
					return nil, err
				}
				return nil, &ParseError{Path: p, Err: err}
			}
		}
	}
	f, err := os.OpenFile(p, os.O_RDONLY|openNonblock, 0)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil
	}
	if err != nil {
		return nil, &ParseError{Path: p, Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &ParseError{Path: p, Err: err}
	}
	if !fi.Mode().IsRegular() {
		return nil, &ParseError{Path: p, Err: errors.New("not a regular file")}
	}
	// What was opened, not only what the path named a moment ago.
	if runtime.GOOS != "windows" {
		if err := checkInfo(p, fi); err != nil {
			return nil, err
		}
	}
	if fi.Size() > max {
		return nil, &ParseError{Path: p, Err: errors.New("file is too large")}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, &ParseError{Path: p, Err: err}
	}
	if int64(len(data)) > max {
		return nil, &ParseError{Path: p, Err: errors.New("file is too large")}
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// Parse decodes config.json bytes.
func Parse(path string, data []byte) (*File, error) {
	if len(data) > maxFileSize {
		return nil, &ParseError{Path: path, Err: errors.New("file is too large")}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return &File{Version: Version}, nil
	}
	var cfg File
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, &ParseError{Path: path, Err: errors.New("not valid JSON (fix or delete the file)")}
	}
	if cfg.Version > Version {
		return nil, &ParseError{Path: path, Err: fmt.Errorf("written by a newer version (schema %d, this build reads %d)", cfg.Version, Version)}
	}
	cfg.Version = Version
	return &cfg, nil
}

// Save writes cfg to dir atomically: a temp file in the same dir, fsync,
// rename, then fsync of the dir. The dir is created 0700, the file 0600.
// It must be called with the lock held (Update does): it first removes the
// temp files of writers that were killed before their rename, which may
// hold tokens.
//
// The JSON is indented and not HTML-escaped (a token of "<" stays one
// byte). Save refuses with a *TooLargeError, and leaves the file as it
// was, when the result would be larger than Load reads back; and with an
// *UnsafeError when dir could be changed by another user.
func Save(dir string, cfg *File) error {
	cfg.Version = Version
	data, err := Encode(cfg)
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	if len(data) > maxFileSize {
		return &TooLargeError{Path: Path(dir), Size: len(data), Max: maxFileSize}
	}
	if runtime.GOOS != "windows" {
		if err := checkPath(dir); err != nil {
			if _, ok := errors.AsType[*UnsafeError](err); ok {
				return err
			}
		}
	}
	removeStaleTemps(dir, FileName)
	return WriteFileAtomic(dir, FileName, data)
}

// Encode returns cfg as Save writes it: indented JSON without HTML
// escaping, ending in a newline.
func Encode(cfg *File) ([]byte, error) { return encodeJSON(cfg) }

// encodeJSON is how every file of the config dir is written: indented JSON
// without HTML escaping, ending in a newline.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// MaxFileSize is the largest config.json Load reads (and Save writes).
const MaxFileSize = maxFileSize

// removeStaleTemps removes dir/.name.tmp-* (best effort).
func removeStaleTemps(dir, name string) {
	stale, _ := filepath.Glob(filepath.Join(dir, "."+name+".tmp-*"))
	for _, p := range stale {
		_ = os.Remove(p)
	}
}

// EnsureDir creates dir with mode 0700 if needed. A dir it creates that
// comes out more open than 0700 (a default ACL, a file system's own modes)
// is tightened to 0700; an existing dir is left as it is (Load refuses one
// that others can write).
func EnsureDir(dir string) error {
	_, err := os.Stat(dir)
	created := errors.Is(err, fs.ErrNotExist)
	if err := mkdirAll(dir, 0o700); err != nil {
		return dirError(dir, err)
	}
	if created && runtime.GOOS != "windows" {
		fi, err := os.Stat(dir)
		if err != nil {
			return dirError(dir, err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(dir, 0o700); err != nil {
				return dirError(dir, err)
			}
		}
	}
	return nil
}

// mkdirAll is os.MkdirAll; tests replace it to create a too open dir.
var mkdirAll = os.MkdirAll

// WriteFileAtomic replaces dir/name with data, mode 0600, atomically.
func WriteFileAtomic(dir, name string, data []byte) error {
	if err := EnsureDir(dir); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return dirError(dir, err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("write config: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := os.Rename(tmpName, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	ok = true
	syncDir(dir)
	return nil
}

func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// ErrUnchanged, returned by an Update function, means there is nothing to
// write: Update returns nil without saving.
var ErrUnchanged = errors.New("config unchanged")

// Update is the one writer of config.json: it loads it under the lock,
// calls fn, and saves the result if fn returns nil (nothing when fn returns
// ErrUnchanged). The lock is held across read, fn and write, so concurrent
// processes never lose each other's changes.
func Update(ctx context.Context, dir string, fn func(*File) error) error {
	return UpdateUnless(ctx, dir, nil, fn)
}

// ErrDone is what UpdateUnless returns when done said, while it waited for
// the lock, that the update is no longer needed.
var ErrDone = errors.New("done by another process")

// UpdateUnless is Update for an update that another process may make
// first (a refresh): while it waits for the lock it re-reads config.json
// every 50 ms (without the lock: it is replaced atomically) and returns
// ErrDone, without the lock and without calling fn, as soon as done says
// so. Hundreds of processes at one expired login then leave as soon as one
// of them has stored the new token, instead of each taking the lock in turn.
func UpdateUnless(ctx context.Context, dir string, done func(*File) bool, fn func(*File) error) error {
	var check func() bool
	if done != nil {
		// Parse config.json only when it changed since the last look (a
		// stat per poll, not a parse).
		var last os.FileInfo
		check = func() bool {
			fi, err := os.Stat(Path(dir))
			if err != nil || (last != nil && os.SameFile(fi, last) && fi.ModTime().Equal(last.ModTime()) && fi.Size() == last.Size()) {
				return false
			}
			last = fi
			cfg, err := Load(dir)
			return err == nil && done(cfg)
		}
	}
	unlock, finished, err := lock(ctx, dir, check)
	if err != nil {
		return err
	}
	if finished {
		return ErrDone
	}
	defer unlock()
	cfg, err := Load(dir)
	if err != nil {
		return err
	}
	if err := fn(cfg); errors.Is(err, ErrUnchanged) {
		return nil
	} else if err != nil {
		return err
	}
	return Save(dir, cfg)
}
