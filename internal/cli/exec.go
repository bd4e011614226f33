package cli

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/redact"
)

// Exit codes of exec when the command cannot be run, as POSIX shells have
// them: not found, and found but not runnable.
const (
	ExitCommandNotFound    = 127
	ExitCommandNotRunnable = 126
)

type execOptions struct {
	TokenEnv string
}

func (a *App) newExecCmd() *cobra.Command {
	opts := &execOptions{}
	cmd := &cobra.Command{
		Use:   "exec [--token-env NAME] -- CMD [ARGS...]",
		Short: "Run a command with the active token in its environment",
		Long: `Runs CMD with ` + a.envName("TOKEN") + ` (or --token-env NAME) set to the active token,
renewed first when it is due, and ` + a.envName("API_URL") + ` set to its API URL (unset
when there is none). The rest of the environment is passed on as it is.
The token is never put on the command line.

Standard input, output and error are the command's; exec exits with the
command's exit status (128+N when a signal N ended it). SIGINT and SIGTERM
sent to ` + a.Name + ` are passed on to the command (a Ctrl-C on the terminal reaches
it directly). A command that cannot be found exits 127, one that cannot be
run 126.`,
		Example: `  ` + a.Name + ` exec -- ./deploy.sh production
  ` + a.Name + ` exec --token-env TF_VAR_api_token -- terraform plan
  ` + a.Name + ` exec -- sh -c 'curl -H "Authorization: Bearer $` + a.envName("TOKEN") + `" "$` + a.envName("API_URL") + `/v1/me"'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("exec needs a command: %s exec -- CMD [ARGS...]", a.Name)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return a.runExec(cmd.Context(), args, opts) },
	}
	// Everything after CMD is CMD's, flags included (no "--" needed).
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVar(&opts.TokenEnv, "token-env", a.envName("TOKEN"), "the environment variable to put the token in")
	return cmd
}

// execStartError means the command could not be started; code is the
// shell's: 127 not found, 126 not runnable.
type execStartError struct {
	name, problem, hint string
	code                int
}

func (e *execStartError) Error() string { return "exec " + e.name + ": " + e.problem }

func startError(name string, err error) error {
	e := &execStartError{name: redact.Text(name, 200), code: ExitCommandNotRunnable}
	switch {
	case errors.Is(err, exec.ErrDot):
		e.code, e.problem, e.hint = ExitCommandNotFound, "found only relative to the current directory through PATH", "run it as ./"+redact.ShellQuote(redact.Text(name, 200))
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		e.code, e.problem, e.hint = ExitCommandNotFound, "command not found", "check the command's name and PATH"
	case errors.Is(err, fs.ErrPermission):
		e.problem = "permission denied (not executable?)"
	default:
		e.problem = "cannot run it: " + redact.Text(oneLine(rootCause(err)), 200)
	}
	return e
}

func (a *App) runExec(ctx context.Context, args []string, opts *execOptions) error {
	tokenVar, apiVar := opts.TokenEnv, a.envName("API_URL")
	if !validEnvName(tokenVar) {
		return usageErrorf("--token-env %q is not an environment variable name (letters, digits and _, not starting with a digit)", redact.Text(tokenVar, 100))
	}
	if sameEnvName(tokenVar, apiVar, a.GOOS) {
		return usageErrorf("--token-env cannot be %s: it holds the API URL", apiVar)
	}
	t, err := a.activeCredential(ctx, false)
	if err != nil {
		return err
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		return startError(args[0], err)
	}
	env := childEnv(a.environ(), a.GOOS, tokenVar, t.Value.Reveal(), apiVar, t.APIURL)
	cmd := &exec.Cmd{Path: path, Args: args, Env: env, Stdin: a.Stdin, Stdout: a.Stdout, Stderr: a.Stderr, WaitDelay: time.Second}

	// Caught from before the start, so that a SIGTERM cannot end sesame
	// and leave the command running on its own.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return startError(args[0], err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				if s == os.Interrupt && ctrlCReachesChild() {
					continue // the terminal sent it to the command too
				}
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	return &exitError{code: exitStatus(cmd.Wait())}
}

// exitStatus is the status a shell would report for a command that ended
// with err: its exit code, or 128+N when signal N ended it.
func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	ee, ok := errors.AsType[*exec.ExitError](err)
	if !ok {
		return ExitError // the command ran, but its output could not be copied
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

// environ is the environment exec passes on (none when the App has no
// Environ).
func (a *App) environ() []string {
	if a.Environ == nil {
		return nil
	}
	return a.Environ()
}

// childEnv is env without tokenVar and apiVar, then tokenVar=token and,
// when api is not empty, apiVar=api.
func childEnv(env []string, goos, tokenVar, token, apiVar, api string) []string {
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if sameEnvName(k, tokenVar, goos) || sameEnvName(k, apiVar, goos) {
			continue
		}
		out = append(out, kv)
	}
	out = append(out, tokenVar+"="+token)
	if api != "" {
		out = append(out, apiVar+"="+api)
	}
	return out
}

// sameEnvName compares env var names as the platform does (Windows
// ignores case).
func sameEnvName(a, b, goos string) bool {
	if goos == "windows" {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// validEnvName reports whether s is a portable environment variable name:
// [A-Za-z_][A-Za-z0-9_]*.
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
