//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/devissuer"
)

// TestMain runs main itself when the test binary is started as sesame by
// the tests below (SESAME_TEST_RUN_MAIN=1), so that they exercise the real
// entry point with its lazily armed signal context.
func TestMain(m *testing.M) {
	if os.Getenv("SESAME_TEST_RUN_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sesameProc starts this test binary as sesame with args.
func sesameProc(t *testing.T, env []string, stdin string, args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer, <-chan error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append([]string{"SESAME_TEST_RUN_MAIN=1", "PATH=" + os.Getenv("PATH")}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, &stdout, &stderr, done
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return ee.ExitCode()
}

// waitFor polls cond (a process's output or /proc) until it holds.
func waitFor(t *testing.T, done <-chan error, stderr *syncBuffer, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case err := <-done:
			t.Fatalf("sesame ended (%v) before %s:\n%s", err, what, stderr.String())
		case <-deadline:
			t.Fatalf("sesame never reached %s:\n%s", what, stderr.String())
		case <-tick.C:
		}
	}
}

// TestMainInterruptAtWaits: the real entry point, whose signal handler is
// installed lazily, still turns Ctrl-C at a wait into exit 130 with
// "sesame: interrupted" as the last line.
func TestMainInterruptAtWaits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sesame processes; skipped with -short")
	}
	srv := devissuer.New(devissuer.Options{Interval: time.Second, Static: []devissuer.StaticToken{{Token: "sesame_live_abc", User: "alice"}}})
	if err := srv.Start("127.0.0.1:0", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	started := map[*exec.Cmd]time.Time{} // when each process started
	tests := []struct {
		name  string
		stdin string
		args  []string
		lock  bool // hold the config lock while sesame runs
		ready func(cmd *exec.Cmd, stderr *syncBuffer) bool
	}{
		{
			name: "device login polling",
			args: []string{"login", "--no-browser"},
			ready: func(_ *exec.Cmd, stderr *syncBuffer) bool {
				return strings.Contains(stderr.String(), "Enter code: ")
			},
		},
		{
			name:  "waiting for the config lock",
			stdin: "sesame_live_abc\n",
			args:  []string{"auth", "set", "--stdin"},
			lock:  true,
			ready: func(cmd *exec.Cmd, _ *syncBuffer) bool {
				// The waiter opens the lock file only for each try (gofrs/flock
				// closes it between tries, which back off to 200 ms): seen
				// open, or still running 2 s after start with the lock held
				// and the API on loopback, it is waiting for the lock.
				if time.Since(started[cmd]) > 2*time.Second {
					return true
				}
				fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", cmd.Process.Pid))
				for _, fd := range fds {
					if target, err := os.Readlink(fd); err == nil && strings.HasSuffix(target, "config.json.lock") {
						return true
					}
				}
				return false
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.lock && runtime.GOOS != "linux" {
				t.Skip("the lock wait is observed through /proc")
			}
			dir := t.TempDir()
			env := []string{"HOME=" + dir, "SESAME_CONFIG_DIR=" + dir, "SESAME_STORAGE=file", "SESAME_API_URL=" + srv.APIURL()}
			if tt.lock {
				unlock, err := config.Lock(context.Background(), dir)
				if err != nil {
					t.Fatal(err)
				}
				defer unlock()
			}
			cmd, _, stderr, done := sesameProc(t, env, tt.stdin, tt.args...)
			started[cmd] = time.Now()
			waitFor(t, done, stderr, tt.name, func() bool { return tt.ready(cmd, stderr) })
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("no exit within 20 s of SIGINT:\n%s", stderr.String())
			}
			out := stderr.String()
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if code := exitCode(t, err); code != 130 || lines[len(lines)-1] != "sesame: interrupted" {
				t.Errorf("after SIGINT: exit %d, stderr:\n%s\nwant exit 130 and \"sesame: interrupted\" last", code, out)
			}
		})
	}
}

// TestMainAuthToken: the real entry point prints an env token.
func TestMainAuthToken(t *testing.T) {
	dir := t.TempDir()
	env := []string{"HOME=" + dir, "SESAME_CONFIG_DIR=" + filepath.Join(dir, "config"), "SESAME_TOKEN=tok1", "SESAME_API_URL=https://api.example.com"}
	_, stdout, stderr, done := sesameProc(t, env, "", "auth", "token")
	if code := exitCode(t, <-done); code != 0 || stdout.String() != "tok1\n" || stderr.String() != "" {
		t.Errorf("auth token: exit %d, stdout %q, stderr %q; want 0, \"tok1\\n\", nothing", code, stdout.String(), stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "config")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an env token created or touched the config dir (%v)", err)
	}
}
