package cli_test

// Script commands and programs for the scripts-and-agents features: the
// two-step login, exec, auth token --json.

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// envChild is a program for exec to run: it prints its arguments and the
// named variables on stdout, a line on stderr, copies stdin to stdout with
// -stdin, and exits N (-exit N). With -wait it says "envchild: waiting" on
// stderr and waits for SIGINT or SIGTERM, then says which one came and
// exits 130 or 143; with -sleep it waits without catching any signal.
//
//	envchild [-exit N] [-stdin] [-wait|-sleep] [VAR...]
func envChild(args []string) int {
	fs := flag.NewFlagSet("envchild", flag.ContinueOnError)
	code := fs.Int("exit", 0, "")
	stdin := fs.Bool("stdin", false, "")
	wait := fs.Bool("wait", false, "")
	sleep := fs.Bool("sleep", false, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fmt.Printf("argv: %s\n", strings.Join(os.Args[1:], " "))
	for _, k := range fs.Args() {
		if v, ok := os.LookupEnv(k); ok {
			fmt.Printf("%s=%s\n", k, v)
		} else {
			fmt.Printf("%s is unset\n", k)
		}
	}
	if *stdin {
		io.Copy(os.Stdout, os.Stdin)
	}
	fmt.Fprintln(os.Stderr, "envchild: on stderr")
	switch {
	case *wait:
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		fmt.Fprintln(os.Stderr, "envchild: waiting")
		select {
		case s := <-sigs:
			fmt.Fprintf(os.Stderr, "envchild: got %v\n", s)
			if s == os.Interrupt {
				return 130
			}
			return 143
		case <-time.After(30 * time.Second):
			return 99
		}
	case *sleep:
		fmt.Fprintln(os.Stderr, "envchild: waiting")
		time.Sleep(30 * time.Second)
		return 99
	}
	return *code
}

// cmdSignal starts a program in a process group of its own (as when it is
// not in a terminal's foreground), waits until its stderr matches REGEX,
// sends it SIG (INT or TERM) and asserts its exit code (default 130).
// Its stdout and stderr are saved to $WORK/signal.stdout and
// $WORK/signal.stderr: signal [-code N] SIG REGEX PROG ARGS...
func cmdSignal(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("signal", flag.ContinueOnError)
	code := fs.Int("code", 130, "")
	ts.Check(fs.Parse(args))
	if neg || fs.NArg() < 3 {
		ts.Fatalf("usage: signal [-code N] INT|TERM REGEX PROG ARGS...")
	}
	var sig os.Signal
	switch fs.Arg(0) {
	case "INT":
		sig = os.Interrupt
	case "TERM":
		sig = syscall.SIGTERM
	default:
		ts.Fatalf("unknown signal %q", fs.Arg(0))
	}
	re := regexp.MustCompile(fs.Arg(1))
	cmd := exec.Command(fs.Arg(2), fs.Args()[3:]...)
	cmd.Env, cmd.Dir = hostileEnv(ts), ts.Getenv("WORK")
	cmd.SysProcAttr = ownProcessGroup()
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ts.Check(cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case err := <-done:
			ts.Fatalf("%s ended before %s (%v):\n%s", fs.Arg(2), re, err, stderr.String())
		case <-deadline:
			_ = cmd.Process.Kill()
			ts.Fatalf("%s never printed %s:\n%s", fs.Arg(2), re, stderr.String())
		case <-tick.C:
			if re.MatchString(stderr.String()) {
				break wait
			}
		}
	}
	ts.Check(cmd.Process.Signal(sig))
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		ts.Fatalf("%s did not exit within 20 s of the signal:\n%s", fs.Arg(2), stderr.String())
	}
	got := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		got = ee.ExitCode()
	} else {
		ts.Check(err)
	}
	ts.Check(os.WriteFile(ts.MkAbs("signal.stdout"), []byte(stdout.String()), 0o600))
	ts.Check(os.WriteFile(ts.MkAbs("signal.stderr"), []byte(stderr.String()), 0o600))
	if got != *code {
		ts.Fatalf("%s exited %d after the signal, want %d:\n%s", fs.Arg(2), got, *code, stderr.String())
	}
}

// cmdExpirePending moves the expiry of every pending login in
// $CONFIGDIR/pending-logins.json a minute into the past.
func cmdExpirePending(ts *testscript.TestScript, neg bool, args []string) {
	p := filepath.Join(ts.Getenv("CONFIGDIR"), "pending-logins.json")
	var f map[string]any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(p)), &f))
	logins, _ := f["logins"].(map[string]any)
	if len(logins) == 0 {
		ts.Fatalf("no pending login in %s", p)
	}
	for _, l := range logins {
		l.(map[string]any)["expiresAt"] = time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	}
	data, err := json.Marshal(f)
	ts.Check(err)
	ts.Check(os.WriteFile(p, data, 0o600))
}
