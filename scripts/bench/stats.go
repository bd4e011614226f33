//go:build linux

package main

import (
	"slices"
)

// summary describes a set of measurements of one quantity.
type summary struct {
	N                  int
	Min, Max           float64
	Median, Mean       float64
	Q1, Q3             float64 // first and third quartile: the spread shown
	MedianAbsDeviation float64
}

// summarize computes the summary of xs (which it does not modify).
func summarize(xs []float64) summary {
	if len(xs) == 0 {
		return summary{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	med := quantile(s, 0.5)
	dev := make([]float64, len(s))
	for i, x := range s {
		dev[i] = abs(x - med)
	}
	slices.Sort(dev)
	return summary{
		N:                  len(s),
		Min:                s[0],
		Max:                s[len(s)-1],
		Median:             med,
		Mean:               sum / float64(len(s)),
		Q1:                 quantile(s, 0.25),
		Q3:                 quantile(s, 0.75),
		MedianAbsDeviation: quantile(dev, 0.5),
	}
}

// quantile returns the q-quantile of sorted xs by linear interpolation
// between the closest ranks (the method of R's type 7 and numpy's default).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	lo := int(pos)
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(lo)
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

// percentile is the q-quantile of xs (which it does not modify).
func percentile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return quantile(s, q)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
