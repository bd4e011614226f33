package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The MCP TypeScript SDK's example server (npm @modelcontextprotocol/sdk
// 1.32.2, pinned by e2e/mcp/package-lock.json): an MCP resource server at
// http://localhost:MCP_PORT/mcp (RFC 9728 metadata at
// /.well-known/oauth-protected-resource/mcp) and its demo authorization
// server at http://localhost:MCP_AUTH_PORT (RFC 8414, RFC 7591, PKCE S256,
// consent auto-approved; no device flow, no refresh tokens, no revocation;
// redirect URIs compared exactly). --oauth-strict binds tokens to the
// resource (RFC 8707). e2e/mcp/preload.cjs keeps it on 127.0.0.1.

const mcpExample = "node_modules/@modelcontextprotocol/sdk/dist/esm/examples/server/simpleStreamableHttp.js"

type mcpServer struct {
	URL      string // the MCP endpoint as the server names itself: http://localhost:PORT/mcp
	Issuer   string // its authorization server: http://localhost:AUTHPORT
	port     int
	authPort int
	strict   bool
	dir      string
	proc     *nodeProc
}

func startMCP(t *testing.T, strict bool) *mcpServer {
	t.Helper()
	m := &mcpServer{dir: nodePeerDir(t, "mcp", "MCP_DIR"), port: freePort(t), authPort: freePort(t), strict: strict}
	m.URL = fmt.Sprintf("http://localhost:%d/mcp", m.port)
	m.Issuer = fmt.Sprintf("http://localhost:%d", m.authPort)
	m.start(t)
	return m
}

func (m *mcpServer) start(t *testing.T) {
	t.Helper()
	preload, err := filepath.Abs(filepath.Join("mcp", "preload.cjs"))
	if err != nil {
		t.Fatal(err)
	}
	mode := "--oauth"
	if m.strict {
		mode = "--oauth-strict"
	}
	m.proc = startNode(t, m.dir,
		[]string{fmt.Sprintf("MCP_PORT=%d", m.port), fmt.Sprintf("MCP_AUTH_PORT=%d", m.authPort)},
		[]string{m.Issuer + "/.well-known/oauth-authorization-server", fmt.Sprintf("http://localhost:%d/.well-known/oauth-protected-resource/mcp", m.port)},
		"--require", preload, mcpExample, "--oauth", mode)
}

// restart stops the server and starts it again on the same ports: it
// forgets every client and token (it keeps them in memory).
func (m *mcpServer) restart(t *testing.T) {
	t.Helper()
	m.proc.stop()
	m.start(t)
}

// token gets an access token from the demo authorization server the way
// an MCP client does (registration, authorization code with PKCE, with
// resource in strict mode), without sesame.
func (m *mcpServer) token(t *testing.T) string {
	t.Helper()
	var md struct {
		Authorization string `json:"authorization_endpoint"`
		Token         string `json:"token_endpoint"`
		Registration  string `json:"registration_endpoint"`
	}
	getJSON(t, m.Issuer+"/.well-known/oauth-authorization-server", &md)
	redirect := "http://127.0.0.1:9/callback"
	var reg struct {
		ClientID string `json:"client_id"`
	}
	body := `{"client_name":"e2e","redirect_uris":["` + redirect + `"],"token_endpoint_auth_method":"none","grant_types":["authorization_code"],"response_types":["code"]}`
	resp, err := http.Post(md.Registration, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	decodeStatus(t, resp, http.StatusCreated, &reg)
	verifier, challenge := pkce()
	q := url.Values{"response_type": {"code"}, "client_id": {reg.ClientID}, "redirect_uri": {redirect},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"e2e"}, "scope": {"mcp:tools"}}
	form := url.Values{"grant_type": {"authorization_code"}, "code_verifier": {verifier}, "redirect_uri": {redirect}, "client_id": {reg.ClientID}}
	if m.strict {
		q.Set("resource", m.URL)
		form.Set("resource", m.URL)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get(md.Authorization + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	form.Set("code", loc.Query().Get("code"))
	resp, err = http.PostForm(md.Token, form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	decodeStatus(t, resp, http.StatusOK, &tok)
	return tok.AccessToken
}

func getJSON(t *testing.T, u string, out any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	decodeStatus(t, resp, http.StatusOK, out)
}

func decodeStatus(t *testing.T, resp *http.Response, want int, out any) {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v: %s", resp.Request.URL, err, b)
	}
}

// mcpSession is an MCP conversation driven through `sesame api`.
type mcpSession struct {
	t       *testing.T
	e       *sesameEnv
	url     string
	id      string // mcp-session-id from initialize
	nextID  int
	lastRun result
}

// mcpCall sends one JSON-RPC request with `sesame api` and returns its
// result member (the answer may be JSON or one server-sent event).
func (s *mcpSession) call(method string, params any) map[string]any {
	s.t.Helper()
	s.nextID++
	req, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": s.nextID, "method": method, "params": params})
	in := filepath.Join(s.t.TempDir(), "req.json")
	if err := os.WriteFile(in, req, 0o600); err != nil {
		s.t.Fatal(err)
	}
	args := []string{"api", "-X", "POST", "-i", "-H", "Accept: application/json, text/event-stream", "-H", "Content-Type: application/json", "--input", in}
	if s.id != "" {
		args = append(args, "-H", "Mcp-Session-Id: "+s.id)
	}
	r := s.e.mustRun(0, append(args, s.url)...)
	s.lastRun = r
	head, body, _ := strings.Cut(strings.ReplaceAll(r.stdout, "\r\n", "\n"), "\n\n")
	for _, line := range strings.Split(head, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "mcp-session-id") {
			s.id = strings.TrimSpace(v)
		}
	}
	payload := strings.TrimSpace(body)
	if !strings.HasPrefix(payload, "{") { // text/event-stream: the data line
		sc := bufio.NewScanner(strings.NewReader(body))
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
				payload = strings.TrimSpace(d)
			}
		}
	}
	var msg struct {
		Result map[string]any `json:"result"`
		Error  any            `json:"error"`
	}
	if err := json.Unmarshal([]byte(payload), &msg); err != nil || msg.Result == nil {
		s.t.Fatalf("MCP %s: no JSON-RPC result (%v, error %v):\n%s", method, err, msg.Error, r)
	}
	return msg.Result
}

// initializeAndGreet runs MCP initialize then tools/call greet through
// sesame, and checks the answers.
func initializeAndGreet(t *testing.T, e *sesameEnv, mcpURL string) {
	t.Helper()
	s := &mcpSession{t: t, e: e, url: mcpURL}
	init := s.call("initialize", map[string]any{
		"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "sesame-e2e", "version": "0"},
	})
	if info, _ := init["serverInfo"].(map[string]any); info == nil || s.id == "" {
		t.Fatalf("initialize: serverInfo %v, session %q:\n%s", init["serverInfo"], s.id, s.lastRun)
	}
	res := s.call("tools/call", map[string]any{"name": "greet", "arguments": map[string]any{"name": "sesame"}})
	content, _ := res["content"].([]any)
	var text string
	if len(content) > 0 {
		text, _ = content[0].(map[string]any)["text"].(string)
	}
	if !strings.Contains(text, "sesame") {
		t.Errorf("tools/call greet: %v", res)
	}
}
