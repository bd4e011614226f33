package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// panva's oidc-provider (npm, pinned by e2e/oidcprovider/package-lock.json)
// run by e2e/oidcprovider/server.mjs on 127.0.0.1 with its in-memory
// adapter, and a protected API (GET /v1/me, RFC 9728 metadata naming the
// provider) in the same process. Its login and consent pages are plain
// forms that the scripted browser fills in (user "alice").

const opSecret = "op-ci-secret-5d2f"

type opServer struct {
	Issuer string
	API    string
}

func startOIDCProvider(t *testing.T) *opServer {
	t.Helper()
	dir := nodePeerDir(t, "oidcprovider", "OIDCPROVIDER_DIR")
	src, err := os.ReadFile(filepath.Join("oidcprovider", "server.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	// Next to its node_modules, where its import resolves; one copy per test.
	script := filepath.Join(dir, fmt.Sprintf("server-%d.mjs", freePort(t)))
	if err := os.WriteFile(script, src, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(script) })
	port, apiPort := freePort(t), freePort(t)
	op := &opServer{Issuer: fmt.Sprintf("http://127.0.0.1:%d", port), API: fmt.Sprintf("http://127.0.0.1:%d", apiPort)}
	startNode(t, dir, []string{fmt.Sprintf("OP_PORT=%d", port), fmt.Sprintf("OP_API_PORT=%d", apiPort), "OP_CC_SECRET=" + opSecret},
		[]string{op.Issuer + "/.well-known/openid-configuration", op.API + "/.well-known/oauth-protected-resource"}, script)
	return op
}

func opEnv(t *testing.T, op *opServer) (*sesameEnv, string) {
	e := newSesameEnv(t)
	e.set("SESAME_API_URL", op.API)
	browserLog := filepath.Join(t.TempDir(), "browser.log")
	e.set("BROWSER", built.browser)
	e.set("TESTBROWSER_LOG", browserLog)
	e.set("TESTBROWSER_USER", "alice")
	e.set("TESTBROWSER_PASSWORD", "x")
	return e, browserLog
}

func opLogin(t *testing.T, e *sesameEnv, browserLog string, op *opServer, args ...string) *storedLogin {
	t.Helper()
	r := e.run(append([]string{"login"}, args...)...)
	log := readBrowserLog(t, browserLog)
	if r.code != 0 {
		t.Fatalf("login %v:\n%s\nbrowser:\n%s", args, r, log)
	}
	l := e.login(op.API)
	if l.AccessToken == "" || strings.TrimSuffix(l.Issuer, "/") != op.Issuer {
		t.Errorf("stored login: issuer %q, access token %t", l.Issuer, l.AccessToken != "")
	}
	checkNoSecrets(t, r, l.AccessToken, l.RefreshToken)
	return l
}

// opFlow logs in with args, then: whoami, refresh after expiry, logout
// with revocation.
func opFlow(t *testing.T, args ...string) {
	op := startOIDCProvider(t)
	e, browserLog := opEnv(t, op)
	first := opLogin(t, e, browserLog, op, args...)
	if w := whoami(t, e); w["identity"] != "alice@example.com" && w["identity"] != "alice" {
		t.Errorf("whoami: %v", w)
	}
	if first.RefreshToken == "" {
		t.Fatal("no refresh token stored (offline_access)")
	}
	e.expireAccessToken(op.API)
	e.mustRun(0, "whoami")
	second := e.login(op.API)
	if second.AccessToken == first.AccessToken || second.RefreshToken == first.RefreshToken {
		t.Error("the expired token was not refreshed with rotation")
	}
	r := e.mustRun(0, "logout")
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("logout:\n%s", r.stderr)
	}
	e.set("SESAME_TOKEN", second.AccessToken)
	if r := e.run("whoami"); r.code != 4 {
		t.Errorf("the revoked access token still works:\n%s", r)
	}
}

func TestOIDCProviderDeviceLogin(t *testing.T) {
	t.Parallel()
	opFlow(t)
}

func TestOIDCProviderWebLogin(t *testing.T) {
	t.Parallel()
	opFlow(t, "--web")
}

func TestOIDCProviderClientCredentials(t *testing.T) {
	t.Parallel()
	op := startOIDCProvider(t)
	e, _ := opEnv(t, op)
	e.set("SESAME_CLIENT_ID", "e2e-ci")
	e.set("SESAME_CLIENT_SECRET", opSecret)
	r := e.mustRun(0, "login", "--client-credentials", "--scopes", "api:read", "--debug")
	checkNoSecrets(t, r, opSecret)
	l := e.login(op.API)
	delete(e.vars, "SESAME_CLIENT_ID") // the stored login, not the env source
	if w := whoami(t, e); w["identity"] != "e2e-ci" || w["source"] != "config-file" {
		t.Errorf("whoami: %v", w)
	}
	e.expireAccessToken(op.API)
	r = e.mustRun(0, "whoami", "--debug")
	checkNoSecrets(t, r, opSecret)
	if next := e.login(op.API); next.AccessToken == l.AccessToken {
		t.Error("the expired client-credentials token was not replaced")
	}
}
