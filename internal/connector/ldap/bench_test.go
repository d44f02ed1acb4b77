package ldap_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/connector/ldap"
	"github.com/tango-iga/tango/internal/testenv"
)

const benchAccounts = 20000

// BenchmarkLDAPLoad loads 20,000 inetOrgPerson accounts into a fresh slapd,
// with the connector's Load (over 1 and 4 connections) and with ldapadd, and
// reports accounts/s. Run it with -benchtime=1x:
//
//	go test -run '^$' -bench LDAPLoad -benchtime=1x ./internal/connector/ldap
func BenchmarkLDAPLoad(b *testing.B) {
	accounts := make([]connector.Account, benchAccounts)
	for i := range accounts {
		accounts[i] = newAccount(i + 1)
	}
	for _, conns := range []int{1, 4} {
		b.Run(fmt.Sprintf("connector-%dconn", conns), func(b *testing.B) {
			var total time.Duration
			for range b.N {
				b.StopTimer()
				s := testenv.StartSlapd(b)
				c, err := ldap.FromConfig(ldap.Config{URL: s.URL, BindDN: s.BindDN, Password: s.Password,
					BaseDN: s.People(), KeyAttribute: "employeeNumber", LoadConnections: conns,
					Disable: ldap.Disable{MoveTo: s.Disabled()}})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				n, err := c.Load(context.Background(), accounts)
				total += time.Since(start)
				if err != nil || n != len(accounts) {
					b.Fatalf("Load = %d, %v", n, err)
				}
				c.Close()
			}
			b.ReportMetric(float64(benchAccounts*b.N)/total.Seconds(), "accounts/s")
		})
	}
	b.Run("ldapadd", func(b *testing.B) {
		ldapadd, err := exec.LookPath("ldapadd")
		if err != nil {
			b.Skip("ldapadd not installed (Debian package ldap-utils): run scripts/test-deps.sh")
		}
		var total time.Duration
		for range b.N {
			b.StopTimer()
			s := testenv.StartSlapd(b)
			ldif, pw := filepath.Join(s.Dir, "load.ldif"), filepath.Join(s.Dir, "pw")
			if err := os.WriteFile(ldif, []byte(toLDIF(s, accounts)), 0o600); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(pw, []byte(s.Password), 0o600); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			out, err := exec.Command(ldapadd, "-x", "-H", s.URL, "-D", s.BindDN, "-y", pw, "-f", ldif).CombinedOutput()
			total += time.Since(start)
			if err != nil {
				b.Fatalf("ldapadd: %v: %.2000s", err, out)
			}
		}
		b.ReportMetric(float64(benchAccounts*b.N)/total.Seconds(), "accounts/s")
	})
}

// toLDIF writes the entries Load would add, in the same attribute order.
func toLDIF(s *testenv.Slapd, accounts []connector.Account) string {
	var sb strings.Builder
	for _, a := range accounts {
		fmt.Fprintf(&sb, "dn: uid=%s,%s\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: inetOrgPerson\nuid: %s\nemployeeNumber: %s\n",
			a.Name, s.People(), a.Name, a.Key)
		for _, name := range []string{"cn", "givenName", "mail", "sn", "title"} {
			for _, v := range a.Attributes[name] {
				fmt.Fprintf(&sb, "%s: %s\n", name, v)
			}
		}
		sb.WriteString("\n")
	}
	return sb.String()
}
