package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/api"
	"github.com/tango-iga/tango/internal/notify"
	"github.com/tango-iga/tango/internal/store"
)

func TestNotificationsAndLifecycleMetrics(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFixture(t, fixtureOpts{now: func() time.Time { return now }})
	ctx := context.Background()

	// The outbox: two e-mails and a chat message, one of them sent.
	q, err := f.st.QueueNotifications(ctx, []store.Notification{
		{Kind: store.NotifyAssigned, Channel: store.ChannelEmail, Recipient: "team:it", Address: "it@dtaa.com", Subject: "A", Body: "a", Case: 4, CreatedAt: now},
		{Kind: store.NotifyAssigned, Channel: store.ChannelWebhook, Recipient: "team:it", Address: "notifications.teams.it.webhook", Subject: "A", Body: "a", Case: 4, CreatedAt: now},
		{Kind: store.NotifyReminder, Channel: store.ChannelEmail, Recipient: "person:M1", Address: "m1@dtaa.com", Subject: "R", Body: "r", Task: 9, CreatedAt: now},
	})
	if err != nil {
		t.Fatal(err)
	}
	claimed, _ := f.st.ClaimNotifications(ctx, "w", now, time.Minute, 1)
	if len(claimed) != 1 || notify.Finish(ctx, f.st, claimed[0].ID, "w", now, store.NotificationResult{State: store.NotifySent}) != nil {
		t.Fatalf("claim and finish %+v", claimed)
	}
	var page api.Page[store.Notification]
	f.getJSON("/api/v1/notifications?state=pending", f.token, 200, &page)
	if len(page.Items) != 2 || page.Items[0].ID != q[2].ID || page.Next != "" {
		t.Fatalf("pending notifications %+v", page)
	}
	f.getJSON("/api/v1/notifications?channel=webhook&kind=task.assigned&case=4", f.token, 200, &page)
	if len(page.Items) != 1 || page.Items[0].Address != "notifications.teams.it.webhook" {
		t.Fatalf("webhook notifications %+v", page)
	}
	f.getJSON("/api/v1/notifications?limit=2", f.token, 200, &page)
	if len(page.Items) != 2 || page.Next != itoa(q[1].ID) {
		t.Fatalf("first page %+v", page)
	}
	f.getJSON("/api/v1/notifications?limit=2&before="+page.Next, f.token, 200, &page)
	if len(page.Items) != 1 || page.Items[0].ID != q[0].ID || page.Items[0].State != store.NotifySent {
		t.Fatalf("second page %+v", page)
	}
	for _, bad := range []string{"state=lost", "channel=pigeon", "task=x", "kind=spam"} {
		if r := f.get("/api/v1/notifications?"+bad, f.token); r.status != 400 {
			t.Errorf("?%s: %d, want 400", bad, r.status)
		}
	}
	if r := f.get("/api/v1/notifications", ""); r.status != 401 {
		t.Errorf("no token: %d", r.status)
	}

	// Clocks: L1 left a day ago, accounts disabled 10 min and 2 h after;
	// J1 started this morning, one account still pending.
	at := now.Add(-24 * time.Hour)
	op := func(kind, app, id string, created time.Time) store.Operation {
		return store.Operation{App: app, Kind: kind, Source: "hr2", EmployeeID: id, State: store.OpPending, NotBefore: created.Add(-time.Hour), CreatedAt: created, UpdatedAt: created}
	}
	l1 := store.Person{Source: "hr2", EmployeeID: "L1", DisplayName: "L One", Status: store.StatusLeft, UpdatedAt: at}
	j1 := store.Person{Source: "hr2", EmployeeID: "J1", DisplayName: "J One", Status: store.StatusActive, UpdatedAt: at}
	start := now.Add(-3 * time.Hour)
	evs := []store.Event{
		{ImportID: "imp-c", Source: "hr2", EmployeeID: "L1", Type: store.EventLeaver, State: store.EventApplied, Effective: at, After: &l1, CreatedAt: at, AppliedAt: at},
		{ImportID: "imp-c", Source: "hr2", EmployeeID: "J1", Type: store.EventJoiner, State: store.EventApplied, Effective: start, After: &j1, CreatedAt: at, AppliedAt: at},
	}
	if err := f.st.ApplyImport(ctx, store.Import{ID: "imp-c", Source: "hr2", Status: store.ImportApplied, Actor: "test", CreatedAt: at},
		[]store.Person{l1, j1}, evs, nil, &store.ProvisionBatch{Ops: []store.Operation{
			op(store.OpDisable, "crm", "L1", at), op(store.OpDisable, "directory", "L1", at), op(store.OpCreate, "crm", "J1", at)}}); err != nil {
		t.Fatal(err)
	}
	ops, _ := f.st.ClaimOps(ctx, "w", at, time.Minute, 2, nil)
	if len(ops) != 2 {
		t.Fatalf("claimed %+v", ops)
	}
	for i, o := range ops {
		done := at.Add(10 * time.Minute)
		if i == 1 {
			done = at.Add(2 * time.Hour)
		}
		if err := f.st.FinishOp(ctx, o.ID, "w", done, store.OpResult{State: store.OpDone}); err != nil {
			t.Fatal(err)
		}
	}
	var m api.LifecycleMetrics
	f.getJSON("/api/v1/metrics/lifecycle", f.token, 200, &m)
	if r := m.TimeToRevoke; r.Count != 1 || r.P50Seconds != 7200 || r.MaxSeconds != 7200 || r.Waiting != 0 {
		t.Errorf("time to revoke %+v; want one leaver, 2h", r)
	}
	if a := m.TimeToAccess; a.Count != 0 || a.Waiting != 1 || a.WaitingLongestSeconds != 3*3600 {
		t.Errorf("time to access %+v; want one joiner waiting 3h", a)
	}
	if m.Notifications["email"]["pending"] != 1 || m.Notifications["email"]["sent"] != 1 || m.Notifications["webhook"]["pending"] != 1 {
		t.Errorf("notification counts %v", m.Notifications)
	}
	if !m.Since.Equal(now.Add(-30 * 24 * time.Hour)) {
		t.Errorf("since %v", m.Since)
	}
	f.getJSON("/api/v1/metrics/lifecycle?days=1", f.token, 200, &m) // the leave was 24h ago: still in
	if m.TimeToRevoke.Count != 1 {
		t.Errorf("a day's window: %+v", m.TimeToRevoke)
	}
	if r := f.get("/api/v1/metrics/lifecycle?days=0", f.token); r.status != 400 || !strings.Contains(string(r.body), "days") {
		t.Errorf("days=0: %d %s", r.status, r.body)
	}
	body := string(f.get("/metrics", f.token).body)
	for _, want := range []string{
		`tango_time_to_revoke_seconds{quantile="0.5"} 7200`,
		`tango_time_to_revoke_seconds_count 1`,
		`tango_time_to_access_seconds_count 0`,
		`tango_lifecycle_waiting{clock="access"} 1`,
		`tango_lifecycle_waiting_oldest_seconds{clock="access"} 10800`,
		`tango_notifications{channel="email",state="pending"} 1`,
		`tango_notifications{channel="webhook",state="failed"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, grep([]byte(body), "tango_"))
		}
	}
}
