package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/notify"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/task"
	"github.com/tango-iga/tango/internal/workflow"
)

func note(kind, recipient, address, subject string) store.Notification {
	ch := store.ChannelEmail
	if address == "notifications.teams.it.webhook" {
		ch = store.ChannelWebhook
	}
	return store.Notification{Kind: kind, Channel: ch, Recipient: recipient, Address: address, Subject: subject, Body: subject + "\n"}
}

func testNotificationsWrittenWithTheirCause(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	c, ts, err := workflow.OpenCase(ctx, st, store.Case{Kind: store.CaseLeaver, Source: "hris", Person: "E9", OpenedAt: t0}, []store.CaseTask{
		{Team: "manager", Title: "Tell the manager", Kind: store.TaskAuto, Step: "notify-manager", Action: "notify", Assignee: "M1"},
		{Team: "it", Title: "Recover laptop", Kind: store.TaskHuman, Due: t0.Add(48 * time.Hour), Step: "recover-asset"},
	}, "wf",
		note(store.NotifyAssigned, "team:it", "it@dtaa.com", "New tasks for it"),
		note(store.NotifyAssigned, "team:it", "notifications.teams.it.webhook", "New tasks for it"),
		func() store.Notification {
			n := note(store.NotifyStep, "person:M1", "m1@dtaa.com", "E9 leaves")
			n.Step = "notify-manager"
			return n
		}())
	if err != nil {
		t.Fatal(err)
	}
	ns, err := st.Notifications(ctx, store.NotificationFilter{Case: c.ID})
	if err != nil || len(ns) != 3 {
		t.Fatalf("notifications of case %d: %+v, %v; want 3", c.ID, ns, err)
	}
	// Newest first.
	if ns[0].Task != ts[0].ID || ns[0].Step != "notify-manager" || ns[0].Address != "m1@dtaa.com" || ns[0].State != store.NotifyPending ||
		!ns[0].CreatedAt.Equal(t0) || !ns[0].NotBefore.Equal(t0) {
		t.Fatalf("step notification %+v, want tied to task %d, pending, created %v", ns[0], ts[0].ID, t0)
	}
	if ns[2].Task != 0 || ns[2].Case != c.ID || ns[2].Channel != store.ChannelEmail || ns[1].Channel != store.ChannelWebhook {
		t.Fatalf("case notifications %+v", ns[1:])
	}
	// A note for a step the case has no task of: nothing is written.
	bad := note(store.NotifyStep, "person:M1", "m1@dtaa.com", "x")
	bad.Step = "no-such-step"
	if _, _, err := workflow.OpenCase(ctx, st, store.Case{Kind: store.CaseJoiner, Source: "hris", Person: "E8", OpenedAt: t0}, []store.CaseTask{
		{Team: "it", Title: "Laptop", Kind: store.TaskHuman, Step: "equipment"}}, "wf", bad); err == nil {
		t.Fatal("a notification for an unknown step was accepted")
	}
	if cs, _ := st.Cases(ctx, store.CaseFilter{Person: "E8"}); len(cs) != 0 {
		t.Fatalf("the case was written although its notification failed: %+v", cs)
	}
	// Escalation and reminder notifications come with them, tied to the task.
	if _, err := workflow.EscalateTask(ctx, st, ts[1].ID, "it-lead", "wf", t0.Add(50*time.Hour), note(store.NotifyEscalated, "lead:it", "it-lead@dtaa.com", "Overdue")); err != nil {
		t.Fatal(err)
	}
	if rem, _ := st.CaseTasks(ctx, store.CaseTaskFilter{Status: store.TaskOpen, Unreminded: true}); len(rem) != 2 {
		t.Fatalf("unreminded tasks %+v, want 2", rem)
	}
	r, err := workflow.RemindTask(ctx, st, ts[1].ID, "wf", t0.Add(30*time.Hour), note(store.NotifyReminder, "team:it", "it@dtaa.com", "Due soon"))
	if err != nil || !r.RemindedAt.Equal(t0.Add(30*time.Hour)) {
		t.Fatalf("remind: %+v, %v", r, err)
	}
	if _, err := workflow.RemindTask(ctx, st, ts[1].ID, "wf", t0.Add(31*time.Hour)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reminding twice: %v, want ErrConflict", err)
	}
	if _, err := workflow.RemindTask(ctx, st, 99999, "wf", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reminding an unknown task: %v, want ErrNotFound", err)
	}
	if rem, _ := st.CaseTasks(ctx, store.CaseTaskFilter{Status: store.TaskOpen, Unreminded: true}); len(rem) != 1 || rem[0].ID != ts[0].ID {
		t.Fatalf("unreminded tasks %+v, want only %d", rem, ts[0].ID)
	}
	tn, _ := st.Notifications(ctx, store.NotificationFilter{Task: ts[1].ID})
	if len(tn) != 2 || tn[0].Kind != store.NotifyReminder || tn[1].Kind != store.NotifyEscalated || tn[1].Case != c.ID || tn[0].Step != "recover-asset" {
		t.Fatalf("notifications of task %d: %+v", ts[1].ID, tn)
	}
	if got, _ := st.Notifications(ctx, store.NotificationFilter{Kind: store.NotifyAssigned, Channel: store.ChannelWebhook}); len(got) != 1 {
		t.Fatalf("filter by kind and channel: %+v", got)
	}
	ents, _ := st.AuditEntries(ctx, 0, 100)
	var reminded bool
	for _, e := range ents {
		reminded = reminded || e.Action == "task.reminded"
	}
	if !reminded {
		t.Fatal("no task.reminded audit entry")
	}
	if _, err := st.QueueNotifications(ctx, []store.Notification{{Kind: store.NotifyStep, Channel: "pigeon", Recipient: "team:it", Address: "x"}}); err == nil {
		t.Fatal("an unknown channel was accepted")
	}
	if b := verify(t, st); b != nil {
		t.Fatalf("audit chain broken: %+v", b)
	}
}

func testNotificationsClaimRetryFinish(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	a := note(store.NotifyStep, "team:it", "it@dtaa.com", "A")
	a.CreatedAt = t0
	bn := note(store.NotifyStep, "team:hr", "hr@dtaa.com", "B")
	bn.CreatedAt, bn.NotBefore = t0, t0.Add(time.Hour)
	q, err := st.QueueNotifications(ctx, []store.Notification{a, bn})
	if err != nil || len(q) != 2 || q[0].ID == 0 {
		t.Fatalf("queue: %+v, %v", q, err)
	}
	// Two workers race: each notification goes to one.
	var mu sync.Mutex
	claimed := map[int64]string{}
	var wg sync.WaitGroup
	for _, w := range []string{"w1", "w2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ns, err := st.ClaimNotifications(ctx, w, t0, time.Minute, 10)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, n := range ns {
				if prev, ok := claimed[n.ID]; ok {
					t.Errorf("notification %d claimed by %s and %s", n.ID, prev, w)
				}
				claimed[n.ID] = w
			}
		}()
	}
	wg.Wait()
	if len(claimed) != 1 || claimed[q[0].ID] == "" {
		t.Fatalf("claimed %v; want only %d (the other is not due)", claimed, q[0].ID)
	}
	owner := claimed[q[0].ID]
	if err := notify.Finish(ctx, st, q[0].ID, "someone-else", t0, store.NotificationResult{State: store.NotifySent}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("finish by a non-owner: %v, want ErrConflict", err)
	}
	// A worker that died: its lease expires and another claims it.
	again, _ := st.ClaimNotifications(ctx, "w3", t0.Add(2*time.Minute), time.Minute, 10)
	if len(again) != 1 || again[0].ID != q[0].ID {
		t.Fatalf("after the lease expired: %+v", again)
	}
	if err := notify.Finish(ctx, st, q[0].ID, owner, t0, store.NotificationResult{State: store.NotifySent}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("finish by the old owner: %v, want ErrConflict", err)
	}
	// A failed try: retried at not_before, not before.
	if err := notify.Finish(ctx, st, q[0].ID, "w3", t0.Add(2*time.Minute), store.NotificationResult{State: store.NotifyPending,
		Error: "smtp 127.0.0.1:25: connection refused", NotBefore: t0.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if ns, _ := st.ClaimNotifications(ctx, "w3", t0.Add(5*time.Minute), time.Minute, 10); len(ns) != 0 {
		t.Fatalf("claimed before its retry time: %+v", ns)
	}
	ns, _ := st.ClaimNotifications(ctx, "w3", t0.Add(90*time.Minute), time.Minute, 10)
	if len(ns) != 2 || ns[0].Attempts != 1 || ns[0].LastError == "" {
		t.Fatalf("due at 90m: %+v", ns)
	}
	if err := notify.Finish(ctx, st, ns[0].ID, "w3", t0.Add(91*time.Minute), store.NotificationResult{State: store.NotifySent}); err != nil {
		t.Fatal(err)
	}
	if err := notify.Finish(ctx, st, ns[1].ID, "w3", t0.Add(91*time.Minute), store.NotificationResult{State: store.NotifyFailed, Error: "550 no such mailbox"}); err != nil {
		t.Fatal(err)
	}
	if err := notify.Finish(ctx, st, ns[1].ID, "w3", t0, store.NotificationResult{State: "bogus"}); err == nil {
		t.Fatal("an unknown result state was accepted")
	}
	sent, _ := st.Notifications(ctx, store.NotificationFilter{State: store.NotifySent})
	if len(sent) != 1 || sent[0].ID != q[0].ID || !sent[0].SentAt.Equal(t0.Add(91*time.Minute)) || sent[0].Attempts != 2 || sent[0].LeaseOwner != "" {
		t.Fatalf("sent %+v", sent)
	}
	counts, err := st.NotificationCounts(ctx)
	if err != nil || counts[store.ChannelEmail][store.NotifySent] != 1 || counts[store.ChannelEmail][store.NotifyFailed] != 1 {
		t.Fatalf("counts %v, %v", counts, err)
	}
	if page, _ := st.Notifications(ctx, store.NotificationFilter{BeforeID: q[1].ID, Limit: 5}); len(page) != 1 || page[0].ID != q[0].ID {
		t.Fatalf("page before %d: %+v", q[1].ID, page)
	}
	ents, _ := st.AuditEntries(ctx, 0, 100)
	actions := map[string]int{}
	for _, e := range ents {
		actions[e.Action]++
	}
	if actions["notification.sent"] != 1 || actions["notification.failed"] != 1 {
		t.Fatalf("audit actions %v", actions)
	}
}

func testTaskLoadByTeam(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	_, ts, err := workflow.OpenCase(ctx, st, store.Case{Kind: store.CaseLeaver, Source: "hris", Person: "E9", OpenedAt: t0}, []store.CaseTask{
		{Team: "it", Title: "Laptop", Kind: store.TaskHuman, Due: t0.Add(time.Hour), Step: "a"},
		{Team: "it", Title: "Phone", Kind: store.TaskHuman, Due: t0.Add(48 * time.Hour), Step: "b"},
		{Team: "hr", Title: "Attest", Kind: store.TaskHuman, Step: "c"},
		{Team: "hr", Title: "Done", Kind: store.TaskHuman, Due: t0.Add(time.Hour), Step: "d"},
	}, "wf")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := task.Complete(ctx, st, ts[3].ID, "ok", "alice", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := workflow.EscalateTask(ctx, st, ts[0].ID, "it-lead", "wf", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	load, err := st.TaskLoad(ctx, t0.Add(2*time.Hour))
	want := []store.TeamTasks{{Team: "hr", Open: 1}, {Team: "it", Open: 2, Overdue: 1, Escalated: 1}}
	if err != nil || len(load) != 2 || load[0] != want[0] || load[1] != want[1] {
		t.Fatalf("task load %+v, %v; want %+v", load, err, want)
	}
}

func testLifecycleClocks(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	e1, e2 := person("E1", "D", ""), person("E2", "D", "")
	op := func(kind, app, id string, at time.Time) store.Operation {
		return store.Operation{App: app, Kind: kind, Source: "hris", EmployeeID: id, State: store.OpPending, NotBefore: at.Add(-48 * time.Hour), CreatedAt: at, UpdatedAt: at}
	}
	// Joiners E1 (two apps) and E2 (no app: no clock), start date t0.
	imp := store.Import{ID: "imp-1", Source: "hris", Status: store.ImportApplied, Actor: "test", Rows: 2, CreatedAt: t0}
	evs := []store.Event{
		{ImportID: "imp-1", Source: "hris", EmployeeID: "E1", Type: store.EventJoiner, State: store.EventApplied, Effective: t0, After: &e1, CreatedAt: t0, AppliedAt: t0},
		{ImportID: "imp-1", Source: "hris", EmployeeID: "E2", Type: store.EventJoiner, State: store.EventApplied, Effective: t0, After: &e2, CreatedAt: t0, AppliedAt: t0},
	}
	if err := st.ApplyImport(ctx, imp, []store.Person{e1, e2}, evs, nil, &store.ProvisionBatch{
		Ops: []store.Operation{op(store.OpCreate, "crm", "E1", t0), op(store.OpCreate, "directory", "E1", t0)}}); err != nil {
		t.Fatal(err)
	}
	runOps := func(at time.Time, n int) {
		t.Helper()
		ops, err := st.ClaimOps(ctx, "w", at, time.Minute, n, nil)
		if err != nil || len(ops) != n {
			t.Fatalf("claim %d ops at %v: %+v, %v", n, at, ops, err)
		}
		for _, o := range ops {
			if err := st.FinishOp(ctx, o.ID, "w", at, store.OpResult{State: store.OpDone}); err != nil {
				t.Fatal(err)
			}
		}
	}
	runOps(t0.Add(-time.Hour), 1) // one account ready an hour before the start date
	clocks, err := st.LifecycleClocks(ctx, t0.Add(-24*time.Hour))
	if err != nil || len(clocks) != 1 || clocks[0].Kind != store.ClockAccess || clocks[0].EmployeeID != "E1" || clocks[0].Waiting != 1 || !clocks[0].Done.IsZero() {
		t.Fatalf("clocks with one account waiting: %+v, %v", clocks, err)
	}
	runOps(t0.Add(30*time.Minute), 1)
	clocks, _ = st.LifecycleClocks(ctx, t0.Add(-24*time.Hour))
	if len(clocks) != 1 || clocks[0].Waiting != 0 || !clocks[0].Start.Equal(t0) || !clocks[0].Done.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("access clock %+v; want from %v to %v", clocks, t0, t0.Add(30*time.Minute))
	}
	// E1 leaves a day later: both accounts disabled, the last 2h after.
	left := e1
	left.Status = store.StatusLeft
	t1 := t0.Add(24 * time.Hour)
	leave := store.Event{ImportID: "imp-2", Source: "hris", EmployeeID: "E1", Type: store.EventLeaver, State: store.EventApplied,
		Effective: t1, Before: &e1, After: &left, CreatedAt: t1, AppliedAt: t1}
	if err := st.ApplyImport(ctx, store.Import{ID: "imp-2", Source: "hris", Status: store.ImportApplied, Actor: "test", CreatedAt: t1, BaseSerial: 1},
		[]store.Person{left}, []store.Event{leave}, []audit.Entry{store.EventEntry(leave, "test", t1)},
		&store.ProvisionBatch{Ops: []store.Operation{op(store.OpDisable, "crm", "E1", t1), op(store.OpDisable, "directory", "E1", t1)}}); err != nil {
		t.Fatal(err)
	}
	runOps(t1.Add(time.Minute), 1)
	runOps(t1.Add(2*time.Hour), 1)
	clocks, _ = st.LifecycleClocks(ctx, t0.Add(-24*time.Hour))
	if len(clocks) != 2 {
		t.Fatalf("clocks %+v, want access and revoke", clocks)
	}
	if c := clocks[0]; c.Kind != store.ClockAccess || !c.Done.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("access clock after the leave %+v: the leaver's operations must not count", c)
	}
	if c := clocks[1]; c.Kind != store.ClockRevoke || !c.Start.Equal(t1) || !c.Done.Equal(t1.Add(2*time.Hour)) || c.Waiting != 0 {
		t.Fatalf("revoke clock %+v; want from %v to %v", c, t1, t1.Add(2*time.Hour))
	}
	if later, _ := st.LifecycleClocks(ctx, t0.Add(time.Hour)); len(later) != 1 || later[0].Kind != store.ClockRevoke {
		t.Fatalf("clocks since %v: %+v, want only the revoke", t0.Add(time.Hour), later)
	}
}
