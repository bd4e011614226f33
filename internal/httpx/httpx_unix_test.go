//go:build unix

package httpx_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-cli/sesame/internal/httpx"
)

// A FIFO as SSL_CERT_FILE (nobody writes to it) neither hangs NewClient
// nor a request: every request fails with "not a regular file".
func TestCAFileFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "ca.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		c := httpx.NewClient(httpx.Options{Getenv: envOf(map[string]string{"SSL_CERT_FILE": fifo}), Timeout: 5 * time.Second})
		req, _ := http.NewRequest(http.MethodGet, "https://example.com/", nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "SSL_CERT_FILE "+fifo+": not a regular file") {
			t.Errorf("error %v, want \"not a regular file\"", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a FIFO as SSL_CERT_FILE hangs")
	}
}
