package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/workflow"
)

// evidenceOf is evidence of the kind a human task asks for.
func evidenceOf(kind string) string {
	switch kind {
	case store.EvidenceAttestation:
		return "I attest that the leaver holds no company data and returned everything"
	case store.EvidenceReference:
		return "CHG-1042"
	}
	return "no hold needed: no litigation pending"
}

// With the built-in config (no apps), the CERT months 2009-12 to 2010-03
// imported from the CLI and `tango serve` running: every leaver's automated
// steps are done at once, saying there is no account, and completing every
// human task with its evidence closes every leaver case.
func TestLeaverCasesCloseWithoutApps(t *testing.T) {
	if testing.Short() {
		t.Skip("imports four CERT months")
	}
	cert, err := filepath.Abs(filepath.Join("..", "..", "testdata", "cert-r5.2-ldap"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir) // no ./tango.yaml: the built-in config
	t.Setenv("TANGO_CONFIG", "")
	db := "sqlite:" + filepath.Join(dir, "t.db")
	for _, m := range []string{"2009-12", "2010-01", "2010-02", "2010-03"} {
		if out, stderr, code := tango(t, "--db", db, "hr", "import", filepath.Join(cert, m+".csv")); code != 0 || !strings.Contains(out, "status applied") {
			t.Fatalf("import %s: exit %d\n%s%s", m, code, out, stderr)
		}
	}
	ctx := context.Background()
	st, err := app.OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	r := start(t, "--db", db, "serve", "--addr", "127.0.0.1:0")
	r.addr()
	r.waitFor("25 leaver cases with every automated step done", func() bool {
		cs, err := st.Cases(ctx, store.CaseFilter{Kind: store.CaseLeaver})
		if err != nil || len(cs) != 25 {
			return false
		}
		open, err := st.CaseTasks(ctx, store.CaseTaskFilter{Kind: store.TaskAuto, Status: store.TaskOpen})
		return err == nil && len(open) == 0
	})
	auto, err := st.CaseTasks(ctx, store.CaseTaskFilter{Kind: store.TaskAuto})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"disable-accounts": "no account in any configured app (no app is configured)",
		"revoke-sessions":  "no account in any configured app (no app is configured): no session to revoke",
	}
	for _, tk := range auto {
		if w, ok := want[tk.Step]; ok && tk.Evidence != w {
			t.Fatalf("%s of %s: evidence %q, want %q", tk.Step, tk.Person, tk.Evidence, w)
		}
	}

	// Every human task, completed with evidence of its kind, in rounds as
	// their dependencies unblock them.
	for round := 0; ; round++ {
		open, err := st.CaseTasks(ctx, store.CaseTaskFilter{Kind: store.TaskHuman, Status: store.TaskOpen})
		if err != nil {
			t.Fatal(err)
		}
		if len(open) == 0 {
			break
		}
		if round > 10 {
			t.Fatalf("%d human tasks never unblocked, first %+v", len(open), open[0])
		}
		for _, tk := range open {
			if tk.Blocked {
				continue
			}
			if _, err := workflow.Complete(ctx, st, tk.ID, evidenceOf(tk.EvidenceKind), "tester", time.Now()); err != nil {
				t.Fatalf("complete %s of %s: %v", tk.Step, tk.Person, err)
			}
		}
	}
	r.stop()
	cs, err := st.Cases(ctx, store.CaseFilter{Kind: store.CaseLeaver})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Status != store.CaseClosed {
			t.Errorf("case %d of %s is %s", c.ID, c.Person, c.Status)
		}
	}
	if len(cs) != 25 {
		t.Fatalf("%d leaver cases, want 25", len(cs))
	}
}

var heldRE = regexp.MustCompile(`import (imp_\S+) held`)

// Approving a held import does what the import would have done: the
// leavers' disables are queued by `tango hr approve` itself, with no
// `tango serve` running, and its events are planned for.
func TestApproveQueuesLikeAnImport(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tango.yaml")
	db := "sqlite:" + filepath.Join(dir, "t.db")
	os.WriteFile(cfg, []byte(`
sources:
  - name: hris
    key: user_id
    mapping: {display_name: employee_name, email: email, title: role, manager: supervisor}
    safeguards: {max_leavers: "1"}
apps:
  - {name: console, connector: manual, owner: it}
roles:
  - {name: staff, when: 'person.status == "active"', grants: [{app: console}]}
`), 0o600)
	csv := filepath.Join(dir, "hris.csv")
	all := "employee_name,user_id,email,role,supervisor\nAnn Boss,E1,ann@dtaa.com,CEO,\n" +
		"Bob Admin,E2,bob@dtaa.com,ITAdmin,Ann Boss\nCat Clerk,E3,cat@dtaa.com,Clerk,Ann Boss\n"
	os.WriteFile(csv, []byte(all), 0o600)
	if out, stderr, code := tango(t, "--db", db, "--config", cfg, "hr", "import", csv); code != 0 {
		t.Fatalf("first import: exit %d\n%s%s", code, out, stderr)
	}
	// Bob and Cat leave: two leavers, more than max_leavers allows.
	os.WriteFile(csv, []byte("employee_name,user_id,email,role,supervisor\nAnn Boss,E1,ann@dtaa.com,CEO,\n"), 0o600)
	_, stderr, code := tango(t, "--db", db, "--config", cfg, "hr", "import", csv)
	m := heldRE.FindStringSubmatch(stderr)
	if code != exitHeld || m == nil {
		t.Fatalf("second import: exit %d, want %d (held)\n%s", code, exitHeld, stderr)
	}
	ctx := context.Background()
	st, err := app.OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	disables := func() []store.Operation {
		t.Helper()
		ops, err := st.Ops(ctx, store.OpFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var out []store.Operation
		for _, o := range ops {
			if o.Kind == store.OpDisable {
				out = append(out, o)
			}
		}
		return out
	}
	if d := disables(); len(d) != 0 {
		t.Fatalf("a held import queued %+v", d)
	}
	if out, stderr, code := tango(t, "--db", db, "--config", cfg, "hr", "approve", m[1]); code != 0 || !strings.Contains(out, "is now applied") {
		t.Fatalf("approve: exit %d\n%s%s", code, out, stderr)
	}
	d := disables()
	who := map[string]bool{}
	for _, o := range d {
		if o.App != "console" || o.ImportID != m[1] || o.Priority != store.PriorityDisable {
			t.Errorf("disable %+v: want console, import %s, disable priority", o, m[1])
		}
		who[o.EmployeeID] = true
	}
	if len(d) != 2 || !who["E2"] || !who["E3"] {
		t.Fatalf("after approve: disables %+v, want E2's and E3's queued by the approval", d)
	}
	if evs, err := st.Unprovisioned(ctx, 10); err != nil || len(evs) != 0 {
		t.Fatalf("after approve: events not planned for %+v (%v)", evs, err)
	}
	gs, err := st.Grants(ctx, "hris")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if (g.EmployeeID == "E2" || g.EmployeeID == "E3") && g.State != "disabled" {
			t.Errorf("grant %+v after approve, want disabled", g)
		}
	}
}
