package oauth

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRegister(t *testing.T) {
	const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"
	tests := []struct {
		name     string
		reg      Registration
		status   int
		answer   any
		wantBody map[string]any
		want     *RegisteredClient
		check    errCheck
	}{
		{
			name:   "device-only public client, 201",
			reg:    Registration{ClientName: "sesame", GrantTypes: []string{deviceGrant, "refresh_token"}, Scope: "docs.read offline_access"},
			status: http.StatusCreated,
			answer: map[string]any{"client_id": "cid-1", "client_id_issued_at": 1700000000},
			wantBody: map[string]any{
				"client_name":                "sesame",
				"application_type":           "native",
				"token_endpoint_auth_method": "none",
				"grant_types":                []any{deviceGrant, "refresh_token"},
				"response_types":             []any{},
				"scope":                      "docs.read offline_access",
			},
			want: &RegisteredClient{ClientID: "cid-1"},
		},
		{
			name:   "web client with redirect URIs, 200 with a secret",
			reg:    Registration{ClientName: "sesame", GrantTypes: []string{"authorization_code", "refresh_token"}, RedirectURIs: []string{"http://127.0.0.1/callback"}},
			status: http.StatusOK,
			answer: map[string]any{"client_id": "cid-2", "client_secret": "shh"},
			wantBody: map[string]any{
				"client_name":                "sesame",
				"application_type":           "native",
				"token_endpoint_auth_method": "none",
				"grant_types":                []any{"authorization_code", "refresh_token"},
				"response_types":             []any{"code"},
				"redirect_uris":              []any{"http://127.0.0.1/callback"},
			},
			want: &RegisteredClient{ClientID: "cid-2", ClientSecret: "shh"},
		},
		{
			name:   "400 invalid_client_metadata",
			reg:    Registration{ClientName: "sesame", GrantTypes: []string{deviceGrant}},
			status: http.StatusBadRequest,
			answer: map[string]any{"error": "invalid_client_metadata", "error_description": "scope not allowed"},
			check: func(t *testing.T, err error) {
				wantOAuthError("invalid_client_metadata")(t, err)
				if diff := cmp.Diff("register client: invalid_client_metadata: scope not allowed", err.Error()); diff != "" {
					t.Errorf("error text (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:   "2xx without client_id",
			reg:    Registration{ClientName: "sesame"},
			status: http.StatusCreated,
			answer: map[string]any{"client_secret": "x"},
			check:  wantResponseError(http.StatusCreated),
		},
		{
			name:   "500 HTML",
			reg:    Registration{ClientName: "sesame"},
			status: http.StatusInternalServerError,
			check:  wantResponseError(http.StatusInternalServerError),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			var gotBody map[string]any
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("request %s %q, want a JSON POST", r.Method, r.Header.Get("Content-Type"))
				}
				b, _ := io.ReadAll(r.Body)
				if err := json.Unmarshal(b, &gotBody); err != nil {
					t.Errorf("request body is not JSON: %v", err)
				}
				if tt.answer == nil {
					writeHTML(w, tt.status)
					return
				}
				writeJSON(w, tt.status, tt.answer)
			}))
			defer srv.Close()
			c := &Client{HTTP: srv.Client()}
			got, err := c.Register(t.Context(), &Metadata{Issuer: srv.URL, TokenEndpoint: srv.URL + "/token", RegistrationEndpoint: srv.URL + "/register"}, tt.reg)
			if n := calls.Load(); n != 1 {
				t.Errorf("server called %d times, want 1 (no retry)", n)
			}
			if tt.check != nil {
				tt.check(t, err)
				return
			}
			wantNoErr(t, err)
			if diff := cmp.Diff(tt.wantBody, gotBody); diff != "" {
				t.Errorf("request JSON (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("registered client (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRegisterNotSupported(t *testing.T) {
	c := &Client{HTTP: failingClient()}
	_, err := c.Register(t.Context(), &Metadata{Issuer: "https://example.com", TokenEndpoint: "https://example.com/token"}, Registration{})
	wantIs(ErrNotSupported)(t, err)
}
