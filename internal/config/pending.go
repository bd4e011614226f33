package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// PendingFileName is the file, next to config.json, that holds the device
// logins started with "login --no-wait" and not yet finished with
// "login --resume": one per API.
const PendingFileName = "pending-logins.json"

// maxPendingSize bounds the pending file (a handful of small entries).
const maxPendingSize = 1 << 20

// Pending is the pending-logins file.
type Pending struct {
	Version int                      `json:"version"`
	Logins  map[string]*PendingLogin `json:"logins,omitempty"`
}

// PendingLogin is a device authorization (RFC 8628) that was started and
// not yet polled to the end: what "login --resume" needs to finish it.
type PendingLogin struct {
	// APIURL is the key of the entry (not written twice).
	APIURL   string `json:"-"`
	Issuer   string `json:"issuer"`
	ClientID string `json:"clientId"`
	// Confidential: the client authenticates with <NAME>_CLIENT_SECRET,
	// which is read again when the login is resumed (never stored here).
	Confidential bool `json:"confidential,omitempty"`
	// Registered: sesame registered the client (RFC 7591).
	Registered bool     `json:"registered,omitempty"`
	Scopes     []string `json:"scopes,omitempty"`
	Resource   string   `json:"resource,omitempty"`
	Method     string   `json:"method"`

	DeviceCode              string    `json:"deviceCode"`
	UserCode                string    `json:"userCode"`
	VerificationURI         string    `json:"verificationUri"`
	VerificationURIComplete string    `json:"verificationUriComplete,omitempty"`
	ExpiresAt               time.Time `json:"expiresAt"`
	Interval                int       `json:"interval"` // seconds
	CreatedAt               time.Time `json:"createdAt,omitzero"`
}

// LoadPending reads the pending logins of dir (none when the file does not
// exist). Like Load it refuses (*UnsafeError) a dir or file that another
// user could change, and (*ParseError) one that is not a regular file, too
// large, or not JSON.
func LoadPending(dir string) (*Pending, error) {
	p := filepath.Join(dir, PendingFileName)
	empty := &Pending{Version: Version, Logins: map[string]*PendingLogin{}}
	data, err := readPrivate(dir, PendingFileName, maxPendingSize)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return empty, nil
	}
	var out Pending
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, &ParseError{Path: p, Err: errors.New("not valid JSON (delete the file: the pending logins are lost)")}
	}
	if out.Logins == nil {
		out.Logins = map[string]*PendingLogin{}
	}
	for api, l := range out.Logins {
		if l == nil {
			delete(out.Logins, api)
			continue
		}
		l.APIURL = api
	}
	return &out, nil
}

// UpdatePending changes the pending logins of dir under the config lock:
// it loads them, calls fn and writes the result atomically (0600; the file
// is removed when no login is left). fn returning ErrUnchanged writes
// nothing.
func UpdatePending(ctx context.Context, dir string, fn func(*Pending) error) error {
	unlock, err := Lock(ctx, dir)
	if err != nil {
		return err
	}
	defer unlock()
	pf, err := LoadPending(dir)
	if err != nil {
		return err
	}
	if err := fn(pf); errors.Is(err, ErrUnchanged) {
		return nil
	} else if err != nil {
		return err
	}
	removeStaleTemps(dir, PendingFileName)
	if len(pf.Logins) == 0 {
		if err := os.Remove(filepath.Join(dir, PendingFileName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove the pending logins: %w", err)
		}
		return nil
	}
	pf.Version = Version
	data, err := encodeJSON(pf)
	if err != nil {
		return fmt.Errorf("encode the pending logins: %w", err)
	}
	return WriteFileAtomic(dir, PendingFileName, data)
}
