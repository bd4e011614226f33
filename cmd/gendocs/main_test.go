package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantPage string // a page that must exist
		wantTH   string // its .TH line
	}{
		{
			name:     "sesame",
			args:     []string{"-version", "1.2.3", "-date", "2026-01-02"},
			wantPage: "sesame-version.1",
			wantTH:   `.TH "SESAME-VERSION" "1" "Jan 2026" "sesame 1.2.3" "sesame manual"`,
		},
		{
			name:     "white label, RFC 3339 date",
			args:     []string{"-name", "papermark", "-version", "2.0.0", "-date", "2026-03-04T05:06:07Z"},
			wantPage: "papermark-auth-token.1",
			wantTH:   `.TH "PAPERMARK-AUTH-TOKEN" "1" "Mar 2026" "papermark 2.0.0" "papermark manual"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "man")
			if err := run(append(tt.args, "-out", dir), io.Discard); err != nil {
				t.Fatal(err)
			}
			page, err := os.ReadFile(filepath.Join(dir, tt.wantPage))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(page), tt.wantTH+"\n") {
				t.Errorf("%s does not have the header %s:\n%s", tt.wantPage, tt.wantTH, page)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			prefix := strings.SplitN(tt.wantPage, "-", 2)[0]
			for _, e := range entries {
				if !strings.HasPrefix(e.Name(), prefix) || !strings.HasSuffix(e.Name(), ".1") {
					t.Errorf("unexpected page %s", e.Name())
				}
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(string(b), "Auto generated") {
					t.Errorf("%s has a generation stamp: pages must only change with the commands", e.Name())
				}
			}
			if len(entries) < 5 {
				t.Errorf("only %d pages: %v", len(entries), entries)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad date", []string{"-date", "yesterday"}, `bad -date "yesterday"`},
		{"stray argument", []string{"man"}, "unexpected arguments"},
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(append(tt.args, "-out", t.TempDir()), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}
