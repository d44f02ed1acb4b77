package storetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/tango-iga/tango/internal/store"
	taskrule "github.com/tango-iga/tango/internal/task"
)

// pendingOp is an operation of a person in an app, due at t0.
func pendingOp(app, kind, id string) store.Operation {
	return store.Operation{App: app, Kind: kind, Source: "hris", EmployeeID: id, Account: `{"Key":"` + id + `"}`,
		Priority: store.PriorityNormal, State: store.OpPending, NotBefore: t0, Reason: "role staff", CreatedAt: t0, UpdatedAt: t0}
}

// A failed try is visible as retrying, with its attempts, error and
// next try; it is claimed again once that time has come, and holds
// back the person's later operations in the app meanwhile.
func testRetryingIsVisibleAndClaimedAgain(t *testing.T, b Backend) {
	ctx := context.Background()
	now := t0
	st := b.Open(t)
	if err := st.QueueOps(ctx, store.ProvisionBatch{Ops: []store.Operation{
		pendingOp("crm", store.OpCreate, "A"), pendingOp("crm", store.OpGrant, "A"), pendingOp("crm", store.OpCreate, "B")}}); err != nil {
		t.Fatal(err)
	}
	got, err := st.ClaimOps(ctx, "w1", now, time.Minute, 10, nil)
	if err != nil || len(got) != 2 {
		t.Fatalf("claimed %+v, %v: want A's create and B's", got, err)
	}
	next := now.Add(30 * time.Second)
	if err := st.FinishOp(ctx, got[0].ID, "w1", now, store.OpResult{State: store.OpRetrying, Error: "connection refused", NotBefore: next}); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishOp(ctx, got[1].ID, "w1", now, store.OpResult{State: store.OpDone}); err != nil {
		t.Fatal(err)
	}
	retrying, err := st.Ops(ctx, store.OpFilter{State: store.OpRetrying})
	if err != nil || len(retrying) != 1 || retrying[0].ID != got[0].ID || retrying[0].Attempts != 1 ||
		retrying[0].LastError != "connection refused" || !retrying[0].NotBefore.Equal(next) {
		t.Fatalf("retrying operations %+v, %v: want A's create, 1 attempt, its error and next try", retrying, err)
	}
	if counts, _ := st.OpCounts(ctx); counts["crm"][store.OpRetrying] != 1 || counts["crm"][store.OpPending] != 1 || counts["crm"][store.OpDone] != 1 {
		t.Fatalf("counts %v: want 1 retrying, 1 pending, 1 done", counts)
	}
	// Before its next try the retry is not claimed (A's grant, behind
	// a create that is not due, runs: as behind a pending one).
	early, _ := st.ClaimOps(ctx, "w1", now.Add(10*time.Second), time.Minute, 10, nil)
	if len(early) != 1 || early[0].Kind != store.OpGrant {
		t.Fatalf("claimed before the next try: %+v", early)
	}
	if err := st.FinishOp(ctx, early[0].ID, "w1", now, store.OpResult{State: store.OpDone}); err != nil {
		t.Fatal(err)
	}
	again, err := st.ClaimOps(ctx, "w2", next, time.Minute, 10, nil)
	if err != nil || len(again) != 1 || again[0].ID != got[0].ID || again[0].State != store.OpRunning || again[0].Attempts != 1 {
		t.Fatalf("at its next try: %+v, %v: want the retrying create claimed", again, err)
	}
}

// Operations page by ID: the cursor is the last ID of a page.
func testOperationsPageByID(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	var ops []store.Operation
	for _, id := range []string{"A", "B", "C", "D", "E"} {
		ops = append(ops, pendingOp("crm", store.OpCreate, id))
	}
	if err := st.QueueOps(ctx, store.ProvisionBatch{Ops: ops}); err != nil {
		t.Fatal(err)
	}
	first, err := st.Ops(ctx, store.OpFilter{App: "crm", Limit: 2})
	if err != nil || len(first) != 2 {
		t.Fatalf("first page %+v, %v", first, err)
	}
	second, err := st.Ops(ctx, store.OpFilter{App: "crm", AfterID: first[1].ID, Limit: 2})
	if err != nil || len(second) != 2 || second[0].ID <= first[1].ID || second[0].EmployeeID != "C" || second[1].EmployeeID != "D" {
		t.Fatalf("second page %+v, %v: want C and D", second, err)
	}
	if rest, _ := st.Ops(ctx, store.OpFilter{AfterID: second[1].ID}); len(rest) != 1 || rest[0].EmployeeID != "E" {
		t.Fatalf("last page %+v: want E", rest)
	}
	// One person's: source and employee ID.
	other := pendingOp("crm", store.OpCreate, "C")
	other.Source = "other"
	if err := st.QueueOps(ctx, store.ProvisionBatch{Ops: []store.Operation{other}}); err != nil {
		t.Fatal(err)
	}
	if mine, err := st.Ops(ctx, store.OpFilter{App: "crm", Source: other.Source, EmployeeID: "C"}); err != nil || len(mine) != 1 || mine[0].Source != "other" {
		t.Fatalf("operations of other/C: %+v, %v", mine, err)
	}
	if both, _ := st.Ops(ctx, store.OpFilter{EmployeeID: "C"}); len(both) != 2 {
		t.Fatalf("operations of C in any source: %+v, want 2", both)
	}
}

// A manual app's operation waits for its task and is done, with an
// audit entry, in the transaction that completes the task.
func testWaitingOperationDoneWithItsTask(t *testing.T, b Backend) {
	ctx := context.Background()
	now := t0
	st := b.Open(t)
	if err := st.QueueOps(ctx, store.ProvisionBatch{Ops: []store.Operation{pendingOp("badge", store.OpCreate, "A"), pendingOp("badge", store.OpDisable, "B")}}); err != nil {
		t.Fatal(err)
	}
	got, err := st.ClaimOps(ctx, "w1", now, time.Minute, 10, nil)
	if err != nil || len(got) != 2 {
		t.Fatalf("claimed %+v, %v", got, err)
	}
	task := func(person string) store.Task {
		tk, err := taskrule.Create(ctx, st, store.Task{Person: person, Team: "it", App: "badge", Title: "Do it for " + person,
			Status: store.TaskOpen, Kind: store.TaskHuman, Due: now.Add(time.Hour), CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	ta, tb := task("A"), task("B")
	if err := st.FinishOp(ctx, got[0].ID, "w1", now, store.OpResult{State: store.OpWaiting, Task: ta.ID}); err != nil {
		t.Fatal(err)
	}
	// B's task is done before its operation is recorded as waiting:
	// the operation is done at once.
	if _, err := taskrule.Complete(ctx, st, tb.ID, "badge disabled", "it-1", now); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishOp(ctx, got[1].ID, "w1", now, store.OpResult{State: store.OpWaiting, Task: tb.ID}); err != nil {
		t.Fatal(err)
	}
	waiting, err := st.Ops(ctx, store.OpFilter{State: store.OpWaiting})
	if err != nil || len(waiting) != 1 || waiting[0].ID != got[0].ID || waiting[0].TaskID != ta.ID {
		t.Fatalf("waiting %+v, %v: want A's create, waiting for task %d", waiting, err, ta.ID)
	}
	if n, _ := st.ClaimOps(ctx, "w2", now.Add(time.Hour), time.Minute, 10, nil); len(n) != 0 {
		t.Fatalf("a waiting operation was claimed: %+v", n)
	}
	done := now.Add(20 * time.Minute)
	if _, err := taskrule.Complete(ctx, st, ta.ID, "badge issued", "it-1", done); err != nil {
		t.Fatal(err)
	}
	all, _ := st.Ops(ctx, store.OpFilter{App: "badge"})
	for _, o := range all {
		if o.State != store.OpDone {
			t.Fatalf("operation %d is %s after its task was completed", o.ID, o.State)
		}
	}
	if !all[0].UpdatedAt.Equal(done) {
		t.Fatalf("A's create done at %s, want when its task was (%s)", all[0].UpdatedAt, done)
	}
	entries, _ := st.AuditEntries(ctx, 0, 1000)
	found := false
	for _, e := range entries {
		var after struct {
			App  string
			Task int64
		}
		json.Unmarshal(e.After, &after)
		found = found || (e.Action == "provision.create" && e.Actor == "it-1" && e.Subject == "A" && after.App == "badge" && after.Task == ta.ID)
	}
	if !found {
		t.Fatal("no provision.create audit entry by the person who completed the task")
	}
	if b := verify(t, st); b != nil {
		t.Fatalf("chain: %v", b)
	}
}

// OperationStatesMigration checks migration 00012 on a backend:
// operations that failed and went back to pending (attempts > 0) are
// retrying after it; untried ones stay pending. p migrates db (fresh); st
// reads it; rebind turns '?' into the backend's placeholders.
func OperationStatesMigration(t *testing.T, db *sql.DB, p *goose.Provider, st store.Store, rebind func(string) string) {
	ctx := context.Background()
	if _, err := p.UpTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	ins := rebind(`INSERT INTO operations (app, kind, source, employee_id, priority, state, attempts, not_before, last_error, created_at, updated_at)
		VALUES (?, 'create', 'hris', ?, 10, ?, ?, 0, ?, 0, 0)`)
	for _, r := range []struct {
		id, state string
		attempts  int
		err       string
	}{{"A", "pending", 3, "connection refused"}, {"B", "pending", 0, ""}, {"C", "done", 1, ""}, {"D", "failed", 10, "gone"}} {
		if _, err := db.ExecContext(ctx, ins, "crm", r.id, r.state, r.attempts, r.err); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	ops, err := st.Ops(ctx, store.OpFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range ops {
		got[o.EmployeeID] = o.State
	}
	want := map[string]string{"A": store.OpRetrying, "B": store.OpPending, "C": store.OpDone, "D": store.OpFailed}
	for id, s := range want {
		if got[id] != s {
			t.Fatalf("after migration: %v, want %v", got, want)
		}
	}
}

// A retried operation is pending again, with no attempt counted, due at
// the time given and without a lease, its last error kept; an unknown
// operation is not found and changes nothing.
func testRequeueOpResetsAttemptsAndLease(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	if err := st.QueueOps(ctx, store.ProvisionBatch{Ops: []store.Operation{pendingOp("crm", store.OpCreate, "A")}}); err != nil {
		t.Fatal(err)
	}
	got, err := st.ClaimOps(ctx, "w1", t0, time.Minute, 10, nil)
	if err != nil || len(got) != 1 {
		t.Fatalf("claimed %+v, %v", got, err)
	}
	id := got[0].ID
	if err := st.FinishOp(ctx, id, "w1", t0, store.OpResult{State: store.OpFailed, Error: "boom"}); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	err = st.InTx(ctx, func(tx store.Tx) error {
		o, err := tx.Operation(id)
		if err != nil {
			return err
		}
		if o.State != store.OpFailed || o.Attempts != 1 || o.LastError != "boom" {
			t.Errorf("operation read in the transaction: %+v, want failed after 1 attempt with its error", o)
		}
		return tx.RequeueOp(id, at, at)
	})
	if err != nil {
		t.Fatal(err)
	}
	ops, err := st.Ops(ctx, store.OpFilter{App: "crm"})
	if err != nil || len(ops) != 1 {
		t.Fatalf("operations %+v, %v", ops, err)
	}
	o := ops[0]
	if o.State != store.OpPending || o.Attempts != 0 || !o.NotBefore.Equal(at) || !o.UpdatedAt.Equal(at) || o.LeaseOwner != "" || !o.LeaseUntil.IsZero() || o.LastError != "boom" {
		t.Errorf("requeued operation %+v: want pending, 0 attempts, due and updated at %v, no lease, its last error kept", o, at)
	}
	claimed, err := st.ClaimOps(ctx, "w2", at, time.Minute, 10, nil)
	if err != nil || len(claimed) != 1 || claimed[0].ID != id {
		t.Errorf("claimed after the requeue: %+v, %v: want the operation", claimed, err)
	}
	err = st.InTx(ctx, func(tx store.Tx) error { _, err := tx.Operation(id + 100); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reading an unknown operation: %v, want ErrNotFound", err)
	}
	err = st.InTx(ctx, func(tx store.Tx) error { return tx.RequeueOp(id+100, at, at) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("requeueing an unknown operation: %v, want ErrNotFound", err)
	}
}

// An app's health row reads and writes inside a transaction as outside
// it; an app without a row is not found.
func testAppStateInTx(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	until := t0.Add(time.Minute)
	if err := st.PutAppState(ctx, store.AppState{App: "crm", Failures: 5, QuarantinedUntil: until, LastError: "down", LastSuccess: t0}); err != nil {
		t.Fatal(err)
	}
	err := st.InTx(ctx, func(tx store.Tx) error {
		a, err := tx.AppState("crm")
		if err != nil {
			return err
		}
		if a.App != "crm" || a.Failures != 5 || !a.QuarantinedUntil.Equal(until) || a.LastError != "down" || !a.LastSuccess.Equal(t0) {
			t.Errorf("app state read in the transaction: %+v", a)
		}
		if _, err := tx.AppState("ldap"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("app state of an app without a row: %v, want ErrNotFound", err)
		}
		a.Failures, a.QuarantinedUntil = 0, time.Time{}
		if err := tx.PutAppState(a); err != nil {
			return err
		}
		return tx.PutAppState(store.AppState{App: "ldap", Failures: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	states, err := st.AppStates(ctx)
	if err != nil || len(states) != 2 {
		t.Fatalf("app states %+v, %v: want crm and ldap", states, err)
	}
	if s := states[0]; s.App != "crm" || s.Failures != 0 || !s.QuarantinedUntil.IsZero() || s.LastError != "down" || !s.LastSuccess.Equal(t0) {
		t.Errorf("crm after the write: %+v, want no failure, no quarantine, the rest kept", s)
	}
	if s := states[1]; s.App != "ldap" || s.Failures != 1 {
		t.Errorf("ldap after the write: %+v", s)
	}
	// An error undoes the write.
	boom := errors.New("boom")
	err = st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.PutAppState(store.AppState{App: "crm", Failures: 9}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx: %v", err)
	}
	if states, _ := st.AppStates(ctx); states[0].Failures != 0 {
		t.Errorf("crm after a rolled-back write: %+v", states[0])
	}
}

// Findings count by app, of one status or all.
func testFindingCountsByApp(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	if got, err := st.FindingCounts(ctx, "open"); err != nil || len(got) != 0 {
		t.Fatalf("counts of no finding: %v %v", got, err)
	}
	for _, f := range []store.Finding{
		{Kind: "orphan-account", App: "crm", Subject: "a"}, {Kind: "orphan-account", App: "crm", Subject: "b"},
		{Kind: "leaver-active", App: "ldap", Subject: "c"}, {Kind: "no-manager", Subject: "E9"},
	} {
		f.Team, f.FirstSeen, f.LastSeen = "security", t0, t0
		if err := st.AddFinding(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	// crm's orphan b is gone at the next reconcile: resolved.
	if err := st.ReplaceFindings(ctx, "orphan-account", "crm", []store.Finding{{Kind: "orphan-account", App: "crm", Subject: "a", Team: "security"}}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	open, err := st.FindingCounts(ctx, "open")
	if err != nil || len(open) != 3 || open["crm"] != 1 || open["ldap"] != 1 || open[""] != 1 {
		t.Errorf("open findings by app %v, %v: want crm 1, ldap 1, none 1", open, err)
	}
	all, err := st.FindingCounts(ctx, "")
	if err != nil || all["crm"] != 2 {
		t.Errorf("all findings by app %v, %v: want crm 2", all, err)
	}
	if res, err := st.FindingCounts(ctx, "resolved"); err != nil || len(res) != 1 || res["crm"] != 1 {
		t.Errorf("resolved findings by app %v, %v: want crm 1", res, err)
	}
}

// Resolving a finding in a transaction closes the open one of its kind,
// app and subject only; none open is false.
func testResolveFindingInTx(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	for _, f := range []store.Finding{{Kind: "operation-failed", App: "crm", Subject: "op-1"}, {Kind: "operation-failed", App: "crm", Subject: "op-2"},
		{Kind: "operation-failed", App: "ldap", Subject: "op-1"}} {
		f.Team, f.FirstSeen, f.LastSeen = "it", t0, t0
		if err := st.AddFinding(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	at := t0.Add(time.Hour)
	var first, second bool
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if first, err = tx.ResolveFinding("operation-failed", "crm", "op-1", at); err != nil {
			return err
		}
		second, err = tx.ResolveFinding("operation-failed", "crm", "op-1", at)
		return err
	})
	if err != nil || !first || second {
		t.Fatalf("resolve: %v %v %v: want true, then false", first, second, err)
	}
	// Added in a transaction: seen again (op-2), new (op-1 again, as the
	// first is resolved); and nothing when the transaction rolls back.
	boom := errors.New("boom")
	add := func(subject, detail string) func(tx store.Tx) error {
		return func(tx store.Tx) error {
			return tx.AddFinding(store.Finding{Kind: "operation-failed", App: "crm", Subject: subject, Detail: detail, Team: "it", FirstSeen: at, LastSeen: at})
		}
	}
	if err := st.InTx(ctx, func(tx store.Tx) error { return errors.Join(add("op-3", "")(tx), boom) }); !errors.Is(err, boom) {
		t.Fatalf("rolled back: %v", err)
	}
	if err := st.InTx(ctx, add("op-2", "again")); err != nil {
		t.Fatal(err)
	}
	if mine, _ := st.FindingsAbout(ctx, "op-2", "open"); len(mine) != 1 || mine[0].Detail != "again" || !mine[0].LastSeen.Equal(at) || !mine[0].FirstSeen.Equal(t0) {
		t.Fatalf("op-2 seen again in a transaction: %+v", mine)
	}
	if err := st.InTx(ctx, add("op-1", "anew")); err != nil {
		t.Fatal(err)
	}
	if mine, _ := st.FindingsAbout(ctx, "op-3", ""); len(mine) != 0 {
		t.Fatalf("a rolled-back finding was kept: %+v", mine)
	}
	fs, err := st.Findings(ctx, "operation-failed", "", "")
	if err != nil || len(fs) != 4 {
		t.Fatalf("findings %+v %v", fs, err)
	}
	for _, f := range fs {
		want := "open"
		if f.App == "crm" && f.Subject == "op-1" && f.Detail != "anew" {
			want = "resolved"
			if !f.LastSeen.Equal(at) {
				t.Errorf("resolved finding last seen %v, want %v", f.LastSeen, at)
			}
		}
		if f.Status != want {
			t.Errorf("finding %s %s: %s, want %s", f.App, f.Subject, f.Status, want)
		}
	}
}
