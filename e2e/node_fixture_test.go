package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The Node peers (the MCP SDK's example server, panva's oidc-provider) are
// npm packages pinned by e2e/<name>/package-lock.json and installed by
// scripts/node-peers-install.sh into ${SESAME_CACHE:-$HOME/.cache/sesame-e2e}/<name>
// (or set <NAME>_DIR, e.g. MCP_DIR). Without them their tests skip, unless
// E2E_REQUIRE_NODE=1 (CI), where they fail.

func nodePeerDir(t *testing.T, name, envVar string) string {
	t.Helper()
	dir := os.Getenv(envVar)
	if dir == "" {
		cache := os.Getenv("SESAME_CACHE")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache", "sesame-e2e")
		}
		dir = filepath.Join(cache, name)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		msg := fmt.Sprintf("no %s/node_modules: run scripts/node-peers-install.sh %s (or set %s)", dir, name, envVar)
		if os.Getenv("E2E_REQUIRE_NODE") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node in PATH")
	}
	return dir
}

// nodeProc is a Node server started for one test.
type nodeProc struct {
	cmd    *exec.Cmd
	log    string
	exited chan error
}

// startNode runs node with args in dir, its output in a log file, and waits
// until every ready URL answers 200. It is killed when the test ends.
func startNode(t *testing.T, dir string, env, ready []string, args ...string) *nodeProc {
	t.Helper()
	p := &nodeProc{log: filepath.Join(t.TempDir(), "node.log"), exited: make(chan error, 1)}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command("node", args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	go func() { p.exited <- p.cmd.Wait(); logf.Close() }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			out, _ := os.ReadFile(p.log)
			t.Logf("%s output:\n%s", filepath.Base(args[len(args)-1]), tail(out, 40))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for len(ready) > 0 {
		resp, err := http.Get(ready[0])
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ready = ready[1:]
				continue
			}
		}
		select {
		case err := <-p.exited:
			p.exited <- err
			out, _ := os.ReadFile(p.log)
			t.Fatalf("node %v exited while starting (%v):\n%s", args, err, tail(out, 40))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %v did not answer %s within 60 s", args, ready[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p
}

// stop kills the server and waits for it (idempotent).
func (p *nodeProc) stop() {
	_ = p.cmd.Process.Kill()
	err := <-p.exited
	p.exited <- err
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}
