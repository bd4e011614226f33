package e2e

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// The zitadel/oidc OpenID Provider runs in-process: the library's example
// OP (exampleop: login and device pages) over its example in-memory
// storage, served on 127.0.0.1:0. The example storage has defects that
// are fixed here, in the fixture, because they are bugs of the example and
// not behaviour of the protocol or of zitadel/oidc's OP:
//
//  1. Its device pages record the user's *name* as the subject, while token
//     creation looks the subject up as a user *ID* ("user not found"). The
//     fixture's users have IDs equal to their names.
//  2. Device-flow tokens are stored with an empty client ID (the storage
//     only knows its own auth request and refresh request types), so
//     refresh says invalid_grant and revocation says invalid_client.
//     zStorage converts the device authorization state (and the client
//     credentials request) into the storage's AuthRequest when it creates
//     tokens.
//  3. It has no client with the device grant and its only client
//     credentials client is hard-coded; zStorage registers sesame's own
//     public native client (device, authorization code + PKCE, refresh)
//     and a confidential client credentials client.
//  4. storage.NewStorage fills a package-global client map; the fixture
//     uses NewStorageWithClients with a map of its own, so every test gets
//     an independent OP.
//
// zitadel/oidc has no dynamic client registration (RFC 7591) and the API
// has no RFC 9728 metadata, so sesame is given --issuer and --client-id.

const (
	zPublicClient  = "sesame-cli"
	zServiceClient = "sesame-ci"
	zServiceSecret = "zitadel-service-secret-7f3a"
	zUser          = "alice"
	zPassword      = "correct horse battery staple"
	zEmail         = "alice@example.com"
)

// zitadelOP is a running zitadel/oidc OP.
type zitadelOP struct {
	Issuer string
	api    *testAPI
}

func startZitadel(t *testing.T) *zitadelOP {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()

	users := zUsers{
		zUser: {
			ID: zUser, Username: zUser, Password: zPassword,
			FirstName: "Alice", LastName: "Example", Email: zEmail, EmailVerified: true,
			PreferredLanguage: language.English,
		},
		// The subject of client credentials tokens is the client id: a
		// service account user of that id lets userinfo answer for it.
		zServiceClient: {ID: zServiceClient, Username: zServiceClient, FirstName: "CI", LastName: "Robot", PreferredLanguage: language.English},
	}
	clients := map[string]*storage.Client{
		zPublicClient:  storage.NativeClient(zPublicClient, "http://127.0.0.1/callback"),
		zServiceClient: storage.WebClient(zServiceClient, zServiceSecret),
	}
	st := &zStorage{Storage: storage.NewStorageWithClients(users, clients)}
	// SetupServer installs its logger as slog's default; keep it quiet.
	quiet := slog.New(slog.DiscardHandler)
	srv.Config.Handler = exampleop.SetupServer(issuer, st, quiet, false)
	srv.Start()
	t.Cleanup(srv.Close)

	z := &zitadelOP{Issuer: issuer}
	z.api = startAPI(t, z.userinfo, "")
	return z
}

// userinfo is how the test API checks a token: it asks the OP's userinfo
// endpoint, like any OpenID Connect resource server, and answers with its
// claims. zitadel answers 403 for a token it does not know, and no "sub"
// for a token without the openid scope: the API then answers 403
// insufficient_scope openid.
func (z *zitadelOP) userinfo(ctx context.Context, token string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, z.Issuer+"/userinfo", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, errInactive
	default:
		return nil, fmt.Errorf("userinfo: HTTP %d", resp.StatusCode)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	if claims["sub"] == nil || claims["sub"] == "" {
		return nil, &scopeError{scope: "openid"}
	}
	return claims, nil
}

// approveDevice plays the person at the device pages: log in with the user
// code, then allow (or deny) on the confirmation page, with a cookie jar.
func (z *zitadelOP) approveDevice(t *testing.T, userCode string, allow bool) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(z.Issuer+"/device/login", url.Values{
		"user_code": {userCode}, "username": {zUser}, "password": {zPassword},
	})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Welcome back") {
		t.Fatalf("device login page did not accept the code and password: HTTP %d %s", resp.StatusCode, resp.Request.URL)
	}
	action := "allowed"
	if !allow {
		action = "denied"
	}
	resp, err = c.PostForm(z.Issuer+"/device/confirm", url.Values{"action": {action}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "Device authorization " + action; !strings.Contains(string(body), want) {
		t.Fatalf("device confirmation: want %q, got HTTP %d %q", want, resp.StatusCode, body)
	}
}

// tokenEndpoint is zitadel/oidc's default token endpoint.
func (z *zitadelOP) tokenEndpoint() string { return z.Issuer + "/oauth/token" }

// zUsers is the fixture's user store: IDs equal names (defect 1).
type zUsers map[string]*storage.User

func (u zUsers) GetUserByID(id string) *storage.User { return u[id] }

func (u zUsers) GetUserByUsername(name string) *storage.User {
	for _, user := range u {
		if user.Username == name {
			return user
		}
	}
	return nil
}

func (u zUsers) ExampleClientID() string { return "service" }

// zStorage is the example storage with the fixture's fixes (see above).
type zStorage struct {
	*storage.Storage
}

// GetClientByClientID gives sesame's public client the device grant too.
func (s *zStorage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if clientID == zPublicClient {
		return publicClient{c}, nil
	}
	return c, nil
}

type publicClient struct{ op.Client }

func (publicClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode}
}

type serviceClient struct{ op.Client }

func (serviceClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeClientCredentials}
}

// ClientCredentials authenticates the fixture's confidential client.
func (s *zStorage) ClientCredentials(ctx context.Context, clientID, clientSecret string) (op.Client, error) {
	if clientID != zServiceClient || subtle.ConstantTimeCompare([]byte(clientSecret), []byte(zServiceSecret)) != 1 {
		return nil, errors.New("wrong client id or secret")
	}
	c, err := s.Storage.GetClientByClientID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	return serviceClient{c}, nil
}

// ClientCredentialsTokenRequest: the token's subject is the client.
func (s *zStorage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	if clientID != zServiceClient {
		return nil, errors.New("unknown client")
	}
	return &oidc.JWTTokenRequest{Subject: clientID, Audience: []string{clientID}, Scopes: scopes}, nil
}

func (s *zStorage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	return s.Storage.CreateAccessToken(ctx, withClient(req))
}

func (s *zStorage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	return s.Storage.CreateAccessAndRefreshTokens(ctx, withClient(req), currentRefreshToken)
}

// withClient converts token requests whose client the example storage
// cannot see into its AuthRequest (defect 2).
func withClient(req op.TokenRequest) op.TokenRequest {
	switch r := req.(type) {
	case *op.DeviceAuthorizationState:
		return &storage.AuthRequest{
			ApplicationID: r.ClientID,
			UserID:        r.Subject,
			Scopes:        r.Scopes,
			ResponseType:  oidc.ResponseTypeCode,
		}
	case *oidc.JWTTokenRequest:
		if r.Subject == zServiceClient {
			return &storage.AuthRequest{ApplicationID: zServiceClient, UserID: r.Subject, Scopes: r.Scopes}
		}
	}
	return req
}
