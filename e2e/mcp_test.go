package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// mcpEnv is a sesame environment pointed at the MCP URL alone (no issuer),
// with the scripted browser as $BROWSER.
func mcpEnv(t *testing.T, apiURL string) (*sesameEnv, string) {
	e := newSesameEnv(t)
	e.set("SESAME_API_URL", apiURL)
	browserLog := filepath.Join(t.TempDir(), "browser.log")
	e.set("BROWSER", built.browser)
	e.set("TESTBROWSER_LOG", browserLog)
	return e, browserLog
}

// mcpLogin runs sesame login (args) against m with the scripted browser
// and checks that it went through the demo authorization server.
func mcpLogin(t *testing.T, e *sesameEnv, browserLog string, m *mcpServer, args ...string) *storedLogin {
	t.Helper()
	r := e.run(append([]string{"login"}, args...)...)
	log := readBrowserLog(t, browserLog)
	if r.code != 0 {
		t.Fatalf("login %v:\n%s\nbrowser:\n%s", args, r, log)
	}
	for _, want := range []string{"open " + m.Issuer + "/authorize", "code_challenge_method=S256", "redirect_uri=http://127.0.0.1:"} {
		if !strings.Contains(log, want) {
			t.Errorf("browser log lacks %q:\n%s", want, log)
		}
	}
	l := e.login(m.URL)
	if l.AccessToken == "" || strings.TrimSuffix(l.Issuer, "/") != m.Issuer {
		t.Errorf("stored login: issuer %q, access token %t", l.Issuer, l.AccessToken != "")
	}
	checkNoSecrets(t, r, l.AccessToken)
	return l
}

// TestMcpApiWithToken: `sesame api` speaks MCP (initialize, then tools/call
// with the session id) with a token obtained elsewhere, in both modes.
func TestMcpApiWithToken(t *testing.T) {
	t.Parallel()
	for _, strict := range []bool{false, true} {
		name := "normal"
		if strict {
			name = "strict"
		}
		t.Run(name, func(t *testing.T) {
			m := startMCP(t, strict)
			e := newSesameEnv(t)
			e.set("SESAME_API_URL", m.URL)
			e.set("SESAME_TOKEN", m.token(t))
			initializeAndGreet(t, e, m.URL)
			// Without a token the MCP server answers 401: exit 4.
			delete(e.vars, "SESAME_TOKEN")
			if r := e.run("api", "-X", "POST", "-H", "Accept: application/json, text/event-stream", m.URL); r.code != 4 {
				t.Errorf("api without a token: want exit 4, got:\n%s", r)
			}
		})
	}
}

// TestMcpWebLogin is issue 13's MCP scenario: from the MCP URL alone,
// discovery (RFC 9728 → RFC 8414), registration with the exact loopback
// redirect URI, login --web, MCP over `sesame api`, whoami and doctor
// without /v1/me, logout without revocation; then the server restarts and
// forgets the client (registered again), and plain `login` uses the
// browser because the server has no device flow.
func TestMcpWebLogin(t *testing.T) {
	t.Parallel()
	m := startMCP(t, false)
	e, browserLog := mcpEnv(t, m.URL)

	first := mcpLogin(t, e, browserLog, m, "--web")
	initializeAndGreet(t, e, m.URL)

	r := e.run("whoami")
	if r.code != 0 || !strings.Contains(r.stdout+r.stderr, m.URL) {
		t.Errorf("whoami without /v1/me: want exit 0 naming the API:\n%s", r)
	}
	if r := e.run("doctor"); r.code != 0 {
		t.Errorf("doctor without /v1/me: want exit 0:\n%s", r)
	}
	r = e.mustRun(0, "logout")
	if !strings.Contains(r.stderr, "Logged out of "+m.URL) {
		t.Errorf("logout output:\n%s", r.stderr)
	}
	e.mustRun(4, "api", "-X", "POST", "-H", "Accept: application/json, text/event-stream", m.URL)

	// The server restarts: it no longer knows the client sesame registered.
	m.restart(t)
	second := mcpLogin(t, e, browserLog, m, "--web")
	if second.ClientID == first.ClientID {
		t.Errorf("login after the restart kept the forgotten client %q", first.ClientID)
	}
	initializeAndGreet(t, e, m.URL)

	// No device endpoint: plain login takes the browser flow.
	e.mustRun(0, "logout")
	mcpLogin(t, e, browserLog, m)
	initializeAndGreet(t, e, m.URL)
}

// TestMcpStrictWebLogin: --oauth-strict binds tokens to the MCP URL; sesame
// must send RFC 8707 resource (from the RFC 9728 metadata).
func TestMcpStrictWebLogin(t *testing.T) {
	t.Parallel()
	m := startMCP(t, true)
	e, browserLog := mcpEnv(t, m.URL)
	mcpLogin(t, e, browserLog, m, "--web")
	initializeAndGreet(t, e, m.URL)
}

// TestMcpResourceMismatch: asked about http://127.0.0.1:PORT/mcp, the
// server's RFC 9728 metadata names http://localhost:PORT/mcp: RFC 9728
// section 3.3 forbids using it (exit 3, no browser opened).
func TestMcpResourceMismatch(t *testing.T) {
	t.Parallel()
	m := startMCP(t, false)
	asked := strings.Replace(m.URL, "localhost", "127.0.0.1", 1)
	e, browserLog := mcpEnv(t, asked)
	r := e.run("login", "--web", "--timeout", "20s")
	if r.code != 3 || !strings.Contains(r.stderr, "localhost") {
		t.Errorf("want exit 3 naming the metadata's resource, got:\n%s", r)
	}
	if log := readBrowserLog(t, browserLog); strings.Contains(log, "open ") {
		t.Errorf("a browser was opened:\n%s", log)
	}
}
