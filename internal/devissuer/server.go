// Package devissuer is an in-memory OAuth 2.0 authorization server and a
// sample protected API, for the demo, end-to-end tests and users' own CI.
//
// It behaves like a strict real provider: discovery (RFC 8414), dynamic client
// registration (RFC 7591), the device authorization grant (RFC 8628), the
// authorization code grant with PKCE (RFC 7636) and loopback redirects
// (RFC 8252), refresh token rotation with reuse detection, client
// credentials, revocation (RFC 7009) and protected resource metadata
// (RFC 9728). Knobs in Options inject delays, faults and time.
//
// Nothing here logs or echoes a token, code or secret.
package devissuer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// StaticToken is a dashboard-style token (like sesame_live_abc) that the API
// accepts and that never expires.
type StaticToken struct {
	Token  string
	User   string // user id/name, e.g. "alice"
	Scopes []string
}

// Client is a pre-registered client.
type Client struct {
	ID, Secret string // Secret "" = public client
	Name       string
	GrantTypes []string // e.g. "client_credentials"
	Scopes     []string // scopes a client_credentials token gets by default / may ask for
}

// Options configures a Server. The zero value is a working server that needs
// a person (or Approve) to approve device codes.
type Options struct {
	Static  []StaticToken
	Clients []Client
	// AutoApprove > 0: device codes are approved as user "dev" this long after
	// issue, and GET /authorize approves at once. 0: a person must approve.
	AutoApprove time.Duration
	Interval    time.Duration // device poll interval announced (default 5s); sent as whole seconds, min 1
	DeviceTTL   time.Duration // device code lifetime (default 10m)
	AccessTTL   time.Duration // access token lifetime (default 1h)
	SlowDown    int           // answer slow_down to the first N device token polls
	Fail5xx     int           // answer 500 to the first N requests to the token endpoint
	Latency     time.Duration // added to every response
	NoRotation  bool          // false (default): refresh tokens rotate

	DisableRegistration         bool
	NoDeviceFlow                bool             // no device authorization endpoint: not advertised, 404, grant refused
	NoProtectedResourceMetadata bool             // do not serve RFC 9728 on the API
	Now                         func() time.Time // default time.Now

	// Behaviours of servers in the wild (issue 13), off by default.

	// ExactRedirect compares a registered client's redirect URIs exactly,
	// port included (no RFC 8252 section 7.3 any-port rule), like the MCP
	// SDK's demo server: a loopback URI on another port is redirected back
	// with invalid_request "Unregistered redirect_uri".
	ExactRedirect bool
	// RefreshBareStatus != 0 answers every refresh_token grant with this
	// status and an empty text/plain body (a server that dropped the chain).
	RefreshBareStatus int
	NoMePath          bool // the API has no /v1/me (404)
	NoUserinfo        bool // no userinfo endpoint: not advertised, 404
	// IDToken issues an ES256-signed OpenID Connect ID token when openid is
	// granted (jwks_uri advertised).
	IDToken bool
	// RequireResource is RFC 8707 strict: authorization, device
	// authorization and token requests (refresh included) must carry
	// resource equal to the API's RFC 9728 resource, and the API accepts
	// only tokens bound to it. Without it a resource that is sent is still
	// checked (invalid_target) and recorded.
	RequireResource bool
	// Resource is the RFC 9728 resource the API publishes and tokens are
	// bound to (default: the API URL). ResourceHost instead replaces only
	// the host of the API URL (e.g. "localhost"), for RFC 9728 section 3.3
	// mismatch tests.
	Resource     string
	ResourceHost string
	// GrantTypesSupported replaces grant_types_supported in discovery (the
	// grants themselves still work), e.g. without refresh_token.
	GrantTypesSupported []string
}

// Errors returned by Server methods.
var (
	ErrUnknownUserCode = errors.New("unknown or expired user code")
	ErrUserCodeUsed    = errors.New("user code already approved or denied")
	ErrNotLoopback     = errors.New("address is not a loopback address")
	ErrStarted         = errors.New("server already started")
)

const (
	grantAuthCode     = "authorization_code"
	grantRefresh      = "refresh_token"
	grantDevice       = "urn:ietf:params:oauth:grant-type:device_code"
	grantClientCreds  = "client_credentials"
	scopeOpenID       = "openid"
	scopeOffline      = "offline_access"
	maxBody           = 64 << 10
	authCodeTTL       = 60 * time.Second
	consentTTL        = 10 * time.Minute
	realm             = "sesame-dev"
	defaultDevUser    = "dev"
	defaultInterval   = 5 * time.Second
	defaultDeviceTTL  = 10 * time.Minute
	defaultAccessTTL  = time.Hour
	userCodeAlphabet  = "BCDFGHJKLMNPQRSTVWXZ"
	userCodeLen       = 8
	accessTokenPrefix = "dat_"
	refreshPrefix     = "drt_"
)

var (
	supportedScopes = []string{"openid", "email", "profile", "offline_access", "documents.read", "documents.write", "profile.read"}
	apiScopes       = []string{"documents.read", "documents.write", "profile.read"}
	supportedGrants = []string{grantAuthCode, grantRefresh, grantDevice, grantClientCreds}
	authMethods     = []string{"none", "client_secret_basic", "client_secret_post"}
)

type hash [sha256.Size]byte

func hashOf(s string) hash { return sha256.Sum256([]byte(s)) }

type staticToken struct {
	user    string
	scopes  []string
	revoked bool
}

// Server is the development issuer and API. It is safe for concurrent use.
type Server struct {
	opts      Options
	now       func() time.Time
	interval  time.Duration
	issuerMux http.Handler
	apiMux    http.Handler
	pages     *template.Template

	mu          sync.Mutex
	issuerURL   string
	apiURL      string
	clients     map[string]*client
	static      map[hash]*staticToken
	access      map[hash]*accessToken
	refresh     map[hash]*refreshToken
	devices     map[hash]*deviceCode
	userCodes   map[string]*deviceCode
	pending     map[string]*authRequest
	codes       map[hash]*authCode
	grants      []*grant
	counters    map[string]int
	resources   map[string]resourceSeen
	idKey       *idTokenKey
	slowDown    int
	fail5xx     int
	documents   []document
	nextDocID   int
	servers     []*http.Server
	started     bool
	serveGroups sync.WaitGroup
}

// New returns a Server configured by opts. Call Start to listen, or use
// IssuerHandler and APIHandler with SetIssuerURL and SetAPIURL.
func New(opts Options) *Server {
	s := &Server{
		opts:      opts,
		now:       opts.Now,
		clients:   map[string]*client{},
		static:    map[hash]*staticToken{},
		access:    map[hash]*accessToken{},
		refresh:   map[hash]*refreshToken{},
		devices:   map[hash]*deviceCode{},
		userCodes: map[string]*deviceCode{},
		pending:   map[string]*authRequest{},
		codes:     map[hash]*authCode{},
		counters:  map[string]int{},
		resources: map[string]resourceSeen{},
		slowDown:  opts.SlowDown,
		fail5xx:   opts.Fail5xx,
		documents: []document{{ID: "doc_1", Title: "Welcome"}, {ID: "doc_2", Title: "Getting started"}},
		nextDocID: 3,
		pages:     parsePages(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.opts.DeviceTTL <= 0 {
		s.opts.DeviceTTL = defaultDeviceTTL
	}
	if s.opts.AccessTTL <= 0 {
		s.opts.AccessTTL = defaultAccessTTL
	}
	s.interval = s.opts.Interval
	if s.interval <= 0 {
		s.interval = defaultInterval
	}
	// Announced as whole seconds (rounded up, at least 1) and enforced as announced.
	secs := (s.interval + time.Second - 1) / time.Second
	s.interval = max(secs, 1) * time.Second

	for _, st := range opts.Static {
		s.static[hashOf(st.Token)] = &staticToken{user: st.User, scopes: clone(st.Scopes)}
	}
	for _, c := range opts.Clients {
		s.clients[c.ID] = &client{
			id:          c.ID,
			secretHash:  hashOf(c.Secret),
			public:      c.Secret == "",
			name:        c.Name,
			grantTypes:  clone(c.GrantTypes),
			scopes:      clone(c.Scopes),
			native:      true,
			anyLoopback: true,
		}
	}
	if opts.IDToken {
		s.idKey = newIDTokenKey()
	}
	s.issuerMux = s.withLatency(http.HandlerFunc(s.serveIssuer))
	s.apiMux = s.withLatency(http.HandlerFunc(s.serveAPI))
	return s
}

// Start listens on two loopback listeners (127.0.0.1:0 when an address is
// empty) and serves the issuer and the API until Close.
func (s *Server) Start(issuerAddr, apiAddr string) error {
	if issuerAddr == "" {
		issuerAddr = "127.0.0.1:0"
	}
	if apiAddr == "" {
		apiAddr = "127.0.0.1:0"
	}
	for _, a := range []string{issuerAddr, apiAddr} {
		if err := CheckLoopback(a); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return ErrStarted
	}
	il, err := net.Listen("tcp", issuerAddr)
	if err != nil {
		return fmt.Errorf("listen for issuer: %w", err)
	}
	al, err := net.Listen("tcp", apiAddr)
	if err != nil {
		il.Close()
		return fmt.Errorf("listen for api: %w", err)
	}
	s.started = true
	s.issuerURL = "http://" + il.Addr().String()
	s.apiURL = "http://" + al.Addr().String()
	for _, p := range []struct {
		l net.Listener
		h http.Handler
	}{{il, s.issuerMux}, {al, s.apiMux}} {
		srv := &http.Server{Handler: p.h, ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, srv)
		s.serveGroups.Go(func() { _ = srv.Serve(p.l) })
	}
	return nil
}

// CheckLoopback returns ErrNotLoopback unless addr ("host:port") names a
// loopback IP address (127.0.0.0/8 or ::1).
func CheckLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("address %q: bad port: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q: %w", addr, ErrNotLoopback)
	}
	return nil
}

// Close stops the listeners started by Start at once.
func (s *Server) Close() error {
	return s.stop((*http.Server).Close)
}

// Shutdown stops the listeners started by Start gracefully, waiting for
// requests in flight until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.stop(func(srv *http.Server) error { return srv.Shutdown(ctx) })
}

// stop takes the listeners started by Start, stops each with fn and waits
// for their serve loops to end.
func (s *Server) stop(fn func(*http.Server) error) error {
	s.mu.Lock()
	servers := s.servers
	s.servers = nil
	s.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		errs = append(errs, fn(srv))
	}
	s.serveGroups.Wait()
	return errors.Join(errs...)
}

// IssuerURL is the issuer's base URL, like "http://127.0.0.1:PORT".
func (s *Server) IssuerURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issuerURL
}

// APIURL is the API's base URL, like "http://127.0.0.1:PORT".
func (s *Server) APIURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiURL
}

// SetIssuerURL sets the issuer URL the documents advertise, when the handler
// is served by something else (httptest).
func (s *Server) SetIssuerURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issuerURL = trimSlash(u)
}

// SetAPIURL sets the API URL advertised in the protected resource metadata.
func (s *Server) SetAPIURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiURL = trimSlash(u)
}

// IssuerHandler serves the authorization server endpoints.
func (s *Server) IssuerHandler() http.Handler { return s.issuerMux }

// APIHandler serves the sample protected API.
func (s *Server) APIHandler() http.Handler { return s.apiMux }

// Counters returns a copy of the request counters (GET /debug/counters).
func (s *Server) Counters() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counters))
	for k, v := range s.counters {
		out[k] = v
	}
	return out
}

func (s *Server) count(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		s.counters[k]++
	}
}

func (s *Server) withLatency(h http.Handler) http.Handler {
	if s.opts.Latency <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(s.opts.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		h.ServeHTTP(w, r)
	})
}
