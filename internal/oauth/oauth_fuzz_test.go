package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sesame-cli/sesame/internal/httpx"
	"golang.org/x/oauth2"
)

// The fuzz targets below feed a server's answer (status, Content-Type and
// body) to every parser of the oauth package through an in-memory transport.
// Properties: no panic; a success has the fields sesame relies on; a failure
// is a typed error whose text is one printable line; no secret is echoed.
//
// Secrets are tracked with markers: the placeholders below are replaced
// before the body is served, so the fuzzer moves them around freely. Secrets
// sesame sent (the refresh token, the client secret) must never appear in an
// error, even when the server echoes them. Secrets the server sent (tokens,
// device codes) must not appear unless the server itself put them in its
// error or error_description text.
const (
	phRequestRT = "@RT@" // the refresh token sesame sends
	phSecret    = "@CS@" // the client secret sesame sends
	phAccess    = "@AT@" // an access token in the answer
	phRefresh   = "@NRT@"
	phIDToken   = "@IDT@"
	phDevice    = "@DC@" // a device code in the answer
	phRegSecret = "@RCS@"

	fuzzRequestRT = "rt-REQ-Wm4Jq8LzT"
	fuzzSecret    = "cs-REQ-Hy3Tn6BdQ"
	fuzzAccess    = "at-RSP-Kd8Vx2NqP"
	fuzzRefresh   = "rt-RSP-Pb5Gc7MwS"
	fuzzIDToken   = "id-RSP-Ln2Rz9FyH"
	fuzzDevice    = "dc-RSP-Xs4Qe6JtK"
	fuzzRegSecret = "cs-RSP-Vu7Dw3HpA"
)

var (
	requestMarkers  = strings.NewReplacer(phRequestRT, fuzzRequestRT, phSecret, fuzzSecret)
	responseMarkers = strings.NewReplacer(phRequestRT, fuzzRequestRT, phSecret, fuzzSecret,
		phAccess, fuzzAccess, phRefresh, fuzzRefresh, phIDToken, fuzzIDToken, phDevice, fuzzDevice, phRegSecret, fuzzRegSecret)
	fuzzStatuses = []int{200, 201, 204, 301, 302, 400, 401, 403, 404, 429, 500, 502, 503}
)

const fuzzIssuer = "https://issuer.example.com"

// fuzzAnswer is one server answer made from fuzz input.
type fuzzAnswer struct {
	status int
	ctype  string
	body   []byte
}

func newFuzzAnswer(status uint8, ctype string, body []byte) fuzzAnswer {
	return fuzzAnswer{
		status: fuzzStatuses[int(status)%len(fuzzStatuses)],
		ctype:  requestMarkers.Replace(ctype),
		body:   []byte(responseMarkers.Replace(string(body))),
	}
}

// client serves every request with the answer, in memory.
func (a fuzzAnswer) client() *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			_, _ = io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		h := http.Header{}
		if a.ctype != "" {
			h["Content-Type"] = []string{a.ctype}
		}
		return &http.Response{
			Status:        http.StatusText(a.status),
			StatusCode:    a.status,
			Proto:         "HTTP/1.1",
			ProtoMajor:    1,
			ProtoMinor:    1,
			Header:        h,
			Body:          io.NopCloser(bytes.NewReader(a.body)),
			ContentLength: int64(len(a.body)),
			Request:       r,
		}, nil
	})}
}

// serverText is what the server wrote in its own error fields, parsed the
// way the package parses them: a secret the server put there is its own echo.
func (a fuzzAnswer) serverText() string {
	var e errorJSON
	if vals, err := url.ParseQuery(string(a.body)); err == nil {
		e.Error, e.ErrorDescription = vals.Get("error"), vals.Get("error_description")
	}
	var j errorJSON
	_ = json.Unmarshal(a.body, &j)
	return e.Error + " " + e.ErrorDescription + " " + j.Error + " " + j.ErrorDescription
}

// checkFuzzError asserts the properties every failure must have. sent are
// the secrets the request carried: never in an error, even when the server
// echoes them. received are secrets the answer carried: not in an error
// unless the server wrote them in its own error text.
func checkFuzzError(t *testing.T, a fuzzAnswer, err error, sent, received []string) {
	t.Helper()
	if err == nil {
		return
	}
	var (
		re *httpx.ResponseError
		oe *OAuthError
	)
	switch {
	case errors.As(err, &re), errors.Is(err, ErrIssuerMismatch), errors.Is(err, ErrInsecureURL), errors.Is(err, ErrNotSupported), errors.Is(err, ErrResourceMismatch):
	case errors.As(err, &oe):
		for i := 0; i < len(oe.Code); i++ {
			if c := oe.Code[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				t.Fatalf("OAuthError.Code %q has a character outside RFC 6749's set", oe.Code)
			}
		}
	default:
		t.Fatalf("error %v (%T) is not a typed error", err, err)
	}
	msg := err.Error()
	if !utf8.ValidString(msg) {
		t.Fatalf("error text is not valid UTF-8: %q", msg)
	}
	for _, r := range msg {
		if unicode.IsControl(r) || !unicode.IsPrint(r) && r != ' ' {
			t.Fatalf("error text has a non-printable character %U: %q", r, msg)
		}
	}
	lower := strings.ToLower(msg)
	for _, s := range sent {
		if strings.Contains(msg, s) || strings.Contains(lower, strings.ToLower(s)) {
			t.Fatalf("error text echoes a secret sesame sent: %q", msg)
		}
	}
	own := a.serverText()
	for _, s := range received {
		if strings.Contains(msg, s) && !strings.Contains(own, s) {
			t.Fatalf("error text echoes a secret from the response: %q", msg)
		}
	}
}

func fuzzSeeds(f *testing.F, ctypes []string, bodies ...string) {
	for i, b := range bodies {
		for j, ct := range ctypes {
			f.Add(uint8((i+j)%len(fuzzStatuses)), ct, []byte(b))
		}
		f.Add(uint8(0), ctypes[0], []byte(b))
	}
}

var fuzzCtypes = []string{"application/json", "application/json; charset=utf-8", "text/html", "application/x-www-form-urlencoded", ""}

func FuzzDiscover(f *testing.F) {
	fuzzSeeds(f, fuzzCtypes,
		`{"issuer":"https://issuer.example.com","token_endpoint":"https://issuer.example.com/token","device_authorization_endpoint":"https://issuer.example.com/device","registration_endpoint":"https://issuer.example.com/register","revocation_endpoint":"https://issuer.example.com/revoke","scopes_supported":["openid","documents.read","offline_access"]}`,
		`{"issuer":"https://evil.example.com","token_endpoint":"https://issuer.example.com/token"}`,
		`{"issuer":"https://issuer.example.com/","token_endpoint":"http://issuer.example.com/token"}`,
		`{"issuer":"https://issuer.example.com","token_endpoint":"/token"}`,
		`{"issuer":"https://issuer.example.com","token_endpoint":"https://issuer.example.com/token","scopes_supported":"openid"}`,
		`{"issuer":"https://issuer.example.com\u001b[31m","token_endpoint":"x"}`,
		`<html><body>login</body></html>`,
		`{"error":"server_error","error_description":"down"}`,
		`null`, `[]`, `{}`, ``,
	)
	f.Fuzz(func(t *testing.T, status uint8, ctype string, body []byte) {
		a := newFuzzAnswer(status, ctype, body)
		c := &Client{HTTP: a.client()}
		md, err := c.Discover(context.Background(), fuzzIssuer)
		if err != nil {
			checkFuzzError(t, a, err, nil, nil)
			return
		}
		if strings.TrimSuffix(md.Issuer, "/") != fuzzIssuer {
			t.Fatalf("accepted metadata for issuer %q", md.Issuer)
		}
		if md.TokenEndpoint == "" {
			t.Fatal("accepted metadata without a token endpoint")
		}
		for _, ep := range []string{md.AuthorizationEndpoint, md.TokenEndpoint, md.DeviceAuthorizationEndpoint, md.RegistrationEndpoint, md.RevocationEndpoint, md.UserinfoEndpoint} {
			if ep == "" {
				continue
			}
			if _, err := CheckURL(ep); err != nil {
				t.Fatalf("accepted endpoint %q: %v", ep, err)
			}
		}
	})
}

func FuzzFindIssuer(f *testing.F) {
	fuzzSeeds(f, fuzzCtypes,
		`{"resource":"https://api.example.com/v1","authorization_servers":["https://issuer.example.com"]}`,
		`{"resource":"https://api.example.com","authorization_servers":["https://issuer.example.com"]}`,
		`{"authorization_servers":["http://issuer.example.com"]}`,
		`{"authorization_servers":["http://127.0.0.1:8080"]}`,
		`{"authorization_servers":[""]}`,
		`{"authorization_servers":"https://issuer.example.com"}`,
		`{"authorization_servers":["javascript:alert(1)"]}`,
		`{"authorization_servers":[]}`,
		`<html></html>`, `null`, ``,
	)
	f.Fuzz(func(t *testing.T, status uint8, ctype string, body []byte) {
		a := newFuzzAnswer(status, ctype, body)
		c := &Client{HTTP: a.client()}
		issuer, via, resource, err := c.FindIssuer(context.Background(), "https://api.example.com/v1")
		if err != nil {
			if !errors.Is(err, ErrInsecureURL) && !errors.Is(err, ErrResourceMismatch) {
				t.Fatalf("FindIssuer failed with %v; only an insecure authorization server or metadata for another resource is an error", err)
			}
			checkFuzzError(t, a, err, nil, nil)
			return
		}
		if resource != "" && !sameResource(resource, "https://api.example.com/v1") {
			t.Fatalf("used metadata for %q", resource)
		}
		switch via {
		case ViaAPIHost:
			if issuer != "https://example.com" {
				t.Fatalf("api-host fallback gave %q", issuer)
			}
		case ViaProtectedResource:
			if _, err := CheckURL(issuer); err != nil {
				t.Fatalf("accepted authorization server %q: %v", issuer, err)
			}
		default:
			t.Fatalf("via = %q", via)
		}
	})
}

func fuzzMetadata() *Metadata {
	return &Metadata{
		Issuer:                      fuzzIssuer,
		TokenEndpoint:               fuzzIssuer + "/token",
		DeviceAuthorizationEndpoint: fuzzIssuer + "/device",
		RegistrationEndpoint:        fuzzIssuer + "/register",
		RevocationEndpoint:          fuzzIssuer + "/revoke",
	}
}

func FuzzRegister(f *testing.F) {
	fuzzSeeds(f, fuzzCtypes,
		`{"client_id":"cid-123","client_id_issued_at":1700000000}`,
		`{"client_id":"cid-123","client_secret":"@RCS@"}`,
		`{"client_id":""}`,
		`{"client_id":123}`,
		`{"error":"invalid_client_metadata","error_description":"bad redirect_uri"}`,
		`{"error":"invalid_client_metadata","error_description":"secret @RCS@"}`,
		`error=invalid_redirect_uri&error_description=nope`,
		`<html>Forbidden</html>`, `null`, ``,
	)
	f.Fuzz(func(t *testing.T, status uint8, ctype string, body []byte) {
		a := newFuzzAnswer(status, ctype, body)
		c := &Client{HTTP: a.client()}
		rc, err := c.Register(context.Background(), fuzzMetadata(), Registration{ClientName: "sesame", GrantTypes: []string{"urn:ietf:params:oauth:grant-type:device_code"}})
		if err != nil {
			checkFuzzError(t, a, err, nil, []string{fuzzRegSecret, fuzzSecret, fuzzRequestRT})
			return
		}
		if rc.ClientID == "" {
			t.Fatal("accepted a registration without a client_id")
		}
	})
}

func FuzzDeviceAuth(f *testing.F) {
	fuzzSeeds(f, fuzzCtypes,
		`{"device_code":"@DC@","user_code":"ABCD-EFGH","verification_uri":"https://issuer.example.com/device","verification_uri_complete":"https://issuer.example.com/device?user_code=ABCD-EFGH","expires_in":600,"interval":5}`,
		`{"device_code":"@DC@","user_code":"ABCD-EFGH","verification_url":"https://issuer.example.com/device","expires_in":"600"}`,
		`{"device_code":"@DC@","user_code":"AB\u001b[2JCD","verification_uri":"https://issuer.example.com/device","expires_in":600}`,
		`{"device_code":"@DC@","user_code":"ABCD","verification_uri":"http://issuer.example.com/device","expires_in":600}`,
		`{"device_code":"@DC@","user_code":"ABCD","verification_uri":"https://issuer.example.com/device","expires_in":0}`,
		`{"device_code":"@DC@","user_code":"ABCD","verification_uri":"https://issuer.example.com/device","expires_in":600,"interval":100000}`,
		`{"device_code":"@DC@","user_code":"ABCD","verification_uri":"https://issuer.example.com/device","expires_in":1e400}`,
		`{"device_code":"@DC@","user_code":"ABCD","verification_uri":"https://issuer.example.com/device","expires_in":600,"interval":-1}`,
		`{"device_code":1,"user_code":["x"]}`,
		`{"error":"invalid_client","error_description":"client @CS@ unknown"}`,
		`{"error":"invalid_client","error_description":"client cs-REQ-\u0001Hy3Tn6BdQ unknown"}`,
		`{"error":"cs-REQ-\"Hy3Tn6BdQ"}`,
		`{"error":"@CS@"}`,
		`<html>Bad gateway</html>`, `null`, ``,
	)
	f.Add(uint8(5), "@CS@/json", []byte(`{}`))
	f.Fuzz(func(t *testing.T, status uint8, ctype string, body []byte) {
		a := newFuzzAnswer(status, ctype, body)
		c := &Client{HTTP: a.client()}
		app := App{Metadata: fuzzMetadata(), ClientID: "cid", ClientSecret: fuzzSecret, Scopes: []string{"documents.read"}}
		start := time.Now()
		dc, err := c.DeviceAuth(context.Background(), app)
		if err != nil {
			checkFuzzError(t, a, err, []string{fuzzSecret}, []string{fuzzDevice, fuzzRequestRT})
			return
		}
		if dc.DeviceCode == "" || dc.UserCode == "" {
			t.Fatalf("accepted a device authorization without codes: %+v", dc)
		}
		for _, r := range dc.UserCode {
			if !unicode.IsPrint(r) {
				t.Fatalf("accepted a user_code with a non-printable character %U: %q", r, dc.UserCode)
			}
		}
		for i, u := range []string{dc.VerificationURI, dc.VerificationURIComplete} {
			if i == 1 && u == "" {
				continue
			}
			if _, err := CheckURL(u); err != nil {
				t.Fatalf("accepted verification URL %q: %v", u, err)
			}
			for _, r := range u {
				if !unicode.IsPrint(r) {
					t.Fatalf("accepted a verification URL with a non-printable character %U: %q", r, u)
				}
			}
		}
		if dc.Interval < time.Second || dc.Interval > maxInterval {
			t.Fatalf("interval %s out of range", dc.Interval)
		}
		if !dc.Expiry.After(start) {
			t.Fatalf("expiry %s is not in the future", dc.Expiry)
		}
	})
}

func FuzzTokenResponse(f *testing.F) {
	fuzzSeeds(f, fuzzCtypes,
		`{"access_token":"@AT@","token_type":"Bearer","expires_in":3600,"refresh_token":"@NRT@","id_token":"@IDT@","scope":"documents.read offline_access"}`,
		`{"access_token":"@AT@","token_type":"bearer","expires_in":"3600"}`,
		`{"access_token":"@AT@","expires_in":-5}`,
		`{"access_token":"@AT@","expires_in":"soon"}`,
		`{"access_token":"@AT@","expires_in":1e400}`,
		`{"access_token":123}`,
		`{"access_token":"","refresh_token":"@NRT@"}`,
		`{"access_token":"@AT@","scope":["a"]}`,
		`access_token=@AT@&token_type=bearer&expires_in=60&refresh_token=@NRT@`,
		`access_token=@AT@&expires_in=x`,
		`{"error":"invalid_grant","error_description":"refresh token @RT@ was revoked"}`,
		`{"error":"invalid_grant","error_description":"refresh token rt-REQ-\u0000Wm4Jq8LzT was revoked"}`,
		`{"error":"invalid_grant","error_description":"rt-REQ-Wm4\u200bJq8LzT / cs-REQ-Hy3\u0007Tn6BdQ"}`,
		`{"error":"@RT@"}`,
		`{"error":"slow_down","access_token":"@AT@"}`,
		`{"error":"bad\u001b[31m","error_description":"\u009b31m red"}`,
		`error=invalid_client&error_description=secret+@CS@`,
		`<!doctype html><html><body>500</body></html>`,
		`null`, `[]`, `"x"`, ``,
	)
	f.Add(uint8(5), "text/@RT@", []byte(`nope`))
	f.Fuzz(func(t *testing.T, status uint8, ctype string, body []byte) {
		a := newFuzzAnswer(status, ctype, body)
		c := &Client{HTTP: a.client()}
		app := App{Metadata: fuzzMetadata(), ClientID: "cid", ClientSecret: fuzzSecret}
		start := time.Now()
		tok, err := c.Refresh(context.Background(), app, fuzzRequestRT)
		if err != nil {
			checkFuzzError(t, a, err, []string{fuzzRequestRT, fuzzSecret}, []string{fuzzAccess, fuzzRefresh, fuzzIDToken})
			return
		}
		if tok.AccessToken == "" || tok.TokenType == "" {
			t.Fatalf("accepted a token response without access_token or token_type: %+v", tok)
		}
		if !tok.Expiry.IsZero() && !tok.Expiry.After(start) {
			t.Fatalf("expiry %s is in the past", tok.Expiry)
		}
		for _, s := range GrantedScopes(tok) {
			if s == "" || strings.ContainsFunc(s, unicode.IsSpace) {
				t.Fatalf("scope %q", s)
			}
		}
		// The revocation endpoint shares the error parsing.
		if err := c.Revoke(context.Background(), app, fuzzRequestRT, "refresh_token"); err != nil {
			checkFuzzError(t, a, err, []string{fuzzRequestRT, fuzzSecret}, nil)
		}
	})
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://api.example.com", "http://127.0.0.1:8080/x", "http://[::1]/", "http://localhost.", "http://127.1/",
		"http://api.example.com", "ftp://x", "//x", "https://", "https://a b", "https://user:pass@h/", "http://0x7f.1/",
		"https://h\u009b/", "http://[::ffff:127.0.0.1]/", "HTTP://LOCALHOST/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := CheckURL(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) && !errors.Is(err, ErrInsecureURL) {
				t.Fatalf("CheckURL(%q) = %v, not a sentinel", raw, err)
			}
			return
		}
		if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			t.Fatalf("CheckURL(%q) accepted %#v", raw, u)
		}
		if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
			t.Fatalf("CheckURL(%q) accepted plain http to %q", raw, u.Hostname())
		}
		if !printable(u.Host, 1<<20) {
			t.Fatalf("CheckURL(%q) accepted the host %q (it reaches the terminal in messages)", raw, u.Host)
		}
	})
}

// FuzzWebCallback feeds the loopback redirect handler any query (any local
// program or web page can reach it). Properties: no panic; a code is
// exchanged only with the right state and at most once; the outcome is
// delivered at most once; the page shows no markup from the query.
func FuzzWebCallback(f *testing.F) {
	for _, q := range []string{
		"code=c&state=S", "code=c&state=bad", "error=access_denied&error_description=no&state=S",
		"code=c&state=S&iss=https%3A%2F%2Fissuer.example.com", "code=c&state=S&iss=https%3A%2F%2Fevil.example.com",
		"error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&error_description=%3Cimg+src%3Dx%3E&state=S", "", "state=S", "code=&state=S",
		"code=c&code=d&state=S&state=S", "%zz", "code=c;state=S",
	} {
		f.Add(q, "/callback", "GET")
	}
	f.Fuzz(func(t *testing.T, query, path, method string) {
		var exchanged, delivered int
		cb := &callback{
			op: "web login", state: "S", issuer: fuzzIssuer,
			exchange: func(code string) (*oauth2.Token, error) {
				exchanged++
				return &oauth2.Token{AccessToken: "at"}, nil
			},
			deliver: func(*oauth2.Token, error) { delivered++ },
		}
		u := &url.URL{Path: path, RawQuery: query}
		req, err := http.NewRequest(method, "http://127.0.0.1:1"+u.RequestURI(), nil)
		if err != nil {
			return
		}
		for range 2 {
			rec := httptest.NewRecorder()
			cb.ServeHTTP(rec, req)
			if body := rec.Body.String(); strings.Contains(body, "<script") || strings.Contains(body, "<img") {
				t.Fatalf("page shows markup from the query: %s", body)
			}
		}
		q := req.URL.Query()
		if exchanged > 0 && (q.Get("state") != "S" || q.Get("code") == "" || req.Method != http.MethodGet || req.URL.Path != "/callback") {
			t.Fatalf("exchanged for %s %s", req.Method, req.URL)
		}
		if exchanged > 1 || delivered > 1 {
			t.Fatalf("exchanged %d, delivered %d times", exchanged, delivered)
		}
	})
}
