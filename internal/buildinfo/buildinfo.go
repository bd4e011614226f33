// Package buildinfo holds the values a build stamps into the binary with
// -ldflags -X. A vendor building sesame under its own name sets Name (and
// usually DefaultAPIURL and ClientID); every env var, path and message follows.
package buildinfo

import "strings"

// Set with -ldflags "-X github.com/sesame-cli/sesame/internal/buildinfo.Name=...".
var (
	// Name is the program name: the command, the env var prefix, the config
	// dir and the keyring service.
	Name = "sesame"
	// Version is the release version ("dev" for local builds).
	Version = "dev"
	// Commit is the source commit of the build.
	Commit = ""
	// Date is the build date (RFC 3339).
	Date = ""
	// DefaultAPIURL is the API used when neither a flag, the environment, a
	// credentials file nor a stored login names one.
	DefaultAPIURL = ""
	// ClientID is a pre-registered OAuth client id; empty means register one
	// dynamically (RFC 7591) per issuer.
	ClientID = ""
	// MePath is the API path that answers who the token belongs to.
	MePath = "/v1/me"
)

// EnvPrefix is the prefix of every environment variable: "SESAME_".
func EnvPrefix() string { return EnvName(Name, "") }

// EnvName returns the environment variable for key under the program name:
// EnvName("sesame", "TOKEN") == "SESAME_TOKEN".
func EnvName(name, key string) string {
	n := strings.ToUpper(name)
	n = strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, n)
	return n + "_" + key
}

// UserAgent is the User-Agent header sesame sends: "<name>/<version>".
func UserAgent() string { return Name + "/" + Version }
