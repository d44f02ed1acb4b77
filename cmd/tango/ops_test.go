package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tango-iga/tango/internal/store"
)

// `tango ops list` shows what is queued, waiting for a person or done; a
// manual app's operation is done when its task is completed.
func TestOpsListCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tango.yaml")
	db := "sqlite:" + filepath.Join(dir, "t.db")
	csv := filepath.Join(dir, "hris.csv")
	os.WriteFile(csv, []byte("employee_name,user_id,email,role,department,supervisor\n"+
		"Ann Boss,E1,ann@dtaa.com,CEO,Exec,\nBob Admin,E2,bob@dtaa.com,ITAdmin,IT,Ann Boss\n"), 0o600)
	os.WriteFile(cfg, []byte(`
sources:
  - {name: hris, key: user_id, mapping: {display_name: employee_name, email: email, title: role, department: department, manager: supervisor}}
apps:
  - {name: badge, connector: manual, owner: it}
roles:
  - {name: staff, when: 'person.status == "active"', grants: [{app: badge}]}
`), 0o600)
	run := func(args ...string) string {
		t.Helper()
		out, stderr, code := tango(t, append([]string{"--db", db, "--config", cfg}, args...)...)
		if code != 0 {
			t.Fatalf("tango %v: exit %d: %s", args, code, stderr)
		}
		return out
	}
	run("hr", "import", csv)
	if out := run("ops", "list", "--state", "pending", "--app", "badge"); !strings.Contains(out, "NEXT TRY") || strings.Count(out, " pending ") != 2 {
		t.Fatalf("pending operations:\n%s", out)
	}
	run("reconcile") // runs them: each becomes a task for IT
	var waiting []store.Operation
	if err := json.Unmarshal([]byte(run("ops", "list", "--state", "waiting", "--json")), &waiting); err != nil || len(waiting) != 2 || waiting[0].TaskID == 0 {
		t.Fatalf("waiting operations %+v, %v: want both creates, each with its task", waiting, err)
	}
	if out := run("ops", "list", "--state", "done"); strings.Contains(out, "badge") {
		t.Fatalf("done before anyone did it:\n%s", out)
	}
	run("tasks", "complete", strconv.FormatInt(waiting[0].TaskID, 10), "--evidence", "badge printed")
	var done []store.Operation
	if err := json.Unmarshal([]byte(run("ops", "list", "--state", "done", "--app", "badge", "--json")), &done); err != nil || len(done) != 1 || done[0].ID != waiting[0].ID {
		t.Fatalf("done operations %+v, %v: want the one whose task was completed", done, err)
	}
	root := newRoot()
	root.SetArgs([]string{"--db", db, "--config", cfg, "ops", "list", "--state", "stuck"})
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	if err := root.ExecuteContext(context.Background()); err == nil || !isUsage(err) || !strings.Contains(err.Error(), "retrying") {
		t.Fatalf("bad state: %v, want a usage error naming the states", err)
	}
}
