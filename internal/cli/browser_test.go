package cli

import (
	"bytes"
	"strings"
	"testing"
)

// login --qr: a URL too long for a QR code (the library panicked at about
// 2,950 bytes) prints the URL alone with a note; a short one prints a code.
func TestPrintQRNeverPanics(t *testing.T) {
	for _, tt := range []struct {
		name   string
		n      int
		wantQR bool
	}{
		{"short", 60, true},
		{"near the limit", 2900, true},
		{"just too long", 2960, false},
		{"huge", 1 << 20, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url := "https://accounts.example.com/device?user_code=" + strings.Repeat("x", tt.n)
			var stderr bytes.Buffer
			a := &App{Stderr: &stderr}
			a.printQR(url) // must not panic
			out := stderr.String()
			note := "the URL is too long for a QR code; open it directly\n"
			if tt.wantQR {
				if !strings.Contains(out, "█") && !strings.Contains(out, "▀") && !strings.Contains(out, "▄") {
					t.Errorf("no QR code in %d bytes of output", len(out))
				}
				if strings.Contains(out, note) || strings.Contains(out, url) {
					t.Error("the note or the URL printed for a URL that fits")
				}
				return
			}
			if want := url + "\n" + note; out != want {
				t.Errorf("output = %.120q…, want the URL and the note", out)
			}
		})
	}
}
