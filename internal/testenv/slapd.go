// Package testenv starts the real systems Tango's tests run against.
package testenv

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// SlapdPath is where Debian's slapd package installs the server.
const SlapdPath = "/usr/sbin/slapd"

// ADObjectClass is the auxiliary object class of the test schema loaded
// into every test slapd. It allows the attribute userAccountControl (with
// Active Directory's OID and integer syntax) so that the Active Directory
// way of disabling accounts can be tested against slapd.
const ADObjectClass = "tangoADAccount"

// ServiceSizeLimit is the size limit slapd enforces on Slapd.ServiceDN: a
// search by the service account that is not paged fails with "Size Limit
// Exceeded" once it passes this many entries, and a paged search asking for
// larger pages fails with "Admin Limit Exceeded".
const ServiceSizeLimit = 10

// Slapd is a running OpenLDAP server started for one test.
type Slapd struct {
	// URL is the plain-text listener, ldap://127.0.0.1:PORT (StartTLS works on it).
	URL string
	// LDAPSURL is the TLS listener, ldaps://127.0.0.1:PORT.
	LDAPSURL string
	// BaseDN is the database suffix, dc=dtaa,dc=com. The base entries
	// ou=people, ou=groups and ou=disabled exist below it.
	BaseDN string
	// BindDN and Password are the root DN's credentials (no limits, no ACLs).
	BindDN   string
	Password string
	// ServiceDN and ServicePassword are a service account, as a connector
	// would use: it may write everything, and its searches are limited to
	// ServiceSizeLimit entries unless paged (pages of at most
	// ServiceSizeLimit entries, any number of pages).
	ServiceDN       string
	ServicePassword string
	// RootCAs trusts the server certificate (issued to 127.0.0.1 and localhost).
	RootCAs *x509.CertPool
	// CACertFile is the PEM file of the self-signed server certificate.
	CACertFile string
	// Dir is the temporary directory holding the configuration and database.
	Dir string
}

// People, Groups and Disabled are the DNs of the organisational units
// created below BaseDN.
func (s *Slapd) People() string   { return "ou=people," + s.BaseDN }
func (s *Slapd) Groups() string   { return "ou=groups," + s.BaseDN }
func (s *Slapd) Disabled() string { return "ou=disabled," + s.BaseDN }

// StartSlapd starts a private slapd on free loopback ports with a fresh mdb
// database in a temporary directory, loads the base entries and returns once
// a bind succeeds. The server is killed when the test ends. Without slapd the
// test is skipped, or fails when the environment says CI=true.
func StartSlapd(t testing.TB) *Slapd {
	t.Helper()
	return StartSlapdWith(t, SlapdOptions{})
}

// SlapdOptions turn on what a test needs beyond the plain directory.
type SlapdOptions struct {
	// LastBind loads the lastbind overlay: every successful bind of an
	// entry records its time in the entry's operational attribute
	// authTimestamp (OpenLDAP's contrib overlay, as directories that track
	// sign-ins run it), to the second.
	LastBind bool
}

// StartSlapdWith is StartSlapd with options.
func StartSlapdWith(t testing.TB, o SlapdOptions) *Slapd {
	t.Helper()
	if _, err := os.Stat(SlapdPath); err != nil {
		msg := fmt.Sprintf("testenv: %s not found (Debian package slapd): run scripts/test-deps.sh", SlapdPath)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	s := &Slapd{
		BaseDN:          "dc=dtaa,dc=com",
		BindDN:          "cn=admin,dc=dtaa,dc=com",
		Password:        randomHex(t, 12),
		ServiceDN:       "cn=tango,dc=dtaa,dc=com",
		ServicePassword: randomHex(t, 12),
		Dir:             dir,
	}
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	tlsCert, tlsKey := s.writeCert(t)
	adSchema := filepath.Join(dir, "tango-ad.schema")
	writeFile(t, adSchema, adSchemaText)
	conf := filepath.Join(dir, "slapd.conf")
	writeFile(t, conf, fmt.Sprintf(slapdConfTemplate,
		adSchema, filepath.Join(dir, "slapd.pid"), tlsCert, tlsKey,
		s.ServiceDN, ServiceSizeLimit,
		s.BaseDN, s.BindDN, s.Password, filepath.Join(dir, "db"), o.modules(), o.overlays()))

	// A free port can be taken by someone else between choosing it and
	// slapd binding it: try a few times.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		ports := freePorts(t, 2)
		s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", ports[0])
		s.LDAPSURL = fmt.Sprintf("ldaps://127.0.0.1:%d", ports[1])
		lastErr = s.start(t, conf)
		if lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("testenv: start slapd: %v", lastErr)
	}
	s.AddLDIF(t, fmt.Sprintf(baseLDIF, s.BaseDN, s.ServiceDN, s.ServicePassword))
	return s
}

// start runs slapd and waits until a bind works, slapd exits, or 20 s pass.
func (s *Slapd) start(t testing.TB, conf string) error {
	t.Helper()
	var logs lockedBuffer
	cmd := exec.Command(SlapdPath, "-f", conf, "-h", s.URL+"/ "+s.LDAPSURL+"/", "-d", "0")
	cmd.Stdout = &logs
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := goldap.DialURL(s.URL, goldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
		if err == nil {
			conn.SetTimeout(2 * time.Second)
			err = conn.Bind(s.BindDN, s.Password)
			conn.Close()
			if err == nil {
				break
			}
		}
		select {
		case werr := <-exited:
			exited <- werr
			stop()
			return fmt.Errorf("slapd exited (%v): %s", werr, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("slapd not ready after 20s: %v: %s", err, logs.String())
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() && testing.Verbose() {
			t.Logf("slapd output:\n%s", logs.String())
		}
	})
	return nil
}

// Conn returns a connection bound as the root DN, closed when the test ends.
func (s *Slapd) Conn(t testing.TB) *goldap.Conn {
	t.Helper()
	conn, err := goldap.DialURL(s.URL)
	if err != nil {
		t.Fatalf("testenv: dial %s: %v", s.URL, err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetTimeout(30 * time.Second)
	if err := conn.Bind(s.BindDN, s.Password); err != nil {
		t.Fatalf("testenv: bind %s as %s: %v", s.URL, s.BindDN, err)
	}
	return conn
}

// AddLDIF adds the entries of an LDIF text (records of "attr: value" lines
// separated by blank lines; "attr:: base64", folded lines and comments
// allowed; changetype, if present, must be add) as the root DN.
func (s *Slapd) AddLDIF(t testing.TB, ldif string) {
	t.Helper()
	reqs, err := ParseLDIF(ldif)
	if err != nil {
		t.Fatalf("testenv: AddLDIF: %v", err)
	}
	conn := s.Conn(t)
	for _, r := range reqs {
		if err := conn.Add(r); err != nil {
			t.Fatalf("testenv: AddLDIF: add %s: %v", r.DN, err)
		}
	}
}

// ParseLDIF parses LDIF add records into add requests.
func ParseLDIF(ldif string) ([]*goldap.AddRequest, error) {
	var (
		reqs  []*goldap.AddRequest
		lines []string
	)
	// Unfold continuation lines and drop comments.
	sc := bufio.NewScanner(strings.NewReader(ldif))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, " ") && len(lines) > 0 && lines[len(lines)-1] != "":
			lines[len(lines)-1] += line[1:]
		default:
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	lines = append(lines, "")

	var cur *goldap.AddRequest
	var order []string
	attrs := map[string][]string{}
	flush := func() {
		if cur == nil {
			return
		}
		for _, name := range order {
			cur.Attribute(name, attrs[name])
		}
		reqs = append(reqs, cur)
		cur, order, attrs = nil, nil, map[string][]string{}
	}
	for n, line := range lines {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: no colon: %q", n+1, line)
		}
		if strings.HasPrefix(value, ":") {
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value[1:]))
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", n+1, err)
			}
			value = string(b)
		} else {
			value = strings.TrimLeft(value, " ")
		}
		switch {
		case cur == nil && strings.EqualFold(name, "version"):
			continue
		case cur == nil && strings.EqualFold(name, "dn"):
			cur = goldap.NewAddRequest(value, nil)
		case cur == nil:
			return nil, fmt.Errorf("line %d: record does not start with dn", n+1)
		case strings.EqualFold(name, "changetype"):
			if !strings.EqualFold(value, "add") {
				return nil, fmt.Errorf("line %d: only changetype add is supported", n+1)
			}
		default:
			if _, seen := attrs[name]; !seen {
				order = append(order, name)
			}
			attrs[name] = append(attrs[name], value)
		}
	}
	return reqs, nil
}

// writeCert writes a self-signed ECDSA certificate for 127.0.0.1/localhost
// and its key, fills RootCAs and CACertFile, and returns both file names.
func (s *Slapd) writeCert(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile, certPEM := selfSigned(t, s.Dir, "tango test slapd")
	s.CACertFile = certFile
	s.RootCAs = x509.NewCertPool()
	s.RootCAs.AppendCertsFromPEM(certPEM)
	return certFile, keyFile
}

// TLSConfig returns a client TLS configuration trusting the test server.
func (s *Slapd) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.RootCAs, ServerName: "127.0.0.1"}
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func writeFile(t testing.TB, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const adSchemaText = `# Test-only schema: lets slapd hold Active Directory's userAccountControl.
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
	EQUALITY integerMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )

objectclass ( 1.3.6.1.4.1.4203.666.11.99.1 NAME '` + ADObjectClass + `'
	DESC 'Tango test: Active Directory account control'
	SUP top AUXILIARY
	MAY userAccountControl )
`

func (o SlapdOptions) modules() string {
	if o.LastBind {
		return "moduleload lastbind"
	}
	return ""
}

func (o SlapdOptions) overlays() string {
	if o.LastBind {
		// Precision 0: every bind updates authTimestamp.
		return "overlay lastbind\nlastbind-precision 0"
	}
	return ""
}

// slapdConfTemplate arguments: AD schema, pid file, TLS cert, TLS key,
// service DN, service size limit, suffix, root DN, root password, db dir,
// extra modules, overlays of the database.
const slapdConfTemplate = `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include %s

pidfile %s
modulepath /usr/lib/ldap
moduleload back_mdb
%[11]s

TLSCertificateFile %[3]s
TLSCertificateKeyFile %[4]s

loglevel none
threads 8

database mdb
limits dn.exact="%[5]s" size.soft=%[6]d size.hard=%[6]d size.pr=%[6]d size.prtotal=unlimited
suffix "%[7]s"
rootdn "%s"
rootpw "%s"
directory %s
maxsize 4294967296
dbnosync
index objectClass eq
index uid,cn,employeeNumber eq
index member eq
%[12]s
access to attrs=userPassword
	by self write
	by dn.exact="%[5]s" write
	by anonymous auth
	by * none
access to *
	by dn.exact="%[5]s" write
	by * read
`

// baseLDIF arguments: suffix, service DN, service password.
const baseLDIF = `dn: %[1]s
objectClass: top
objectClass: dcObject
objectClass: organization
o: dtaa
dc: dtaa

dn: ou=people,%[1]s
objectClass: organizationalUnit
ou: people

dn: ou=groups,%[1]s
objectClass: organizationalUnit
ou: groups

dn: ou=disabled,%[1]s
objectClass: organizationalUnit
ou: disabled

dn: %[2]s
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: tango
userPassword: %[3]s
`
