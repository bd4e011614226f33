package cli_test

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-cli/sesame/internal/cli"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/devissuer"
)

var webAuthURLRe = regexp.MustCompile(`(?m)^http://\S+/authorize\?\S+$`)

// webStderr is stderr that calls onURL (once, in a goroutine) when the
// authorization URL has been printed.
type webStderr struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	once  sync.Once
	onURL func(string)
}

func (w *webStderr) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if u := webAuthURLRe.FindString(w.buf.String()); u != "" {
		w.once.Do(func() { go w.onURL(u) })
	}
	return len(p), nil
}

func (w *webStderr) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestWebLoginInProcess runs login --web in-process against the
// development issuer, with the test playing the browser.
func TestWebLoginInProcess(t *testing.T) {
	for _, tt := range []struct {
		name        string
		autoApprove bool
		browser     func(ctx context.Context, cancel context.CancelFunc, authURL string)
		wantCode    int
		wantLines   []string // stderr lines that must be there, in order
		wantStored  bool
	}{
		{
			name:        "approved: the browser follows the redirect back",
			autoApprove: true,
			browser: func(ctx context.Context, _ context.CancelFunc, authURL string) {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
				if resp, err := (&http.Client{}).Do(req); err == nil {
					resp.Body.Close()
				}
			},
			wantCode:   0,
			wantLines:  []string{"Open this URL in your browser to log in:", "Logged in to"},
			wantStored: true,
		},
		{
			name:      "Ctrl-C while waiting: exit 130, nothing stored",
			browser:   func(_ context.Context, cancel context.CancelFunc, _ string) { cancel() },
			wantCode:  130,
			wantLines: []string{"Open this URL in your browser to log in:", "sesame: interrupted"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := devissuer.Options{}
			if tt.autoApprove {
				opts.AutoApprove = time.Second
			}
			srv := devissuer.New(opts)
			if err := srv.Start("127.0.0.1:0", "127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			dir := filepath.Join(t.TempDir(), "config")
			env := map[string]string{
				"SESAME_CONFIG_DIR": dir,
				"SESAME_STORAGE":    "file",
				"SESAME_API_URL":    srv.APIURL(),
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			stderr := &webStderr{onURL: func(u string) { tt.browser(ctx, cancel, u) }}
			var stdout bytes.Buffer
			app := &cli.App{
				Name:   "sesame",
				Stdin:  strings.NewReader(""),
				Stdout: &stdout,
				Stderr: stderr,
				Getenv: func(k string) string { return env[k] },
				GOOS:   runtime.GOOS,
				Now:    time.Now,
			}
			code := app.Run(ctx, []string{"login", "--web", "--no-browser", "--timeout", "1m"})
			errOut := stderr.String()
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, tt.wantCode, errOut)
			}
			var got []string
			for _, line := range strings.Split(errOut, "\n") {
				for _, w := range tt.wantLines {
					if strings.HasPrefix(line, w) {
						got = append(got, w)
					}
				}
			}
			if diff := cmp.Diff(tt.wantLines, got); diff != "" {
				t.Errorf("stderr lines (-want +got):\n%s\nstderr:\n%s", diff, errOut)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: %q", stdout.String())
			}
			cfg, err := config.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			l := cfg.APIs[srv.APIURL()]
			if stored := l != nil && l.AccessToken != ""; stored != tt.wantStored {
				t.Errorf("stored = %v, want %v", stored, tt.wantStored)
			}
			if tt.wantStored && l.Method != "web" {
				t.Errorf("method %q, want web", l.Method)
			}
		})
	}
}

func TestLoginFlagConflicts(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"login", "--token", "x", "--with-token"}, "sesame: --token and --with-token cannot be used together\n"},
		{[]string{"login", "--web", "--client-credentials"}, "sesame: --web and --client-credentials cannot be used together\n"},
		{[]string{"login", "--token", "x", "--web", "--client-credentials"}, "sesame: --token and --web and --client-credentials cannot be used together\n"},
		{[]string{"login", "--web", "--timeout", "-1s"}, "sesame: --timeout must be positive, not -1s\n"},
		{[]string{"login", "--client-credentials"}, "sesame: --client-credentials needs a client id: set SESAME_CLIENT_ID\n"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runNamed(t, "sesame", map[string]string{"SESAME_CONFIG_DIR": t.TempDir()}, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			first, _, _ := strings.Cut(stderr, "hint:")
			if diff := cmp.Diff(tt.want, first); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if stdout != "" {
				t.Errorf("stdout: %q", stdout)
			}
		})
	}
}
