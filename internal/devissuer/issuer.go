package devissuer

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

func (s *Server) serveIssuer(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch path {
	case "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server":
		s.count(strings.TrimPrefix(path, "/"))
		s.handleDiscovery(w, r)
	case "/register":
		s.count("register")
		if s.opts.DisableRegistration {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "registration is disabled"})
			return
		}
		s.handleRegister(w, r)
	case "/device/code":
		s.count("device/code")
		if s.opts.NoDeviceFlow {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "no such endpoint"})
			return
		}
		s.handleDeviceCode(w, r)
	case "/device":
		s.count("device")
		s.handleDevicePage(w, r)
	case "/token":
		s.handleToken(w, r) // counts by grant type
	case "/authorize":
		s.count("authorize")
		s.handleAuthorize(w, r)
	case "/authorize/decision":
		s.count("authorize/decision")
		s.handleDecision(w, r)
	case "/revoke":
		s.count("revoke")
		s.handleRevoke(w, r)
	case "/userinfo":
		s.count("userinfo")
		if s.opts.NoUserinfo {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "no such endpoint"})
			return
		}
		s.handleUserinfo(w, r)
	case "/debug/counters":
		s.count("debug/counters")
		writeJSON(w, http.StatusOK, s.Counters())
	case "/debug/resources":
		s.count("debug/resources")
		s.handleDebugResources(w, r)
	case "/debug/clients":
		s.count("debug/clients")
		s.handleDebugClients(w, r)
	case "/debug/forget-clients":
		s.count("debug/forget-clients")
		s.handleForgetClients(w, r)
	case "/jwks":
		s.count("jwks")
		s.handleJWKS(w, r)
	default:
		if id, ok := strings.CutPrefix(path, "/register/"); ok && !s.opts.DisableRegistration {
			s.count("register/client")
			s.handleClientConfig(w, r, id)
			return
		}
		s.count("other")
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "no such endpoint"})
	}
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request", "error_description": "method not allowed"})
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	iss := s.IssuerURL()
	doc := map[string]any{
		"issuer":                                         iss,
		"authorization_endpoint":                         iss + "/authorize",
		"token_endpoint":                                 iss + "/token",
		"device_authorization_endpoint":                  iss + "/device/code",
		"revocation_endpoint":                            iss + "/revoke",
		"userinfo_endpoint":                              iss + "/userinfo",
		"scopes_supported":                               supportedScopes,
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          supportedGrants,
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          authMethods,
		"revocation_endpoint_auth_methods_supported":     authMethods,
		"authorization_response_iss_parameter_supported": true,
	}
	if !s.opts.DisableRegistration {
		doc["registration_endpoint"] = iss + "/register"
	}
	if s.opts.NoDeviceFlow {
		// Like a server without RFC 8628: not advertised.
		delete(doc, "device_authorization_endpoint")
		doc["grant_types_supported"] = []string{grantAuthCode, grantRefresh, grantClientCreds}
	}
	if s.opts.GrantTypesSupported != nil {
		doc["grant_types_supported"] = s.opts.GrantTypesSupported
	}
	if s.opts.NoUserinfo {
		delete(doc, "userinfo_endpoint")
	}
	if s.idKey != nil {
		doc["jwks_uri"] = iss + "/jwks"
		doc["id_token_signing_alg_values_supported"] = []string{"ES256"}
		doc["subject_types_supported"] = []string{"public"}
	}
	writeJSON(w, http.StatusOK, doc)
}

// registration is the RFC 7591 client metadata sesame may send. Pointers
// tell an absent member from an empty one.
type registration struct {
	ClientName              string    `json:"client_name"`
	RedirectURIs            []string  `json:"redirect_uris"`
	GrantTypes              *[]string `json:"grant_types"`
	ResponseTypes           *[]string `json:"response_types"`
	TokenEndpointAuthMethod string    `json:"token_endpoint_auth_method"`
	ApplicationType         string    `json:"application_type"`
	Scope                   string    `json:"scope"`
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	c, resp, oerr := parseClientMetadata(w, r)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	c.id = "dc_" + randomString(16)
	c.registered = true
	c.issuedAt = s.now().Unix()
	resp["client_id"] = c.id
	resp["client_id_issued_at"] = c.issuedAt
	if !c.public {
		secret := "dcs_" + randomString(32)
		c.secretHash = hashOf(secret)
		resp["client_secret"] = secret
		resp["client_secret_expires_at"] = 0
	}
	// RFC 7592: the client may read, update and delete its registration.
	regToken := "drat_" + randomString(32)
	c.regTokenHash = hashOf(regToken)
	resp["registration_access_token"] = regToken
	resp["registration_client_uri"] = s.IssuerURL() + "/register/" + c.id
	s.mu.Lock()
	s.clients[c.id] = c
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, resp)
}

// parseClientMetadata reads and checks RFC 7591 client metadata (a JSON
// body). It returns the client (without id or secret) and the metadata to
// echo.
func parseClientMetadata(w http.ResponseWriter, r *http.Request) (*client, map[string]any, *oauthError) {
	bad := func(code, format string, args ...any) (*client, map[string]any, *oauthError) {
		return nil, nil, errf(http.StatusBadRequest, code, format, args...)
	}
	if !hasMediaType(r, "application/json") {
		return bad("invalid_client_metadata", "content type must be application/json")
	}
	body, err := readBody(w, r)
	if err != nil {
		return bad("invalid_client_metadata", "%s", err.Error())
	}
	var m registration
	if err := json.Unmarshal(body, &m); err != nil {
		return bad("invalid_client_metadata", "malformed client metadata")
	}
	// RFC 7591 defaults.
	grants := []string{grantAuthCode}
	if m.GrantTypes != nil {
		grants = *m.GrantTypes
	}
	responseTypes := []string{"code"}
	if m.ResponseTypes != nil {
		responseTypes = *m.ResponseTypes
	}
	method := m.TokenEndpointAuthMethod
	if method == "" {
		method = "client_secret_basic"
	}
	appType := m.ApplicationType
	if appType == "" {
		appType = "web" // OpenID Connect Registration default
	}
	for _, g := range grants {
		if !contains(supportedGrants, g) {
			return bad("invalid_client_metadata", "unsupported grant type %q", g)
		}
	}
	for _, rt := range responseTypes {
		if rt != "code" {
			return bad("invalid_client_metadata", "unsupported response type %q", rt)
		}
	}
	if contains(grants, grantAuthCode) && !contains(responseTypes, "code") {
		return bad("invalid_client_metadata", "grant type authorization_code needs response type code")
	}
	if !contains(authMethods, method) {
		return bad("invalid_client_metadata", "unsupported token_endpoint_auth_method %q", method)
	}
	if appType != "native" && appType != "web" {
		return bad("invalid_client_metadata", "unsupported application_type %q", appType)
	}
	scopes := splitScope(m.Scope)
	if !allSupported(scopes) {
		return bad("invalid_client_metadata", "unsupported scope requested")
	}
	for _, u := range m.RedirectURIs {
		if !validRedirectURI(u) {
			return bad("invalid_redirect_uri", "redirect URI must be https, or http on 127.0.0.1 or [::1], without a fragment")
		}
	}
	if contains(grants, grantAuthCode) && len(m.RedirectURIs) == 0 {
		return bad("invalid_redirect_uri", "grant type authorization_code needs redirect_uris")
	}
	if method == "none" && contains(grants, grantClientCreds) {
		return bad("invalid_client_metadata", "a public client cannot use client_credentials")
	}
	c := &client{
		public:       method == "none",
		name:         m.ClientName,
		grantTypes:   clone(grants),
		scopes:       scopes,
		redirectURIs: clone(m.RedirectURIs),
		native:       appType == "native",
		appType:      appType,
		authMethod:   method,
		responses:    clone(responseTypes),
	}
	return c, c.metadata(), nil
}

// metadata is the client's registered metadata as RFC 7591 echoes it.
func (c *client) metadata() map[string]any {
	resp := map[string]any{
		"grant_types":                c.grantTypes,
		"response_types":             c.responses,
		"token_endpoint_auth_method": c.authMethod,
		"application_type":           c.appType,
	}
	if c.name != "" {
		resp["client_name"] = c.name
	}
	if len(c.redirectURIs) > 0 {
		resp["redirect_uris"] = c.redirectURIs
	}
	if len(c.scopes) > 0 {
		resp["scope"] = strings.Join(c.scopes, " ")
	}
	return resp
}

func loopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validRedirectURI(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Fragment != "" || p.User != nil || p.Opaque != "" {
		return false
	}
	switch p.Scheme {
	case "https":
		return p.Hostname() != ""
	case "http":
		return loopbackIP(p.Hostname())
	}
	return false
}

// redirectAllowed reports whether u may be used as c's redirect URI: an exact
// registered match, or for native clients a registered loopback URI on any
// port (RFC 8252 section 7.3). Pre-registered clients accept any loopback URI.
// With exact, a registered client's URI must match exactly, port included.
func (c *client) redirectAllowed(u string, exact bool) bool {
	if !validRedirectURI(u) {
		return false
	}
	if contains(c.redirectURIs, u) {
		return true
	}
	p, _ := url.Parse(u)
	if p.Scheme != "http" {
		return false
	}
	if c.anyLoopback {
		return true
	}
	if !c.native || exact {
		return false
	}
	for _, reg := range c.redirectURIs {
		rp, err := url.Parse(reg)
		if err != nil || rp.Scheme != "http" {
			continue
		}
		if rp.Hostname() == p.Hostname() && rp.EscapedPath() == p.EscapedPath() && rp.RawQuery == p.RawQuery {
			return true
		}
	}
	return false
}

func (s *Server) handleDeviceCode(w http.ResponseWriter, r *http.Request) {
	form, ferr := readForm(w, r)
	if form != nil {
		s.noteResource("device/code", form)
	}
	if ferr != nil {
		writeOAuthError(w, ferr)
		return
	}
	c, cerr := s.authenticateClient(r, form)
	if cerr != nil {
		writeOAuthError(w, cerr)
		return
	}
	if !c.hasGrant(grantDevice) {
		writeOAuthError(w, errf(http.StatusBadRequest, "unauthorized_client", "client is not allowed to use the device authorization grant"))
		return
	}
	scopes := splitScope(form.Get("scope"))
	if !allSupported(scopes) {
		writeOAuthError(w, errf(http.StatusBadRequest, "invalid_scope", "unsupported scope requested"))
		return
	}
	resource, rerr := s.checkResource(form)
	if rerr != nil {
		writeOAuthError(w, rerr)
		return
	}
	dcode := randomString(32)
	iss := s.IssuerURL()

	s.mu.Lock()
	now := s.now()
	var uc string
	for {
		uc = newUserCode()
		if old := s.userCodes[uc]; old == nil || !now.Before(old.expires) {
			break
		}
	}
	d := &deviceCode{
		clientID: c.id,
		userCode: uc,
		scopes:   scopes,
		resource: resource,
		issued:   now,
		expires:  now.Add(s.opts.DeviceTTL),
		interval: s.interval,
	}
	s.devices[hashOf(dcode)] = d
	s.userCodes[uc] = d
	s.mu.Unlock()

	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               dcode,
		"user_code":                 formatUserCode(uc),
		"verification_uri":          iss + "/device",
		"verification_uri_complete": iss + "/device?user_code=" + url.QueryEscape(formatUserCode(uc)),
		"expires_in":                int64(s.opts.DeviceTTL / time.Second),
		"interval":                  int64(s.interval / time.Second),
	})
}

func (s *Server) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		code := r.URL.Query().Get("user_code")
		data := devicePageData{UserCode: code, Username: defaultDevUser}
		if code != "" {
			s.mu.Lock()
			if d := s.deviceByUserCodeLocked(code); d != nil && d.status == devicePending {
				if c := s.clients[d.clientID]; c != nil {
					data.ClientName = c.displayName()
				}
				data.Scopes = d.scopes
			}
			s.mu.Unlock()
		}
		s.renderPage(w, http.StatusOK, "device", data)
	case http.MethodPost:
		if !hasMediaType(r, "application/x-www-form-urlencoded") {
			s.renderResult(w, http.StatusBadRequest, "Bad request", "The form must be sent as application/x-www-form-urlencoded.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			s.renderResult(w, http.StatusBadRequest, "Bad request", "The form could not be read.")
			return
		}
		code, action, user := r.PostForm.Get("user_code"), r.PostForm.Get("action"), strings.TrimSpace(r.PostForm.Get("username"))
		var err error
		switch action {
		case "approve":
			err = s.Approve(code, user)
		case "deny":
			err = s.Deny(code)
		default:
			s.renderResult(w, http.StatusBadRequest, "Bad request", "Choose approve or deny.")
			return
		}
		switch {
		case errors.Is(err, ErrUnknownUserCode):
			s.renderResult(w, http.StatusBadRequest, "Unknown or expired code", "Check the code shown on your device and try again.")
		case errors.Is(err, ErrUserCodeUsed):
			s.renderResult(w, http.StatusBadRequest, "Code already used", "This code was already approved or denied.")
		case action == "approve":
			s.renderResult(w, http.StatusOK, "Device approved", "You can close this window and return to your device.")
		default:
			s.renderResult(w, http.StatusOK, "Device denied", "The device was not given access.")
		}
	default:
		methodNotAllowed(w, "GET, HEAD, POST")
	}
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

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	form, ferr := readForm(w, r)
	if ferr != nil {
		writeOAuthError(w, ferr)
		return
	}
	c, cerr := s.authenticateClient(r, form)
	if cerr != nil {
		writeOAuthError(w, cerr)
		return
	}
	tok := form.Get("token")
	if tok == "" {
		writeOAuthError(w, errf(http.StatusBadRequest, "invalid_request", "token is required"))
		return
	}
	h := hashOf(tok)
	s.mu.Lock()
	if at := s.access[h]; at != nil && at.grant.clientID == c.id {
		at.revoked = true
	}
	if rt := s.refresh[h]; rt != nil && rt.grant.clientID == c.id {
		rt.grant.revoked = true
	}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		methodNotAllowed(w, "GET, POST")
		return
	}
	id, ok := s.authorize(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"sub":                id.user,
		"name":               id.displayName(),
		"email":              id.user + "@example.com",
		"preferred_username": id.user,
	})
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
