package devissuer

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// identity is who a bearer token speaks for.
type identity struct {
	user       string
	service    bool
	clientID   string
	clientName string
	scopes     []string
}

type document struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Owner string `json:"owner,omitempty"`
}

func (id *identity) displayName() string {
	if id.service {
		return id.clientName
	}
	return titleCase(id.user)
}

// titleCase turns "alice" into "Alice" and "john.doe" into "John Doe".
func titleCase(user string) string {
	words := strings.FieldsFunc(user, func(r rune) bool { return r == '.' || r == '_' || r == '-' || r == ' ' })
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + w[n:]
	}
	return strings.Join(words, " ")
}

// lookupToken resolves a bearer token, or returns why it is not valid. The
// token is found through a map keyed by its hash.
func (s *Server) lookupToken(tok string) (*identity, string) {
	h := hashOf(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.static[h]; st != nil {
		if st.revoked {
			return nil, "The access token was revoked"
		}
		return &identity{user: st.user, scopes: clone(st.scopes)}, ""
	}
	at := s.access[h]
	if at == nil {
		return nil, "The access token is invalid"
	}
	if at.revoked || at.grant.revoked {
		return nil, "The access token was revoked"
	}
	if !s.now().Before(at.expires) {
		return nil, "The access token expired"
	}
	if s.opts.RequireResource && at.resource != s.resourceURLLocked() {
		return nil, "The access token is not meant for this resource"
	}
	id := &identity{user: at.grant.user, service: at.grant.service, clientID: at.grant.clientID, scopes: clone(at.scopes)}
	if c := s.clients[at.grant.clientID]; c != nil {
		id.clientName = c.displayName()
	}
	return id, ""
}

// authorize checks the request's bearer token (Authorization header only)
// and answers 401 itself when there is none or it is not valid.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (*identity, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "message": "Authentication required: send Authorization: Bearer <token>"})
		return nil, false
	}
	id, reason := s.lookupToken(tok)
	if id == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`", error="invalid_token", error_description="`+reason+`"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "message": reason})
		return nil, false
	}
	return id, true
}

func insufficientScope(w http.ResponseWriter, scope string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`", error="insufficient_scope", scope="`+scope+`"`)
	writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "message": "The access token lacks the scope " + scope, "scope": scope})
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch path {
	case "/.well-known/oauth-protected-resource":
		s.count("api:" + path)
		if s.opts.NoProtectedResourceMetadata {
			apiError(w, http.StatusNotFound, "not_found", "Not found")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			apiError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Method not allowed")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"resource":                 s.ResourceURL(),
			"authorization_servers":    []string{s.IssuerURL()},
			"scopes_supported":         apiScopes,
			"bearer_methods_supported": []string{"header"},
			"resource_name":            "sesame dev API",
		})
	case "/v1/me":
		if s.opts.NoMePath {
			s.count("api:other")
			apiError(w, http.StatusNotFound, "not_found", "Not found")
			return
		}
		s.count("api:" + path)
		id, ok := s.authorize(w, r)
		if !ok {
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			apiError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Method not allowed")
			return
		}
		s.handleMe(w, id)
	case "/v1/documents":
		s.count("api:" + path)
		id, ok := s.authorize(w, r)
		if !ok {
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			if !contains(id.scopes, "documents.read") {
				insufficientScope(w, "documents.read")
				return
			}
			s.mu.Lock()
			docs := append([]document(nil), s.documents...)
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, map[string]any{"documents": docs})
		case http.MethodPost:
			if !contains(id.scopes, "documents.write") {
				insufficientScope(w, "documents.write")
				return
			}
			s.createDocument(w, r, id)
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			apiError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Method not allowed")
		}
	default:
		s.count("api:other")
		apiError(w, http.StatusNotFound, "not_found", "Not found")
	}
}

func (s *Server) handleMe(w http.ResponseWriter, id *identity) {
	scopes := visibleScopes(id.scopes)
	if id.service {
		writeJSON(w, http.StatusOK, map[string]any{
			"id":        id.user,
			"name":      id.displayName(),
			"type":      "service_account",
			"client_id": id.clientID,
			"scopes":    scopes,
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":     id.user,
		"name":   id.displayName(),
		"email":  id.user + "@example.com",
		"type":   "user",
		"scopes": scopes,
	})
}

func (s *Server) createDocument(w http.ResponseWriter, r *http.Request, id *identity) {
	body, err := readBody(w, r)
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request", "The request body could not be read")
		return
	}
	var in struct {
		Title *string `json:"title"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request", "The body must be a JSON object like {\"title\": \"...\"}")
		return
	}
	if in.Title == nil || strings.TrimSpace(*in.Title) == "" {
		apiError(w, http.StatusBadRequest, "invalid_request", "The field title is required")
		return
	}
	s.mu.Lock()
	doc := document{ID: "doc_" + strconv.Itoa(s.nextDocID), Title: *in.Title, Owner: id.user}
	s.nextDocID++
	s.documents = append(s.documents, doc)
	s.mu.Unlock()
	w.Header().Set("Location", "/v1/documents/"+doc.ID)
	writeJSON(w, http.StatusCreated, doc)
}
