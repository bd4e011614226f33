package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// errInactive means the authorization server does not know the token (any
// more): expired, revoked or never issued.
var errInactive = errors.New("token is not active")

// scopeError means the token is valid but lacks a scope the API needs.
type scopeError struct{ scope string }

func (e *scopeError) Error() string { return "the token lacks the scope " + e.scope }

// validateFunc asks the authorization server about a bearer token and
// returns what the API tells sesame at /v1/me.
type validateFunc func(ctx context.Context, token string) (map[string]any, error)

// testAPI is the protected API sesame logs in to: GET /v1/me answers who
// the bearer token belongs to, after asking the authorization server.
type testAPI struct {
	URL      string
	rejected atomic.Int64 // 401 answers
}

// startAPI starts the API. When issuer is not "", the API names it as its
// authorization server in RFC 9728 metadata
// (/.well-known/oauth-protected-resource); otherwise it has none, like most
// APIs, and sesame must be told the issuer.
func startAPI(t *testing.T, validate validateFunc, issuer string) *testAPI {
	t.Helper()
	api := &testAPI{}
	mux := http.NewServeMux()
	if issuer != "" {
		mux.HandleFunc("GET /.well-known/oauth-protected-resource", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"resource":                 api.URL,
				"authorization_servers":    []string{issuer},
				"bearer_methods_supported": []string{"header"},
			})
		})
	}
	mux.HandleFunc("GET /v1/me", func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			api.reject(w, "no bearer token")
			return
		}
		me, err := validate(r.Context(), tok)
		if errors.Is(err, errInactive) {
			api.reject(w, "the token is not active")
			return
		}
		var se *scopeError
		if errors.As(err, &se) {
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+se.scope+`"`)
			http.Error(w, se.Error(), http.StatusForbidden)
			return
		}
		if err != nil {
			http.Error(w, "cannot check the token: "+err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(me)
	})
	srv := httptest.NewUnstartedServer(mux)
	api.URL = "http://" + srv.Listener.Addr().String() // before the handlers run
	srv.Start()
	t.Cleanup(srv.Close)
	return api
}

func (a *testAPI) reject(w http.ResponseWriter, desc string) {
	a.rejected.Add(1)
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+desc+`"`)
	http.Error(w, desc, http.StatusUnauthorized)
}
