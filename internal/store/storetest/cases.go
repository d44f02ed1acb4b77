package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/task"
	"github.com/tango-iga/tango/internal/workflow"
)

func testCasesOpenOncePerEvent(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	load(t, st, "imp-1", 0, person("E1", "D", ""), person("E2", "D", "E1"))
	evs, err := st.PendingCaseEvents(ctx, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("pending events: %d, %v; want 2", len(evs), err)
	}
	if err := st.SkipCaseEvents(ctx, []int64{evs[0].ID}); err != nil {
		t.Fatal(err)
	}
	ev := evs[1]
	c := store.Case{Kind: store.CaseJoiner, Source: "hris", Person: ev.EmployeeID, EventID: ev.ID, Effective: t0, OpenedAt: t0}
	tasks := []store.CaseTask{{Team: "it", Title: "Issue a laptop", Kind: store.TaskHuman, Due: t0.Add(time.Hour), Step: "equipment", EvidenceKind: store.EvidenceReference}}
	// Several processes race for the same event: exactly one case.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won, conflicts int
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := workflow.OpenCase(ctx, st, c, tasks, "wf")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, store.ErrConflict):
				conflicts++
			default:
				t.Errorf("open case: %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || conflicts != 3 {
		t.Fatalf("%d cases opened, %d conflicts; want 1 and 3", won, conflicts)
	}
	if evs, _ := st.PendingCaseEvents(ctx, 10); len(evs) != 0 {
		t.Fatalf("events still pending: %+v", evs)
	}
	cs, err := st.Cases(ctx, store.CaseFilter{})
	if err != nil || len(cs) != 1 || cs[0].Status != store.CaseOpen || cs[0].ClosedAt != nil || cs[0].Person != "E2" || !cs[0].Effective.Equal(t0) {
		t.Fatalf("cases %+v, %v", cs, err)
	}
	ts, _ := st.CaseTasks(ctx, store.CaseTaskFilter{Case: cs[0].ID})
	if len(ts) != 1 || ts[0].Step != "equipment" || ts[0].EvidenceKind != store.EvidenceReference || ts[0].Person != "E2" || ts[0].Status != store.TaskOpen {
		t.Fatalf("tasks %+v", ts)
	}
	if b := verify(t, st); b != nil {
		t.Fatalf("audit chain broken: %+v", b)
	}
}

func testCaseTasksDependenciesCloseEscalate(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	c, ts, err := workflow.OpenCase(ctx, st, store.Case{Kind: store.CaseLeaver, Source: "hris", Person: "E9", OpenedAt: t0}, []store.CaseTask{
		{Team: "it", Title: "Disable", Kind: store.TaskAuto, Step: "disable", Action: "disable_accounts"},
		{Team: "it", Title: "Laptop", Kind: store.TaskHuman, Due: t0.Add(24 * time.Hour), Step: "asset", DependsOn: []string{"disable"}},
		{Team: "it", Title: "Phone", Kind: store.TaskHuman, Step: "asset", DependsOn: []string{"disable"}},
		{Team: "hr", Title: "Attest", Kind: store.TaskHuman, Due: t0.Add(48 * time.Hour), Step: "attest", DependsOn: []string{"asset"}, EvidenceKind: store.EvidenceAttestation},
	}, "wf")
	if err != nil || c.ID == 0 || len(ts) != 4 || ts[0].ID == 0 || ts[3].Case != c.ID {
		t.Fatalf("open: %+v %+v %v", c, ts, err)
	}
	got, _ := st.CaseTasks(ctx, store.CaseTaskFilter{Case: c.ID})
	if got[0].Blocked || !got[1].Blocked || !got[3].Blocked || strings.Join(got[3].DependsOn, ",") != "asset" {
		t.Fatalf("blocked flags: %+v", got)
	}
	if _, err := task.Complete(ctx, st, ts[1].ID, "returned", "alice", t0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("completing a blocked task: %v, want ErrConflict", err)
	}
	// Escalation: overdue, unescalated open tasks.
	late, _ := st.CaseTasks(ctx, store.CaseTaskFilter{Status: store.TaskOpen, DueBefore: t0.Add(30 * time.Hour), Unescalated: true})
	if len(late) != 1 || late[0].ID != ts[1].ID {
		t.Fatalf("overdue tasks %+v", late)
	}
	if e, err := workflow.EscalateTask(ctx, st, ts[1].ID, "it-lead", "wf", t0.Add(30*time.Hour)); err != nil || e.EscalatedTo != "it-lead" {
		t.Fatalf("escalate: %+v %v", e, err)
	}
	if _, err := workflow.EscalateTask(ctx, st, ts[1].ID, "it-lead", "wf", t0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("escalating twice: %v", err)
	}
	if late, _ := st.CaseTasks(ctx, store.CaseTaskFilter{Status: store.TaskOpen, DueBefore: t0.Add(30 * time.Hour), Unescalated: true}); len(late) != 0 {
		t.Fatalf("still unescalated: %+v", late)
	}
	if esc, _ := st.CaseTasks(ctx, store.CaseTaskFilter{EscalatedTo: "it-lead"}); len(esc) != 1 || esc[0].ID != ts[1].ID {
		t.Fatalf("tasks escalated to it-lead: %+v", esc)
	}
	if r, err := workflow.ReassignTask(ctx, st, ts[2].ID, "facilities", "", "bob", t0); err != nil || r.Team != "facilities" {
		t.Fatalf("reassign: %+v %v", r, err)
	}
	if fac, _ := st.CaseTasks(ctx, store.CaseTaskFilter{Team: "facilities"}); len(fac) != 1 || fac[0].ID != ts[2].ID {
		t.Fatalf("facilities tasks %+v", fac)
	}
	for i, id := range []int64{ts[0].ID, ts[1].ID, ts[2].ID} {
		if _, err := task.Complete(ctx, st, id, "ok", "alice", t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatalf("complete %d: %v", id, err)
		}
		if c, _ := st.Case(ctx, c.ID); c.Status != store.CaseOpen {
			t.Fatalf("case closed before its last task: %+v", c)
		}
	}
	done, err := task.Complete(ctx, st, ts[3].ID, "I attest", "carol", t0.Add(time.Hour))
	if err != nil || done.Status != store.TaskDone || done.Evidence != "I attest" {
		t.Fatalf("last task: %+v %v", done, err)
	}
	closed, _ := st.Case(ctx, c.ID)
	if closed.Status != store.CaseClosed || closed.ClosedAt == nil || !closed.ClosedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("case after its last task: %+v", closed)
	}
	ents, _ := st.AuditEntries(ctx, 0, 1000)
	actions := map[string]int{}
	for _, e := range ents {
		actions[e.Action]++
	}
	if actions["case.opened"] != 1 || actions["task.created"] != 4 || actions["task.completed"] != 4 || actions["case.closed"] != 1 ||
		actions["task.escalated"] != 1 || actions["task.reassigned"] != 1 {
		t.Fatalf("audit actions %v", actions)
	}
	if last := ents[len(ents)-1]; last.Action != "case.closed" || last.Actor != "carol" {
		t.Fatalf("last entry %+v", last)
	}
	if _, err := task.Complete(ctx, st, 999999, "x", "a", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown task: %v", err)
	}
	if b := verify(t, st); b != nil {
		t.Fatalf("audit chain broken: %+v", b)
	}
}

func testCancelledEventClosesCase(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	load(t, st, "imp-1", 0, person("E1", "D", ""))
	p := person("E1", "D", "")
	p.Status = store.StatusLeft
	// A scheduled leave, then a new import that changes the end date cancels it.
	imp := store.Import{ID: "imp-2", Source: "hris", Status: store.ImportApplied, Actor: "test", Rows: 1, CreatedAt: t0, BaseSerial: 1}
	ev := store.Event{ImportID: "imp-2", Source: "hris", EmployeeID: "E1", Type: store.EventLeaver, State: store.EventScheduled,
		Effective: t0.Add(240 * time.Hour), After: &p, CreatedAt: t0}
	if err := st.ApplyImport(ctx, imp, nil, []store.Event{ev}, nil, nil); err != nil {
		t.Fatal(err)
	}
	evs, _ := st.PendingCaseEvents(ctx, 10)
	var sched store.Event
	for _, e := range evs {
		if e.State == store.EventScheduled {
			sched = e
		}
	}
	if sched.ID == 0 {
		t.Fatalf("scheduled event not pending: %+v", evs)
	}
	c, _, err := workflow.OpenCase(ctx, st, store.Case{Kind: store.CaseLeaver, Source: "hris", Person: "E1", EventID: sched.ID, OpenedAt: t0},
		[]store.CaseTask{{Team: "hr", Title: "Exit interview", Kind: store.TaskHuman, Step: "exit"}}, "wf")
	if err != nil {
		t.Fatal(err)
	}
	if cs, _ := workflow.CloseCancelledCases(ctx, st, "wf", t0); len(cs) != 0 {
		t.Fatalf("closed a live case: %+v", cs)
	}
	if _, err := b.Raw(st).ExecContext(ctx, fmt.Sprintf(`UPDATE events SET state = 'cancelled' WHERE id = %d`, sched.ID)); err != nil {
		t.Fatal(err)
	}
	cs, err := workflow.CloseCancelledCases(ctx, st, "wf", t0.Add(time.Hour))
	if err != nil || len(cs) != 1 || cs[0].ID != c.ID || cs[0].Status != store.CaseClosed {
		t.Fatalf("cancelled cases %+v, %v", cs, err)
	}
	ts, _ := st.CaseTasks(ctx, store.CaseTaskFilter{Case: c.ID})
	if len(ts) != 1 || ts[0].Status != store.TaskSkipped {
		t.Fatalf("tasks of a cancelled case %+v", ts)
	}
	prog, err := st.EventProgress(ctx, []int64{sched.ID})
	if err != nil || prog[sched.ID].State != "cancelled" {
		t.Fatalf("progress %+v %v", prog, err)
	}
}
