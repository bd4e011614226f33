package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/sesame-cli/sesame/internal/devissuer"
)

func TestParseToken(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    devissuer.StaticToken
		wantErr bool
	}{
		{in: "sesame_live_abc:alice:documents.read,documents.write", want: devissuer.StaticToken{Token: "sesame_live_abc", User: "alice", Scopes: []string{"documents.read", "documents.write"}}},
		{in: "tok:bob", want: devissuer.StaticToken{Token: "tok", User: "bob"}},
		{in: "tok:bob:", want: devissuer.StaticToken{Token: "tok", User: "bob", Scopes: []string{}}},
		{in: "tok", wantErr: true},
		{in: ":bob:x", wantErr: true},
	} {
		got, err := parseToken(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseToken(%q) error %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got, cmpEmpty()); diff != "" && !tc.wantErr {
			t.Errorf("parseToken(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func cmpEmpty() cmp.Option {
	return cmp.FilterValues(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())
}

func TestParseClient(t *testing.T) {
	got, err := parseClient("ci:s3cret:documents.read")
	if err != nil {
		t.Fatal(err)
	}
	want := devissuer.Client{
		ID: "ci", Secret: "s3cret", Name: "ci", Scopes: []string{"documents.read"},
		GrantTypes: []string{"client_credentials", "urn:ietf:params:oauth:grant-type:device_code", "authorization_code", "refresh_token"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := parseClient("ci"); err == nil {
		t.Errorf("parseClient without secret: no error")
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--issuer-addr", "0.0.0.0:0"},
		{"--api-addr", ":8080"},
		{"--token", "novalue"},
		{"--nope"},
		{"extra"},
	} {
		var stderr strings.Builder
		if code := run(t.Context(), args, io.Discard, &stderr); code != 2 {
			t.Errorf("run(%q) = %d, want 2; stderr %s", args, code, stderr.String())
		}
	}
}

func TestRun(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		code := run(ctx, []string{"--token", "sesame_test_abc:alice:documents.read", "--ready-file", ready}, pw, io.Discard)
		pw.Close()
		done <- code
	}()
	sc := bufio.NewScanner(pr)
	var lines []string
	for len(lines) < 2 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "issuer: http://127.0.0.1:") || !strings.HasPrefix(lines[1], "api: http://127.0.0.1:") {
		t.Fatalf("stdout %q", lines)
	}
	issuer, api := strings.TrimPrefix(lines[0], "issuer: "), strings.TrimPrefix(lines[1], "api: ")

	b, err := os.ReadFile(ready)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "issuer="+issuer+"\napi="+api+"\n"; got != want {
		t.Errorf("ready file %q, want %q", got, want)
	}
	req, _ := http.NewRequest(http.MethodGet, api+"/v1/documents", nil)
	req.Header.Set("Authorization", "Bearer sesame_test_abc")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("API: %d", resp.StatusCode)
	}
	go io.Copy(io.Discard, pr)
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func TestParseFlagsIssue13Knobs(t *testing.T) {
	cfg, err := parseFlags([]string{
		"--no-device", "--exact-redirect", "--refresh-bare-status", "400", "--no-me", "--no-userinfo", "--id-token",
		"--require-resource", "--resource-host", "localhost", "--resource", "http://localhost:1/mcp",
		"--grant-types-supported", "authorization_code,client_credentials",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := devissuer.Options{
		Interval: 5 * time.Second, DeviceTTL: 10 * time.Minute, AccessTTL: time.Hour,
		NoDeviceFlow: true, ExactRedirect: true, RefreshBareStatus: 400, NoMePath: true, NoUserinfo: true, IDToken: true,
		RequireResource: true, ResourceHost: "localhost", Resource: "http://localhost:1/mcp",
		GrantTypesSupported: []string{"authorization_code", "client_credentials"},
	}
	if diff := cmp.Diff(want, cfg.opts, cmpopts.IgnoreFields(devissuer.Options{}, "Now")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
