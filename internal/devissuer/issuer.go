package devissuer

import (
	"net/http"
	"strings"
)

// This file holds the issuer's router and helpers its endpoints share.

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
			notFound(w)
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
			notFound(w)
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
		notFound(w)
	}
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request", "error_description": "method not allowed"})
}

// notFound answers an endpoint the server does not have (or a knob hides).
func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "no such endpoint"})
}
