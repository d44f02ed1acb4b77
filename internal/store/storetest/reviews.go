package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
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
// testCampaignsInterleaved: items added to a campaign after another's
// (a mover's review item, or two campaigns written in turn) are listed,
// counted and summed by reviewer with their own campaign only; a campaign
// without items lists none.
func testCampaignsInterleaved(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	newCampaign := func() int64 {
		c := store.Campaign{Kind: store.ReviewManager, Policy: store.DecisionKeep, State: store.CampaignOpen,
			CreatedBy: "test", CreatedAt: t0, DueAt: t0.Add(time.Hour)}
		if err := st.InTx(ctx, func(tx store.Tx) error { return tx.InsertCampaign(&c) }); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	add := func(campaign int64, ids ...string) {
		var items []store.ReviewItem
		for _, id := range ids {
			items = append(items, store.ReviewItem{Campaign: campaign, Source: "hris", EmployeeID: id, App: "a",
				Origin: store.OriginRole, Reviewer: "M" + id, State: store.ItemPending})
		}
		if err := st.InTx(ctx, func(tx store.Tx) error { return tx.InsertReviewItems(items) }); err != nil {
			t.Fatal(err)
		}
	}
	a, b2, empty := newCampaign(), newCampaign(), newCampaign()
	add(a, "E1", "E2")
	add(b2, "E3")
	add(a, "E4")
	add(b2, "E5", "E6")
	want := map[int64][]string{a: {"E1", "E2", "E4"}, b2: {"E3", "E5", "E6"}, empty: nil}
	for c, ids := range want {
		items, err := st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c})
		var got []string
		for _, it := range items {
			got = append(got, it.EmployeeID)
		}
		if err != nil || !slices.Equal(got, ids) {
			t.Fatalf("campaign %d's items %v (%v), want %v", c, got, err, ids)
		}
		pending, err := st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c, State: store.ItemPending, Limit: 2})
		if err != nil || len(pending) != min(2, len(ids)) {
			t.Fatalf("campaign %d's first pending items: %d (%v), want %d", c, len(pending), err, min(2, len(ids)))
		}
		rs, err := st.PendingReviewers(ctx, c)
		if err != nil || len(rs) != len(ids) {
			t.Fatalf("campaign %d's pending reviewers %+v (%v), want %d", c, rs, err, len(ids))
		}
	}
	counts, err := st.ReviewCounts(ctx, []int64{a, b2, empty})
	if err != nil || counts[a].Pending != 3 || counts[b2].Pending != 3 || counts[empty].Pending != 0 {
		t.Fatalf("counts %+v (%v), want 3, 3 and 0 pending", counts, err)
	}
	if mine, err := st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: b2, Reviewer: "ME5"}); err != nil || len(mine) != 1 || mine[0].EmployeeID != "E5" {
		t.Fatalf("ME5's items in campaign %d: %+v (%v), want E5's", b2, mine, err)
	}
}

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

// testReviewModifyAndActivity: an item's snapshot of last activity and a
// modify decision's new entitlement and request are stored and read back,
// a modify counts among the revoked, a request keeps the review item that
// made it through an update, and account activity is upserted per
// account and listed by app.
func testReviewModifyAndActivity(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	c := store.Campaign{Kind: store.ReviewManager, Policy: store.DecisionKeep, State: store.CampaignOpen, Digest: "sha256:x", Items: 1,
		CreatedBy: "test", CreatedAt: t0, DueAt: t0.Add(time.Hour)}
	it := store.ReviewItem{Source: "hris", EmployeeID: "E1", App: "directory", Entitlement: "it-admins", Origin: store.OriginRole,
		Reviewer: "M1", Recommendation: "revoke: inactive for 143 days", State: store.ItemPending,
		LastActivity: t0.Add(-143 * 24 * time.Hour), InactiveDays: 143}
	err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.InsertCampaign(&c); err != nil {
			return err
		}
		it.Campaign = c.ID
		return tx.InsertReviewItems([]store.ReviewItem{it})
	})
	if err != nil {
		t.Fatal(err)
	}
	items, err := st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID})
	if err != nil || len(items) != 1 {
		t.Fatalf("items: %+v %v", items, err)
	}
	it.ID = items[0].ID
	if !reflect.DeepEqual(items[0], it) {
		t.Fatalf("item with its last activity read back:\n got %+v\nwant %+v", items[0], it)
	}
	r := store.Request{Source: "hris", Requester: "M1", Beneficiary: "E1", App: "directory", Entitlement: "helpdesk", Justification: "review",
		Risk: "medium", State: store.RequestApproved, Chain: []string{"review"}, Step: 1, DecidedBy: "M1", CreatedAt: t0, DecidedAt: t0,
		ReviewItem: it.ID}
	err = st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.InsertRequest(&r); err != nil {
			return err
		}
		it.State, it.Decision, it.Reason, it.DecidedBy, it.DecidedAt = store.ItemRevoking, store.DecisionModify, "narrower", "M1", t0
		it.NewEntitlement, it.Request = "helpdesk", r.ID
		if err := tx.UpdateReviewItem(it); err != nil {
			return err
		}
		r.Reason = "updated"
		return tx.UpdateRequest(&r)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.ReviewItem(ctx, it.ID)
	if err != nil || !reflect.DeepEqual(got, it) {
		t.Fatalf("modified item:\n got %+v %v\nwant %+v", got, err, it)
	}
	if n, err := st.ReviewCounts(ctx, []int64{c.ID}); err != nil || n[c.ID] != (store.ReviewCount{Revoked: 1, Modified: 1}) {
		t.Fatalf("counts after a modify: %+v %v", n, err)
	}
	if q, err := st.Request(ctx, r.ID); err != nil || q.ReviewItem != it.ID || q.Reason != "updated" {
		t.Fatalf("request read back: %+v %v; want review item %d kept through the update", q, err, it.ID)
	}

	acts := []store.AccountActivity{
		{App: "directory", Source: "hris", EmployeeID: "E1", LastActivity: t0.Add(-time.Hour), ReadAt: t0},
		{App: "directory", Source: "hris", EmployeeID: "E2", LastActivity: t0.Add(-48 * time.Hour), ReadAt: t0},
		{App: "crm", Source: "hris", EmployeeID: "E1", LastActivity: t0.Add(-time.Minute), ReadAt: t0},
	}
	if err := st.PutAccountActivity(ctx, acts); err != nil {
		t.Fatal(err)
	}
	// A later reading replaces the earlier one.
	acts[0].LastActivity, acts[0].ReadAt = t0.Add(time.Hour), t0.Add(2*time.Hour)
	if err := st.PutAccountActivity(ctx, acts[:1]); err != nil {
		t.Fatal(err)
	}
	if err := st.PutAccountActivity(ctx, nil); err != nil {
		t.Fatalf("no activity: %v", err)
	}
	dir, err := st.AccountActivities(ctx, "directory")
	if err != nil || !reflect.DeepEqual(dir, acts[:2]) {
		t.Fatalf("directory's activity:\n got %+v %v\nwant %+v", dir, err, acts[:2])
	}
	all, err := st.AccountActivities(ctx, "")
	if err != nil || len(all) != 3 || all[0].App != "crm" {
		t.Fatalf("all activity: %+v %v; want 3, crm first", all, err)
	}

	// EachGrant streams grants by person (all of E1's before E2's, and
	// the reverse never) with their account's last use
	// (zero where none is recorded), an account's entitlements too.
	put := []store.GrantRow{
		{App: "directory", Source: "hris", EmployeeID: "E2", State: "active", Reason: "t", UpdatedAt: t0},
		{App: "directory", Source: "hris", EmployeeID: "E1", Entitlement: "admins", State: "active", Reason: "t", UpdatedAt: t0},
		{App: "directory", Source: "hris", EmployeeID: "E1", State: "active", Reason: "t", UpdatedAt: t0},
		{App: "wiki", Source: "hris", EmployeeID: "E1", State: "active", Reason: "t", UpdatedAt: t0},
	}
	if err := st.QueueOps(ctx, store.ProvisionBatch{Put: put}); err != nil {
		t.Fatal(err)
	}
	var seen, order []string
	err = st.EachGrant(ctx, nil, func(g store.GrantRow, used time.Time) error {
		if len(order) == 0 || order[len(order)-1] != g.EmployeeID {
			order = append(order, g.EmployeeID)
		}
		if g.App == "directory" || g.App == "wiki" {
			seen = append(seen, fmt.Sprintf("%s/%s/%s@%s", g.EmployeeID, g.App, g.Entitlement, used.UTC().Format(time.RFC3339)))
		}
		return nil
	})
	want := []string{
		"E1/directory/@" + acts[0].LastActivity.UTC().Format(time.RFC3339),
		"E1/directory/admins@" + acts[0].LastActivity.UTC().Format(time.RFC3339),
		"E1/wiki/@0001-01-01T00:00:00Z",
		"E2/directory/@" + acts[1].LastActivity.UTC().Format(time.RFC3339),
	}
	if !slices.IsSorted(order) || len(slices.Compact(slices.Clone(order))) != len(order) {
		t.Fatalf("EachGrant's persons in the order %v: want each once, in order", order)
	}
	slices.Sort(seen) // by person (E1 before E2 either way); within one, any order
	if err != nil || !reflect.DeepEqual(seen, want) {
		t.Fatalf("EachGrant:\n got %v %v\nwant %v", seen, err, want)
	}
	// Grouped: persons in the order of their group's name first (E2's
	// "a" before E1's "b"), each person's grants still together.
	order = order[:0]
	var groups []string
	err = st.EachGrant(ctx, func(source, id string) string {
		groups = append(groups, source+"/"+id)
		return map[string]string{"E1": "b", "E2": "a"}[id]
	}, func(g store.GrantRow, _ time.Time) error {
		if len(order) == 0 || order[len(order)-1] != g.EmployeeID {
			order = append(order, g.EmployeeID)
		}
		return nil
	})
	if err != nil || len(order) < 2 || order[0] != "E2" || order[1] != "E1" || len(slices.Compact(slices.Clone(order))) != len(order) {
		t.Fatalf("EachGrant grouped: persons in the order %v (%v); want E2 (group a) then E1 (group b), each once", order, err)
	}
	if slices.Sort(groups); len(slices.Compact(groups)) != len(groups) {
		t.Fatalf("group asked about %v: want each person once", groups)
	}
	// An error from fn stops it and is returned.
	stop := errors.New("enough")
	calls := 0
	if err := st.EachGrant(ctx, nil, func(store.GrantRow, time.Time) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("EachGrant after fn's error: %v after %d calls; want the error after 1", err, calls)
	}
}

// testReviewRemindersAndEscalation: a campaign's pending items are counted
// by reviewer (a person or a team); a reminder of one recipient about one
// campaign is claimed once, also by concurrent claims, and not by a
// rolled-back one; an item is escalated once, only while pending, and an
// UpdateReviewItem (a decision) does not write the escalation back empty.
func testReviewRemindersAndEscalation(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	c := store.Campaign{Kind: store.ReviewManager, Policy: store.DecisionKeep, State: store.CampaignOpen, Digest: "sha256:x", Items: 4,
		CreatedBy: "test", CreatedAt: t0, DueAt: t0.Add(14 * 24 * time.Hour)}
	item := func(emp, reviewer, team string) store.ReviewItem {
		return store.ReviewItem{Source: "hris", EmployeeID: emp, App: "crm", Origin: store.OriginRole, Reviewer: reviewer, Team: team, State: store.ItemPending}
	}
	items := []store.ReviewItem{item("E1", "M1", ""), item("E2", "M1", ""), item("E3", "", "it"), item("E4", "M2", "")}
	if err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.InsertCampaign(&c); err != nil {
			return err
		}
		for i := range items {
			items[i].Campaign = c.ID
		}
		return tx.InsertReviewItems(items)
	}); err != nil {
		t.Fatal(err)
	}
	all, err := st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID})
	if err != nil || len(all) != 4 {
		t.Fatalf("items: %+v %v", all, err)
	}
	// M2 decided: no longer pending.
	if err := st.InTx(ctx, func(tx store.Tx) error {
		it := all[3]
		it.State, it.Decision, it.DecidedBy, it.DecidedAt = store.ItemKept, store.DecisionKeep, "M2", t0
		return tx.UpdateReviewItem(it)
	}); err != nil {
		t.Fatal(err)
	}
	counts, err := st.PendingReviewers(ctx, c.ID)
	want := []store.ReviewerCount{{Team: "it", Source: "hris", Pending: 1}, {Reviewer: "M1", Source: "hris", Pending: 2}}
	if err != nil || !reflect.DeepEqual(counts, want) {
		t.Fatalf("pending reviewers: %+v %v, want %+v", counts, err, want)
	}
	if counts[0].Recipient() != "team:it" || counts[1].Recipient() != "person:M1" {
		t.Fatalf("recipients %q %q", counts[0].Recipient(), counts[1].Recipient())
	}
	if got, err := st.PendingReviewers(ctx, c.ID+100); err != nil || len(got) != 0 {
		t.Fatalf("an unknown campaign's reviewers: %+v %v", got, err)
	}

	// Reminders: concurrent claims win once; a rollback claims nothing.
	boom := errors.New("boom")
	if err := st.InTx(ctx, func(tx store.Tx) error {
		if ok, err := tx.ClaimReviewReminder(c.ID, "team:it", 1, t0); !ok || err != nil {
			t.Errorf("claim in the rolled-back transaction: %v %v", ok, err)
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- st.InTx(ctx, func(tx store.Tx) error {
				ok, err := tx.ClaimReviewReminder(c.ID, "person:M1", 2, t0)
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
		t.Fatalf("%d of 6 concurrent reminder claims won, want 1", wins.Load())
	}
	if got, err := st.ReviewReminders(ctx, c.ID); err != nil || !reflect.DeepEqual(got, []string{"person:M1"}) {
		t.Fatalf("reminders: %v %v, want person:M1 only (team:it's claim was rolled back)", got, err)
	}
	if err := st.InTx(ctx, func(tx store.Tx) error {
		if ok, err := tx.ClaimReviewReminder(c.ID+1, "person:M1", 1, t0); !ok || err != nil {
			t.Errorf("the same recipient, another campaign: %v %v, want claimed", ok, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Escalation: once per item, only while pending.
	escalate := func(id int64, to string) bool {
		t.Helper()
		var ok bool
		if err := st.InTx(ctx, func(tx store.Tx) error {
			var err error
			ok, err = tx.EscalateReviewItem(id, to, t0.Add(time.Hour))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if un, err := st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID, State: store.ItemPending, Unescalated: true}); err != nil || len(un) != 2 {
		t.Fatalf("pending person-reviewed items not escalated: %+v %v, want E1's and E2's", un, err)
	}
	if !escalate(all[0].ID, "B1") || escalate(all[0].ID, "B2") {
		t.Fatal("escalating E1's item: want true once")
	}
	if escalate(all[3].ID, "B1") {
		t.Fatal("escalated a decided item")
	}
	if err := st.InTx(ctx, func(tx store.Tx) error { _, err := tx.EscalateReviewItem(all[1].ID, " ", t0); return err }); err == nil {
		t.Fatal("escalated to nobody without an error")
	}
	got, err := st.ReviewItems(ctx, store.ReviewItemFilter{EscalatedTo: "B1"})
	if err != nil || len(got) != 1 || got[0].ID != all[0].ID || got[0].EscalatedTo != "B1" || !got[0].EscalatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("items escalated to B1: %+v %v", got, err)
	}
	if un, _ := st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID, State: store.ItemPending, Unescalated: true}); len(un) != 1 || un[0].ID != all[1].ID {
		t.Fatalf("not escalated after E1's: %+v, want E2's", un)
	}
	// A decision written from a copy read before the escalation keeps it.
	stale := all[0]
	stale.State, stale.Decision, stale.DecidedBy, stale.DecidedAt = store.ItemKept, store.DecisionKeep, "B1", t0.Add(2*time.Hour)
	if err := st.InTx(ctx, func(tx store.Tx) error { return tx.UpdateReviewItem(stale) }); err != nil {
		t.Fatal(err)
	}
	if it, err := st.ReviewItem(ctx, all[0].ID); err != nil || it.EscalatedTo != "B1" || it.State != store.ItemKept {
		t.Fatalf("after the decision: %+v %v, want kept and still escalated to B1", it, err)
	}
}
