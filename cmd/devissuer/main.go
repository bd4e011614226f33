// Command devissuer runs the sesame development authorization server and a
// sample protected API on loopback addresses, for demos, end-to-end tests
// and CI.
//
//	devissuer --auto-approve 2s --token sesame_test_abc:alice:documents.read --ready-file /tmp/ready
//
// It prints "issuer: URL" and "api: URL" on stdout once listening and serves
// until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sesame-cli/sesame/internal/devissuer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type config struct {
	issuerAddr, apiAddr string
	readyFile           string
	opts                devissuer.Options
}

var errUsage = errors.New("usage")

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("devissuer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.issuerAddr, "issuer-addr", "127.0.0.1:0", "loopback `address` for the authorization server")
	fs.StringVar(&cfg.apiAddr, "api-addr", "127.0.0.1:0", "loopback `address` for the sample API")
	fs.DurationVar(&cfg.opts.AutoApprove, "auto-approve", 0, "approve device codes as user dev this long after issue, and /authorize at once (0: a person approves)")
	fs.DurationVar(&cfg.opts.Interval, "interval", 5*time.Second, "device poll interval announced")
	fs.DurationVar(&cfg.opts.DeviceTTL, "device-ttl", 10*time.Minute, "device code lifetime")
	fs.DurationVar(&cfg.opts.AccessTTL, "access-ttl", time.Hour, "access token lifetime")
	fs.IntVar(&cfg.opts.SlowDown, "slow-down", 0, "answer slow_down to the first `N` device token polls")
	fs.IntVar(&cfg.opts.Fail5xx, "fail-5xx", 0, "answer 500 to the first `N` token requests")
	fs.DurationVar(&cfg.opts.Latency, "latency", 0, "delay added to every response")
	fs.BoolVar(&cfg.opts.NoRotation, "no-rotation", false, "do not rotate refresh tokens")
	fs.BoolVar(&cfg.opts.DisableRegistration, "no-registration", false, "disable dynamic client registration")
	fs.BoolVar(&cfg.opts.NoProtectedResourceMetadata, "no-resource-metadata", false, "do not serve RFC 9728 metadata on the API")
	fs.BoolVar(&cfg.opts.NoDeviceFlow, "no-device", false, "no device authorization endpoint (not advertised, 404, grant refused)")
	fs.BoolVar(&cfg.opts.ExactRedirect, "exact-redirect", false, "compare registered redirect URIs exactly, port included")
	fs.IntVar(&cfg.opts.RefreshBareStatus, "refresh-bare-status", 0, "answer refresh requests with this HTTP `status` and an empty body")
	fs.BoolVar(&cfg.opts.NoMePath, "no-me", false, "the API has no /v1/me (404)")
	fs.BoolVar(&cfg.opts.NoUserinfo, "no-userinfo", false, "no userinfo endpoint")
	fs.BoolVar(&cfg.opts.IDToken, "id-token", false, "issue ES256 ID tokens when openid is granted")
	fs.BoolVar(&cfg.opts.RequireResource, "require-resource", false, "RFC 8707 strict: require the API's resource in every authorization and token request; bind tokens to it")
	fs.StringVar(&cfg.opts.Resource, "resource", "", "RFC 9728 resource `URL` the API publishes (default: the API URL)")
	fs.StringVar(&cfg.opts.ResourceHost, "resource-host", "", "publish the API URL with this `host` as its RFC 9728 resource (e.g. localhost)")
	fs.Func("grant-types-supported", "override grant_types_supported in discovery (`LIST`, comma-separated)", func(v string) error {
		cfg.opts.GrantTypesSupported = splitScopes(v)
		return nil
	})
	fs.StringVar(&cfg.readyFile, "ready-file", "", "write the URLs to `path` once listening")
	fs.Func("token", "static API token `TOKEN:USER:SCOPE1,SCOPE2` (repeatable)", func(v string) error {
		t, err := parseToken(v)
		if err != nil {
			return err
		}
		cfg.opts.Static = append(cfg.opts.Static, t)
		return nil
	})
	fs.Func("client", "confidential client `ID:SECRET:SCOPE1,SCOPE2` (repeatable)", func(v string) error {
		c, err := parseClient(v)
		if err != nil {
			return err
		}
		cfg.opts.Clients = append(cfg.opts.Clients, c)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "devissuer: unexpected argument %q\n", fs.Arg(0))
		return nil, errUsage
	}
	for _, a := range []string{cfg.issuerAddr, cfg.apiAddr} {
		if err := devissuer.CheckLoopback(a); err != nil {
			fmt.Fprintf(stderr, "devissuer: %v\n", err)
			return nil, errUsage
		}
	}
	return cfg, nil
}

func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// parseToken parses TOKEN:USER:SCOPE1,SCOPE2.
func parseToken(v string) (devissuer.StaticToken, error) {
	parts := strings.SplitN(v, ":", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return devissuer.StaticToken{}, errors.New("want TOKEN:USER[:SCOPE1,SCOPE2]")
	}
	t := devissuer.StaticToken{Token: parts[0], User: parts[1]}
	if len(parts) == 3 {
		t.Scopes = splitScopes(parts[2])
	}
	return t, nil
}

// parseClient parses ID:SECRET:SCOPE1,SCOPE2 into a client with every grant.
func parseClient(v string) (devissuer.Client, error) {
	parts := strings.SplitN(v, ":", 3)
	if len(parts) < 2 || parts[0] == "" {
		return devissuer.Client{}, errors.New("want ID:SECRET[:SCOPE1,SCOPE2]")
	}
	c := devissuer.Client{
		ID:     parts[0],
		Secret: parts[1],
		Name:   parts[0],
		GrantTypes: []string{
			"client_credentials",
			"urn:ietf:params:oauth:grant-type:device_code",
			"authorization_code",
			"refresh_token",
		},
	}
	if len(parts) == 3 {
		c.Scopes = splitScopes(parts[2])
	}
	return c, nil
}

// writeReady writes the URLs to path atomically (temp file and rename).
func writeReady(path, issuer, api string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".devissuer-ready-*")
	if err != nil {
		return fmt.Errorf("ready file: %w", err)
	}
	tmp := f.Name()
	_, err = fmt.Fprintf(f, "issuer=%s\napi=%s\n", issuer, api)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("ready file: %w", err)
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	s := devissuer.New(cfg.opts)
	if err := s.Start(cfg.issuerAddr, cfg.apiAddr); err != nil {
		fmt.Fprintf(stderr, "devissuer: %v\n", err)
		return 1
	}
	if cfg.readyFile != "" {
		if err := writeReady(cfg.readyFile, s.IssuerURL(), s.APIURL()); err != nil {
			fmt.Fprintf(stderr, "devissuer: %v\n", err)
			s.Close()
			return 1
		}
	}
	fmt.Fprintf(stdout, "issuer: %s\napi: %s\n", s.IssuerURL(), s.APIURL())
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(shutdownCtx); err != nil {
		s.Close()
	}
	return 0
}
