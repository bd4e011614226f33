package config_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sesame-cli/sesame/internal/config"
)

// TestDir covers the config-dir rules for every platform, on any platform:
// the OS and the environment are injected.
func TestDir(t *testing.T) {
	if b := config.HostBase(); b.Home == "" {
		t.Errorf("HostBase() has no home directory: %+v", b)
	}
	tests := []struct {
		name    string
		goos    string
		prog    string
		env     map[string]string
		base    config.Base
		want    string
		wantErr error
	}{
		// Linux
		{name: "linux: HOME", goos: "linux", env: map[string]string{"HOME": "/home/ann"}, want: "/home/ann/.config/sesame"},
		{name: "linux: XDG_CONFIG_HOME wins over HOME", goos: "linux", env: map[string]string{"HOME": "/home/ann", "XDG_CONFIG_HOME": "/xdg"}, want: "/xdg/sesame"},
		{name: "linux: relative XDG_CONFIG_HOME is ignored", goos: "linux", env: map[string]string{"HOME": "/home/ann", "XDG_CONFIG_HOME": "rel/xdg"}, want: "/home/ann/.config/sesame"},
		{name: "linux: SESAME_CONFIG_DIR wins over all", goos: "linux", env: map[string]string{"HOME": "/home/ann", "XDG_CONFIG_HOME": "/xdg", "SESAME_CONFIG_DIR": "/etc/sesame/"}, want: "/etc/sesame"},
		{name: "linux: SESAME_CONFIG_DIR is cleaned", goos: "linux", env: map[string]string{"SESAME_CONFIG_DIR": "/a/./b/../c"}, want: "/a/c"},
		{name: "linux: APPDATA is ignored", goos: "linux", env: map[string]string{"HOME": "/home/ann", "APPDATA": `C:\Users\ann\AppData\Roaming`}, want: "/home/ann/.config/sesame"},
		{name: "linux: nothing set", goos: "linux", env: nil, wantErr: config.ErrNoConfigDir},
		{name: "linux: only USERPROFILE", goos: "linux", env: map[string]string{"USERPROFILE": `C:\Users\ann`}, wantErr: config.ErrNoConfigDir},

		// macOS: ~/.config like Linux, never ~/Library
		{name: "darwin: HOME is ~/.config, not ~/Library", goos: "darwin", env: map[string]string{"HOME": "/Users/ann"}, want: "/Users/ann/.config/sesame"},
		{name: "darwin: XDG_CONFIG_HOME", goos: "darwin", env: map[string]string{"HOME": "/Users/ann", "XDG_CONFIG_HOME": "/Users/ann/xdg"}, want: "/Users/ann/xdg/sesame"},
		{name: "darwin: SESAME_CONFIG_DIR", goos: "darwin", env: map[string]string{"HOME": "/Users/ann", "SESAME_CONFIG_DIR": "/opt/cfg"}, want: "/opt/cfg"},
		{name: "darwin: nothing set", goos: "darwin", env: nil, wantErr: config.ErrNoConfigDir},

		// Windows: %APPDATA% (roaming)
		{name: "windows: APPDATA", goos: "windows", env: map[string]string{"APPDATA": `C:\Users\ann\AppData\Roaming`, "USERPROFILE": `C:\Users\ann`}, want: `C:\Users\ann\AppData\Roaming\sesame`},
		{name: "windows: USERPROFILE without APPDATA", goos: "windows", env: map[string]string{"USERPROFILE": `C:\Users\ann`}, want: `C:\Users\ann\AppData\Roaming\sesame`},
		{name: "windows: HOME alone is not used", goos: "windows", env: map[string]string{"HOME": `C:\Users\ann`}, wantErr: config.ErrNoConfigDir},
		{name: "windows: XDG_CONFIG_HOME with a drive", goos: "windows", env: map[string]string{"APPDATA": `C:\Users\ann\AppData\Roaming`, "XDG_CONFIG_HOME": `D:\xdg`}, want: `D:\xdg\sesame`},
		{name: "windows: XDG_CONFIG_HOME as a UNC path", goos: "windows", env: map[string]string{"APPDATA": `C:\r`, "XDG_CONFIG_HOME": `\\server\share`}, want: `\\server\share\sesame`},
		{name: "windows: Unix-style XDG_CONFIG_HOME is not absolute there", goos: "windows", env: map[string]string{"APPDATA": `C:\Users\ann\AppData\Roaming`, "XDG_CONFIG_HOME": "/home/ann/.config"}, want: `C:\Users\ann\AppData\Roaming\sesame`},
		{name: "windows: SESAME_CONFIG_DIR kept as given", goos: "windows", env: map[string]string{"APPDATA": `C:\r`, "SESAME_CONFIG_DIR": `E:\cfg\sesame`}, want: `E:\cfg\sesame`},
		{name: "windows: nothing set", goos: "windows", env: nil, wantErr: config.ErrNoConfigDir},

		// White label: the name picks the env var and the directory.
		{name: "papermark: PAPERMARK_CONFIG_DIR", goos: "linux", prog: "papermark", env: map[string]string{"HOME": "/home/ann", "PAPERMARK_CONFIG_DIR": "/pm"}, want: "/pm"},
		{name: "papermark: SESAME_CONFIG_DIR is not its variable", goos: "linux", prog: "papermark", env: map[string]string{"HOME": "/home/ann", "SESAME_CONFIG_DIR": "/s"}, want: "/home/ann/.config/papermark"},
		{name: "papermark on macOS", goos: "darwin", prog: "papermark", env: map[string]string{"HOME": "/Users/ann"}, want: "/Users/ann/.config/papermark"},
		{name: "papermark on Windows", goos: "windows", prog: "papermark", env: map[string]string{"APPDATA": `C:\Users\ann\AppData\Roaming`}, want: `C:\Users\ann\AppData\Roaming\papermark`},
		{name: "dashed name: MY_CLI_CONFIG_DIR", goos: "linux", prog: "my-cli", env: map[string]string{"HOME": "/h", "MY_CLI_CONFIG_DIR": "/m"}, want: "/m"},

		// A relative SESAME_CONFIG_DIR would move with the working directory.
		{name: "linux: relative SESAME_CONFIG_DIR refused", goos: "linux", env: map[string]string{"HOME": "/h", "SESAME_CONFIG_DIR": "cfg"}, wantErr: config.ErrRelativeConfigDir},
		{name: "windows: relative SESAME_CONFIG_DIR refused", goos: "windows", env: map[string]string{"APPDATA": `C:\r`, "SESAME_CONFIG_DIR": `cfg\x`}, wantErr: config.ErrRelativeConfigDir},

		// What the platform knows (adrg/xdg for the host) when the env is silent.
		{name: "linux: no HOME, the home directory from xdg", goos: "linux", base: config.Base{Home: "/home/pw"}, want: "/home/pw/.config/sesame"},
		{name: "linux: HOME wins over the base", goos: "linux", env: map[string]string{"HOME": "/home/ann"}, base: config.Base{Home: "/home/pw"}, want: "/home/ann/.config/sesame"},
		{name: "darwin: no HOME, ~/.config of xdg's home", goos: "darwin", base: config.Base{Home: "/Users/pw"}, want: "/Users/pw/.config/sesame"},
		{name: "windows: no APPDATA, xdg's roaming folder", goos: "windows", env: map[string]string{"USERPROFILE": `C:\Users\ann`}, base: config.Base{RoamingAppData: `C:\Users\ann\AppData\Roaming`}, want: `C:\Users\ann\AppData\Roaming\sesame`},
		{name: "windows: APPDATA wins over the base", goos: "windows", env: map[string]string{"APPDATA": `D:\roam`}, base: config.Base{RoamingAppData: `C:\x`}, want: `D:\roam\sesame`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog := tt.prog
			if prog == "" {
				prog = "sesame"
			}
			got, err := config.Dir(tt.goos, prog, func(k string) string { return tt.env[k] }, tt.base)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Dir() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Dir(%q, %q) (-want +got):\n%s", tt.goos, prog, diff)
			}
		})
	}
}
