//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package cli

import "os"

var forwardedSignals = []os.Signal{os.Interrupt}

// ctrlCReachesChild is false where process groups cannot be asked about:
// every SIGINT is passed on.
func ctrlCReachesChild() bool { return false }
