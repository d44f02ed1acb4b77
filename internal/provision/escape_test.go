package provision_test

import (
	"testing"
	"time"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/store"
)

// TestEscapeDN: every value, escaped and put in a DN, parses back as
// exactly one single-valued RDN holding the value, below the rest.
func TestEscapeDN(t *testing.T) {
	for in, want := range map[string]string{
		"E1":              "E1",
		"EVIL1,ou=admins": `EVIL1\,ou\=admins`,
		"a+cn=b":          `a\+cn\=b`,
		` lead`:           `\ lead`,
		`#hash`:           `\#hash`,
		`trail `:          `trail\ `,
		` `:               `\ `,
		`in # side`:       `in # side`,
		`q"x;y<z>w\v`:     `q\"x\;y\<z\>w\\v`,
		"nul\x00byte":     `nul\00byte`,
		"Zoë":             "Zoë",
	} {
		got := provision.EscapeDN(in)
		if got != want {
			t.Errorf("EscapeDN(%q) = %q, want %q", in, got, want)
		}
		dn, err := goldap.ParseDN("uid=" + got + ",ou=people,dc=dtaa,dc=com")
		if err != nil {
			t.Errorf("EscapeDN(%q) = %q does not parse in a DN: %v", in, got, err)
			continue
		}
		if len(dn.RDNs) != 4 || len(dn.RDNs[0].Attributes) != 1 || dn.RDNs[0].Attributes[0].Value != in {
			t.Errorf("EscapeDN(%q) in a DN parses as %+v, want one RDN uid=%q below ou=people", in, dn.RDNs, in)
		}
	}
}

// TestDNEscapeInAccountTemplate: account templates have dn.escape, and
// with it an injected employee ID stays one RDN below ou=people.
func TestDNEscapeInAccountTemplate(t *testing.T) {
	var s provision.AppSettings
	s.Account.DN = `"uid=" + dn.escape(person.employee_id) + ",ou=people,dc=dtaa,dc=com"`
	a, errs := provision.NewApp(provision.AppSpec{Config: config.App{Name: "directory", Connector: "ldap"}, Settings: s})
	if errs != nil {
		t.Fatal(errs)
	}
	acc, err := a.Account(policy.Input{Person: &store.Person{EmployeeID: "EVIL1,ou=admins", DisplayName: "Eve"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if acc.ID != `uid=EVIL1\,ou\=admins,ou=people,dc=dtaa,dc=com` {
		t.Fatalf("account DN %q", acc.ID)
	}
	s.Account.DN = `"uid=" + dn.escape(1) + ",ou=people"`
	if _, errs := provision.NewApp(provision.AppSpec{Config: config.App{Name: "directory", Connector: "ldap"}, Settings: s}); errs == nil {
		t.Fatal("dn.escape(1) compiled")
	}
}

// FuzzEscapeDN: any UTF-8 value, escaped, is one single-valued RDN that
// LDAP's DN parser reads back as the value.
func FuzzEscapeDN(f *testing.F) {
	for _, s := range []string{"E1", "EVIL1,ou=admins", "a+cn=b", " #x ", "nul\x00", `\`, "Zoë"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || s == "" {
			return
		}
		dn, err := goldap.ParseDN("uid=" + provision.EscapeDN(s) + ",dc=dtaa,dc=com")
		if err != nil {
			t.Fatalf("EscapeDN(%q) = %q: %v", s, provision.EscapeDN(s), err)
		}
		if len(dn.RDNs) != 3 || len(dn.RDNs[0].Attributes) != 1 || dn.RDNs[0].Attributes[0].Value != s {
			t.Fatalf("EscapeDN(%q) = %q parses as %+v", s, provision.EscapeDN(s), dn.RDNs[0])
		}
	})
}
