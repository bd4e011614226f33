package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-cli/sesame/internal/redact"
)

// WebOptions configures WebLogin.
type WebOptions struct {
	Open    func(authURL string) error // called once with the full authorization URL (print it, open a browser)
	Timeout time.Duration              // 0 → 5 minutes
	Addr    string                     // loopback listen address; "" → "127.0.0.1:0"
}

const defaultWebTimeout = 5 * time.Minute

// ErrListen: the loopback address for the redirect could not be listened on
// (a registered port is taken).
var ErrListen = errors.New("cannot listen for the redirect")

// WebLogin runs the authorization code grant with PKCE (S256) and a loopback
// redirect http://127.0.0.1:<port>/callback (RFC 8252). It sends a random
// state and, when offline_access is among the scopes, prompt=consent. The
// local server answers only GET /callback: a wrong state is ErrStateMismatch
// (nothing exchanged), an iss parameter (RFC 9207) naming another issuer is
// ErrIssuerMismatch, error=... is an OAuthError, a code is exchanged with the
// code_verifier and the same redirect_uri. The browser gets a small
// self-contained page. No callback within opts.Timeout → ErrTimeout; ctx
// canceled → ctx.Err() (wrapped). No authorization_endpoint → ErrNotSupported.
func (c *Client) WebLogin(ctx context.Context, app App, opts WebOptions) (*oauth2.Token, error) {
	const op = "web login"
	if err := app.check(op, app.Metadata.AuthorizationEndpoint, "authorization endpoint"); err != nil {
		return nil, err
	}
	if opts.Open == nil {
		return nil, fmt.Errorf("%s: no way to open the authorization URL", op)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultWebTimeout
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !IsLoopbackHost(host) {
		return nil, fmt.Errorf("%s: listen address %q is not a loopback address", op, addr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen for the redirect on %s: %w: %w", op, addr, ErrListen, err)
	}
	defer ln.Close()
	tcpAddr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("%s: unexpected listener address %s", op, ln.Addr())
	}
	redirectURI := (&url.URL{Scheme: "http", Host: net.JoinHostPort(tcpAddr.IP.String(), fmt.Sprint(tcpAddr.Port)), Path: "/callback"}).String()

	state, err := randomState()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	verifier := oauth2.GenerateVerifier()
	authOpts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if slices.Contains(app.Scopes, "offline_access") {
		authOpts = append(authOpts, oauth2.SetAuthURLParam("prompt", "consent"))
	}
	if app.Resource != "" {
		authOpts = append(authOpts, oauth2.SetAuthURLParam("resource", app.Resource))
	}
	authURL := app.Config(redirectURI).AuthCodeURL(state, authOpts...)

	// The exchange runs in the callback handler (so the page can report its
	// outcome) with a context that ends when WebLogin returns.
	exchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		tok *oauth2.Token
		err error
	}
	results := make(chan result, 1)
	cb := &callback{
		op:     op,
		state:  state,
		issuer: app.Metadata.Issuer,
		exchange: func(code string) (*oauth2.Token, error) {
			return c.exchange(exchCtx, op, app, code, verifier, redirectURI)
		},
		deliver: func(tok *oauth2.Token, err error) { results <- result{tok, err} },
	}
	mux := http.NewServeMux()
	mux.Handle("/callback", cb)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		cancel() // ends an exchange still running in the handler
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer scancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
	}()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	if err := opts.Open(authURL); err != nil {
		return nil, fmt.Errorf("%s: open the authorization URL: %w", op, err)
	}
	select {
	case res := <-results:
		return res.tok, res.err
	case <-timer.C:
		if cb.badState.Load() {
			return nil, fmt.Errorf("%s: %w: refused, and no callback with the right state came within %s", op, ErrStateMismatch, timeout)
		}
		return nil, fmt.Errorf("%s: %w after %s", op, ErrTimeout, timeout)
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", op, ctx.Err())
	}
}

// exchange redeems an authorization code (oauth2.Config.Exchange with the
// PKCE code_verifier and the same redirect_uri).
func (c *Client) exchange(ctx context.Context, op string, app App, code, verifier, redirectURI string) (*oauth2.Token, error) {
	if err := app.check(op, app.Metadata.TokenEndpoint, "token endpoint"); err != nil {
		return nil, err
	}
	g := c.grant(app, nil)
	tok, err := app.Config(redirectURI).Exchange(g.context(ctx), code, oauth2.VerifierOption(verifier))
	return g.result(ctx, op, tok, err, code, verifier, app.ClientSecret)
}

func randomState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// callback is the loopback redirect handler.
type callback struct {
	op       string
	state    string
	issuer   string
	taken    atomic.Bool // a callback with a code or an error was handled
	badState atomic.Bool // a callback with another state was refused
	exchange func(code string) (*oauth2.Token, error)
	deliver  func(*oauth2.Token, error)
}

func (cb *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/callback" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	code, errCode := q.Get("code"), q.Get("error")
	if code == "" && errCode == "" {
		page(w, http.StatusBadRequest, "Login failed", "This address expects the authorization server's redirect. Start the login again from the command line.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(cb.state)) != 1 {
		// Not this login's answer (a forged or stale redirect): refused,
		// and the login keeps waiting for the right one until it times out.
		cb.badState.Store(true)
		page(w, http.StatusBadRequest, "Login failed", "The state parameter did not match this login, so nothing was exchanged. The command line is still waiting for the right answer; start the login again there if it does not come.")
		return
	}
	if !cb.taken.CompareAndSwap(false, true) {
		page(w, http.StatusConflict, "Login already handled", "This login has already been handled. You can close this tab.")
		return
	}
	var (
		tok *oauth2.Token
		err error
	)
	switch {
	case q.Has("iss") && strings.TrimSuffix(q.Get("iss"), "/") != strings.TrimSuffix(cb.issuer, "/"):
		err = fmt.Errorf("%s: the redirect names another issuer: %w", cb.op, ErrIssuerMismatch)
		page(w, http.StatusBadRequest, "Login failed", "The redirect came from another authorization server than expected, so nothing was exchanged.")
	case errCode != "":
		oe := &OAuthError{Op: cb.op, Code: redact.Code(errCode), Description: redact.Text(q.Get("error_description"), maxDescription)}
		err = oe
		page(w, http.StatusOK, "Login failed", "The authorization server answered: "+oe.Code+describe(oe.Description))
	default:
		tok, err = cb.exchange(code)
		if err != nil {
			msg := "The authorization code could not be exchanged for a token."
			if oe, ok := errors.AsType[*OAuthError](err); ok {
				msg += " The authorization server answered: " + oe.Code + describe(oe.Description)
			}
			page(w, http.StatusOK, "Login failed", msg)
		} else {
			page(w, http.StatusOK, "Logged in", "You are logged in. You can close this tab.")
		}
	}
	cb.deliver(tok, err)
}

func describe(desc string) string {
	if desc == "" {
		return "."
	}
	return " (" + desc + ")."
}

const pageHead = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;line-height:1.5}</style>
`

// page writes a small self-contained HTML page; title and message are
// HTML-escaped (html.EscapeString: html/template would cost every run of
// the binary its package initialisation, for three text fields).
func page(w http.ResponseWriter, status int, title, message string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("Connection", "close")
	w.WriteHeader(status)
	t, m := html.EscapeString(title), html.EscapeString(message)
	_, _ = io.WriteString(w, pageHead+"<title>"+t+"</title>\n</head><body><h1>"+t+"</h1><p>"+m+"</p></body></html>\n")
}
