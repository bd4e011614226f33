package cli

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/mdp/qrterminal/v3"
	"github.com/pkg/browser"
	"rsc.io/qr"
)

// openBrowser opens url: always through $BROWSER when it is set (the
// program gets the URL as its last argument), otherwise with the desktop's
// browser when one can be shown. It never fails the login: the URL is
// printed already.
func (a *App) openBrowser(url string) {
	if b := strings.TrimSpace(a.Getenv("BROWSER")); b != "" {
		fields := strings.Fields(b)
		cmd := exec.Command(fields[0], append(fields[1:], url)...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			a.errf("warning: could not start $BROWSER (%s): %v", fields[0], err)
			return
		}
		go func() { _ = cmd.Wait() }()
		return
	}
	if !a.canShowBrowser() {
		return
	}
	browser.Stdout, browser.Stderr = io.Discard, io.Discard
	if err := browser.OpenURL(url); err != nil {
		a.errf("warning: could not open a browser; open the URL yourself")
	}
}

// canOpenBrowser reports whether openBrowser can open a URL: $BROWSER is
// set, or a desktop browser can be shown.
func (a *App) canOpenBrowser() bool {
	return strings.TrimSpace(a.Getenv("BROWSER")) != "" || a.canShowBrowser()
}

// canShowBrowser reports whether a desktop browser can be shown: not in CI,
// not over SSH, and on Linux and BSD only with a display.
func (a *App) canShowBrowser() bool {
	if a.Getenv("CI") != "" || a.Getenv("SSH_CONNECTION") != "" || a.Getenv("SSH_TTY") != "" {
		return false
	}
	switch a.GOOS {
	case "darwin", "windows":
		return true
	}
	return a.Getenv("DISPLAY") != "" || a.Getenv("WAYLAND_DISPLAY") != ""
}

// printQR prints url as a QR code on stderr. A URL too long for any QR code
// (about 2,950 bytes; the library would panic on it) is printed alone with
// a note instead; printQR never panics.
func (a *App) printQR(url string) {
	if _, err := qr.Encode(url, qr.L); err != nil {
		a.errf("%s", url)
		a.errf("the URL is too long for a QR code; open it directly")
		return
	}
	var b bytes.Buffer
	ok := func() (ok bool) {
		defer func() {
			if recover() != nil {
				ok = false
			}
		}()
		qrterminal.GenerateWithConfig(url, qrterminal.Config{
			Level:          qrterminal.L,
			Writer:         &b,
			HalfBlocks:     true,
			BlackChar:      qrterminal.BLACK_BLACK,
			WhiteBlackChar: qrterminal.WHITE_BLACK,
			WhiteChar:      qrterminal.WHITE_WHITE,
			BlackWhiteChar: qrterminal.BLACK_WHITE,
			QuietZone:      1,
		})
		return true
	}()
	if !ok {
		a.errf("%s", url)
		a.errf("the URL could not be shown as a QR code; open it directly")
		return
	}
	_, _ = a.Stderr.Write(b.Bytes())
}

// spinner shows that a wait is going on, on a terminal only.
type spinner struct {
	a       *App
	label   string
	mu      sync.Mutex
	n       int
	active  bool
	done    chan struct{}
	stopped sync.Once
}

var spinFrames = []string{"|", "/", "-", "\\"}

func (a *App) spinner(label string) *spinner {
	s := &spinner{a: a, label: label, done: make(chan struct{})}
	if !a.StderrIsTerminal {
		return s
	}
	s.active = true
	go func() {
		t := time.NewTicker(150 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.draw()
			}
		}
	}()
	return s
}

func (s *spinner) draw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	_, _ = io.WriteString(s.a.Stderr, "\r"+spinFrames[s.n%len(spinFrames)]+" "+s.label+"...")
}

// tick is called after each poll.
func (s *spinner) tick() {}

func (s *spinner) stop() {
	s.stopped.Do(func() {
		close(s.done)
		if s.active {
			s.mu.Lock()
			_, _ = io.WriteString(s.a.Stderr, "\r\033[K")
			s.mu.Unlock()
		}
	})
}
