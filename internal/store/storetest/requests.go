package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/duration"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/store"
)

func newRequest(requester, beneficiary string) store.Request {
	return store.Request{Source: "hris", Requester: requester, Beneficiary: beneficiary, App: "erp",
		Entitlement: "payments", Justification: "month-end close", Risk: "high", Duration: duration.Duration(48 * time.Hour),
		Chain: []string{store.StepManager, store.StepOwner, store.StepSecurity}, CreatedAt: t0}
}

func testRequestLifecycleAudited(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	r, err := request.CreateRequest(ctx, st, newRequest("E1", "E1"), "person:E1")
	if err != nil || r.ID == 0 || r.State != store.RequestPending || r.Step != 0 || r.NextStep() != store.StepManager {
		t.Fatalf("create: %+v, %v", r, err)
	}
	got, err := st.Request(ctx, r.ID)
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("read back:\n got %+v\nwant %+v\n%v", got, r, err)
	}
	// One approval moves the step on; a second approver racing on the
	// same step loses with ErrConflict.
	next := r
	next.Step = 1
	next.Approvals = []store.Approval{{Step: store.StepManager, By: "E2", At: t0.Add(time.Minute)}}
	if _, err := request.UpdateRequest(ctx, st, next, store.RequestPending, 0, "approved", "person:E2", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := request.UpdateRequest(ctx, st, next, store.RequestPending, 0, "approved", "person:E3", t0.Add(time.Minute)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second decision on the same step: %v, want ErrConflict", err)
	}
	if _, err := request.UpdateRequest(ctx, st, store.Request{ID: 999}, store.RequestPending, 0, "approved", "x", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown request: %v", err)
	}
	// Final approval: a time-bound grant, waiting for provisioning.
	final := next
	final.Step, final.State = 3, store.RequestApproved
	final.DecidedAt, final.DecidedBy, final.ExpiresAt = t0.Add(time.Hour), "E9", t0.Add(49*time.Hour)
	if _, err := request.UpdateRequest(ctx, st, final, store.RequestPending, 1, "granted", "person:E9", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	un, err := st.Requests(ctx, store.RequestFilter{Unprovisioned: true})
	if err != nil || len(un) != 1 || un[0].ID != r.ID || un[0].Provisioned {
		t.Fatalf("unprovisioned after approval: %+v, %v", un, err)
	}
	if err := st.QueueOps(ctx, store.ProvisionBatch{Requests: []int64{r.ID}}); err != nil {
		t.Fatal(err)
	}
	if un, _ := st.Requests(ctx, store.RequestFilter{Unprovisioned: true}); len(un) != 0 {
		t.Fatalf("still unprovisioned after QueueOps marked it: %+v", un)
	}
	// Nothing is due before its end; at its end it expires once.
	if exp, err := request.ExpireRequests(ctx, st, t0.Add(48*time.Hour), "system:scheduler"); err != nil || len(exp) != 0 {
		t.Fatalf("expired early: %+v, %v", exp, err)
	}
	exp, err := request.ExpireRequests(ctx, st, t0.Add(50*time.Hour), "system:scheduler")
	if err != nil || len(exp) != 1 || exp[0].State != store.RequestExpired {
		t.Fatalf("expire: %+v, %v", exp, err)
	}
	if again, _ := request.ExpireRequests(ctx, st, t0.Add(51*time.Hour), "system:scheduler"); len(again) != 0 {
		t.Fatalf("expired twice: %+v", again)
	}
	got, _ = st.Request(ctx, r.ID)
	if got.State != store.RequestExpired || got.Provisioned || len(got.Approvals) != 1 || got.Approvals[0].By != "E2" {
		t.Fatalf("after expiry: %+v", got)
	}
	// Every state change is on the chain, and the chain verifies.
	entries, _ := st.AuditEntries(ctx, 0, 100)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	want := []string{"request.created", "request.approved", "request.granted", "request.expired"}
	if !reflect.DeepEqual(actions, want) {
		t.Fatalf("audit actions %v, want %v", actions, want)
	}
	if br := verify(t, st); br != nil {
		t.Fatalf("audit chain broken: %+v", br)
	}
}

func testRequestFilters(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	a, _ := request.CreateRequest(ctx, st, newRequest("E1", "E1"), "person:E1")
	c, _ := request.CreateRequest(ctx, st, newRequest("E2", "E3"), "person:E2")
	rej := c
	rej.State, rej.Reason, rej.DecidedAt, rej.DecidedBy = store.RequestRejected, "not needed", t0.Add(time.Hour), "E2"
	if _, err := request.UpdateRequest(ctx, st, rej, store.RequestPending, 0, "rejected", "person:E9", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ids := func(f store.RequestFilter) []int64 {
		rs, err := st.Requests(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := []int64{}
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	for _, c2 := range []struct {
		f    store.RequestFilter
		want []int64
	}{
		{store.RequestFilter{}, []int64{a.ID, c.ID}},
		{store.RequestFilter{State: store.RequestPending}, []int64{a.ID}},
		{store.RequestFilter{Beneficiary: "E3"}, []int64{c.ID}},
		{store.RequestFilter{Requester: "E1"}, []int64{a.ID}},
		{store.RequestFilter{Limit: 1}, []int64{a.ID}},
		{store.RequestFilter{Unprovisioned: true}, []int64{}},
		{store.RequestFilter{Involving: "E3"}, []int64{c.ID}},
		{store.RequestFilter{Involving: "E2"}, []int64{c.ID}},
		{store.RequestFilter{Involving: "E1"}, []int64{a.ID}},
		{store.RequestFilter{Involving: "E9"}, []int64{}},
		{store.RequestFilter{Newest: true}, []int64{c.ID, a.ID}},
		{store.RequestFilter{Newest: true, Limit: 1}, []int64{c.ID}},
		{store.RequestFilter{Newest: true, Offset: 1, Limit: 1}, []int64{a.ID}},
		{store.RequestFilter{Offset: 1}, []int64{c.ID}},
	} {
		if got := ids(c2.f); !reflect.DeepEqual(got, c2.want) {
			t.Errorf("%+v: %v, want %v", c2.f, got, c2.want)
		}
	}
	if _, err := st.Request(ctx, 12345); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown request: %v", err)
	}
}

func testRequestConcurrentApprovalsOneWins(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	r, _ := request.CreateRequest(ctx, st, newRequest("E1", "E1"), "person:E1")
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := r
			n.Step = 1
			n.Approvals = []store.Approval{{Step: store.StepManager, By: "E" + string(rune('A'+i)), At: t0}}
			_, err := request.UpdateRequest(ctx, st, n, store.RequestPending, 0, "approved", "x", t0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrConflict):
				conflicts++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || conflicts != 5 {
		t.Fatalf("wins %d conflicts %d, want 1 and 5", wins, conflicts)
	}
}

func testAwayAndTokenPerson(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	if u, err := st.AwayUntil(ctx, "E2"); err != nil || !u.IsZero() {
		t.Fatalf("not away: %v, %v", u, err)
	}
	until := t0.Add(72 * time.Hour)
	if err := request.SetAway(ctx, st, "E2", until, "cli:ops", t0); err != nil {
		t.Fatal(err)
	}
	if u, _ := st.AwayUntil(ctx, "E2"); !u.Equal(until) {
		t.Fatalf("away until %v, want %v", u, until)
	}
	if err := request.SetAway(ctx, st, "E2", time.Time{}, "cli:ops", t0); err != nil {
		t.Fatal(err)
	}
	if u, _ := st.AwayUntil(ctx, "E2"); !u.IsZero() {
		t.Fatalf("back, but away until %v", u)
	}
	if _, err := auth.CreateToken(ctx, st, store.Token{Name: "alice", Scope: "api", Person: "E1", Hash: "hp", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	tok, err := st.TokenByHash(ctx, "hp")
	if err != nil || tok.Person != "E1" {
		t.Fatalf("token person: %+v, %v", tok, err)
	}
	if ts, _ := st.Tokens(ctx); len(ts) != 1 || ts[0].Person != "E1" {
		t.Fatalf("token list: %+v", ts)
	}
}
