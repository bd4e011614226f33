package config

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"time"

	"github.com/gofrs/flock"
)

// LockTimeout bounds how long a process waits for another's lock.
const LockTimeout = 30 * time.Second

// ErrLockTimeout means another process held the config lock too long.
var ErrLockTimeout = errors.New("timed out waiting for the config lock (another process is holding it)")

// Lock takes the cross-process lock of dir (dir/config.json.lock) and
// returns its release function. It refuses (*UnsafeError) a dir that others
// can write and a lock file that is a symbolic link or not a regular file.
func Lock(ctx context.Context, dir string) (func(), error) {
	unlock, _, err := lock(ctx, dir, nil)
	return unlock, err
}

// lockPoll is how often a waiter for the lock re-reads config.json to see
// whether it still needs the lock (see UpdateUnless).
const lockPoll = 50 * time.Millisecond

// lock takes the cross-process lock of dir. While it waits, every lockPoll
// it calls done (when not nil), and gives up waiting (done == true, no
// lock) as soon as done says that what the lock was wanted for has
// happened. Tries are spread with jitter so that hundreds of waiters do
// not wake in step.
func lock(ctx context.Context, dir string, done func() bool) (unlock func(), finished bool, err error) {
	if err := EnsureDir(dir); err != nil {
		return nil, false, err
	}
	if runtime.GOOS != "windows" {
		if err := checkPath(dir); err != nil {
			if _, ok := errors.AsType[*UnsafeError](err); ok {
				return nil, false, err
			}
		}
	}
	lockPath := filepath.Join(dir, FileName+".lock")
	if err := checkLockPath(lockPath); err != nil {
		return nil, false, err
	}
	// Not through a symbolic link (O_NOFOLLOW where there is one), so a
	// planted link cannot make sesame create or lock a file elsewhere.
	l := flock.New(lockPath, flock.SetFlag(lockFlags()))
	ctx, cancel := context.WithTimeout(ctx, LockTimeout)
	defer cancel()
	lastCheck := time.Now()
	tries := 0
	for {
		ok, err := l.TryLock()
		if err != nil {
			if err := checkLockPath(lockPath); err != nil {
				return nil, false, err // swapped for a link after the first check
			}
			if _, ok := errors.AsType[*fs.PathError](err); ok {
				return nil, false, dirError(dir, err) // the lock file cannot be created
			}
			return nil, false, fmt.Errorf("lock config: %w", err)
		}
		if ok {
			return func() { _ = l.Unlock() }, false, nil
		}
		if done != nil && time.Since(lastCheck) >= lockPoll {
			if done() {
				return nil, true, nil
			}
			lastCheck = time.Now()
		}
		// Back off (10 ms, doubling to 200 ms, with jitter): hundreds of
		// waiters polling fast would starve the holder of CPU.
		pause := min(10*time.Millisecond<<min(tries, 5), 200*time.Millisecond)
		tries++
		wait := time.NewTimer(pause/2 + time.Duration(rand.Int64N(int64(pause))))
		select {
		case <-ctx.Done():
			wait.Stop()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && context.Cause(ctx) == context.DeadlineExceeded {
				return nil, false, ErrLockTimeout
			}
			return nil, false, ctx.Err()
		case <-wait.C:
		}
	}
}
