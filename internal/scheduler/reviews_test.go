package scheduler_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/review"
	"github.com/tango-iga/tango/internal/scheduler"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
)

// A pass of the scheduler closes the campaigns past their deadline.
func TestPassClosesReviewsAtTheirDeadline(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg, err := config.Parse([]byte(`
sources: [{name: hris, key: id, mapping: {display_name: name, manager: boss}}]
apps: [{name: console, connector: manual, owner: ops}]
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src, _ := cfg.Source("hris")
	if _, err := hr.ImportFile(ctx, st, cfg, src, "p.csv", []byte("id,name,boss\nE1,Ann,\nE2,Bob,E1\n"), hr.Options{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := st.QueueOps(ctx, store.ProvisionBatch{Put: []store.GrantRow{{App: "console", Source: "hris", EmployeeID: "E2", State: "active", Reason: "legacy"}}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clock := func() time.Time { return now }
	svc, err := review.New(st, cfg, review.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewManager, Undecided: store.DecisionRevoke, Due: time.Hour, Actor: "test"})
	if err != nil || c.Items != 1 {
		t.Fatalf("start: %+v %v", c, err)
	}
	s := scheduler.New(st, nil, nil, slog.New(slog.DiscardHandler), clock).WithReviews(scheduler.Reviews{Service: svc})
	if _, err := s.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Campaign(ctx, c.ID); got.State != store.CampaignOpen {
		t.Fatalf("before the deadline: %s", got.State)
	}
	now = now.Add(2 * time.Hour)
	if _, err := s.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Campaign(ctx, c.ID)
	revs, _ := st.Revocations(ctx, "", true)
	if got.State != store.CampaignClosed || len(revs) != 1 || revs[0].EmployeeID != "E2" {
		t.Fatalf("after the deadline: campaign %s, revocations %+v; want closed with E2's revoked by the policy", got.State, revs)
	}
}

// Recurring campaigns (reviews.campaigns): two processes sharing the
// database start one campaign at the first pass, none until every has
// passed since, then the next one; each closes at its due.
func TestPassStartsRecurringReviewsOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	cfg, err := config.Parse([]byte(`
sources: [{name: hris, key: id, mapping: {display_name: name, manager: boss}}]
apps: [{name: console, connector: manual, owner: ops}]
reviews:
  campaigns: [{kind: app, app: console, every: 90d, due: 14d, undecided: keep}]
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var passes []*scheduler.Scheduler
	var st store.Store
	for i := range 2 { // two processes, each with its own connection to the database
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if i == 0 {
			st = s
			src, _ := cfg.Source("hris")
			if _, err := hr.ImportFile(ctx, st, cfg, src, "p.csv", []byte("id,name,boss\nE1,Ann,\nE2,Bob,E1\n"), hr.Options{Actor: "test"}); err != nil {
				t.Fatal(err)
			}
			if err := st.QueueOps(ctx, store.ProvisionBatch{Put: []store.GrantRow{{App: "console", Source: "hris", EmployeeID: "E2", State: "active", Reason: "legacy"}}}); err != nil {
				t.Fatal(err)
			}
		}
		svc, err := review.New(s, cfg, review.Options{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		passes = append(passes, scheduler.New(s, nil, nil, slog.New(slog.DiscardHandler), clock).WithReviews(scheduler.Reviews{Service: svc}))
	}
	pass := func() []store.Campaign {
		t.Helper()
		for _, p := range passes {
			if _, err := p.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		cs, err := st.Campaigns(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	cs := pass()
	if len(cs) != 1 || cs[0].Kind != store.ReviewApp || cs[0].App != "console" || cs[0].Items != 1 || cs[0].CreatedBy != scheduler.Actor ||
		!cs[0].DueAt.Equal(now.Add(14*24*time.Hour)) || cs[0].State != store.CampaignOpen {
		t.Fatalf("first pass: %+v, want one open app campaign due in 14 days", cs)
	}
	now = now.Add(15 * 24 * time.Hour)
	if cs = pass(); len(cs) != 1 || cs[0].State != store.CampaignClosed {
		t.Fatalf("after 15 days: %+v, want the one campaign closed", cs)
	}
	now = now.Add(75*24*time.Hour - time.Minute) // a minute short of 90 days
	if cs = pass(); len(cs) != 1 {
		t.Fatalf("before 90 days: %d campaigns", len(cs))
	}
	now = now.Add(time.Minute)
	if cs = pass(); len(cs) != 2 || cs[0].State != store.CampaignOpen || cs[0].App != "console" {
		t.Fatalf("after 90 days: %+v, want a second open campaign", cs)
	}
	if at, _ := st.ReviewScheduleStarted(ctx, "app:console"); !at.Equal(now) {
		t.Fatalf("last start %v, want %v", at, now)
	}
}

// A pass opens a mover's review: an import moves E2 out of the role that
// gave console:root; the pass puts the root kept for the grace to E1,
// the new manager; the next pass opens no second one.
func TestPassOpensAMoversReview(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg, err := config.Parse([]byte(`
sources: [{name: hris, key: id, mapping: {display_name: name, title: title, manager: boss}}]
apps: [{name: console, connector: manual, owner: ops}]
roles: [{name: admins, when: 'person.title == "Admin"', grants: [{app: console, entitlements: [root]}]}]
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := app.LoadApps(cfg, st, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	eng := provision.New(st, pol, apps, provision.Options{Log: slog.New(slog.DiscardHandler), Now: time.Now})
	defer eng.Close()
	src, _ := cfg.Source("hris")
	for i, org := range []string{"id,name,title,boss\nE1,Ann,Boss,\nE3,Cid,Boss,\nE2,Bob,Admin,E3\n", "id,name,title,boss\nE1,Ann,Boss,\nE3,Cid,Boss,\nE2,Bob,Clerk,E1\n"} {
		if res, err := hr.ImportFile(ctx, st, cfg, src, fmt.Sprintf("m%d.csv", i), []byte(org), hr.Options{Actor: "test", Provision: eng.ForImport}); err != nil || res.Status != store.ImportApplied {
			t.Fatalf("import %d: %v %+v", i, err, res)
		}
	}
	svc, err := review.New(st, cfg, review.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	s := scheduler.New(st, nil, nil, slog.New(slog.DiscardHandler), time.Now).WithReviews(scheduler.Reviews{Service: svc})
	for range 2 {
		if _, err := s.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cs, _ := st.Campaigns(ctx, "")
	if len(cs) != 1 || cs[0].Kind != store.ReviewMover || cs[0].Items != 1 {
		t.Fatalf("campaigns %+v: want one mover review", cs)
	}
	items, _ := st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: cs[0].ID})
	if len(items) != 1 || items[0].EmployeeID != "E2" || items[0].Entitlement != "root" || items[0].Reviewer != "E1" {
		t.Fatalf("items %+v: want E2's root reviewed by E1", items)
	}
}

// Near a campaign's deadline each pass reminds the reviewers with pending
// items (once, however many processes run passes) and escalates pending
// items to the reviewers' managers, before closing it at the deadline.
func TestPassRemindsAndEscalatesBeforeTheClose(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	cfg, err := config.Parse([]byte(`
sources: [{name: hris, key: id, mapping: {display_name: name, manager: boss, email: mail}}]
apps: [{name: console, connector: manual, owner: ops}]
notifications: {smtp: {host: mail.example.com, from: tango@example.com}}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var passes []*scheduler.Scheduler
	var st store.Store
	var camp store.Campaign
	for i := range 2 { // two processes sharing the database
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		svc, err := review.New(s, cfg, review.Options{Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			st = s
			src, _ := cfg.Source("hris")
			org := "id,name,boss,mail\nE1,Ann,,ann@example.com\nE2,Bob,E1,bob@example.com\nE3,Cat,E2,cat@example.com\n"
			if _, err := hr.ImportFile(ctx, st, cfg, src, "p.csv", []byte(org), hr.Options{Actor: "test"}); err != nil {
				t.Fatal(err)
			}
			if err := st.QueueOps(ctx, store.ProvisionBatch{Put: []store.GrantRow{
				{App: "console", Source: "hris", EmployeeID: "E2", State: "active", Reason: "legacy"},
				{App: "console", Source: "hris", EmployeeID: "E3", State: "active", Reason: "legacy"},
			}}); err != nil {
				t.Fatal(err)
			}
			if camp, _, err = svc.Start(ctx, review.StartOptions{Kind: store.ReviewManager, Due: 10 * 24 * time.Hour, Actor: "test"}); err != nil || camp.Items != 2 {
				t.Fatalf("start: %+v %v", camp, err)
			}
		}
		passes = append(passes, scheduler.New(s, nil, nil, slog.New(slog.DiscardHandler), clock).WithReviews(scheduler.Reviews{Service: svc}))
	}
	count := func(kind string) int {
		ns, err := st.Notifications(ctx, store.NotificationFilter{Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		return len(ns)
	}
	now = now.Add(8*24*time.Hour + 12*time.Hour) // 1.5 days left
	for range 2 {
		for _, s := range passes {
			if _, err := s.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if r, e := count(store.NotifyReviewReminder), count(store.NotifyReviewEscalated); r != 2 || e != 1 {
		t.Fatalf("after four passes: %d reminders (want 2: Ann and Bob), %d escalations (want 1: Cat's item to Ann)", r, e)
	}
	esc, err := st.ReviewItems(ctx, store.ReviewItemFilter{EscalatedTo: "E1"})
	if err != nil || len(esc) != 1 || esc[0].EmployeeID != "E3" {
		t.Fatalf("escalated to Ann: %+v %v, want Cat's item", esc, err)
	}
	if got, _ := st.Campaign(ctx, camp.ID); got.State != store.CampaignOpen {
		t.Fatalf("before the deadline: %s", got.State)
	}
	now = now.Add(2 * 24 * time.Hour)
	if _, err := passes[0].RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Campaign(ctx, camp.ID); got.State != store.CampaignClosed {
		t.Fatalf("after the deadline: %s, want closed", got.State)
	}
	if r, e := count(store.NotifyReviewReminder), count(store.NotifyReviewEscalated); r != 2 || e != 1 {
		t.Fatalf("after the close: %d reminders, %d escalations; want still 2 and 1", r, e)
	}
}
