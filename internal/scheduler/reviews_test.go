package scheduler_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/hr"
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
