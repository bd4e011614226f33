//go:build !unix

package cli_test

import "syscall"

func ownProcessGroup() *syscall.SysProcAttr { return nil }
