//go:build unix

package main

import (
	"context"
	"errors"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

func armed(c *signalContext) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.armed != nil
}

// wait fails the test when ch is not closed within a generous bound.
func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the context was not canceled", what)
	}
}

func TestSignalContextNotArmedUntilDone(t *testing.T) {
	c := newSignalContext(context.Background(), syscall.SIGUSR1)
	defer c.Stop()
	if err := c.Err(); err != nil {
		t.Errorf("Err() before Done = %v, want nil", err)
	}
	if _, ok := c.Deadline(); ok {
		t.Errorf("Deadline() reports a deadline the parent does not have")
	}
	if armed(c) {
		t.Fatalf("armed by Err or Deadline; want armed only by Done")
	}
	c.Stop() // a no-op before arming
	if c.Done() == nil || !armed(c) {
		t.Fatalf("Done did not arm the signal handler")
	}
}

func TestSignalContextCanceledBySignal(t *testing.T) {
	tests := []struct {
		name string
		arm  func(c *signalContext) <-chan struct{}
	}{
		{"Done", func(c *signalContext) <-chan struct{} { return c.Done() }},
		{"derived context", func(c *signalContext) <-chan struct{} {
			d, cancel := context.WithTimeout(c, time.Hour)
			t.Cleanup(cancel)
			return d.Done()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newSignalContext(context.Background(), syscall.SIGUSR1)
			defer c.Stop()
			done := tt.arm(c)
			if !armed(c) {
				t.Fatalf("not armed")
			}
			if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
				t.Fatal(err)
			}
			wait(t, done, tt.name)
			if err := c.Err(); !errors.Is(err, context.Canceled) {
				t.Errorf("Err() after the signal = %v, want context.Canceled", err)
			}
		})
	}
}

func TestSignalContextParentCanceled(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	c := newSignalContext(parent, syscall.SIGUSR1)
	defer c.Stop()
	cancel()
	if err := c.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err() before Done with a canceled parent = %v, want context.Canceled", err)
	}
	wait(t, c.Done(), "canceled parent")
}

func TestSignalContextStopCancels(t *testing.T) {
	c := newSignalContext(context.Background(), syscall.SIGUSR1)
	done := c.Done()
	c.Stop()
	wait(t, done, "Stop")
}

func TestSignalContextConcurrentUse(t *testing.T) {
	c := newSignalContext(context.Background(), syscall.SIGUSR1)
	defer c.Stop()
	var wg sync.WaitGroup
	chans := make([]<-chan struct{}, 8)
	for i := range chans {
		wg.Go(func() {
			_ = c.Err()
			chans[i] = c.Done()
		})
	}
	wg.Wait()
	for i, ch := range chans {
		if ch != chans[0] {
			t.Errorf("Done() in goroutine %d returned another channel: armed twice", i)
		}
	}
}
