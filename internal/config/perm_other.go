//go:build !unix

package config

import (
	"io/fs"
	"os"
)

// openNonblock: no such flag (and no FIFO in the file system) here.
const openNonblock = 0

// lockFlags: no O_NOFOLLOW here; Lock refuses a symbolic link with Lstat
// before opening (creating a symbolic link on Windows needs a privilege).
func lockFlags() int { return os.O_CREATE | os.O_RDONLY }

// fileOwner: file modes and owners do not describe access here.
func fileOwner(fs.FileInfo) (int, bool) { return 0, false }
