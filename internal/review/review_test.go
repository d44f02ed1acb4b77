package review_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/app"
	"github.com/tango-iga/tango/internal/authz"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/evidence"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/provision"
	"github.com/tango-iga/tango/internal/review"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/sqlite"
	taskrule "github.com/tango-iga/tango/internal/task"
)

const smallConfig = `
org: {name: DTAA, timezone: UTC}
sources:
  - name: hris
    key: user_id
    mapping: {display_name: employee_name, email: email, title: role, department: department, manager: supervisor}
apps:
  - name: console
    connector: manual
    owner: ops
    requestable: [{entitlement: operator, owner: E1}, {entitlement: audit, owner: E1}]
roles:
  - {name: staff, when: 'person.status == "active"', grants: [{app: console}]}
  - {name: admins, when: 'person.title == "ITAdmin"', grants: [{app: console, entitlements: [root]}]}
separation_of_duties:
  - {name: root-not-audit, entitlements: ["console:root", "console:audit"]}
  - {name: operator-not-audit, entitlements: ["console:operator", "console:audit"]}
`

const smallOrg = "employee_name,user_id,email,role,department,supervisor\n" +
	"Ann Boss,E1,ann@dtaa.com,CEO,Exec,\n" +
	"Bob Admin,E2,bob@dtaa.com,ITAdmin,IT,Ann Boss\n" +
	"Cat Clerk,E3,cat@dtaa.com,Clerk,IT,Ann Boss\n" +
	"Dan Tech,E4,dan@dtaa.com,Technician,IT,Bob Admin\n"

type fixture struct {
	st  store.Store
	eng *provision.Engine
	cfg *config.Config
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Parse([]byte(smallConfig), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pol, err := policy.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := app.LoadApps(cfg, st, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	eng := provision.New(st, pol, apps, provision.Options{Poll: 20 * time.Millisecond, Log: slog.New(slog.DiscardHandler), Now: time.Now})
	t.Cleanup(eng.Close)
	src, _ := cfg.Source("hris")
	if res, err := hr.ImportFile(ctx, st, cfg, src, "org.csv", []byte(smallOrg), hr.Options{Actor: "test", Provision: eng.ForImport}); err != nil || res.Status != store.ImportApplied {
		t.Fatalf("import: %v %+v", err, res)
	}
	return &fixture{st: st, eng: eng, cfg: cfg}
}

func person(id string) authz.Principal {
	return authz.Principal{Person: id, Source: "hris", Roles: []authz.Role{authz.Employee}, Via: "test"}
}

func byPerson(items []store.ReviewItem) map[string]store.ReviewItem {
	out := map[string]store.ReviewItem{}
	for _, it := range items {
		out[it.EmployeeID+"/"+it.Entitlement] = it
	}
	return out
}

// A manager campaign: each item goes to the person's manager, to the
// manager's own manager while they are away, to Security for someone
// without a manager; origins and recommendations say why the access
// exists; deciding faster than the pace is a finding for Security.
func TestManagerCampaignReviewersOriginsAndPace(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Legacy access nothing in the policy explains, and one that completes
	// a separation-of-duties pair for Bob.
	err := f.st.QueueOps(ctx, store.ProvisionBatch{Put: []store.GrantRow{
		{App: "console", Source: "hris", EmployeeID: "E3", Entitlement: "legacy", State: "active", Reason: "imported"},
		{App: "console", Source: "hris", EmployeeID: "E2", Entitlement: "audit", State: "active", Reason: "imported"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Bob is away: Ann stands in for him.
	if err := f.st.InTx(ctx, func(tx store.Tx) error { return tx.SetAway("E2", time.Now().Add(48*time.Hour), "test", time.Now()) }); err != nil {
		t.Fatal(err)
	}
	svc, err := review.New(f.st, f.cfg, review.Options{Now: time.Now, PaceDecisions: 2, PaceWindow: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Start(ctx, review.StartOptions{Kind: "quarterly"}); domain.KindOf(err) != domain.KindInvalid || !strings.Contains(err.Error(), "quarterly") {
		t.Fatalf("unknown kind: %v, want invalid naming it", err)
	}
	if _, _, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewApp}); domain.KindOf(err) != domain.KindInvalid {
		t.Fatalf("app kind without --app: %v, want invalid", err)
	}
	if cs, _ := f.st.Campaigns(ctx, ""); len(cs) != 0 {
		t.Fatalf("refused starts stored campaigns: %+v", cs)
	}
	c, items, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewManager, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Items != 7 || !c.DueAt.Equal(c.CreatedAt.Add(review.DefaultDue)) || c.Policy != store.DecisionKeep {
		t.Fatalf("campaign %+v: want 7 items, due in 14 days, undecided kept", c)
	}
	m := byPerson(items)
	want := map[string][3]string{ // reviewer, team, origin
		"E1/":       {"", "security", store.OriginRole},
		"E2/":       {"E1", "", store.OriginRole},
		"E2/root":   {"E1", "", store.OriginRole},
		"E2/audit":  {"E1", "", store.OriginUnknown},
		"E3/":       {"E1", "", store.OriginRole},
		"E3/legacy": {"E1", "", store.OriginUnknown},
		"E4/":       {"E1", "", store.OriginRole}, // Bob is away
	}
	for k, w := range want {
		it, ok := m[k]
		if !ok || it.Reviewer != w[0] || it.Team != w[1] || it.Origin != w[2] {
			t.Fatalf("item %s: %+v, want reviewer %q team %q origin %q", k, it, w[0], w[1], w[2])
		}
	}
	if it := m["E3/legacy"]; !strings.HasPrefix(it.Recommendation, "revoke:") {
		t.Fatalf("unexplained access: recommendation %q, want revoke", it.Recommendation)
	}
	if it := m["E2/audit"]; !strings.Contains(it.SoD, "root-not-audit") || !strings.Contains(it.Recommendation, "root-not-audit") {
		t.Fatalf("SoD conflict not shown beside the item: %+v", it)
	}
	if it := m["E2/root"]; !strings.Contains(it.SoD, "root-not-audit") {
		t.Fatalf("SoD conflict not shown on the other side: %+v", it)
	}
	// Bob is away, so he may not decide Dan's item; Ann decides it, and
	// quickly: three decisions in a minute beat the pace of two.
	if _, err := svc.Decide(ctx, person("E2"), m["E4/"].ID, store.DecisionKeep, ""); domain.KindOf(err) != domain.KindForbidden {
		t.Fatalf("Bob deciding an item Ann reviews: %v, want forbidden", err)
	}
	if _, err := svc.Decide(ctx, person("E1"), m["E3/legacy"].ID, store.DecisionRevoke, ""); domain.KindOf(err) != domain.KindInvalid {
		t.Fatalf("revoke without a reason: %v, want invalid", err)
	}
	if _, err := svc.Decide(ctx, person("E1"), m["E3/legacy"].ID, "maybe", "x"); domain.KindOf(err) != domain.KindInvalid {
		t.Fatalf("unknown decision: %v, want invalid", err)
	}
	for _, k := range []string{"E4/", "E3/", "E2/"} {
		if _, err := svc.Decide(ctx, person("E1"), m[k].ID, store.DecisionKeep, "fine"); err != nil {
			t.Fatal(err)
		}
		fs, _ := f.st.Findings(ctx, "review-rubber-stamp", "", "open")
		if k != "E2/" && len(fs) != 0 {
			t.Fatalf("finding after %s, within the pace: %+v", k, fs)
		}
		if k == "E2/" && (len(fs) != 1 || fs[0].Subject != "E1" || fs[0].Team != "security") {
			t.Fatalf("rubber-stamping findings %+v: want one for E1, Security's", fs)
		}
	}
	// Nobody on the trail decided an item they may not.
	ents, _ := f.st.AuditQuery(ctx, store.AuditFilter{Action: "review.decided"})
	if len(ents) != 3 {
		t.Fatalf("%d decisions audited, want 3", len(ents))
	}
}

// Undecided items follow a revoke policy at the close, recorded as
// automatic; access the connector cannot remove (a manual app) becomes a
// task for the owning team, and the campaign waits for it.
func TestCloseRevokesUndecidedAndWaitsForTasks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc, err := review.New(f.st, f.cfg, review.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	c, items, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewEntitlement, App: "console", Entitlement: "root", Undecided: store.DecisionRevoke, Actor: "test"})
	if err != nil || len(items) != 1 || items[0].EmployeeID != "E2" || items[0].Team != "ops" {
		t.Fatalf("start: %+v %v; want Bob's root, reviewed by ops", items, err)
	}
	if _, err := svc.Close(ctx, c.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, c.ID, "test"); domain.KindOf(err) != domain.KindConflict {
		t.Fatalf("closing twice: %v, want a conflict", err)
	}
	it, _ := f.st.ReviewItem(ctx, items[0].ID)
	if it.Decision != store.DecisionRevoke || !it.Automatic || it.DecidedBy != review.PolicyActor || it.State != store.ItemRevoking {
		t.Fatalf("undecided item after the close: %+v, want revoked automatically", it)
	}
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := f.eng.Drain(dctx, nil); err != nil {
		t.Fatal(err)
	}
	prs, err := svc.Verify(ctx, f.eng, c.ID, "test")
	if err != nil || prs[0].Waiting != 1 || prs[0].Campaign.State != store.CampaignClosed {
		t.Fatalf("verify while the task is open: %+v %v", prs, err)
	}
	it, _ = f.st.ReviewItem(ctx, items[0].ID)
	if it.State != store.ItemWaiting || it.Task == 0 || it.Operation == 0 {
		t.Fatalf("item %+v: want waiting for its task", it)
	}
	tasks, _ := f.st.Tasks(ctx, store.TaskFilter{App: "console", Person: "E2"})
	found := false
	for _, k := range tasks {
		found = found || (k.ID == it.Task && k.Team == "ops")
	}
	if !found {
		t.Fatalf("tasks %+v: want task %d for ops", tasks, it.Task)
	}
	if _, err := taskrule.Complete(ctx, f.st, it.Task, "removed from root", "ops-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	prs, err = svc.Verify(ctx, f.eng, 0, "test")
	if err != nil || len(prs) != 1 || prs[0].Campaign.State != store.CampaignComplete {
		t.Fatalf("verify after the task: %+v %v", prs, err)
	}
	it, _ = f.st.ReviewItem(ctx, items[0].ID)
	if it.State != store.ItemVerified || it.VerifiedAt.IsZero() || !strings.Contains(it.Evidence, "task") {
		t.Fatalf("item %+v: want verified with its task as evidence", it)
	}
}

// At the deadline the scheduler's pass closes a campaign (and only then):
// its undecided items follow the policy.
func TestCloseDueAtTheDeadline(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now()
	svc, err := review.New(f.st, f.cfg, review.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewApp, App: "console", Due: time.Hour, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := svc.CloseDue(ctx, "scheduler"); err != nil || n != 0 {
		t.Fatalf("before the deadline: closed %d, %v", n, err)
	}
	now = now.Add(time.Hour + time.Second)
	if n, err := svc.CloseDue(ctx, "scheduler"); err != nil || n != 1 {
		t.Fatalf("after the deadline: closed %d, %v; want 1", n, err)
	}
	got, _ := f.st.Campaign(ctx, c.ID)
	items, _ := f.st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID})
	if got.State != store.CampaignClosed || len(items) == 0 {
		t.Fatalf("campaign %+v with %d items", got, len(items))
	}
	for _, it := range items {
		if it.State != store.ItemKept || !it.Automatic {
			t.Fatalf("item %+v: want kept automatically", it)
		}
	}
	// Nothing was revoked: verification completes it at once.
	prs, err := svc.Verify(ctx, f.eng, 0, "scheduler")
	if err != nil || len(prs) != 1 || prs[0].Campaign.State != store.CampaignComplete {
		t.Fatalf("verify: %+v %v", prs, err)
	}
}

// fakeReader is an app read back: what it holds per employee ID.
type fakeReader map[string]connector.Account

func (f fakeReader) ReadBack(_ context.Context, _ string, p store.Person) (connector.Account, bool, error) {
	a, ok := f[p.EmployeeID]
	return a, ok, nil
}

// Verification is the read-back: access still shown is not verified,
// access gone is, even when no removal operation was needed.
func TestVerifyIsTheReadBack(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc, err := review.New(f.st, f.cfg, review.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	c, items, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewEntitlement, App: "console", Entitlement: "root", Team: "ops", Actor: "test"})
	if err != nil || len(items) != 1 {
		t.Fatalf("start: %+v %v", items, err)
	}
	ops := authz.Principal{Person: "E3", Source: "hris", Teams: []string{"ops"}, Via: "test"}
	if _, err := svc.Decide(ctx, ops, items[0].ID, store.DecisionRevoke, "not an admin any more"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, c.ID, "test"); err != nil {
		t.Fatal(err)
	}
	holds := fakeReader{"E2": {Key: "E2", Entitlements: []string{"ROOT"}}}
	prs, err := svc.Verify(ctx, holds, c.ID, "test")
	if err != nil || prs[0].Verified != 0 || prs[0].Campaign.State != store.CampaignClosed {
		t.Fatalf("verify while the app still shows root: %+v %v", prs, err)
	}
	gone := fakeReader{"E2": {Key: "E2", Entitlements: []string{"audit"}}}
	prs, err = svc.Verify(ctx, gone, c.ID, "test")
	if err != nil || prs[0].Verified != 1 || prs[0].Campaign.State != store.CampaignComplete {
		t.Fatalf("verify once root is gone: %+v %v", prs, err)
	}
	it, _ := f.st.ReviewItem(ctx, items[0].ID)
	if it.State != store.ItemVerified || !strings.Contains(it.Evidence, "no longer holds root") {
		t.Fatalf("item %+v", it)
	}
}

// Access the connector could not remove (its operation failed) becomes a
// task for the app's owning team; the campaign waits for it, then reads
// the app back.
func TestFailedRemovalBecomesATaskForTheOwners(t *testing.T) { removalByHand(t, store.OpFailed) }

// An app that cannot be read back: a removal that ran is confirmed by a
// person of the owning team before the item is verified.
func TestUnreadableAppRemovalConfirmedByATask(t *testing.T) { removalByHand(t, store.OpDone) }

type unreadable struct{}

func (unreadable) ReadBack(context.Context, string, store.Person) (connector.Account, bool, error) {
	return connector.Account{}, false, connector.ErrNotReadable
}

func removalByHand(t *testing.T, outcome string) {
	f := newFixture(t)
	ctx := context.Background()
	svc, err := review.New(f.st, f.cfg, review.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	c, items, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewEntitlement, App: "console", Entitlement: "root", Team: "sec", Actor: "test"})
	if err != nil || len(items) != 1 {
		t.Fatalf("start: %+v %v", items, err)
	}
	sec := authz.Principal{Person: "E1", Source: "hris", Teams: []string{"sec"}, Via: "test"}
	it, err := svc.Decide(ctx, sec, items[0].ID, store.DecisionRevoke, "no longer on call")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Close(ctx, c.ID, "test"); err != nil {
		t.Fatal(err)
	}
	// The removal, tried and failed for good.
	now := time.Now().Add(time.Second)
	if err := f.st.QueueOps(ctx, store.ProvisionBatch{Ops: []store.Operation{{App: "console", Kind: store.OpRevoke, Source: "hris", EmployeeID: "E2",
		Entitlement: "root", Priority: store.PriorityRevoke, State: store.OpPending, NotBefore: now, Reason: "review", CreatedAt: now, UpdatedAt: now}}}); err != nil {
		t.Fatal(err)
	}
	// Earlier operations of a person go first: claim until none is left.
	for range 10 {
		ops, err := f.st.ClaimOps(ctx, "t", now.Add(time.Second), time.Minute, 100, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(ops) == 0 {
			break
		}
		for _, o := range ops {
			st := store.OpDone
			if o.Kind == store.OpRevoke && o.EmployeeID == "E2" {
				st = outcome
			}
			if err := f.st.FinishOp(ctx, o.ID, "t", now.Add(time.Second), store.OpResult{State: st, Error: "insufficient access rights"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var holds review.Reader = fakeReader{"E2": {Key: "E2", Entitlements: []string{"root"}}}
	var gone review.Reader = fakeReader{"E2": {Key: "E2"}}
	wantDetail, wantEvidence := "insufficient access rights", "no longer holds root"
	if outcome == store.OpDone {
		holds, gone, wantDetail, wantEvidence = unreadable{}, unreadable{}, "cannot be read back", "the completed task is the evidence"
	}
	if _, err := svc.Verify(ctx, holds, c.ID, "test"); err != nil {
		t.Fatal(err)
	}
	it, _ = f.st.ReviewItem(ctx, it.ID)
	tasks, _ := f.st.Tasks(ctx, store.TaskFilter{Team: "ops", Person: "E2", Status: store.TaskOpen})
	i := slices.IndexFunc(tasks, func(k store.Task) bool { return k.ID == it.Task })
	if it.State != store.ItemWaiting || it.Task == 0 || i < 0 || !strings.Contains(tasks[i].Detail, wantDetail) {
		t.Fatalf("item %+v, ops tasks %+v: want waiting for a task of ops naming the failure", it, tasks)
	}
	// Verifying again makes no second task.
	if _, err := svc.Verify(ctx, holds, c.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if again, _ := f.st.Tasks(ctx, store.TaskFilter{Team: "ops", Person: "E2", Status: store.TaskOpen}); len(again) != len(tasks) {
		t.Fatalf("%d open tasks after a second pass, want %d", len(again), len(tasks))
	}
	if _, err := taskrule.Complete(ctx, f.st, it.Task, "removed by hand", "ops-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	// Done, but the app still shows it: not verified.
	if prs, _ := svc.Verify(ctx, holds, c.ID, "test"); outcome == store.OpFailed && prs[0].Verified != 0 {
		t.Fatalf("verified while the app still shows root: %+v", prs)
	}
	prs, err := svc.Verify(ctx, gone, c.ID, "test")
	if err != nil || prs[0].Campaign.State != store.CampaignComplete {
		t.Fatalf("after the task and the read-back: %+v %v", prs, err)
	}
	it, _ = f.st.ReviewItem(ctx, it.ID)
	if it.State != store.ItemVerified || !strings.Contains(it.Evidence, "done by ops-1") || !strings.Contains(it.Evidence, wantEvidence) {
		t.Fatalf("item %+v", it)
	}
}

// A mover: an import moves Bob (ITAdmin, holding console:root by his
// title) to a clerk's job under Cat. The plan keeps root for the mover
// grace; a mover campaign puts it to Cat, the new manager, due when the
// removal runs; once. Cat revokes: the removal runs at once.
func TestMoverReviewByTheNewManager(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc, err := review.New(f.st, f.cfg, review.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	if cs, err := svc.StartMovers(ctx, "test"); err != nil || len(cs) != 0 {
		t.Fatalf("before any move: %+v %v", cs, err)
	}
	moved := strings.Replace(smallOrg, "Bob Admin,E2,bob@dtaa.com,ITAdmin,IT,Ann Boss", "Bob Admin,E2,bob@dtaa.com,Clerk,IT,Cat Clerk", 1)
	src, _ := f.cfg.Source("hris")
	if res, err := hr.ImportFile(ctx, f.st, f.cfg, src, "moved.csv", []byte(moved), hr.Options{Actor: "test", Provision: f.eng.ForImport}); err != nil || res.Status != store.ImportApplied {
		t.Fatalf("import: %v %+v", err, res)
	}
	cs, err := svc.StartMovers(ctx, "test")
	if err != nil || len(cs) != 1 {
		t.Fatalf("after the move: %+v %v, want one campaign", cs, err)
	}
	c := cs[0]
	items, _ := f.st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID})
	if c.Kind != store.ReviewMover || c.Items != 1 || len(items) != 1 {
		t.Fatalf("campaign %+v items %+v", c, items)
	}
	it := items[0]
	if it.EmployeeID != "E2" || it.App != "console" || it.Entitlement != "root" || it.Reviewer != "E3" || it.Operation == 0 {
		t.Fatalf("item %+v: want E2's console:root reviewed by E3 with its queued removal", it)
	}
	ops, _ := f.st.Ops(ctx, store.OpFilter{EmployeeID: "E2", State: store.OpPending})
	i := slices.IndexFunc(ops, func(o store.Operation) bool { return o.ID == it.Operation })
	if i < 0 || !ops[i].NotBefore.After(time.Now().Add(6*24*time.Hour)) || !c.DueAt.Equal(ops[i].NotBefore) {
		t.Fatalf("removal %+v, campaign due %v: want the removal after the grace and the campaign due then", ops, c.DueAt)
	}
	if again, err := svc.StartMovers(ctx, "test"); err != nil || len(again) != 0 {
		t.Fatalf("a second pass: %+v %v, want none", again, err)
	}
	if _, err := svc.Decide(ctx, person("E1"), it.ID, store.DecisionRevoke, "not needed"); domain.KindOf(err) != domain.KindForbidden {
		t.Fatalf("the old manager decides: %v, want forbidden", err)
	}
	if _, err := svc.Decide(ctx, person("E3"), it.ID, store.DecisionRevoke, "a clerk needs no root"); err != nil {
		t.Fatal(err)
	}
	ops, _ = f.st.Ops(ctx, store.OpFilter{EmployeeID: "E2"})
	i = slices.IndexFunc(ops, func(o store.Operation) bool { return o.ID == it.Operation })
	if i < 0 || ops[i].NotBefore.After(time.Now()) {
		t.Fatalf("after the revoke: %+v, want the removal runnable now", ops[i])
	}
}

// A modify decision revokes the reviewed entitlement as a revoke does and
// grants a narrower one of the same app through an approved access
// request naming the item, which the plan grants with the item in its
// reason; modifies without an entitlement, to the same one, to one the
// app does not know, of an account, or into a separation-of-duties
// conflict are refused, and nobody modifies their own access.
func TestModifyRevokesAndGrantsTheNarrowerEntitlement(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Dan holds audit and a legacy entitlement: operator would join audit.
	err := f.st.QueueOps(ctx, store.ProvisionBatch{Put: []store.GrantRow{
		{App: "console", Source: "hris", EmployeeID: "E4", Entitlement: "legacy", State: "active", Reason: "imported"},
		{App: "console", Source: "hris", EmployeeID: "E4", Entitlement: "audit", State: "active", Reason: "imported"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := review.New(f.st, f.cfg, review.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	_, items, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewManager, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	m := byPerson(items)
	root, legacy, account := m["E2/root"], m["E4/legacy"], m["E2/"]
	if root.ID == 0 || legacy.ID == 0 || account.ID == 0 || root.Reviewer != "E1" || legacy.Reviewer != "E2" {
		t.Fatalf("items %+v: want Bob's root and account (reviewed by Ann), Dan's legacy (by Bob)", m)
	}
	modify := func(who string, id int64, ent, reason string) (store.ReviewItem, error) {
		return svc.DecideItem(ctx, person(who), id, review.Decision{Decision: store.DecisionModify, Entitlement: ent, Reason: reason})
	}
	for _, c := range []struct {
		name, who string
		id        int64
		ent, why  string
		kind      domain.Kind
		says      string
	}{
		{"no entitlement", "E1", root.ID, "", "narrower", domain.KindInvalid, "--entitlement"},
		{"no reason", "E1", root.ID, "operator", "", domain.KindInvalid, "reason"},
		{"the same entitlement", "E1", root.ID, "ROOT", "narrower", domain.KindInvalid, "the one reviewed"},
		{"unknown to the app", "E1", root.ID, "superuser", "narrower", domain.KindInvalid, `"superuser"`},
		{"the account itself", "E1", account.ID, "operator", "narrower", domain.KindInvalid, "account itself"},
		{"one's own access", "E2", root.ID, "operator", "narrower", domain.KindForbidden, ""},
		{"a separation-of-duties conflict", "E2", legacy.ID, "operator", "narrower", domain.KindConflict, "operator-not-audit"},
	} {
		_, err := modify(c.who, c.id, c.ent, c.why)
		if domain.KindOf(err) != c.kind || !strings.Contains(err.Error(), c.says) {
			t.Errorf("modify, %s: %v; want %s naming %q", c.name, err, c.kind, c.says)
		}
	}
	if _, err := svc.DecideItem(ctx, person("E1"), root.ID, review.Decision{Decision: store.DecisionKeep, Entitlement: "operator"}); domain.KindOf(err) != domain.KindInvalid {
		t.Errorf("keep naming an entitlement: %v, want invalid", err)
	}
	if reqs, _ := f.st.Requests(ctx, store.RequestFilter{}); len(reqs) != 0 {
		t.Fatalf("refused modifies stored requests: %+v", reqs)
	}

	it, err := modify("E1", root.ID, "Operator", "administers no longer; operates the console")
	if err != nil {
		t.Fatal(err)
	}
	if it.Decision != store.DecisionModify || it.State != store.ItemRevoking || it.NewEntitlement != "operator" || it.Request == 0 || !it.Removes() {
		t.Fatalf("modified item %+v: want revoking, new entitlement operator (as the config spells it), a request", it)
	}
	r, err := f.st.Request(ctx, it.Request)
	if err != nil || r.State != store.RequestApproved || r.ReviewItem != it.ID || r.Beneficiary != "E2" || r.Requester != "E1" ||
		r.Entitlement != "operator" || !strings.Contains(r.Justification, fmt.Sprintf("access review item #%d", it.ID)) {
		t.Fatalf("the modify's request %+v (%v): want approved for Bob's operator, naming the item", r, err)
	}
	revs, _ := f.st.Revocations(ctx, "hris", false)
	if len(revs) != 1 || revs[0].Item != it.ID || revs[0].Entitlement != "root" {
		t.Fatalf("revocations %+v: want root's, for item %d", revs, it.ID)
	}
	ents, _ := f.st.AuditQuery(ctx, store.AuditFilter{Action: "request.approved"})
	if len(ents) != 1 || ents[0].Actor != person("E1").Actor() {
		t.Fatalf("request.approved entries %+v: want one by the reviewer", ents)
	}
	// The plan removes root and grants operator, whose reason names the item.
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := f.eng.Drain(dctx, nil); err != nil {
		t.Fatal(err)
	}
	grants, _ := f.st.PersonGrants(ctx, "hris", "E2")
	var got []string
	for _, g := range grants {
		got = append(got, g.Entitlement+"="+g.Reason)
	}
	want := fmt.Sprintf("operator=request #%d; access review item #%d", r.ID, it.ID)
	if !slices.Contains(got, want) || slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "root=") }) {
		t.Fatalf("Bob's grants %q: want %q and no root", got, want)
	}
	ops, _ := f.st.Ops(ctx, store.OpFilter{EmployeeID: "E2", App: "console"})
	var kinds []string
	for _, o := range ops {
		kinds = append(kinds, o.Kind+":"+o.Entitlement)
	}
	if !slices.Contains(kinds, "revoke:root") || !slices.Contains(kinds, "grant:operator") {
		t.Fatalf("Bob's operations %q: want root revoked and operator granted", kinds)
	}
	// Verification counts it as a removal (the manual app's task waits).
	c, err := svc.Close(ctx, it.Campaign, "test")
	if err != nil {
		t.Fatal(err)
	}
	prs, err := svc.Verify(ctx, f.eng, c.ID, "test")
	if err != nil || prs[0].Revoked < 1 || prs[0].Campaign.State != store.CampaignClosed {
		t.Fatalf("verify: %+v %v; want the modify among the removals", prs, err)
	}
	counts, _ := f.st.ReviewCounts(ctx, []int64{c.ID})
	if counts[c.ID].Modified != 1 || counts[c.ID].Revoked < 1 {
		t.Fatalf("counts %+v: want one modified, counted among the revoked", counts[c.ID])
	}
	// The evidence shows the decision and the new entitlement.
	b, err := evidence.Campaign(ctx, f.st, c.ID, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	tab := b.Tables[0]
	col := func(name string) int { return slices.Index(tab.Header, name) }
	if col("decision") < 0 || col("new_entitlement") < 0 || col("grant_request") < 0 {
		t.Fatalf("items table header %q: want decision, new_entitlement and grant_request", tab.Header)
	}
	found := false
	for _, row := range tab.Rows {
		found = found || (row[col("item")] == fmt.Sprint(it.ID) && row[col("decision")] == "modify" &&
			row[col("new_entitlement")] == "operator" && row[col("grant_request")] == fmt.Sprint(r.ID))
	}
	if !found {
		t.Fatalf("items table %q: no row of item %d modified to operator by request %d", tab.Rows, it.ID, r.ID)
	}
}

// Last activity as reconcile recorded it: an item shows when the account
// was last used and how many days before the start; past
// reviews.inactive_after (default 90 days) the recommendation is to
// revoke it as inactive, unless a separation-of-duties conflict says more.
func TestInactiveAccountsRecommendedForRevocation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	err := f.st.PutAccountActivity(ctx, []store.AccountActivity{
		{App: "console", Source: "hris", EmployeeID: "E2", LastActivity: now.Add(-143*24*time.Hour - time.Hour), ReadAt: now},
		{App: "console", Source: "hris", EmployeeID: "E3", LastActivity: now.Add(-10 * 24 * time.Hour), ReadAt: now},
	})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := review.New(f.st, f.cfg, review.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	_, items, err := svc.Start(ctx, review.StartOptions{Kind: store.ReviewManager, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	m := byPerson(items)
	for _, k := range []string{"E2/", "E2/root"} {
		it := m[k]
		if it.InactiveDays != 143 || !it.LastActivity.Equal(now.Add(-143*24*time.Hour-time.Hour)) ||
			it.Recommendation != "revoke: inactive for 143 days (last used 2026-07-11 in console; the limit is 90 days)" {
			t.Errorf("%s: %+v; want inactive for 143 days, recommended for revocation", k, it)
		}
	}
	if it := m["E3/"]; it.InactiveDays != 10 || it.LastActivity.IsZero() || strings.Contains(it.Recommendation, "inactive") {
		t.Errorf("E3's account, used 10 days ago: %+v", it)
	}
	if it := m["E1/"]; !it.LastActivity.IsZero() || it.InactiveDays != 0 || strings.Contains(it.Recommendation, "inactive") {
		t.Errorf("E1's account, no activity reported: %+v", it)
	}
	// A longer limit: 143 days is within it.
	f.cfg.Reviews.InactiveAfter = "200d"
	svc, _ = review.New(f.st, f.cfg, review.Options{Now: func() time.Time { return now }})
	_, items, err = svc.Start(ctx, review.StartOptions{Kind: store.ReviewManager, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if it := byPerson(items)["E2/"]; it.InactiveDays != 143 || strings.Contains(it.Recommendation, "inactive") {
		t.Errorf("with reviews.inactive_after 200d: %+v; want the days shown, no inactivity recommendation", it)
	}
	if review.InactiveDays(now.Add(time.Hour), now) != 0 || review.InactiveDays(now.Add(-47*time.Hour), now) != 1 {
		t.Errorf("InactiveDays counts whole days, never negative")
	}
}
