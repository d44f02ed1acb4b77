package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
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

	dir, token, keyFile string
	node                nodeServer
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
	s := &SMTPServer{Host: "127.0.0.1", dir: t.TempDir(), token: randomHex(t, 16),
		node: nodeServer{what: "SMTP server", script: findNodeServer(t, "smtp-server", "smtp-server")}}
	if o.Auth {
		s.User, s.Password = "tango", randomHex(t, 12)
	}
	if o.TLS {
		s.CAFile, s.keyFile, _ = selfSigned(t, s.dir, "tango test smtp-server")
	}
	s.node.cleanup(t)
	s.node.retry(t, "start", func() error {
		ports := freePorts(t, 2)
		s.Port, s.ControlPort = ports[0], ports[1]
		return s.start()
	})
	return s
}

// Addr is host:port of the SMTP service.
func (s *SMTPServer) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Stop stops the server; connections are refused until Start. The
// messages it recorded are forgotten.
func (s *SMTPServer) Stop(t testing.TB) {
	t.Helper()
	_ = s.node.stop(t) // killed by the signal: its exit status says nothing
}

// Start starts the stopped server again on the same ports.
func (s *SMTPServer) Start(t testing.TB) {
	t.Helper()
	s.node.retry(t, "restart", s.start)
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
	s.node.control(t, s.token, method, s.controlURL(name), body, out)
}

func (s *SMTPServer) start() error {
	env := []string{"SMTP_CONTROL_TOKEN=" + s.token, "SMTP_USER=" + s.User, "SMTP_PASS=" + s.Password}
	if s.CAFile != "" {
		env = append(env, "SMTP_TLS_CERT="+s.CAFile, "SMTP_TLS_KEY="+s.keyFile)
	}
	return s.node.run([]string{strconv.Itoa(s.Port), strconv.Itoa(s.ControlPort)}, env,
		fmt.Sprintf("listening %d %d", s.Port, s.ControlPort), nil)
}

// selfSigned writes a self-signed ECDSA certificate for 127.0.0.1 and
// localhost and its key into dir, and returns both file names.
func selfSigned(t testing.TB, dir, name string) (certFile, keyFile string, certPEM []byte) {
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
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, string(certPEM))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
	return certFile, keyFile, certPEM
}
