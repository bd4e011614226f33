//go:build unix

package cli_test

import "syscall"

// ownProcessGroup puts a started program in a process group of its own.
func ownProcessGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
