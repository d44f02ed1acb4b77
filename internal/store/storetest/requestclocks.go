package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/store"
)

func testRequestNotificationsRemindEscalate(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	in := newRequest("E1", "E1")
	in.Due = t0.Add(72 * time.Hour)
	r, err := request.CreateRequest(ctx, st, in, "person:E1", note(store.NotifyRequestPending, "person:M1", "m1@dtaa.com", "Request "+store.RequestIDPlaceholder+" waits for you"))
	if err != nil {
		t.Fatal(err)
	}
	if !r.StepSince.Equal(t0) || !r.Due.Equal(t0.Add(72*time.Hour)) {
		t.Fatalf("step since %v due %v, want %v and +72h", r.StepSince, r.Due, t0)
	}
	got, _ := st.Request(ctx, r.ID)
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("read back:\n got %+v\nwant %+v", got, r)
	}
	ns, err := st.Notifications(ctx, store.NotificationFilter{Request: r.ID})
	if err != nil || len(ns) != 1 || ns[0].Request != r.ID || ns[0].Kind != store.NotifyRequestPending || ns[0].State != store.NotifyPending ||
		ns[0].Subject != fmt.Sprintf("Request %d waits for you", r.ID) || ns[0].Body != ns[0].Subject+"\n" {
		t.Fatalf("notifications of request %d: %+v, %v", r.ID, ns, err)
	}

	// Filters: not due before its deadline, due after.
	ids := func(f store.RequestFilter) int {
		rs, err := st.Requests(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	if n := ids(store.RequestFilter{DueBefore: t0.Add(71 * time.Hour), Unreminded: true}); n != 0 {
		t.Fatalf("%d due before 71h, want 0", n)
	}
	if n := ids(store.RequestFilter{DueBefore: t0.Add(73 * time.Hour), Unreminded: true, Unescalated: true}); n != 1 {
		t.Fatalf("%d due before 73h, want 1", n)
	}

	// One reminder per step, written with its notification.
	at := t0.Add(50 * time.Hour)
	rem, err := request.RemindRequest(ctx, st, r.ID, 0, "system:requests", at, note(store.NotifyRequestReminder, "person:M1", "m1@dtaa.com", "Due in 22h"))
	if err != nil || !rem.RemindedAt.Equal(at) {
		t.Fatalf("remind: %+v, %v", rem, err)
	}
	if _, err := request.RemindRequest(ctx, st, r.ID, 0, "system:requests", at); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second reminder: %v, want ErrConflict", err)
	}
	if _, err := request.RemindRequest(ctx, st, r.ID, 1, "system:requests", at); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reminder of a step that is not current: %v, want ErrConflict", err)
	}
	if n := ids(store.RequestFilter{DueBefore: t0.Add(73 * time.Hour), Unreminded: true}); n != 0 {
		t.Fatalf("%d unreminded after the reminder, want 0", n)
	}

	// One escalation per step.
	at = t0.Add(73 * time.Hour)
	esc, err := request.EscalateRequest(ctx, st, r.ID, 0, "M2", "system:requests", at, note(store.NotifyRequestEscalated, "person:M2", "m2@dtaa.com", "Escalated to you"))
	if err != nil || esc.EscalatedTo != "M2" || !esc.EscalatedAt.Equal(at) {
		t.Fatalf("escalate: %+v, %v", esc, err)
	}
	if _, err := request.EscalateRequest(ctx, st, r.ID, 0, "M3", "system:requests", at); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second escalation: %v, want ErrConflict", err)
	}
	if _, err := request.EscalateRequest(ctx, st, 999, 0, "M3", "system:requests", at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown request: %v, want ErrNotFound", err)
	}
	if n := ids(store.RequestFilter{Escalated: true}); n != 1 {
		t.Fatalf("%d escalated, want 1", n)
	}
	load, err := st.RequestLoad(ctx, at)
	if err != nil || load.Pending != 1 || load.Overdue != 1 || load.Escalated != 1 || !load.OldestPending.Equal(t0) {
		t.Fatalf("load at +73h: %+v, %v", load, err)
	}
	if ns, _ := st.Notifications(ctx, store.NotificationFilter{Request: r.ID}); len(ns) != 3 {
		t.Fatalf("%d notifications of the request, want 3: %+v", len(ns), ns)
	}

	// The escalated approver approves; the next step starts with a new
	// clock and no reminder nor escalation.
	next := esc
	next.Step = 1
	next.Approvals = []store.Approval{{Step: store.StepManager, By: "M2", At: at, InsteadOf: "M1", Escalated: true}}
	next.StepSince, next.Due, next.RemindedAt, next.EscalatedTo, next.EscalatedAt = at, at.Add(72*time.Hour), time.Time{}, "", time.Time{}
	upd, err := request.UpdateRequest(ctx, st, next, store.RequestPending, 0, "approved", "person:M2", at,
		note(store.NotifyRequestPending, "person:O1", "o1@dtaa.com", "Request waits for you"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ = st.Request(ctx, r.ID)
	if !reflect.DeepEqual(got, upd) || !got.Approvals[0].Escalated || got.EscalatedTo != "" || !got.RemindedAt.IsZero() {
		t.Fatalf("after approval:\n got %+v\nwant %+v", got, upd)
	}
	if load, _ := st.RequestLoad(ctx, at); load.Overdue != 0 || load.Escalated != 0 || load.Pending != 1 {
		t.Fatalf("load after the approval: %+v", load)
	}
	ns, _ = st.Notifications(ctx, store.NotificationFilter{Request: r.ID, Kind: store.NotifyRequestPending})
	if len(ns) != 2 || ns[0].Address != "o1@dtaa.com" {
		t.Fatalf("pending notifications: %+v", ns)
	}
	var actions []string
	entries, _ := st.AuditEntries(ctx, 0, 100)
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if want := []string{"request.created", "request.reminded", "request.escalated", "request.approved"}; !reflect.DeepEqual(actions, want) {
		t.Fatalf("audit %v, want %v", actions, want)
	}
	if br := verify(t, st); br != nil {
		t.Fatalf("audit chain broken: %+v", br)
	}
}

func testRequestNotificationRollsBackWithTheChange(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	bad := note(store.NotifyRequestPending, "person:M1", "m1@dtaa.com", "x")
	bad.Channel = "pigeon"
	if _, err := request.CreateRequest(ctx, st, newRequest("E1", "E1"), "person:E1", bad); err == nil {
		t.Fatal("a request with an invalid notification was stored")
	}
	if rs, _ := st.Requests(ctx, store.RequestFilter{}); len(rs) != 0 {
		t.Fatalf("request written without its notification: %+v", rs)
	}
}

func testApprovalClocks(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	decide := func(created time.Time, took time.Duration, state string) store.Request {
		in := newRequest("E1", "E2")
		in.CreatedAt = created
		r, err := request.CreateRequest(ctx, st, in, "person:E1")
		if err != nil {
			t.Fatal(err)
		}
		r.State, r.DecidedAt, r.DecidedBy, r.Step = state, created.Add(took), "M1", 3
		if state == store.RequestApproved {
			r.ExpiresAt = r.DecidedAt.Add(time.Hour)
		}
		if _, err := request.UpdateRequest(ctx, st, r, store.RequestPending, 0, "x", "person:M1", r.DecidedAt); err != nil {
			t.Fatal(err)
		}
		return r
	}
	old := decide(t0.Add(-40*24*time.Hour), time.Hour, store.RequestApproved) // before the window
	a := decide(t0, 2*time.Hour, store.RequestApproved)
	b2 := decide(t0.Add(time.Hour), 30*time.Minute, store.RequestApproved)
	decide(t0, time.Hour, store.RequestRejected) // not an approval
	// An approval that expired since still counts.
	if exp, err := request.ExpireRequests(ctx, st, t0.Add(100*time.Hour), "system:scheduler"); err != nil || len(exp) != 3 {
		t.Fatalf("expired %+v, %v; want 3", exp, err)
	}
	cs, err := st.ApprovalClocks(ctx, t0.Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ApprovalClock{
		{Request: b2.ID, Risk: "high", CreatedAt: b2.CreatedAt, DecidedAt: b2.DecidedAt},
		{Request: a.ID, Risk: "high", CreatedAt: a.CreatedAt, DecidedAt: a.DecidedAt},
	}
	if !reflect.DeepEqual(cs, want) {
		t.Fatalf("approval clocks\n got %+v\nwant %+v (not %d, decided before the window)", cs, want, old.ID)
	}
	if load, err := st.RequestLoad(ctx, t0); err != nil || load != (store.RequestLoad{}) {
		t.Fatalf("load with nothing pending: %+v, %v", load, err)
	}
}
