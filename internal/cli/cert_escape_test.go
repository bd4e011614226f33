package cli_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A certificate whose DNS names hold terminal escapes (ESC ] 0 ; … BEL,
// ESC [ 2 J): Go quotes them raw in "x509: certificate is valid for …",
// and that text must not reach the terminal as it is (issue 14, case 3).
func TestCertificateNamesNeverReachTheTerminal(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	evil := []string{"evil\x1b]0;pwned\x07.test", "x\x1b[2J.test"}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "evil"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: evil, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Skip("cannot create such a certificate:", err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	api := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	for _, args := range [][]string{{"whoami"}, {"api", "/v1/me"}, {"doctor"}, {"login", "--no-browser"}} {
		app, stderr := testApp(t, map[string]string{
			"SESAME_TOKEN": "sesame_live_cert", "SESAME_API_URL": api, "SSL_CERT_FILE": ca,
			"HOME": t.TempDir(), "SESAME_STORAGE": "file", "SESAME_HTTP_TIMEOUT": "5s",
		})
		if args[0] == "login" {
			app.Getenv = func(k string) string {
				return map[string]string{"SESAME_API_URL": api, "SSL_CERT_FILE": ca, "HOME": t.TempDir(), "SESAME_STORAGE": "file"}[k]
			}
		}
		var stdout strings.Builder
		app.Stdout = &stdout
		code := app.Run(context.Background(), args)
		out := stderr.String() + stdout.String()
		if code == 0 {
			t.Errorf("%v: exit 0 against an untrusted name", args)
		}
		if strings.ContainsAny(out, "\x1b\x07\u202e") {
			t.Errorf("%v printed a terminal escape or bidi control: %q", args, out)
		}
		if !strings.Contains(out, "certificate") {
			t.Errorf("%v: the error does not say what failed: %q", args, out)
		}
	}
}
