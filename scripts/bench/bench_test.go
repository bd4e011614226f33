//go:build linux

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		in   []float64
		want summary
	}{
		{nil, summary{}},
		{[]float64{3}, summary{N: 1, Min: 3, Max: 3, Median: 3, Mean: 3, Q1: 3, Q3: 3}},
		{[]float64{4, 1, 3, 2}, summary{N: 4, Min: 1, Max: 4, Median: 2.5, Mean: 2.5, Q1: 1.75, Q3: 3.25, MedianAbsDeviation: 1}},
		{[]float64{1, 2, 3, 4, 100}, summary{N: 5, Min: 1, Max: 100, Median: 3, Mean: 22, Q1: 2, Q3: 4, MedianAbsDeviation: 1}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, summarize(tt.in)); diff != "" {
			t.Errorf("summarize(%v) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"/tmp/sesame", "auth", "token"}, "/tmp/sesame auth token"},
		{[]string{"curl", "-H", "@/tmp/a b", ""}, `curl -H '@/tmp/a b' ''`},
		{[]string{"echo", "it's"}, `echo 'it'\''s'`},
	}
	for _, tt := range tests {
		if got := shellQuote(tt.args); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.args, got, tt.want)
		}
	}
}

func TestParseInitTrace(t *testing.T) {
	in := "init internal/bytealg @0.009 ms, 0.004 ms clock, 0 bytes, 0 allocs\n" +
		"tok\n" +
		"init net/http @2.1 ms, 0.15 ms clock, 4872 bytes, 50 allocs\n" +
		"init broken @x ms, y ms clock, z bytes, 0 allocs\n"
	want := []initLine{{pkg: "internal/bytealg", ms: 0.004}, {pkg: "net/http", ms: 0.15, bytes: 4872}}
	if diff := cmp.Diff(want, parseInitTrace(in), cmp.AllowUnexported(initLine{})); diff != "" {
		t.Errorf("parseInitTrace (-want +got):\n%s", diff)
	}
}

func TestDisplayCmd(t *testing.T) {
	c := command{Args: []string{"/tmp/x/curl", "-o", "/dev/null", "-H", "@/tmp/x/auth-header", "http://127.0.0.1:4321/v1/me"}}
	if got, want := displayCmd(c), "curl -o /dev/null -H @HEADERFILE $API/v1/me"; got != want {
		t.Errorf("displayCmd = %q, want %q", got, want)
	}
}

// times returns n copies of d seconds.
func times(d float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestSummaryVerdicts(t *testing.T) {
	r := &report{
		Plan:      plans(true),
		EnvRun:    []timing{{Label: labelBaseline, Times: times(0.010, 5)}, {Label: labelEnv, Times: times(0.024, 5)}},
		StoredRun: []timing{{Label: labelBaseline, Times: times(0.010, 5)}, {Label: labelStored, Times: times(0.025, 5)}},
		RSS:       []rssRow{{Label: labelBaseline, Bytes: []float64{30 << 20}}, {Label: labelEnv, Bytes: []float64{8 << 20, 9 << 20}}},
		Sizes:     []sizeRow{{Label: "sesame", Bytes: 10_800_000}},
		Device:    []deviceLogin{{Approval: 1010 * time.Millisecond, FirstRun: true, Code: 40 * time.Millisecond}, {Approval: 1250 * time.Millisecond, Code: 30 * time.Millisecond}},
		Scale:     []scalePoint{{N: 10, Rounds: []refreshRound{{Latencies: []float64{0.5, 1}, Refreshes: 1}}}, {N: 500, Rounds: []refreshRound{{Latencies: []float64{1, 2}, Refreshes: 2}}}},
		ExecNote:  "not measured: no exec command in this build",
	}
	got := map[string]string{}
	for _, l := range r.lines() {
		got[l.What] = l.Result
	}
	want := map[string]string{
		labelBaseline: "same run as the next",
		labelEnv:      "**MISSED** by 4%",
		labelStored:   "met",
		"peak RSS, sesame (highest: auth token (SESAME_TOKEN set))":                   "met",
		"binary size, sesame (stripped)":                                              "met",
		`device login: approval → "Logged in" (interval 1 s, 2 logins)`:               "**MISSED**",
		"device login: start → code printed, first run: registers a client (1 login)": "",
		"device login: start → code printed, with a cached client (1 login)":          "",
		"10 parallel auth token at expiry (1 round)":                                  "met (1)",
		"500 parallel auth token at expiry (1 round)":                                 "**MISSED** (2)",
		"sesame exec -- true, against true":                                           "not measured: no exec command in this build",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary results (-want +got):\n%s", diff)
	}
	if b := r.busy(); b != "" {
		t.Errorf("busy() = %q for steady baseline times", b)
	}
	if n := r.missed(); n != 3 {
		t.Errorf("missed() = %d, want 3", n)
	}
	if md := r.markdown(); !strings.Contains(md, "| sesame auth token (SESAME_TOKEN set) | 24.0 ms |") {
		t.Errorf("markdown lacks the env row:\n%s", md)
	}
	r.EnvRun[0].Times = []float64{0.005, 0.012, 0.013}
	if b := r.busy(); !strings.Contains(b, "2.4×") {
		t.Errorf("busy() = %q, want the baseline's median at 2.4× its fastest run", b)
	}
}

func TestWithEnv(t *testing.T) {
	got := withEnv([]string{"A=1", "B=2", "AB=3"}, "A=9", "C=4")
	want := []string{"B=2", "AB=3", "A=9", "C=4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("withEnv (-want +got):\n%s", diff)
	}
}

func TestExecUsage(t *testing.T) {
	root := "Usage:\n  sesame [flags]\n  sesame [command]\n\nAvailable Commands:\n  auth ...\n"
	if execUsage.MatchString(root) {
		t.Errorf("the root's help taken for exec's")
	}
	if !execUsage.MatchString("Run a program with the token\n\nUsage:\n  sesame exec [flags] -- COMMAND [ARG...]\n") {
		t.Errorf("exec's help not recognized")
	}
}

func TestChartPath(t *testing.T) {
	if got := chartPath("/x/BENCHMARKS.md"); got != "/x/BENCHMARKS-refresh.svg" {
		t.Errorf("chartPath = %s", got)
	}
}
