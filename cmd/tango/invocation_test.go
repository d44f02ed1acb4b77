package main

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInvocation: the commands the demo prints run in the shell it was
// started from: never a bare "tango" the PATH does not know.
func TestInvocation(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "tango")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other-tango")
	if err := os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(dir, "clone")
	if err := os.MkdirAll(filepath.Join(repo, "cmd", "tango"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "cmd", "tango", "main.go"), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notFound := func(string) (string, error) { return "", errors.New("not found") }
	onPath := func(p string) func(string) (string, error) {
		return func(string) (string, error) { return p, nil }
	}
	const mod = "github.com/tango-iga/tango/cmd/tango"
	spaced := filepath.Join(dir, "my tools", "tango")
	for _, c := range []struct {
		name, arg0, exe, cwd string
		look                 func(string) (string, error)
		want                 string
	}{
		{"go run (go-build temp dir) from the module root", "/tmp/go-build3236892603/b001/exe/tango", "/tmp/go-build3236892603/b001/exe/tango", repo, notFound, "go run ./cmd/tango"},
		{"go run (build cache) from the module root", "/root/.cache/go-build/eb/" + strings.Repeat("e", 64) + "-d/tango", "/root/.cache/go-build/eb/" + strings.Repeat("e", 64) + "-d/tango", repo, notFound, "go run ./cmd/tango"},
		{"go run with a custom GOCACHE", "/var/cache/gc/eb/" + strings.Repeat("0a", 32) + "-d/tango", "/var/cache/gc/eb/" + strings.Repeat("0a", 32) + "-d/tango", repo, notFound, "go run ./cmd/tango"},
		{"go run from elsewhere in the module", "/tmp/go-build1/b001/exe/tango", "/tmp/go-build1/b001/exe/tango", dir, notFound, "go run " + mod},
		{"bin/tango", "bin/tango", bin, dir, notFound, bin},
		{"tango on the PATH", "tango", bin, dir, onPath(bin), "tango"},
		{"a tango on the PATH that is another program", "tango", bin, dir, onPath(other), bin},
		{"a name the PATH does not know", "tango", bin, dir, notFound, bin},
		{"a path that needs quoting", spaced, spaced, dir, notFound, "'" + spaced + "'"},
	} {
		if got := invocation(c.arg0, c.exe, c.cwd, mod, c.look); got != c.want {
			t.Errorf("%s: invocation(%q, %q) = %q, want %q", c.name, c.arg0, c.exe, got, c.want)
		}
	}
}

// TestDemoPrintsRunnableCommands: the printed commands start with how this
// program was run (not a bare "tango"), and name the snapshot so that it
// can be found.
func TestDemoPrintsRunnableCommands(t *testing.T) {
	var b strings.Builder
	printDemo(&b, demoInfo{Dir: "/tmp/d", DSN: "sqlite:/tmp/d/tango.db", Config: "/tmp/d/tango.yaml", URL: "http://127.0.0.1:1/", Token: "tok", CLI: "go run ./cmd/tango"})
	var cmds int
	for _, line := range strings.Split(b.String(), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "tango ") {
			t.Errorf("a printed command starts with a bare tango: %s", line)
		}
		if strings.HasPrefix(line, "go run ./cmd/tango --db sqlite:/tmp/d/tango.db --config /tmp/d/tango.yaml ") {
			cmds++
		}
	}
	if cmds != 3 {
		t.Errorf("%d commands start with the invocation, want 3:\n%s", cmds, b.String())
	}
	// The test runs in cmd/tango, where testdata/cert-r5.2-ldap is not.
	if !strings.Contains(b.String(), "from the root of a clone of the repository") {
		t.Errorf("the snapshot's path is relative to the repository root, and the output does not say so:\n%s", b.String())
	}
}

// TestDemoPrintsSignInOnlyWithAnAdmin: the local sign-ins name each
// persona, person and password when the demo set them, and are left out
// when not (a reused database without those persons).
func TestDemoPrintsSignInOnlyWithAnAdmin(t *testing.T) {
	var with, without strings.Builder
	d := demoInfo{Dir: "/tmp/d", DSN: "sqlite:/tmp/d/tango.db", Config: "/tmp/d/tango.yaml", URL: "http://127.0.0.1:1/", Token: "tok"}
	printDemo(&without, d)
	d.SignIns = []demoSignIn{{"admin", "WFV0687", "William Fulton Vega", "pw-123"}, {"employee", "SNC0218", "Shelby Noelle Cunningham", "pw-456"}}
	printDemo(&with, d)
	for _, want := range []string{"  sign in       http://127.0.0.1:1/login with one of these local accounts", "    admin     WFV0687  password pw-123   William Fulton Vega\n", "    employee  SNC0218  password pw-456"} {
		if !strings.Contains(with.String(), want) {
			t.Errorf("no %q in:\n%s", want, with.String())
		}
	}
	if strings.Contains(without.String(), "sign in") || strings.Contains(without.String(), "%!") {
		t.Errorf("a sign-in line (or a format error) without an admin:\n%s", without.String())
	}
}

// TestDemoBindFailureCleansUp: a demo that cannot bind its address exits 1
// and leaves no temporary directory behind; a --dir the user gave stays.
func TestDemoBindFailureCleansUp(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)

	r := start(t, "demo", "--addr", busy.Addr().String())
	select {
	case <-r.done:
	case <-time.After(60 * time.Second):
		t.Fatal("the demo did not give up on a busy address")
	}
	if r.err == nil || !strings.Contains(r.err.Error(), "address already in use") {
		t.Fatalf("demo on a busy address returned %v, want address already in use", r.err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
		t.Errorf("the failed demo left %v behind in $TMPDIR", left)
	}

	mine := filepath.Join(t.TempDir(), "keep")
	if err := os.MkdirAll(mine, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = start(t, "demo", "--dir", mine, "--addr", busy.Addr().String())
	select {
	case <-r.done:
	case <-time.After(60 * time.Second):
		t.Fatal("the demo did not give up on a busy address")
	}
	if r.err == nil {
		t.Fatal("demo --dir on a busy address succeeded")
	}
	if _, err := os.Stat(filepath.Join(mine, "notes.txt")); err != nil {
		t.Errorf("the failed demo removed the --dir the user gave: %v", err)
	}
}
