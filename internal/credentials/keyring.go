package credentials

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"
)

// Keyring is the OS secret store. The real one is OSKeyring; tests may
// supply their own.
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// ErrKeyringNotFound means the keyring holds no such secret.
var ErrKeyringNotFound = errors.New("not found in keyring")

// KeyringError means the keyring could not be used (no Secret Service, a
// locked keyring, a timeout).
type KeyringError struct {
	Op  string
	Err error
}

func (e *KeyringError) Error() string { return fmt.Sprintf("keyring %s: %v", e.Op, e.Err) }
func (e *KeyringError) Unwrap() error { return e.Err }

// OSKeyring is the OS keyring through zalando/go-keyring (Secret Service
// on Linux, Keychain on macOS, Credential Manager on Windows).
type OSKeyring struct{}

// Get implements Keyring.
func (OSKeyring) Get(service, user string) (string, error) {
	s, err := keyring.Get(service, user)
	if errors.Is(err, keyring.ErrNotFound) {
		return "", ErrKeyringNotFound
	}
	return s, err
}

// Set implements Keyring.
func (OSKeyring) Set(service, user, secret string) error { return keyring.Set(service, user, secret) }

// Delete implements Keyring.
func (OSKeyring) Delete(service, user string) error {
	err := keyring.Delete(service, user)
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrKeyringNotFound
	}
	return err
}

// DefaultKeyringTimeout bounds every keyring call.
const DefaultKeyringTimeout = 3 * time.Second

// TimeoutKeyring bounds each call of Keyring by Timeout: a keyring that
// hangs (a locked Secret Service waiting for a prompt) becomes an error.
type TimeoutKeyring struct {
	Keyring Keyring
	Timeout time.Duration
}

func (k TimeoutKeyring) do(op string, fn func() (string, error)) (string, error) {
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := fn()
		ch <- result{s, err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), k.Timeout)
	defer cancel()
	select {
	case r := <-ch:
		if r.err != nil && !errors.Is(r.err, ErrKeyringNotFound) {
			return "", &KeyringError{Op: op, Err: r.err}
		}
		return r.s, r.err
	case <-ctx.Done():
		return "", &KeyringError{Op: op, Err: fmt.Errorf("no answer within %s", k.Timeout)}
	}
}

// Get implements Keyring.
func (k TimeoutKeyring) Get(service, user string) (string, error) {
	return k.do("read", func() (string, error) { return k.Keyring.Get(service, user) })
}

// Set implements Keyring.
func (k TimeoutKeyring) Set(service, user, secret string) error {
	_, err := k.do("write", func() (string, error) { return "", k.Keyring.Set(service, user, secret) })
	return err
}

// Delete implements Keyring.
func (k TimeoutKeyring) Delete(service, user string) error {
	_, err := k.do("delete", func() (string, error) { return "", k.Keyring.Delete(service, user) })
	return err
}
