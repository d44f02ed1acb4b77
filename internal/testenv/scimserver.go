package testenv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SCIMMaxPageSize is the largest page the test SCIM server returns for a
// list request, whatever count the client asks for, so that clients page.
const SCIMMaxPageSize = 10

// SCIMServer is a running independent SCIM 2.0 server
// (testdata/scim-server: the npm packages scimmy and scimmy-routers under
// express) started for one test. It holds Users (core schema and the
// enterprise extension) and Groups in memory; Stop saves them to a file in
// the test's temporary directory and Start loads them again.
type SCIMServer struct {
	// URL is the SCIM base URL, http://127.0.0.1:PORT/scim/v2.
	URL string
	// Token is the bearer token every request must present.
	Token string
	// Port is the loopback port; Start after Stop reuses it.
	Port int
	// DataFile is where Stop saves the data and Start loads it from.
	DataFile string

	script   string
	pageSize int
	mu       sync.Mutex
	proc     *scimProcess
}

type scimProcess struct {
	cmd    *exec.Cmd
	exited chan error // receives cmd.Wait's result once
	logs   *lockedBuffer
}

// StartSCIMServer starts the test SCIM server (node
// testdata/scim-server/server.js) on a free loopback port with a random
// token and returns once it answers. The server is killed when the test
// ends. Without node or the server's node_modules (scripts/test-deps.sh
// installs both) the test is skipped, or fails under CI=true.
func StartSCIMServer(t testing.TB) *SCIMServer {
	t.Helper()
	return StartSCIMServerWith(t, SCIMServerOptions{})
}

// SCIMServerOptions tune StartSCIMServerWith.
type SCIMServerOptions struct {
	// MaxPageSize is the largest page a list request returns; 0:
	// SCIMMaxPageSize.
	MaxPageSize int
	// Data, when set, is written to DataFile before the server starts, so
	// that it starts with these users and groups
	// ({"users": [...], "groups": [...]}, stored SCIM resources).
	Data []byte
}

// StartSCIMServerWith is StartSCIMServer with options.
func StartSCIMServerWith(t testing.TB, o SCIMServerOptions) *SCIMServer {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	dir := filepath.Join(root, "testdata", "scim-server")
	if _, err := exec.LookPath("node"); err != nil {
		Missing(t, "node (Node.js)", "run scripts/test-deps.sh")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "scimmy-routers")); err != nil {
		Missing(t, "testdata/scim-server/node_modules", "run scripts/test-deps.sh (npm ci in testdata/scim-server)")
	}
	s := &SCIMServer{
		Token:    randomHex(t, 16),
		DataFile: filepath.Join(t.TempDir(), "scim-data.json"),
		script:   filepath.Join(dir, "server.js"),
		pageSize: o.MaxPageSize,
	}
	if s.pageSize <= 0 {
		s.pageSize = SCIMMaxPageSize
	}
	if o.Data != nil {
		if err := os.WriteFile(s.DataFile, o.Data, 0o600); err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}
	t.Cleanup(func() {
		s.mu.Lock()
		p := s.proc
		s.proc = nil
		s.mu.Unlock()
		if p != nil {
			p.kill()
			if t.Failed() && testing.Verbose() {
				t.Logf("scim server output:\n%s", p.logs.String())
			}
		}
	})
	// A free port can be taken by someone else between choosing it and the
	// server binding it: try a few times.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		s.Port = freePorts(t, 1)[0]
		s.URL = fmt.Sprintf("http://127.0.0.1:%d/scim/v2", s.Port)
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	t.Fatalf("testenv: start SCIM server: %v", lastErr)
	return nil
}

// Stop stops the server gracefully (it saves its data to DataFile first).
// Requests fail with "connection refused" until Start.
func (s *SCIMServer) Stop(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		t.Fatal("testenv: SCIM server is not running")
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("testenv: SCIM server stopped with %v: %s", err, p.logs.String())
		}
	case <-time.After(10 * time.Second):
		p.kill()
		t.Fatalf("testenv: SCIM server did not stop within 10s: %s", p.logs.String())
	}
}

// Start starts the stopped server again on the same port, with the data it
// had when stopped.
func (s *SCIMServer) Start(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	running := s.proc != nil
	s.mu.Unlock()
	if running {
		t.Fatal("testenv: SCIM server is already running")
	}
	// The port was just released; give the kernel a few tries.
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = s.start(); err == nil {
			return
		}
	}
	t.Fatalf("testenv: restart SCIM server: %v", err)
}

// Fail makes the next times SCIM requests fail with the HTTP status (429,
// 503, ...), with a Retry-After header of retryAfter seconds when it is
// positive. Requests without the right token are not counted.
func (s *SCIMServer) Fail(t testing.TB, status, retryAfter, times int) {
	t.Helper()
	body, _ := json.Marshal(map[string]int{"status": status, "retryAfter": retryAfter, "times": times})
	s.control(t, http.MethodPost, "fail", body, nil)
}

// SCIMStats are the server's counters.
type SCIMStats struct {
	// Requests counts the requests under /scim/v2, including failed ones.
	Requests int `json:"requests"`
	// Failed counts the requests failed on purpose (Fail).
	Failed int `json:"failed"`
	Users  int `json:"users"`
	Groups int `json:"groups"`
}

// Stats returns the server's counters since it (re)started or was reset.
func (s *SCIMServer) Stats(t testing.TB) SCIMStats {
	t.Helper()
	var st SCIMStats
	s.control(t, http.MethodGet, "stats", nil, &st)
	return st
}

// Reset forgets all users, groups, armed failures and counters.
func (s *SCIMServer) Reset(t testing.TB) {
	t.Helper()
	s.control(t, http.MethodPost, "reset", nil, nil)
}

func (s *SCIMServer) controlURL(name string) string {
	return fmt.Sprintf("http://127.0.0.1:%d/__control/%s", s.Port, name)
}

func (s *SCIMServer) control(t testing.TB, method, name string, body []byte, out any) {
	t.Helper()
	req, err := http.NewRequest(method, s.controlURL(name), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("testenv: SCIM server control %s: %v", name, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("testenv: SCIM server control %s: %s: %s", name, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("testenv: SCIM server control %s: %v", name, err)
		}
	}
}

// start runs the server on s.Port and waits until its health endpoint
// answers, it exits, or 20 s pass.
func (s *SCIMServer) start() error {
	logs := &lockedBuffer{}
	cmd := exec.Command("node", s.script, strconv.Itoa(s.Port))
	cmd.Dir = filepath.Dir(s.script)
	cmd.Env = append(os.Environ(),
		"SCIM_TOKEN="+s.Token,
		"SCIM_MAX_PAGE_SIZE="+strconv.Itoa(s.pageSize),
		"SCIM_DATA_FILE="+s.DataFile,
	)
	cmd.Stdout = logs
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &scimProcess{cmd: cmd, exited: make(chan error, 1), logs: logs}
	go func() { p.exited <- cmd.Wait() }()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get(s.controlURL("health"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(logs.String(), fmt.Sprintf("listening %d", s.Port)) {
				break
			}
			err = errors.New(resp.Status)
		}
		select {
		case werr := <-p.exited:
			return fmt.Errorf("SCIM server exited (%v): %s", werr, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.kill()
			return fmt.Errorf("SCIM server not ready after 20s: %v: %s", err, logs.String())
		}
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// kill kills the process (if it still runs) and waits for it.
func (p *scimProcess) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.exited <- nil // for anyone else waiting
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
