package authz

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/store"
)

// people is a Directory over a fixed workforce.
type people []store.Person

func (ps people) Person(_ context.Context, source, id string) (store.Person, error) {
	for _, p := range ps {
		if p.Source == source && p.EmployeeID == id {
			return p, nil
		}
	}
	return store.Person{}, store.ErrNotFound
}

func (ps people) Persons(_ context.Context, f store.PersonFilter) ([]store.Person, error) {
	var out []store.Person
	for _, p := range ps {
		if (f.Source == "" || p.Source == f.Source) && (f.ManagerID == "" || p.ManagerID == f.ManagerID) &&
			(f.Status == "" || p.Status == f.Status) {
			out = append(out, p)
		}
	}
	return out, nil
}

func person(id, dept, manager, status string) store.Person {
	return store.Person{Source: "hris", EmployeeID: id, DisplayName: id, Department: dept, ManagerID: manager, Status: status}
}

func resolver(t *testing.T, auth config.Authorization, dir people) *Resolver {
	t.Helper()
	cfg := &config.Config{Authorization: auth, Apps: []config.App{{Name: "crm",
		Requestable: []config.Requestable{{Entitlement: "admin", Owner: "OWN1"}}}}}
	r, err := NewResolver(cfg, dir, func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRolesFollowHR(t *testing.T) {
	hrPerson := person("HR1", "HR", "BOSS", "active")
	dir := people{hrPerson, person("BOSS", "Exec", "", "active"), person("REP1", "Sales", "HR1", "active"),
		person("OWN1", "Sales", "BOSS", "active"), person("GONE", "HR", "BOSS", "left")}
	auth := config.Authorization{
		Roles: map[string]config.Holders{
			"hr":       {When: `person.department == "HR"`},
			"security": {Groups: []string{"sec-team"}},
			"admin":    {People: []string{"BOSS"}},
		},
		Teams: map[string]config.Holders{"finance-apps": {When: `person.department == "Sales"`, Lead: "BOSS"}},
	}
	r := resolver(t, auth, dir)
	ctx := context.Background()

	p, err := r.ForPerson(ctx, hrPerson, nil, "session:x")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Has(HR) || !p.Has(Manager) || !p.Has(Employee) || p.Has(Security) || p.Has(Admin) {
		t.Fatalf("HR1 (department HR, one report) holds %v, want employee, hr, manager", p.Roles)
	}
	if !slices.Contains(p.Teams, "hr") || !p.Can(ImportsWrite) || p.Can(AuditRead) {
		t.Fatalf("HR1: teams %v, imports.write %v, audit.read %v", p.Teams, p.Can(ImportsWrite), p.Can(AuditRead))
	}

	// A mover out of HR loses hr with the data that moved them.
	moved := hrPerson
	moved.Department = "Sales"
	p, err = r.ForPerson(ctx, moved, nil, "session:x")
	if err != nil {
		t.Fatal(err)
	}
	if p.Has(HR) || p.Can(ImportsWrite) || slices.Contains(p.Teams, "hr") {
		t.Fatalf("HR1 moved to Sales still holds %v (teams %v)", p.Roles, p.Teams)
	}
	if !slices.Contains(p.Teams, "finance-apps") {
		t.Fatalf("HR1 in Sales is not in team finance-apps: %v", p.Teams)
	}

	// Groups from the identity provider give a role.
	rep, _ := dir.Person(ctx, "hris", "REP1")
	p, err = r.ForPerson(ctx, rep, []string{"sec-team"}, "session:y")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Has(Security) || p.Has(Manager) || !p.Can(AuditRead) {
		t.Fatalf("REP1 with group sec-team holds %v", p.Roles)
	}

	// Named people; team lead; app owner from the catalogue.
	boss, _ := dir.Person(ctx, "hris", "BOSS")
	p, _ = r.ForPerson(ctx, boss, nil, "")
	if !p.Has(Admin) || !p.Can(TokensAdmin) || !slices.Contains(p.Leads, "finance-apps") {
		t.Fatalf("BOSS holds %v, leads %v", p.Roles, p.Leads)
	}
	owner, _ := dir.Person(ctx, "hris", "OWN1")
	p, _ = r.ForPerson(ctx, owner, nil, "")
	if !p.Has(AppOwner) {
		t.Fatalf("OWN1 owns crm/admin but holds %v", p.Roles)
	}

	// A leaver holds nothing.
	gone, _ := dir.Person(ctx, "hris", "GONE")
	if _, err := r.ForPerson(ctx, gone, nil, "token:t"); !errors.Is(err, ErrLeft) {
		t.Fatalf("a leaver resolved without ErrLeft: %v", err)
	}
}

func TestResolverRefusesBadConditions(t *testing.T) {
	cfg := &config.Config{Authorization: config.Authorization{Roles: map[string]config.Holders{"hr": {When: `person.departmnt == "HR"`}}}}
	_, err := NewResolver(cfg, people{}, time.Now)
	if err == nil || !strings.Contains(err.Error(), "authorization.roles.hr") {
		t.Fatalf("a typo in a condition: %v, want an error naming authorization.roles.hr", err)
	}
}

func TestAuditorNeverChanges(t *testing.T) {
	writes := []Permission{ImportsWrite, ImportsDecide, OpsWrite, RequestsAct, AwayAny, TokensAdmin}
	a := ForService([]Role{Auditor}, "token:audit")
	for _, w := range writes {
		if a.Can(w) {
			t.Errorf("auditor holds %s", w)
		}
	}
	for _, r := range []Permission{PersonsRead, AuditRead, ImportsRead, FindingsRead, RequestsRead, CasesRead} {
		if !a.Can(r) {
			t.Errorf("auditor lacks %s", r)
		}
	}
	err := a.Need(ImportsWrite, "POST /api/v1/imports")
	if domain.KindOf(err) != domain.KindForbidden || !strings.Contains(err.Error(), "hr") || !strings.Contains(err.Error(), "imports.write") {
		t.Fatalf("Need: %v, want a forbidden error naming the permission and the roles giving it", err)
	}
	if got := ForService(nil, "token:none"); got.Can(SignedIn) {
		t.Fatal("a token without roles counts as signed in")
	}
}

func TestRecordRules(t *testing.T) {
	emp := Principal{Person: "E1", Roles: []Role{Employee}}
	mgr := Principal{Person: "M1", Roles: []Role{Employee, Manager}}
	hr := Principal{Person: "H1", Roles: []Role{Employee, HR}, Teams: []string{"hr"}}
	self := store.Person{EmployeeID: "E1", ManagerID: "M1"}
	other := store.Person{EmployeeID: "E2", ManagerID: "M2"}
	if emp.SeePerson(self) != nil || mgr.SeePerson(self) != nil || hr.SeePerson(other) != nil {
		t.Fatal("the person, their manager or hr may not see the person")
	}
	if err := emp.SeePerson(other); domain.KindOf(err) != domain.KindForbidden {
		t.Fatalf("an employee sees someone else: %v", err)
	}
	if mgr.SeePerson(other) == nil {
		t.Fatal("a manager sees someone who is not their report")
	}

	itTask := store.Task{ID: 1, Person: "E1", Team: "it"}
	if hr.ActOnTask(itTask, nil) == nil {
		t.Fatal("hr acts on an it task")
	}
	if (Principal{Person: "L1", Leads: []string{"it"}}).ActOnTask(itTask, nil) != nil {
		t.Fatal("the it lead may not act on an it task")
	}
	hrTask := store.Task{ID: 2, Person: "H1", Team: "hr"}
	if err := hr.ActOnTask(hrTask, nil); err == nil || !strings.Contains(err.Error(), "four eyes") {
		t.Fatalf("H1 acts on a task about themself: %v", err)
	}
	mtask := store.Task{ID: 3, Person: "E1", Team: "manager", Assignee: "M1"}
	if mgr.ActOnTask(mtask, nil) != nil {
		t.Fatal("the assigned manager may not act on their task")
	}
	other2 := Principal{Person: "M2", Roles: []Role{Employee, Manager}}
	if other2.ActOnTask(mtask, nil) == nil {
		t.Fatal("another manager acts on M1's task")
	}
	if other2.ActOnTask(mtask, []string{"M2"}) != nil {
		t.Fatal("a stand-in may not act on the task")
	}
}

func TestPersonTokenNeverExceedsPerson(t *testing.T) {
	// A token's roles are intersected with the person's: asking for admin
	// on a token gives nothing the person lacks.
	held := []Role{Employee, HR}
	got := Intersect(held, []Role{Employee, Admin})
	if slices.Contains(got, Admin) || slices.Contains(got, HR) || !slices.Contains(got, Employee) {
		t.Fatalf("Intersect(%v, employee+admin) = %v", held, got)
	}
}

func TestEveryPermissionHasAHolder(t *testing.T) {
	for _, perm := range Permissions {
		if perm == Public || perm == SignedIn {
			continue
		}
		if len(roleNamesWith(perm)) == 0 {
			t.Errorf("no role gives %s", perm)
		}
	}
	for _, r := range Roles {
		if _, ok := grants[r]; !ok {
			t.Errorf("role %s has no entry in the grants table", r)
		}
	}
}
