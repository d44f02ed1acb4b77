package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/store"
)

// The CLI round: Security starts an entitlement campaign, a member of the
// owning team revokes a colleague's access (not their own, and nobody
// outside the team may), the close hands the removal to the manual app's
// team and waits, and reconcile completes the campaign once the task is
// done.
func TestReviewsCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tango.yaml")
	db := "sqlite:" + filepath.Join(dir, "t.db")
	csv := filepath.Join(dir, "hris.csv")
	os.WriteFile(csv, []byte("employee_name,user_id,email,role,department,supervisor\n"+
		"Ann Boss,E1,ann@dtaa.com,CEO,Exec,\nBob Admin,E2,bob@dtaa.com,ITAdmin,IT,Ann Boss\nCat Admin,E3,cat@dtaa.com,ITAdmin,IT,Ann Boss\n"), 0o600)
	os.WriteFile(cfg, []byte(`
sources:
  - {name: hris, key: user_id, mapping: {display_name: employee_name, email: email, title: role, department: department, manager: supervisor}}
apps:
  - {name: console, connector: manual, owner: it}
authorization:
  roles:
    it: {when: 'person.title == "ITAdmin"'}
roles:
  - {name: admins, when: 'person.title == "ITAdmin"', grants: [{app: console, entitlements: [root]}]}
`), 0o600)
	run := func(args ...string) (string, string, int) {
		t.Helper()
		return tango(t, append([]string{"--db", db, "--config", cfg}, args...)...)
	}
	if _, stderr, code := run("hr", "import", csv); code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
	if _, stderr, code := run("reviews", "start", "--kind", "entitlement", "--app", "console"); code == 0 || !strings.Contains(stderr, "--entitlement") {
		t.Fatalf("start without --entitlement: %d %s", code, stderr)
	}
	if _, stderr, code := run("reviews", "start", "--kind", "app", "--app", "console", "--due", "soon"); code == 0 || !strings.Contains(stderr, "--due") {
		t.Fatalf("start with a bad --due: %d %s", code, stderr)
	}
	out, stderr, code := run("reviews", "start", "--kind", "entitlement", "--app", "console", "--entitlement", "root", "--due", "7d")
	if code != 0 || !strings.Contains(out, "campaign 1") || !strings.Contains(out, "2 item(s)") || !strings.Contains(out, "sha256:") {
		t.Fatalf("start: %d %s %s", code, out, stderr)
	}
	out, _, _ = run("reviews", "items", "1", "--json")
	var items []store.ReviewItem
	if err := json.Unmarshal([]byte(out), &items); err != nil || len(items) != 2 || items[0].Team != "it" || items[0].Origin != "role" {
		t.Fatalf("items: %v %s", err, out)
	}
	bob := items[0]
	if bob.EmployeeID != "E2" {
		bob = items[1]
	}
	id := func(it store.ReviewItem) string { return itoa(it.ID) }
	if _, stderr, code := run("reviews", "decide", id(bob), "--decision", "keep", "--as", "E2"); code == 0 || !strings.Contains(stderr, "four eyes") {
		t.Fatalf("Bob deciding his own access: %d %s", code, stderr)
	}
	if _, stderr, code := run("reviews", "decide", id(bob), "--decision", "revoke", "--reason", "moved", "--as", "E1"); code == 0 || !strings.Contains(stderr, "team it") {
		t.Fatalf("Ann (not in team it) deciding: %d %s", code, stderr)
	}
	if _, stderr, code := run("reviews", "decide", id(bob), "--decision", "revoke", "--as", "E3"); code == 0 || !strings.Contains(stderr, "reason") {
		t.Fatalf("revoke without a reason: %d %s", code, stderr)
	}
	out, stderr, code = run("reviews", "decide", id(bob), "--decision", "revoke", "--reason", "moved to sales", "--as", "E3")
	if code != 0 || !strings.Contains(out, "revoke; 1 operation(s) queued") {
		t.Fatalf("revoke: %d %s %s", code, out, stderr)
	}
	// The preview of the plan honours the revocation as provisioning does:
	// Bob's role still gives root, yet nobody gains it back.
	out, _, _ = run("policy", "plan", "--json")
	var plan struct{ Totals struct{ Gains, Losses int } }
	if err := json.Unmarshal([]byte(out), &plan); err != nil || plan.Totals.Gains != 0 {
		t.Fatalf("policy plan after the revoke: %v %s", err, out)
	}
	out, stderr, code = run("reviews", "close", "1")
	if code != 0 || !strings.Contains(out, "campaign 1 is closed: 0 of 1 revocation(s) verified; 1 waiting for a task") {
		t.Fatalf("close: %d %s %s", code, out, stderr)
	}
	out, _, _ = run("reviews", "items", "1", "--reviewer", "", "--state", "waiting", "--json")
	items = nil
	json.Unmarshal([]byte(out), &items)
	if len(items) != 1 || items[0].Task == 0 {
		t.Fatalf("waiting items: %s", out)
	}
	if _, stderr, code := run("tasks", "complete", itoa(items[0].Task), "--evidence", "removed root from Bob"); code != 0 {
		t.Fatalf("complete the task: %d %s", code, stderr)
	}
	_, stderr, code = run("reconcile")
	if code != 0 || !strings.Contains(stderr, "review campaign 1 is complete") {
		t.Fatalf("reconcile: %d %s", code, stderr)
	}
	out, _, _ = run("reviews", "list")
	if !strings.Contains(out, "complete") {
		t.Fatalf("list: %s", out)
	}
	out, _, _ = run("reviews", "items", "1")
	if !strings.Contains(out, "verified") || !strings.Contains(out, "kept") || !strings.Contains(out, "revoke by E3: moved to sales") {
		t.Fatalf("items after reconcile:\n%s", out)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A modify from the CLI: refused without --entitlement or to one the app
// does not know; done, the item names the new entitlement and its
// request, the removal and the grant are queued at once, and the listing
// shows it.
func TestReviewsCLIModify(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tango.yaml")
	db := "sqlite:" + filepath.Join(dir, "t.db")
	csv := filepath.Join(dir, "hris.csv")
	os.WriteFile(csv, []byte("employee_name,user_id,email,role,department,supervisor\n"+
		"Ann Boss,E1,ann@dtaa.com,CEO,Exec,\nBob Admin,E2,bob@dtaa.com,ITAdmin,IT,Ann Boss\nCat Admin,E3,cat@dtaa.com,ITAdmin,IT,Ann Boss\n"), 0o600)
	os.WriteFile(cfg, []byte(`
sources:
  - {name: hris, key: user_id, mapping: {display_name: employee_name, email: email, title: role, department: department, manager: supervisor}}
apps:
  - {name: console, connector: manual, owner: it, requestable: [{entitlement: helpdesk, owner: E1}]}
authorization:
  roles:
    it: {when: 'person.title == "ITAdmin"'}
roles:
  - {name: admins, when: 'person.title == "ITAdmin"', grants: [{app: console, entitlements: [root]}]}
`), 0o600)
	run := func(args ...string) (string, string, int) {
		t.Helper()
		return tango(t, append([]string{"--db", db, "--config", cfg}, args...)...)
	}
	if _, stderr, code := run("hr", "import", csv); code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
	// Reconcile read Bob's last sign-in to the console 143 days ago.
	st, err := app.OpenStore(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	err = st.PutAccountActivity(context.Background(), []store.AccountActivity{{App: "console", Source: "hris", EmployeeID: "E2",
		LastActivity: time.Now().Add(-143*24*time.Hour - time.Hour), ReadAt: time.Now()}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if out, stderr, code := run("reviews", "start", "--kind", "entitlement", "--app", "console", "--entitlement", "root"); code != 0 {
		t.Fatalf("start: %d %s %s", code, out, stderr)
	}
	out, _, _ := run("reviews", "items", "1", "--json")
	var items []store.ReviewItem
	if err := json.Unmarshal([]byte(out), &items); err != nil || len(items) != 2 || !strings.Contains(out, `"inactive_days":143`) || !strings.Contains(out, `"last_activity":"`) {
		t.Fatalf("items: %v %s", err, out)
	}
	bob := items[0]
	if bob.EmployeeID != "E2" {
		bob = items[1]
	}
	if bob.InactiveDays != 143 || !strings.HasPrefix(bob.Recommendation, "revoke: inactive for 143 days") {
		t.Fatalf("Bob's item: %+v; want inactive for 143 days, recommended for revocation", bob)
	}
	if text, _, _ := run("reviews", "items", "1"); !strings.Contains(text, "(143 days before the start)") || !strings.Contains(text, "revoke: inactive for 143 days") {
		t.Fatalf("items listing without the last activity:\n%s", text)
	}
	if _, stderr, code := run("reviews", "decide", itoa(bob.ID), "--decision", "modify", "--reason", "helpdesk only", "--as", "E3"); code != 1 || !strings.Contains(stderr, "--entitlement") {
		t.Fatalf("modify without --entitlement: %d %s", code, stderr)
	}
	if _, stderr, code := run("reviews", "decide", itoa(bob.ID), "--decision", "modify", "--entitlement", "nope", "--reason", "x", "--as", "E3"); code != 1 || !strings.Contains(stderr, `"nope"`) || !strings.Contains(stderr, "helpdesk") {
		t.Fatalf("modify to an unknown entitlement: %d %s", code, stderr)
	}
	out, stderr, code := run("reviews", "decide", itoa(bob.ID), "--decision", "modify", "--entitlement", "helpdesk", "--reason", "helpdesk only", "--as", "E3")
	if code != 0 || !strings.Contains(out, "modify to helpdesk (request 1); 2 operation(s) queued") {
		t.Fatalf("modify: %d %s %s", code, out, stderr)
	}
	out, _, _ = run("reviews", "items", "1", "--json")
	items = nil
	json.Unmarshal([]byte(out), &items)
	var got store.ReviewItem
	for _, it := range items {
		if it.ID == bob.ID {
			got = it
		}
	}
	if got.Decision != store.DecisionModify || got.NewEntitlement != "helpdesk" || got.Request != 1 || got.State != store.ItemRevoking {
		t.Fatalf("modified item: %+v", got)
	}
	out, _, _ = run("reviews", "items", "1")
	if !strings.Contains(out, "modify to helpdesk by E3: helpdesk only") || !strings.Contains(out, "LAST ACTIVITY") {
		t.Fatalf("items listing:\n%s", out)
	}
	out, _, _ = run("ops", "list", "--json")
	if !strings.Contains(out, `"kind":"revoke"`) || !strings.Contains(out, `"entitlement":"helpdesk"`) {
		t.Fatalf("operations after the modify: %s", out)
	}
}
