// Package credentials finds the active credential in a fixed order of
// places and keeps stored logins in the OS keyring or the config file.
package credentials

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sesame-cli/sesame/internal/buildinfo"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/redact"
)

// Source names where the active token came from (whoami --json "source").
type Source string

// The sources, in the order they are tried.
const (
	SourceEnv               Source = "env"
	SourceClientCredentials Source = "client-credentials"
	SourceCredentialsFile   Source = "credentials-file"
	SourceKeyring           Source = "keyring"
	SourceConfigFile        Source = "config-file"
)

// ErrNoCredential means no source supplied a token.
var ErrNoCredential = errors.New("not logged in")

// ErrNoAPIURL means nothing names the API.
var ErrNoAPIURL = errors.New("no API URL")

// InputError is bad input from the user: a malformed credentials file, bad
// stdin, a bad env var. It maps to the usage exit code.
type InputError struct {
	What    string // "credentials file /x (SESAME_CREDENTIALS_FILE)", "stdin", "SESAME_TOKEN"
	Problem string
}

func (e *InputError) Error() string { return e.What + ": " + e.Problem }

// MaxInput bounds a credentials file or stdin.
const MaxInput = 1 << 20

// Credential is the active token and where it came from.
type Credential struct {
	Token        redact.Secret
	Source       Source
	SourceDetail string // in words, for people
	APIURL       string
	APIURLFrom   string // flag, env, credentials-file, config, default
	Path         string // the credentials file or config file, when one
	Stored       *Stored
}

// Env is the environment of one run.
type Env struct {
	Name       string // program name
	Getenv     func(string) string
	GOOS       string
	APIURLFlag string
	Warn       io.Writer // warnings (a world-readable credentials file)
	// Store opens the store; it is called only when the stored login is
	// needed, so that an env token never touches the config or keyring.
	Store func() (*Store, error)
	// Mint, when set, is tried after the env token and before the
	// credentials file (client credentials). It returns (nil, nil) when it
	// does not apply.
	Mint func(ctx context.Context, apiURL, from string) (*Credential, error)
}

func (e *Env) env(key string) string { return e.Getenv(buildinfo.EnvName(e.Name, key)) }

// EnvVar returns the full env var name for key ("SESAME_TOKEN").
func (e *Env) EnvVar(key string) string { return buildinfo.EnvName(e.Name, key) }

// Resolve finds the active credential: <NAME>_TOKEN, then client
// credentials (Mint), then <NAME>_CREDENTIALS_FILE, then the stored login.
func Resolve(ctx context.Context, e *Env) (*Credential, error) {
	if raw := e.env("TOKEN"); raw != "" {
		tok, err := CleanToken(raw)
		if err != nil {
			return nil, &InputError{What: e.EnvVar("TOKEN"), Problem: err.Error()}
		}
		api, from := e.firstAPI("")
		return &Credential{
			Token: redact.Secret(tok), Source: SourceEnv,
			SourceDetail: e.EnvVar("TOKEN") + " environment variable",
			APIURL:       api, APIURLFrom: from,
		}, nil
	}
	if e.Mint != nil {
		api, from := e.firstAPI("")
		c, err := e.Mint(ctx, api, from)
		if err != nil || c != nil {
			return c, err
		}
	}
	if path := e.env("CREDENTIALS_FILE"); path != "" {
		what := fmt.Sprintf("credentials file %s (%s)", path, e.EnvVar("CREDENTIALS_FILE"))
		tok, fileAPI, err := ReadCredentialsFile(path, e.GOOS, e.Warn)
		if err != nil {
			return nil, &InputError{What: what, Problem: err.Error()}
		}
		api, from := e.firstAPI(fileAPI)
		return &Credential{
			Token: redact.Secret(tok), Source: SourceCredentialsFile, SourceDetail: what,
			APIURL: api, APIURLFrom: from, Path: path,
		}, nil
	}
	st, err := e.Store()
	if err != nil {
		return nil, err
	}
	// One read of config.json gives both the current API and its login.
	cfg, err := config.Load(st.Dir)
	if err != nil {
		return nil, err
	}
	api, from := e.storedAPI(cfg.CurrentAPI)
	if api == "" {
		return nil, ErrNoCredential
	}
	if !absoluteHTTPURL(api) {
		// Not "not logged in to ftp://...": say what is wrong with the URL.
		return nil, &InputError{
			What:    fmt.Sprintf("API URL %s (from %s)", api, e.FromWords(from)),
			Problem: fmt.Sprintf("%q: not an absolute http(s) URL", api),
		}
	}
	s, err := st.loadFrom(cfg, api)
	if errors.Is(err, ErrNotLoggedIn) {
		return nil, fmt.Errorf("%w to %s", ErrNoCredential, api)
	}
	if err != nil {
		return nil, err
	}
	c := &Credential{Token: redact.Secret(s.AccessToken), Source: s.Source(), APIURL: api, APIURLFrom: from, Stored: s}
	if c.Source == SourceKeyring {
		c.SourceDetail = "keyring (service " + st.Service + ")"
	} else {
		c.Path = st.ConfigPath()
		c.SourceDetail = "config file " + c.Path
	}
	return c, nil
}

// firstAPI applies --api-url > <NAME>_API_URL > fileAPI > the build default.
func (e *Env) firstAPI(fileAPI string) (string, string) {
	switch {
	case e.APIURLFlag != "":
		return NormalizeURL(e.APIURLFlag), "flag"
	case e.env("API_URL") != "":
		return NormalizeURL(e.env("API_URL")), "env"
	case fileAPI != "":
		return NormalizeURL(fileAPI), "credentials-file"
	case buildinfo.DefaultAPIURL != "":
		return NormalizeURL(buildinfo.DefaultAPIURL), "default"
	}
	return "", ""
}

// StoredAPI applies --api-url > <NAME>_API_URL > the config's current API
// > the build default.
func (e *Env) StoredAPI(st *Store) (string, string, error) {
	if e.APIURLFlag != "" || e.env("API_URL") != "" {
		api, from := e.firstAPI("")
		return api, from, nil
	}
	cur, err := st.CurrentAPI()
	if err != nil {
		return "", "", err
	}
	api, from := e.storedAPI(cur)
	return api, from, nil
}

// storedAPI is StoredAPI given the config's current API.
func (e *Env) storedAPI(current string) (string, string) {
	if e.APIURLFlag == "" && e.env("API_URL") == "" && current != "" {
		return current, "config"
	}
	return e.firstAPI("")
}

// absoluteHTTPURL reports whether s is an absolute http(s) URL with a host
// (the syntax part of the check the callers make before any request).
func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.IsAbs() && u.Host != "" && u.Opaque == "" && (u.Scheme == "https" || u.Scheme == "http")
}

// FromWords names where an API URL came from (Credential.APIURLFrom), for
// people.
func (e *Env) FromWords(from string) string {
	switch from {
	case "flag":
		return "--api-url"
	case "env":
		return e.EnvVar("API_URL")
	case "credentials-file":
		return e.EnvVar("CREDENTIALS_FILE")
	case "config":
		return "the config file"
	case "default":
		return "the build default"
	}
	return from
}

// NormalizeURL trims white space and trailing slashes.
func NormalizeURL(u string) string { return strings.TrimRight(strings.TrimSpace(u), "/") }

// CleanToken trims surrounding white space (a trailing newline, CRLF) and
// refuses a token that still has white space or control characters inside.
func CleanToken(raw string) (string, error) {
	tok := strings.TrimSpace(strings.TrimPrefix(raw, "\ufeff"))
	if tok == "" {
		return "", errors.New("token is empty")
	}
	// U+FFFD: JSON decoding turns invalid UTF-8 and lone surrogates into
	// it, so the token would silently differ from the one in the input.
	if !utf8.ValidString(tok) || strings.ContainsRune(tok, utf8.RuneError) {
		return "", errors.New("token is not valid UTF-8")
	}
	for _, r := range tok {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", errors.New("token contains white space or control characters")
		}
	}
	if len(tok) > 16<<10 {
		return "", errors.New("token is longer than 16 KiB")
	}
	return tok, nil
}

// ParseTokenInput reads a raw token or a JSON object {"token": "...",
// "apiUrl": "..."} (the credentials file and auth set --stdin format).
func ParseTokenInput(data []byte) (token, apiURL string, err error) {
	if len(data) > MaxInput {
		return "", "", fmt.Errorf("input is larger than %d bytes", MaxInput)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return "", "", errors.New("empty: expected a token or {\"token\": \"...\"}")
	}
	if bytes.IndexByte(trimmed, 0) >= 0 {
		return "", "", errors.New("contains NUL bytes")
	}
	if trimmed[0] == '{' || trimmed[0] == '[' || trimmed[0] == '"' {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &obj); err != nil || obj == nil {
			return "", "", errors.New("not valid JSON: expected {\"token\": \"...\", \"apiUrl\": \"...\"}")
		}
		rawTok, ok := obj["token"]
		if !ok {
			return "", "", errors.New("JSON has no \"token\" field")
		}
		var tok string
		if err := json.Unmarshal(rawTok, &tok); err != nil || string(rawTok) == "null" {
			return "", "", errors.New("JSON \"token\" is not a string")
		}
		if rawAPI, ok := obj["apiUrl"]; ok && string(rawAPI) != "null" {
			if err := json.Unmarshal(rawAPI, &apiURL); err != nil {
				return "", "", errors.New("JSON \"apiUrl\" is not a string")
			}
		}
		tok, err := CleanToken(tok)
		if err != nil {
			return "", "", err
		}
		return tok, strings.TrimSpace(apiURL), nil
	}
	tok, err := CleanToken(string(trimmed))
	if err != nil {
		return "", "", err
	}
	return tok, "", nil
}

// ReadCredentialsFile reads a credentials file, warning on warn when it is
// readable by group or others (as ssh does). Like ssh with its keys, it
// follows symbolic links: the file read, and the one whose mode is checked,
// is the target. A named pipe or a character device (/dev/fd/N from a
// shell's process substitution) is read up to MaxInput bytes.
func ReadCredentialsFile(path, goos string, warn io.Writer) (string, string, error) {
	f, err := os.Open(path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", "", errors.New("no such file")
		case errors.Is(err, fs.ErrPermission):
			return "", "", errors.New("permission denied")
		}
		if pe, ok := errors.AsType[*fs.PathError](err); ok {
			return "", "", fmt.Errorf("cannot open: %v", pe.Err) // "too many levels of symbolic links", ...
		}
		return "", "", errors.New("cannot open")
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", "", errors.New("cannot stat")
	}
	if fi.IsDir() {
		return "", "", errors.New("is a directory, not a file")
	}
	if !fi.Mode().IsRegular() && fi.Mode()&fs.ModeNamedPipe == 0 && fi.Mode()&fs.ModeCharDevice == 0 {
		return "", "", errors.New("is not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxInput+1))
	if err != nil {
		return "", "", errors.New("cannot read")
	}
	tok, api, err := ParseTokenInput(data)
	if err != nil {
		return "", "", err
	}
	if goos != "windows" && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 && warn != nil {
		fmt.Fprintf(warn, "warning: credentials file %s is readable by others (mode %04o); run: chmod 600 %s\n", path, fi.Mode().Perm(), path)
	}
	return tok, api, nil
}

// Expired reports whether a stored login's access token expires within margin.
func Expired(s *Stored, now time.Time, margin time.Duration) bool {
	return !s.Login.ExpiresAt.IsZero() && !now.Add(margin).Before(s.Login.ExpiresAt)
}
