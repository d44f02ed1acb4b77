package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/audit/checkpoint"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/testenv"
)

// lockedBuffer collects a command's output while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// running is a tango command started in-process.
type running struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan struct{} // closed when the command returned
	err    error         // what it returned; read after done
	out    *lockedBuffer
	errOut *lockedBuffer
}

func start(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{t: t, cancel: cancel, done: make(chan struct{}), out: &lockedBuffer{}, errOut: &lockedBuffer{}}
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(r.out)
	root.SetErr(r.errOut)
	go func() {
		defer close(r.done)
		r.err = root.ExecuteContext(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(15 * time.Second):
		}
	})
	return r
}

// waitFor polls until cond holds or the deadline passes; it fails early
// when the command has exited.
func (r *running) waitFor(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		select {
		case <-r.done:
			r.t.Fatalf("the command exited (%v) before %s\nstdout:\n%s\nstderr:\n%s", r.err, what, r.out, r.errOut)
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s\nstdout:\n%s\nstderr:\n%s", what, r.out, r.errOut)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(127\.0\.0\.1:\d+)`)

// addr waits for the "listening" log line and returns the bound address.
func (r *running) addr() string {
	var addr string
	r.waitFor("the listening log line", func() bool {
		m := listeningRE.FindStringSubmatch(r.errOut.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	return addr
}

// stop cancels the command's context (as SIGINT/SIGTERM does) and wants
// a clean return.
func (r *running) stop() {
	r.t.Helper()
	r.cancel()
	select {
	case <-r.done:
		if r.err != nil {
			r.t.Fatalf("the command returned %v after cancel\nstderr:\n%s", r.err, r.errOut)
		}
	case <-time.After(15 * time.Second):
		r.t.Fatal("the command did not return within 15 s of cancel")
	}
}

func httpGet(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tango.yaml")
	if err := os.WriteFile(cfg, []byte(demoConfig+demoAuditConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := demoSigningKey(dir); err != nil {
		t.Fatal(err)
	}
	db := "sqlite:" + filepath.Join(dir, "tango.db")
	r := start(t, "--db", db, "--config", cfg, "serve", "--addr", "127.0.0.1:0", "--schedule-every", "50ms")
	base := "http://" + r.addr()

	var status int
	var body []byte
	r.waitFor("/healthz to answer 200", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
		return status == http.StatusOK
	})
	if strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("/healthz body %q, want ok", body)
	}
	if status, body = httpGet(t, base+"/readyz", ""); status != 200 {
		t.Errorf("/readyz: %d %s", status, body)
	}
	if status, _ = httpGet(t, base+"/api/v1/persons", ""); status != 401 {
		t.Errorf("/api/v1/persons without a token: %d, want 401", status)
	}
	// /metrics on the API's address asks for a token with metrics.read.
	if status, _ = httpGet(t, base+"/metrics", ""); status != 401 {
		t.Errorf("/metrics without a token: %d, want 401", status)
	}
	r.waitFor("a request log line", func() bool { return strings.Contains(r.errOut.String(), "path=/readyz status=200") })
	r.waitFor("the checkpoint signed at start", func() bool { return strings.Contains(r.errOut.String(), "audit checkpoint signed") })

	r.stop()
	logs := r.errOut.String()
	for _, want := range []string{"shutting down", "msg=stopped", "audit checkpoint signed"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
	// One checkpoint when serve started, one at shutdown (every is 15m).
	pcfg, err := config.Load(cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	cps, err := checkpoint.ReadFile(filepath.Join(dir, "audit-checkpoints.jsonl"), pcfg.Audit.Checkpoint.Public())
	if err != nil || len(cps) != 2 {
		t.Errorf("checkpoints after serve: %d %v, want 2 (start and shutdown)", len(cps), err)
	}
	// The port is closed and the database was released.
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
	st, err := app.OpenStore(context.Background(), db)
	if err != nil {
		t.Fatalf("reopening the database after shutdown: %v", err)
	}
	st.Close()
}

func TestServeBadAddr(t *testing.T) {
	dir := t.TempDir()
	code := run(context.Background(), []string{"--db", "sqlite:" + filepath.Join(dir, "t.db"), "--config", filepath.Join(dir, "none.yaml"), "serve", "--addr", "127.0.0.1:0"})
	if code != exitFail {
		t.Errorf("serve with a missing explicit config: exit %d, want %d", code, exitFail)
	}
	code = run(context.Background(), []string{"serve", "--log-format", "xml"})
	if code != exitUsage {
		t.Errorf("serve --log-format xml: exit %d, want %d", code, exitUsage)
	}
}

var loginRE = regexp.MustCompile(`(?m)^  login\s+(tango_admin_\S+)$`)

var signInRE = regexp.MustCompile(`(?m)^    ([a-z]+)\s+(\S+)  password (\S+)   `)

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	r := start(t, "demo", "--dir", dir, "--addr", "127.0.0.1:0")
	base := "http://" + r.addr()
	var token string
	r.waitFor("the login on stdout", func() bool {
		m := loginRE.FindStringSubmatch(r.out.String())
		if m != nil {
			token = m[1]
		}
		return m != nil
	})
	out := r.out.String()
	for _, want := range []string{"URL           " + base + "/", "curl -H 'Authorization: Bearer " + token + "' '" + base + "/api/v1/persons?limit=2'", "DTAA: 2000 persons imported", dir} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}

	status, body := httpGet(t, base+"/api/v1/persons?limit=2", token)
	var page struct {
		Items []store.Person `json:"items"`
		Next  string         `json:"next"`
	}
	if status != 200 || json.Unmarshal(body, &page) != nil || len(page.Items) != 2 || page.Next == "" {
		t.Fatalf("persons?limit=2 with the demo login: %d %s", status, body)
	}
	if status, body = httpGet(t, base+"/metrics", token); !strings.Contains(string(body), `tango_persons{status="active"} 2000`) {
		t.Errorf("/metrics after the demo import (%d) lacks 2000 active persons", status)
	}
	// Each printed local sign-in works and holds its persona's roles (from
	// the demo config's authorization section and the HR data): the page
	// of the persona is theirs, the HR page is not the employee's.
	if !strings.Contains(out, "  sign in       "+base+"/login with one of these local accounts") {
		t.Fatalf("demo output lacks the sign-ins:\n%s", out)
	}
	personaPage := map[string]string{"admin": "/api/v1/notifications", "hr": "/imports", "it": "/apps", "security": "/audit", "manager": "/people", "employee": "/me"}
	signIns := signInRE.FindAllStringSubmatch(out, -1)
	if len(signIns) != len(personaPage) {
		t.Fatalf("%d sign-ins printed, want %d:\n%s", len(signIns), len(personaPage), out)
	}
	for _, m := range signIns {
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := browser.PostForm(base+"/login", url.Values{"username": {m[2]}, "password": {m[3]}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("signing in as the demo %s %s: %d", m[1], m[2], resp.StatusCode)
		}
		get := func(path string) int {
			req, _ := http.NewRequest("GET", base+path, nil)
			req.Header.Set("Accept", "text/html")
			resp, err := browser.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := get(personaPage[m[1]]); code != http.StatusOK {
			t.Errorf("the demo %s (%s) on %s: %d", m[1], m[2], personaPage[m[1]], code)
		}
		if m[1] == "employee" {
			if code := get("/imports"); code != http.StatusForbidden {
				t.Errorf("the demo employee on /imports: %d, want 403", code)
			}
		}
	}
	r.stop()
	if _, err := os.Stat(filepath.Join(dir, "tango.yaml")); err != nil {
		t.Errorf("the demo config was not written: %v", err)
	}
	// The demo made a signing key and its trail verifies against the checkpoints serve signed.
	if fi, err := os.Stat(filepath.Join(dir, demoKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the demo's signing key: %v %v", fi, err)
	}
	if out, stderr, code := tango(t, "--db", "sqlite:"+filepath.Join(dir, "tango.db"), "--config", filepath.Join(dir, "tango.yaml"), "audit", "verify"); code != 0 || !strings.Contains(out, "signed checkpoints") {
		t.Errorf("audit verify of the demo: %d %q %s", code, out, stderr)
	}

	// Starting again on the same directory reuses the data and replaces the login.
	r2 := start(t, "demo", "--dir", dir, "--addr", "127.0.0.1:0")
	base = "http://" + r2.addr()
	var token2 string
	r2.waitFor("the second login", func() bool {
		m := loginRE.FindStringSubmatch(r2.out.String())
		if m != nil {
			token2 = m[1]
		}
		return m != nil
	})
	if !strings.Contains(r2.out.String(), "reusing the persons already in the database") {
		t.Errorf("second demo start does not say it reuses the data:\n%s", r2.out)
	}
	if token2 == token {
		t.Error("the second demo start printed the same token")
	}
	if status, _ := httpGet(t, base+"/api/v1/persons?limit=1", token); status != 401 {
		t.Errorf("the first demo login still works after a restart: %d, want 401", status)
	}
	status, body = httpGet(t, base+"/api/v1/imports", token2)
	var imps struct {
		Items []store.Import `json:"items"`
	}
	if status != 200 || json.Unmarshal(body, &imps) != nil || len(imps.Items) != 1 {
		t.Errorf("imports after a restart: %d %s, want exactly the one sample import", status, body)
	}
	r2.stop()
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/tango-demo-1":      "/tmp/tango-demo-1",
		"sqlite:/tmp/x/tango.db": "sqlite:/tmp/x/tango.db",
		"/tmp/with space":        "'/tmp/with space'",
		"/tmp/it's":              `'/tmp/it'\''s'`,
		"":                       "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestServeDeliversNotifications: a message waiting in the outbox (written
// while no server ran) is delivered by `tango serve` to the SMTP server of
// the config.
func TestServeDeliversNotifications(t *testing.T) {
	smtp := testenv.StartSMTPServer(t, testenv.SMTPOptions{Auth: true, TLS: true})
	dir := t.TempDir()
	t.Setenv("TANGO_TEST_SMTP_PASSWORD", smtp.Password)
	cfg := filepath.Join(dir, "tango.yaml")
	doc := demoConfig + fmt.Sprintf(`notifications:
  smtp: {host: 127.0.0.1, port: %d, from: tango@dtaa.com, username: %s, password: '${env:TANGO_TEST_SMTP_PASSWORD}', tls: required, ca_file: %s}
  teams: {it: {email: it-ops@dtaa.com}}
`, smtp.Port, smtp.User, smtp.CAFile)
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	db := "sqlite:" + filepath.Join(dir, "tango.db")
	ctx := context.Background()
	st, err := app.OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	q, err := st.QueueNotifications(ctx, []store.Notification{{Kind: store.NotifyAssigned, Channel: store.ChannelEmail,
		Recipient: "team:it", Address: "it-ops@dtaa.com", Subject: "[Tango] 1 new task(s)", Body: "Recover the laptop\n", CreatedAt: time.Now()}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, "--db", db, "--config", cfg, "serve", "--addr", "127.0.0.1:0")
	r.addr()
	ms := smtp.WaitMessages(t, 1, 20*time.Second)
	if ms[0].To[0] != "it-ops@dtaa.com" || !ms[0].Secure || !strings.Contains(ms[0].Raw, "Recover the laptop") {
		t.Fatalf("delivered %+v", ms[0])
	}
	r.stop()
	if strings.Contains(r.errOut.String(), smtp.Password) {
		t.Fatalf("the log shows the SMTP password:\n%s", r.errOut)
	}
	st, err = app.OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ns, _ := st.Notifications(ctx, store.NotificationFilter{})
	if len(ns) != 1 || ns[0].ID != q[0].ID || ns[0].State != store.NotifySent {
		t.Fatalf("outbox after serve: %+v", ns)
	}
}

// A SCIM read's audit entry that is still waiting in its batch when serve
// is asked to stop is written before serve returns.
func TestServeWritesBufferedReadAuditAtShutdown(t *testing.T) {
	ctx := context.Background()
	st, err := app.OpenStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "tango.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg, err := config.Parse([]byte(demoConfig), "tango.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := auth.Create(ctx, st, "idp", "scim", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- serve(sctx, slog.New(slog.DiscardHandler), st, cfg, ln, time.Hour, nil) }()
	reads := func() int {
		es, err := st.AuditEntries(ctx, 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			if e.Action == "scim.read" {
				n++
			}
		}
		return n
	}
	// Read until an entry is caught waiting (the batch is written 200 ms
	// after its first entry; a slow machine may get there first).
	waiting := -1
	for i := 0; i < 20 && waiting < 0; i++ {
		before := reads()
		if status, body := httpGet(t, "http://"+ln.Addr().String()+"/scim/v2/Users", tok); status != 200 {
			t.Fatalf("GET /scim/v2/Users: %d %s", status, body)
		}
		if reads() == before {
			waiting = before
		}
	}
	if waiting < 0 {
		t.Fatal("every read's entry was written before the test could stop serve")
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return")
	}
	if got := reads(); got <= waiting {
		t.Fatalf("%d scim.read entries after shutdown, want more than the %d before it: the waiting entry was lost", got, waiting)
	}
}
