package oauth

import (
	"context"
	"fmt"
	"slices"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// Registration is what Register asks for.
type Registration struct {
	ClientName   string
	RedirectURIs []string
	GrantTypes   []string
	Scope        string // space separated; only scopes the server supports
}

// RegisteredClient is what the server assigned.
type RegisteredClient struct {
	ClientID     string
	ClientSecret string
}

// registrationRequest is the RFC 7591 client metadata sesame sends.
type registrationRequest struct {
	ClientName              string   `json:"client_name,omitempty"`
	ApplicationType         string   `json:"application_type"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types"`
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
}

// Register registers a public native client (RFC 7591): a JSON POST with
// client_name, application_type "native", token_endpoint_auth_method "none",
// grant_types, response_types (["code"] when authorization_code is among the
// grant types, else []), redirect_uris and scope. No registration_endpoint →
// ErrNotSupported; a 4xx error body → OAuthError (not retried); a 2xx without
// client_id → ResponseError.
func (c *Client) Register(ctx context.Context, md *Metadata, r Registration) (*RegisteredClient, error) {
	const op = "register client"
	if md == nil || md.RegistrationEndpoint == "" {
		return nil, fmt.Errorf("%s: no registration endpoint: %w", op, ErrNotSupported)
	}
	req := registrationRequest{
		ClientName:              r.ClientName,
		ApplicationType:         "native",
		TokenEndpointAuthMethod: "none",
		GrantTypes:              r.GrantTypes,
		ResponseTypes:           []string{},
		RedirectURIs:            r.RedirectURIs,
		Scope:                   r.Scope,
	}
	if slices.Contains(r.GrantTypes, "authorization_code") {
		req.ResponseTypes = []string{"code"}
	}
	resp, err := c.postJSON(ctx, op, md.RegistrationEndpoint, req)
	if err != nil {
		return nil, err
	}
	if !resp.ok() {
		return nil, failure(op, resp)
	}
	var out struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		Error        string `json:"error"`
		Description  string `json:"error_description"`
	}
	if err := decodeJSON(op, resp, &out); err != nil {
		return nil, err
	}
	if out.Error != "" {
		return nil, failure(op, resp)
	}
	if out.ClientID == "" {
		return nil, &httpx.ResponseError{Server: httpx.Issuer, Op: op, Status: resp.status, Problem: "response has no client_id"}
	}
	return &RegisteredClient{ClientID: out.ClientID, ClientSecret: out.ClientSecret}, nil
}
