//go:build unix

package credentials

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A credentials file that is a named pipe nobody writes to never hangs.
func TestReadCredentialsFileFIFONoWriter(t *testing.T) {
	p := filepath.Join(t.TempDir(), "creds")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	start := time.Now()
	_, _, err := ReadCredentialsFile(p, "linux", nil)
	if err == nil {
		t.Fatal("an empty pipe gave a token")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}
