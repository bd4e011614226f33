package devissuer

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSecretRecorder(t *testing.T) {
	s := New(Options{Clients: defaultClients(), Interval: time.Second})
	rec := NewSecretRecorder()
	is := httptest.NewServer(rec.Wrap(s.IssuerHandler()))
	defer is.Close()
	as := httptest.NewServer(rec.Wrap(s.APIHandler()))
	defer as.Close()
	s.SetIssuerURL(is.URL)
	s.SetAPIURL(as.URL)

	post := func(path string, form url.Values, basic bool) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, is.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			req.SetBasicAuth(url.QueryEscape(confID), url.QueryEscape(confSec))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		body, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(body, &m)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
		}
		return m
	}

	dc := post("/device/code", url.Values{"client_id": {publicID}, "scope": {"documents.read offline_access"}}, false)
	deviceCode, userCode := dc["device_code"].(string), dc["user_code"].(string)
	if err := s.Approve(userCode, "alice"); err != nil {
		t.Fatal(err)
	}
	tok := post("/token", url.Values{"client_id": {publicID}, "grant_type": {grantDevice}, "device_code": {deviceCode}}, false)
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)

	req, _ := http.NewRequest(http.MethodGet, as.URL+"/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	next := post("/token", url.Values{"client_id": {publicID}, "grant_type": {grantRefresh}, "refresh_token": {refresh}}, false)
	cc := post("/token", url.Values{"grant_type": {grantClientCreds}}, true)

	got := rec.IssuedSecrets()
	for name, want := range map[string]string{
		"device code": deviceCode, "access token": access, "refresh token": refresh,
		"rotated access token": next["access_token"].(string), "rotated refresh token": next["refresh_token"].(string),
		"client secret": confSec, "client-credentials token": cc["access_token"].(string),
	} {
		if !slices.Contains(got, want) {
			t.Errorf("the %s was not recorded", name)
		}
	}
	if slices.Contains(got, userCode) {
		t.Error("the user code was recorded as a secret")
	}
	if !slices.IsSorted(got) {
		t.Error("IssuedSecrets is not sorted")
	}
	kinds := rec.Kinds()
	for secret, want := range map[string]string{deviceCode: "device_code", access: "access_token", refresh: "refresh_token", confSec: "client_secret"} {
		if kinds[secret] != want {
			t.Errorf("kind %q, want %q", kinds[secret], want)
		}
	}
}

func TestSecretRecorderAuthorizationCode(t *testing.T) {
	rec := NewSecretRecorder()
	h := rec.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/authorize" {
			http.Redirect(w, r, "http://127.0.0.1:5/callback?code=the-code&state=s", http.StatusFound)
			return
		}
		_ = r.ParseForm()
		writeJSON(w, http.StatusOK, map[string]string{"access_token": "at-" + r.PostForm.Get("code"), "id_token": "idt"})
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(srv.URL + "/authorize")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.PostForm(srv.URL+"/token", url.Values{"code": {"the-code"}, "code_verifier": {"the-verifier"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := []string{"at-the-code", "idt", "the-code", "the-verifier"}
	if got := rec.IssuedSecrets(); !slices.Equal(got, want) {
		t.Errorf("IssuedSecrets = %q, want %q", got, want)
	}
}
