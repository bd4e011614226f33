package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/adrg/xdg"
	"github.com/sesame-cli/sesame/internal/buildinfo"
)

// ErrNoConfigDir means no rule of Dir could name a config directory.
var ErrNoConfigDir = errors.New("cannot determine the config directory")

// ErrRelativeConfigDir means <NAME>_CONFIG_DIR is not an absolute path
// (it would move with the working directory).
var ErrRelativeConfigDir = errors.New("is not an absolute path")

// Base is what the platform knows without the environment: the home
// directory (Unix) and the roaming AppData folder (Windows).
type Base struct {
	Home           string
	RoamingAppData string
}

// HostBase is Base for the running host, from adrg/xdg: its home directory
// (which falls back to the password database when $HOME is unset) and, on
// Windows, the roaming AppData known folder (the first of xdg.DataDirs).
// Only these come from xdg: its ConfigHome is ~/Library/Application Support
// on macOS and %LOCALAPPDATA% on Windows, which the contract overrides with
// ~/.config and the roaming folder.
func HostBase() Base {
	b := Base{Home: xdg.Home}
	if runtime.GOOS == "windows" && len(xdg.DataDirs) > 0 {
		b.RoamingAppData = xdg.DataDirs[0]
	}
	return b
}

// Dir returns the config directory for the program name on goos, reading the
// environment only through getenv (so that the rules can be tested for
// every platform on any platform), with base for what the environment
// does not say:
//
//	$<NAME>_CONFIG_DIR (absolute, else ErrRelativeConfigDir)
//	else $XDG_CONFIG_HOME/<name>
//	else ~/.config/<name> on Linux, macOS and other Unix (not ~/Library)
//	else %APPDATA%\<name> (roaming) on Windows
func Dir(goos, name string, getenv func(string) string, base Base) (string, error) {
	if d := getenv(buildinfo.EnvName(name, "CONFIG_DIR")); d != "" {
		if !isAbs(goos, d) {
			return "", &DirError{Dir: d, Err: fmt.Errorf("%s %w", buildinfo.EnvName(name, "CONFIG_DIR"), ErrRelativeConfigDir)}
		}
		return clean(goos, d), nil
	}
	if x := getenv("XDG_CONFIG_HOME"); x != "" && isAbs(goos, x) {
		return join(goos, x, name), nil
	}
	if goos == "windows" {
		if a := getenv("APPDATA"); a != "" {
			return join(goos, a, name), nil
		}
		if base.RoamingAppData != "" {
			return join(goos, base.RoamingAppData, name), nil
		}
		if p := getenv("USERPROFILE"); p != "" {
			return join(goos, p, "AppData", "Roaming", name), nil
		}
		return "", ErrNoConfigDir
	}
	if h := getenv("HOME"); h != "" {
		return join(goos, h, ".config", name), nil
	}
	if base.Home != "" && isAbs(goos, base.Home) {
		return join(goos, base.Home, ".config", name), nil
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
