package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Ory Hydra v2.3.0 runs as a separate process (`hydra serve all --dev`,
// DSN=memory) on free loopback ports. scripts/hydra-build.sh builds it into
// ${SESAME_CACHE:-$HOME/.cache/sesame-e2e}/bin/hydra (or set HYDRA_BIN).
// Without the binary the Hydra tests skip, unless E2E_REQUIRE_HYDRA=1 (CI),
// where they fail.
//
// Hydra has no login or consent UI: hydraLoginApp is that app. It accepts
// every login as hydraUser and grants every requested scope, through
// Hydra's admin API. Hydra's access tokens are opaque: the test API checks
// them with the admin introspection endpoint.

const (
	hydraUser   = "alice"
	hydraEmail  = "alice@example.com"
	hydraSecret = "hydra-ci-secret-9b1e4c"
)

type hydraServer struct {
	Issuer string // as configured; discovery may add a trailing slash
	Public string // public base URL
	Admin  string // admin base URL
	api    *testAPI
	log    string // Hydra's output
}

func hydraBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("HYDRA_BIN")
	if bin == "" {
		cache := os.Getenv("SESAME_CACHE")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache", "sesame-e2e")
		}
		bin = filepath.Join(cache, "bin", "hydra")
	}
	if _, err := os.Stat(bin); err != nil {
		msg := fmt.Sprintf("no Hydra binary at %s: run scripts/hydra-build.sh (or set HYDRA_BIN)", bin)
		if os.Getenv("E2E_REQUIRE_HYDRA") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

const hydraConfig = `serve:
  public:
    host: 127.0.0.1
    port: %[1]d
  admin:
    host: 127.0.0.1
    port: %[2]d
dsn: memory
log:
  level: warn
  leak_sensitive_values: false
urls:
  self:
    issuer: http://127.0.0.1:%[1]d
  login: %[3]s/login
  consent: %[3]s/consent
  error: %[3]s/error
secrets:
  system:
    - sesame-e2e-system-secret-0123456789
oidc:
  dynamic_client_registration:
    enabled: true
webfinger:
  oidc_discovery:
    client_registration_url: http://127.0.0.1:%[1]d/oauth2/register
oauth2:
  pkce:
    enforced_for_public_clients: true
strategies:
  access_token: opaque
`

func startHydra(t *testing.T) *hydraServer {
	t.Helper()
	bin := hydraBinary(t)
	dir := t.TempDir()
	pub, admin := freePort(t), freePort(t)
	h := &hydraServer{
		Issuer: fmt.Sprintf("http://127.0.0.1:%d", pub),
		Public: fmt.Sprintf("http://127.0.0.1:%d", pub),
		Admin:  fmt.Sprintf("http://127.0.0.1:%d", admin),
		log:    filepath.Join(dir, "hydra.log"),
	}
	loginApp := httptest.NewServer(h.loginApp())
	t.Cleanup(loginApp.Close)

	cfg := filepath.Join(dir, "hydra.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, hydraConfig, pub, admin, loginApp.URL), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(h.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "all", "--dev", "--config", cfg)
	cmd.Env = append(os.Environ(), "DSN=memory")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start hydra: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			out, _ := os.ReadFile(h.log)
			t.Logf("hydra output:\n%s", tail(out, 40))
		}
	})

	// Wait for discovery (about 1.5 s).
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(h.Public + "/.well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			out, _ := os.ReadFile(h.log)
			t.Fatalf("hydra exited while starting (%v):\n%s", err, tail(out, 40))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hydra did not answer discovery at %s within 60 s", h.Public)
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.api = startAPI(t, h.introspect, "")
	return h
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// admin calls Hydra's admin API with a JSON body (nil for none) and decodes
// the JSON answer into out (when not nil).
func (h *hydraServer) admin(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.Admin+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("hydra admin %s %s: HTTP %d: %s", method, strings.SplitN(path, "?", 2)[0], resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// loginApp is Hydra's login and consent app: it accepts every login as
// hydraUser and every consent with all requested scopes and audiences, and
// sends the browser on to Hydra's redirect_to.
func (h *hydraServer) loginApp() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		challenge := url.QueryEscape(r.URL.Query().Get("login_challenge"))
		var next struct {
			RedirectTo string `json:"redirect_to"`
		}
		err := h.admin(r.Context(), http.MethodPut, "/admin/oauth2/auth/requests/login/accept?login_challenge="+challenge,
			map[string]any{"subject": hydraUser, "remember": false}, &next)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		http.Redirect(w, r, next.RedirectTo, http.StatusFound)
	})
	mux.HandleFunc("GET /consent", func(w http.ResponseWriter, r *http.Request) {
		challenge := url.QueryEscape(r.URL.Query().Get("consent_challenge"))
		var req struct {
			RequestedScope    []string `json:"requested_scope"`
			RequestedAudience []string `json:"requested_access_token_audience"`
		}
		if err := h.admin(r.Context(), http.MethodGet, "/admin/oauth2/auth/requests/consent?consent_challenge="+challenge, nil, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		var next struct {
			RedirectTo string `json:"redirect_to"`
		}
		err := h.admin(r.Context(), http.MethodPut, "/admin/oauth2/auth/requests/consent/accept?consent_challenge="+challenge,
			map[string]any{
				"grant_scope":                 req.RequestedScope,
				"grant_access_token_audience": req.RequestedAudience,
				"remember":                    false,
				"session": map[string]any{
					"access_token": map[string]any{"email": hydraEmail},
					"id_token":     map[string]any{"email": hydraEmail},
				},
			}, &next)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		http.Redirect(w, r, next.RedirectTo, http.StatusFound)
	})
	mux.HandleFunc("GET /error", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		http.Error(w, "hydra error: "+q.Get("error")+": "+q.Get("error_description"), http.StatusBadRequest)
	})
	return mux
}

// introspect is how the test API checks a token: Hydra's admin
// introspection endpoint (RFC 7662).
func (h *hydraServer) introspect(ctx context.Context, token string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.Admin+"/admin/oauth2/introspect",
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("introspection: HTTP %d", resp.StatusCode)
	}
	var in struct {
		Active    bool           `json:"active"`
		Subject   string         `json:"sub"`
		ClientID  string         `json:"client_id"`
		Scope     string         `json:"scope"`
		TokenType string         `json:"token_use"`
		Ext       map[string]any `json:"ext"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil {
		return nil, fmt.Errorf("introspection: %w", err)
	}
	if !in.Active || in.TokenType != "access_token" {
		return nil, errInactive
	}
	me := map[string]any{"sub": in.Subject, "client_id": in.ClientID, "scope": in.Scope}
	if email, ok := in.Ext["email"].(string); ok {
		me["email"] = email
	}
	return me, nil
}

// active reports whether Hydra considers token (access or refresh) active.
func (h *hydraServer) active(t *testing.T, token string) bool {
	t.Helper()
	var in struct {
		Active bool `json:"active"`
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.Admin+"/admin/oauth2/introspect",
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil {
		t.Fatal(err)
	}
	return in.Active
}

// createClient creates a confidential client-credentials client through
// the admin API and returns its id.
func (h *hydraServer) createClient(t *testing.T, scope string) string {
	t.Helper()
	var c struct {
		ClientID string `json:"client_id"`
	}
	err := h.admin(t.Context(), http.MethodPost, "/admin/clients", map[string]any{
		"client_name":                "sesame e2e CI",
		"client_secret":              hydraSecret,
		"grant_types":                []string{"client_credentials"},
		"response_types":             []string{"token"},
		"token_endpoint_auth_method": "client_secret_basic",
		"scope":                      scope,
	}, &c)
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientID == "" {
		t.Fatal("hydra created a client without an id")
	}
	return c.ClientID
}

func (h *hydraServer) tokenEndpoint() string { return h.Public + "/oauth2/token" }
