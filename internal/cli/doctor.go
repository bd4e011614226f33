package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/redact"
	"github.com/spf13/cobra"
)

// Doctor gathers facts about the setup once (doctor_facts.go, with the API
// probe in doctor_net.go), then runs an ordered table of checks, each a
// pure function of those facts (doctor_checks.go). It is read-only: it
// never refreshes a token, mints nothing into the store and writes no file.

type doctorOptions struct {
	JSON bool
}

func (a *App) newDoctorCmd() *cobra.Command {
	opts := &doctorOptions{}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the config, the token, the API and the authorization server",
		Long: `Runs these checks in order, each pass, warn, fail or skip with a fix hint:

  config       the config directory and config.json are readable and private
  token        a token is found, and where (warns when one source hides another)
  api          the API answers (DNS, TCP, TLS, HTTP) and how fast
  token-valid  the API accepts the token (` + a.mePath() + `)
  issuer       the authorization server's discovery document, device flow advertised
  keyring      the OS keyring answers, and how fast
  expiry       time left on the stored token, refresh token present
  clock        skew against the API's Date header

A check that depends on a failed one is skipped. Doctor changes nothing: it
does not refresh an expired token, it reports it. Exit status 0 when no check
failed, 1 otherwise.`,
		Args: a.noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runDoctor(cmd.Context(), opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, `print {"checks":[{"name","status","message","hint"}...]}`)
	return cmd
}

type checkStatus string

const (
	statusPass checkStatus = "pass"
	statusWarn checkStatus = "warn"
	statusFail checkStatus = "fail"
	statusSkip checkStatus = "skip"
)

// checkResult is one line of the report.
type checkResult struct {
	Name    string      `json:"name"`
	Status  checkStatus `json:"status"`
	Message string      `json:"message"`
	Hint    string      `json:"hint"`
}

type doctorReport struct {
	Checks []checkResult `json:"checks"`
}

func pass(msg string) checkResult { return checkResult{Status: statusPass, Message: msg} }
func skip(msg string) checkResult { return checkResult{Status: statusSkip, Message: msg} }
func warn(msg, hint string) checkResult {
	return checkResult{Status: statusWarn, Message: msg, Hint: hint}
}
func fail(msg, hint string) checkResult {
	return checkResult{Status: statusFail, Message: msg, Hint: hint}
}

const (
	// doctorCheckTimeout bounds each network check (and the keyring probe).
	doctorCheckTimeout = 3 * time.Second
	// doctorTimeout bounds the whole run.
	doctorTimeout = 10 * time.Second
)

// dependency names a check that must not have failed, and the message of
// the skip when it did.
type dependency struct {
	check string
	skip  string
}

// doctorCheck is one line of the report: a pure function of the facts,
// skipped when a check it depends on failed.
type doctorCheck struct {
	name string
	deps []dependency
	fn   func(*doctorFacts) checkResult
}

// doctorChecks are the checks in the order they are reported. The issuer
// check needs the API only when no stored login names the issuer, so that
// dependency is decided by checkIssuer itself.
var doctorChecks = []doctorCheck{
	{name: "config", fn: checkConfig},
	{name: "token", fn: checkToken},
	{name: "api", fn: checkAPI},
	{name: "token-valid", deps: []dependency{{"token", "no token to check"}, {"api", "the API is not reachable"}}, fn: checkTokenValid},
	{name: "issuer", fn: checkIssuer},
	{name: "keyring", fn: checkKeyring},
	{name: "expiry", deps: []dependency{{"token", "no token"}}, fn: checkExpiry},
	{name: "clock", deps: []dependency{{"api", "the API is not reachable"}}, fn: checkClock},
}

// evaluate runs c on the facts, or skips it when a check it depends on
// has failed (status holds the results so far).
func (c *doctorCheck) evaluate(f *doctorFacts, status map[string]checkStatus) checkResult {
	for _, dep := range c.deps {
		if status[dep.check] == statusFail {
			return skip(dep.skip)
		}
	}
	return c.fn(f)
}

func (a *App) runDoctor(ctx context.Context, opts *doctorOptions) error {
	runCtx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	results := a.newDoctor().run(runCtx)
	if err := ctx.Err(); err != nil {
		return err
	}
	// Checks quote servers, certificates and files: one boundary before
	// the terminal (controls, bidi, invisible characters, tokens).
	secrets := a.secrets()
	for i := range results {
		results[i].Message = redact.Text(results[i].Message, 2000, secrets...)
		results[i].Hint = redact.Text(results[i].Hint, 2000, secrets...)
	}
	if opts.JSON {
		if err := a.writeJSON(doctorReport{Checks: results}); err != nil {
			return err
		}
	} else {
		a.printDoctor(results)
	}
	for _, r := range results {
		if r.Status == statusFail {
			return &exitError{code: ExitError}
		}
	}
	return nil
}

// run gathers the facts, then runs every check on them in order.
func (d *doctor) run(ctx context.Context) []checkResult {
	d.gather(ctx)
	var out []checkResult
	for i := range doctorChecks {
		c := &doctorChecks[i]
		r := d.check(c)
		r.Name = c.name
		r.Message, r.Hint = oneLine(r.Message), oneLine(r.Hint)
		out = append(out, r)
	}
	return out
}

// check evaluates c on the facts gathered so far and notes its status.
func (d *doctor) check(c *doctorCheck) checkResult {
	r := c.evaluate(&d.doctorFacts, d.status)
	d.status[c.name] = r.Status
	return r
}

// --- output -------------------------------------------------------------

func (a *App) printDoctor(results []checkResult) {
	colour := a.StdoutIsTerminal && a.Getenv("NO_COLOR") == "" && a.Getenv("TERM") != "dumb"
	width := 0
	for _, r := range results {
		width = max(width, len(r.Name))
	}
	counts := map[checkStatus]int{}
	for _, r := range results {
		counts[r.Status]++
		mark := statusMark(r.Status)
		if colour {
			mark = "\x1b[" + statusColour(r.Status) + "m" + mark + "\x1b[0m"
		}
		a.outf("%s %-*s  %s", mark, width, r.Name, r.Message)
		if r.Status != statusPass && r.Hint != "" {
			a.outf("%s  hint: %s", strings.Repeat(" ", width+2), r.Hint)
		}
	}
	var sum []string
	for _, s := range []struct {
		st   checkStatus
		word string
	}{{statusPass, "passed"}, {statusWarn, "warning"}, {statusFail, "failed"}, {statusSkip, "skipped"}} {
		n := counts[s.st]
		if n == 0 {
			continue
		}
		if s.st == statusWarn {
			sum = append(sum, plural(n, s.word))
		} else {
			sum = append(sum, fmt.Sprintf("%d %s", n, s.word))
		}
	}
	a.outf("%s", strings.Join(sum, ", "))
}

func statusMark(s checkStatus) string {
	switch s {
	case statusPass:
		return "✓"
	case statusWarn:
		return "!"
	case statusFail:
		return "✗"
	}
	return "-"
}

func statusColour(s checkStatus) string {
	switch s {
	case statusPass:
		return "32"
	case statusWarn:
		return "33"
	case statusFail:
		return "31"
	}
	return "2"
}
