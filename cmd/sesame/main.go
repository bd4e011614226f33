// Command sesame gets a working bearer token for an HTTP API and keeps it
// working. See the README for the contract. It is the public package
// (github.com/sesame-cli/sesame) run with the build's Config.
package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/sesame-cli/sesame"
	"github.com/sesame-cli/sesame/internal/buildinfo"
)

func main() {
	ctx := newSignalContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := sesame.New(defaultConfig()).Run(ctx, os.Args[1:])
	ctx.Stop()
	os.Exit(code)
}

// defaultConfig is sesame's own Config: the build's name and defaults,
// which a white-label build sets with -ldflags -X (internal/buildinfo).
func defaultConfig() sesame.Config {
	return sesame.Config{
		Name:          buildinfo.Name,
		DefaultAPIURL: buildinfo.DefaultAPIURL,
		ClientID:      buildinfo.ClientID,
		MePath:        buildinfo.MePath,
	}
}

// signalContext is signal.NotifyContext armed on first use: the handler is
// installed by the first call to Done, which anything that waits on the
// context (an HTTP request, the config lock, a device-flow poll, a derived
// context) makes before it starts. A run that never waits, such as `auth
// token` with <NAME>_TOKEN set or with a stored token that is not expiring,
// then does not pay for signal.Notify, which starts goroutines and two more
// OS threads: 0.5 ms, a few percent of that run (see BENCHMARKS.md). Until
// it is armed a signal has its default effect and ends the process, which
// has nothing to clean up at that point.
type signalContext struct {
	context.Context // the parent: Deadline and Value

	sigs []os.Signal

	mu     sync.Mutex
	armed  context.Context
	cancel context.CancelFunc
}

func newSignalContext(parent context.Context, sigs ...os.Signal) *signalContext {
	return &signalContext{Context: parent, sigs: sigs}
}

// Done installs the signal handler (once) and returns its channel.
func (c *signalContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.armed == nil {
		c.armed, c.cancel = signal.NotifyContext(c.Context, c.sigs...)
	}
	return c.armed.Done()
}

// Err is the parent's error until Done was called: no signal can have been
// caught before.
func (c *signalContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.armed == nil {
		return c.Context.Err()
	}
	return c.armed.Err()
}

// Stop restores the default signal behaviour (a no-op when never armed).
func (c *signalContext) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
}
