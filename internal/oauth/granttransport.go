package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sesame-cli/sesame/internal/redact"
)

// grant is the HTTP side of one x/oauth2 grant call: the caller's client
// (proxy, CA, timeouts, user agent, debug trace) with a transport that
//   - adds the RFC 8707 resource to every form request (x/oauth2 has no
//     option for it in refresh and device polls),
//   - authenticates a confidential client at the device authorization
//     endpoint (x/oauth2's DeviceAuth sends only client_id),
//   - refuses to start a request whose context already ended,
//   - reads each response whole up to 1 MiB (a larger one is an error of
//     its own) and remembers its status and media type, so that errors can
//     say what came back without quoting it,
//   - lets PollDevice see each poll's OAuth error code;
//
// and redirects not followed (a token endpoint that redirects would make
// the client resend its form, secrets included, elsewhere).
type grant struct {
	base   *http.Client
	app    App
	onPoll func(code string) // called with the "error" of every non-2xx answer
	last   answer
}

// answer is what the last response was.
type answer struct {
	status    int
	mediaType string
	body      []byte // never put into error text
}

func (c *Client) grant(app App, onPoll func(string)) *grant {
	return &grant{base: c.HTTP, app: app, onPoll: onPoll}
}

// context returns ctx carrying the grant's client for x/oauth2.
func (g *grant) context(ctx context.Context) context.Context {
	var hc http.Client
	if g.base != nil {
		hc = *g.base
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &grantTransport{g: g, base: base}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return context.WithValue(ctx, oauth2.HTTPClient, &hc)
}

type grantTransport struct {
	g    *grant
	base http.RoundTripper
}

// badAnswer is a response refused before x/oauth2 parses it.
type badAnswer struct {
	status  int
	problem string
}

func (e *badAnswer) Error() string { return e.problem }

func (t *grantTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	if d, ok := req.Context().Deadline(); ok && !time.Now().Before(d) {
		return nil, context.DeadlineExceeded // due now, even if its timer has not fired yet
	}
	g := t.g
	if req.Method == http.MethodPost && req.Body != nil {
		data, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		form, err := url.ParseQuery(string(data))
		if err == nil {
			changed := false
			if g.app.Resource != "" && !form.Has("resource") {
				form.Set("resource", g.app.Resource)
				changed = true
			}
			md := g.app.Metadata
			if md != nil && req.URL.String() == md.DeviceAuthorizationEndpoint && g.app.ClientSecret != "" {
				if g.app.AuthStyle() == oauth2.AuthStyleInHeader {
					form.Del("client_id")
					req.SetBasicAuth(url.QueryEscape(g.app.ClientID), url.QueryEscape(g.app.ClientSecret))
				} else {
					form.Set("client_secret", g.app.ClientSecret)
				}
				changed = true
			}
			if changed {
				data = []byte(form.Encode())
			}
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(data))
		req.ContentLength = int64(len(data))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(data) > maxBody {
		return nil, &badAnswer{status: resp.StatusCode, problem: "response body larger than 1 MiB"}
	}
	md := g.app.Metadata
	if md != nil && req.URL.String() == md.DeviceAuthorizationEndpoint && resp.StatusCode/100 == 2 && !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		// x/oauth2 v0.38 dereferences nil on a "null" answer here.
		return nil, &badAnswer{status: resp.StatusCode, problem: fmt.Sprintf("response is not valid JSON (%s)", redact.Text(mediaType(resp.Header), 60, g.app.ClientSecret))}
	}
	g.last = answer{status: resp.StatusCode, mediaType: mediaType(resp.Header), body: data}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))
	if g.onPoll != nil && (resp.StatusCode < 200 || resp.StatusCode > 299) {
		code, _ := errorIn(data, g.last.mediaType)
		g.onPoll(code)
	}
	return resp, nil
}

// mediaType is a response's media type for error text ("no content type").
func mediaType(h http.Header) string {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt == "" {
		return "no content type"
	}
	return strings.ToLower(mt)
}

// errorIn returns an RFC 6749 §5.2 error and description from a JSON or
// form body ("" when it holds none).
func errorIn(body []byte, mediaType string) (code, description string) {
	if mediaType == "application/x-www-form-urlencoded" || mediaType == "text/plain" {
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return "", ""
		}
		return vals.Get("error"), vals.Get("error_description")
	}
	var e struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	return e.Error, e.ErrorDescription
}
