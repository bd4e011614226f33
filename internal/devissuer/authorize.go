package devissuer

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// This file holds the authorization endpoint of the authorization code
// grant and its consent decision.

type authRequest struct {
	clientID    string
	redirectURI string
	challenge   string
	scopes      []string
	state       string
	resource    string
	expires     time.Time
}

type authCode struct {
	req     authRequest
	user    string
	expires time.Time
	used    bool
	grant   *grant
}

// handleAuthorize starts the authorization code flow. Errors about the client
// or the redirect URI are shown as a page, never redirected.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	q := r.URL.Query()
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(q[k]) > 1 {
			s.renderResult(w, http.StatusBadRequest, "Invalid request", "The parameter "+k+" is repeated.")
			return
		}
	}
	s.noteResource("authorize", q)
	s.mu.Lock()
	c := s.clients[q.Get("client_id")]
	s.mu.Unlock()
	if c == nil {
		s.renderResult(w, http.StatusBadRequest, "Unknown client", "The application that sent you here is not registered (invalid_client).")
		return
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI != "" && s.opts.ExactRedirect && !c.redirectAllowed(redirectURI, true) && c.redirectAllowed(redirectURI, false) {
		// Like the MCP SDK's demo provider: its handler accepts any loopback
		// port, then the provider compares exactly and the error goes back.
		redirect(w, s.redirectWith(redirectURI, map[string]string{"error": "invalid_request", "error_description": "Unregistered redirect_uri", "state": q.Get("state")}))
		return
	}
	if redirectURI == "" || !c.redirectAllowed(redirectURI, s.opts.ExactRedirect) {
		s.renderResult(w, http.StatusBadRequest, "Invalid redirect URI", "The redirect URI is not registered for this application.")
		return
	}
	state := q.Get("state")
	fail := func(code, desc string) {
		redirect(w, s.redirectWith(redirectURI, map[string]string{"error": code, "error_description": desc, "state": state}))
	}
	for k, vs := range q {
		if len(vs) > 1 {
			fail("invalid_request", "parameter "+k+" is repeated")
			return
		}
	}
	if !c.hasGrant(grantAuthCode) {
		fail("unauthorized_client", "client is not allowed to use the authorization code grant")
		return
	}
	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", "response_type must be code")
		return
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && c.public:
		fail("invalid_request", "code_challenge is required for public clients")
		return
	case challenge == "" && method != "":
		fail("invalid_request", "code_challenge_method without code_challenge")
		return
	case challenge != "" && method != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
		return
	case challenge != "" && !validChallenge(challenge):
		fail("invalid_request", "malformed code_challenge")
		return
	}
	scopes := splitScope(q.Get("scope"))
	if !allSupported(scopes) {
		fail("invalid_scope", "unsupported scope requested")
		return
	}
	resource, rerr := s.checkResource(q)
	if rerr != nil {
		fail(rerr.code, rerr.description)
		return
	}
	req := authRequest{
		clientID:    c.id,
		redirectURI: redirectURI,
		challenge:   challenge,
		scopes:      scopes,
		state:       state,
		resource:    resource,
	}
	if s.opts.AutoApprove > 0 {
		redirect(w, s.approveAuthRequest(req, defaultDevUser))
		return
	}
	id := randomString(24)
	s.mu.Lock()
	req.expires = s.now().Add(consentTTL)
	s.pending[id] = &req
	s.mu.Unlock()
	s.renderPage(w, http.StatusOK, "consent", consentPageData{
		ClientName: c.displayName(),
		Scopes:     scopes,
		RequestID:  id,
		Username:   defaultDevUser,
	})
}

// approveAuthRequest mints an authorization code and returns the redirect.
func (s *Server) approveAuthRequest(req authRequest, user string) string {
	code := randomString(32)
	s.mu.Lock()
	s.codes[hashOf(code)] = &authCode{req: req, user: user, expires: s.now().Add(authCodeTTL)}
	s.mu.Unlock()
	return s.redirectWith(req.redirectURI, map[string]string{"code": code, "state": req.state, "iss": s.IssuerURL()})
}

func (s *Server) redirectWith(redirectURI string, params map[string]string) string {
	u, _ := url.Parse(redirectURI) // validated before
	q := u.Query()
	for k, v := range params {
		if v != "" {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (s *Server) handleDecision(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	if !hasMediaType(r, "application/x-www-form-urlencoded") {
		s.renderResult(w, http.StatusBadRequest, "Bad request", "The form must be sent as application/x-www-form-urlencoded.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		s.renderResult(w, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	id, action := r.PostForm.Get("request_id"), r.PostForm.Get("action")
	user := strings.TrimSpace(r.PostForm.Get("username"))
	if user == "" {
		user = defaultDevUser
	}
	if action != "approve" && action != "deny" {
		s.renderResult(w, http.StatusBadRequest, "Bad request", "Choose approve or deny.")
		return
	}
	s.mu.Lock()
	req := s.pending[id]
	delete(s.pending, id)
	live := req != nil && s.now().Before(req.expires)
	s.mu.Unlock()
	if !live {
		s.renderResult(w, http.StatusBadRequest, "Unknown or expired request", "Start the sign-in again from your application.")
		return
	}
	if action == "deny" {
		redirect(w, s.redirectWith(req.redirectURI, map[string]string{"error": "access_denied", "error_description": "the user denied the request", "state": req.state}))
		return
	}
	redirect(w, s.approveAuthRequest(*req, user))
}

// redirect answers 302 without a body: the Location may hold a code.
func redirect(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}
