//go:build linux

// Command bench measures sesame against a baseline Go program and writes
// BENCHMARKS.md. scripts/bench.sh builds everything and runs it; see there.
//
//	bench -sesame BIN -baseline BIN [-before BIN] [-gh BIN] [-gh-keyring BIN]
//	      [-curl BIN] [-hyperfine BIN] [-time BIN] [-gnuplot BIN]
//	      [-gobench FILE] [-skipped 'WHAT: WHY']... [-quick] [-out FILE]
//	bench measure [-runs N] [-warmup N] 'CMD ARGS' 'CMD ARGS'...
//
// The second form is an ad-hoc interleaved comparison (wall and CPU time,
// ratios to the first command) for trying a change.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	if len(os.Args) > 1 && os.Args[1] == "measure" {
		err = runMeasure(ctx, os.Args[2:], os.Stdout, os.Stderr)
	} else {
		err = run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the command line of a full run.
type options struct {
	Sesame, Baseline, Before, BeforeRef string
	GH, Curl, Hyperfine, Time           string
	GHKeyring, Gnuplot                  string
	GoBench, Out, JSONDir, BuildFlags   string
	LoadStart                           string
	Skipped                             stringList
	Quick, Strict                       bool
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, "; ") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// plan is how much to measure.
type plan struct {
	Rounds, Warmup, Runs int // rounds of hyperfine runs per command
	GHRounds, GHRuns     int // gh takes ten times as long: fewer runs
	KeyringRuns          int // interleaved runs per command, keyring comparison
	RSSRuns              int
	FirstLogins          int   // device logins without a cached client
	DeviceLogins         int   // device logins with a cached client
	Counts               []int // processes at once at expiry
	ParRounds            int   // rounds per count
	InitTraceRuns        int
}

func plans(quick bool) plan {
	counts := []int{10, 50, 100, 200, 500}
	if quick {
		return plan{Rounds: 4, Warmup: 2, Runs: 15, GHRounds: 2, GHRuns: 10, KeyringRuns: 20, RSSRuns: 5, FirstLogins: 1, DeviceLogins: 1, Counts: counts, ParRounds: 1, InitTraceRuns: 5}
	}
	return plan{Rounds: 10, Warmup: 3, Runs: 30, GHRounds: 3, GHRuns: 20, KeyringRuns: 100, RSSRuns: 20, FirstLogins: 3, DeviceLogins: 5, Counts: counts, ParRounds: 3, InitTraceRuns: 20}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Sesame, "sesame", "", "sesame `binary` to measure (built as released: stripped, CGO off)")
	fs.StringVar(&o.Baseline, "baseline", "", "baseline `binary` (scripts/bench/baseline)")
	fs.StringVar(&o.Before, "before", "", "an older sesame `binary` to compare with (optional)")
	fs.StringVar(&o.BeforeRef, "before-ref", "", "what -before was built from, for the report")
	fs.StringVar(&o.GH, "gh", "", "gh `binary` for the reference row (optional)")
	fs.StringVar(&o.GHKeyring, "gh-keyring", "", "a gh `binary` that stores tokens in the keyring (2.40 or later), for the keyring row (optional)")
	fs.StringVar(&o.Gnuplot, "gnuplot", "", "gnuplot `binary` for the chart of latency against process count (optional)")
	fs.Var(&o.Skipped, "skipped", "`what: why` something is not measured (repeatable; listed in the report)")
	fs.StringVar(&o.Curl, "curl", "", "curl `binary` for the whoami comparison (optional)")
	fs.StringVar(&o.Hyperfine, "hyperfine", "", "hyperfine `binary` (without it: this program's own interleaved timer)")
	fs.StringVar(&o.Time, "time", "", "GNU time `binary` for peak RSS (optional)")
	fs.StringVar(&o.GoBench, "gobench", "", "`file` with `go test -bench` output to include")
	fs.StringVar(&o.BuildFlags, "build-flags", "", "how the binaries were built, for the report")
	fs.StringVar(&o.LoadStart, "load-start", "", "`load` average (1, 5, 15 min) before the builds (default: now)")
	fs.StringVar(&o.Out, "out", "BENCHMARKS.md", "report `file`")
	fs.StringVar(&o.JSONDir, "json", "", "`dir` for hyperfine's JSON exports (default: a temp dir)")
	fs.BoolVar(&o.Quick, "quick", false, "fewer runs (CI): under a minute")
	fs.BoolVar(&o.Strict, "strict", false, "exit 1 when a target is missed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Sesame == "" || o.Baseline == "" {
		return errors.New("-sesame and -baseline are required")
	}
	p := plans(o.Quick)
	started := time.Now()
	work, err := os.MkdirTemp("", "sesame-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if o.JSONDir == "" {
		o.JSONDir = filepath.Join(work, "json")
	}
	for _, d := range []string{o.JSONDir, filepath.Join(work, "home"), filepath.Join(work, "empty"), filepath.Join(work, "config"), filepath.Join(work, "gh")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	rep := &report{Quick: o.Quick, Started: started.UTC(), Machine: machine(), BuildFlags: o.BuildFlags, Plan: p, BeforeRef: o.BeforeRef,
		Skipped: append([]string(nil), o.Skipped...)}
	if o.LoadStart != "" {
		rep.Machine.LoadStart = o.LoadStart
	}
	log := stderr

	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(work, "home"), "LANG=C.UTF-8"}
	envToken := append(base[:len(base):len(base)],
		"SESAME_TOKEN=sesame_live_0123456789abcdef0123456789abcdef",
		"SESAME_API_URL=https://api.example.com",
		"SESAME_CONFIG_DIR="+filepath.Join(work, "empty"),
		"GH_TOKEN=gho_0123456789abcdef0123456789abcdef0123",
		"GH_CONFIG_DIR="+filepath.Join(work, "gh"),
		"GH_NO_UPDATE_NOTIFIER=1", "GH_PROMPT_DISABLED=1")
	cfgDir := filepath.Join(work, "config")
	envStored := append(base[:len(base):len(base)], "SESAME_CONFIG_DIR="+cfgDir, "SESAME_STORAGE=file")

	var gt *gnuTime
	if o.Time != "" {
		gt = &gnuTime{Path: o.Time, Dir: work}
	}
	r, err := newRunner()
	if err != nil {
		return err
	}
	defer r.Close()
	var hf *hyperfine
	if o.Hyperfine != "" {
		hf = &hyperfine{Path: o.Hyperfine, JSONDir: o.JSONDir, Log: log}
		rep.Timer = hyperfineVersion(ctx, o.Hyperfine) + " -N"
	} else {
		rep.Timer = "bench's interleaved timer (hyperfine not found)"
	}
	compare := func(name string, env []string, cmds []command, rounds, runs int) ([]timing, error) {
		for i := range cmds {
			cmds[i].Env = env
		}
		if hf != nil {
			return hf.compare(ctx, name, env, cmds, rounds, p.Warmup, runs)
		}
		fmt.Fprintf(log, "== %s: %d interleaved runs\n", name, rounds*runs)
		res, err := r.interleave(ctx, cmds, p.Warmup, rounds*runs)
		if err != nil {
			return nil, err
		}
		out := make([]timing, len(cmds))
		for i, c := range cmds {
			out[i] = timing{Label: c.Label, Cmd: c}
			for _, s := range res[i] {
				out[i].Times = append(out[i].Times, s.Wall.Seconds())
			}
		}
		return out, nil
	}

	// The development issuer; a device login leaves a stored login behind.
	is, err := startIssuer(time.Second)
	if err != nil {
		return err
	}
	defer is.Close()
	envLogin := withEnv(envStored, "SESAME_API_URL="+is.APIURL())
	fmt.Fprintf(log, "== device login: %d without a cached client, %d with one (interval 1 s, approved right after a pending poll)\n", p.FirstLogins, p.DeviceLogins)
	for i := range p.FirstLogins + p.DeviceLogins {
		first := i < p.FirstLogins
		env := envLogin
		if first && i > 0 { // the first login leaves the stored login and the cached client in cfgDir
			env = withEnv(envLogin, "SESAME_CONFIG_DIR="+filepath.Join(work, fmt.Sprintf("first-%d", i)))
		}
		before, err := is.counters(ctx)
		if err != nil {
			return err
		}
		dl, err := timeDeviceLogin(ctx, is, o.Sesame, env, gt)
		if err != nil {
			return err
		}
		after, err := is.counters(ctx)
		if err != nil {
			return err
		}
		dl.FirstRun = first
		if reg, want := after["register"]-before["register"], map[bool]int{true: 1, false: 0}[first]; reg != want {
			return fmt.Errorf("device login %d (first run %v) registered %d clients, want %d", i+1, first, reg, want)
		}
		fmt.Fprintf(log, "first run %v: start → code %v, approval → Logged in %v (whole login %v)\n", first,
			dl.Code.Round(time.Millisecond), dl.Approval.Round(time.Millisecond), dl.Total.Round(time.Millisecond))
		rep.Device = append(rep.Device, dl)
	}

	// Start-up: auth token with SESAME_TOKEN, against the baseline.
	cmdsA := []command{
		{Label: labelBaseline, Args: []string{o.Baseline}},
		{Label: labelEnv, Args: []string{o.Sesame, "auth", "token"}},
		// The same command through cobra (any other argument turns the
		// fast path off; --storage auto is the default): what the fast
		// path that skips building the command tree buys.
		{Label: labelEnvCobra, Args: []string{o.Sesame, "auth", "token", "--storage", "auto"}},
	}
	if o.Before != "" {
		cmdsA = append(cmdsA, command{Label: labelEnv + beforeSuffix, Args: []string{o.Before, "auth", "token"}})
	}
	if rep.EnvRun, err = compare("auth-token-env", envToken, cmdsA, p.Rounds, p.Runs); err != nil {
		return err
	}
	if o.GH != "" {
		cmdsGH := []command{
			{Label: labelBaseline, Args: []string{o.Baseline}},
			{Label: labelGH, Args: []string{o.GH, "auth", "token"}},
		}
		if rep.GHRun, err = compare("gh-reference", envToken, cmdsGH, p.GHRounds, p.GHRuns); err != nil {
			return err
		}
	}

	// Start-up: auth token from the stored login in the config file.
	cmdsB := []command{
		{Label: labelBaseline, Args: []string{o.Baseline}},
		{Label: labelStored, Args: []string{o.Sesame, "auth", "token"}},
	}
	if o.Before != "" {
		cmdsB = append(cmdsB, command{Label: labelStored + beforeSuffix, Args: []string{o.Before, "auth", "token"}})
	}
	if rep.StoredRun, err = compare("auth-token-stored", envStored, cmdsB, p.Rounds, p.Runs); err != nil {
		return err
	}

	// sesame exec -- true against true, when this build has exec.
	if ok, why := hasExec(ctx, o.Sesame); !ok {
		rep.ExecNote = why
		fmt.Fprintf(log, "== exec: %s\n", why)
	} else {
		tru, err := exec.LookPath("true")
		if err != nil {
			return err
		}
		cmdsE := []command{
			{Label: labelTrue, Args: []string{tru}},
			{Label: labelExec, Args: []string{o.Sesame, "exec", "--", tru}},
		}
		if rep.ExecRun, err = compare("exec-true", envStored, cmdsE, p.Rounds, p.Runs); err != nil {
			return err
		}
	}

	// auth token from the OS keyring (gnome-keyring over D-Bus), gh reading
	// its token from the same keyring, and the file store, in one run.
	kr, err := benchKeyring(ctx, kbench{
		is: is, r: r, log: log, work: work, sesame: o.Sesame, baseline: o.Baseline, gh: o.GHKeyring,
		envToken: envToken, envStored: envStored, base: base, runs: p.KeyringRuns, warmup: p.Warmup,
	})
	if err != nil {
		return err
	}
	rep.KeyringRun = kr.run
	rep.Skipped = append(rep.Skipped, kr.skipped...)

	// whoami against the sample API, and curl doing the same request.
	cmdsC := []command{{Label: labelWhoami, Args: []string{o.Sesame, "whoami"}}}
	if o.Curl != "" {
		tok, err := storedToken(cfgDir)
		if err != nil {
			return err
		}
		hdr, err := writeHeaderFile(work, tok)
		if err != nil {
			return err
		}
		cmdsC = append(cmdsC, command{Label: labelCurl, Args: []string{o.Curl, "-sSf", "-o", os.DevNull, "-H", "@" + hdr, is.APIURL() + "/v1/me"}})
	}
	if rep.WhoamiRun, err = compare("whoami-vs-curl", envStored, cmdsC, p.Rounds, p.Runs); err != nil {
		return err
	}

	// Peak memory.
	if gt != nil {
		fmt.Fprintf(log, "\n== peak RSS (GNU time, %d runs each)\n", p.RSSRuns)
		seen := map[string]bool{}
		for _, t := range [][]timing{rep.EnvRun, rep.GHRun, rep.StoredRun, rep.KeyringRun, rep.ExecRun, rep.WhoamiRun} {
			for _, tm := range t {
				if seen[tm.Label] {
					continue // once is enough
				}
				seen[tm.Label] = true
				fmt.Fprintf(log, "%s\n", tm.Label)
				rss, err := gt.peakRSS(ctx, tm.Cmd, p.RSSRuns)
				if err != nil {
					return err
				}
				rep.RSS = append(rep.RSS, rssRow{Label: tm.Label, Bytes: rss})
			}
		}
		var refresh []float64
		for range p.RSSRuns {
			if _, err := expireLogins(ctx, cfgDir); err != nil {
				return err
			}
			rss, err := gt.peakRSS(ctx, command{Args: []string{o.Sesame, "auth", "token"}, Env: envStored}, 1)
			if err != nil {
				return err
			}
			refresh = append(refresh, rss...)
		}
		rep.RSS = append(rep.RSS, rssRow{Label: labelRefresh, Bytes: refresh})
		var login []float64
		for _, d := range rep.Device {
			login = append(login, d.PeakRSS)
		}
		rep.RSS = append(rep.RSS, rssRow{Label: labelLogin, Bytes: login})
	}

	// 10 to 500 parallel auth token at expiry, and the chart.
	for _, n := range p.Counts {
		fmt.Fprintf(log, "\n== %d parallel auth token at expiry, %s\n", n, plural(p.ParRounds, "round"))
		pt := scalePoint{N: n}
		for range p.ParRounds {
			round, err := parallelRefresh(ctx, is, o.Sesame, envStored, cfgDir, n)
			if err != nil {
				return err
			}
			s := summarize(round.Latencies)
			fmt.Fprintf(log, "refreshes: %d; latency median %.1f ms, p99 %.1f ms, worst %.1f ms\n", round.Refreshes, s.Median*1e3, percentile(round.Latencies, 0.99)*1e3, s.Max*1e3)
			if round.Failed > 0 {
				fmt.Fprintf(log, "%d of %d failed; the first: %s\n", round.Failed, n, round.Failure)
			}
			pt.Rounds = append(pt.Rounds, round)
		}
		rep.Scale = append(rep.Scale, pt)
	}
	if o.Gnuplot != "" {
		chart := chartPath(o.Out)
		if err := writeChart(ctx, o.Gnuplot, work, chart, rep.Scale); err != nil {
			rep.Skipped = append(rep.Skipped, "chart: gnuplot failed: "+err.Error())
		} else {
			rep.Chart = filepath.Base(chart)
			fmt.Fprintf(log, "chart written to %s\n", chart)
		}
	} else {
		rep.Skipped = append(rep.Skipped, "chart of latency against process count: no gnuplot")
	}

	// Sizes, package init costs, Go benchmarks.
	for _, b := range []struct{ label, path string }{{"sesame", o.Sesame}, {"sesame" + beforeSuffix, o.Before}, {"baseline", o.Baseline}, {"gh", o.GH}, {"gh (keyring row)", o.GHKeyring}} {
		if b.path == "" || (b.path == o.GH && b.label != "gh") {
			continue
		}
		fi, err := os.Stat(b.path)
		if err != nil {
			return err
		}
		rep.Sizes = append(rep.Sizes, sizeRow{Label: b.label, Bytes: fi.Size()})
	}
	if rep.Inits, err = initTrace(ctx, o.Sesame, envToken, p.InitTraceRuns); err != nil {
		return err
	}
	if o.GoBench != "" {
		data, err := os.ReadFile(o.GoBench)
		if err != nil {
			return err
		}
		rep.GoBench = goBenchLines(string(data))
	}
	rep.Versions = toolVersions(ctx, o)
	rep.Finished = time.Now().UTC()
	rep.Machine.LoadEnd = loadAvg()

	md := rep.markdown()
	if err := os.WriteFile(o.Out, []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	fmt.Fprint(stdout, rep.summaryTable())
	if busy := rep.busy(); busy != "" {
		fmt.Fprintf(stdout, "\nThe machine was busy (%s): ratios are pulled toward 1.\n", busy)
	}
	for _, sk := range rep.Skipped {
		fmt.Fprintf(stdout, "not measured: %s\n", sk)
	}
	if n := rep.missed(); n > 0 {
		fmt.Fprintf(stdout, "\n%d target(s) missed: see the notes at the end of %s.\n", n, o.Out)
	}
	fmt.Fprintf(stdout, "\nWritten to %s (%s).\n", o.Out, time.Since(started).Round(time.Second))
	if o.Strict && rep.missed() > 0 {
		return fmt.Errorf("%d target(s) missed", rep.missed())
	}
	return nil
}

const (
	labelBaseline = "baseline: Go program printing $SESAME_TOKEN"
	labelEnv      = "sesame auth token (SESAME_TOKEN set)"
	labelEnvCobra = "sesame auth token --storage auto (SESAME_TOKEN set, through cobra: no fast path)"
	labelStored   = "sesame auth token (stored login, file store)"
	labelGH       = "gh auth token (GH_TOKEN set), reference"
	labelWhoami   = "sesame whoami (stored login)"
	labelCurl     = "curl, the same GET /v1/me"
	labelRefresh  = "sesame auth token at expiry (refresh)"
	labelTrue     = "true, run directly"
	labelExec     = "sesame exec -- true (stored login, file store)"
	labelKeyring  = "sesame auth token (stored login, gnome-keyring)"
	labelGHKey    = "gh auth token (token in gnome-keyring), reference"
	labelLogin    = "sesame login (device flow)"
	beforeSuffix  = " [before]"
)

// withEnv returns a copy of env with each KEY=VALUE of kv set, replacing an
// entry for the same key (hyperfine and exec would take the first or the last).
func withEnv(env []string, kv ...string) []string {
	out := slices.Clone(env)
	for _, e := range kv {
		k, _, _ := strings.Cut(e, "=")
		out = slices.DeleteFunc(out, func(o string) bool { return strings.HasPrefix(o, k+"=") })
		out = append(out, e)
	}
	return out
}

// hasExec says whether sesame has an exec command: `exec --help` must
// succeed and show exec's own usage (cobra answers the root's help, exit 0,
// for an unknown command followed by --help).
func hasExec(ctx context.Context, sesame string) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, sesame, "exec", "--help").CombinedOutput()
	if err != nil || !execUsage.Match(out) {
		return false, "not measured: no exec command in this build"
	}
	return true, ""
}

var execUsage = regexp.MustCompile(`(?m)^Usage:\s*\n\s+\S+ exec\b`)

// storedToken returns the current API's access token in dir's config.json.
func storedToken(dir string) (string, error) {
	cfg, err := config.Load(dir)
	if err != nil {
		return "", err
	}
	l := cfg.APIs[cfg.CurrentAPI]
	if l == nil || l.AccessToken == "" {
		return "", errors.New("no stored login in the config file")
	}
	return l.AccessToken, nil
}

// machine describes where the figures come from.
type machineInfo struct {
	CPUs               int
	CPU, Kernel, Go    string
	LoadStart, LoadEnd string
}

func machine() machineInfo {
	m := machineInfo{CPUs: runtime.NumCPU(), Go: runtime.Version(), LoadStart: loadAvg()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	return m
}

// loadAvg is the 1, 5 and 15 minute load average.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func toolVersions(ctx context.Context, o options) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range []struct{ path, arg string }{{o.Hyperfine, "--version"}, {o.GH, "--version"}, {o.GHKeyring, "--version"}, {o.Curl, "--version"}, {o.Time, "--version"}, {o.Gnuplot, "--version"}} {
		if t.path == "" || seen[t.path] {
			continue
		}
		seen[t.path] = true
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		b, _ := exec.CommandContext(ctx, t.path, t.arg).CombinedOutput()
		cancel()
		first, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		first = strings.TrimSuffix(first, " UNKNOWN") // Debian's GNU time has no version
		if first != "" {
			out = append(out, first)
		}
	}
	return out
}
