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
	"time"

	"github.com/tango-iga/tango/internal/app"
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

// `tango ops retry` makes a failed operation pending again (audited with
// the operator) and refuses a second time; `tango apps release` ends a
// quarantine and refuses an app not quarantined.
func TestOpsRetryAndAppsReleaseCLI(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tango.yaml")
	db := "sqlite:" + filepath.Join(dir, "t.db")
	os.WriteFile(cfg, []byte(`
sources:
  - {name: hris, key: user_id, mapping: {display_name: employee_name}}
apps:
  - {name: badge, connector: manual, owner: it}
`), 0o600)
	ctx := context.Background()
	st, err := app.OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := st.QueueOps(ctx, store.ProvisionBatch{Ops: []store.Operation{{App: "badge", Kind: store.OpCreate, Source: "hris", EmployeeID: "E1",
		Account: `{"key":"E1"}`, Priority: store.PriorityNormal, State: store.OpFailed, Attempts: 10, LastError: "printer offline",
		NotBefore: now, Reason: "role staff", CreatedAt: now, UpdatedAt: now}}}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutAppState(ctx, store.AppState{App: "badge", Failures: 5, QuarantinedUntil: now.Add(time.Hour), LastError: "printer offline"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	args := func(a ...string) []string { return append([]string{"--db", db, "--config", cfg}, a...) }

	out, stderr, code := tango(t, args("ops", "retry", "1", "--json")...)
	var op store.Operation
	if code != 0 || json.Unmarshal([]byte(out), &op) != nil || op.State != store.OpPending || op.Attempts != 0 {
		t.Fatalf("ops retry 1: exit %d %s %s", code, out, stderr)
	}
	if _, stderr, code := tango(t, args("ops", "retry", "1")...); code != exitFail || !strings.Contains(stderr, "operation 1 is pending") {
		t.Errorf("a second retry: exit %d %s, want 1 naming the state", code, stderr)
	}
	var errb strings.Builder
	if code := execute(ctx, args("ops", "retry", "one"), io.Discard, &errb); code != exitUsage || !strings.Contains(errb.String(), `"one"`) {
		t.Errorf("ops retry one: exit %d %s, want a usage error naming it", code, errb.String())
	}
	if out, stderr, code := tango(t, args("apps", "release", "badge")...); code != 0 || !strings.Contains(out, "app badge is released") {
		t.Fatalf("apps release badge: exit %d %s %s", code, out, stderr)
	}
	if _, stderr, code := tango(t, args("apps", "release", "badge")...); code != exitFail || !strings.Contains(stderr, `app "badge" is not quarantined`) {
		t.Errorf("a second release: exit %d %s", code, stderr)
	}
	out, _, _ = tango(t, args("apps", "list", "--json")...)
	if !strings.Contains(out, `"quarantined":false`) {
		t.Errorf("apps list after the release: %s", out)
	}
	out, _, _ = tango(t, args("audit", "list", "--action", "provision", "--json")...)
	if !strings.Contains(out, "provision.retry") || !strings.Contains(out, "provision.release") || !strings.Contains(out, `"actor":"cli`) {
		t.Errorf("audit of the retry and release: %s", out)
	}
}
