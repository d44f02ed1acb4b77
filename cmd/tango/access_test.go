package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/tango-iga/tango/internal/testenv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/workflow"
)

// tango runs the CLI in process and returns stdout, stderr and the exit code.
func tango(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code := 0
	if err != nil {
		code = exitFail
		if ee, ok := err.(*exitError); ok {
			code = ee.code
		}
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), code
}

func TestPolicyPlanAndTasksCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tango.yaml")
	db := "sqlite:" + filepath.Join(dir, "t.db")
	csv := filepath.Join(dir, "hris.csv")
	os.WriteFile(csv, []byte("employee_name,user_id,email,role,department,supervisor\n"+
		"Ann Boss,E1,ann@dtaa.com,CEO,Exec,\nBob Admin,E2,bob@dtaa.com,ITAdmin,IT,Ann Boss\n"), 0o600)
	write := func(roles string) {
		os.WriteFile(cfg, []byte(`
sources:
  - {name: hris, key: user_id, mapping: {display_name: employee_name, email: email, title: role, department: department, manager: supervisor}}
apps:
  - {name: console, connector: manual, owner: it}
roles:
`+roles), 0o600)
	}
	write(`  - {name: admins, when: 'person.title == "ITAdmin"', grants: [{app: console, entitlements: [root]}]}` + "\n")
	if _, stderr, code := tango(t, "--db", db, "--config", cfg, "hr", "import", csv); code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
	// The manual app's tasks, completed from the CLI with evidence.
	out, _, code := tango(t, "--db", db, "--config", cfg, "reconcile", "--json")
	if code != 0 || !strings.Contains(out, `"app":"console"`) || !strings.Contains(out, `"unreadable":true`) {
		t.Fatalf("reconcile: %d %s", code, out)
	}
	out, _, _ = tango(t, "--db", db, "tasks", "list", "--team", "it", "--json")
	var tasks []struct {
		ID    int64
		Title string
	}
	json.Unmarshal([]byte(out), &tasks)
	if len(tasks) != 2 || !strings.Contains(tasks[0].Title, "Bob Admin (E2)") {
		t.Fatalf("tasks: %s", out)
	}
	// Nobody completes a task about themselves: task 1 is about E2.
	if _, stderr, code := tango(t, "--db", db, "--config", cfg, "tasks", "complete", "1", "--evidence", "mine", "--as", "E2"); code != exitFail || !strings.Contains(stderr, "--as E2") || !strings.Contains(stderr, "is about E2") {
		t.Fatalf("E2 completing a task about E2: exit %d %s", code, stderr)
	}
	if _, stderr, code := tango(t, "--db", db, "--config", cfg, "tasks", "complete", "1", "--evidence", "x", "--as", "NOPE"); code != exitFail || !strings.Contains(stderr, "--as NOPE") {
		t.Fatalf("--as an unknown person: exit %d %s", code, stderr)
	}
	if _, _, code := tango(t, "--db", db, "tasks", "complete", "1", "--evidence", "CHG-1234 console account made"); code != 0 {
		t.Fatalf("complete: exit %d", code)
	}
	if _, _, code := tango(t, "--db", db, "tasks", "complete", "1", "--evidence", "again"); code == 0 {
		t.Fatal("a done task completed twice")
	}
	// The import queued Bob's access; a plan now shows nothing to change.
	out, _, code = tango(t, "--db", db, "--config", cfg, "policy", "plan", "--json")
	var plan struct {
		Changes []struct {
			EmployeeID string `json:"employee_id"`
			Gains      []struct {
				App, Entitlement string
				Roles            []string
			}
			Losses []struct{ App, Entitlement, Reason string }
		}
		Totals struct{ Persons, Gains, Losses int }
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil || code != 0 {
		t.Fatalf("plan: %v %d %s", err, code, out)
	}
	if plan.Totals.Persons != 2 || plan.Totals.Gains != 0 || plan.Totals.Losses != 0 {
		t.Fatalf("plan after the import: %+v", plan.Totals)
	}
	// Change the config: the CEO joins the role, Bob leaves it.
	write(`  - {name: admins, when: 'person.title == "CEO"', grants: [{app: console, entitlements: [root]}]}` + "\n")
	out, _, _ = tango(t, "--db", db, "--config", cfg, "policy", "plan", "--json")
	json.Unmarshal([]byte(out), &plan)
	if plan.Totals.Gains != 2 || plan.Totals.Losses != 2 || len(plan.Changes) != 2 ||
		plan.Changes[0].EmployeeID != "E1" || plan.Changes[0].Gains[1].Roles[0] != "admins" ||
		plan.Changes[1].Losses[0].Reason != "no role grants it any more" {
		t.Fatalf("plan after the config change: %s", out)
	}
	text, _, _ := tango(t, "--db", db, "--config", cfg, "policy", "plan")
	if !strings.Contains(text, "2 gains, 2 losses") || !strings.Contains(text, "+ gain") {
		t.Fatalf("text plan:\n%s", text)
	}
	// A typo in a role is a load error naming the role and the position.
	write(`  - {name: admins, when: 'person.titel == "CEO"', grants: [{app: console}]}` + "\n")
	_, stderr, code := tango(t, "--db", db, "--config", cfg, "policy", "plan")
	if code != exitFail || !strings.Contains(stderr, `role "admins": when: 1:7: unknown attribute person.titel`) {
		t.Fatalf("bad role: exit %d, %s", code, stderr)
	}
}

// A manager's own list: tasks assigned to them, whatever team owns them.
func TestTasksListByAssignee(t *testing.T) {
	ctx := context.Background()
	db := "sqlite:" + filepath.Join(t.TempDir(), "t.db")
	st, err := app.OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	_, _, err = workflow.OpenCase(ctx, st, store.Case{Kind: store.CaseLeaver, Source: "hris", Person: "E1", Status: store.CaseOpen, OpenedAt: at, Effective: at},
		[]store.CaseTask{
			{Team: "manager", Title: "Transfer E1's data", Status: store.TaskOpen, Kind: "human", CreatedAt: at, Due: at.Add(-time.Hour), Step: "transfer-data", Assignee: "M1"},
			{Team: "it", Title: "Recover E1's laptop", Status: store.TaskOpen, Kind: "human", CreatedAt: at, Step: "recover-asset"},
		}, "test")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _, code := tango(t, "--db", db, "tasks", "list", "--assignee", "M1", "--json")
	var tasks []store.CaseTask
	if err := json.Unmarshal([]byte(out), &tasks); code != 0 || err != nil || len(tasks) != 1 || tasks[0].Step != "transfer-data" || tasks[0].Assignee != "M1" {
		t.Fatalf("tasks of M1: %d %s", code, out)
	}
	out, _, _ = tango(t, "--db", db, "tasks", "list", "--assignee", "M1")
	if !strings.Contains(out, "ASSIGNEE") || !strings.Contains(out, "M1") || !strings.Contains(out, "OVERDUE") || strings.Contains(out, "laptop") {
		t.Fatalf("table: %s", out)
	}
}

// A scim source whose mapping names a path a SCIM User does not have is a
// config error when Tango starts, naming the path, not a failure of every push.
func TestSCIMSourceMappingCheckedAtLoad(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tango.yaml")
	os.WriteFile(cfg, []byte(`
sources:
  - name: workday
    kind: scim
    key: externalId
    mapping: {department: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:dept"}
`), 0o600)
	_, stderr, code := tango(t, "--db", "sqlite:"+filepath.Join(dir, "t.db"), "--config", cfg, "serve", "--addr", "127.0.0.1:0")
	if code == 0 || !strings.Contains(stderr, "User:dept") || !strings.Contains(stderr, "workday") {
		t.Fatalf("serve with a broken scim mapping: %d %s", code, stderr)
	}
}

// Reconcile against an LDAP server that refuses connections and one that
// never answers: each is given up after its reconcile_timeout, named with
// its address on stderr as it happens, shown `unreadable` in the table,
// and the other apps are reconciled all the same.
func TestReconcileUnreachableApps(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tango.yaml")
	db := "sqlite:" + filepath.Join(dir, "t.db")
	csv := filepath.Join(dir, "hris.csv")
	os.WriteFile(csv, []byte("employee_name,user_id,email\nAnn Boss,E1,ann@dtaa.com\nBob Admin,E2,bob@dtaa.com\n"), 0o600)
	silent := "ldap://" + testenv.SilentServer(t)
	ldapApp := func(name, url string) string {
		return `
  - name: ` + name + `
    connector: ldap
    url: ` + url + `
    base_dn: ou=people,dc=dtaa,dc=com
    reconcile_timeout: 1s
    account:
      dn: '"uid=" + dn.escape(person.employee_id) + ",ou=people,dc=dtaa,dc=com"'
      attributes: {uid: person.employee_id, cn: person.display_name, sn: person.display_name, employeeNumber: person.employee_id}
    disable: {replace: {employeeType: [disabled]}}`
	}
	os.WriteFile(cfg, []byte(`
sources:
  - {name: hris, key: user_id, mapping: {display_name: employee_name, email: email}}
apps:`+ldapApp("a-refused", "ldap://127.0.0.1:1")+ldapApp("b-silent", silent)+`
  - {name: console, connector: manual, owner: it}
roles:
  - {name: staff, when: 'person.status == "active"', grants: [{app: a-refused}, {app: b-silent}, {app: console}]}
`), 0o600)
	if _, stderr, code := tango(t, "--db", db, "--config", cfg, "hr", "import", csv); code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
	start := time.Now()
	out, stderr, code := tango(t, "--db", db, "--config", cfg, "reconcile", "--timeout", "2m")
	if took := time.Since(start); took > time.Minute {
		t.Errorf("reconcile took %s with reconcile_timeout 1s per app", took)
	}
	if code != exitFail {
		t.Errorf("exit %d, want %d\n%s\n%s", code, exitFail, out, stderr)
	}
	status := map[string]string{}
	for _, line := range strings.Split(out, "\n")[1:] {
		if f := strings.Fields(line); len(f) > 2 {
			status[f[0]] = f[1]
		}
	}
	if status["a-refused"] != "unreadable" || status["b-silent"] != "unreadable" {
		t.Errorf("table: want a-refused and b-silent unreadable, got %v\n%s", status, out)
	}
	for _, want := range []string{
		"reconcile a-refused: reading accounts", "reconcile b-silent: reading accounts", "reconcile console:",
		"tango: app a-refused: listing a-refused: ldap ldap://127.0.0.1:1: dial",
		"tango: app b-silent: listing b-silent: ldap " + silent, "reconcile timeout 1s",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// The manual app after them was reconciled: its team has a task per person.
	out, _, _ = tango(t, "--db", db, "tasks", "list", "--team", "it", "--json")
	var tasks []struct{ Title string }
	json.Unmarshal([]byte(out), &tasks)
	if len(tasks) != 2 {
		t.Errorf("console tasks: want 2, got %s", out)
	}
}
