package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// nodeServer is a test server written in Node.js (testdata/*/server.js)
// with an HTTP control endpoint: the SCIM and SMTP servers.
type nodeServer struct {
	what   string // "SCIM server", for messages
	script string
	mu     sync.Mutex
	proc   *nodeProcess
}

type nodeProcess struct {
	cmd    *exec.Cmd
	exited chan error // receives cmd.Wait's result once
	logs   *lockedBuffer
}

// findNodeServer locates testdata/<dir>/server.js and checks that node
// and the package the server needs (installed by scripts/test-deps.sh)
// are there: the test is skipped without them, or fails under CI=true.
func findNodeServer(t testing.TB, dir, pkg string) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	full := filepath.Join(root, "testdata", dir)
	if _, err := exec.LookPath("node"); err != nil {
		Missing(t, "node (Node.js)", "run scripts/test-deps.sh")
	}
	if _, err := os.Stat(filepath.Join(full, "node_modules", pkg)); err != nil {
		Missing(t, "testdata/"+dir+"/node_modules", "run scripts/test-deps.sh (npm ci in testdata/"+dir+")")
	}
	return filepath.Join(full, "server.js")
}

// cleanup kills the server when the test ends, showing its output when
// the test failed and runs verbosely.
func (s *nodeServer) cleanup(t testing.TB) {
	t.Cleanup(func() {
		s.mu.Lock()
		p := s.proc
		s.proc = nil
		s.mu.Unlock()
		if p != nil {
			p.kill()
			if t.Failed() && testing.Verbose() {
				t.Logf("%s output:\n%s", s.what, p.logs.String())
			}
		}
	})
}

// run starts node with args and env and waits until its output contains
// ready (and probe, when given, holds), it exits, or 20 s pass.
func (s *nodeServer) run(args, env []string, ready string, probe func() bool) error {
	logs := &lockedBuffer{}
	cmd := exec.Command("node", append([]string{s.script}, args...)...)
	cmd.Dir = filepath.Dir(s.script)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &nodeProcess{cmd: cmd, exited: make(chan error, 1), logs: logs}
	go func() { p.exited <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), ready) || (probe != nil && !probe()) {
		select {
		case werr := <-p.exited:
			return fmt.Errorf("%s exited (%v): %s", s.what, werr, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.kill()
			return fmt.Errorf("%s not ready after 20s: %s", s.what, logs.String())
		}
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// retry calls start up to five times: a free port can be taken by someone
// else between choosing it and the server binding it, and a port just
// released may not be free again at once.
func (s *nodeServer) retry(t testing.TB, verb string, start func() error) {
	t.Helper()
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = start(); err == nil {
			return
		}
	}
	t.Fatalf("testenv: %s %s: %v", verb, s.what, err)
}

// stop sends SIGTERM and waits up to 10 s; the server's exit status is
// returned (the SCIM server saves its data on the way out).
func (s *nodeServer) stop(t testing.TB) error {
	t.Helper()
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		t.Fatalf("testenv: %s is not running", s.what)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			return fmt.Errorf("%w: %s", err, p.logs.String())
		}
		return nil
	case <-time.After(10 * time.Second):
		p.kill()
		t.Fatalf("testenv: %s did not stop within 10s: %s", s.what, p.logs.String())
		return nil
	}
}

func (s *nodeServer) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil
}

// control calls one of the server's control endpoints with its token and
// decodes the JSON answer into out (when not nil).
func (s *nodeServer) control(t testing.TB, token, method, url string, body []byte, out any) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("testenv: %s control %s: %v", s.what, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("testenv: %s control %s: %s: %s", s.what, url, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("testenv: %s control %s: %v", s.what, url, err)
		}
	}
}

// kill kills the process (if it still runs) and waits for it.
func (p *nodeProcess) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.exited <- nil // for anyone else waiting
}
