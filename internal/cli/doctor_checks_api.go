package cli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/sesame-cli/sesame/internal/apiclient"
	"github.com/sesame-cli/sesame/internal/credentials"
	"github.com/sesame-cli/sesame/internal/httpx"
	"github.com/sesame-cli/sesame/internal/oauth"
)

// The checks of what the network steps found: api, token-valid and issuer.
// Like every check they are pure functions of the facts: the requests are
// made while gathering (doctor_facts.go, doctor_net.go).

// --- api ----------------------------------------------------------------

// apiAnswers reports that the api check did not fail: the checks that talk
// to the API can run.
func apiAnswers(f *doctorFacts) bool { return checkAPI(f).Status != statusFail }

func checkAPI(f *doctorFacts) checkResult {
	api := f.apiTarget
	switch {
	case api == "":
		return fail("no API URL", "pass --api-url or set "+f.envName("API_URL"))
	case f.apiURLErr != nil:
		return fail(f.apiURLErr.Error(), f.hintFor(f.apiURLErr))
	case f.probe == nil:
		return skip("the API was not probed")
	}
	p := f.probe
	switch {
	case p.urlErr != nil:
		return fail(p.urlErr.Error(), "check the API URL")
	case p.badRequest:
		return fail("bad API URL "+api, "check the API URL")
	case p.err != nil:
		return apiFailure(f, p)
	}
	var parts []string
	if p.phases.sawDNS {
		parts = append(parts, "DNS "+ms(p.phases.dns))
	}
	if p.phases.sawConn {
		parts = append(parts, "connect "+ms(p.phases.conn))
	}
	if p.phases.sawTLS {
		parts = append(parts, "TLS "+ms(p.phases.tls))
	}
	timing := fmt.Sprintf("HTTP %d in %s", p.status, ms(p.took))
	if len(parts) > 0 {
		timing += " (" + strings.Join(parts, ", ") + ")"
	}
	mt, _, _ := mime.ParseMediaType(p.contentType)
	switch {
	case p.status >= 500:
		return fail(fmt.Sprintf("%s answers with an error: %s", api, timing), "the API (or a proxy in front of it) has a problem; try again later")
	case p.status == http.StatusNotFound || mt == "text/html":
		return warn(fmt.Sprintf("%s answers, but not like an API: %s for %s", api, timing, f.mePath), "check the API URL (--api-url or "+f.envName("API_URL")+"): it should point at the API, not the website")
	}
	return pass(api + " reachable: " + timing)
}

// apiFailure says which step failed: DNS, TCP, TLS or HTTP.
func apiFailure(f *doctorFacts, p *apiProbe) checkResult {
	host, err := p.host, p.err
	dnsErr, connErr, tlsErr := p.phases.dnsErr, p.phases.connErr, p.phases.tlsErr
	network := "check the API URL (--api-url or " + f.envName("API_URL") + ") and your network connection"
	var (
		de    *net.DNSError
		ne    net.Error
		cve   *tls.CertificateVerificationError
		rhe   tls.RecordHeaderError
		opErr *net.OpError
	)
	switch {
	case p.timedOut || (errors.As(err, &ne) && ne.Timeout()):
		return fail(fmt.Sprintf("no answer from %s within %s", host, ms(f.checkTimeout)), network+" (a proxy or firewall?)")
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

func checkTokenValid(f *doctorFacts) checkResult {
	switch {
	case f.cred == nil:
		return skip("no token to check")
	case f.apiURL == "" || f.me == nil:
		return skip("the API is not reachable")
	}
	m := f.me
	if f.cred.Source == credentials.SourceClientCredentials {
		if f.disc != nil && f.disc.err != nil {
			return fail("cannot mint a client-credentials token: "+f.disc.err.Error(), f.hintFor(f.disc.err))
		}
		if err := m.mintErr; err != nil {
			var oe *oauth.OAuthError
			hint := f.hintFor(err)
			if errors.As(err, &oe) && (oe.Code == "invalid_client" || oe.Code == "unauthorized_client") {
				hint = "check " + f.envName("CLIENT_ID") + " and " + f.envName("CLIENT_SECRET")
			}
			return fail("the issuer refused the client credentials: "+err.Error(), hint)
		}
	}
	minted := ""
	if m.minted {
		minted = " (a client-credentials token minted for this check, not cached)"
	}
	err := m.err
	if err == nil {
		return pass("the API accepts the token: " + m.identity + minted)
	}
	var (
		authErr  *apiclient.AuthError
		scopeErr *apiclient.ScopeError
	)
	switch {
	case errors.As(err, &authErr):
		if s := f.cred.Login; s != nil && f.renewable && !s.ExpiresAt.IsZero() && !f.now.Before(s.ExpiresAt) {
			return warn(err.Error()+"; the access token expired "+durationWords(f.now.Sub(s.ExpiresAt))+" ago and doctor does not refresh it",
				"run '"+f.name+" whoami' to refresh it, or '"+f.name+" login'")
		}
		return fail(err.Error(), newTokenHint(f))
	case errors.As(err, &scopeErr):
		// The hint follows where the token came from, as exit.go's does.
		return warn("the API knows the token but refuses "+f.mePath+": "+err.Error(), (&App{Name: f.name, active: f.cred}).hintFor(err))
	case m.timedOut:
		return fail("no answer from the API within "+ms(f.checkTimeout), "try again; check your network connection")
	case noIdentityEndpoint(err):
		// Not a verdict on the token: the API has no such endpoint.
		return warn("the API has no "+f.mePath+" endpoint ("+err.Error()+"), so doctor cannot tell whether it accepts the token",
			"try a request of your own: '"+f.name+" api PATH'")
	}
	return fail(err.Error(), f.hintFor(err))
}

// newTokenHint says how to replace a token the API refuses.
func newTokenHint(f *doctorFacts) string {
	switch f.cred.Source {
	case credentials.SourceEnv:
		return "set a valid token in " + f.envName("TOKEN") + ", or unset it and run '" + f.name + " login'"
	case credentials.SourceCredentialsFile:
		return "put a valid token in " + f.cred.Path + ", or unset " + f.envName("CREDENTIALS_FILE") + " and run '" + f.name + " login'"
	case credentials.SourceClientCredentials:
		return "check the scopes (" + f.envName("SCOPES") + ") and the client's access to the API"
	}
	return "run '" + f.name + " login' to get a new token"
}

// --- issuer -------------------------------------------------------------

func checkIssuer(f *doctorFacts) checkResult {
	cc := f.cred != nil && f.cred.Source == credentials.SourceClientCredentials
	if (!storedIssuer(f.cred) && !apiAnswers(f)) || f.disc == nil {
		return skip("the API is not reachable, so its authorization server cannot be found")
	}
	// Needed: a stored OAuth login refreshes there, client credentials mint
	// there, and without a token 'login' needs it. A pasted token works
	// without one, so a failure there is only a warning.
	needed := storedIssuer(f.cred) || cc || f.cred == nil
	disc := f.disc
	if err := disc.err; err != nil {
		msg := "cannot discover the authorization server"
		if disc.issuer != "" {
			msg += " " + disc.issuer + " (" + disc.how + ")"
		}
		var ne *httpx.NetworkError
		switch {
		case disc.timedOut:
			msg += ": no answer within " + ms(f.checkTimeout)
		case errors.As(err, &ne):
			msg += ": " + rootCause(ne)
		default:
			msg += ": " + err.Error()
		}
		hint := f.hintFor(err)
		if !needed {
			return warn(msg+"; the token works without it, but '"+f.name+" login' would not",
				"to log in with OAuth, pass --issuer to '"+f.name+" login'")
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
		hint := "log in with '" + f.name + " login --with-token'"
		if md.AuthorizationEndpoint != "" {
			hint = "log in with '" + f.name + " login --web'"
		}
		return warn(msg+", but advertises no device authorization endpoint", hint)
	}
	return pass(msg + ", device flow advertised")
}
