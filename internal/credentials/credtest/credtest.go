// Package credtest holds test doubles for package credentials: one
// in-memory Keyring shared by the tests of every package that needs one.
package credtest

import (
	"sync"
	"sync/atomic"

	"github.com/sesame-cli/sesame/internal/credentials"
)

// Keyring is an in-memory credentials.Keyring. Every call is counted; when
// Block is set it first waits until Block is closed; then it fails with Err
// when Err is set, else it keeps secrets in Secrets (keyed
// "service/user"). A missing secret is credentials.ErrKeyringNotFound.
// The zero value is an empty, working keyring.
type Keyring struct {
	Secrets map[string]string
	Err     error
	Block   chan struct{}

	mu    sync.Mutex
	calls atomic.Int32
}

var _ credentials.Keyring = (*Keyring)(nil)

// Calls returns the number of calls so far.
func (k *Keyring) Calls() int { return int(k.calls.Load()) }

// Secret returns what the keyring holds for service and user.
func (k *Keyring) Secret(service, user string) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.Secrets[service+"/"+user]
	return s, ok
}

// do counts the call, waits for Block, and runs fn under the lock unless
// Err is set.
func (k *Keyring) do(fn func() (string, error)) (string, error) {
	k.calls.Add(1)
	if k.Block != nil {
		<-k.Block
	}
	if k.Err != nil {
		return "", k.Err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return fn()
}

// Get implements credentials.Keyring.
func (k *Keyring) Get(service, user string) (string, error) {
	return k.do(func() (string, error) {
		s, ok := k.Secrets[service+"/"+user]
		if !ok {
			return "", credentials.ErrKeyringNotFound
		}
		return s, nil
	})
}

// Set implements credentials.Keyring.
func (k *Keyring) Set(service, user, secret string) error {
	_, err := k.do(func() (string, error) {
		if k.Secrets == nil {
			k.Secrets = map[string]string{}
		}
		k.Secrets[service+"/"+user] = secret
		return "", nil
	})
	return err
}

// Delete implements credentials.Keyring.
func (k *Keyring) Delete(service, user string) error {
	_, err := k.do(func() (string, error) {
		if _, ok := k.Secrets[service+"/"+user]; !ok {
			return "", credentials.ErrKeyringNotFound
		}
		delete(k.Secrets, service+"/"+user)
		return "", nil
	})
	return err
}
