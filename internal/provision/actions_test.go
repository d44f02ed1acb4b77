package provision_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
)

// queueIn stores one operation of app in each given state (claimed and
// finished by a worker as the engine would) and returns their IDs.
func queueIn(t *testing.T, st store.Store, at time.Time, states ...string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	ids := map[string]int64{}
	for i, state := range states {
		emp := "E" + string(rune('A'+i))
		op := store.Operation{App: "crm", Kind: store.OpCreate, Source: "hris", EmployeeID: emp, Account: `{"key":"` + emp + `"}`,
			Priority: store.PriorityNormal, State: store.OpPending, NotBefore: at, Reason: "role staff", CreatedAt: at, UpdatedAt: at}
		if err := st.QueueOps(ctx, store.ProvisionBatch{Ops: []store.Operation{op}}); err != nil {
			t.Fatal(err)
		}
		got, err := st.ClaimOps(ctx, "w", at, time.Hour, 1, nil)
		if err != nil || len(got) != 1 {
			t.Fatalf("claim: %+v %v", got, err)
		}
		ids[state] = got[0].ID
		switch state {
		case store.OpPending:
			err = st.InTx(ctx, func(tx store.Tx) error { return tx.SetOpState(got[0].ID, store.OpPending, at) })
		case store.OpRunning:
		case store.OpWaiting:
			err = st.FinishOp(ctx, got[0].ID, "w", at, store.OpResult{State: store.OpWaiting, Task: 99})
		default:
			err = st.FinishOp(ctx, got[0].ID, "w", at, store.OpResult{State: state, Error: "503 from crm", NotBefore: at.Add(time.Hour)})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func auditOf(t *testing.T, st store.Store, action string) []string {
	t.Helper()
	es, err := st.AuditQuery(context.Background(), store.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Actor+" "+e.Subject+" "+string(e.After))
	}
	return out
}

// A failed or retrying operation is pending again, due now, attempts
// reset, audited with the actor; any other state is a conflict naming it
// and changes nothing.
func TestRetryOperation(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ids := queueIn(t, st, t0, store.OpFailed, store.OpRetrying, store.OpDone, store.OpRunning, store.OpWaiting, store.OpPending)
	now := t0.Add(10 * time.Minute)
	// The engine recorded the failed operation's finding.
	if err := st.AddFinding(ctx, store.Finding{Kind: "operation-failed", App: "crm", Subject: fmt.Sprintf("op-%d", ids[store.OpFailed]),
		Team: "it", FirstSeen: t0, LastSeen: t0}); err != nil {
		t.Fatal(err)
	}
	for _, state := range []string{store.OpFailed, store.OpRetrying} {
		op, err := provision.Retry(ctx, st, ids[state], "person:E008 via session:x", now)
		if err != nil {
			t.Fatalf("retry of a %s operation: %v", state, err)
		}
		if op.State != store.OpPending || op.Attempts != 0 || !op.NotBefore.Equal(now) {
			t.Errorf("retried %s operation answered %+v", state, op)
		}
		got, err := st.Ops(ctx, store.OpFilter{State: store.OpPending})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, o := range got {
			if o.ID == ids[state] {
				found = o.Attempts == 0 && o.NotBefore.Equal(now)
			}
		}
		if !found {
			t.Errorf("the retried %s operation %d is not pending, due now, with 0 attempts: %+v", state, ids[state], got)
		}
	}
	if es := auditOf(t, st, "provision.retry"); len(es) != 2 || !strings.HasPrefix(es[0], "person:E008 via session:x EA ") || !strings.Contains(es[0], `"operation":`) {
		t.Errorf("provision.retry entries %v: want two naming the actor and the operation", es)
	}
	if fs, err := st.Findings(ctx, "operation-failed", "crm", "open"); err != nil || len(fs) != 0 {
		t.Errorf("open operation-failed findings after the retry: %+v %v, want the failed operation's resolved", fs, err)
	}
	if es := auditOf(t, st, "provision.retry"); len(es) < 1 || !strings.Contains(es[0], `"finding_resolved":true`) {
		t.Errorf("the retry of the failed operation does not say its finding was resolved: %v", es)
	}
	for _, state := range []string{store.OpDone, store.OpRunning, store.OpWaiting, store.OpPending} {
		_, err := provision.Retry(ctx, st, ids[state], "person:E008", now)
		if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "is "+state) {
			t.Errorf("retry of a %s operation: %v, want a conflict naming the state", state, err)
		}
		ops, _ := st.Ops(ctx, store.OpFilter{AfterID: ids[state] - 1, Limit: 1})
		if len(ops) != 1 || ops[0].ID != ids[state] || ops[0].State != state || ops[0].UpdatedAt.After(t0) {
			t.Errorf("the %s operation changed after a refused retry: %+v", state, ops)
		}
	}
	if _, err := provision.Retry(ctx, st, 9999, "person:E008", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("retry of an unknown operation: %v, want not found", err)
	}
	if es := auditOf(t, st, "provision.retry"); len(es) != 2 {
		t.Errorf("refused retries were audited: %v", es)
	}
	// A retried operation runs: the engine claims it now.
	claimed, err := st.ClaimOps(ctx, "w2", now, time.Minute, 10, nil)
	if err != nil || len(claimed) != 3 { // the two retried and the pending one
		t.Errorf("claimed after the retries: %+v %v", claimed, err)
	}
}

// Releasing a quarantined app clears the quarantine and its failures,
// audited; an app not quarantined (never, or no longer) is a conflict.
func TestReleaseApp(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if err := st.PutAppState(ctx, store.AppState{App: "crm", Failures: 5, QuarantinedUntil: now.Add(time.Minute), LastError: "503"}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutAppState(ctx, store.AppState{App: "old", Failures: 5, QuarantinedUntil: now.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := provision.Release(ctx, st, "nowhere", false, "person:E008", now); !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), `"nowhere"`) {
		t.Errorf("release of an app neither configured nor known: %v, want not found naming it", err)
	}
	for _, app := range []string{"old", "directory"} {
		if _, err := provision.Release(ctx, st, app, app == "directory", "person:E008", now); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), `"`+app+`" is not quarantined`) {
			t.Errorf("release of %s: %v, want a conflict naming the app", app, err)
		}
	}
	h, err := provision.Release(ctx, st, "crm", true, "person:E008", now)
	if err != nil || h.Failures != 0 || !h.QuarantinedUntil.IsZero() {
		t.Fatalf("release: %+v %v", h, err)
	}
	states, _ := st.AppStates(ctx)
	if len(states) != 2 || states[0].App != "crm" || !states[0].QuarantinedUntil.IsZero() || states[0].Failures != 0 || states[0].LastError != "503" ||
		states[1].Failures != 5 {
		t.Errorf("app states after the release: %+v", states)
	}
	if es := auditOf(t, st, "provision.release"); len(es) != 1 || !strings.HasPrefix(es[0], "person:E008 crm ") {
		t.Errorf("provision.release entries %v: want one naming the actor and the app", es)
	}
	if _, err := provision.Release(ctx, st, "crm", true, "person:E008", now); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second release: %v, want a conflict", err)
	}
}
