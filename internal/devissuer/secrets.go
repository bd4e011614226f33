package devissuer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// SecretRecorder is test support: it wraps the issuer and API handlers and
// remembers every secret that crosses them, so that a test can assert that
// none of them shows up where it must not (a program's output, its files).
//
// From requests it records the form fields device_code, code,
// code_verifier, refresh_token, client_secret, token and access_token, the
// bearer token and the Basic password of the Authorization header; from
// responses the JSON fields access_token, refresh_token, id_token,
// device_code and client_secret, and the code of a redirect's Location.
// User codes are not secrets (they are shown to the user) and are not
// recorded.
type SecretRecorder struct {
	mu   sync.Mutex
	seen map[string]string // secret → the kind it was first seen as
}

// NewSecretRecorder returns an empty recorder.
func NewSecretRecorder() *SecretRecorder { return &SecretRecorder{seen: map[string]string{}} }

// maxRecorded bounds what the recorder buffers of one body.
const maxRecorded = 1 << 20

var (
	secretFormFields = []string{"device_code", "code", "code_verifier", "refresh_token", "client_secret", "token", "access_token"}
	secretJSONFields = []string{"access_token", "refresh_token", "id_token", "device_code", "client_secret"}
)

// Wrap returns h with the recorder watching its requests and responses.
func (rec *SecretRecorder) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.request(r)
		cw := &captureWriter{ResponseWriter: w}
		h.ServeHTTP(cw, r)
		rec.response(cw)
	})
}

// Add records secrets of a kind ("access_token", "client_secret", ...);
// tests use it for secrets known by other means (static tokens).
func (rec *SecretRecorder) Add(kind string, secrets ...string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, s := range secrets {
		if _, ok := rec.seen[s]; s != "" && !ok {
			rec.seen[s] = kind
		}
	}
}

// IssuedSecrets returns every secret seen so far, sorted.
func (rec *SecretRecorder) IssuedSecrets() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := make([]string, 0, len(rec.seen))
	for s := range rec.seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Kinds returns every secret seen so far with its kind: the form or JSON
// field it came in ("device_code", "code", "code_verifier", ...), "bearer"
// for an Authorization header, "client_secret" for a Basic password.
func (rec *SecretRecorder) Kinds() map[string]string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := make(map[string]string, len(rec.seen))
	for s, k := range rec.seen {
		out[s] = k
	}
	return out
}

func (rec *SecretRecorder) request(r *http.Request) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, cred, _ := strings.Cut(auth, " ")
		switch strings.ToLower(scheme) {
		case "bearer", "dpop":
			rec.Add("bearer", strings.TrimSpace(cred))
		case "basic":
			if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred)); err == nil {
				if _, pass, ok := strings.Cut(string(raw), ":"); ok {
					rec.Add("client_secret", pass)
					if p, err := url.QueryUnescape(pass); err == nil {
						rec.Add("client_secret", p)
					}
				}
			}
		}
	}
	rec.values(r.URL.Query())
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRecorded))
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		if vals, err := url.ParseQuery(string(body)); err == nil {
			rec.values(vals)
		}
	}
}

func (rec *SecretRecorder) values(vals url.Values) {
	for _, k := range secretFormFields {
		rec.Add(k, vals[k]...)
	}
}

func (rec *SecretRecorder) response(cw *captureWriter) {
	if loc := cw.Header().Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			rec.Add("code", u.Query()["code"]...)
		}
	}
	var doc map[string]any
	if json.Unmarshal(cw.body.Bytes(), &doc) != nil {
		return
	}
	for _, k := range secretJSONFields {
		if s, ok := doc[k].(string); ok {
			rec.Add(k, s)
		}
	}
}

// captureWriter keeps a copy of the body it writes.
type captureWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (c *captureWriter) Write(p []byte) (int, error) {
	if room := maxRecorded - c.body.Len(); room > 0 {
		c.body.Write(p[:min(len(p), room)])
	}
	return c.ResponseWriter.Write(p)
}
