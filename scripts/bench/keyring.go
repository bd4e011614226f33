//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/sesame-cli/sesame/internal/config"
)

// kbench is what the keyring comparison needs.
type kbench struct {
	is                        *issuer
	r                         *runner
	log                       io.Writer
	work                      string
	sesame, baseline, gh      string
	envToken, envStored, base []string
	runs, warmup              int
}

// kresult is the keyring comparison, and what it could not measure.
type kresult struct {
	run     []timing
	skipped []string
}

// ghUser is the account name seeded for gh.
const ghUser = "sesame-bench"

// benchKeyring logs in with SESAME_STORAGE=keyring in the D-Bus session
// this program runs in (bench.sh starts one with gnome-keyring), seeds gh's
// keyring entry as `gh auth login` would, and times `auth token` from the
// keyring, gh's `auth token` from the same keyring and `auth token` from the
// file store against the baseline, interleaved (hyperfine -N gives every
// command one environment; these need four).
func benchKeyring(ctx context.Context, k kbench) (kresult, error) {
	var res kresult
	bus := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if bus == "" {
		res.skipped = append(res.skipped, "auth token from the OS keyring: no D-Bus session (scripts/bench.sh starts one with gnome-keyring when dbus and gnome-keyring are installed)")
		return res, nil
	}
	kdir := filepath.Join(k.work, "config-keyring")
	if err := os.MkdirAll(kdir, 0o700); err != nil {
		return res, err
	}
	// auth token runs with the default storage (auto), as on a desktop; the
	// login is made with SESAME_STORAGE=keyring so that it cannot fall back.
	envK := withEnv(k.base, "DBUS_SESSION_BUS_ADDRESS="+bus, "SESAME_CONFIG_DIR="+kdir)
	fmt.Fprintf(k.log, "\n== device login into gnome-keyring\n")
	if _, err := timeDeviceLogin(ctx, k.is, k.sesame, withEnv(envK, "SESAME_STORAGE=keyring", "SESAME_API_URL="+k.is.APIURL()), nil); err != nil {
		res.skipped = append(res.skipped, "auth token from the OS keyring: the login with SESAME_STORAGE=keyring failed: "+firstLine(err.Error()))
		return res, nil
	}
	cfg, err := config.Load(kdir)
	if err != nil {
		return res, err
	}
	if l := cfg.APIs[cfg.CurrentAPI]; l == nil || l.Storage != "keyring" || l.AccessToken != "" {
		res.skipped = append(res.skipped, "auth token from the OS keyring: the login was not stored in the keyring")
		return res, nil
	}
	tok, err := output(ctx, envK, k.sesame, "auth", "token")
	if err != nil {
		return res, fmt.Errorf("auth token from the keyring: %w", err)
	}
	cmds := []command{
		{Label: labelBaseline, Args: []string{k.baseline}, Env: k.envToken},
		{Label: labelKeyring, Args: []string{k.sesame, "auth", "token"}, Env: envK},
		{Label: labelStored, Args: []string{k.sesame, "auth", "token"}, Env: k.envStored},
	}
	if k.gh == "" {
		res.skipped = append(res.skipped, "gh reading its token from the keyring: no gh 2.40 or later (scripts/bench.sh builds gh 2.63.0)")
	} else if envGH, err := seedGH(ctx, k, bus, tok); err != nil {
		res.skipped = append(res.skipped, "gh reading its token from the keyring: "+firstLine(err.Error()))
	} else {
		cmds = append(cmds, command{Label: labelGHKey, Args: []string{k.gh, "auth", "token"}, Env: envGH})
	}
	fmt.Fprintf(k.log, "== auth token from the keyring: %d interleaved runs\n", k.runs)
	samples, err := k.r.interleave(ctx, cmds, k.warmup, k.runs)
	if err != nil {
		return res, err
	}
	for i, c := range cmds {
		t := timing{Label: c.Label, Cmd: c}
		for _, s := range samples[i] {
			t.Times = append(t.Times, s.Wall.Seconds())
		}
		res.run = append(res.run, t)
	}
	return res, nil
}

// seedGH writes what `gh auth login --with-token` would (it cannot, as it
// checks the token against github.com): the token in the keyring under
// service gh:github.com for the user and for "" (the active account), and
// hosts.yml naming the user. It returns gh's environment after checking
// that `gh auth token` prints the token.
func seedGH(ctx context.Context, k kbench, bus, tok string) ([]string, error) {
	for _, user := range []string{"", ghUser} {
		if err := keyring.Set("gh:github.com", user, tok); err != nil {
			return nil, fmt.Errorf("seed the keyring: %w", err)
		}
	}
	dir := filepath.Join(k.work, "gh-keyring")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	hosts := "github.com:\n    git_protocol: https\n    users:\n        " + ghUser + ":\n    user: " + ghUser + "\n"
	if err := os.WriteFile(filepath.Join(dir, "hosts.yml"), []byte(hosts), 0o600); err != nil {
		return nil, err
	}
	env := withEnv(k.base, "DBUS_SESSION_BUS_ADDRESS="+bus, "GH_CONFIG_DIR="+dir, "GH_NO_UPDATE_NOTIFIER=1", "GH_PROMPT_DISABLED=1")
	got, err := output(ctx, env, k.gh, "auth", "token")
	if err != nil {
		return nil, err
	}
	if got != tok {
		return nil, fmt.Errorf("gh auth token printed %d bytes, not the seeded token", len(got))
	}
	return env, nil
}

// output runs argv in env and returns its trimmed stdout.
func output(ctx context.Context, env []string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
