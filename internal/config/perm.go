package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"github.com/sesame-cli/sesame/internal/redact"
)

// UnsafeError means the config directory or a file in it could be changed
// by another user (ssh's rule: it must belong to the user, or to root, and
// be writable by nobody else), or that a file sesame opens is a symbolic
// link or not a regular file. Sesame then refuses to read logins from it.
// Error names the path and the problem; Fix is the command that repairs it.
type UnsafeError struct {
	// Path is the directory or file.
	Path string
	// Problem completes the sentence that starts with Path: "is writable
	// by other users (mode 0777)".
	Problem string
	// Fix is a shell command, with the path quoted: "chmod 700 DIR",
	// "chmod 600 FILE", "chown USER PATH", "rm FILE".
	Fix string
}

func (e *UnsafeError) Error() string { return e.Path + " " + e.Problem }

// CheckPrivate applies ssh's rule to the config directory dir and to its
// config.json: each must be owned by the current user (or root) and not be
// writable by group or others. A group- or world-readable directory or file
// passes (doctor warns about it). A missing dir or file passes. The error is
// an *UnsafeError for a broken rule, else the error of os.Stat. On windows
// (goos), where modes do not describe access, it checks nothing.
func CheckPrivate(dir string, goos string) error {
	if goos == "windows" {
		return nil
	}
	if err := checkPath(dir); err != nil {
		return err
	}
	return checkPath(Path(dir))
}

// checkPath checks one path (following a symlink, as ssh does); a missing
// path passes.
func checkPath(p string) error {
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	if err != nil {
		return err
	}
	return checkInfo(p, fi)
}

// checkInfo applies the rule to p, described by fi.
func checkInfo(p string, fi fs.FileInfo) error {
	if uid, ok := fileOwner(fi); ok && uid != os.Getuid() && uid != 0 {
		return &UnsafeError{
			Path:    p,
			Problem: fmt.Sprintf("is owned by another user (uid %d)", uid),
			Fix:     "chown " + redact.ShellQuote(currentUser()) + " " + redact.ShellQuote(p),
		}
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		fix := "chmod 600 "
		if fi.IsDir() {
			fix = "chmod 700 "
		}
		return &UnsafeError{
			Path:    p,
			Problem: fmt.Sprintf("is writable by other users (mode %04o)", perm),
			Fix:     fix + redact.ShellQuote(p),
		}
	}
	return nil
}

// currentUser is the name for chown: the user name, else the numeric id.
func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return strconv.Itoa(os.Getuid())
}

// checkLockPath refuses a lock file that is a symbolic link (planted to
// make sesame create or lock a file elsewhere) or not a regular file (a FIFO
// would hang the open). A missing lock file passes: it is created.
func checkLockPath(p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil // the open reports it
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return &UnsafeError{Path: p, Problem: "is a symbolic link (sesame does not follow one for its lock file)", Fix: "rm " + redact.ShellQuote(p)}
	case !fi.Mode().IsRegular():
		return &UnsafeError{Path: p, Problem: "is not a regular file", Fix: "rm " + redact.ShellQuote(p)}
	}
	return nil
}

// TooLargeError means Save refused to write a config.json that Load could
// not read back (over maxFileSize): one oversized login must never make the
// others unreadable. The file on disk is unchanged.
type TooLargeError struct {
	Path string
	// Size is the encoded size; Max what Load reads.
	Size, Max int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("config file %s not saved: it would be %d bytes, more than the %d this version reads", e.Path, e.Size, e.Max)
}
