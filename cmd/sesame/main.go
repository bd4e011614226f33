// Command sesame gets a working bearer token for an HTTP API and keeps it
// working. See the README for the contract.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sesame-cli/sesame/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx)
	stop()
	os.Exit(code)
}
