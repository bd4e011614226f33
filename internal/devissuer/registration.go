package devissuer

import (
	"encoding/json"
	"net/http"
	"strings"
)

// This file holds dynamic client registration (RFC 7591) and client
// configuration (RFC 7592).

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

// handleClientConfig is the RFC 7592 client configuration endpoint
// /register/{id}: GET reads, PUT replaces the metadata (e.g. redirect_uris),
// DELETE removes the client; each with the registration access token.
func (s *Server) handleClientConfig(w http.ResponseWriter, r *http.Request, id string) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.mu.Lock()
	c := s.clients[id]
	ok := c != nil && c.registered && strings.EqualFold(scheme, "Bearer") && tok != "" && hashOf(strings.TrimSpace(tok)) == c.regTokenHash
	s.mu.Unlock()
	if !ok {
		// RFC 7592 section 2: an unknown client or a bad token is 401.
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "unknown client or registration access token"})
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		resp := s.clientConfigLocked(c)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, resp)
	case http.MethodPut:
		nc, _, oerr := parseClientMetadata(w, r)
		if oerr != nil {
			writeOAuthError(w, oerr)
			return
		}
		if nc.public != c.public {
			writeOAuthError(w, errf(http.StatusBadRequest, "invalid_client_metadata", "token_endpoint_auth_method cannot change between public and confidential"))
			return
		}
		s.mu.Lock()
		c.name, c.grantTypes, c.scopes, c.redirectURIs = nc.name, nc.grantTypes, nc.scopes, nc.redirectURIs
		c.native, c.appType, c.authMethod, c.responses = nc.native, nc.appType, nc.authMethod, nc.responses
		resp := s.clientConfigLocked(c)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, resp)
	case http.MethodDelete:
		s.mu.Lock()
		delete(s.clients, id)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w, "GET, PUT, DELETE")
	}
}

func (s *Server) clientConfigLocked(c *client) map[string]any {
	resp := c.metadata()
	resp["client_id"] = c.id
	resp["client_id_issued_at"] = c.issuedAt
	resp["registration_client_uri"] = s.issuerURL + "/register/" + c.id
	return resp
}
