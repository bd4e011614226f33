package devissuer

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// This file holds the token endpoint and its grants: device code,
// authorization code with PKCE (RFC 7636), refresh token rotation and
// client credentials.

// grant is one authorization: the tokens issued from one device code, one
// authorization code or one client credentials request.
type grant struct {
	clientID string
	user     string
	service  bool // client credentials: user is "client:<id>"
	scopes   []string
	revoked  bool
	resource string // RFC 8707 resource the grant is bound to
}

type accessToken struct {
	grant    *grant
	scopes   []string
	expires  time.Time
	revoked  bool
	resource string // RFC 8707 resource it is bound to, "" when none
}

type refreshToken struct {
	grant   *grant
	rotated bool
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	IDToken      string `json:"id_token,omitempty"`
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.counters["token"]++
	fail := s.fail5xx > 0
	if fail {
		s.fail5xx--
	}
	s.mu.Unlock()

	form, ferr := readForm(w, r)
	if form != nil {
		if gt := form.Get("grant_type"); contains(supportedGrants, gt) {
			s.count("token:" + gt)
			s.noteResource("token:"+gt, form)
		}
	}
	if fail {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("<!doctype html><html><head><title>500 Internal Server Error</title></head><body><h1>500 Internal Server Error</h1><p>injected failure</p></body></html>\n"))
		return
	}
	if ferr != nil {
		writeOAuthError(w, ferr)
		return
	}
	if s.opts.RefreshBareStatus != 0 && form.Get("grant_type") == grantRefresh {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(s.opts.RefreshBareStatus)
		return
	}
	c, cerr := s.authenticateClient(r, form)
	if cerr != nil {
		writeOAuthError(w, cerr)
		return
	}
	resource, rerr := s.checkResource(form)
	if rerr != nil {
		writeOAuthError(w, rerr)
		return
	}
	var (
		resp *tokenResponse
		oerr *oauthError
	)
	switch gt := form.Get("grant_type"); gt {
	case "":
		oerr = errf(http.StatusBadRequest, "invalid_request", "grant_type is required")
	case grantDevice:
		if s.opts.NoDeviceFlow {
			oerr = errf(http.StatusBadRequest, "unsupported_grant_type", "unsupported grant type")
			break
		}
		resp, oerr = s.tokenDevice(c, form, resource)
	case grantAuthCode:
		resp, oerr = s.tokenAuthCode(c, form, resource)
	case grantRefresh:
		resp, oerr = s.tokenRefresh(c, form, resource)
	case grantClientCreds:
		resp, oerr = s.tokenClientCredentials(c, form, resource)
	default:
		oerr = errf(http.StatusBadRequest, "unsupported_grant_type", "unsupported grant type")
	}
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// issueLocked mints an access token (and a refresh token when withRefresh)
// for g with scopes.
// The access token is bound to resource ("" for none).
func (s *Server) issueLocked(g *grant, scopes []string, withRefresh bool, resource string) *tokenResponse {
	at := accessTokenPrefix + randomString(32)
	s.access[hashOf(at)] = &accessToken{grant: g, scopes: clone(scopes), expires: s.now().Add(s.opts.AccessTTL), resource: resource}
	resp := &tokenResponse{
		AccessToken: at,
		TokenType:   "Bearer",
		ExpiresIn:   int64(s.opts.AccessTTL / time.Second),
		Scope:       strings.Join(visibleScopes(scopes), " "),
	}
	if withRefresh {
		rt := refreshPrefix + randomString(32)
		s.refresh[hashOf(rt)] = &refreshToken{grant: g}
		resp.RefreshToken = rt
	}
	if s.idKey != nil && !g.service && contains(scopes, scopeOpenID) {
		resp.IDToken = s.idTokenLocked(g)
	}
	return resp
}

func (s *Server) newGrantLocked(clientID, user string, scopes []string) *grant {
	g := &grant{clientID: clientID, user: user, scopes: clone(scopes)}
	s.grants = append(s.grants, g)
	return g
}

func (s *Server) tokenDevice(c *client, form url.Values, resource string) (*tokenResponse, *oauthError) {
	if !c.hasGrant(grantDevice) {
		return nil, errf(http.StatusBadRequest, "unauthorized_client", "client is not allowed to use the device authorization grant")
	}
	dc := form.Get("device_code")
	if dc == "" {
		return nil, errf(http.StatusBadRequest, "invalid_request", "device_code is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[hashOf(dc)]
	if d == nil || d.clientID != c.id {
		return nil, errf(http.StatusBadRequest, "invalid_grant", "unknown device code")
	}
	if d.status == deviceRedeemed {
		// A device code is single use: replay revokes what it minted.
		d.grant.revoked = true
		return nil, errf(http.StatusBadRequest, "invalid_grant", "device code already used")
	}
	now := s.now()
	if !now.Before(d.expires) {
		return nil, errf(http.StatusBadRequest, "expired_token", "the device code expired")
	}
	s.autoApproveLocked(d, now)

	// Polls closer together than the interval (with a little slack for
	// clients that tick rather than sleep) are told to slow down, and the
	// interval for this code grows by 5 seconds (RFC 8628 section 3.5).
	tooFast := !d.lastPoll.IsZero() && now.Sub(d.lastPoll) < d.interval-d.interval/5
	d.lastPoll = now
	injected := s.slowDown > 0
	if injected {
		s.slowDown--
	}
	if injected || tooFast {
		d.interval += 5 * time.Second
		return nil, errf(http.StatusBadRequest, "slow_down", "polling too fast; wait at least %d seconds between requests", int64(d.interval/time.Second))
	}
	switch d.status {
	case devicePending:
		return nil, errf(http.StatusBadRequest, "authorization_pending", "the user has not yet approved the device")
	case deviceDenied:
		return nil, errf(http.StatusBadRequest, "access_denied", "the user denied the request")
	}
	if d.resource != "" && resource != "" && d.resource != resource {
		return nil, errf(http.StatusBadRequest, "invalid_target", "resource differs from the device authorization request")
	}
	g := s.newGrantLocked(c.id, d.user, d.scopes)
	g.resource = cmp.Or(resource, d.resource)
	d.status = deviceRedeemed
	d.grant = g
	return s.issueLocked(g, d.scopes, contains(d.scopes, scopeOffline), g.resource), nil
}

func (s *Server) tokenAuthCode(c *client, form url.Values, resource string) (*tokenResponse, *oauthError) {
	if !c.hasGrant(grantAuthCode) {
		return nil, errf(http.StatusBadRequest, "unauthorized_client", "client is not allowed to use the authorization code grant")
	}
	code := form.Get("code")
	if code == "" {
		return nil, errf(http.StatusBadRequest, "invalid_request", "code is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ac := s.codes[hashOf(code)]
	if ac == nil || ac.req.clientID != c.id {
		return nil, errf(http.StatusBadRequest, "invalid_grant", "unknown authorization code")
	}
	if ac.used {
		if ac.grant != nil {
			ac.grant.revoked = true
		}
		return nil, errf(http.StatusBadRequest, "invalid_grant", "authorization code already used")
	}
	if !s.now().Before(ac.expires) {
		return nil, errf(http.StatusBadRequest, "invalid_grant", "authorization code expired")
	}
	if form.Get("redirect_uri") != ac.req.redirectURI {
		return nil, errf(http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request")
	}
	verifier := form.Get("code_verifier")
	switch {
	case ac.req.challenge == "" && verifier != "":
		return nil, errf(http.StatusBadRequest, "invalid_grant", "code_verifier sent but the authorization request had no code_challenge")
	case ac.req.challenge != "" && verifier == "":
		return nil, errf(http.StatusBadRequest, "invalid_grant", "code_verifier is required")
	case ac.req.challenge != "" && !validVerifier(verifier):
		return nil, errf(http.StatusBadRequest, "invalid_request", "malformed code_verifier")
	case ac.req.challenge != "" && !challengeMatches(ac.req.challenge, verifier):
		return nil, errf(http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
	}
	if ac.req.resource != "" && resource != "" && ac.req.resource != resource {
		return nil, errf(http.StatusBadRequest, "invalid_target", "resource differs from the authorization request")
	}
	ac.used = true
	g := s.newGrantLocked(c.id, ac.user, ac.req.scopes)
	g.resource = cmp.Or(resource, ac.req.resource)
	ac.grant = g
	return s.issueLocked(g, ac.req.scopes, contains(ac.req.scopes, scopeOffline), g.resource), nil
}

func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, r := range v {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)) {
			return false
		}
	}
	return true
}

func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil
}

func challengeMatches(challenge, verifier string) bool {
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

func (s *Server) tokenRefresh(c *client, form url.Values, resource string) (*tokenResponse, *oauthError) {
	if c.registered && !c.hasGrant(grantRefresh) {
		// Strict servers hold a registered client to its grant_types.
		return nil, errf(http.StatusBadRequest, "unauthorized_client", "client is not allowed to use the refresh token grant")
	}
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, errf(http.StatusBadRequest, "invalid_request", "refresh_token is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.refresh[hashOf(rt)]
	if old == nil || old.grant.clientID != c.id {
		return nil, errf(http.StatusBadRequest, "invalid_grant", "unknown refresh token")
	}
	g := old.grant
	if g.revoked {
		return nil, errf(http.StatusBadRequest, "invalid_grant", "refresh token revoked")
	}
	if old.rotated {
		// Reuse of a rotated refresh token: revoke the whole grant.
		g.revoked = true
		return nil, errf(http.StatusBadRequest, "invalid_grant", "refresh token already used")
	}
	scopes := g.scopes
	if sc := form.Get("scope"); sc != "" {
		scopes = splitScope(sc)
		if !subset(scopes, g.scopes) {
			return nil, errf(http.StatusBadRequest, "invalid_scope", "requested scope exceeds the original grant")
		}
	}
	if g.resource != "" && resource != "" && g.resource != resource {
		return nil, errf(http.StatusBadRequest, "invalid_target", "resource differs from the original grant")
	}
	resource = cmp.Or(resource, g.resource)
	if s.opts.NoRotation {
		return s.issueLocked(g, scopes, false, resource), nil
	}
	old.rotated = true
	return s.issueLocked(g, scopes, true, resource), nil
}

func (s *Server) tokenClientCredentials(c *client, form url.Values, resource string) (*tokenResponse, *oauthError) {
	if c.public || !c.hasGrant(grantClientCreds) {
		return nil, errf(http.StatusBadRequest, "unauthorized_client", "client is not allowed to use the client credentials grant")
	}
	scopes := c.scopes
	if sc := form.Get("scope"); sc != "" {
		scopes = splitScope(sc)
		if !subset(scopes, c.scopes) {
			return nil, errf(http.StatusBadRequest, "invalid_scope", "requested scope is not allowed for this client")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.newGrantLocked(c.id, "client:"+c.id, scopes)
	g.service = true
	g.resource = resource
	return s.issueLocked(g, scopes, false, resource), nil
}
