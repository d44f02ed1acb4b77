package workflow

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/store"
)

// A task given to another team tells that team, in the outbox, written
// with the reassignment; a closed task cannot be reassigned.
func TestReassignNotifiesTheNewOwner(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "")
	f.cfg.Notifications = config.Notifications{
		SMTP: config.SMTP{Host: "127.0.0.1", Port: 2525, From: "tango@dtaa.com"},
		Teams: map[string]config.TeamContact{
			"it":         {Email: config.Addresses{"it@dtaa.com"}},
			"facilities": {Email: config.Addresses{"facilities@dtaa.com"}},
		},
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	_, ts, err := OpenCase(ctx, f.st, store.Case{Kind: store.CaseLeaver, Source: "hris", Person: "E9", OpenedAt: t0}, []store.CaseTask{
		{Team: "it", Title: "Recover laptop", Kind: store.TaskHuman, Due: t0.Add(48 * time.Hour), Step: "recover-asset", EvidenceKind: store.EvidenceText},
	}, "wf")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Reassign(ctx, f.st, f.cfg, ts[0].ID, "facilities", "", "cli:ops", t0.Add(time.Hour))
	if err != nil || got.Team != "facilities" {
		t.Fatalf("reassign: %+v, %v", got, err)
	}
	ns, err := f.st.Notifications(ctx, store.NotificationFilter{Task: ts[0].ID, Kind: store.NotifyReassigned})
	if err != nil || len(ns) != 1 || ns[0].Address != "facilities@dtaa.com" || ns[0].Recipient != "team:facilities" ||
		!strings.Contains(ns[0].Body, "Recover laptop") || !strings.Contains(ns[0].Body, "(it was it's)") {
		t.Fatalf("notifications of the reassignment: %+v, %v", ns, err)
	}
	if _, err := Complete(ctx, f.st, ts[0].ID, "returned to the service desk", "cli:ops", t0.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := Reassign(ctx, f.st, f.cfg, ts[0].ID, "it", "", "cli:ops", t0.Add(2*time.Hour)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reassigning a done task: %v, want ErrConflict", err)
	}
	if ns, _ := f.st.Notifications(ctx, store.NotificationFilter{Kind: store.NotifyReassigned}); len(ns) != 1 {
		t.Fatalf("%d reassignment notices, want 1", len(ns))
	}
}
