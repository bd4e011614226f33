package devissuer

import (
	"errors"
	"net/http"
	"testing"
)

func TestCloseAPI(t *testing.T) {
	s := New(Options{})
	if err := s.CloseAPI(); !errors.Is(err, ErrAPINotRunning) {
		t.Fatalf("CloseAPI before Start = %v, want ErrAPINotRunning", err)
	}
	if err := s.Start("", ""); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CloseAPI(); err != nil {
		t.Fatalf("CloseAPI: %v", err)
	}
	if _, err := http.Get(s.APIURL() + "/v1/me"); err == nil {
		t.Errorf("the API still answers after CloseAPI")
	}
	resp, err := http.Get(s.IssuerURL() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("the issuer stopped with the API: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("discovery status = %d, want 200", resp.StatusCode)
	}
	if err := s.CloseAPI(); !errors.Is(err, ErrAPINotRunning) {
		t.Errorf("second CloseAPI = %v, want ErrAPINotRunning", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after CloseAPI: %v", err)
	}
}
