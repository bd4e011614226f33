package devissuer

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

func contains(list []string, s string) bool { return slices.Contains(list, s) }

func clone(list []string) []string {
	if list == nil {
		return nil
	}
	return slices.Clone(list)
}

func trimSlash(u string) string { return strings.TrimRight(u, "/") }

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newUserCode() string {
	var b strings.Builder
	limit := big.NewInt(int64(len(userCodeAlphabet)))
	for range userCodeLen {
		n, _ := rand.Int(rand.Reader, limit)
		b.WriteByte(userCodeAlphabet[n.Int64()])
	}
	return b.String()
}

// normalizeUserCode upper-cases a user code and drops dashes and spaces.
func normalizeUserCode(c string) string {
	c = strings.ToUpper(c)
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, c)
}

func formatUserCode(c string) string { return c[:4] + "-" + c[4:] }

func splitScope(s string) []string { return strings.Fields(s) }

func allSupported(scopes []string) bool {
	for _, sc := range scopes {
		if !contains(supportedScopes, sc) {
			return false
		}
	}
	return true
}

func subset(scopes, of []string) bool {
	for _, sc := range scopes {
		if !contains(of, sc) {
			return false
		}
	}
	return true
}

// visibleScopes drops openid and offline_access, as real servers do in the
// token response's scope.
func visibleScopes(scopes []string) []string {
	out := []string{}
	for _, sc := range scopes {
		if sc != scopeOpenID && sc != scopeOffline && !contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// oauthError is an RFC 6749 section 5.2 error.
type oauthError struct {
	status      int
	code        string
	description string
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

func errf(status int, code, format string, args ...any) *oauthError {
	return &oauthError{status: status, code: code, description: fmt.Sprintf(format, args...)}
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`"`)
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.description})
}

func hasMediaType(r *http.Request, want string) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == want
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("request body larger than %d bytes", maxBody)
		}
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	return b, nil
}

// readForm reads an application/x-www-form-urlencoded body, rejecting other
// content types and repeated parameters (RFC 6749 section 3.1).
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *oauthError) {
	if r.Method != http.MethodPost {
		return nil, errf(http.StatusMethodNotAllowed, "invalid_request", "method must be POST")
	}
	if !hasMediaType(r, "application/x-www-form-urlencoded") {
		return nil, errf(http.StatusBadRequest, "invalid_request", "content type must be application/x-www-form-urlencoded")
	}
	b, err := readBody(w, r)
	if err != nil {
		return nil, errf(http.StatusBadRequest, "invalid_request", "%s", err.Error())
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, errf(http.StatusBadRequest, "invalid_request", "malformed form body")
	}
	for k, vs := range v {
		if len(vs) > 1 {
			return nil, errf(http.StatusBadRequest, "invalid_request", "parameter %q repeated", k)
		}
	}
	return v, nil
}

// authenticateClient implements RFC 6749 section 2.3 for the token, device
// authorization and revocation endpoints. Public clients send client_id in
// the body and no Authorization header; confidential clients use
// client_secret_basic or client_secret_post.
func (s *Server) authenticateClient(r *http.Request, form url.Values) (*client, *oauthError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := r.Header.Get("Authorization"); h != "" {
		id, secret, ok := r.BasicAuth()
		if !ok {
			return nil, errf(http.StatusUnauthorized, "invalid_client", "unsupported client authentication scheme")
		}
		// RFC 6749 2.3.1: id and secret are form-urlencoded before Basic encoding.
		uid, err1 := url.QueryUnescape(id)
		usecret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, errf(http.StatusUnauthorized, "invalid_client", "malformed basic credentials")
		}
		c := s.clients[uid]
		if c == nil {
			return nil, errf(http.StatusUnauthorized, "invalid_client", "unknown client")
		}
		if c.public {
			return nil, errf(http.StatusBadRequest, "invalid_request", "a public client must not send an Authorization header")
		}
		if form.Has("client_secret") {
			return nil, errf(http.StatusBadRequest, "invalid_request", "more than one client authentication method")
		}
		if form.Has("client_id") && form.Get("client_id") != uid {
			return nil, errf(http.StatusBadRequest, "invalid_request", "client_id does not match the authenticated client")
		}
		if !secretMatches(c, usecret) {
			return nil, errf(http.StatusUnauthorized, "invalid_client", "client authentication failed")
		}
		return c, nil
	}
	id := form.Get("client_id")
	if id == "" {
		return nil, errf(http.StatusUnauthorized, "invalid_client", "client authentication required")
	}
	c := s.clients[id]
	if c == nil {
		return nil, errf(http.StatusUnauthorized, "invalid_client", "unknown client")
	}
	if c.public {
		if form.Get("client_secret") != "" {
			return nil, errf(http.StatusUnauthorized, "invalid_client", "a public client has no secret")
		}
		return c, nil
	}
	if !form.Has("client_secret") {
		return nil, errf(http.StatusUnauthorized, "invalid_client", "client authentication required")
	}
	if !secretMatches(c, form.Get("client_secret")) {
		return nil, errf(http.StatusUnauthorized, "invalid_client", "client authentication failed")
	}
	return c, nil
}

func secretMatches(c *client, secret string) bool {
	h := hashOf(secret)
	return subtle.ConstantTimeCompare(h[:], c.secretHash[:]) == 1
}
