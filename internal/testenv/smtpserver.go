package testenv

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
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

// SMTPOptions choose what the test SMTP server demands.
type SMTPOptions struct {
	// Auth requires AUTH (PLAIN or LOGIN) with User and Password, which
	// the server accepts only over TLS.
	Auth bool
	// TLS offers STARTTLS with a fresh self-signed certificate for
	// 127.0.0.1 (CAFile).
	TLS bool
}

// SMTPServer is a running real SMTP server (testdata/smtp-server: the npm
// package smtp-server from Nodemailer) on a loopback port, recording every
// message it accepts.
type SMTPServer struct {
	Host        string // 127.0.0.1
	Port        int    // SMTP
	ControlPort int    // HTTP control endpoints
	User        string // with Auth
	Password    string // with Auth
	CAFile      string // with TLS: the PEM certificate clients must trust

	dir, script, token, keyFile string
	mu                          sync.Mutex
	proc                        *scimProcess
}

// SMTPMessage is one message the server accepted.
type SMTPMessage struct {
	From   string   `json:"from"`
	To     []string `json:"to"`
	Raw    string   `json:"raw"`    // headers and body as sent
	Secure bool     `json:"secure"` // received over TLS
	User   string   `json:"user"`   // who authenticated, if anyone
}

// StartSMTPServer starts the test SMTP server (node
// testdata/smtp-server/server.js) on free loopback ports and returns once
// it answers. It is killed when the test ends. Without node or the
// server's node_modules (scripts/test-deps.sh installs both) the test is
// skipped, or fails under CI=true.
func StartSMTPServer(t testing.TB, o SMTPOptions) *SMTPServer {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	dir := filepath.Join(root, "testdata", "smtp-server")
	if _, err := exec.LookPath("node"); err != nil {
		Missing(t, "node (Node.js)", "run scripts/test-deps.sh")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "smtp-server")); err != nil {
		Missing(t, "testdata/smtp-server/node_modules", "run scripts/test-deps.sh (npm ci in testdata/smtp-server)")
	}
	s := &SMTPServer{Host: "127.0.0.1", dir: t.TempDir(), script: filepath.Join(dir, "server.js"), token: randomHex(t, 16)}
	if o.Auth {
		s.User, s.Password = "tango", randomHex(t, 12)
	}
	if o.TLS {
		s.CAFile, s.keyFile = selfSigned(t, s.dir, "tango test smtp-server")
	}
	t.Cleanup(func() {
		s.mu.Lock()
		p := s.proc
		s.proc = nil
		s.mu.Unlock()
		if p != nil {
			p.kill()
			if t.Failed() && testing.Verbose() {
				t.Logf("smtp server output:\n%s", p.logs.String())
			}
		}
	})
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		ports := freePorts(t, 2)
		s.Port, s.ControlPort = ports[0], ports[1]
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	t.Fatalf("testenv: start SMTP server: %v", lastErr)
	return nil
}

// Addr is host:port of the SMTP service.
func (s *SMTPServer) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Stop stops the server; connections are refused until Start. The
// messages it recorded are forgotten.
func (s *SMTPServer) Stop(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		t.Fatal("testenv: SMTP server is not running")
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.kill()
		t.Fatalf("testenv: SMTP server did not stop within 10s: %s", p.logs.String())
	}
}

// Start starts the stopped server again on the same ports.
func (s *SMTPServer) Start(t testing.TB) {
	t.Helper()
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = s.start(); err == nil {
			return
		}
	}
	t.Fatalf("testenv: restart SMTP server: %v", err)
}

// Messages returns every message accepted since the server (re)started or
// was reset, oldest first.
func (s *SMTPServer) Messages(t testing.TB) []SMTPMessage {
	t.Helper()
	var ms []SMTPMessage
	s.control(t, http.MethodGet, "messages", nil, &ms)
	return ms
}

// WaitMessages polls until at least n messages arrived or the deadline
// passes (then the test fails), and returns them.
func (s *SMTPServer) WaitMessages(t testing.TB, n int, within time.Duration) []SMTPMessage {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ms := s.Messages(t)
		if len(ms) >= n {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: %d message(s) arrived within %v, want %d: %+v", len(ms), within, n, ms)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Fail makes the server refuse the next `times` messages after DATA with
// the SMTP reply code (451: try later, 550: never).
func (s *SMTPServer) Fail(t testing.TB, code, times int) {
	t.Helper()
	body, _ := json.Marshal(map[string]int{"code": code, "times": times})
	s.control(t, http.MethodPost, "fail", body, nil)
}

// Reset forgets the messages and armed failures.
func (s *SMTPServer) Reset(t testing.TB) {
	t.Helper()
	s.control(t, http.MethodPost, "reset", nil, nil)
}

func (s *SMTPServer) controlURL(name string) string {
	return fmt.Sprintf("http://127.0.0.1:%d/%s", s.ControlPort, name)
}

func (s *SMTPServer) control(t testing.TB, method, name string, body []byte, out any) {
	t.Helper()
	req, err := http.NewRequest(method, s.controlURL(name), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("testenv: SMTP server control %s: %v", name, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("testenv: SMTP server control %s: %s: %s", name, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("testenv: SMTP server control %s: %v", name, err)
		}
	}
}

func (s *SMTPServer) start() error {
	logs := &lockedBuffer{}
	cmd := exec.Command("node", s.script, strconv.Itoa(s.Port), strconv.Itoa(s.ControlPort))
	cmd.Dir = filepath.Dir(s.script)
	cmd.Env = append(os.Environ(), "SMTP_CONTROL_TOKEN="+s.token, "SMTP_USER="+s.User, "SMTP_PASS="+s.Password)
	if s.CAFile != "" {
		cmd.Env = append(cmd.Env, "SMTP_TLS_CERT="+s.CAFile, "SMTP_TLS_KEY="+s.keyFile)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &scimProcess{cmd: cmd, exited: make(chan error, 1), logs: logs}
	go func() { p.exited <- cmd.Wait() }()
	want := fmt.Sprintf("listening %d %d", s.Port, s.ControlPort)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), want) {
		select {
		case werr := <-p.exited:
			return fmt.Errorf("SMTP server exited (%v): %s", werr, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.kill()
			return errors.New("SMTP server not ready after 20s: " + logs.String())
		}
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// selfSigned writes a self-signed ECDSA certificate for 127.0.0.1 and
// localhost and its key into dir, and returns both file names.
func selfSigned(t testing.TB, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "smtp-cert.pem"), filepath.Join(dir, "smtp-key.pem")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
	return certFile, keyFile
}
