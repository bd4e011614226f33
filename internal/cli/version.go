package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-cli/sesame/internal/buildinfo"
)

type versionOptions struct {
	JSON bool
}

func (a *App) newVersionCmd() *cobra.Command {
	opts := &versionOptions{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Show the version, commit, build date, Go version and platform",
		Args:  a.noArgs,
		// version always works: it skips the root's checks of the
		// environment (a bad <NAME>_STORAGE must not hide the version).
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE:              func(*cobra.Command, []string) error { return a.runVersion(opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func (a *App) runVersion(opts *versionOptions) error {
	info := a.buildInfo()
	if opts.JSON {
		return writeJSON(a.Stdout, info)
	}
	return writeVersion(a.Stdout, info)
}

// buildInfo describes this binary under the App's name.
func (a *App) buildInfo() buildinfo.Info {
	info := buildinfo.Current()
	info.Name = a.Name
	return info
}

// versionString is the root command's Version.
func (a *App) versionString() string { return a.buildInfo().Version }

// versionTemplate makes --version print what `version` prints.
func (a *App) versionTemplate() string {
	var b strings.Builder
	_ = writeVersion(&b, a.buildInfo())
	// The text is a text/template: keep any "{{" in stamped values literal.
	return strings.ReplaceAll(b.String(), "{{", `{{"{{"}}`)
}

func writeVersion(w io.Writer, info buildinfo.Info) error {
	commit := info.Commit
	if commit == "" {
		commit = "unknown"
	} else if info.Modified {
		commit += " (modified)"
	}
	date := info.Date
	if date == "" {
		date = "unknown"
	}
	_, err := fmt.Fprintf(w, "%s version %s\ncommit:   %s\ndate:     %s\ngo:       %s\nplatform: %s/%s\n",
		info.Name, info.Version, commit, date, info.GoVersion, info.OS, info.Arch)
	return err
}
