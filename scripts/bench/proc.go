//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// command is one program to measure: argv and the environment it runs in.
type command struct {
	Label string
	Args  []string
	Env   []string // the whole environment (nil: inherit)
	Stdin string   // fed on stdin when not empty
}

// String is the command as a person would type it (no environment).
func (c command) String() string { return strings.Join(c.Args, " ") }

// sample is one run of a command.
type sample struct {
	Wall   time.Duration // fork to exit, as the parent sees it
	CPU    time.Duration // user + system time of the child
	MaxRSS int64         // peak resident set size in bytes (getrusage)
}

// runner starts commands with stdout and stderr on /dev/null, as hyperfine
// -N does, so that no pipe or copying goroutine is measured.
type runner struct {
	devnull *os.File
}

func newRunner() (*runner, error) {
	f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return &runner{devnull: f}, nil
}

func (r *runner) Close() error { return r.devnull.Close() }

// errExit is a command that exited non-zero.
type errExit struct {
	cmd    string
	code   int
	stderr string
}

func (e *errExit) Error() string {
	return fmt.Sprintf("%s: exit status %d: %s", e.cmd, e.code, strings.TrimSpace(e.stderr))
}

// run runs c once and returns its sample. A command that fails is run again
// with stderr captured, for the error message.
func (r *runner) run(ctx context.Context, c command) (sample, error) {
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Env = c.Env
	cmd.Stdout, cmd.Stderr = r.devnull, r.devnull
	if c.Stdin != "" {
		cmd.Stdin = strings.NewReader(c.Stdin)
	} else {
		cmd.Stdin = r.devnull
	}
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return sample{}, fmt.Errorf("%s: %w", c, err)
		}
		var stderr bytes.Buffer
		again := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
		again.Env, again.Stderr = c.Env, &stderr
		_ = again.Run()
		return sample{}, &errExit{cmd: c.String(), code: ee.ExitCode(), stderr: stderr.String()}
	}
	return sampleOf(cmd.ProcessState, wall), nil
}

func sampleOf(ps *os.ProcessState, wall time.Duration) sample {
	s := sample{Wall: wall, CPU: ps.UserTime() + ps.SystemTime()}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		s.MaxRSS = ru.Maxrss * 1024 // KiB on Linux
	}
	return s
}

// interleave runs every command warmup times, then runs times each in
// round-robin order, so that a change in the machine's load during the run
// hits every command alike.
func (r *runner) interleave(ctx context.Context, cmds []command, warmup, runs int) ([][]sample, error) {
	out := make([][]sample, len(cmds))
	for i := 0; i < warmup+runs; i++ {
		for j, c := range cmds {
			s, err := r.run(ctx, c)
			if err != nil {
				return nil, err
			}
			if i >= warmup {
				out[j] = append(out[j], s)
			}
		}
	}
	return out, nil
}
