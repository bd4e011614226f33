package redact

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2")
	for _, f := range []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%d"} {
		if got := fmt.Sprintf(f, s); strings.Contains(got, "hunter2") {
			t.Errorf("%s shows the secret: %s", f, got)
		}
	}
	data, _ := json.Marshal(struct{ S Secret }{s})
	if strings.Contains(string(data), "hunter2") {
		t.Errorf("JSON shows the secret: %s", data)
	}
	if s.Reveal() != "hunter2" {
		t.Error("Reveal")
	}
}

func TestURLAndHeader(t *testing.T) {
	u, _ := url.Parse("https://user:pw@x.example.com/cb?code=abc&state=def&ok=1")
	got := URL(u)
	for _, bad := range []string{"abc", "def", "pw"} {
		if strings.Contains(got, bad) {
			t.Errorf("URL shows %q: %s", bad, got)
		}
	}
	if !strings.Contains(got, "ok=1") {
		t.Errorf("URL lost a harmless parameter: %s", got)
	}
	for in, want := range map[string]string{"Bearer abc": "Bearer ***", "Basic Zm9v": "Basic ***", "weird": "***"} {
		if got := Header("Authorization", in); got != want {
			t.Errorf("Header(%q) = %q", in, got)
		}
	}
	if Header("Accept", "application/json") != "application/json" {
		t.Error("harmless header masked")
	}
}

func TestTransportLogsNoSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session=topsecret")
		w.Write([]byte(`{"access_token":"bodysecret"}`))
	}))
	defer srv.Close()
	var log strings.Builder
	c := &http.Client{Transport: &Transport{Base: http.DefaultTransport, Log: &log}}
	req, _ := http.NewRequest("POST", srv.URL+"/token?code=querysecret", strings.NewReader("refresh_token=formsecret"))
	req.Header.Set("Authorization", "Bearer headersecret")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out := log.String()
	for _, s := range []string{"topsecret", "bodysecret", "querysecret", "formsecret", "headersecret"} {
		if strings.Contains(out, s) {
			t.Errorf("trace shows %s:\n%s", s, out)
		}
	}
	for _, want := range []string{"> POST ", "> Authorization: Bearer ***", "< HTTP/1.1 200 OK", "(request body not shown)"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
}
