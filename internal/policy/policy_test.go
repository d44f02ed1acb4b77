package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
)

const base = `
org: {name: T, timezone: UTC}
apps:
  - {name: directory, connector: ldap}
  - {name: crm, connector: scim}
  - {name: payments, connector: manual}
`

func load(t *testing.T, roles string) (*Policy, error) {
	t.Helper()
	cfg, err := config.Parse([]byte(base+roles), "tango.yaml")
	if err != nil {
		return nil, err
	}
	return Compile(cfg)
}

func TestCompileErrorsNameRoleAndPosition(t *testing.T) {
	cases := []struct{ roles, want string }{
		{"roles:\n  - {name: admins, when: 'person.title == ', grants: [{app: directory}]}", `role "admins": when: ERROR: when:1:17`},
		{"roles:\n  - {name: admins, when: 'person.titel == \"ITAdmin\"', grants: [{app: directory}]}", `role "admins": when: 1:7: unknown attribute person.titel`},
		{"roles:\n  - {name: m, when: 'person.manager.tittle == \"CEO\"', grants: [{app: directory}]}", `unknown attribute person.manager.tittle`},
		{"roles:\n  - {name: staff, when: 'true', grants: [{app: wiki}]}", `role "staff": grants access to unknown app "wiki"`},
		{"roles:\n  - {name: staff, when: '1 + 2', grants: [{app: crm}]}", `role "staff": when gives int, want a boolean`},
		{"separation_of_duties:\n  - {name: pay, entitlements: ['payments:approve', 'ledger:post']}", `unknown app "ledger"`},
	}
	for _, c := range cases {
		_, err := load(t, c.roles)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n got %v\nwant %q", c.roles, err, c.want)
		}
	}
}

func TestDesiredRolesAndSoD(t *testing.T) {
	p, err := load(t, `
roles:
  - {name: staff, when: 'person.status == "active"', grants: [{app: directory}, {app: crm}]}
  - {name: it-admins, when: 'person.title == "ITAdmin"', grants: [{app: directory, entitlements: [admins]}]}
  - {name: finance, when: 'person.department == "Finance"', grants: [{app: payments, entitlements: [create]}]}
  - {name: approvers, when: 'person.manager.title == "CFO" || person.tenure_days > 365', grants: [{app: payments, entitlements: [approve]}]}
separation_of_duties:
  - {name: create-and-approve-payments, entitlements: ['payments:create', 'payments:approve']}
`)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	admin := &store.Person{EmployeeID: "A", Title: "ITAdmin", Status: store.StatusActive}
	got, viol, err := p.Desired(Input{Person: admin}, now)
	if err != nil || len(viol) != 0 {
		t.Fatal(err, viol)
	}
	if s := grants(got); s != "crm directory directory:admins" {
		t.Fatalf("admin gets %q", s)
	}
	if got[1].Roles[0] != "staff" || got[2].Roles[0] != "it-admins" {
		t.Fatalf("reasons %+v", got)
	}
	cfo := &store.Person{EmployeeID: "C", Title: "CFO", Status: store.StatusActive}
	fin := &store.Person{EmployeeID: "F", Department: "Finance", Status: store.StatusActive, ManagerID: "C"}
	got, viol, _ = p.Desired(Input{Person: fin, Manager: cfo}, now)
	if s := grants(got); s != "crm directory payments payments:create" {
		t.Fatalf("finance gets %q", s)
	}
	if len(viol) != 1 || viol[0].Rule != "create-and-approve-payments" || viol[0].Withheld.Entitlement != "approve" || viol[0].Role != "approvers" {
		t.Fatalf("violations %+v", viol)
	}
	left := &store.Person{EmployeeID: "L", Title: "ITAdmin", Status: store.StatusLeft}
	if got, _, _ := p.Desired(Input{Person: left}, now); len(got) != 0 {
		t.Fatalf("a leaver gets %v", got)
	}
	veteran := &store.Person{EmployeeID: "V", Status: store.StatusActive, StartDate: "2020-01-01"}
	if got, _, _ := p.Desired(Input{Person: veteran}, now); grants(got) != "crm directory payments payments:approve" {
		t.Fatalf("tenure rule: %q", grants(got))
	}
	if v := p.Check(Grant{App: "payments", Entitlement: "approve"}, []Grant{{App: "payments", Entitlement: "create"}}); v == nil || v.Rule != "create-and-approve-payments" {
		t.Fatalf("Check: %+v", v)
	}
}

func TestPlanGainsAndLosses(t *testing.T) {
	p, err := load(t, `
roles:
  - {name: staff, when: 'person.status == "active"', grants: [{app: directory}]}
  - {name: it-admins, when: 'person.title == "ITAdmin"', grants: [{app: directory, entitlements: [admins]}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	persons := []store.Person{
		{Source: "hris", EmployeeID: "A", Title: "ITAdmin", Status: store.StatusActive},
		{Source: "hris", EmployeeID: "B", Title: "Clerk", Status: store.StatusActive},
		{Source: "hris", EmployeeID: "C", Title: "ITAdmin", Status: store.StatusLeft},
	}
	current := func(src, id string) []Grant {
		switch id {
		case "B":
			return []Grant{{App: "directory"}, {App: "directory", Entitlement: "admins"}}
		case "C":
			return []Grant{{App: "directory"}}
		}
		return nil
	}
	res, err := p.Plan(persons, current, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res.Totals.Gains != 2 || res.Totals.Losses != 2 || res.Totals.Changed != 3 {
		t.Fatalf("totals %+v", res.Totals)
	}
	if res.Changes[1].Losses[0].Entitlement != "admins" || res.Changes[2].Losses[0].Reason != "person has left" {
		t.Fatalf("changes %+v", res.Changes)
	}
}

func grants(rs []Reasoned) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.String())
	}
	return strings.Join(s, " ")
}

// A review's revocation takes the access out of what a person should
// have, whether a role or a request gives it, a revoked account its
// entitlements too; an access request approved after it wins.
func TestWithoutRevoked(t *testing.T) {
	t0 := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	want := []Reasoned{
		{Grant: Grant{App: "dir"}, Roles: []string{"staff"}},
		{Grant: Grant{App: "dir", Entitlement: "Admins"}, Roles: []string{"it-admins"}},
		{Grant: Grant{App: "erp"}, Roles: []string{"staff"}},
		{Grant: Grant{App: "erp", Entitlement: "pay"}, Requests: []int64{7}},
		{Grant: Grant{App: "crm", Entitlement: "read"}, Requests: []int64{8}},
	}
	reqs := []Requested{
		{Grant: Grant{App: "erp", Entitlement: "pay"}, Request: 7, DecidedAt: t0.Add(-time.Hour)},
		{Grant: Grant{App: "crm", Entitlement: "read"}, Request: 8, DecidedAt: t0.Add(time.Hour)},
	}
	revs := []store.Revocation{
		{App: "dir", Entitlement: "admins", Item: 1, Reason: "moved", CreatedAt: t0}, // case differs: LDAP DNs
		{App: "erp", Item: 2, Reason: "left the project", CreatedAt: t0},             // the account, and so pay
		{App: "crm", Entitlement: "read", Item: 3, Reason: "x", CreatedAt: t0},       // asked again and approved after
	}
	got, why := WithoutRevoked(want, reqs, revs)
	var names []string
	for _, g := range got {
		names = append(names, g.String())
	}
	if strings.Join(names, " ") != "dir crm:read" {
		t.Fatalf("left %v, want dir and crm:read", names)
	}
	if !strings.Contains(why[Grant{App: "dir", Entitlement: "Admins"}], "item #1 revoked it: moved") ||
		!strings.Contains(why[Grant{App: "erp", Entitlement: "pay"}], "item #2") {
		t.Fatalf("reasons %v", why)
	}
	if out, why := WithoutRevoked(want, reqs, nil); len(out) != len(want) || why != nil {
		t.Fatalf("no revocation changed %v", out)
	}
}
