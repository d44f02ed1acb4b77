package ldap_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/connector/connectortest"
	"github.com/tango-iga/tango/internal/connector/ldap"
	"github.com/tango-iga/tango/internal/testenv"
)

// config is a connector configuration for the test slapd, bound as the
// service account whose unpaged searches are limited to 10 entries.
func config(s *testenv.Slapd) ldap.Config {
	return ldap.Config{
		URL:          s.URL,
		BindDN:       s.ServiceDN,
		Password:     s.ServicePassword,
		BaseDN:       s.People(),
		GroupBaseDN:  s.Groups(),
		KeyAttribute: "employeeNumber",
		PageSize:     testenv.ServiceSizeLimit,
		Timeout:      10 * time.Second,
	}
}

func newAccount(n int) connector.Account {
	return connector.Account{
		Key:  fmt.Sprintf("E%06d", n),
		Name: fmt.Sprintf("user%06d", n),
		Attributes: map[string][]string{
			"cn":        {fmt.Sprintf("User %d", n)},
			"sn":        {fmt.Sprintf("Number%d", n)},
			"givenName": {"Test"},
			"mail":      {fmt.Sprintf("user%06d@dtaa.com", n)},
			"title":     {"Engineer"},
		},
	}
}

func options(s *testenv.Slapd) connectortest.Options {
	return connectortest.Options{
		NewAccount:      newAccount,
		UpdateAttribute: "title",
		Entitlements:    []string{"cn=tango-g0," + s.Groups(), "cn=tango-g1," + s.Groups()},
		SameEntitlement: func(a, b string) bool {
			x, err1 := goldap.ParseDN(a)
			y, err2 := goldap.ParseDN(b)
			return err1 == nil && err2 == nil && x.EqualFold(y)
		},
		PageSize: testenv.ServiceSizeLimit,
	}
}

func run(t *testing.T, configure func(*testenv.Slapd, *ldap.Config)) {
	s := testenv.StartSlapd(t)
	connectortest.Run(t, func(t *testing.T) connector.Connector {
		cfg := config(s)
		configure(s, &cfg)
		c, err := ldap.FromConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}, options(s))
}

func TestConformanceReplace(t *testing.T) {
	run(t, func(_ *testenv.Slapd, cfg *ldap.Config) {
		cfg.Disable.Replace = map[string][]string{"employeeType": {"disabled"}, "description": {"disabled by Tango"}}
	})
}

func TestConformanceMoveTo(t *testing.T) {
	run(t, func(s *testenv.Slapd, cfg *ldap.Config) {
		cfg.Disable.MoveTo = s.Disabled()
	})
}

func TestConformanceActiveDirectory(t *testing.T) {
	run(t, func(_ *testenv.Slapd, cfg *ldap.Config) {
		cfg.Disable.ActiveDirectory = true
		cfg.ObjectClasses = []string{"top", "person", "organizationalPerson", "inetOrgPerson", testenv.ADObjectClass}
	})
}

func TestConformanceStartTLS(t *testing.T) {
	run(t, func(s *testenv.Slapd, cfg *ldap.Config) {
		cfg.StartTLS = true
		cfg.RootCAs = s.RootCAs
		cfg.Disable.MoveTo = s.Disabled()
	})
}

func newConnector(t *testing.T, cfg ldap.Config) *ldap.Connector {
	t.Helper()
	c, err := ldap.FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestLDAPS(t *testing.T) {
	s := testenv.StartSlapd(t)
	cfg := config(s)
	cfg.URL = s.LDAPSURL
	cfg.RootCAs = s.RootCAs
	cfg.Disable.ActiveDirectory = true
	c := newConnector(t, cfg)
	if _, err := c.Get(context.Background(), "nobody"); !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("Get over ldaps: %v, want ErrNotFound", err)
	}
	cfg.RootCAs = nil // system roots do not know the test CA
	c = newConnector(t, cfg)
	_, err := c.Get(context.Background(), "nobody")
	if err == nil || errors.Is(err, connector.ErrNotFound) || connector.IsTemporary(err) {
		t.Fatalf("Get over ldaps with an untrusted certificate: %v, want a permanent error", err)
	}
}

// StartTLS against a certificate the client does not trust must fail.
func TestStartTLSUntrusted(t *testing.T) {
	s := testenv.StartSlapd(t)
	cfg := config(s)
	cfg.StartTLS = true // system roots do not know the test CA
	cfg.Disable.ActiveDirectory = true
	c := newConnector(t, cfg)
	_, err := c.Get(context.Background(), "nobody")
	if err == nil || errors.Is(err, connector.ErrNotFound) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Get with an untrusted certificate: %v, want a certificate error", err)
	}
	if connector.IsTemporary(err) {
		t.Errorf("untrusted certificate reported as temporary: %v", err)
	}
}

func TestPasswordNeverInErrors(t *testing.T) {
	s := testenv.StartSlapd(t)
	ctx := context.Background()
	cfg := config(s)
	cfg.Disable.ActiveDirectory = true
	cfg.Password = "Wr0ng-" + s.ServicePassword
	c := newConnector(t, cfg)
	_, err := c.Get(ctx, "E1")
	if err == nil || !goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
		t.Fatalf("Get with a wrong password: %v, want invalid credentials", err)
	}
	msg := err.Error()
	if strings.Contains(msg, cfg.Password) || strings.Contains(msg, s.ServicePassword) {
		t.Fatalf("error contains the password: %s", msg)
	}
	if !strings.Contains(msg, s.URL) || !strings.Contains(msg, s.ServiceDN) {
		t.Errorf("error does not name the app and DN: %s", msg)
	}
	if connector.IsTemporary(err) {
		t.Errorf("bad credentials reported as temporary: %v", err)
	}

	// Any text of an error that happens to contain the password (here the
	// DN of an account named like it, refused by slapd) is redacted.
	cfg = config(s)
	cfg.Disable.ActiveDirectory = true
	c = newConnector(t, cfg)
	a := newAccount(1)
	a.Name = s.ServicePassword
	a.Attributes["userAccountControl"] = []string{"512"} // not allowed without the AD object class
	_, err = c.Create(ctx, a)
	if !goldap.IsErrorWithCode(err, goldap.LDAPResultObjectClassViolation) {
		t.Fatalf("Create of an entry slapd refuses: %v, want an object class violation", err)
	}
	if msg := err.Error(); strings.Contains(msg, s.ServicePassword) || !strings.Contains(msg, "[redacted]") {
		t.Fatalf("error does not redact the password: %s", msg)
	}
}

func TestUnreachableIsTemporary(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newConnector(t, ldap.Config{URL: "ldap://" + addr, BindDN: "cn=x", Password: "secret-pw",
		BaseDN: "dc=dtaa,dc=com", KeyAttribute: "employeeNumber", Disable: ldap.Disable{ActiveDirectory: true}})
	_, err = c.Get(context.Background(), "E1")
	if !connector.IsTemporary(err) {
		t.Fatalf("connection refused: %v, want a TemporaryError", err)
	}
	if !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "secret-pw") {
		t.Errorf("error should name the URL and not the password: %v", err)
	}
}

// Connections dropped by the server are redialled on the next call.
func TestReconnect(t *testing.T) {
	s := testenv.StartSlapd(t)
	cfg := config(s)
	cfg.Disable.ActiveDirectory = true
	c := newConnector(t, cfg)
	ctx := context.Background()
	if _, err := c.Create(ctx, newAccount(1)); err != nil {
		t.Fatal(err)
	}
	// Closing the connector's connection behind its back is what a server
	// idle timeout does; the next call must redial.
	c.Close()
	if _, err := c.Get(ctx, newAccount(1).Key); err != nil {
		t.Fatalf("Get after the connection was closed: %v", err)
	}
}

// An orphan account (created in the directory by someone else) is listed,
// and its group membership made outside Tango is reported.
func TestOrphanListed(t *testing.T) {
	s := testenv.StartSlapd(t)
	s.AddLDIF(t, `dn: uid=orphan,`+s.People()+`
objectClass: inetOrgPerson
uid: orphan
cn: Orphan
sn: Account
employeeNumber: X999

dn: cn=admins,`+s.Groups()+`
objectClass: groupOfNames
cn: admins
member: UID=orphan, OU=people, DC=dtaa, DC=com
`)
	cfg := config(s)
	cfg.Disable.Replace = map[string][]string{"employeeType": {"disabled"}}
	c := newConnector(t, cfg)
	var found []connector.Account
	if err := c.List(context.Background(), func(a connector.Account) error {
		found = append(found, a)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Key != "X999" || found[0].Name != "orphan" || found[0].Disabled {
		t.Fatalf("List = %+v, want the orphan X999, enabled", found)
	}
	if len(found[0].Entitlements) != 1 || !strings.EqualFold(found[0].Entitlements[0], "cn=admins,"+s.Groups()) {
		t.Errorf("orphan entitlements = %q, want the admins group", found[0].Entitlements)
	}
}

func TestLoad(t *testing.T) {
	s := testenv.StartSlapd(t)
	cfg := config(s)
	cfg.Disable.MoveTo = s.Disabled()
	c := newConnector(t, cfg)
	var accounts []connector.Account
	for i := 1; i <= 200; i++ {
		accounts = append(accounts, newAccount(i))
	}
	ctx := context.Background()
	n, err := c.Load(ctx, accounts[:150])
	if err != nil || n != 150 {
		t.Fatalf("Load = %d, %v; want 150", n, err)
	}
	// Loading again updates the existing entries.
	accounts[0].Attributes["title"] = []string{"Reloaded"}
	n, err = c.Load(ctx, accounts)
	if err != nil || n != 200 {
		t.Fatalf("second Load = %d, %v; want 200", n, err)
	}
	got, err := c.Get(ctx, accounts[0].Key)
	if err != nil || got.Attributes["title"][0] != "Reloaded" {
		t.Fatalf("Get after reload = %+v, %v", got, err)
	}
	count := 0
	if err := c.List(ctx, func(connector.Account) error { count++; return nil }); err != nil {
		t.Fatal(err)
	}
	if count != 200 {
		t.Errorf("List after Load counted %d accounts, want 200", count)
	}
	// A failing entry stops the load with an error naming it.
	bad := newAccount(500)
	bad.Attributes["noSuchAttribute"] = []string{"x"}
	if _, err := c.Load(ctx, []connector.Account{bad}); err == nil || !strings.Contains(err.Error(), "user000500") {
		t.Errorf("Load of a bad entry: %v, want an error naming it", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []ldap.Config{
		{URL: "ldap://x", BaseDN: "dc=x", KeyAttribute: "k"}, // no disable method
		{URL: "ldap://x", BaseDN: "dc=x", KeyAttribute: "k", Disable: ldap.Disable{ActiveDirectory: true, MoveTo: "ou=d,dc=x"}},
		{URL: "ldap://x", BaseDN: "dc=x", Disable: ldap.Disable{ActiveDirectory: true}}, // no key
		{BaseDN: "dc=x", KeyAttribute: "k", Disable: ldap.Disable{ActiveDirectory: true}},
	} {
		if _, err := ldap.FromConfig(cfg); err == nil {
			t.Errorf("FromConfig(%+v) succeeded", cfg)
		}
	}
}

// A request to a server that does not answer ends with its context, not
// after the connector's own (long) timeout, and the error names the server.
func TestSilentServerEndsWithContext(t *testing.T) {
	url := "ldap://" + testenv.SilentServer(t)
	for _, bind := range []string{"", "cn=admin,dc=dtaa,dc=com"} {
		c, err := ldap.FromConfig(ldap.Config{URL: url, BaseDN: "ou=people,dc=dtaa,dc=com", BindDN: bind, Password: "secret",
			KeyAttribute: "employeeNumber", Timeout: time.Minute, Disable: ldap.Disable{Replace: map[string][]string{"employeeType": {"disabled"}}}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		start := time.Now()
		err = c.List(ctx, func(connector.Account) error { return nil })
		took := time.Since(start)
		cancel()
		c.Close()
		if err == nil {
			t.Fatalf("bind %q: List against a silent server succeeded", bind)
		}
		if took > 10*time.Second {
			t.Errorf("bind %q: List took %s: the context's deadline was not honoured", bind, took)
		}
		if !strings.Contains(err.Error(), url) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("bind %q: error %q: want the server's URL and context.DeadlineExceeded", bind, err)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error shows the password: %q", err)
		}
	}
}

// TestCreateStaysOneRDNBelowBase: an account is created only exactly one
// single-valued RDN below the base DN. An employee ID "EVIL1,ou=admins"
// put unescaped in a DN template would land in ou=admins: refused, and
// nothing is created; escaped (dn.escape) it is a uid under ou=people.
func TestCreateStaysOneRDNBelowBase(t *testing.T) {
	s := testenv.StartSlapd(t)
	s.AddLDIF(t, "dn: ou=admins,"+s.People()+"\nobjectClass: organizationalUnit\nou: admins\n")
	cfg := config(s)
	cfg.Disable.Replace = map[string][]string{"employeeType": {"disabled"}}
	c := newConnector(t, cfg)
	ctx := context.Background()
	acc := func(key, dn string) connector.Account {
		return connector.Account{Key: key, Name: "EVIL1,ou=admins", ID: dn,
			Attributes: map[string][]string{"cn": {"Eve"}, "sn": {"Evil"}}}
	}
	for _, dn := range []string{
		"uid=EVIL1,ou=admins," + s.People(),   // the injection: two RDNs below the base
		"uid=EVIL1+cn=x," + s.People(),        // a multi-valued RDN
		"uid=EVIL1," + s.Groups(),             // outside the base
		s.People(),                            // the base itself
		"uid=EVIL1,ou=people,dc=other,dc=com", // another tree
		"not a dn",
	} {
		_, err := c.Create(ctx, acc("E901", dn))
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", dn)) || connector.IsTemporary(err) {
			t.Errorf("Create(%q) = %v, want a permanent error naming the DN", dn, err)
		}
	}
	conn := s.Conn(t)
	res, err := conn.Search(goldap.NewSearchRequest(s.BaseDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(employeeNumber=E901)", []string{"dn"}, nil))
	if err != nil || len(res.Entries) != 0 {
		t.Fatalf("refused creates left %d entries (%v)", len(res.Entries), err)
	}

	escaped := `uid=EVIL1\,ou\=admins,` + s.People()
	got, err := c.Create(ctx, acc("E902", escaped))
	if err != nil {
		t.Fatal(err)
	}
	res, err = conn.Search(goldap.NewSearchRequest(s.People(), goldap.ScopeSingleLevel, goldap.NeverDerefAliases, 0, 0, false,
		"(employeeNumber=E902)", []string{"uid"}, nil))
	if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("uid") != "EVIL1,ou=admins" {
		t.Fatalf("escaped account: %+v, %v; want one entry directly below ou=people with uid \"EVIL1,ou=admins\" (created as %q)", res, err, got.ID)
	}
}

// Last activity is read from slapd's lastbind overlay: authTimestamp is
// absent until the person signs in (binds) and then within seconds of the
// bind, from Get and List alike; it is not reported as a managed
// attribute. With no attribute configured nothing is read.
func TestLastActivityFromLastBind(t *testing.T) {
	s := testenv.StartSlapdWith(t, testenv.SlapdOptions{LastBind: true})
	s.AddLDIF(t, `dn: uid=ann,`+s.People()+`
objectClass: inetOrgPerson
uid: ann
cn: Ann
sn: Active
employeeNumber: E1
userPassword: ann-secret

dn: uid=ian,`+s.People()+`
objectClass: inetOrgPerson
uid: ian
cn: Ian
sn: Inactive
employeeNumber: E2
userPassword: ian-secret
`)
	cfg := config(s)
	cfg.Disable.Replace = map[string][]string{"employeeType": {"disabled"}}
	cfg.LastActivityAttribute = "authTimestamp"
	c := newConnector(t, cfg)
	ctx := context.Background()
	if a, err := c.Get(ctx, "E1"); err != nil || !a.LastActivity.IsZero() {
		t.Fatalf("before any sign-in: %+v %v, want no last activity", a, err)
	}
	before := time.Now().Add(-time.Second).Truncate(time.Second)
	conn, err := goldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Bind("uid=ann,"+s.People(), "ann-secret"); err != nil {
		t.Fatalf("Ann signs in: %v", err)
	}
	after := time.Now().Add(time.Second)
	a, err := c.Get(ctx, "E1")
	if err != nil || a.LastActivity.Before(before) || a.LastActivity.After(after) {
		t.Fatalf("after Ann's sign-in: last activity %v (%v), want between %v and %v", a.LastActivity, err, before, after)
	}
	for name := range a.Attributes {
		if strings.EqualFold(name, "authTimestamp") {
			t.Errorf("authTimestamp reported as a managed attribute: %v", a.Attributes)
		}
	}
	got := map[string]time.Time{}
	if err := c.List(ctx, func(a connector.Account) error { got[a.Key] = a.LastActivity; return nil }); err != nil {
		t.Fatal(err)
	}
	if !got["E1"].Equal(a.LastActivity) || !got["E2"].IsZero() {
		t.Fatalf("List's last activity %v: want Ann's %v and none for Ian", got, a.LastActivity)
	}
	cfg.LastActivityAttribute = ""
	if a, err := newConnector(t, cfg).Get(ctx, "E1"); err != nil || !a.LastActivity.IsZero() {
		t.Fatalf("without the attribute configured: %+v %v, want nothing read", a, err)
	}
}

// The settings' default attribute: authTimestamp, lastLogonTimestamp for
// Active Directory, nothing with "none".
func TestLastActivityAttributeDefaults(t *testing.T) {
	for _, c := range []struct {
		set  string
		ad   bool
		want string
	}{{"", false, "authTimestamp"}, {"", true, "lastLogonTimestamp"}, {"pwdLastSet", true, "pwdLastSet"}, {"none", false, ""}} {
		s := ldap.Settings{URL: "ldap://127.0.0.1:1", BaseDN: "dc=x", LastActivityAttribute: c.set}
		s.Disable.ActiveDirectory = c.ad
		if got := s.Config().LastActivityAttribute; got != c.want {
			t.Errorf("last_activity_attribute %q (active_directory %v): %q, want %q", c.set, c.ad, got, c.want)
		}
	}
}

// Directories write times two ways: generalized time and FILETIME.
func TestParseActivity(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"20260412083000Z", time.Date(2026, 4, 12, 8, 30, 0, 0, time.UTC), false},
		{"20260412083000.5Z", time.Date(2026, 4, 12, 8, 30, 0, 5e8, time.UTC), false},
		{"20260412103000+0200", time.Date(2026, 4, 12, 8, 30, 0, 0, time.UTC), false},
		{"134204562000000000", time.Date(2026, 4, 12, 8, 30, 0, 0, time.UTC), false}, // lastLogonTimestamp
		{"0", time.Time{}, false},
		{"9223372036854775807", time.Time{}, false}, // never
		{"", time.Time{}, false},
		{"yesterday", time.Time{}, true},
	} {
		got, err := ldap.ParseActivity(c.in)
		if (err != nil) != c.bad || !got.Equal(c.want) {
			t.Errorf("ParseActivity(%q) = %v, %v; want %v (error: %v)", c.in, got, err, c.want, c.bad)
		}
		if c.bad && err != nil && !strings.Contains(err.Error(), c.in) {
			t.Errorf("error %v does not name %q", err, c.in)
		}
	}
}
