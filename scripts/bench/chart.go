//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
)

// lockTimeout is config.LockTimeout, drawn on the chart.
const lockTimeout = config.LockTimeout

// scalePoint is every round of n parallel `auth token` at expiry.
type scalePoint struct {
	N      int
	Rounds []refreshRound
}

// latencies pools the latencies of every round.
func (p scalePoint) latencies() []float64 {
	var out []float64
	for _, r := range p.Rounds {
		out = append(out, r.Latencies...)
	}
	return out
}

// chartPath is the chart next to the report: BENCHMARKS.md →
// BENCHMARKS-refresh.svg.
func chartPath(report string) string {
	return strings.TrimSuffix(report, filepath.Ext(report)) + "-refresh.svg"
}

// writeChart plots p50, p99 and worst latency against the process count
// with gnuplot, as SVG.
func writeChart(ctx context.Context, gnuplot, work, svg string, pts []scalePoint) error {
	if len(pts) == 0 {
		return fmt.Errorf("nothing to plot")
	}
	var data strings.Builder
	data.WriteString("# processes p50_ms p99_ms worst_ms q1_ms q3_ms\n")
	for _, p := range pts {
		lat := p.latencies()
		s := summarize(lat)
		fmt.Fprintf(&data, "%d %.2f %.2f %.2f %.2f %.2f\n", p.N, s.Median*1e3, percentile(lat, 0.99)*1e3, s.Max*1e3, s.Q1*1e3, s.Q3*1e3)
	}
	dataFile := filepath.Join(work, "refresh.dat")
	if err := os.WriteFile(dataFile, []byte(data.String()), 0o644); err != nil {
		return err
	}
	// The config lock's timeout, when the worst latency comes near it.
	worst := 0.0
	for _, p := range pts {
		worst = max(worst, summarize(p.latencies()).Max)
	}
	limits := "set yrange [0:*]\n"
	if worst > lockTimeout.Seconds()/2 {
		limits = fmt.Sprintf("set yrange [0:%.0f]\n", max(worst, lockTimeout.Seconds())*1e3*1.08) +
			fmt.Sprintf("set arrow from graph 0, first %[1]d to graph 1, first %[1]d nohead dt 3 lc rgb \"#555555\"\n"+
				"set label \"config lock timeout (%[2]v): a process waiting longer fails\" at graph 0.02, first %[1]d offset 0,0.6 textcolor rgb \"#555555\"\n",
				lockTimeout.Milliseconds(), lockTimeout)
	}
	var tics []string
	for _, p := range pts {
		tics = append(tics, fmt.Sprint(p.N))
	}
	script := fmt.Sprintf(`set terminal svg size 760,440 font "sans,12" background rgb "white"
set output %q
set title "sesame auth token at expiry: N processes at once, one refresh"
set xlabel "processes started at the same moment"
set ylabel "latency per process (ms)"
set key top left
set grid
set xrange [0:*]
set xtics (%s)
%splot %q using 1:5:6 with filledcurves lc rgb "#d8e6f3" title "Q1 – Q3", \
     '' using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "p50", \
     '' using 1:3 with linespoints lw 2 pt 5 lc rgb "#ff7f0e" title "p99", \
     '' using 1:4 with linespoints lw 1 pt 9 dt 2 lc rgb "#d62728" title "worst"
`, svg, strings.Join(tics, ", "), limits, dataFile)
	scriptFile := filepath.Join(work, "refresh.gp")
	if err := os.WriteFile(scriptFile, []byte(script), 0o644); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, gnuplot, scriptFile).CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
