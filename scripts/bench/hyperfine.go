//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// hyperfineJSON is the part of `hyperfine --export-json` this reads.
type hyperfineJSON struct {
	Results []struct {
		Command string    `json:"command"`
		Times   []float64 `json:"times"` // seconds, one per run
	} `json:"results"`
}

// timing is one command's wall-clock times in one comparison.
type timing struct {
	Label string
	Cmd   command
	Times []float64 // seconds, every run of every round
}

// hyperfine times a group of commands that share an environment with
// hyperfine -N (no shell), in rounds: each round runs every command, in
// reverse order every other round, so that a change in the machine's load
// during the comparison does not favour one command. The times of all
// rounds are pooled. The JSON of every round is kept in jsonDir.
type hyperfine struct {
	Path    string
	JSONDir string
	Log     io.Writer // hyperfine's own output
}

func (h *hyperfine) compare(ctx context.Context, name string, env []string, cmds []command, rounds, warmup, runs int) ([]timing, error) {
	out := make([]timing, len(cmds))
	for i, c := range cmds {
		out[i] = timing{Label: c.Label, Cmd: c}
	}
	for round := range rounds {
		order := make([]int, len(cmds))
		for i := range order {
			order[i] = i
		}
		if round%2 == 1 {
			slices.Reverse(order)
		}
		file := filepath.Join(h.JSONDir, fmt.Sprintf("%s-round%d.json", name, round+1))
		args := []string{"-N", "--style", "none", "--warmup", fmt.Sprint(warmup), "--runs", fmt.Sprint(runs), "--export-json", file}
		for _, i := range order {
			args = append(args, "--command-name", cmds[i].Label)
		}
		for _, i := range order {
			args = append(args, shellQuote(cmds[i].Args))
		}
		fmt.Fprintf(h.Log, "== %s: hyperfine round %d of %d (%d runs each)\n", name, round+1, rounds, runs)
		cmd := exec.CommandContext(ctx, h.Path, args...)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = h.Log, h.Log
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("hyperfine (%s): %w", name, err)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var res hyperfineJSON
		if err := json.Unmarshal(data, &res); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(res.Results) != len(cmds) {
			return nil, fmt.Errorf("%s: %d results for %d commands", file, len(res.Results), len(cmds))
		}
		for k, i := range order {
			out[i].Times = append(out[i].Times, res.Results[k].Times...)
		}
	}
	return out, nil
}

// shellQuote joins argv for hyperfine -N, which splits a command line with
// shell-like quoting rules (but runs no shell).
func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// hyperfineVersion returns "hyperfine 1.15.0" or "".
func hyperfineVersion(ctx context.Context, path string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
