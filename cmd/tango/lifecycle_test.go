package main

import (
	"context"
	"path/filepath"
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
