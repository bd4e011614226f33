package devissuer

import "net/http"

// This file holds token revocation (RFC 7009) and RevokeAll.

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

// RevokeAll revokes every token of user: issued grants and static tokens.
func (s *Server) RevokeAll(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.grants {
		if g.user == user {
			g.revoked = true
		}
	}
	for _, st := range s.static {
		if st.user == user {
			st.revoked = true
		}
	}
}
