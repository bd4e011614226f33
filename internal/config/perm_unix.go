//go:build unix

package config

import (
	"io/fs"
	"os"
	"runtime"
	"syscall"
)

// openNonblock makes opening a FIFO return at once instead of waiting for
// a writer; it changes nothing for a regular file.
const openNonblock = syscall.O_NONBLOCK

// lockFlags open the lock file without following a symbolic link (and
// without blocking on a FIFO). Like gofrs/flock's default, read-only except
// where an exclusive lock needs a writable descriptor.
func lockFlags() int {
	f := os.O_CREATE | syscall.O_NOFOLLOW | syscall.O_NONBLOCK
	switch runtime.GOOS {
	case "aix", "solaris", "illumos":
		return f | os.O_RDWR
	}
	return f | os.O_RDONLY
}

// fileOwner returns the owner's uid.
func fileOwner(fi fs.FileInfo) (int, bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), true
	}
	return 0, false
}
