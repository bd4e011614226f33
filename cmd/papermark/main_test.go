package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sesame-cli/sesame/internal/devissuer"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"papermark": main})
}

// TestScripts runs papermark end to end against the development issuer,
// started in-process for each script: $API and $ISSUER are its URLs,
// PAPERMARK_API_URL is $API, device codes are approved after 1s, and the
// static tokens pm_ci (user ci-bot, documents.read) and pm_noscope (user
// ci-bot, no scope) are known to the API.
func TestScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts papermark processes; skipped with -short")
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			srv := devissuer.New(devissuer.Options{
				AutoApprove: time.Second,
				Interval:    time.Second,
				Static: []devissuer.StaticToken{
					{Token: "pm_ci", User: "ci-bot", Scopes: []string{"documents.read"}},
					{Token: "pm_noscope", User: "ci-bot"},
				},
			})
			if err := srv.Start("127.0.0.1:0", "127.0.0.1:0"); err != nil {
				return err
			}
			env.Defer(func() { srv.Close() })
			home := filepath.Join(env.WorkDir, "home")
			env.Setenv("HOME", home)
			env.Setenv("PAPERMARK_STORAGE", "file")
			env.Setenv("PAPERMARK_HTTP_TIMEOUT", "10s")
			env.Setenv("API", srv.APIURL())
			env.Setenv("ISSUER", srv.IssuerURL())
			env.Setenv("PAPERMARK_API_URL", srv.APIURL())
			return os.MkdirAll(home, 0o755)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":  cmdExits,
			"expand": cmdExpand,
		},
	})
}

// cmdExits runs a program and asserts its exit code: exits N PROG ARGS...
// stdout and stderr are then checked as after exec.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N PROG ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// cmdExpand writes SRC with $VARS expanded to DST: expand SRC DST
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: expand SRC DST")
	}
	data := os.Expand(ts.ReadFile(args[0]), ts.Getenv)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(data), 0o600))
}

// TestDocsShowMain: the "Build your own CLI on sesame" section shows this
// main.go whole, wherever it lives (docs/library.md or the README).
func TestDocsShowMain(t *testing.T) {
	main, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{"../../docs/library.md", "../../README.md"} {
		if data, err := os.ReadFile(doc); err == nil && strings.Contains(string(data), "```go\n"+string(main)+"```\n") {
			return
		}
	}
	t.Errorf("neither docs/library.md nor README.md shows cmd/papermark/main.go whole in a go block")
}
