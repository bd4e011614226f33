//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/devissuer"
)

const grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// issuer is the development issuer and its sample API, served from this
// process on loopback, with a hook that reports every device-code poll
// answered "authorization_pending".
type issuer struct {
	srv     *devissuer.Server
	servers []*http.Server
	pending chan time.Time // when a pending poll's answer was written
}

func startIssuer(interval time.Duration) (*issuer, error) {
	is := &issuer{
		srv:     devissuer.New(devissuer.Options{Interval: interval, AccessTTL: time.Hour}),
		pending: make(chan time.Time, 16),
	}
	issuerURL, err := is.serve(is.observePolls(is.srv.IssuerHandler()))
	if err != nil {
		return nil, err
	}
	apiURL, err := is.serve(is.srv.APIHandler())
	if err != nil {
		is.Close()
		return nil, err
	}
	is.srv.SetIssuerURL(issuerURL)
	is.srv.SetAPIURL(apiURL)
	return is, nil
}

func (is *issuer) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	s := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	is.servers = append(is.servers, s)
	go func() { _ = s.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

func (is *issuer) Close() {
	for _, s := range is.servers {
		_ = s.Close()
	}
}

func (is *issuer) IssuerURL() string { return is.srv.IssuerURL() }
func (is *issuer) APIURL() string    { return is.srv.APIURL() }

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// observePolls reports on is.pending when a device-code poll was answered
// with an error (authorization_pending: the code is not approved yet).
func (is *issuer) observePolls(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/token" {
			h.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		if form.Get("grant_type") == grantDeviceCode && rec.status == http.StatusBadRequest {
			select {
			case is.pending <- time.Now():
			default:
			}
		}
	})
}

// counters GETs /debug/counters, as a test script would.
func (is *issuer) counters(ctx context.Context) (map[string]int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, is.IssuerURL()+"/debug/counters", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var c map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		return nil, fmt.Errorf("/debug/counters: %w", err)
	}
	return c, nil
}

// deviceLogin is one device login: how long from the approval to the
// "Logged in" line, the whole login, and its peak RSS (0 without GNU time).
type deviceLogin struct {
	Code     time.Duration // start → "Enter code" on stderr (discovery, registration, device authorization)
	Approval time.Duration // approval → "Logged in" on stderr
	Total    time.Duration // start → "Logged in"
	PeakRSS  float64
	FirstRun bool // no client cached for the issuer: registered one
}

// timeDeviceLogin runs `sesame login --no-browser` and approves its code
// through the issuer's Go API right after a poll was answered "pending":
// the worst moment, as the next poll is a whole interval away. It returns
// the time from that approval to the "Logged in" line.
func timeDeviceLogin(ctx context.Context, is *issuer, sesame string, env []string, gt *gnuTime) (deviceLogin, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for len(is.pending) > 0 {
		<-is.pending
	}
	argv := []string{sesame, "login", "--no-browser"}
	rssFile := ""
	if gt != nil {
		rssFile = filepath.Join(gt.Dir, "login.time")
		argv = append([]string{gt.Path, "-f", "%M", "-o", rssFile}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return deviceLogin{}, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return deviceLogin{}, err
	}
	type line struct {
		at   time.Time
		text string
	}
	lines := make(chan line, 64)
	var transcript strings.Builder
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- line{time.Now(), sc.Text()}
		}
	}()
	fail := func(err error) (deviceLogin, error) {
		cancel()
		for l := range lines {
			transcript.WriteString(l.text + "\n")
		}
		_ = cmd.Wait()
		return deviceLogin{}, fmt.Errorf("device login: %w\n%s", err, transcript.String())
	}
	next := func() (line, error) {
		select {
		case l, ok := <-lines:
			if !ok {
				return line{}, errors.New("sesame exited early")
			}
			transcript.WriteString(l.text + "\n")
			return l, nil
		case <-ctx.Done():
			return line{}, ctx.Err()
		}
	}
	var code string
	var codeAt time.Time
	for code == "" {
		l, err := next()
		if err != nil {
			return fail(err)
		}
		if c, ok := strings.CutPrefix(l.text, "Enter code: "); ok {
			code, codeAt = strings.TrimSpace(c), l.at
		}
	}
	select {
	case <-is.pending:
	case <-ctx.Done():
		return fail(errors.New("no device poll within 60 s"))
	}
	approved := time.Now()
	if err := is.srv.Approve(code, ""); err != nil {
		return fail(fmt.Errorf("approve: %w", err))
	}
	var done line
	for done.text == "" {
		l, err := next()
		if err != nil {
			return fail(err)
		}
		if strings.HasPrefix(l.text, "Logged in") {
			done = l
		}
	}
	for l := range lines {
		transcript.WriteString(l.text + "\n")
	}
	if err := cmd.Wait(); err != nil {
		return deviceLogin{}, fmt.Errorf("device login: %w\n%s", err, transcript.String())
	}
	res := deviceLogin{Code: codeAt.Sub(start), Approval: done.at.Sub(approved), Total: done.at.Sub(start)}
	if rssFile != "" {
		kib, err := parseTimeKiB(rssFile)
		if err != nil {
			return deviceLogin{}, err
		}
		res.PeakRSS = float64(kib) * 1024
	}
	return res, nil
}

// expireLogins marks every stored login in dir as expired a minute ago
// (the server still accepts the token) and returns the current API's
// access token.
func expireLogins(ctx context.Context, dir string) (string, error) {
	var tok string
	err := config.Update(ctx, dir, func(cfg *config.File) error {
		for _, l := range cfg.APIs {
			l.ExpiresAt = time.Now().Add(-time.Minute).UTC()
		}
		if l := cfg.APIs[cfg.CurrentAPI]; l != nil {
			tok = l.AccessToken
		}
		return nil
	})
	if err == nil && tok == "" {
		err = errors.New("no stored login in the config file")
	}
	return tok, err
}

// refreshRound is one run of n parallel `auth token` on an expired login.
type refreshRound struct {
	Latencies []float64 // seconds, one per process (failed ones too)
	Refreshes int       // refresh-token grants the issuer answered
	Failed    int       // processes that failed or printed a wrong token
	Failure   string    // the first failure's message
}

// ok says whether the round did what it must: one refresh, no failure.
func (r refreshRound) ok() bool { return r.Refreshes == 1 && r.Failed == 0 }

// parallelRefresh expires the stored login and starts n `sesame auth
// token` at once. Every one must print the same new token, and the issuer
// must have seen exactly one refresh; a round where not is returned with
// its failures counted (and reported as a missed target), not as an error.
func parallelRefresh(ctx context.Context, is *issuer, sesame string, env []string, dir string, n int) (refreshRound, error) {
	old, err := expireLogins(ctx, dir)
	if err != nil {
		return refreshRound{}, err
	}
	before, err := is.counters(ctx)
	if err != nil {
		return refreshRound{}, err
	}
	type result struct {
		lat            time.Duration
		stdout, stderr string
		err            error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var stdout, stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, sesame, "auth", "token")
			cmd.Env, cmd.Stdout, cmd.Stderr = env, &stdout, &stderr
			<-start
			t := time.Now()
			err := cmd.Run()
			results[i] = result{time.Since(t), stdout.String(), stderr.String(), err}
		})
	}
	close(start)
	wg.Wait()
	after, err := is.counters(ctx)
	if err != nil {
		return refreshRound{}, err
	}
	round := refreshRound{Refreshes: after["token:refresh_token"] - before["token:refresh_token"]}
	want := ""
	for _, r := range results {
		if r.err == nil {
			want = strings.TrimSpace(r.stdout)
			break
		}
	}
	for i, r := range results {
		round.Latencies = append(round.Latencies, r.lat.Seconds())
		tok := strings.TrimSpace(r.stdout)
		msg := ""
		switch {
		case r.err != nil:
			msg = fmt.Sprintf("auth token %d of %d: %v: %s", i+1, n, r.err, strings.TrimSpace(r.stderr))
		case tok == "" || tok == old:
			msg = fmt.Sprintf("auth token %d of %d printed the expired token or none", i+1, n)
		case tok != want:
			msg = fmt.Sprintf("auth token %d of %d printed another token than the others", i+1, n)
		}
		if msg != "" {
			round.Failed++
			if round.Failure == "" {
				round.Failure = firstLine(msg)
			}
		}
	}
	return round, nil
}

// writeHeaderFile writes "Authorization: Bearer TOKEN" for curl -H @FILE,
// so that the token is not in curl's argv.
func writeHeaderFile(dir, token string) (string, error) {
	p := filepath.Join(dir, "auth-header")
	return p, os.WriteFile(p, []byte("Authorization: Bearer "+token+"\n"), 0o600)
}
