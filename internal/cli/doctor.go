package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/apiclient"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/oauth"
)

// Doctor runs an ordered list of checks of the setup. It is read-only: it
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

// doctor holds one run's checks and what earlier checks found.
type doctor struct {
	a            *App
	checkTimeout time.Duration

	status map[string]checkStatus

	cfg         *config.File // config.json as read; nil when unreadable
	cred        *credentials.Credential
	ccID        string // client credentials from <NAME>_CLIENT_ID / _SECRET
	ccSecret    string
	storedAPI   string        // the API a stored login would be used for
	storedLogin *config.Login // the login stored for storedAPI, if any

	apiURL string
	date   time.Time // the API's Date header
	dateAt time.Time // the local time it arrived

	disc    *discovery
	keyring chan keyringProbe
}

func (a *App) newDoctor() *doctor {
	return &doctor{a: a, checkTimeout: doctorCheckTimeout, status: map[string]checkStatus{}}
}

func (a *App) runDoctor(ctx context.Context, opts *doctorOptions) error {
	runCtx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	results := a.newDoctor().run(runCtx)
	if err := ctx.Err(); err != nil {
		return err
	}
	if opts.JSON {
		enc := json.NewEncoder(a.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(doctorReport{Checks: results}); err != nil {
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

// run runs every check in order.
func (d *doctor) run(ctx context.Context) []checkResult {
	checks := []struct {
		name string
		fn   func(context.Context) checkResult
	}{
		{"config", d.checkConfig},
		{"token", d.checkToken},
		{"api", d.checkAPI},
		{"token-valid", d.checkTokenValid},
		{"issuer", d.checkIssuer},
		{"keyring", d.checkKeyring},
		{"expiry", d.checkExpiry},
		{"clock", d.checkClock},
	}
	var out []checkResult
	for _, c := range checks {
		r := c.fn(ctx)
		r.Name = c.name
		r.Message, r.Hint = oneLine(r.Message), oneLine(r.Hint)
		d.status[c.name] = r.Status
		out = append(out, r)
		if c.name == "token" {
			// The keyring probe is independent of the network checks:
			// run it meanwhile so that a hanging keyring adds no time.
			d.startKeyringProbe()
		}
	}
	return out
}

func (d *doctor) failed(name string) bool { return d.status[name] == statusFail }

// hintFor is the hint exit.go would print for err.
func (a *App) hintFor(err error) string {
	_, hint := a.classify(err)
	var h *hinted
	if errors.As(err, &h) {
		hint = h.hint
	}
	return hint
}

func (d *doctor) now() time.Time { return d.a.Now() }

// --- config -------------------------------------------------------------

func (d *doctor) checkConfig(context.Context) checkResult {
	a := d.a
	dir, err := a.ConfigDir()
	if err != nil {
		return fail(err.Error(), a.hintFor(err))
	}
	di, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		d.cfg = &config.File{Version: config.Version}
		return pass("no config directory yet (" + dir + " is created at the first login)")
	}
	if err != nil {
		return fail("config directory "+dir+": "+fsProblem(err), "check the permissions of "+dir)
	}
	if !di.IsDir() {
		return fail(dir+" is not a directory", "remove it, or set "+a.envName("CONFIG_DIR")+" to another directory")
	}
	path := config.Path(dir)
	fi, err := os.Stat(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fail(path+": "+fsProblem(err), "check the permissions of "+path)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		return fail(err.Error(), a.hintFor(err))
	}
	d.cfg = cfg
	if a.GOOS == "windows" {
		if !exists {
			return pass(dir + " (no config.json yet)")
		}
		return pass(path + " is readable")
	}
	if exists {
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			msg := fmt.Sprintf("%s is %s by other users (mode %04o)", path, openWords(perm), perm)
			if holdsTokens(cfg) {
				msg += " and holds tokens"
			}
			return fail(msg, "chmod 600 "+path)
		}
	}
	if perm := di.Mode().Perm(); perm&0o077 != 0 {
		return warn(fmt.Sprintf("config directory %s is %s by other users (mode %04o)", dir, openWords(perm), perm), "chmod 700 "+dir)
	}
	if !exists {
		return pass(fmt.Sprintf("%s (mode %04o), no config.json yet", dir, di.Mode().Perm()))
	}
	return pass(fmt.Sprintf("%s is private (mode %04o, directory %04o)", path, fi.Mode().Perm(), di.Mode().Perm()))
}

func openWords(perm fs.FileMode) string {
	switch {
	case perm&0o044 != 0 && perm&0o022 != 0:
		return "readable and writable"
	case perm&0o044 != 0:
		return "readable"
	case perm&0o022 != 0:
		return "writable"
	}
	return "accessible"
}

func holdsTokens(cfg *config.File) bool {
	for _, l := range cfg.APIs {
		if l != nil && (l.AccessToken != "" || l.RefreshToken != "") {
			return true
		}
	}
	for _, m := range cfg.Minted {
		if m != nil && m.AccessToken != "" {
			return true
		}
	}
	return false
}

func fsProblem(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// --- token --------------------------------------------------------------

func (d *doctor) checkToken(ctx context.Context) checkResult {
	a := d.a
	env := a.credEnv()
	env.Warn = io.Discard // the file's mode is reported below
	// Client credentials are noted, not minted: a token is minted (and not
	// cached) by token-valid.
	env.Mint = func(_ context.Context, api, from string) (*credentials.Credential, error) {
		id, secret := a.env("CLIENT_ID"), a.env("CLIENT_SECRET")
		if id == "" || secret == "" {
			return nil, nil
		}
		d.ccID, d.ccSecret = id, secret
		return &credentials.Credential{
			Source:       credentials.SourceClientCredentials,
			SourceDetail: "client credentials " + a.envName("CLIENT_ID") + "=" + id,
			APIURL:       api, APIURLFrom: from,
		}, nil
	}
	d.findStoredLogin()
	cred, err := credentials.Resolve(ctx, env)
	if err != nil {
		var input *credentials.InputError
		switch {
		case errors.Is(err, credentials.ErrNoCredential):
			hint := a.hintFor(err)
			if set, unset, ok := d.halfClientCredentials(); ok {
				hint = "set " + unset + " too (" + set + " is set), or run '" + a.Name + " login'"
			}
			return fail("no token: "+err.Error(), hint)
		case errors.As(err, &input):
			return fail(err.Error(), "fix "+input.What)
		}
		return fail("cannot read the token: "+err.Error(), a.hintFor(err))
	}
	d.cred = cred
	msg := cred.SourceDetail
	if s := cred.Stored; s != nil {
		var about []string
		if s.Login.User != "" {
			about = append(about, s.Login.User)
		}
		if s.Login.Method != "" {
			about = append(about, s.Login.Method+" login")
		}
		if len(about) > 0 {
			msg += " (" + strings.Join(about, ", ") + ")"
		}
	}
	var warnings []string
	hint := ""
	if cred.Source == credentials.SourceCredentialsFile && a.GOOS != "windows" {
		if fi, err := os.Stat(cred.Path); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			warnings = append(warnings, fmt.Sprintf("the file is %s by other users (mode %04o)", openWords(fi.Mode().Perm()), fi.Mode().Perm()))
			hint = "chmod 600 " + cred.Path
		}
	}
	if hidden := d.hiddenSources(cred); len(hidden) > 0 {
		warnings = append(warnings, "it hides "+strings.Join(hidden, " and "))
		if hint == "" {
			hint = "unset " + d.sourceVars(cred.Source) + " to use " + hidden[len(hidden)-1]
		}
	}
	if set, unset, ok := d.halfClientCredentials(); ok && cred.Source != credentials.SourceEnv {
		warnings = append(warnings, set+" is set without "+unset+", so client credentials are not used")
		if hint == "" {
			hint = "set both " + a.envName("CLIENT_ID") + " and " + a.envName("CLIENT_SECRET") + ", or neither"
		}
	}
	if len(warnings) > 0 {
		return warn(msg+"; "+strings.Join(warnings, "; "), hint)
	}
	return pass(msg)
}

// halfClientCredentials reports one of <NAME>_CLIENT_ID and
// <NAME>_CLIENT_SECRET set without the other.
func (d *doctor) halfClientCredentials() (set, unset string, ok bool) {
	id, secret := d.a.env("CLIENT_ID") != "", d.a.env("CLIENT_SECRET") != ""
	switch {
	case id && !secret:
		return d.a.envName("CLIENT_ID"), d.a.envName("CLIENT_SECRET"), true
	case secret && !id:
		return d.a.envName("CLIENT_SECRET"), d.a.envName("CLIENT_ID"), true
	}
	return "", "", false
}

// findStoredLogin notes the API a stored login would be used for and the
// login stored there (read from config.json, no keyring access).
func (d *doctor) findStoredLogin() {
	if d.cfg == nil {
		return
	}
	st, err := d.a.Store()
	if err != nil {
		return
	}
	api, _, err := d.a.credEnv().StoredAPI(st)
	if err != nil {
		return
	}
	d.storedAPI = api
	if l := d.cfg.APIs[api]; l != nil {
		d.storedLogin = l
	}
}

// hiddenSources lists what the active source hides, in resolution order.
func (d *doctor) hiddenSources(cred *credentials.Credential) []string {
	a := d.a
	var hidden []string
	if cred.Source == credentials.SourceEnv && a.env("CLIENT_ID") != "" && a.env("CLIENT_SECRET") != "" {
		hidden = append(hidden, "the client credentials in "+a.envName("CLIENT_ID"))
	}
	if (cred.Source == credentials.SourceEnv || cred.Source == credentials.SourceClientCredentials) && a.env("CREDENTIALS_FILE") != "" {
		hidden = append(hidden, a.envName("CREDENTIALS_FILE"))
	}
	if cred.Stored == nil && d.storedLogin != nil {
		hidden = append(hidden, "the stored login for "+d.storedAPI)
	}
	return hidden
}

func (d *doctor) sourceVars(s credentials.Source) string {
	switch s {
	case credentials.SourceEnv:
		return d.a.envName("TOKEN")
	case credentials.SourceClientCredentials:
		return d.a.envName("CLIENT_ID") + " and " + d.a.envName("CLIENT_SECRET")
	case credentials.SourceCredentialsFile:
		return d.a.envName("CREDENTIALS_FILE")
	}
	return string(s)
}

// --- api ----------------------------------------------------------------

// apiTarget is the API URL under test and where it came from.
func (d *doctor) apiTarget() (string, string) {
	if d.cred != nil {
		return d.cred.APIURL, d.cred.APIURLFrom
	}
	env := d.a.credEnv()
	if st, err := d.a.Store(); err == nil && d.cfg != nil {
		if api, from, err := env.StoredAPI(st); err == nil {
			return api, from
		}
	}
	switch {
	case d.a.apiURLFlag != "":
		return credentials.NormalizeURL(d.a.apiURLFlag), "flag"
	case d.a.env("API_URL") != "":
		return credentials.NormalizeURL(d.a.env("API_URL")), "env"
	}
	return "", ""
}

func (d *doctor) checkAPI(ctx context.Context) checkResult {
	a := d.a
	api, from := d.apiTarget()
	if api == "" {
		return fail("no API URL", "pass --api-url or set "+a.envName("API_URL"))
	}
	if err := a.checkAPIURL(api, from); err != nil {
		return fail(err.Error(), a.hintFor(err))
	}
	d.apiURL = api
	return d.probeAPI(ctx, api)
}

// phases records the timings of one HTTP request (httptrace callbacks may
// run on other goroutines).
type phases struct {
	mu                      sync.Mutex
	now                     func() time.Time
	dnsStart, connStart     time.Time
	tlsStart                time.Time
	dns, conn, tlsTime      time.Duration
	dnsErr, connErr, tlsErr error
	sawDNS, sawConn, sawTLS bool
}

func (p *phases) trace() *httptrace.ClientTrace {
	lock := func(f func()) { p.mu.Lock(); f(); p.mu.Unlock() }
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { lock(func() { p.dnsStart = p.now() }) },
		DNSDone: func(info httptrace.DNSDoneInfo) {
			lock(func() { p.sawDNS, p.dns, p.dnsErr = true, p.now().Sub(p.dnsStart), info.Err })
		},
		ConnectStart: func(_, _ string) { lock(func() { p.connStart = p.now() }) },
		ConnectDone: func(_, _ string, err error) {
			lock(func() {
				if p.connErr == nil || err == nil {
					p.sawConn, p.conn, p.connErr = true, p.now().Sub(p.connStart), err
				}
			})
		},
		TLSHandshakeStart: func() { lock(func() { p.tlsStart = p.now() }) },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			lock(func() { p.sawTLS, p.tlsTime, p.tlsErr = true, p.now().Sub(p.tlsStart), err })
		},
	}
}

// probeAPI sends an unauthenticated GET of the /me path (no token is sent):
// any HTTP answer below 500 shows that DNS, TCP, TLS and HTTP work.
func (d *doctor) probeAPI(ctx context.Context, api string) checkResult {
	a := d.a
	ctx, cancel := context.WithTimeout(ctx, d.checkTimeout)
	defer cancel()
	u, err := (&apiclient.Client{BaseURL: api}).ResolveURL(a.mePath())
	if err != nil {
		return fail(err.Error(), "check the API URL")
	}
	p := &phases{now: a.Now}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, p.trace()), http.MethodGet, u.String(), nil)
	if err != nil {
		return fail("bad API URL "+api, "check the API URL")
	}
	req.Header.Set("Accept", "application/json")
	start := a.Now()
	resp, err := a.HTTPClient().Do(req)
	if err != nil {
		return d.apiFailure(ctx, u.Host, p, err)
	}
	at := a.Now()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		d.date, d.dateAt = t, at
	}
	p.mu.Lock()
	var parts []string
	if p.sawDNS {
		parts = append(parts, "DNS "+ms(p.dns))
	}
	if p.sawConn {
		parts = append(parts, "connect "+ms(p.conn))
	}
	if p.sawTLS {
		parts = append(parts, "TLS "+ms(p.tlsTime))
	}
	p.mu.Unlock()
	timing := fmt.Sprintf("HTTP %d in %s", resp.StatusCode, ms(at.Sub(start)))
	if len(parts) > 0 {
		timing += " (" + strings.Join(parts, ", ") + ")"
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode >= 500:
		return fail(fmt.Sprintf("%s answers with an error: %s", api, timing), "the API (or a proxy in front of it) has a problem; try again later")
	case resp.StatusCode == http.StatusNotFound || mt == "text/html":
		return warn(fmt.Sprintf("%s answers, but not like an API: %s for %s", api, timing, a.mePath()), "check the API URL (--api-url or "+a.envName("API_URL")+"): it should point at the API, not the website")
	}
	return pass(api + " reachable: " + timing)
}

// apiFailure says which step failed: DNS, TCP, TLS or HTTP.
func (d *doctor) apiFailure(ctx context.Context, host string, p *phases, err error) checkResult {
	a := d.a
	p.mu.Lock()
	dnsErr, connErr, tlsErr := p.dnsErr, p.connErr, p.tlsErr
	p.mu.Unlock()
	network := "check the API URL (--api-url or " + a.envName("API_URL") + ") and your network connection"
	var (
		de    *net.DNSError
		ne    net.Error
		cve   *tls.CertificateVerificationError
		rhe   tls.RecordHeaderError
		opErr *net.OpError
	)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return fail(fmt.Sprintf("no answer from %s within %s", host, ms(d.checkTimeout)), network+" (a proxy or firewall?)")
	case dnsErr != nil || errors.As(err, &de):
		if de == nil {
			errors.As(dnsErr, &de)
		}
		reason := "lookup failed"
		if de != nil {
			reason = de.Err
		}
		return fail(fmt.Sprintf("cannot resolve %s: %s", hostOnly(host), reason), network)
	case tlsErr != nil || errors.As(err, &cve) || errors.As(err, &rhe):
		if tlsErr == nil {
			tlsErr = err
		}
		return fail(fmt.Sprintf("TLS handshake with %s failed: %s", host, rootCause(tlsErr)), "check that the API URL is right and that this system trusts the API's certificate")
	case connErr != nil || (errors.As(err, &opErr) && opErr.Op == "dial"):
		if connErr == nil {
			connErr = err
		}
		return fail(fmt.Sprintf("cannot connect to %s: %s", host, rootCause(connErr)), network+"; is the API running?")
	}
	return fail(fmt.Sprintf("cannot reach %s: %s", host, rootCause(err)), network)
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// rootCause is the innermost error's text ("connection refused").
func rootCause(err error) string {
	for {
		var next error
		switch e := err.(type) {
		case *net.OpError:
			next = e.Err
		case *os.SyscallError:
			next = e.Err
		case interface{ Unwrap() error }:
			next = e.Unwrap()
		}
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

func ms(d time.Duration) string {
	if d < time.Millisecond {
		return "<1ms"
	}
	if d < 10*time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// --- token-valid --------------------------------------------------------

func (d *doctor) checkTokenValid(ctx context.Context) checkResult {
	a := d.a
	switch {
	case d.cred == nil:
		return skip("no token to check")
	case d.apiURL == "" || d.failed("api"):
		return skip("the API is not reachable")
	}
	ctx, cancel := context.WithTimeout(ctx, d.checkTimeout)
	defer cancel()
	tok := d.cred.Token.Reveal()
	minted := ""
	if d.cred.Source == credentials.SourceClientCredentials {
		t, res := d.mint(ctx)
		if t == "" {
			return res
		}
		tok, minted = t, " (a client-credentials token minted for this check, not cached)"
	}
	c := &apiclient.Client{HTTP: a.HTTPClient(), BaseURL: d.apiURL, Token: tok}
	me, err := c.Me(ctx, a.mePath())
	if err == nil {
		return pass("the API accepts the token: " + apiclient.Identity(me) + minted)
	}
	var (
		authErr  *apiclient.AuthError
		scopeErr *apiclient.ScopeError
	)
	switch {
	case errors.As(err, &authErr):
		if s := d.cred.Stored; s != nil && d.renewable(s) && credentials.Expired(s, d.now(), 0) {
			return warn(err.Error()+"; the access token expired "+durationWords(d.now().Sub(s.Login.ExpiresAt))+" ago and doctor does not refresh it",
				"run '"+a.Name+" whoami' to refresh it, or '"+a.Name+" login'")
		}
		return fail(err.Error(), d.newTokenHint())
	case errors.As(err, &scopeErr):
		return warn("the API knows the token but refuses "+a.mePath()+": "+err.Error(), a.hintFor(err))
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fail("no answer from the API within "+ms(d.checkTimeout), "try again; check your network connection")
	}
	return fail(err.Error(), a.hintFor(err))
}

// newTokenHint says how to replace a token the API refuses.
func (d *doctor) newTokenHint() string {
	a := d.a
	switch d.cred.Source {
	case credentials.SourceEnv:
		return "set a valid token in " + a.envName("TOKEN") + ", or unset it and run '" + a.Name + " login'"
	case credentials.SourceCredentialsFile:
		return "put a valid token in " + d.cred.Path + ", or unset " + a.envName("CREDENTIALS_FILE") + " and run '" + a.Name + " login'"
	case credentials.SourceClientCredentials:
		return "check the scopes (" + a.envName("SCOPES") + ") and the client's access to the API"
	}
	return "run '" + a.Name + " login' to get a new token"
}

// mint gets a client-credentials token for token-valid, without caching
// it. It returns "" and the check's result when that fails.
func (d *doctor) mint(ctx context.Context) (string, checkResult) {
	a := d.a
	disc := d.discover(ctx)
	if disc.err != nil {
		return "", fail("cannot mint a client-credentials token: "+disc.err.Error(), a.hintFor(disc.err))
	}
	app := oauth.App{Metadata: disc.md, ClientID: d.ccID, ClientSecret: d.ccSecret, Scopes: oauth.ParseScopes(a.env("SCOPES"))}
	tok, err := a.oauthClient().ClientCredentials(ctx, app)
	if err != nil {
		var oe *oauth.OAuthError
		hint := a.hintFor(err)
		if errors.As(err, &oe) && (oe.Code == "invalid_client" || oe.Code == "unauthorized_client") {
			hint = "check " + a.envName("CLIENT_ID") + " and " + a.envName("CLIENT_SECRET")
		}
		return "", fail("the issuer refused the client credentials: "+err.Error(), hint)
	}
	return tok.AccessToken, checkResult{}
}

// --- issuer -------------------------------------------------------------

// discovery is the authorization server found for the token (memoized:
// token-valid needs it to mint client credentials).
type discovery struct {
	issuer string
	how    string
	md     *oauth.Metadata
	took   time.Duration
	err    error
}

func (d *doctor) discover(ctx context.Context) *discovery {
	if d.disc != nil {
		return d.disc
	}
	a := d.a
	oc := a.oauthClient()
	disc := &discovery{}
	start := a.Now()
	if s := d.cred; s != nil && s.Stored != nil && s.Stored.Login.Issuer != "" {
		disc.issuer, disc.how = s.Stored.Login.Issuer, "from the stored login"
	} else {
		iss, via, err := oc.FindIssuer(ctx, d.apiURL)
		if err != nil {
			disc.err = err
			d.disc = disc
			return disc
		}
		disc.issuer = iss
		disc.how = "guessed from the API host"
		if via == oauth.ViaProtectedResource {
			disc.how = "named by the API"
		}
	}
	if _, err := oauth.CheckURL(disc.issuer); err != nil {
		disc.err = fmt.Errorf("issuer %s: %w", disc.issuer, err)
	} else {
		disc.md, disc.err = oc.Discover(ctx, disc.issuer)
	}
	disc.took = a.Now().Sub(start)
	d.disc = disc
	return disc
}

func (d *doctor) checkIssuer(ctx context.Context) checkResult {
	a := d.a
	cc := d.cred != nil && d.cred.Source == credentials.SourceClientCredentials
	storedIssuer := d.cred != nil && d.cred.Stored != nil && d.cred.Stored.Login.Issuer != ""
	if !storedIssuer && (d.apiURL == "" || d.failed("api")) {
		return skip("the API is not reachable, so its authorization server cannot be found")
	}
	// Needed: a stored OAuth login refreshes there, client credentials mint
	// there, and without a token 'login' needs it. A pasted token works
	// without one, so a failure there is only a warning.
	needed := storedIssuer || cc || d.cred == nil
	ctx, cancel := context.WithTimeout(ctx, d.checkTimeout)
	defer cancel()
	disc := d.discover(ctx)
	if err := disc.err; err != nil {
		msg := "cannot discover the authorization server"
		if disc.issuer != "" {
			msg += " " + disc.issuer + " (" + disc.how + ")"
		}
		var ne *oauth.NetworkError
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			msg += ": no answer within " + ms(d.checkTimeout)
		case errors.As(err, &ne):
			msg += ": " + rootCause(ne)
		default:
			msg += ": " + err.Error()
		}
		hint := a.hintFor(err)
		if !needed {
			return warn(msg+"; the token works without it, but '"+a.Name+" login' would not",
				"to log in with OAuth, pass --issuer to '"+a.Name+" login'")
		}
		if hint == "" {
			hint = "check the issuer URL and your network connection"
		}
		return fail(msg, hint)
	}
	md := disc.md
	msg := fmt.Sprintf("%s (%s) answers discovery in %s", md.Issuer, disc.how, ms(disc.took))
	switch {
	case cc:
		return pass(msg)
	case md.DeviceAuthorizationEndpoint == "":
		hint := "log in with '" + a.Name + " login --with-token'"
		if md.AuthorizationEndpoint != "" {
			hint = "log in with '" + a.Name + " login --web'"
		}
		return warn(msg+", but advertises no device authorization endpoint", hint)
	}
	return pass(msg + ", device flow advertised")
}

// --- keyring ------------------------------------------------------------

type keyringProbe struct {
	took     time.Duration
	err      error
	key      string // the entry read: a stored login's API, or a probe name
	expected bool   // key holds a stored login
	found    bool
}

func (d *doctor) storage() string {
	if d.a.storage == "" {
		return credentials.StorageAuto
	}
	return d.a.storage
}

// keyringLogin is the API whose stored login lives in the keyring, "" when none.
func (d *doctor) keyringLogin() string {
	if s := d.cred; s != nil && s.Stored != nil && s.Stored.Login.Storage == config.StorageKeyring {
		return s.APIURL
	}
	if d.storedLogin != nil && d.storedLogin.Storage == config.StorageKeyring {
		return d.storedAPI
	}
	return ""
}

// startKeyringProbe reads one keyring entry in the background (bounded by
// the keyring timeout): the stored login's entry when there is one, else
// an entry that does not exist. Nothing is written.
func (d *doctor) startKeyringProbe() {
	if d.storage() == credentials.StorageFile || d.a.Keyring == nil || d.keyring != nil {
		return
	}
	a := d.a
	kr := credentials.TimeoutKeyring{Keyring: a.Keyring, Timeout: min(a.keyringTimeout(), d.checkTimeout)}
	probe := keyringProbe{key: d.keyringLogin()}
	probe.expected = probe.key != ""
	if !probe.expected {
		probe.key = "doctor-probe"
	}
	ch := make(chan keyringProbe, 1)
	d.keyring = ch
	go func() {
		start := a.Now()
		_, err := kr.Get(a.Name, probe.key)
		probe.took = a.Now().Sub(start)
		probe.found = err == nil
		if errors.Is(err, credentials.ErrKeyringNotFound) {
			err = nil
		}
		probe.err = err
		ch <- probe
	}()
}

func (d *doctor) checkKeyring(ctx context.Context) checkResult {
	a := d.a
	mode := d.storage()
	if mode == credentials.StorageFile {
		return skip("not used: storage is file (tokens are kept in config.json)")
	}
	if a.Keyring == nil {
		return skip("no keyring on this system")
	}
	d.startKeyringProbe()
	var p keyringProbe
	select {
	case p = <-d.keyring:
	case <-ctx.Done():
		return fail("no time left to wait for the keyring", "try again")
	}
	var remembered *config.KeyringFailure
	if d.cfg != nil {
		remembered = d.cfg.KeyringUnavailable
	}
	fileHint := "use --storage file (or " + a.envName("STORAGE") + "=file) to store tokens in the config file"
	if p.err != nil {
		reason := p.err.Error()
		var ke *credentials.KeyringError
		if errors.As(p.err, &ke) {
			reason = ke.Err.Error()
		}
		msg := "the OS keyring does not answer: " + reason
		switch {
		case p.expected:
			return fail(msg+"; the token for "+p.key+" is stored there", "unlock or start the keyring, or run '"+a.Name+" login --storage file'")
		case mode == credentials.StorageKeyring:
			return fail(msg+" (storage is keyring)", fileHint)
		case remembered != nil:
			return warn(msg+"; it failed before ("+remembered.Reason+"), so tokens are kept in config.json", "fix the keyring, or set "+a.envName("STORAGE")+"=file to stop trying it")
		}
		return warn(msg+"; tokens will be kept in config.json", "fix the keyring, or set "+a.envName("STORAGE")+"=file to stop trying it")
	}
	took := "answers in " + ms(p.took)
	switch {
	case p.expected && !p.found:
		return fail("the keyring "+took+" but has no entry for "+p.key+", though config.json says the token is there", "run '"+a.Name+" login' again")
	case mode == credentials.StorageAuto && remembered != nil && !p.expected:
		return warn(fmt.Sprintf("the keyring %s now, but failed on %s (%s), so tokens are kept in config.json", took, remembered.At.UTC().Format(time.DateOnly), remembered.Reason),
			"log in once with --storage keyring to keep tokens in the keyring again")
	case p.expected:
		return pass("the OS keyring " + took + " and holds the token for " + p.key)
	}
	return pass("the OS keyring " + took)
}

// --- expiry -------------------------------------------------------------

func (d *doctor) checkExpiry(context.Context) checkResult {
	a := d.a
	c := d.cred
	switch {
	case c == nil:
		return skip("no token")
	case c.Source == credentials.SourceClientCredentials:
		return skip("client-credentials tokens are minted when needed")
	case c.Stored == nil:
		return skip("the expiry of a token from " + d.sourceVars(c.Source) + " is not known to " + a.Name)
	}
	s := c.Stored
	rt := d.renewable(s)
	refresh := "no refresh token"
	switch {
	case s.RefreshToken != "":
		refresh = "a refresh token is stored"
	case rt:
		refresh = "minted again with " + a.envName("CLIENT_SECRET")
	}
	if s.Login.ExpiresAt.IsZero() {
		return pass("no expiry recorded; " + refresh)
	}
	left := s.Login.ExpiresAt.Sub(d.now())
	switch {
	case left > 0 && rt:
		return pass("expires in " + durationWords(left) + "; " + refresh + " (renewed automatically)")
	case left > 0 && left <= credentials.RefreshMargin:
		return warn("expires in "+durationWords(left)+" and cannot be renewed ("+refresh+")", "run '"+a.Name+" login' again")
	case left > 0:
		return pass("expires in " + durationWords(left) + "; " + refresh + " (log in again then)")
	case rt:
		return warn("expired "+durationWords(-left)+" ago; doctor does not refresh it, the next command will ("+refresh+")",
			"run '"+a.Name+" whoami' to refresh it now")
	}
	return fail("expired "+durationWords(-left)+" ago and cannot be renewed ("+refresh+")", "run '"+a.Name+" login' again")
}

// renewable reports whether a stored login renews itself: it has a refresh
// token, or it is a client-credentials login whose secret is in the
// environment (minted again).
func (d *doctor) renewable(s *credentials.Stored) bool {
	return s.RefreshToken != "" || (s.Login.Method == "client-credentials" && d.a.env("CLIENT_SECRET") != "")
}

// --- clock --------------------------------------------------------------

// maxClockSkew is the skew above which clock warns.
const maxClockSkew = 60 * time.Second

func (d *doctor) checkClock(context.Context) checkResult {
	switch {
	case d.apiURL == "" || d.failed("api"):
		return skip("the API is not reachable")
	case d.date.IsZero():
		return skip("the API sent no Date header")
	}
	// Date has whole seconds: compare with the local time truncated too.
	skew := d.date.Sub(d.dateAt.Truncate(time.Second))
	abs := skew
	if abs < 0 {
		abs = -abs
	}
	if abs < 2*time.Second {
		return pass("the local clock agrees with the API's Date header (within a second)")
	}
	side := "behind"
	if skew < 0 {
		side = "ahead of"
	}
	msg := "the local clock is " + durationWords(abs) + " " + side + " the API's Date header"
	if abs > maxClockSkew {
		return warn(msg, "set the system clock (enable NTP): expiry times are judged by it")
	}
	return pass(msg)
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
