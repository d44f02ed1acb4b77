package review_test

import (
	"context"
	"fmt"
	"github.com/tango-iga/tango/internal/evidence"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/review"
	"github.com/tango-iga/tango/internal/store"
)

const notifyConfig = `
notifications:
  smtp: {host: mail.dtaa.com, from: tango@dtaa.com}
  teams: {security: {email: security@dtaa.com}}
`

// clock is a settable time for the services under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func remindFixture(t *testing.T) (*fixture, *clock, *review.Service) {
	t.Helper()
	f := newFixture(t)
	cfg, err := config.Parse([]byte(smallConfig+notifyConfig), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f.cfg = cfg
	clk := &clock{t: time.Now().UTC()}
	svc, err := review.New(f.st, cfg, review.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return f, clk, svc
}

func notes(t *testing.T, st store.Store, kind string) []store.Notification {
	t.Helper()
	ns, err := st.Notifications(context.Background(), store.NotificationFilter{Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// Each reviewer with pending items is reminded once per campaign, within
// reviews.remind_before (default 3d) of its deadline: not earlier, not
// again (also not by another process), not for a campaign past its
// deadline; each reminder is audited.
func TestRemindOncePerCampaignAndReviewer(t *testing.T) {
	f, clk, svc := remindFixture(t)
	ctx := context.Background()
	t0 := clk.now()
	c, _, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewManager, Due: 10 * 24 * time.Hour, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := svc.Remind(ctx, "test"); n != 0 || err != nil {
		t.Fatalf("10 days before the deadline: reminded %d (%v), want nobody yet", n, err)
	}
	// Started after that pass, and due before the next one.
	clk.set(t0.Add(6 * 24 * time.Hour))
	late, _, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewManager, Due: 24 * time.Hour, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	clk.set(t0.Add(7*24*time.Hour + 12*time.Hour)) // 2.5 days left; the other campaign is past its deadline
	n, err := svc.Remind(ctx, "test")
	if err != nil || n != 3 {
		t.Fatalf("reminded %d (%v), want 3: E1, E2 and team security", n, err)
	}
	got, err := f.st.ReviewReminders(ctx, c.ID)
	if err != nil || strings.Join(got, ",") != "person:E1,person:E2,team:security" {
		t.Fatalf("reminders of campaign %d: %v (%v)", c.ID, got, err)
	}
	if got, _ := f.st.ReviewReminders(ctx, late.ID); len(got) != 0 {
		t.Fatalf("campaign %d past its deadline was reminded: %v", late.ID, got)
	}
	ns := notes(t, f.st, store.NotifyReviewReminder)
	if len(ns) != 3 {
		t.Fatalf("%d reminder messages, want 3 (ann, bob, security): %+v", len(ns), ns)
	}
	var bob store.Notification
	for _, n := range ns {
		if n.Recipient == "person:E2" {
			bob = n
		}
	}
	link := fmt.Sprintf("/reviews/%d?mine=1&state=pending", c.ID)
	if bob.Address != "bob@dtaa.com" || !strings.Contains(bob.Body, fmt.Sprintf("1 access-review item(s) waiting for your decision in campaign %d", c.ID)) ||
		!strings.Contains(bob.Body, link) || !strings.Contains(bob.Body, "due ") {
		t.Fatalf("Bob's reminder %+v: want his 1 item, the campaign, the deadline and %s", bob, link)
	}
	// Not again: the same service, and another process sharing the database.
	other, err := review.New(f.st, f.cfg, review.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*review.Service{svc, other} {
		if n, err := s.Remind(ctx, "test"); n != 0 || err != nil {
			t.Fatalf("second reminder: %d (%v), want none", n, err)
		}
	}
	if ns := notes(t, f.st, store.NotifyReviewReminder); len(ns) != 3 {
		t.Fatalf("%d reminder messages after the second pass, want still 3", len(ns))
	}
	ents, err := f.st.AuditQuery(ctx, store.AuditFilter{Action: "review.reminded"})
	if err != nil || len(ents) != 3 || ents[0].Subject != fmt.Sprintf("campaign:%d", c.ID) {
		t.Fatalf("audit: %d entries (%v), want 3 about campaign %d", len(ents), err, c.ID)
	}
	// A campaign whose every reviewer was reminded is not counted again
	// by the same process (an item slipped in now stays unseen by it); a
	// process started afresh counts it once more.
	extra := store.ReviewItem{Campaign: c.ID, Source: "hris", EmployeeID: "E4", App: "console", Origin: store.OriginUnknown,
		Reviewer: "E3", State: store.ItemPending}
	if err := f.st.InTx(ctx, func(tx store.Tx) error { return tx.InsertReviewItems([]store.ReviewItem{extra}) }); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.Remind(ctx, "test"); n != 0 || err != nil {
		t.Fatalf("a fully reminded campaign counted again: reminded %d (%v)", n, err)
	}
	fresh, err := review.New(f.st, f.cfg, review.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := fresh.Remind(ctx, "test"); n != 1 || err != nil {
		t.Fatalf("a new process: reminded %d (%v), want 1 (E3)", n, err)
	}
}

// Within reviews.escalate_before (default 2d) of the deadline a pending
// item a person reviews goes to that reviewer's manager, who may then
// decide it; never to the person whose access it is; once per item, with
// one message per manager and an audit entry per item.
func TestEscalateToTheReviewersManager(t *testing.T) {
	f, clk, svc := remindFixture(t)
	ctx := context.Background()
	t0 := clk.now()
	c, items, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewManager, Due: 10 * 24 * time.Hour, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	dan := byPerson(items)["E4/"]
	if dan.ID == 0 || dan.Reviewer != "E2" {
		t.Fatalf("Dan's item %+v: want reviewed by Bob (E2)", dan)
	}
	// Ann's own access reviewed by Bob, whose manager is Ann: it must not
	// escalate to her.
	own := store.ReviewItem{Campaign: c.ID, Source: "hris", EmployeeID: "E1", Name: "Ann Boss", App: "console", Entitlement: "operator",
		Origin: store.OriginUnknown, Reviewer: "E2", State: store.ItemPending}
	if err := f.st.InTx(ctx, func(tx store.Tx) error { return tx.InsertReviewItems([]store.ReviewItem{own}) }); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Decide(ctx, person("E1"), dan.ID, store.DecisionKeep, ""); !authzForbidden(err) {
		t.Fatalf("Ann deciding Dan's item before any escalation: %v, want forbidden", err)
	}
	clk.set(t0.Add(7*24*time.Hour + 12*time.Hour)) // 2.5 days left: not yet
	if n, err := svc.Escalate(ctx, "test"); n != 0 || err != nil {
		t.Fatalf("2.5 days before the deadline: escalated %d (%v), want none", n, err)
	}
	clk.set(t0.Add(8*24*time.Hour + 12*time.Hour)) // 1.5 days left
	n, err := svc.Escalate(ctx, "test")
	if err != nil || n != 1 {
		t.Fatalf("escalated %d (%v), want 1: Dan's item to Ann", n, err)
	}
	all, err := f.st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range all {
		want := ""
		if it.ID == dan.ID {
			want = "E1"
		}
		if it.EscalatedTo != want {
			t.Errorf("item %d (%s reviewed by %s%s): escalated to %q, want %q", it.ID, it.EmployeeID, it.Reviewer, it.Team, it.EscalatedTo, want)
		}
	}
	mine, err := f.st.ReviewItems(ctx, store.ReviewItemFilter{EscalatedTo: "E1", State: store.ItemPending})
	if err != nil || len(mine) != 1 || mine[0].ID != dan.ID || !mine[0].EscalatedAt.Equal(clk.now().Truncate(time.Microsecond)) {
		t.Fatalf("items escalated to Ann: %+v (%v)", mine, err)
	}
	ns := notes(t, f.st, store.NotifyReviewEscalated)
	if len(ns) != 1 || ns[0].Address != "ann@dtaa.com" || !strings.Contains(ns[0].Body, "1 access-review item(s)") ||
		!strings.Contains(ns[0].Body, "E2") {
		t.Fatalf("escalation messages %+v: want one to Ann naming 1 item of E2", ns)
	}
	if n, err := svc.Escalate(ctx, "test"); n != 0 || err != nil {
		t.Fatalf("second escalation: %d (%v), want none", n, err)
	}
	if ents, _ := f.st.AuditQuery(ctx, store.AuditFilter{Action: "review.escalated"}); len(ents) != 1 || ents[0].Subject != fmt.Sprintf("review-item:%d", dan.ID) {
		t.Fatalf("audit %+v: want one entry about item %d", ents, dan.ID)
	}
	// Ann may now decide it.
	it, err := svc.Decide(ctx, person("E1"), dan.ID, store.DecisionKeep, "")
	if err != nil || it.State != store.ItemKept || it.DecidedBy != "E1" || it.EscalatedTo != "E1" {
		t.Fatalf("Ann deciding the escalated item: %+v (%v)", it, err)
	}
	// Nobody else got it.
	if _, err := svc.Decide(ctx, person("E3"), dan.ID, store.DecisionKeep, ""); !authzForbidden(err) {
		t.Fatalf("Cat deciding an item neither hers nor escalated to her: %v, want forbidden", err)
	}
	// The auditor's evidence says who it was escalated to, and when.
	b, err := evidence.Campaign(ctx, f.st, c.ID, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	tab := b.Tables[0]
	col := slices.Index(tab.Header, "escalated_to")
	if col < 0 || tab.Header[col+1] != "escalated_at" {
		t.Fatalf("items.csv header %v: want escalated_to, escalated_at", tab.Header)
	}
	for _, row := range tab.Rows {
		if row[1] == fmt.Sprint(dan.ID) && (row[col] != "E1" || row[col+1] == "") {
			t.Fatalf("Dan's item in the evidence: escalated_to %q at %q, want E1 with a time", row[col], row[col+1])
		}
	}
}

// An item is not escalated to a manager who is away (nor past them when
// there is nobody above); the campaign's policy applies at the close.
func TestEscalateSkipsAnAwayManager(t *testing.T) {
	f, clk, svc := remindFixture(t)
	ctx := context.Background()
	t0 := clk.now()
	c, _, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewManager, Due: 10 * 24 * time.Hour, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.InTx(ctx, func(tx store.Tx) error { return tx.SetAway("E1", t0.Add(30*24*time.Hour), "test", t0) }); err != nil {
		t.Fatal(err)
	}
	clk.set(t0.Add(9 * 24 * time.Hour))
	if n, err := svc.Escalate(ctx, "test"); n != 0 || err != nil {
		t.Fatalf("escalated %d (%v), want none: Ann, above Bob, is away and nobody is above her", n, err)
	}
	if its, _ := f.st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID, Unescalated: true}); len(its) == 0 {
		t.Fatal("no person-reviewed item left unescalated")
	}
}

func authzForbidden(err error) bool { return domain.KindOf(err) == domain.KindForbidden }
