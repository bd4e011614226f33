//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// gnuTime measures peak resident memory with GNU time (`time -f %M`),
// which forks a small C process: the child's peak is its own. (getrusage
// of a child started by this Go program would also count this program's
// memory: Go starts children with vfork, whose memory before exec is the
// parent's.)
type gnuTime struct {
	Path string
	Dir  string // for the -o files
}

// peakRSS runs c n times and returns each run's peak RSS in bytes.
func (g *gnuTime) peakRSS(ctx context.Context, c command, n int) ([]float64, error) {
	out := filepath.Join(g.Dir, "time.out")
	var rss []float64
	for range n {
		args := append([]string{"-f", "%M", "-o", out}, c.Args...)
		cmd := exec.CommandContext(ctx, g.Path, args...)
		cmd.Env = c.Env
		if c.Stdin != "" {
			cmd.Stdin = strings.NewReader(c.Stdin)
		}
		if msg, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %w: %s", c, err, strings.TrimSpace(string(msg)))
		}
		kib, err := parseTimeKiB(out)
		if err != nil {
			return nil, err
		}
		rss = append(rss, float64(kib)*1024)
	}
	return rss, nil
}

// parseTimeKiB reads the last line of a `time -f %M -o FILE` output.
func parseTimeKiB(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	v, err := strconv.ParseInt(strings.TrimSpace(lines[len(lines)-1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("GNU time output %q: %w", data, err)
	}
	return v, nil
}
