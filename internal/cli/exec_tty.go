//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package cli

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

var forwardedSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// ctrlCReachesChild reports whether this process is in the foreground
// process group of its controlling terminal: a Ctrl-C there is sent to the
// whole group, the command included, so forwarding the SIGINT would make
// it two (and a second Ctrl-C means "force quit" to many programs).
func ctrlCReachesChild() bool {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false
	}
	defer tty.Close()
	fg, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && fg == unix.Getpgrp()
}
