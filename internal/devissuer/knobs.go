package devissuer

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// This file holds the knobs that play servers in the wild (issue 13):
// RFC 8707 resource indicators, forgotten clients, and what tests inspect.
// RFC 7592 client configuration is in registration.go, ID tokens in oidc.go.

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
