package devissuer

import "net/http"

// This file holds authorization server metadata (RFC 8414, OpenID Connect
// discovery).

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
