//go:build linux

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// runMeasure is `bench measure [-runs N] [-warmup N] CMD...`: an ad-hoc
// interleaved comparison of commands (each CMD one string, split on spaces),
// the first being the reference. It prints median wall and CPU time, their
// ratios to the first command, and peak RSS.
func runMeasure(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("measure", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runs := fs.Int("runs", 100, "runs of each command")
	warmup := fs.Int("warmup", 5, "warmup runs of each command")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("measure: no commands")
	}
	var cmds []command
	for _, a := range fs.Args() {
		cmds = append(cmds, command{Label: a, Args: strings.Fields(a)})
	}
	r, err := newRunner()
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := r.interleave(ctx, cmds, *warmup, *runs)
	if err != nil {
		return err
	}
	var ref0, ref1 float64
	fmt.Fprintf(stdout, "%-40s %9s %9s %9s %7s %9s %7s %9s\n", "command", "wall ms", "q1", "q3", "ratio", "cpu ms", "ratio", "rss MiB")
	for i, c := range cmds {
		var wall, cpu, rss []float64
		for _, s := range res[i] {
			wall = append(wall, s.Wall.Seconds()*1e3)
			cpu = append(cpu, s.CPU.Seconds()*1e3)
			rss = append(rss, float64(s.MaxRSS)/(1<<20))
		}
		w, u, m := summarize(wall), summarize(cpu), summarize(rss)
		if i == 0 {
			ref0, ref1 = w.Median, u.Median
		}
		fmt.Fprintf(stdout, "%-40s %9.2f %9.2f %9.2f %7.2f %9.2f %7.2f %9.1f\n", c.Label, w.Median, w.Q1, w.Q3, w.Median/ref0, u.Median, u.Median/ref1, m.Max)
	}
	return nil
}
