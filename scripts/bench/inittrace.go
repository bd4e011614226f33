//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// initCost is a package's init time in a run of `auth token`, from
// GODEBUG=inittrace=1 (median over runs).
type initCost struct {
	Pkg    string
	Millis float64
}

// initReport is the package init cost of one command.
type initReport struct {
	Runs       int
	TotalMs    float64 // median over runs of the sum over packages
	Packages   int
	Top        []initCost
	AllocBytes float64 // median over runs, all packages
}

// initTrace runs sesame auth token n times with GODEBUG=inittrace=1 and
// summarizes what the package initializers cost.
func initTrace(ctx context.Context, sesame string, env []string, n int) (initReport, error) {
	per := map[string][]float64{}
	var totals, allocs []float64
	for range n {
		cmd := exec.CommandContext(ctx, sesame, "auth", "token")
		cmd.Env = append(env[:len(env):len(env)], "GODEBUG=inittrace=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return initReport{}, err
		}
		total, bytesSum := 0.0, 0.0
		for _, ic := range parseInitTrace(stderr.String()) {
			per[ic.pkg] = append(per[ic.pkg], ic.ms)
			total += ic.ms
			bytesSum += ic.bytes
		}
		totals = append(totals, total)
		allocs = append(allocs, bytesSum)
	}
	rep := initReport{Runs: n, TotalMs: summarize(totals).Median, Packages: len(per), AllocBytes: summarize(allocs).Median}
	for pkg, ms := range per {
		rep.Top = append(rep.Top, initCost{Pkg: pkg, Millis: summarize(ms).Median})
	}
	slices.SortFunc(rep.Top, func(a, b initCost) int {
		if a.Millis != b.Millis {
			if a.Millis > b.Millis {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Pkg, b.Pkg)
	})
	if len(rep.Top) > 8 {
		rep.Top = rep.Top[:8]
	}
	return rep, nil
}

type initLine struct {
	pkg       string
	ms, bytes float64
}

// parseInitTrace reads lines like
// "init net/http @2.1 ms, 0.15 ms clock, 4872 bytes, 50 allocs".
func parseInitTrace(s string) []initLine {
	var out []initLine
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 11 || f[0] != "init" || f[6] != "clock," || f[8] != "bytes," {
			continue
		}
		ms, err1 := strconv.ParseFloat(f[4], 64)
		b, err2 := strconv.ParseFloat(f[7], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, initLine{pkg: f[1], ms: ms, bytes: b})
	}
	return out
}

// goBenchLines keeps the result lines of `go test -bench` output.
func goBenchLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "Benchmark") || strings.HasPrefix(l, "pkg: ") {
			out = append(out, strings.TrimRight(l, " \t"))
		}
	}
	return out
}
