// Package storetest is the conformance suite every store.Store backend
// passes: the same tests, run against embedded SQLite and PostgreSQL.
package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/duration"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/store"
	taskrule "github.com/tango-iga/tango/internal/task"
)

// Backend opens a fresh, empty store for one test and gives raw SQL access
// to it (used only to tamper with the audit trail).
type Backend struct {
	Open func(t *testing.T) store.Store
	Raw  func(st store.Store) *sql.DB
}

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 123456000, time.UTC)

func person(id, dept, mgr string) store.Person {
	return store.Person{Source: "hris", EmployeeID: id, DisplayName: "Person " + id, Email: id + "@dtaa.com",
		Title: "Engineer", Department: dept, Team: "T1", BusinessUnit: "BU", ManagerID: mgr,
		EmploymentType: "employee", Status: store.StatusActive, Period: 1,
		Attributes: map[string]string{"projects": "Project 1"}, UpdatedAt: t0}
}

// load applies a first import of the given persons as joiners.
func load(t *testing.T, st store.Store, id string, base int64, ps ...store.Person) store.Import {
	t.Helper()
	imp := store.Import{ID: id, Source: "hris", Status: store.ImportApplied, Actor: "test", Rows: len(ps),
		Joiners: len(ps), CreatedAt: t0, BaseSerial: base, Duration: duration.Duration(1500 * time.Millisecond)}
	var evs []store.Event
	var ents []audit.Entry
	for i := range ps {
		p := ps[i]
		e := store.Event{ImportID: id, Source: "hris", EmployeeID: p.EmployeeID, Type: store.EventJoiner,
			State: store.EventApplied, Effective: t0, After: &p, CreatedAt: t0, AppliedAt: t0}
		evs = append(evs, e)
		ents = append(ents, store.EventEntry(e, "test", t0))
	}
	ents = append(ents, store.ImportEntry(imp, "hr.import.applied", "test", t0))
	if err := st.ApplyImport(context.Background(), imp, ps, evs, ents, nil); err != nil {
		t.Fatalf("ApplyImport %s: %v", id, err)
	}
	return imp
}

func verify(t *testing.T, st store.Store) *audit.Break {
	t.Helper()
	ctx := context.Background()
	v := audit.NewVerifier()
	var after int64
	for {
		page, err := st.AuditEntries(ctx, after, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if b := v.Next(page); b != nil {
			return b
		}
		after = page[len(page)-1].Seq
	}
	seq, hash, err := st.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return v.Finish(seq, hash)
}

// Run runs the whole suite: an index of named tests, grouped by what they
// cover. Each test opens its own fresh store, so any one can be run alone
// (go test -run 'TestConformance/Imports/HeldImportApproveAndReject').
func Run(t *testing.T, b Backend) {
	// Imports: applying an HR snapshot, conflicts, holds, scheduled events.
	t.Run("Imports/EmptyWorkforce", func(t *testing.T) { testEmptyWorkforce(t, b) })
	t.Run("Imports/ApplyImportRoundTrip", func(t *testing.T) { testApplyImportRoundTrip(t, b) })
	t.Run("Imports/StaleBaseConflictsAndWritesNothing", func(t *testing.T) { testStaleBaseConflictsAndWritesNothing(t, b) })
	t.Run("Imports/ConcurrentImportsOneWins", func(t *testing.T) { testConcurrentImportsOneWins(t, b) })
	t.Run("Imports/HeldImportApproveAndReject", func(t *testing.T) { testHeldImportApproveAndReject(t, b) })
	t.Run("Imports/ScheduledEventsApplyWhenDue", func(t *testing.T) { testScheduledEventsApplyWhenDue(t, b) })
	// With one event (a push, or a small import) and with many (where the
	// store lists the source's scheduled events first).
	for _, extra := range []int{0, 30} {
		t.Run(fmt.Sprintf("Imports/DateChangeCancelsScheduled/%d_more_events", extra), func(t *testing.T) { dateChangeCancels(t, b, extra) })
	}
	t.Run("Imports/ListFilters", func(t *testing.T) { testListFilters(t, b) })
	t.Run("Imports/RejectedImportStoredAlone", func(t *testing.T) { testRejectedImportStoredAlone(t, b) })

	// Audit: one hash chain, whoever appends, and tampering found.
	t.Run("Audit/AuditConcurrentAppends", func(t *testing.T) { testAuditConcurrentAppends(t, b) })
	t.Run("Audit/AuditTamperDetected", func(t *testing.T) { testAuditTamperDetected(t, b) })
	t.Run("Audit/AuditQuery", func(t *testing.T) { testAuditQuery(t, b) })

	// API tokens.
	t.Run("Tokens/Tokens", func(t *testing.T) { testTokens(t, b) })

	// Sign-in: browser sessions and local accounts.
	t.Run("SignIn/Sessions", func(t *testing.T) { testSessions(t, b) })
	t.Run("SignIn/LocalAccounts", func(t *testing.T) { testLocalAccounts(t, b) })
	t.Run("SignIn/ScheduledLeaveEndsSessions", func(t *testing.T) { testScheduledLeaveEndsSessions(t, b) })

	// Provisioning: the operation queue and its leases, grants, findings.
	t.Run("Provisioning/ProvisioningQueue", func(t *testing.T) { testProvisioningQueue(t, b) })
	t.Run("Provisioning/UnprovisionedEventsAndFindings", func(t *testing.T) { testUnprovisionedEventsAndFindings(t, b) })
	t.Run("Provisioning/RetryingIsVisibleAndClaimedAgain", func(t *testing.T) { testRetryingIsVisibleAndClaimedAgain(t, b) })
	t.Run("Provisioning/OperationsPageByID", func(t *testing.T) { testOperationsPageByID(t, b) })
	t.Run("Provisioning/WaitingOperationDoneWithItsTask", func(t *testing.T) { testWaitingOperationDoneWithItsTask(t, b) })
	t.Run("Provisioning/RequeueOpResetsAttemptsAndLease", func(t *testing.T) { testRequeueOpResetsAttemptsAndLease(t, b) })
	t.Run("Provisioning/AppStateInTx", func(t *testing.T) { testAppStateInTx(t, b) })
	t.Run("Provisioning/FindingCountsByApp", func(t *testing.T) { testFindingCountsByApp(t, b) })
	t.Run("Provisioning/ResolveFindingInTx", func(t *testing.T) { testResolveFindingInTx(t, b) })

	// SCIM: the provider's resources, pages and groups; pushes that change
	// a person in one transaction.
	t.Run("SCIM/SCIMResourcesRoundTripAndQuery", func(t *testing.T) { testSCIMResourcesRoundTripAndQuery(t, b) })
	t.Run("SCIM/SCIMPagesAreExactAcrossDeletes", func(t *testing.T) { testSCIMPagesAreExactAcrossDeletes(t, b) })
	t.Run("SCIM/SCIMGroupMembershipIsKept", func(t *testing.T) { testSCIMGroupMembershipIsKept(t, b) })
	t.Run("SCIM/PersonChangeAppliesAtomically", func(t *testing.T) { testPersonChangeAppliesAtomically(t, b) })
	t.Run("SCIM/PersonChangeBurstSafeguard", func(t *testing.T) { testPersonChangeBurstSafeguard(t, b) })
	t.Run("SCIM/PersonChangeConcurrentOneWins", func(t *testing.T) { testPersonChangeConcurrentOneWins(t, b) })

	// Workflow: tasks; lifecycle cases (the event cursor, opening a case
	// with its tasks, dependencies, completion closing the case,
	// reassignment, escalation, cancelled events).
	t.Run("Workflow/Tasks", func(t *testing.T) { testTasks(t, b) })
	t.Run("Workflow/CasesOpenOncePerEvent", func(t *testing.T) { testCasesOpenOncePerEvent(t, b) })
	t.Run("Workflow/CaseTasksDependenciesCloseEscalate", func(t *testing.T) { testCaseTasksDependenciesCloseEscalate(t, b) })
	t.Run("Workflow/CancelledEventClosesCase", func(t *testing.T) { testCancelledEventClosesCase(t, b) })

	// Notify: the notification outbox (written with what causes it,
	// claimed with leases, retried, finished with an audit entry),
	// reminders, task load by team and the lifecycle clocks.
	t.Run("Notify/NotificationsWrittenWithTheirCause", func(t *testing.T) { testNotificationsWrittenWithTheirCause(t, b) })
	t.Run("Notify/NotificationsClaimRetryFinish", func(t *testing.T) { testNotificationsClaimRetryFinish(t, b) })
	t.Run("Notify/TaskLoadByTeam", func(t *testing.T) { testTaskLoadByTeam(t, b) })
	t.Run("Notify/LifecycleClocks", func(t *testing.T) { testLifecycleClocks(t, b) })

	// Requests: access requests and their approvals; approvers away; the
	// person behind a token.
	t.Run("Requests/RequestLifecycleAudited", func(t *testing.T) { testRequestLifecycleAudited(t, b) })
	t.Run("Requests/RequestFilters", func(t *testing.T) { testRequestFilters(t, b) })
	t.Run("Requests/RequestConcurrentApprovalsOneWins", func(t *testing.T) { testRequestConcurrentApprovalsOneWins(t, b) })
	t.Run("Requests/AwayAndTokenPerson", func(t *testing.T) { testAwayAndTokenPerson(t, b) })
	// Approval deadlines: notifications written with the request change
	// that causes them, one reminder and one escalation per step, the
	// pending/overdue filters and counts, and approval clocks.
	t.Run("Requests/RequestNotificationsRemindEscalate", func(t *testing.T) { testRequestNotificationsRemindEscalate(t, b) })
	t.Run("Requests/RequestNotificationRollsBackWithTheChange", func(t *testing.T) { testRequestNotificationRollsBackWithTheChange(t, b) })
	t.Run("Requests/ApprovalClocks", func(t *testing.T) { testApprovalClocks(t, b) })

	// Reviews: access-review campaigns, their items and decisions, and
	// the revocations the provisioning plan honours.
	t.Run("Reviews/CampaignItemsRoundTrip", func(t *testing.T) { testCampaignItemsRoundTrip(t, b) })
	t.Run("Reviews/CampaignRollsBackWhole", func(t *testing.T) { testCampaignRollsBackWhole(t, b) })
	t.Run("Reviews/CampaignsInterleaved", func(t *testing.T) { testCampaignsInterleaved(t, b) })
	t.Run("Reviews/RevocationsPlannedOnce", func(t *testing.T) { testRevocationsPlannedOnce(t, b) })
	t.Run("Reviews/ScheduleClaimedOnce", func(t *testing.T) { testReviewScheduleClaimedOnce(t, b) })
	t.Run("Reviews/RemindersAndEscalation", func(t *testing.T) { testReviewRemindersAndEscalation(t, b) })
	t.Run("Reviews/ExpediteOp", func(t *testing.T) { testExpediteOp(t, b) })
	t.Run("Reviews/ModifyAndActivity", func(t *testing.T) { testReviewModifyAndActivity(t, b) })
}

func testEmptyWorkforce(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	wf, err := st.Workforce(ctx, "hris")
	if err != nil || wf.Serial != 0 || len(wf.Persons) != 0 || wf.Held != "" {
		t.Fatalf("empty store: %+v, %v", wf, err)
	}
	if _, err := st.Person(ctx, "hris", "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Person of unknown id: %v, want ErrNotFound", err)
	}
	if _, err := st.Import(ctx, "imp_none"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Import of unknown id: %v, want ErrNotFound", err)
	}
	if b := verify(t, st); b != nil {
		t.Fatalf("empty chain: %v", b)
	}
}

func testApplyImportRoundTrip(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	a, m := person("A1", "Eng", ""), person("M1", "Eng", "")
	a.ManagerID = "M1"
	a.StartDate, a.EndDate = "2026-01-05", "2026-12-31"
	a.Attributes["quote"] = `He said "hi", then left`
	load(t, st, "imp_1", 0, a, m)
	wf, err := st.Workforce(ctx, "hris")
	if err != nil {
		t.Fatal(err)
	}
	if wf.Serial != 1 || len(wf.Persons) != 2 {
		t.Fatalf("after first import: serial %d, %d persons", wf.Serial, len(wf.Persons))
	}
	got, err := st.Person(ctx, "hris", "A1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("person round trip:\n got %+v\nwant %+v", got, a)
	}
	evs, err := st.Events(ctx, store.EventFilter{EmployeeID: "A1"})
	if err != nil || len(evs) != 1 || evs[0].Type != store.EventJoiner || evs[0].After == nil || evs[0].After.Email != a.Email || evs[0].ID == 0 {
		t.Fatalf("events of A1: %+v, %v", evs, err)
	}
	imp, err := st.Import(ctx, "imp_1")
	if err != nil || imp.Status != store.ImportApplied || imp.Joiners != 2 || imp.Duration.Std() != 1500*time.Millisecond || !imp.CreatedAt.Equal(t0) {
		t.Fatalf("import: %+v, %v", imp, err)
	}
	seq, _, _ := st.AuditHead(ctx)
	if seq != 3 {
		t.Fatalf("audit head %d, want 3 (two events and the import)", seq)
	}
	if b := verify(t, st); b != nil {
		t.Fatalf("chain: %v", b)
	}
	// an update through upsert
	a2 := a
	a2.Title, a2.Attributes = "Manager", nil
	imp2 := store.Import{ID: "imp_2", Source: "hris", Status: store.ImportApplied, Actor: "test", CreatedAt: t0, BaseSerial: 1, Movers: 1}
	e := store.Event{ImportID: "imp_2", Source: "hris", EmployeeID: "A1", Type: store.EventMover, State: store.EventApplied,
		Effective: t0, Before: &a, After: &a2, Changed: []string{"title", "projects"}, CreatedAt: t0}
	if err := st.ApplyImport(ctx, imp2, []store.Person{a2}, []store.Event{e}, []audit.Entry{store.EventEntry(e, "test", t0)}, nil); err != nil {
		t.Fatal(err)
	}
	got, _ = st.Person(ctx, "hris", "A1")
	if got.Title != "Manager" || got.Attributes != nil {
		t.Fatalf("after mover: %+v", got)
	}
	evs, _ = st.Events(ctx, store.EventFilter{EmployeeID: "A1", Type: store.EventMover})
	if len(evs) != 1 || !reflect.DeepEqual(evs[0].Changed, []string{"title", "projects"}) || evs[0].Before.Title != "Engineer" {
		t.Fatalf("mover event: %+v", evs)
	}
}

func testStaleBaseConflictsAndWritesNothing(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	load(t, st, "imp_1", 0, person("A1", "Eng", ""))
	seq, hash, _ := st.AuditHead(ctx)
	p := person("B1", "Eng", "")
	e := store.Event{ImportID: "imp_x", Source: "hris", EmployeeID: "B1", Type: store.EventJoiner, State: store.EventApplied, After: &p, Effective: t0, CreatedAt: t0}
	err := st.ApplyImport(ctx, store.Import{ID: "imp_x", Source: "hris", Status: store.ImportApplied, Actor: "t", CreatedAt: t0, BaseSerial: 0},
		[]store.Person{p}, []store.Event{e}, []audit.Entry{store.EventEntry(e, "t", t0)}, nil)
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale base: %v, want ErrConflict", err)
	}
	if _, err := st.Person(ctx, "hris", "B1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("person written despite conflict: %v", err)
	}
	if _, err := st.Import(ctx, "imp_x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("import written despite conflict: %v", err)
	}
	s2, h2, _ := st.AuditHead(ctx)
	if s2 != seq || h2 != hash {
		t.Fatalf("audit changed despite conflict")
	}
}

func testConcurrentImportsOneWins(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := person(fmt.Sprintf("C%d", i), "Eng", "")
			e := store.Event{Source: "hris", EmployeeID: p.EmployeeID, Type: store.EventJoiner, State: store.EventApplied, After: &p, Effective: t0, CreatedAt: t0}
			id := fmt.Sprintf("imp_c%d", i)
			e.ImportID = id
			errs[i] = st.ApplyImport(ctx, store.Import{ID: id, Source: "hris", Status: store.ImportApplied, Actor: "t", CreatedAt: t0},
				[]store.Person{p}, []store.Event{e}, []audit.Entry{store.EventEntry(e, "t", t0)}, nil)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent imports on the same base succeeded, want exactly 1", ok)
	}
	if b := verify(t, st); b != nil {
		t.Fatalf("chain: %v", b)
	}
}

// decide approves or rejects a held import as hr.Decide does, with prov
// as the access changes planned for it (nil: none planned).
func decide(ctx context.Context, st store.Store, id string, approve bool, actor string, at time.Time, prov *store.ProvisionBatch) (store.Import, error) {
	opt := hr.Options{Actor: actor, Now: func() time.Time { return at }}
	if prov != nil {
		opt.Provision = func(context.Context, []store.Person, []store.Event, time.Time) (*store.ProvisionBatch, error) {
			return prov, nil
		}
	}
	return hr.Decide(ctx, st, id, approve, opt)
}

func testHeldImportApproveAndReject(t *testing.T, b Backend) {
	ctx := context.Background()
	for _, approve := range []bool{true, false} {
		t.Run(fmt.Sprint("approve=", approve), func(t *testing.T) {
			st := b.Open(t)
			load(t, st, "imp_1", 0, person("A1", "Eng", ""), person("A2", "Eng", ""))
			gone := person("A2", "Eng", "")
			gone.Status = store.StatusLeft
			before := person("A2", "Eng", "")
			e := store.Event{ImportID: "imp_h", Source: "hris", EmployeeID: "A2", Type: store.EventLeaver, State: store.EventApplied,
				Effective: t0, Before: &before, After: &gone, CreatedAt: t0}
			imp := store.Import{ID: "imp_h", Source: "hris", Status: store.ImportHeld, Actor: "t", CreatedAt: t0, BaseSerial: 1, Leavers: 1, Reason: "too many"}
			if err := st.ApplyImport(ctx, imp, []store.Person{gone}, []store.Event{e}, []audit.Entry{store.ImportEntry(imp, "hr.import.held", "t", t0)}, nil); err != nil {
				t.Fatal(err)
			}
			p, _ := st.Person(ctx, "hris", "A2")
			if p.Status != store.StatusActive {
				t.Fatalf("held import changed the person: %s", p.Status)
			}
			wf, _ := st.Workforce(ctx, "hris")
			if wf.Held != "imp_h" {
				t.Fatalf("Workforce.Held = %q, want imp_h", wf.Held)
			}
			err := st.ApplyImport(ctx, store.Import{ID: "imp_next", Source: "hris", Status: store.ImportApplied, Actor: "t", CreatedAt: t0, BaseSerial: wf.Serial}, nil, nil, nil, nil)
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("import while held: %v, want ErrConflict", err)
			}
			// What approving applies: the persons and events as held.
			hp, he, err := st.HeldImport(ctx, "imp_h")
			if err != nil || len(hp) != 1 || hp[0].Status != store.StatusLeft || len(he) != 1 || he[0].Type != store.EventLeaver || he[0].ImportID != "imp_h" {
				t.Fatalf("HeldImport: persons %+v, events %+v, %v", hp, he, err)
			}
			if _, _, err := st.HeldImport(ctx, "imp_missing"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("HeldImport of an unknown import: %v, want ErrNotFound", err)
			}
			// Approving queues what the import would have queued: A2's
			// disable, in the approval's own transaction.
			var prov *store.ProvisionBatch
			if approve {
				at := t0.Add(time.Hour)
				prov = &store.ProvisionBatch{
					Ops: []store.Operation{{App: "directory", Kind: store.OpDisable, Source: "hris", EmployeeID: "A2", Priority: store.PriorityDisable,
						State: store.OpPending, NotBefore: at, Reason: "person left", ImportID: "imp_h", CreatedAt: at, UpdatedAt: at}},
					Put: []store.GrantRow{{App: "directory", Source: "hris", EmployeeID: "A2", State: "disabled", Reason: "person left", UpdatedAt: at}},
				}
				// A person the held import changes moved on in between
				// (here: touched by a scheduled event): approving refuses,
				// and queues nothing.
				touched := person("A2", "Eng", "")
				touched.UpdatedAt = t0.Add(time.Minute)
				if _, err := b.Raw(st).ExecContext(ctx, fmt.Sprintf("UPDATE persons SET updated_at = %d WHERE employee_id = 'A2'", touched.UpdatedAt.UnixMicro())); err != nil {
					t.Fatal(err)
				}
				if _, err := decide(ctx, st, "imp_h", true, "hr-lead", t0.Add(time.Hour), prov); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), "A2") {
					t.Fatalf("approving over a changed person: %v, want ErrConflict naming A2", err)
				}
				if ops, _ := st.Ops(ctx, store.OpFilter{}); len(ops) != 0 {
					t.Fatalf("a refused approval queued %+v", ops)
				}
				if _, err := b.Raw(st).ExecContext(ctx, fmt.Sprintf("UPDATE persons SET updated_at = %d WHERE employee_id = 'A2'", t0.UnixMicro())); err != nil {
					t.Fatal(err)
				}
			}
			imp, err = decide(ctx, st, "imp_h", approve, "hr-lead", t0.Add(time.Hour), prov)
			if err != nil {
				t.Fatal(err)
			}
			p, _ = st.Person(ctx, "hris", "A2")
			evs, _ := st.Events(ctx, store.EventFilter{ImportID: "imp_h"})
			ops, _ := st.Ops(ctx, store.OpFilter{EmployeeID: "A2"})
			unplanned, _ := st.Unprovisioned(ctx, 10)
			if approve {
				if imp.Status != store.ImportApplied || p.Status != store.StatusLeft || len(evs) != 1 || evs[0].State != store.EventApplied {
					t.Fatalf("after approve: import %s, person %s, events %+v", imp.Status, p.Status, evs)
				}
				if len(ops) != 1 || ops[0].Kind != store.OpDisable || ops[0].State != store.OpPending || ops[0].ImportID != "imp_h" {
					t.Fatalf("after approve: operations %+v, want A2's disable queued", ops)
				}
				if gs, _ := st.Grants(ctx, "hris"); len(gs) != 1 || gs[0].State != "disabled" {
					t.Fatalf("after approve: grants %+v", gs)
				}
				for _, e := range unplanned {
					if e.ImportID == "imp_h" {
						t.Fatalf("after approve: event %+v not marked planned for", e)
					}
				}
			} else if imp.Status != store.ImportRejected || p.Status != store.StatusActive || len(evs) != 0 || len(ops) != 0 {
				t.Fatalf("after reject: import %s, person %s, events %d, operations %d", imp.Status, p.Status, len(evs), len(ops))
			}
			if _, _, err := st.HeldImport(ctx, "imp_h"); err == nil || errors.Is(err, store.ErrNotFound) {
				t.Fatalf("HeldImport of a decided import: %v, want an error saying it is not held", err)
			}
			if imp.DecidedBy != "hr-lead" {
				t.Fatalf("decided by %q", imp.DecidedBy)
			}
			if _, err := decide(ctx, st, "imp_h", true, "hr-lead", t0, nil); err == nil {
				t.Fatal("deciding twice succeeded")
			}
			if _, err := decide(ctx, st, "imp_missing", true, "x", t0, nil); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("deciding unknown import: %v", err)
			}
			wf, _ = st.Workforce(ctx, "hris")
			if wf.Held != "" {
				t.Fatalf("still held after decision")
			}
			ents, _ := st.AuditEntries(ctx, 0, 100)
			last := ents[len(ents)-1]
			want := map[bool]string{true: "hr.import.approved", false: "hr.import.rejected"}[approve]
			if last.Action != want || last.Actor != "hr-lead" {
				t.Fatalf("last audit entry %s by %s, want %s by hr-lead", last.Action, last.Actor, want)
			}
			if b := verify(t, st); b != nil {
				t.Fatalf("chain: %v", b)
			}
		})
	}
}

func testScheduledEventsApplyWhenDue(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	a := person("A1", "Eng", "")
	a.EndDate = "2026-04-01"
	left := a
	left.Status = store.StatusLeft
	due := t0.Add(48 * time.Hour)
	imp := store.Import{ID: "imp_1", Source: "hris", Status: store.ImportApplied, Actor: "t", CreatedAt: t0}
	j := store.Event{ImportID: "imp_1", Source: "hris", EmployeeID: "A1", Type: store.EventJoiner, State: store.EventApplied, Effective: t0, After: &a, CreatedAt: t0}
	l := store.Event{ImportID: "imp_1", Source: "hris", EmployeeID: "A1", Type: store.EventLeaver, State: store.EventScheduled, Effective: due, After: &left, CreatedAt: t0}
	if err := st.ApplyImport(ctx, imp, []store.Person{a}, []store.Event{j, l}, []audit.Entry{store.EventEntry(j, "t", t0)}, nil); err != nil {
		t.Fatal(err)
	}
	done, err := hr.ApplyDue(ctx, st, due.Add(-time.Second), "scheduler")
	if err != nil || len(done) != 0 {
		t.Fatalf("ApplyDue before the date: %d events, %v", len(done), err)
	}
	// Searched once before the leave, so that a search index is built.
	if got, _ := st.Persons(ctx, store.PersonFilter{Query: "a1", Status: store.StatusActive}); len(got) != 1 {
		t.Fatalf("search before the leave: %+v", got)
	}
	done, err = hr.ApplyDue(ctx, st, due, "scheduler")
	if err != nil || len(done) != 1 || done[0].Type != store.EventLeaver {
		t.Fatalf("ApplyDue at the date: %+v, %v", done, err)
	}
	if got, _ := st.Persons(ctx, store.PersonFilter{Query: "a1", Status: store.StatusLeft}); len(got) != 1 {
		t.Fatalf("search for leavers after the scheduled leave: %+v", got)
	}
	p, _ := st.Person(ctx, "hris", "A1")
	if p.Status != store.StatusLeft {
		t.Fatalf("person %s after scheduled leave, want left", p.Status)
	}
	evs, _ := st.Events(ctx, store.EventFilter{EmployeeID: "A1", Type: store.EventLeaver})
	if len(evs) != 1 || evs[0].State != store.EventApplied {
		t.Fatalf("leaver event after ApplyDue: %+v", evs)
	}
	if done, _ := hr.ApplyDue(ctx, st, due.Add(time.Hour), "scheduler"); len(done) != 0 {
		t.Fatalf("applied twice: %d", len(done))
	}
	ents, _ := st.AuditEntries(ctx, 0, 100)
	if last := ents[len(ents)-1]; last.Action != "hr.leaver" || last.Actor != "scheduler" {
		t.Fatalf("last audit entry %s by %s", last.Action, last.Actor)
	}
	wf, _ := st.Workforce(ctx, "hris")
	if wf.Serial != 2 {
		t.Fatalf("serial %d after scheduled event, want 2", wf.Serial)
	}
}

func testListFilters(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	var ps []store.Person
	for i := range 25 {
		dept := "Eng"
		if i%5 == 0 {
			dept = "Sales"
		}
		ps = append(ps, person(fmt.Sprintf("P%02d", i), dept, "P00"))
	}
	ps[0].ManagerID = ""
	ps[3].Status = store.StatusLeft
	load(t, st, "imp_1", 0, ps...)
	count := func(f store.PersonFilter) int {
		got, err := st.Persons(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := count(store.PersonFilter{Department: "Sales"}); n != 5 {
		t.Fatalf("department filter: %d, want 5", n)
	}
	if n := count(store.PersonFilter{Status: store.StatusLeft}); n != 1 {
		t.Fatalf("status filter: %d, want 1", n)
	}
	if n := count(store.PersonFilter{ManagerID: "P00"}); n != 24 {
		t.Fatalf("manager filter: %d, want 24", n)
	}
	// Query: any of name, e-mail, ID and department, ignoring case; LIKE
	// wildcards in it are plain characters.
	for q, want := range map[string]int{"p1": 10, "SALES": 5, "p07": 1, "%": 0, "_": 0, " p24 ": 1} {
		if n := count(store.PersonFilter{Query: q}); n != want {
			t.Fatalf("query %q: %d persons, want %d", q, n, want)
		}
	}
	if n := count(store.PersonFilter{Query: "p1", Department: "Sales"}); n != 2 {
		t.Fatalf("query p1 in Sales: %d persons, want 2 (P10, P15)", n)
	}
	if n := count(store.PersonFilter{Query: "p0", Status: store.StatusLeft}); n != 1 {
		t.Fatalf("query p0 among leavers: %d persons, want 1 (P03)", n)
	}
	// A search pages like the list: in employee ID order, after the last one seen.
	if got, _ := st.Persons(ctx, store.PersonFilter{Query: "@dtaa", Limit: 3, After: "P09"}); len(got) != 3 || got[0].EmployeeID != "P10" || got[2].EmployeeID != "P12" {
		t.Fatalf("search paging: %+v", got)
	}
	if got, _ := st.Persons(ctx, store.PersonFilter{Email: "p07@DTAA.com"}); len(got) != 1 || got[0].EmployeeID != "P07" {
		t.Fatalf("e-mail filter (any case): %+v, want P07", got)
	}
	page, _ := st.Persons(ctx, store.PersonFilter{Limit: 10, After: "P09"})
	if len(page) != 10 || page[0].EmployeeID != "P10" || page[9].EmployeeID != "P19" {
		t.Fatalf("paging: %d persons from %s", len(page), page[0].EmployeeID)
	}
	evs, _ := st.Events(ctx, store.EventFilter{ImportID: "imp_1", Limit: 5})
	if len(evs) != 5 {
		t.Fatalf("event limit: %d", len(evs))
	}
	more, _ := st.Events(ctx, store.EventFilter{AfterID: evs[4].ID})
	if len(more) != 20 {
		t.Fatalf("events after id: %d, want 20", len(more))
	}
	imps, _ := st.Imports(ctx, "hris", 10)
	if len(imps) != 1 || imps[0].ID != "imp_1" {
		t.Fatalf("imports: %+v", imps)
	}
	c, err := st.Counts(ctx)
	if err != nil || c.EventsByType[store.EventJoiner] != 25 || c.ImportsByStatus[store.ImportApplied] != 1 || c.PersonsByStatus[store.StatusActive] != 24 || c.ImportSeconds != 1.5 {
		t.Fatalf("counts: %+v, %v", c, err)
	}

	// The search follows every write of a person: a rename is found by the
	// new name at once, no longer by the old one; quotes are plain text.
	renamed := ps[7]
	renamed.DisplayName = "Zoë Quartermaine"
	if err := st.ApplyImport(ctx, store.Import{ID: "imp_2", Source: "hris", Status: store.ImportApplied, Actor: "test", Rows: 1, CreatedAt: t0, BaseSerial: 1},
		[]store.Person{renamed}, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"quartermaine": 1, "ZOË QUART": 1, "person p07": 0, "person p08": 1, `"p1`: 0, `p"1`: 0} {
		if n := count(store.PersonFilter{Query: q}); n != want {
			t.Fatalf("query %q after the rename: %d persons, want %d", q, n, want)
		}
	}
}

func testAuditConcurrentAppends(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if err := st.AppendAudit(ctx, audit.New(t0, fmt.Sprint("w", w), "test.append", "", "", fmt.Sprint(i), nil, map[string]int{"i": i})); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	seq, _, _ := st.AuditHead(ctx)
	if seq != 40 {
		t.Fatalf("head %d, want 40", seq)
	}
	if b := verify(t, st); b != nil {
		t.Fatalf("chain: %v", b)
	}
}

func testAuditTamperDetected(t *testing.T, b Backend) {
	ctx := context.Background()
	cases := []struct {
		name string
		sql  []string
		want int64
	}{
		{"altered", []string{`UPDATE audit SET actor = 'mallory' WHERE seq = 3`}, 3},
		{"altered document", []string{`UPDATE audit SET after_doc = '{"status":"fake"}' WHERE seq = 4`}, 4},
		{"removed", []string{`DELETE FROM audit WHERE seq = 5`}, 5},
		{"reordered", []string{`UPDATE audit SET seq = 100 WHERE seq = 2`, `UPDATE audit SET seq = 2 WHERE seq = 3`, `UPDATE audit SET seq = 3 WHERE seq = 100`}, 2},
		{"truncated", []string{`DELETE FROM audit WHERE seq = 8`}, 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := b.Open(t)
			for i := range 8 {
				if err := st.AppendAudit(ctx, audit.New(t0, "test", "test.append", "", "", fmt.Sprint(i), nil, map[string]int{"i": i})); err != nil {
					t.Fatal(err)
				}
			}
			if b := verify(t, st); b != nil {
				t.Fatalf("intact chain reported broken: %v", b)
			}
			for _, q := range c.sql {
				if _, err := b.Raw(st).ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			brk := verify(t, st)
			if brk == nil || brk.Seq != c.want {
				t.Fatalf("tampering (%s) reported as %v, want first broken entry %d", c.name, brk, c.want)
			}
		})
	}
}

func testTokens(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	tok, err := auth.CreateToken(ctx, st, store.Token{Name: "entra", Scope: "scim", Hash: "h1", CreatedAt: t0})
	if err != nil || tok.ID == 0 {
		t.Fatalf("create: %+v, %v", tok, err)
	}
	if _, err := auth.CreateToken(ctx, st, store.Token{Name: "entra", Scope: "scim", Hash: "h2", CreatedAt: t0}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate name: %v, want ErrConflict", err)
	}
	got, err := st.TokenByHash(ctx, "h1")
	if err != nil || got.Name != "entra" || got.Scope != "scim" {
		t.Fatalf("by hash: %+v, %v", got, err)
	}
	if _, err := st.TokenByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
	if err := st.TouchToken(ctx, got.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := auth.RevokeToken(ctx, st, "entra", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := auth.RevokeToken(ctx, st, "entra", t0.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking twice: %v", err)
	}
	ts, _ := st.Tokens(ctx)
	if len(ts) != 1 || !ts[0].LastUsed.Equal(t0.Add(time.Minute)) || ts[0].Revoked.IsZero() || ts[0].Hash != "" {
		t.Fatalf("list: %+v", ts)
	}
	if _, err := auth.CreateToken(ctx, st, store.Token{Name: "entra", Scope: "scim", Hash: "h3", CreatedAt: t0}); err != nil {
		t.Fatalf("reusing a revoked token's name: %v", err)
	}
}

func testProvisioningQueue(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	now := t0
	op := func(app, kind, id string, prio int, nb time.Time) store.Operation {
		return store.Operation{App: app, Kind: kind, Source: "hris", EmployeeID: id, Account: `{"Key":"` + id + `"}`,
			Priority: prio, State: store.OpPending, NotBefore: nb, Reason: "role staff", CreatedAt: now, UpdatedAt: now}
	}
	batch := store.ProvisionBatch{
		Ops: []store.Operation{
			op("dir", store.OpCreate, "A", store.PriorityNormal, now),
			op("dir", store.OpGrant, "A", store.PriorityNormal, now),                 // waits for A's create
			op("dir", store.OpRevoke, "B", store.PriorityRevoke, now.Add(time.Hour)), // not due
			op("dir", store.OpDisable, "B", store.PriorityDisable, now),              // due; the later revoke does not block it
			op("crm", store.OpCreate, "A", store.PriorityNormal, now),                // another app: independent
			op("quarantined", store.OpCreate, "C", store.PriorityNormal, now),        // skipped
		},
		Put: []store.GrantRow{{App: "dir", Source: "hris", EmployeeID: "A", State: "active", Reason: "role staff", UpdatedAt: now},
			{App: "dir", Source: "hris", EmployeeID: "A", Entitlement: "admins", State: "active", UpdatedAt: now}},
		Entries: []audit.Entry{audit.New(now, "t", "provision.planned", "", "", "A", nil, nil)},
	}
	if err := st.QueueOps(ctx, batch); err != nil {
		t.Fatal(err)
	}
	got, err := st.ClaimOps(ctx, "w1", now, time.Minute, 10, []string{"quarantined"})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, o := range got {
		kinds = append(kinds, o.App+":"+o.Kind+":"+o.EmployeeID)
	}
	want := []string{"dir:disable:B", "dir:create:A", "crm:create:A"}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("claimed %v, want %v (disables first, one at a time per account, not-yet-due and quarantined skipped)", kinds, want)
	}
	again, _ := st.ClaimOps(ctx, "w2", now, time.Minute, 10, nil)
	if len(again) != 1 || again[0].App != "quarantined" {
		t.Fatalf("second claimer got %+v, want only the quarantined app's operation", again)
	}
	for _, o := range []store.Operation{got[0], got[2], again[0]} {
		if err := st.FinishOp(ctx, o.ID, o.LeaseOwner, now, store.OpResult{State: store.OpDone}); err != nil {
			t.Fatal(err)
		}
	}
	// finish the create; the grant becomes claimable
	e := audit.New(now, "system", "provision.create", "hris", "", "A", nil, map[string]string{"app": "dir"})
	if err := st.FinishOp(ctx, got[1].ID, "w1", now, store.OpResult{State: store.OpDone, Entry: &e}); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishOp(ctx, got[1].ID, "w1", now, store.OpResult{State: store.OpDone}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("finishing twice: %v, want ErrConflict", err)
	}
	next, _ := st.ClaimOps(ctx, "w1", now, time.Minute, 10, nil)
	if len(next) != 1 || next[0].Kind != store.OpGrant {
		t.Fatalf("after the create: %+v, want the grant", next)
	}
	// a retry waits for its time
	if err := st.FinishOp(ctx, next[0].ID, "w1", now, store.OpResult{State: store.OpPending, Error: "busy", NotBefore: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.ClaimOps(ctx, "w1", now.Add(30*time.Second), time.Minute, 10, nil); len(n) != 0 {
		t.Fatalf("retry claimed before its time: %+v", n)
	}
	// a worker that dies: its lease expires and the operation runs again
	lost, _ := st.ClaimOps(ctx, "w1", now.Add(2*time.Minute), time.Minute, 10, nil)
	if len(lost) != 1 || lost[0].Attempts != 1 || lost[0].LastError != "busy" {
		t.Fatalf("retry: %+v", lost)
	}
	if n, _ := st.ClaimOps(ctx, "w2", now.Add(2*time.Minute+30*time.Second), time.Minute, 10, nil); len(n) != 0 {
		t.Fatalf("claimed while leased: %+v", n)
	}
	stolen, _ := st.ClaimOps(ctx, "w2", now.Add(4*time.Minute), time.Minute, 10, nil)
	if len(stolen) != 1 || stolen[0].ID != lost[0].ID {
		t.Fatalf("expired lease not reclaimed: %+v", stolen)
	}
	if err := st.FinishOp(ctx, lost[0].ID, "w1", now, store.OpResult{State: store.OpDone}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("old owner finished a reclaimed operation: %v", err)
	}
	counts, _ := st.OpCounts(ctx)
	if counts["dir"][store.OpDone] != 2 || counts["dir"][store.OpRunning] != 1 || counts["dir"][store.OpPending] != 1 || counts["crm"][store.OpDone] != 1 {
		t.Fatalf("op counts %v", counts)
	}
	grants, _ := st.Grants(ctx, "hris")
	if len(grants) != 2 || grants[0].Entitlement != "" || grants[1].Entitlement != "admins" {
		t.Fatalf("grants %+v", grants)
	}
	if mine, err := st.PersonGrants(ctx, "hris", grants[0].EmployeeID); err != nil || len(mine) != 2 {
		t.Fatalf("one person's grants: %+v %v", mine, err)
	}
	if none, err := st.PersonGrants(ctx, "other", grants[0].EmployeeID); err != nil || len(none) != 0 {
		t.Fatalf("another source's person's grants: %+v %v", none, err)
	}
	if err := st.QueueOps(ctx, store.ProvisionBatch{Delete: []store.GrantRow{grants[1]}}); err != nil {
		t.Fatal(err)
	}
	if grants, _ = st.Grants(ctx, ""); len(grants) != 1 {
		t.Fatalf("grant not deleted: %+v", grants)
	}
	if b := verify(t, st); b != nil {
		t.Fatalf("chain: %v", b)
	}
}

func testUnprovisionedEventsAndFindings(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	load(t, st, "imp_1", 0, person("A1", "Eng", ""), person("A2", "Eng", ""))
	evs, err := st.Unprovisioned(ctx, 10)
	if err != nil || len(evs) != 2 {
		t.Fatalf("unprovisioned: %d, %v", len(evs), err)
	}
	if err := st.QueueOps(ctx, store.ProvisionBatch{Events: []int64{evs[0].ID}}); err != nil {
		t.Fatal(err)
	}
	if evs, _ = st.Unprovisioned(ctx, 10); len(evs) != 1 || evs[0].EmployeeID != "A2" {
		t.Fatalf("after marking: %+v", evs)
	}
	f := func(subj string) store.Finding {
		return store.Finding{Subject: subj, Detail: "d " + subj, Team: "security"}
	}
	if err := st.ReplaceFindings(ctx, "orphan-account", "dir", []store.Finding{f("x"), f("y")}, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.ReplaceFindings(ctx, "orphan-account", "dir", []store.Finding{f("y"), f("z")}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	open, _ := st.Findings(ctx, "orphan-account", "dir", "open")
	resolved, _ := st.Findings(ctx, "orphan-account", "dir", "resolved")
	if len(open) != 2 || len(resolved) != 1 || resolved[0].Subject != "x" || !open[0].LastSeen.Equal(t0.Add(time.Hour)) || !open[0].FirstSeen.Equal(t0) {
		t.Fatalf("findings open %+v resolved %+v", open, resolved)
	}
	if err := st.AddFinding(ctx, store.Finding{Kind: "operation-failed", App: "dir", Subject: "op-1", Team: "it", FirstSeen: t0, LastSeen: t0}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddFinding(ctx, store.Finding{Kind: "operation-failed", App: "dir", Subject: "op-1", Team: "it", FirstSeen: t0, LastSeen: t0}); err != nil {
		t.Fatal(err)
	}
	if fs, _ := st.Findings(ctx, "operation-failed", "", ""); len(fs) != 1 {
		t.Fatalf("the same finding twice: %+v", fs)
	}
	if fs, err := st.FindingsAbout(ctx, "y", "open"); err != nil || len(fs) != 1 || fs[0].Subject != "y" {
		t.Fatalf("findings about y: %+v %v", fs, err)
	}
	if fs, _ := st.FindingsAbout(ctx, "x", "open"); len(fs) != 0 {
		t.Fatalf("open findings about x (resolved): %+v", fs)
	}
	if err := st.PutAppState(ctx, store.AppState{App: "dir", Failures: 5, QuarantinedUntil: t0, LastError: "down"}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutAppState(ctx, store.AppState{App: "dir", Failures: 0, LastSuccess: t0}); err != nil {
		t.Fatal(err)
	}
	as, _ := st.AppStates(ctx)
	if len(as) != 1 || as[0].Failures != 0 || !as[0].QuarantinedUntil.IsZero() || !as[0].LastSuccess.Equal(t0) {
		t.Fatalf("app states %+v", as)
	}
}

func testTasks(t *testing.T, b Backend) {
	ctx := context.Background()
	st := b.Open(t)
	due := t0.Add(72 * time.Hour)
	a, err := taskrule.Create(ctx, st, store.Task{Source: "hris", Person: "E1", Team: "it", Title: "Create account in payments", Detail: "userName e1@dtaa.com",
		Status: store.TaskOpen, Kind: store.TaskHuman, Due: due, App: "payments", CreatedAt: t0})
	if err != nil || a.ID == 0 {
		t.Fatalf("create: %+v, %v", a, err)
	}
	if _, err := taskrule.Create(ctx, st, store.Task{Person: "E2", Team: "hr", Title: "Attest", Status: store.TaskOpen, Kind: store.TaskHuman, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	it, _ := st.Tasks(ctx, store.TaskFilter{Team: "it"})
	if len(it) != 1 || it[0].Title != "Create account in payments" || !it[0].Due.Equal(due) || it[0].App != "payments" {
		t.Fatalf("tasks of it: %+v", it)
	}
	done, err := taskrule.Complete(ctx, st, a.ID, "ticket CHG-1", "alice", t0.Add(time.Hour))
	if err != nil || done.Status != store.TaskDone || done.Evidence != "ticket CHG-1" || done.CompletedBy != "alice" {
		t.Fatalf("complete: %+v, %v", done, err)
	}
	if _, err := taskrule.Complete(ctx, st, a.ID, "again", "bob", t0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("completing twice: %v, want ErrConflict", err)
	}
	if _, err := taskrule.Complete(ctx, st, 999, "x", "bob", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("completing an unknown task: %v", err)
	}
	if open, _ := st.Tasks(ctx, store.TaskFilter{Status: store.TaskOpen}); len(open) != 1 || open[0].Person != "E2" {
		t.Fatalf("open tasks: %+v", open)
	}
	ents, _ := st.AuditEntries(ctx, 0, 100)
	if last := ents[len(ents)-1]; last.Action != "task.completed" || last.Actor != "alice" || !strings.Contains(string(last.After), "CHG-1") {
		t.Fatalf("last audit entry %+v", last)
	}
}

// dateChangeCancels: a change of a person's end date cancels the leave
// scheduled for the old one, in an import with extra other joiners.
func dateChangeCancels(t *testing.T, b Backend, extra int) {
	ctx := context.Background()
	st := b.Open(t)
	a := person("A1", "Eng", "")
	a.EndDate = "2026-04-01"
	left := a
	left.Status = store.StatusLeft
	imp := store.Import{ID: "imp_1", Source: "hris", Status: store.ImportApplied, Actor: "t", CreatedAt: t0}
	l := store.Event{ImportID: "imp_1", Source: "hris", EmployeeID: "A1", Type: store.EventLeaver, State: store.EventScheduled, Effective: t0.Add(time.Hour), After: &left, CreatedAt: t0}
	if err := st.ApplyImport(ctx, imp, []store.Person{a}, []store.Event{l}, nil, nil); err != nil {
		t.Fatal(err)
	}
	b2 := a
	b2.EndDate = ""
	c := store.Event{ImportID: "imp_2", Source: "hris", EmployeeID: "A1", Type: store.EventChange, State: store.EventApplied, Effective: t0, Before: &a, After: &b2, Changed: []string{"end_date"}, CreatedAt: t0}
	persons, events, entries := []store.Person{b2}, []store.Event{c}, []audit.Entry{store.EventEntry(c, "t", t0)}
	for i := range extra {
		j := person(fmt.Sprint("J", i), "Eng", "")
		e := store.Event{ImportID: "imp_2", Source: "hris", EmployeeID: j.EmployeeID, Type: store.EventJoiner, State: store.EventApplied, Effective: t0, After: &j, CreatedAt: t0}
		persons, events, entries = append(persons, j), append(events, e), append(entries, store.EventEntry(e, "t", t0))
	}
	if err := st.ApplyImport(ctx, store.Import{ID: "imp_2", Source: "hris", Status: store.ImportApplied, Actor: "t", CreatedAt: t0, BaseSerial: 1},
		persons, events, entries, nil); err != nil {
		t.Fatal(err)
	}
	if done, _ := hr.ApplyDue(ctx, st, t0.Add(2*time.Hour), "scheduler"); len(done) != 0 {
		t.Fatalf("a cancelled leave was applied")
	}
	p, _ := st.Person(ctx, "hris", "A1")
	if p.Status != store.StatusActive {
		t.Fatalf("person %s, want active", p.Status)
	}
}
