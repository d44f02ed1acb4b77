package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/connector"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/runner"
	"github.com/tango-iga/tango/internal/store"
)

// Options tune the engine.
type Options struct {
	MoverGrace     time.Duration // old access of a mover is removed after this; default 7 days
	Workers        int           // operations run at once; default 8
	MaxAttempts    int           // before an operation fails for good; default 10
	QuarantineAt   int           // consecutive failures that quarantine an app; default 5
	QuarantineFor  time.Duration // default 1 minute
	Lease          time.Duration // how long a claimed operation is held; default 2 minutes
	Poll           time.Duration // idle wait between queue checks; default 200 ms
	Log            *slog.Logger
	Now            func() time.Time
	BackoffBase    time.Duration // first retry delay; default 1 s
	BackoffCeiling time.Duration // default 5 minutes
	// SettleEvery is how often Run checks the operations waiting for a
	// manual app's task against the app's accounts export; default 1 minute.
	SettleEvery time.Duration
	// ReconcileTimeout bounds each wait of Reconcile on one app (its
	// operations, then reading its accounts); default 5 minutes. An app's
	// own ReconcileTimeout wins.
	ReconcileTimeout time.Duration
}

// Engine plans and runs provisioning for one store, policy and set of apps.
type Engine struct {
	st    Store
	pol   *policy.Policy
	apps  map[string]*App
	opt   Options
	owner string
	wake  chan struct{}
	// settled is when Work last checked the waiting operations against
	// the accounts exports (one runner goroutine calls Work).
	settled time.Time

	unknownMu sync.Mutex
	unknown   map[string]bool
	unknownAt time.Time

	// planMu makes this process's plans of requests and revocations one
	// at a time: two at once (an API handler's and the job's) would read
	// the same ones unplanned and queue their operations twice.
	planMu sync.Mutex
}

// New makes an engine. Options.Log and Options.Now are required: New
// panics without them (a programming error).
func New(st Store, pol *policy.Policy, apps map[string]*App, opt Options) *Engine {
	if opt.Log == nil {
		panic("provision.New: Options.Log is nil")
	}
	if opt.Now == nil {
		panic("provision.New: Options.Now is nil")
	}
	if opt.MoverGrace == 0 {
		opt.MoverGrace = 7 * 24 * time.Hour
	}
	if opt.Workers <= 0 {
		opt.Workers = 8
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 10
	}
	if opt.QuarantineAt <= 0 {
		opt.QuarantineAt = 5
	}
	if opt.QuarantineFor <= 0 {
		opt.QuarantineFor = time.Minute
	}
	if opt.Lease <= 0 {
		opt.Lease = 2 * time.Minute
	}
	if opt.Poll <= 0 {
		opt.Poll = 200 * time.Millisecond
	}
	if opt.BackoffBase <= 0 {
		opt.BackoffBase = time.Second
	}
	if opt.BackoffCeiling <= 0 {
		opt.BackoffCeiling = 5 * time.Minute
	}
	if opt.SettleEvery <= 0 {
		opt.SettleEvery = time.Minute
	}
	if opt.ReconcileTimeout <= 0 {
		opt.ReconcileTimeout = 5 * time.Minute
	}
	host, _ := os.Hostname()
	return &Engine{st: st, pol: pol, apps: apps, opt: opt, wake: make(chan struct{}, 1),
		owner: fmt.Sprintf("%s/%d/%d", host, os.Getpid(), time.Now().UnixNano())}
}

// Apps returns the engine's apps.
func (e *Engine) Apps() map[string]*App { return e.apps }

// RevokesSessions reports whether the app is configured and its connector
// can end an account's sessions and tokens.
func (e *Engine) RevokesSessions(app string) bool {
	a := e.apps[app]
	return a != nil && a.RevokesSessions()
}

// Wake tells the workers that operations were queued.
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Close closes every connector.
func (e *Engine) Close() {
	for _, a := range e.apps {
		a.Conn.Close()
	}
}

// Plan computes the operations that bring the given persons' access in
// line with the policy. why maps an employee ID to the event behind the
// change, for the reason recorded with each operation.
func (e *Engine) Plan(ctx context.Context, persons []store.Person, why map[string]store.Event, at time.Time) (*store.ProvisionBatch, []policy.Violation, error) {
	b := &store.ProvisionBatch{}
	if len(e.apps) == 0 || len(persons) == 0 {
		return b, nil, nil
	}
	bySource := map[string]map[string][]store.GrantRow{}
	reqs := map[string]*sourceRequests{}
	byID := make(map[string]*store.Person, len(persons))
	// A plan of a few persons (a decision on a request or a review item)
	// reads their own grants, requests and revocations; a larger one the
	// whole source's at once.
	few := len(persons) <= fewPersons
	for i := range persons {
		p := &persons[i]
		byID[p.Source+"\x00"+p.EmployeeID] = p
		if few {
			if bySource[p.Source] == nil {
				bySource[p.Source] = map[string][]store.GrantRow{}
				reqs[p.Source] = newSourceRequests()
			}
			rows, err := e.st.PersonGrants(ctx, p.Source, p.EmployeeID)
			if err != nil {
				return nil, nil, err
			}
			bySource[p.Source][p.EmployeeID] = rows
			if err := e.requests(ctx, reqs[p.Source], p.Source, p.EmployeeID); err != nil {
				return nil, nil, err
			}
			continue
		}
		if bySource[p.Source] == nil {
			rows, err := e.st.Grants(ctx, p.Source)
			if err != nil {
				return nil, nil, err
			}
			m := map[string][]store.GrantRow{}
			for _, g := range rows {
				m[g.EmployeeID] = append(m[g.EmployeeID], g)
			}
			bySource[p.Source] = m
			reqs[p.Source] = newSourceRequests()
			if err := e.requests(ctx, reqs[p.Source], p.Source, ""); err != nil {
				return nil, nil, err
			}
		}
	}
	var violations []policy.Violation
	for i := range persons {
		p := &persons[i]
		mgr := byID[p.Source+"\x00"+p.ManagerID]
		if mgr == nil && p.ManagerID != "" {
			if m, err := e.st.Person(ctx, p.Source, p.ManagerID); err == nil {
				mgr = &m
			}
		}
		rq := reqs[p.Source]
		// A pre-hire gets the access of their first day, made ready now
		// with the accounts disabled; the joiner event enables them on
		// the start date.
		in := policy.Input{Person: policy.FirstDay(p), Manager: mgr, Requests: rq.active[p.EmployeeID]}
		want, viol, err := e.pol.Desired(in, at)
		if err != nil {
			return nil, nil, err
		}
		violations = append(violations, viol...)
		want, revoked := policy.WithoutRevoked(want, in.Requests, rq.revoked[p.EmployeeID])
		if err := e.planPerson(b, in, want, bySource[p.Source][p.EmployeeID], why[p.EmployeeID], rq.expired[p.EmployeeID], revoked, p.Status == store.StatusPrehire, at); err != nil {
			return nil, nil, err
		}
	}
	return b, violations, nil
}

// sourceRequests are one source's access requests that matter to a plan:
// approved ones (their grants are wanted) and expired ones not yet planned
// for (their grants go at once, without the mover grace period).
type sourceRequests struct {
	active  map[string][]policy.Requested
	expired map[string]map[policy.Grant]int64 // grant -> request ID
	// revoked are the grants access reviews revoked, by employee ID.
	revoked map[string][]store.Revocation
}

// fewPersons is the largest plan that reads each person's grants,
// requests and revocations on their own.
const fewPersons = 16

func newSourceRequests() *sourceRequests {
	return &sourceRequests{active: map[string][]policy.Requested{}, expired: map[string]map[policy.Grant]int64{},
		revoked: map[string][]store.Revocation{}}
}

// requests adds to out a source's requests and revocations that matter to
// a plan: every person's, or one's (employeeID).
func (e *Engine) requests(ctx context.Context, out *sourceRequests, source, employeeID string) error {
	approved, err := e.st.Requests(ctx, store.RequestFilter{Source: source, State: store.RequestApproved, Beneficiary: employeeID})
	if err != nil {
		return err
	}
	for _, r := range approved {
		out.active[r.Beneficiary] = append(out.active[r.Beneficiary], policy.FromRequests([]store.Request{r})...)
	}
	var revs []store.Revocation
	if employeeID == "" {
		revs, err = e.st.Revocations(ctx, source, false)
	} else {
		revs, err = e.st.PersonRevocations(ctx, source, employeeID)
	}
	if err != nil {
		return err
	}
	for _, r := range revs {
		out.revoked[r.EmployeeID] = append(out.revoked[r.EmployeeID], r)
	}
	ended, err := e.st.Requests(ctx, store.RequestFilter{Source: source, State: store.RequestExpired, Unprovisioned: true, Beneficiary: employeeID})
	if err != nil {
		return err
	}
	for _, r := range ended {
		m := out.expired[r.Beneficiary]
		if m == nil {
			m = map[policy.Grant]int64{}
			out.expired[r.Beneficiary] = m
		}
		m[policy.Grant{App: r.App}] = r.ID
		m[policy.Grant{App: r.App, Entitlement: r.Entitlement}] = r.ID
	}
	return nil
}

func (e *Engine) planPerson(b *store.ProvisionBatch, in policy.Input, want []policy.Reasoned, have []store.GrantRow, ev store.Event, expired map[policy.Grant]int64, revoked map[policy.Grant]string, prehire bool, at time.Time) error {
	p := in.Person
	type key struct{ app, ent string }
	held := map[key]store.GrantRow{}
	for _, g := range have {
		held[key{g.App, g.Entitlement}] = g
	}
	wanted := map[key]policy.Reasoned{}
	for _, w := range want {
		if e.apps[w.App] != nil {
			wanted[key{w.App, w.Entitlement}] = w
		}
	}
	evReason := ""
	if ev.Type != "" {
		evReason = fmt.Sprintf("event %s (%s)", ev.Type, ev.ImportID)
		if ev.ImportID == "" {
			evReason = "event " + ev.Type
		}
	}
	reason := func(roles []string, fallback string, requests ...int64) string {
		var parts []string
		if len(roles) > 0 {
			parts = append(parts, "role "+strings.Join(roles, ", "))
		}
		for _, id := range requests {
			parts = append(parts, fmt.Sprintf("request #%d", id))
			// A request a review's modify decision made names its item.
			if i := slices.IndexFunc(in.Requests, func(q policy.Requested) bool { return q.Request == id }); i >= 0 && in.Requests[i].ReviewItem != 0 {
				parts = append(parts, fmt.Sprintf("access review item #%d", in.Requests[i].ReviewItem))
			}
		}
		if fallback != "" {
			parts = append(parts, fallback)
		}
		if evReason != "" {
			parts = append(parts, evReason)
		}
		return strings.Join(parts, "; ")
	}
	accounts := map[string]string{}
	account := func(app string) (string, error) {
		if s, ok := accounts[app]; ok {
			return s, nil
		}
		acc, err := e.apps[app].Account(in, at)
		if err != nil {
			return "", err
		}
		j, _ := json.Marshal(acc)
		accounts[app] = string(j)
		return accounts[app], nil
	}
	op := func(app, kind, ent string, prio int, notBefore time.Time, why string) error {
		acc, err := account(app)
		if err != nil {
			return err
		}
		b.Ops = append(b.Ops, store.Operation{App: app, Kind: kind, Source: p.Source, EmployeeID: p.EmployeeID,
			Entitlement: ent, Account: acc, Priority: prio, State: store.OpPending, NotBefore: notBefore,
			Reason: why, ImportID: ev.ImportID, CreatedAt: at, UpdatedAt: at})
		return nil
	}
	put := func(app, ent, state, why string) {
		b.Put = append(b.Put, store.GrantRow{App: app, Source: p.Source, EmployeeID: p.EmployeeID, Entitlement: ent, State: state, Reason: why, UpdatedAt: at})
	}
	leaving := p.Status == store.StatusLeft
	attrsChanged := ev.Type == store.EventMover || ev.Type == store.EventChange || ev.Type == store.EventRehire
	apps := make([]string, 0, len(e.apps))
	for n := range e.apps {
		apps = append(apps, n)
	}
	sort.Strings(apps)
	for _, app := range apps {
		w, want := wanted[key{app, ""}]
		h, has := held[key{app, ""}]
		switch {
		case want && !has && prehire:
			r := reason(w.Roles, "pre-hire: ready before the start date "+p.StartDate+", disabled until it", w.Requests...)
			if err := op(app, store.OpCreate, "", store.PriorityNormal, at, r); err != nil {
				return err
			}
			if err := op(app, store.OpDisable, "", store.PriorityNormal, at, r); err != nil {
				return err
			}
			put(app, "", grantDisabled, r)
		case want && !has:
			r := reason(w.Roles, "", w.Requests...)
			if err := op(app, store.OpCreate, "", store.PriorityNormal, at, r); err != nil {
				return err
			}
			put(app, "", grantActive, r)
		case want && h.State == grantDisabled && prehire:
			// ready and waiting for the start date
		case want && h.State == grantDisabled:
			again := "access granted again"
			if ev.Type == store.EventJoiner {
				again = "start date: the account made ready before it is enabled"
			}
			r := reason(w.Roles, again, w.Requests...)
			if err := op(app, store.OpEnable, "", store.PriorityNormal, at, r); err != nil {
				return err
			}
			if err := op(app, store.OpUpdate, "", store.PriorityNormal, at, r); err != nil {
				return err
			}
			put(app, "", grantActive, r)
		case want && attrsChanged:
			if err := op(app, store.OpUpdate, "", store.PriorityNormal, at, reason(w.Roles, "attributes changed", w.Requests...)); err != nil {
				return err
			}
		case !want && has && h.State == grantActive:
			prio, r := store.PriorityNormal, reason(nil, "no role grants it any more")
			if id, ok := expired[policy.Grant{App: app}]; ok {
				r = reason(nil, fmt.Sprintf("request #%d expired", id))
			}
			if why, ok := revoked[policy.Grant{App: app}]; ok {
				r = reason(nil, why)
			}
			if leaving {
				prio, r = store.PriorityDisable, reason(nil, "person left")
			}
			if err := op(app, store.OpDisable, "", prio, at, r); err != nil {
				return err
			}
			if leaving && e.apps[app].RevokesSessions() {
				// Queued after the disable: it runs once the disable has.
				if err := op(app, store.OpRevokeSessions, "", store.PrioritySessions, at, reason(nil, "person left: end the sessions and tokens the disable leaves")); err != nil {
					return err
				}
			}
			put(app, "", grantDisabled, r)
		}
	}
	// Entitlements: gains at once, losses after the account changes (and,
	// for a person who stays, after the mover grace period).
	var ents []key
	for k := range wanted {
		if k.ent != "" {
			ents = append(ents, k)
		}
	}
	for k := range held {
		if _, ok := wanted[k]; !ok && k.ent != "" {
			ents = append(ents, k)
		}
	}
	sort.Slice(ents, func(i, j int) bool {
		if ents[i].app != ents[j].app {
			return ents[i].app < ents[j].app
		}
		return ents[i].ent < ents[j].ent
	})
	for _, k := range ents {
		w, want := wanted[k]
		_, has := held[k]
		switch {
		case want && !has:
			r := reason(w.Roles, "", w.Requests...)
			if err := op(k.app, store.OpGrant, k.ent, store.PriorityNormal, at, r); err != nil {
				return err
			}
			put(k.app, k.ent, grantActive, r)
		case !want && has:
			notBefore, r := at.Add(e.opt.MoverGrace), reason(nil, fmt.Sprintf("no role grants it any more; removed after the %s grace period", e.opt.MoverGrace))
			if id, ok := expired[policy.Grant{App: k.app, Entitlement: k.ent}]; ok {
				// A time-bound grant ends when it ends: no grace period.
				notBefore, r = at, reason(nil, fmt.Sprintf("request #%d expired", id))
			}
			if why, ok := revokedReason(revoked, k.app, k.ent); ok {
				// A reviewer decided: no grace period either.
				notBefore, r = at, reason(nil, why)
			}
			if leaving {
				notBefore, r = at, reason(nil, "person left")
			}
			if err := op(k.app, store.OpRevoke, k.ent, store.PriorityRevoke, notBefore, r); err != nil {
				return err
			}
			b.Delete = append(b.Delete, store.GrantRow{App: k.app, Source: p.Source, EmployeeID: p.EmployeeID, Entitlement: k.ent})
		}
	}
	return nil
}

// ForImport is the hook hr.Options.Provision takes: it plans the access
// changes of an import's persons, to be queued with its events.
func (e *Engine) ForImport(ctx context.Context, persons []store.Person, events []store.Event, at time.Time) (*store.ProvisionBatch, error) {
	why := make(map[string]store.Event, len(events))
	for _, ev := range events {
		if ev.State == store.EventApplied {
			why[ev.EmployeeID] = ev
		}
	}
	b, viol, err := e.Plan(ctx, persons, why, at)
	if err != nil {
		return nil, err
	}
	if err := e.recordViolations(ctx, viol, at); err != nil {
		return nil, err
	}
	return b, nil
}

func (e *Engine) recordViolations(ctx context.Context, viol []policy.Violation, at time.Time) error {
	for _, v := range viol {
		err := e.st.AddFinding(ctx, store.Finding{Kind: "sod-violation", App: v.Withheld.App, Subject: v.Role + ":" + v.Withheld.String(),
			Detail: fmt.Sprintf("grant %s by role %s withheld: separation-of-duties rule %q (holds %s)", v.Withheld, v.Role, v.Rule, strings.Join(v.Holds, ", ")),
			Team:   "security", FirstSeen: at, LastSeen: at})
		if err != nil {
			return fmt.Errorf("recording the separation-of-duties finding for %s: %w", v.Withheld, err)
		}
	}
	return nil
}

// PlanPending plans the applied events no import planned for (approved
// imports, scheduled events that came due, imports made without apps).
func (e *Engine) PlanPending(ctx context.Context) (int, error) {
	total := 0
	for {
		evs, err := e.st.Unprovisioned(ctx, 500)
		if err != nil || len(evs) == 0 {
			return total, err
		}
		at := e.opt.Now().UTC().Truncate(time.Microsecond)
		var persons []store.Person
		why := map[string]store.Event{}
		seen := map[string]bool{}
		var ids []int64
		for _, ev := range evs {
			ids = append(ids, ev.ID)
			why[ev.EmployeeID] = ev
			k := ev.Source + "\x00" + ev.EmployeeID
			if seen[k] {
				continue
			}
			seen[k] = true
			p, err := e.st.Person(ctx, ev.Source, ev.EmployeeID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return total, err
			}
			persons = append(persons, p)
		}
		b, viol, err := e.Plan(ctx, persons, why, at)
		if err != nil {
			return total, err
		}
		if err := e.recordViolations(ctx, viol, at); err != nil {
			return total, err
		}
		b.Events = ids
		if err := e.st.QueueOps(ctx, *b); err != nil {
			return total, err
		}
		total += len(b.Ops)
		if len(b.Ops) > 0 {
			e.Wake()
		}
	}
}

// PlanRequests plans the access requests approved or expired since they
// were last planned for: an approved one's grant is queued, an expired
// one's revoked at once (unless a role or another request still grants
// it). Each request is marked planned in the same transaction as its
// operations, so a crash in between plans it again, never twice.
func (e *Engine) PlanRequests(ctx context.Context) (int, error) {
	e.planMu.Lock()
	defer e.planMu.Unlock()
	rs, err := e.st.Requests(ctx, store.RequestFilter{Unprovisioned: true, Limit: 500})
	if err != nil || len(rs) == 0 {
		return 0, err
	}
	var who []personRef
	var ids []int64
	for _, r := range rs {
		ids = append(ids, r.ID)
		who = append(who, personRef{r.Source, r.Beneficiary})
	}
	return e.planPersons(ctx, who, func(b *store.ProvisionBatch) { b.Requests = ids })
}

// personRef names a person of a source.
type personRef struct{ source, employeeID string }

// planPersons plans the persons named (each once; one who is gone is left
// out), lets mark record in the batch what was planned for, and queues it
// in one transaction.
func (e *Engine) planPersons(ctx context.Context, who []personRef, mark func(*store.ProvisionBatch)) (int, error) {
	at := e.opt.Now().UTC().Truncate(time.Microsecond)
	var persons []store.Person
	seen := map[personRef]bool{}
	for _, r := range who {
		if seen[r] {
			continue
		}
		seen[r] = true
		p, err := e.st.Person(ctx, r.source, r.employeeID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		persons = append(persons, p)
	}
	b, viol, err := e.Plan(ctx, persons, nil, at)
	if err != nil {
		return 0, err
	}
	if err := e.recordViolations(ctx, viol, at); err != nil {
		return 0, err
	}
	mark(b)
	if err := e.st.QueueOps(ctx, *b); err != nil {
		return 0, err
	}
	if len(b.Ops) > 0 {
		e.Wake()
	}
	return len(b.Ops), nil
}

// revokedReason is the review's reason for removing an entitlement: its
// own revocation, or the revocation of the app's account.
func revokedReason(revoked map[policy.Grant]string, app, ent string) (string, bool) {
	for g, why := range revoked {
		if g.App == app && (g.Entitlement == "" || strings.EqualFold(g.Entitlement, ent)) {
			return why, true
		}
	}
	return "", false
}

// PlanRevocations plans the grants access reviews revoked since they were
// last planned for: their removal is queued at once (no grace period),
// and each revocation is marked planned in the same transaction. When
// another process planned some of them meanwhile, nothing is queued and
// the rest are planned at the next pass.
func (e *Engine) PlanRevocations(ctx context.Context) (int, error) {
	e.planMu.Lock()
	defer e.planMu.Unlock()
	revs, err := e.st.Revocations(ctx, "", true)
	if err != nil || len(revs) == 0 {
		return 0, err
	}
	var who []personRef
	var ids []int64
	for _, r := range revs {
		ids = append(ids, r.ID)
		who = append(who, personRef{r.Source, r.EmployeeID})
	}
	n, err := e.planPersons(ctx, who, func(b *store.ProvisionBatch) { b.Revocations = ids })
	if errors.Is(err, store.ErrConflict) {
		e.Wake()
		return 0, nil
	}
	return n, err
}

// PlanAll plans every person of every source (used by reconcile and after a
// config change).
func (e *Engine) PlanAll(ctx context.Context) (int, error) {
	persons, err := e.st.Persons(ctx, store.PersonFilter{})
	if err != nil {
		return 0, err
	}
	at := e.opt.Now().UTC().Truncate(time.Microsecond)
	b, viol, err := e.Plan(ctx, persons, nil, at)
	if err != nil {
		return 0, err
	}
	if err := e.recordViolations(ctx, viol, at); err != nil {
		return 0, err
	}
	if len(b.Ops) == 0 && len(b.Put) == 0 && len(b.Delete) == 0 {
		return 0, nil
	}
	if err := e.st.QueueOps(ctx, *b); err != nil {
		return 0, err
	}
	e.Wake()
	return len(b.Ops), nil
}

// Job is the engine's background work for the runner: each pass plans
// pending events and approved or expired requests, then runs the due
// operations; Wake ends its idle wait.
func (e *Engine) Job() runner.Job {
	return runner.Job{Name: "provision", RunOnce: e.Work, Poll: e.opt.Poll, MaxBackoff: 5 * time.Second, Wake: e.wake}
}

// Work makes one pass of the job; it returns how many operations ran.
func (e *Engine) Work(ctx context.Context) (int, error) {
	var errs []error
	if now := time.Now(); now.Sub(e.settled) >= e.opt.SettleEvery {
		e.settled = now
		if _, err := e.SettleWaiting(ctx); err != nil {
			errs = append(errs, fmt.Errorf("checking waiting operations against accounts exports: %w", err))
		}
	}
	if _, err := e.PlanPending(ctx); err != nil {
		errs = append(errs, fmt.Errorf("planning: %w", err))
	}
	if _, err := e.PlanRequests(ctx); err != nil {
		errs = append(errs, fmt.Errorf("planning access requests: %w", err))
	}
	if _, err := e.PlanRevocations(ctx); err != nil {
		errs = append(errs, fmt.Errorf("planning review revocations: %w", err))
	}
	n, err := e.RunOnce(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("running operations: %w", err))
	}
	return n, errors.Join(errs...)
}

// RunOnce claims due operations and runs them; it returns how many ran.
func (e *Engine) RunOnce(ctx context.Context) (int, error) { return e.runOnce(ctx, nil) }

// runOnce is RunOnce for the operations of the given apps only (all when empty).
func (e *Engine) runOnce(ctx context.Context, only []string) (int, error) {
	now := e.opt.Now()
	var skip []string
	states, err := e.st.AppStates(ctx)
	if err != nil {
		return 0, err
	}
	health := map[string]store.AppState{}
	for _, s := range states {
		health[s.App] = s
		if s.QuarantinedUntil.After(now) {
			skip = append(skip, s.App)
		}
	}
	for name := range e.unknownApps(ctx) {
		skip = append(skip, name)
	}
	if len(only) > 0 {
		for name := range e.apps {
			if !slices.Contains(only, name) {
				skip = append(skip, name)
			}
		}
	}
	ops, err := e.st.ClaimOps(ctx, e.owner, now, e.opt.Lease, e.opt.Workers*4, skip)
	if err != nil || len(ops) == 0 {
		return 0, err
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, e.opt.Workers)
	var mu sync.Mutex
	succeeded := map[string]bool{} // healthy apps whose last success is not written yet
	for _, op := range ops {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := e.execute(ctx, op)
			mu.Lock()
			defer mu.Unlock()
			e.finish(ctx, op, err, health, succeeded)
		}()
	}
	wg.Wait()
	for app := range succeeded {
		if err := e.st.PutAppState(ctx, health[app]); err != nil {
			e.opt.Log.Error("provision: app state", "app", app, "err", err)
		}
	}
	return len(ops), nil
}

// unknownApps are apps with queued operations that this process has no
// connector for (removed from the config): their operations wait. The
// answer (a GROUP BY over every operation) is kept for a minute.
func (e *Engine) unknownApps(ctx context.Context) map[string]bool {
	e.unknownMu.Lock()
	defer e.unknownMu.Unlock()
	if time.Since(e.unknownAt) < time.Minute {
		return e.unknown
	}
	counts, err := e.st.OpCounts(ctx)
	if err != nil {
		e.opt.Log.Warn("provision: counting operations per app failed; keeping the last answer", "err", err)
		return e.unknown
	}
	out := map[string]bool{}
	for app := range counts {
		if e.apps[app] == nil {
			out[app] = true
		}
	}
	e.unknown, e.unknownAt = out, time.Now()
	return out
}

func (e *Engine) execute(ctx context.Context, op store.Operation) error {
	app := e.apps[op.App]
	if app == nil {
		return fmt.Errorf("app %q is not in the config", op.App)
	}
	var acc connector.Account
	if err := json.Unmarshal([]byte(op.Account), &acc); err != nil {
		return fmt.Errorf("operation %d: account: %w", op.ID, err)
	}
	if wait := app.limiter.reserve(time.Now()); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	c := app.Conn
	switch op.Kind {
	case store.OpCreate:
		_, err := c.Create(ctx, acc)
		return err
	case store.OpUpdate:
		err := c.Update(ctx, acc)
		if errors.Is(err, connector.ErrNotFound) {
			_, err = c.Create(ctx, acc)
		}
		return err
	case store.OpDisable:
		err := c.Disable(ctx, acc)
		if errors.Is(err, connector.ErrNotFound) {
			return nil // nothing to disable
		}
		return err
	case store.OpEnable:
		err := c.Enable(ctx, acc)
		if errors.Is(err, connector.ErrNotFound) {
			_, err = c.Create(ctx, acc)
		}
		return err
	case store.OpGrant:
		return c.Grant(ctx, acc, op.Entitlement)
	case store.OpRevoke:
		err := c.Revoke(ctx, acc, op.Entitlement)
		if errors.Is(err, connector.ErrNotFound) {
			return nil
		}
		return err
	case store.OpRevokeSessions:
		r := connector.RevokerOf(c)
		if r == nil {
			return fmt.Errorf("operation %d: app %s no longer offers session revocation (its connector or config changed)", op.ID, op.App)
		}
		err := r.RevokeSessions(ctx, acc)
		if errors.Is(err, connector.ErrNotFound) {
			return nil // no account, no session
		}
		return err
	}
	return fmt.Errorf("operation %d: unknown kind %q", op.ID, op.Kind)
}

// finish records an operation's outcome and its app's health. A success
// of an app that was healthy changes only its last success: that is
// added to succeeded and written once at the end of the pass, not once
// per operation; any other change of health is written at once (a
// reconcile watches for the quarantine while the pass runs).
func (e *Engine) finish(ctx context.Context, op store.Operation, err error, health map[string]store.AppState, succeeded map[string]bool) {
	now := e.opt.Now().UTC().Truncate(time.Microsecond)
	h := health[op.App]
	h.App = op.App
	healthy := h.Failures == 0 && h.LastError == "" && h.QuarantinedUntil.IsZero()
	var r store.OpResult
	var handed *connector.HandedOff
	switch {
	case errors.As(err, &handed):
		// A person makes the change: the operation waits for their task.
		r.State, r.Task = store.OpWaiting, handed.Task
		ent := audit.New(now, "system:provision", "provision."+op.Kind+".handed_off", op.Source, op.ImportID, op.EmployeeID, nil,
			map[string]any{"app": op.App, "entitlement": op.Entitlement, "operation": op.ID, "reason": op.Reason, "task": handed.Task})
		r.Entry = &ent
		h.Failures, h.LastError, h.LastSuccess, h.QuarantinedUntil = 0, "", now, time.Time{}
	case err == nil:
		r.State = store.OpDone
		ent := audit.New(now, "system:provision", "provision."+op.Kind, op.Source, op.ImportID, op.EmployeeID, nil,
			map[string]any{"app": op.App, "entitlement": op.Entitlement, "operation": op.ID, "reason": op.Reason, "attempt": op.Attempts + 1})
		r.Entry = &ent
		h.Failures, h.LastError, h.LastSuccess, h.QuarantinedUntil = 0, "", now, time.Time{}
	case ctx.Err() != nil:
		// shutting down: leave it leased; the lease expires and it runs again
		return
	default:
		r.Error = err.Error()
		h.Failures++
		h.LastError = r.Error
		if h.Failures >= e.opt.QuarantineAt {
			h.QuarantinedUntil = now.Add(e.opt.QuarantineFor)
			e.opt.Log.Warn("provision: app quarantined", "app", op.App, "failures", h.Failures, "until", h.QuarantinedUntil, "err", r.Error)
		}
		if connector.IsTemporary(err) && op.Attempts+1 < e.opt.MaxAttempts {
			r.State = store.OpRetrying
			r.NotBefore = now.Add(e.backoff(op.Attempts+1, err))
		} else {
			r.State = store.OpFailed
			ent := audit.New(now, "system:provision", "provision."+op.Kind+".failed", op.Source, op.ImportID, op.EmployeeID, nil,
				map[string]any{"app": op.App, "entitlement": op.Entitlement, "operation": op.ID, "error": r.Error, "attempts": op.Attempts + 1})
			r.Entry = &ent
			if ferr := e.st.AddFinding(ctx, store.Finding{Kind: "operation-failed", App: op.App, Subject: fmt.Sprintf("op-%d", op.ID),
				Detail: fmt.Sprintf("%s %s for %s failed after %d attempt(s): %s", op.Kind, strings.TrimSpace(op.App+" "+op.Entitlement), op.EmployeeID, op.Attempts+1, r.Error),
				Team:   "it", FirstSeen: now, LastSeen: now}); ferr != nil {
				e.opt.Log.Error("provision: recording the failed operation's finding", "op", op.ID, "err", ferr)
			}
		}
		e.opt.Log.Warn("provision: operation failed", "op", op.ID, "app", op.App, "kind", op.Kind, "person", op.EmployeeID, "attempt", op.Attempts+1, "err", r.Error)
	}
	health[op.App] = h
	if healthy && h.Failures == 0 {
		succeeded[op.App] = true
	} else {
		delete(succeeded, op.App)
		if err := e.st.PutAppState(ctx, h); err != nil {
			e.opt.Log.Error("provision: app state", "app", op.App, "err", err)
		}
	}
	if err := e.st.FinishOp(ctx, op.ID, e.owner, now, r); err != nil {
		e.opt.Log.Error("provision: finish operation", "op", op.ID, "err", err)
	}
}

func (e *Engine) backoff(attempt int, err error) time.Duration {
	var t *connector.TemporaryError
	if errors.As(err, &t) && t.RetryAfter > 0 {
		return time.Duration(t.RetryAfter) * time.Second
	}
	d := time.Duration(float64(e.opt.BackoffBase) * math.Pow(2, float64(attempt-1)))
	return min(d, e.opt.BackoffCeiling)
}

// Drain runs operations until none is due for the given apps (all when
// empty) or ctx ends; operations waiting for a later time do not count.
func (e *Engine) Drain(ctx context.Context, apps []string) error {
	for {
		if _, err := e.PlanPending(ctx); err != nil {
			return err
		}
		if _, err := e.PlanRequests(ctx); err != nil {
			return err
		}
		if _, err := e.PlanRevocations(ctx); err != nil {
			return err
		}
		n, err := e.RunOnce(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		busy, err := e.due(ctx, apps)
		if err != nil || !busy {
			return err
		}
		t := time.NewTimer(e.opt.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// due reports whether an operation of the apps is pending or retrying and
// due soon (within the retry ceiling) or running. Operations waiting for a
// person's task do not count.
func (e *Engine) due(ctx context.Context, apps []string) (bool, error) {
	now := e.opt.Now()
	for _, state := range []string{store.OpPending, store.OpRetrying, store.OpRunning} {
		ops, err := e.st.Ops(ctx, store.OpFilter{State: state})
		if err != nil {
			return false, err
		}
		for _, o := range ops {
			if len(apps) > 0 && !slices.Contains(apps, o.App) {
				continue
			}
			if state == store.OpRunning || !o.NotBefore.After(now.Add(e.opt.BackoffCeiling)) {
				return true, nil
			}
		}
	}
	return false, nil
}
