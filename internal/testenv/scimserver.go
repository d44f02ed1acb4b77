package testenv

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
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

	node     nodeServer
	pageSize int
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
	s := &SCIMServer{
		Token:    randomHex(t, 16),
		DataFile: filepath.Join(t.TempDir(), "scim-data.json"),
		node:     nodeServer{what: "SCIM server", script: findNodeServer(t, "scim-server", "scimmy-routers")},
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
	s.node.cleanup(t)
	s.node.retry(t, "start", func() error {
		s.Port = freePorts(t, 1)[0]
		s.URL = fmt.Sprintf("http://127.0.0.1:%d/scim/v2", s.Port)
		return s.start()
	})
	return s
}

// Stop stops the server gracefully (it saves its data to DataFile first).
// Requests fail with "connection refused" until Start.
func (s *SCIMServer) Stop(t testing.TB) {
	t.Helper()
	if err := s.node.stop(t); err != nil {
		t.Fatalf("testenv: SCIM server stopped with %v", err)
	}
}

// Start starts the stopped server again on the same port, with the data it
// had when stopped.
func (s *SCIMServer) Start(t testing.TB) {
	t.Helper()
	if s.node.running() {
		t.Fatal("testenv: SCIM server is already running")
	}
	s.node.retry(t, "restart", s.start)
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

// SessionRevocations returns how many times each user's sessions were
// revoked (POST /scim/v2/Users/{id}/revokeSessions, the server's
// proprietary endpoint), by user id.
func (s *SCIMServer) SessionRevocations(t testing.TB) map[string]int {
	t.Helper()
	out := map[string]int{}
	s.control(t, http.MethodGet, "sessions", nil, &out)
	return out
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
	s.node.control(t, s.Token, method, s.controlURL(name), body, out)
}

// start runs the server on s.Port and waits until it says it listens and
// its health endpoint answers.
func (s *SCIMServer) start() error {
	client := &http.Client{Timeout: time.Second}
	healthy := func() bool {
		resp, err := client.Get(s.controlURL("health"))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	return s.node.run([]string{strconv.Itoa(s.Port)}, []string{
		"SCIM_TOKEN=" + s.Token,
		"SCIM_MAX_PAGE_SIZE=" + strconv.Itoa(s.pageSize),
		"SCIM_DATA_FILE=" + s.DataFile,
	}, fmt.Sprintf("listening %d", s.Port), healthy)
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
