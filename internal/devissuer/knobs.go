package devissuer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// This file holds the knobs that play servers in the wild (issue 13):
// RFC 8707 resource indicators, forgotten clients, RFC 7592 client
// configuration, ID tokens, and what tests inspect.

// resourceSeen is the resource parameter of the last request to one endpoint.
type resourceSeen struct {
	Sent     bool   `json:"sent"`
	Resource string `json:"resource,omitempty"`
}

// noteResource records the resource parameter of a request to endpoint.
func (s *Server) noteResource(endpoint string, v url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resources[endpoint] = resourceSeen{Sent: v.Has("resource"), Resource: v.Get("resource")}
}

// LastResource returns the RFC 8707 resource parameter of the last request
// to endpoint and whether it carried one. Endpoints: "authorize",
// "device/code", and "token:" + grant type (e.g. "token:refresh_token",
// "token:authorization_code", "token:client_credentials",
// "token:urn:ietf:params:oauth:grant-type:device_code").
// GET /debug/resources serves the same as JSON.
func (s *Server) LastResource(endpoint string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.resources[endpoint]
	return r.Resource, r.Sent
}

func (s *Server) handleDebugResources(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	s.mu.Lock()
	out := make(map[string]resourceSeen, len(s.resources))
	for k, v := range s.resources {
		out[k] = v
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// ResourceURL is the RFC 9728 resource the API publishes: Options.Resource,
// else the API URL (its host replaced by Options.ResourceHost when set).
func (s *Server) ResourceURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resourceURLLocked()
}

func (s *Server) resourceURLLocked() string {
	if s.opts.Resource != "" {
		return s.opts.Resource
	}
	if s.opts.ResourceHost == "" {
		return s.apiURL
	}
	u, err := url.Parse(s.apiURL)
	if err != nil {
		return s.apiURL
	}
	if port := u.Port(); port != "" {
		u.Host = net.JoinHostPort(s.opts.ResourceHost, port)
	} else {
		u.Host = s.opts.ResourceHost
	}
	return u.String()
}

// checkResource checks a request's RFC 8707 resource parameter: one that is
// sent must be the API's resource; with RequireResource one must be sent.
func (s *Server) checkResource(v url.Values) (string, *oauthError) {
	want := s.ResourceURL()
	if !v.Has("resource") {
		if s.opts.RequireResource {
			return "", errf(http.StatusBadRequest, "invalid_target", "the resource parameter is required")
		}
		return "", nil
	}
	got := v.Get("resource")
	if got != want {
		return "", errf(http.StatusBadRequest, "invalid_target", "unknown resource %q", got)
	}
	return got, nil
}

// RegisteredClient is what a client registered with (RFC 7591).
type RegisteredClient struct {
	ID              string   `json:"client_id"`
	Name            string   `json:"client_name,omitempty"`
	GrantTypes      []string `json:"grant_types"`
	RedirectURIs    []string `json:"redirect_uris,omitempty"`
	ApplicationType string   `json:"application_type"`
	AuthMethod      string   `json:"token_endpoint_auth_method"`
	Scope           string   `json:"scope,omitempty"`
}

// RegisteredClients returns the clients registered by RFC 7591 (not the
// pre-registered ones), oldest first. GET /debug/clients serves the same.
func (s *Server) RegisteredClients() []RegisteredClient {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RegisteredClient
	for _, c := range s.clients {
		if !c.registered {
			continue
		}
		out = append(out, RegisteredClient{
			ID: c.id, Name: c.name, GrantTypes: clone(c.grantTypes), RedirectURIs: clone(c.redirectURIs),
			ApplicationType: c.appType, AuthMethod: c.authMethod, Scope: strings.Join(c.scopes, " "),
		})
	}
	slices.SortFunc(out, func(a, b RegisteredClient) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (s *Server) handleDebugClients(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	out := s.RegisteredClients()
	if out == nil {
		out = []RegisteredClient{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"clients": out})
}

// ForgetClients forgets every client registered by RFC 7591, as a server
// that was restarted or had them deleted: they are unknown from then on
// (invalid_client at the token, device and revocation endpoints, an error
// page at /authorize). Pre-registered clients stay. It returns how many
// were forgotten. POST /debug/forget-clients does the same.
func (s *Server) ForgetClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, c := range s.clients {
		if c.registered {
			delete(s.clients, id)
			n++
		}
	}
	return n
}

// ForgetClient forgets one client (registered or not); false if unknown.
func (s *Server) ForgetClient(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.clients[id]
	delete(s.clients, id)
	return ok
}

func (s *Server) handleForgetClients(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"forgotten": s.ForgetClients()})
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

// idTokenKey signs ID tokens (ES256).
type idTokenKey struct {
	kid string
	key *ecdsa.PrivateKey
}

func newIDTokenKey() *idTokenKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return &idTokenKey{kid: randomString(8), key: k}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func pad32(n *big.Int) []byte {
	b := make([]byte, 32)
	return n.FillBytes(b)
}

// idTokenLocked is an OpenID Connect ID token for g's user and client.
func (s *Server) idTokenLocked(g *grant) string {
	now := s.now()
	id := identity{user: g.user}
	claims := map[string]any{
		"iss":                s.issuerURL,
		"sub":                g.user,
		"aud":                g.clientID,
		"iat":                now.Unix(),
		"exp":                now.Add(s.opts.AccessTTL).Unix(),
		"auth_time":          now.Unix(),
		"name":               id.displayName(),
		"email":              g.user + "@example.com",
		"preferred_username": g.user,
	}
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": s.idKey.kid})
	payload, _ := json.Marshal(claims)
	signing := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(signing))
	r, sig, err := ecdsa.Sign(rand.Reader, s.idKey.key, sum[:])
	if err != nil {
		panic(err)
	}
	return signing + "." + b64(append(pad32(r), pad32(sig)...))
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if s.idKey == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "no such endpoint"})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET, HEAD")
		return
	}
	pt, _ := s.idKey.key.PublicKey.Bytes() // 0x04 || X || Y
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": s.idKey.kid,
		"x": b64(pt[1:33]), "y": b64(pt[33:65]),
	}}})
}
