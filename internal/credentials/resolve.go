// Package credentials finds the active credential in a fixed order of
// places and keeps stored logins in the OS keyring or the config file.
package credentials

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sesame-cli/sesame/internal/buildinfo"
	"github.com/sesame-cli/sesame/internal/config"
	"github.com/sesame-cli/sesame/internal/oauth"
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
// stdin, a bad env var, a bad API URL. It maps to the usage exit code.
type InputError struct {
	What    string // "credentials file /x (SESAME_CREDENTIALS_FILE)", "stdin", "SESAME_TOKEN"
	Problem string
	Err     error // the cause, when one (oauth.ErrInsecureURL, ...)
}

func (e *InputError) Error() string { return e.What + ": " + e.Problem }
func (e *InputError) Unwrap() error { return e.Err }

// MaxInput bounds a credentials file or stdin.
const MaxInput = 1 << 20

// Token is the active credential: the access token, where it came from,
// the API it is for and, for a stored login, the login itself (with its
// refresh token). It is one of the three token shapes sesame has, with
// *oauth2.Token (what a grant returned) and config.Login (what is stored).
type Token struct {
	Value        redact.Secret
	Source       Source
	SourceDetail string // in words, for people
	APIURL       string
	APIURLFrom   string // flag, env, credentials-file, config, default
	Path         string // the credentials file or config file, when one
	// Login is the stored login (keyring or config file), nil otherwise.
	Login *config.Login
	// Issuer, Expiry and Scopes are known for stored logins and minted tokens.
	Issuer string
	Expiry time.Time
	Scopes []string
	// mint is the request of a client-credentials token from the env.
	mint *mintRequest
}

// Env is the environment of one run: the program name and how to read its
// env vars, the platform, and the --api-url and --issuer flags.
type Env struct {
	Name       string // program name
	Getenv     func(string) string
	GOOS       string
	APIURLFlag string
	IssuerFlag string // --issuer, else <NAME>_ISSUER, else the vendor's
	// DefaultAPIURL is the build's or vendor's API ("" = none).
	DefaultAPIURL string
	// Account picks one of the API's stored logins (--account; "" = the
	// active one).
	Account string
}

func (e *Env) env(key string) string { return e.Getenv(buildinfo.EnvName(e.Name, key)) }

// EnvVar returns the full env var name for key ("SESAME_TOKEN").
func (e *Env) EnvVar(key string) string { return buildinfo.EnvName(e.Name, key) }

// API applies the one precedence of API URLs: --api-url > <NAME>_API_URL >
// the credentials file's apiUrl (fileAPI) > the config's current API
// (current) > the build default. It returns the URL and where it came from
// ("flag", "env", "credentials-file", "config", "default"; "" for none).
func (e *Env) API(fileAPI, current string) (string, string) {
	switch {
	case e.APIURLFlag != "":
		return NormalizeURL(e.APIURLFlag), "flag"
	case e.env("API_URL") != "":
		return NormalizeURL(e.env("API_URL")), "env"
	case fileAPI != "":
		return NormalizeURL(fileAPI), "credentials-file"
	case current != "":
		return current, "config"
	case e.DefaultAPIURL != "":
		return NormalizeURL(e.DefaultAPIURL), "default"
	}
	return "", ""
}

// FromWords names where an API URL came from (Token.APIURLFrom), for
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

// CheckAPI refuses a missing (ErrNoAPIURL), malformed or non-HTTPS
// (non-loopback) API URL.
func (e *Env) CheckAPI(api, from string) error {
	if api == "" {
		return ErrNoAPIURL // what to do is the hint's (cli/exit.go), not said twice
	}
	if _, err := oauth.CheckURL(api); err != nil {
		return &InputError{What: fmt.Sprintf("API URL %s (from %s)", oauth.DisplayURL(api), e.FromWords(from)), Problem: err.Error(), Err: err}
	}
	return nil
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
	f, err := openBounded(path)
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
	if !fi.Mode().IsRegular() {
		// A pipe with no writer, or one that never ends, must not hang:
		// the writer (a shell's process substitution) has 10 s.
		_ = f.SetReadDeadline(time.Now().Add(pipeWait))
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxInput+1))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return "", "", fmt.Errorf("nothing came through the pipe within %s", pipeWait)
	}
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

// absoluteHTTPURL reports whether s is an absolute http(s) URL with a host
// (the syntax part of the check the callers make before any request).
func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.IsAbs() && u.Host != "" && u.Opaque == "" && u.User == nil && (u.Scheme == "https" || u.Scheme == "http")
}

// pipeWait bounds the wait for a credentials file that is a pipe.
const pipeWait = 10 * time.Second

// openBounded opens a user-named file without blocking: a named pipe is
// opened non-blocking (so that no writer means no hang, and reads can have
// a deadline).
func openBounded(path string) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
		return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	}
	return os.Open(path)
}
