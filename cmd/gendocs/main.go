// Command gendocs writes a man page for every command of the CLI:
//
//	go run ./cmd/gendocs -out man [-name sesame] [-version 1.2.3] [-date 2026-01-02]
//
// scripts/manpages.sh runs it (and gzips the pages); goreleaser runs that
// script before a release.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra/doc"

	"github.com/sesame-cli/sesame/internal/buildinfo"
	"github.com/sesame-cli/sesame/internal/cli"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("gendocs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", buildinfo.Name, "program name")
	version := fs.String("version", buildinfo.Version, "version named in the page footers")
	out := fs.String("out", "man", "directory to write the pages to")
	date := fs.String("date", "", "date in the page footers: YYYY-MM-DD or RFC 3339 (default $SOURCE_DATE_EPOCH, else today)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	header := &doc.GenManHeader{
		Section: "1",
		Source:  *name + " " + *version,
		Manual:  *name + " manual",
	}
	if *date != "" {
		t, err := parseDate(*date)
		if err != nil {
			return err
		}
		header.Date = &t
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := doc.GenManTree(cli.NewRootCommand(*name), header, *out); err != nil {
		return fmt.Errorf("writing man pages: %w", err)
	}
	return nil
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad -date %q: want YYYY-MM-DD or RFC 3339", s)
}
