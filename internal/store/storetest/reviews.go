package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
)

// testCampaignItemsRoundTrip: a campaign and its items are stored in one
// transaction, read back field for field, listed by reviewer and state,
// and an item's decision and evidence are written back.
func testCampaignItemsRoundTrip(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	c := store.Campaign{Kind: store.ReviewApp, App: "directory", Entitlement: "admins", Team: "", Policy: store.DecisionRevoke,
		State: store.CampaignOpen, Digest: "sha256:abc", Items: 2, CreatedBy: "person:S1", CreatedAt: t0, DueAt: t0.Add(14 * 24 * time.Hour)}
	items := []store.ReviewItem{
		{Source: "hris", EmployeeID: "E1", Name: "Person E1", App: "directory", Entitlement: "admins", Origin: store.OriginRole,
			Why: "role it-admins", Reviewer: "M1", Recommendation: "keep", State: store.ItemPending},
		{Source: "hris", EmployeeID: "E2", Name: "Person E2", App: "directory", Entitlement: "admins", Origin: store.OriginUnknown,
			Why: "nothing", Team: "it", Recommendation: "revoke", SoD: "breaks x", State: store.ItemPending},
	}
	err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.InsertCampaign(&c); err != nil {
			return err
		}
		for i := range items {
			items[i].Campaign = c.ID
		}
		if err := tx.InsertReviewItems(items); err != nil {
			return err
		}
		return tx.AppendAudit(audit.New(t0, "test", "review.started", "", "", "campaign", nil, c))
	})
	if err != nil || c.ID == 0 {
		t.Fatalf("insert campaign: %v (id %d)", err, c.ID)
	}
	got, err := st.Campaign(ctx, c.ID)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("campaign read back:\n got %+v %v\nwant %+v", got, err, c)
	}
	if _, err := st.Campaign(ctx, c.ID+100); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown campaign: %v, want ErrNotFound", err)
	}
	all, err := st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID})
	if err != nil || len(all) != 2 || all[0].ID == 0 || all[0].ID >= all[1].ID {
		t.Fatalf("items: %+v %v", all, err)
	}
	for i := range items {
		items[i].ID = all[i].ID
		if !reflect.DeepEqual(all[i], items[i]) {
			t.Fatalf("item read back:\n got %+v\nwant %+v", all[i], items[i])
		}
	}
	mine, err := st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID, Reviewer: "M1"})
	if err != nil || len(mine) != 1 || mine[0].EmployeeID != "E1" {
		t.Fatalf("items of reviewer M1: %+v %v", mine, err)
	}
	team, err := st.ReviewItems(ctx, store.ReviewItemFilter{Team: "it", State: store.ItemPending})
	if err != nil || len(team) != 1 || team[0].EmployeeID != "E2" {
		t.Fatalf("pending items of team it: %+v %v", team, err)
	}
	if n, err := st.ReviewCounts(ctx, []int64{c.ID}); err != nil || n[c.ID] != (store.ReviewCount{Pending: 2}) {
		t.Fatalf("counts before the decisions: %+v %v", n, err)
	}
	// Decide the first by hand, the second automatically; close.
	err = st.InTx(ctx, func(tx store.Tx) error {
		it, err := tx.ReviewItem(items[0].ID)
		if err != nil {
			return err
		}
		it.State, it.Decision, it.Reason, it.DecidedBy, it.DecidedAt = store.ItemRevoking, store.DecisionRevoke, "moved", "M1", t0.Add(time.Minute)
		it.Operation, it.Task, it.VerifiedAt, it.Evidence = 7, 9, t0.Add(time.Hour), "read back"
		if err := tx.UpdateReviewItem(it); err != nil {
			return err
		}
		items[0] = it
		it2 := items[1]
		it2.State, it2.Decision, it2.DecidedBy, it2.DecidedAt, it2.Automatic = store.ItemKept, store.DecisionKeep, "policy", t0.Add(time.Minute), true
		if err := tx.UpdateReviewItem(it2); err != nil {
			return err
		}
		items[1] = it2
		n, err := tx.CountReviewDecisions("M1", t0)
		if err != nil || n != 1 {
			t.Errorf("decisions of M1 since t0: %d %v, want 1", n, err)
		}
		if n, _ := tx.CountReviewDecisions("policy", t0); n != 0 {
			t.Errorf("automatic decisions counted: %d", n)
		}
		if n, _ := tx.CountReviewDecisions("M1", t0.Add(2*time.Minute)); n != 0 {
			t.Errorf("decisions of M1 after they were made: %d", n)
		}
		cc, err := tx.Campaign(c.ID)
		if err != nil {
			return err
		}
		cc.State, cc.ClosedAt = store.CampaignClosed, t0.Add(2*time.Minute)
		return tx.UpdateCampaign(cc)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range items {
		got, err := st.ReviewItem(ctx, want.ID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("decided item:\n got %+v %v\nwant %+v", got, err, want)
		}
	}
	// Counts: one kept, one revoked (and verified, here by hand), none pending.
	err = st.InTx(ctx, func(tx store.Tx) error {
		it := items[0]
		it.State = store.ItemVerified
		return tx.UpdateReviewItem(it)
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := st.ReviewCounts(ctx, []int64{c.ID, c.ID + 100})
	if err != nil || n[c.ID] != (store.ReviewCount{Kept: 1, Revoked: 1, Verified: 1}) || n[c.ID+100] != (store.ReviewCount{}) {
		t.Fatalf("counts after the decisions: %+v %v", n, err)
	}
	if n, err := st.ReviewCounts(ctx, nil); err != nil || len(n) != 0 {
		t.Fatalf("counts of no campaign: %+v %v", n, err)
	}
	closed, err := st.Campaigns(ctx, store.CampaignClosed)
	if err != nil || len(closed) != 1 || !closed[0].ClosedAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("closed campaigns: %+v %v", closed, err)
	}
	if open, _ := st.Campaigns(ctx, store.CampaignOpen); len(open) != 0 {
		t.Fatalf("open campaigns after the close: %+v", open)
	}
}

// testCampaignRollsBackWhole: a failure after the campaign and its items
// were written leaves neither.
func testCampaignRollsBackWhole(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	boom := errors.New("boom")
	err := st.InTx(ctx, func(tx store.Tx) error {
		c := store.Campaign{Kind: store.ReviewManager, Policy: store.DecisionKeep, State: store.CampaignOpen, CreatedAt: t0, DueAt: t0}
		if err := tx.InsertCampaign(&c); err != nil {
			return err
		}
		if err := tx.InsertReviewItems([]store.ReviewItem{{Campaign: c.ID, Source: "hris", EmployeeID: "E1", App: "a", Origin: store.OriginRole, State: store.ItemPending}}); err != nil {
			return err
		}
		if err := tx.PutRevocation(&store.Revocation{Source: "hris", EmployeeID: "E1", App: "a", CreatedAt: t0}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx: %v, want boom", err)
	}
	cs, _ := st.Campaigns(ctx, "")
	its, _ := st.ReviewItems(ctx, store.ReviewItemFilter{})
	revs, _ := st.Revocations(ctx, "", false)
	if len(cs)+len(its)+len(revs) != 0 {
		t.Fatalf("after a rollback: %d campaigns, %d items, %d revocations", len(cs), len(its), len(revs))
	}
}

// testRevocationsPlannedOnce: a revocation is unplanned until a
// provisioning batch names it; revoking the same grant again renews it
// (one row per grant) and makes it unplanned again.
func testRevocationsPlannedOnce(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	put := func(r store.Revocation) store.Revocation {
		t.Helper()
		if err := st.InTx(ctx, func(tx store.Tx) error { return tx.PutRevocation(&r) }); err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1 := put(store.Revocation{Source: "hris", EmployeeID: "E1", App: "directory", Entitlement: "admins", Item: 1, Reason: "moved", CreatedAt: t0})
	r2 := put(store.Revocation{Source: "other", EmployeeID: "E2", App: "directory", Item: 2, Reason: "left the project", CreatedAt: t0})
	un, err := st.Revocations(ctx, "", true)
	if err != nil || len(un) != 2 || un[0].ID != r1.ID || un[0].Reason != "moved" || !un[0].CreatedAt.Equal(t0) || un[0].Planned {
		t.Fatalf("unplanned: %+v %v", un, err)
	}
	if src, _ := st.Revocations(ctx, "other", false); len(src) != 1 || src[0].ID != r2.ID || src[0].Entitlement != "" {
		t.Fatalf("revocations of source other: %+v", src)
	}
	if err := st.QueueOps(ctx, store.ProvisionBatch{Revocations: []int64{r1.ID}}); err != nil {
		t.Fatal(err)
	}
	un, _ = st.Revocations(ctx, "", true)
	if len(un) != 1 || un[0].ID != r2.ID {
		t.Fatalf("unplanned after planning %d: %+v", r1.ID, un)
	}
	// A second planner that read r1 unplanned too: its batch is not written.
	late := store.ProvisionBatch{Revocations: []int64{r2.ID, r1.ID},
		Put: []store.GrantRow{{App: "directory", Source: "hris", EmployeeID: "E1", State: "active", UpdatedAt: t0}}}
	if err := st.QueueOps(ctx, late); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("planning revocation %d twice: %v, want a conflict", r1.ID, err)
	}
	if gs, _ := st.Grants(ctx, ""); len(gs) != 0 {
		t.Fatalf("the conflicting batch wrote grants %+v", gs)
	}
	if un, _ = st.Revocations(ctx, "", true); len(un) != 1 || un[0].ID != r2.ID {
		t.Fatalf("the conflicting batch marked revocations: unplanned %+v", un)
	}
	if mine, err := st.PersonRevocations(ctx, "hris", "E1"); err != nil || len(mine) != 1 || mine[0].ID != r1.ID || !mine[0].Planned {
		t.Fatalf("revocations of hris/E1: %+v %v", mine, err)
	}
	if mine, _ := st.PersonRevocations(ctx, "other", "E1"); len(mine) != 0 {
		t.Fatalf("revocations of other/E1: %+v", mine)
	}
	again := put(store.Revocation{Source: "hris", EmployeeID: "E1", App: "directory", Entitlement: "admins", Item: 5, Reason: "again", CreatedAt: t0.Add(time.Hour)})
	all, _ := st.Revocations(ctx, "hris", false)
	if len(all) != 1 || all[0].ID != again.ID || all[0].Item != 5 || all[0].Planned || !all[0].CreatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("renewed revocation: %+v", all)
	}
}

// testReviewScheduleClaimedOnce: a recurring campaign's start is claimed
// when it never started or started every ago; concurrent claims of the
// same start succeed once; a rolled-back claim leaves the last start.
func testReviewScheduleClaimedOnce(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	const every = 90 * 24 * time.Hour
	claim := func(at time.Time) bool {
		t.Helper()
		var ok bool
		if err := st.InTx(ctx, func(tx store.Tx) error {
			var err error
			ok, err = tx.ClaimReviewSchedule("app:crm", at, every)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if at, err := st.ReviewScheduleStarted(ctx, "app:crm"); err != nil || !at.IsZero() {
		t.Fatalf("never started: %v %v", at, err)
	}
	// Concurrent first claims: one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- st.InTx(ctx, func(tx store.Tx) error {
				ok, err := tx.ClaimReviewSchedule("app:crm", t0, every)
				if ok {
					wins.Add(1)
				}
				return err
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if wins.Load() != 1 {
		t.Fatalf("%d of 8 concurrent claims won, want 1", wins.Load())
	}
	if at, _ := st.ReviewScheduleStarted(ctx, "app:crm"); !at.Equal(t0) {
		t.Fatalf("started at %v, want %v", at, t0)
	}
	if claim(t0.Add(every - time.Second)) {
		t.Fatal("claimed a second before every had passed")
	}
	boom := errors.New("boom")
	err := st.InTx(ctx, func(tx store.Tx) error {
		if ok, err := tx.ClaimReviewSchedule("app:crm", t0.Add(every), every); !ok || err != nil {
			t.Errorf("due claim in the rolled-back transaction: %v %v", ok, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if at, _ := st.ReviewScheduleStarted(ctx, "app:crm"); !at.Equal(t0) {
		t.Fatalf("after a rollback: started at %v, want %v", at, t0)
	}
	if !claim(t0.Add(every)) || claim(t0.Add(every)) {
		t.Fatal("the claim once every has passed: want true once")
	}
	if at, _ := st.ReviewScheduleStarted(ctx, "app:crm"); !at.Equal(t0.Add(every)) {
		t.Fatalf("started at %v, want %v", at, t0.Add(every))
	}
	if err := st.InTx(ctx, func(tx store.Tx) error {
		ok, err := tx.ClaimReviewSchedule("manager", t0, every)
		if !ok {
			t.Error("another definition's first claim failed")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// testExpediteOp: a pending operation waiting for a later time (a mover's
// grace) becomes runnable at once; one already due or no longer pending
// is left alone.
func testExpediteOp(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	later := t0.Add(7 * 24 * time.Hour)
	if err := st.QueueOps(ctx, store.ProvisionBatch{Ops: []store.Operation{
		{App: "crm", Kind: store.OpRevoke, Source: "hris", EmployeeID: "E1", Entitlement: "admin", State: store.OpPending, NotBefore: later, CreatedAt: t0, UpdatedAt: t0},
		{App: "crm", Kind: store.OpRevoke, Source: "hris", EmployeeID: "E2", Entitlement: "admin", State: store.OpDone, NotBefore: later, CreatedAt: t0, UpdatedAt: t0},
	}}); err != nil {
		t.Fatal(err)
	}
	ops, err := st.Ops(ctx, store.OpFilter{})
	if err != nil || len(ops) != 2 {
		t.Fatalf("ops %+v %v", ops, err)
	}
	expedite := func(id int64, at time.Time) bool {
		t.Helper()
		var ok bool
		if err := st.InTx(ctx, func(tx store.Tx) error {
			var err error
			ok, err = tx.ExpediteOp(id, at)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !expedite(ops[0].ID, t0) || expedite(ops[0].ID, t0) || expedite(ops[1].ID, t0) {
		t.Fatal("expedite: want true for the waiting pending operation, then false; false for a done one")
	}
	ops, _ = st.Ops(ctx, store.OpFilter{})
	if !ops[0].NotBefore.Equal(t0) || !ops[1].NotBefore.Equal(later) {
		t.Fatalf("not before: %v and %v, want %v and %v", ops[0].NotBefore, ops[1].NotBefore, t0, later)
	}
}
