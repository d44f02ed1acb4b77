package request_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/duration"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
)

// Config is the catalogue the tests (and the API and CLI tests) use.
const Config = `
sources: [{name: hris, key: id, mapping: {display_name: name}}]
requests: {security_approvers: [S1]}
apps:
  - name: erp
    connector: manual
    owner: it
    requestable:
      - {entitlement: payments-create, owner: O1, risk: low, max_duration: 30d}
      - {entitlement: payments-approve, owner: O1, risk: high, max_duration: 7d}
      - {entitlement: reports, owner: M1, risk: medium}
separation_of_duties:
  - {name: create-vs-approve-payments, entitlements: ["erp:payments-create", "erp:payments-approve"]}
`

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type fixture struct {
	st  store.Store
	cfg *config.Config
	svc *request.Service
	now time.Time
}

// org: B0 (the board's chair) <- E0 (CEO) <- M1 <- A1, A2; E0 <- O1 (owner), S1 (security), L1 (left) <- A3.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, Config)
}

// newFixtureWith makes the org with the given config and extra persons
// ({id, manager, status}); every person has the e-mail ID@dtaa.com.
func newFixtureWith(t *testing.T, cfgText string, extra ...[3]string) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tango.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Parse([]byte(cfgText), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, cfg: cfg, now: t0}
	f.svc, err = request.NewService(st, cfg, func() time.Time { return f.now })
	if err != nil {
		t.Fatal(err)
	}
	var ps []store.Person
	for _, p := range [][3]string{{"B0", "", "active"}, {"E0", "B0", "active"}, {"M1", "E0", "active"}, {"A1", "M1", "active"}, {"A2", "M1", "active"},
		{"O1", "E0", "active"}, {"S1", "E0", "active"}, {"L1", "E0", store.StatusLeft}, {"A3", "L1", "active"}} {
		ps = append(ps, store.Person{Source: "hris", EmployeeID: p[0], DisplayName: "Person " + p[0], ManagerID: p[1], Status: p[2], Period: 1, UpdatedAt: t0,
			Email: strings.ToLower(p[0]) + "@dtaa.com"})
	}
	for _, p := range extra {
		ps = append(ps, store.Person{Source: "hris", EmployeeID: p[0], DisplayName: "Person " + p[0], ManagerID: p[1], Status: p[2], Period: 1, UpdatedAt: t0,
			Email: strings.ToLower(p[0]) + "@dtaa.com"})
	}
	imp := store.Import{ID: "imp-1", Source: "hris", Status: store.ImportApplied, Actor: "test", Rows: len(ps), CreatedAt: t0}
	if err := st.ApplyImport(ctx, imp, ps, nil, []audit.Entry{store.ImportEntry(imp, "hr.import.applied", "test", t0)}, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) caller(t *testing.T, id string) request.Caller {
	t.Helper()
	p, err := f.svc.Person(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return request.Caller{Person: p, Via: "test"}
}

func (f *fixture) create(t *testing.T, by string, in request.New) store.Request {
	t.Helper()
	if in.Justification == "" {
		in.Justification = "needed for the audit"
	}
	r, err := f.svc.Create(context.Background(), f.caller(t, by), in)
	if err != nil {
		t.Fatalf("%s requests %+v: %v", by, in, err)
	}
	return r
}

func (f *fixture) approve(t *testing.T, by string, id int64) store.Request {
	t.Helper()
	r, err := f.svc.Approve(context.Background(), f.caller(t, by), id, "")
	if err != nil {
		t.Fatalf("%s approves %d: %v", by, id, err)
	}
	return r
}

func (f *fixture) refused(t *testing.T, by string, id int64, want error, msg string) {
	t.Helper()
	_, err := f.svc.Approve(context.Background(), f.caller(t, by), id, "")
	if !errors.Is(err, want) || !strings.Contains(err.Error(), msg) {
		t.Fatalf("%s approves %d: %v, want %v containing %q", by, id, err, want, msg)
	}
}

func TestChainManagerThenOwnerThenSecurityForHighRisk(t *testing.T) {
	f := newFixture(t)
	r := f.create(t, "A1", request.New{App: "erp", Entitlement: "payments-approve", Duration: 48 * time.Hour})
	if strings.Join(r.Chain, ",") != "manager,owner,security" || r.Risk != "high" {
		t.Fatalf("chain %v risk %s", r.Chain, r.Risk)
	}
	f.refused(t, "O1", r.ID, request.ErrForbidden, "waits for the manager approval of M1")
	f.refused(t, "S1", r.ID, request.ErrForbidden, "waits for the manager approval of M1")
	if r = f.approve(t, "M1", r.ID); r.NextStep() != store.StepOwner || r.State != store.RequestPending {
		t.Fatalf("after the manager: %+v", r)
	}
	f.refused(t, "S1", r.ID, request.ErrForbidden, "waits for the owner approval of O1")
	f.refused(t, "M1", r.ID, request.ErrForbidden, "M1 approved the manager step of request 1 already and may not also give its owner approval (four eyes")
	if r = f.approve(t, "O1", r.ID); r.NextStep() != store.StepSecurity {
		t.Fatalf("after the owner: %+v", r)
	}
	f.now = t0.Add(time.Hour)
	r = f.approve(t, "S1", r.ID)
	if r.State != store.RequestApproved || !r.ExpiresAt.Equal(t0.Add(49*time.Hour)) || len(r.Approvals) != 3 {
		t.Fatalf("after Security: %+v", r)
	}
	// A low-risk entitlement needs no Security step.
	low := f.create(t, "A2", request.New{App: "erp", Entitlement: "payments-create"})
	if strings.Join(low.Chain, ",") != "manager,owner" || low.Duration.Std() != 30*24*time.Hour {
		t.Fatalf("low risk: chain %v, duration %s (default: the maximum)", low.Chain, low.Duration)
	}
}

func TestNobodyApprovesTheirOwnRequest(t *testing.T) {
	f := newFixture(t)
	// M1 asks for their report A1; M1 is A1's manager and the owner of
	// "reports", but made the request: their manager E0 approves instead.
	r := f.create(t, "M1", request.New{Beneficiary: "A1", App: "erp", Entitlement: "reports"})
	f.refused(t, "M1", r.ID, request.ErrForbidden, "M1 made request")
	r = f.approve(t, "E0", r.ID)
	if r.Approvals[0].InsteadOf != "M1" || r.NextStep() != store.StepOwner {
		t.Fatalf("manager step: %+v", r)
	}
	f.refused(t, "M1", r.ID, request.ErrForbidden, "M1 made request")
	// Four eyes: E0, who approved the manager step, may not approve the
	// owner step too; it passes up to E0's manager B0.
	f.refused(t, "E0", r.ID, request.ErrForbidden, "E0 approved the manager step of request 1 already and may not also give its owner approval (four eyes: one person approves one step at most); the step passes to B0")
	if r = f.approve(t, "B0", r.ID); r.State != store.RequestApproved || !r.ExpiresAt.IsZero() || r.Approvals[1].InsteadOf != "M1" {
		t.Fatalf("owner step by B0 standing in for M1: %+v", r)
	}
	// Only for one's own reports.
	_, err := f.svc.Create(context.Background(), f.caller(t, "A1"), request.New{Beneficiary: "A2", App: "erp", Entitlement: "reports", Justification: "x"})
	if !errors.Is(err, request.ErrForbidden) || !strings.Contains(err.Error(), "only for themselves or their reports") {
		t.Fatalf("A1 for A2: %v", err)
	}
}

func TestBeneficiaryCannotApprove(t *testing.T) {
	f := newFixture(t)
	// O1 owns payments-create and asks for it: the owner step goes to O1's manager.
	r := f.create(t, "O1", request.New{App: "erp", Entitlement: "payments-create"})
	r = f.approve(t, "E0", r.ID)
	f.refused(t, "O1", r.ID, request.ErrForbidden, "O1 made request")
	// M1 asks for A1: A1, the beneficiary, can never approve.
	r2 := f.create(t, "M1", request.New{Beneficiary: "A1", App: "erp", Entitlement: "payments-approve"})
	f.refused(t, "A1", r2.ID, request.ErrForbidden, "benefits A1")
	// E0 approved the manager step: the owner step (O1 made the request)
	// goes past E0 to B0.
	f.refused(t, "E0", r.ID, request.ErrForbidden, "four eyes")
	if r = f.approve(t, "B0", r.ID); r.State != store.RequestApproved || r.Approvals[1].InsteadOf != "O1" {
		t.Fatalf("owner step by B0 for O1: %+v", r)
	}
	// Security cannot approve a request that benefits them either.
	r3 := f.create(t, "S1", request.New{App: "erp", Entitlement: "payments-approve"})
	f.approve(t, "E0", r3.ID)
	f.approve(t, "O1", r3.ID)
	f.refused(t, "S1", r3.ID, request.ErrForbidden, "S1 made request")
	ok, _, err := f.svc.Approvers(context.Background(), mustRequest(t, f, r3.ID))
	if err != nil || len(ok) != 1 || ok[0] != "B0" {
		t.Fatalf("security step for S1's own request: %v %v, want B0 standing in (S1 made it, E0 approved the manager step)", ok, err)
	}
}

func mustRequest(t *testing.T, f *fixture, id int64) store.Request {
	t.Helper()
	r, err := f.st.Request(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSoDRefusalNamesTheRule(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Two requests pending at once pass the check when made...
	a := f.create(t, "A2", request.New{App: "erp", Entitlement: "payments-create"})
	b := f.create(t, "A2", request.New{App: "erp", Entitlement: "payments-approve"})
	f.approve(t, "M1", a.ID)
	if r := f.approve(t, "O1", a.ID); r.State != store.RequestApproved {
		t.Fatalf("first grant: %+v", r)
	}
	// ...but the second is refused before its approval, and rejected.
	f.refused(t, "M1", b.ID, request.ErrSoD, `separation-of-duties rule "create-vs-approve-payments"`)
	if got := mustRequest(t, f, b.ID); got.State != store.RequestRejected || !strings.Contains(got.Reason, "create-vs-approve-payments") {
		t.Fatalf("after the refused approval: %+v", got)
	}
	// A new request that would break the rule is refused when made.
	_, err := f.svc.Create(ctx, f.caller(t, "A2"), request.New{App: "erp", Entitlement: "payments-approve", Justification: "x"})
	var se *request.SoDError
	if !errors.As(err, &se) || se.Rule != "create-vs-approve-payments" || !strings.Contains(err.Error(), "erp:payments-create") {
		t.Fatalf("create: %v", err)
	}
	entries, _ := f.st.AuditEntries(ctx, 0, 1000)
	if last := entries[len(entries)-1]; last.Action != "request.refused" || !strings.Contains(string(last.After), "create-vs-approve-payments") {
		t.Fatalf("last audit entry %s %s", last.Action, last.After)
	}
}

func TestApproverWhoLeftOrIsAwayIsReplacedByTheirManager(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A3's manager L1 has left: L1's manager E0 approves.
	r := f.create(t, "A3", request.New{App: "erp", Entitlement: "reports"})
	f.refused(t, "L1", r.ID, request.ErrForbidden, "manager approval of E0")
	if r = f.approve(t, "E0", r.ID); r.Approvals[0].InsteadOf != "L1" {
		t.Fatalf("approval %+v", r.Approvals)
	}
	// M1 is away until tomorrow: E0 approves A1's request in their place.
	if err := request.SetAway(ctx, f.st, "M1", t0.Add(24*time.Hour), "test", t0); err != nil {
		t.Fatal(err)
	}
	r2 := f.create(t, "A1", request.New{App: "erp", Entitlement: "payments-create"})
	f.refused(t, "M1", r2.ID, request.ErrForbidden, "manager approval of E0")
	pending, _ := f.st.Requests(ctx, store.RequestFilter{State: store.RequestPending})
	// E0 stands in for M1 on the manager step of A1's request; the owner
	// step (M1 owns "reports") of A3's goes past E0, who approved its
	// manager step, to B0.
	if mine, _ := f.svc.AwaitingApprover(ctx, pending, "E0"); len(mine) != 1 || mine[0].ID != r2.ID {
		t.Fatalf("awaiting E0: %+v", mine)
	}
	if mine, _ := f.svc.AwaitingApprover(ctx, pending, "B0"); len(mine) != 1 || mine[0].ID != r.ID {
		t.Fatalf("awaiting B0: %+v", mine)
	}
	if mine, _ := f.svc.AwaitingApprover(ctx, pending, "M1"); len(mine) != 0 {
		t.Fatalf("awaiting M1 while away: %+v", mine)
	}
	// Back after the date: M1 approves again.
	f.now = t0.Add(25 * time.Hour)
	if r2 = f.approve(t, "M1", r2.ID); r2.Approvals[0].InsteadOf != "" {
		t.Fatalf("M1 back: %+v", r2.Approvals)
	}
}

func TestDurationOverTheMaximumIsRefused(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.Create(context.Background(), f.caller(t, "A1"), request.New{App: "erp", Entitlement: "payments-approve",
		Justification: "x", Duration: 8 * 24 * time.Hour})
	if !errors.Is(err, request.ErrInvalid) || !strings.Contains(err.Error(), "longer than the maximum 168h0m0s (7d) for erp:payments-approve") {
		t.Fatalf("8 days: %v", err)
	}
	for _, in := range []request.New{
		{App: "erp", Entitlement: "nope", Justification: "x"},
		{App: "crm", Entitlement: "x", Justification: "x"},
		{App: "erp", Entitlement: "reports"},
	} {
		if _, err := f.svc.Create(context.Background(), f.caller(t, "A1"), in); !errors.Is(err, request.ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", in, err)
		}
	}
}

func TestTimeBoundGrantExpiryQueuesRevoke(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pol, err := policy.Compile(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := app.LoadApps(f.cfg, f.st, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	eng := provision.New(f.st, pol, apps, provision.Options{Now: func() time.Time { return f.now }, Log: slog.New(slog.DiscardHandler)})
	r := f.create(t, "A1", request.New{App: "erp", Entitlement: "payments-create", Duration: 24 * time.Hour})
	f.approve(t, "M1", r.ID)
	f.approve(t, "O1", r.ID)
	if _, err := eng.PlanRequests(ctx); err != nil {
		t.Fatal(err)
	}
	ops, _ := f.st.Ops(ctx, store.OpFilter{EmployeeID: "A1"})
	if len(ops) != 2 || ops[0].Kind != store.OpCreate || ops[1].Kind != store.OpGrant || ops[1].Entitlement != "payments-create" ||
		!strings.Contains(ops[1].Reason, "request #1") {
		t.Fatalf("ops after approval: %+v", ops)
	}
	// Planning again (or reconciling) keeps the grant.
	if n, err := eng.PlanAll(ctx); err != nil || n != 0 {
		t.Fatalf("PlanAll with the grant active: %d ops, %v", n, err)
	}
	f.now = t0.Add(25 * time.Hour)
	exp, err := request.Expire(ctx, f.st, f.now)
	if err != nil || len(exp) != 1 {
		t.Fatalf("expire: %+v %v", exp, err)
	}
	if _, err := eng.PlanRequests(ctx); err != nil {
		t.Fatal(err)
	}
	ops, _ = f.st.Ops(ctx, store.OpFilter{EmployeeID: "A1"})
	var revoke *store.Operation
	for i := range ops {
		if ops[i].Kind == store.OpRevoke {
			revoke = &ops[i]
		}
	}
	if revoke == nil || revoke.Entitlement != "payments-create" || revoke.NotBefore.After(f.now) || !strings.Contains(revoke.Reason, "request #1 expired") {
		t.Fatalf("revoke after expiry: %+v (all: %+v)", revoke, ops)
	}
	if un, _ := f.st.Requests(ctx, store.RequestFilter{Unprovisioned: true}); len(un) != 0 {
		t.Fatalf("requests left unplanned: %+v", un)
	}
}

// failingAudit is a store whose audit appends fail.
type failingAudit struct {
	store.Store
	err error
}

func (s failingAudit) AppendAudit(context.Context, ...audit.Entry) error { return s.err }

func TestSoDRefusalWhoseAuditFailsReportsTheFailure(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.create(t, "A2", request.New{App: "erp", Entitlement: "payments-create"})
	f.approve(t, "M1", a.ID)
	f.approve(t, "O1", a.ID)
	broken := errors.New("audit log unavailable")
	svc, err := request.NewService(failingAudit{Store: f.st, err: broken}, f.cfg, func() time.Time { return f.now })
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Create(ctx, f.caller(t, "A2"), request.New{App: "erp", Entitlement: "payments-approve", Justification: "x"})
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), "create-vs-approve-payments") {
		t.Fatalf("create whose refusal cannot be audited: %v, want the audit failure and the rule", err)
	}
	if rs, err := f.st.Requests(ctx, store.RequestFilter{Beneficiary: "A2", State: store.RequestPending}); err != nil || len(rs) != 0 {
		t.Fatalf("pending requests after the refusal: %v %+v", err, rs)
	}
}

// Four eyes: M1 is A1's manager and owns "reports"; the manager step is
// M1's, the owner step may not be M1's too: it passes up to M1's manager.
func TestOnePersonApprovesOneStepOfARequest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r := f.create(t, "A1", request.New{App: "erp", Entitlement: "reports"})
	if r = f.approve(t, "M1", r.ID); r.NextStep() != store.StepOwner {
		t.Fatalf("after the manager step: %+v", r)
	}
	f.refused(t, "M1", r.ID, request.ErrForbidden, "M1 approved the manager step of request 1 already and may not also give its owner approval (four eyes: one person approves one step at most); the step passes to E0")
	if got := mustRequest(t, f, r.ID); got.State != store.RequestPending || len(got.Approvals) != 1 {
		t.Fatalf("a refused second approval changed the request: %+v", got)
	}
	ok, insteadOf, err := f.svc.Approvers(ctx, r)
	if err != nil || len(ok) != 1 || ok[0] != "E0" || insteadOf != "M1" {
		t.Fatalf("owner step approvers %v instead of %q: %v; want E0 instead of M1", ok, insteadOf, err)
	}
	pending, _ := f.st.Requests(ctx, store.RequestFilter{State: store.RequestPending})
	if mine, _ := f.svc.AwaitingApprover(ctx, pending, "M1"); len(mine) != 0 {
		t.Fatalf("M1's pending list still has the request: %+v", mine)
	}
	// Rejecting is not theirs either: the step is E0's now.
	if _, err := f.svc.Reject(ctx, f.caller(t, "M1"), r.ID, "no"); !errors.Is(err, request.ErrForbidden) {
		t.Fatalf("M1 rejecting the owner step: %v", err)
	}
	if r = f.approve(t, "E0", r.ID); r.State != store.RequestApproved || r.Approvals[1].By != "E0" || r.Approvals[1].InsteadOf != "M1" {
		t.Fatalf("owner step by E0 for M1: %+v", r)
	}
}

// TestDurationOverAHundredYearsIsRefused: without a catalogue maximum a
// request still lasts at most 100 years (longer ones would overflow the
// expiry), whoever parsed the duration.
func TestDurationOverAHundredYearsIsRefused(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.Create(context.Background(), f.caller(t, "A1"), request.New{App: "erp", Entitlement: "reports",
		Justification: "x", Duration: duration.Max + time.Hour})
	if !errors.Is(err, request.ErrInvalid) || !strings.Contains(err.Error(), "longer than 100 years") {
		t.Fatalf("100 years and an hour: %v", err)
	}
}
