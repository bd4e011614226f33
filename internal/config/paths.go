package config

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/sesame-cli/sesame/internal/buildinfo"
)

// ErrNoConfigDir means no rule of Dir could name a config directory.
var ErrNoConfigDir = errors.New("cannot determine the config directory")

// Dir returns the config directory for the program name on goos, reading the
// environment only through getenv:
//
//	$<NAME>_CONFIG_DIR
//	else $XDG_CONFIG_HOME/<name>
//	else ~/.config/<name> on Linux, macOS and other Unix (not ~/Library)
//	else %APPDATA%\<name> (roaming) on Windows
//
// adrg/xdg is not used here: it reads the process environment once at
// package init (so it cannot be driven by an injected getenv or tested for
// other platforms) and it picks ~/Library/Application Support on macOS and
// %LOCALAPPDATA% on Windows, both of which the contract overrides.
func Dir(goos, name string, getenv func(string) string) (string, error) {
	if d := getenv(buildinfo.EnvName(name, "CONFIG_DIR")); d != "" {
		return clean(goos, d), nil
	}
	if x := getenv("XDG_CONFIG_HOME"); x != "" && isAbs(goos, x) {
		return join(goos, x, name), nil
	}
	if goos == "windows" {
		if a := getenv("APPDATA"); a != "" {
			return join(goos, a, name), nil
		}
		if p := getenv("USERPROFILE"); p != "" {
			return join(goos, p, "AppData", "Roaming", name), nil
		}
		return "", ErrNoConfigDir
	}
	if h := getenv("HOME"); h != "" {
		return join(goos, h, ".config", name), nil
	}
	return "", ErrNoConfigDir
}

func isAbs(goos, p string) bool {
	if goos == "windows" {
		return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') || strings.HasPrefix(p, `\\`)
	}
	return strings.HasPrefix(p, "/")
}

// join and clean use the separator of goos, not of the host, so that the
// rules can be tested for every platform on any platform.
func join(goos string, parts ...string) string {
	if goos == "windows" {
		return strings.Join(parts, `\`)
	}
	return filepath.Join(parts...)
}

func clean(goos, p string) string {
	if goos == "windows" {
		return p
	}
	return filepath.Clean(p)
}
