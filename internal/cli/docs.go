package cli

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// NewRootCommand returns the command tree of a program called name, with
// its help and completion commands, for generating documentation (man
// pages, completions) outside a run. The App
// behind it reads no environment, has no terminal and no keyring, and
// discards its output: the tree is meant to be described, not executed.
func NewRootCommand(name string) *cobra.Command {
	a := &App{
		Name:    name,
		Stdin:   strings.NewReader(""),
		Stdout:  io.Discard,
		Stderr:  io.Discard,
		Getenv:  func(string) string { return "" },
		GOOS:    runtime.GOOS,
		Now:     time.Now,
		Keyring: noKeyring{},
	}
	root := a.newRootCmd()
	// cobra adds these when it executes; documentation wants them too.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	disableAutoGenTag(root)
	return root
}

// disableAutoGenTag keeps generated docs free of a generation date, so that
// they only change when the commands do.
func disableAutoGenTag(c *cobra.Command) {
	c.DisableAutoGenTag = true
	for _, sub := range c.Commands() {
		disableAutoGenTag(sub)
	}
}

// errNoKeyring is returned by the keyring of a documentation-only App.
var errNoKeyring = errors.New("no keyring in a documentation build")

type noKeyring struct{}

func (noKeyring) Get(string, string) (string, error) { return "", errNoKeyring }
func (noKeyring) Set(string, string, string) error   { return errNoKeyring }
func (noKeyring) Delete(string, string) error        { return errNoKeyring }
