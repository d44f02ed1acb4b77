// Package request runs access requests: a person asks for a requestable
// entitlement (apps[].requestable in the config) for themselves or for one
// of their reports; the beneficiary's manager, then the entitlement's owner,
// then Security (for high risk) approve it; once approved it is a grant the
// provisioning engine applies, revoked when a time-bound grant expires.
//
// Nobody approves a request they made or one that benefits them, and
// separation-of-duties rules are checked when a request is made and before
// each approval. An approver who has left or is away is replaced by their
// manager.
package request

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/config"
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/duration"
	"github.com/tango-iga/tango/internal/notify"
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/store"
)

// Errors a caller tells apart with errors.Is.
var (
	// ErrForbidden: the acting person may not do this (approve their own
	// request, request for someone who is not their report, approve a step
	// that is not theirs).
	ErrForbidden = domain.E(domain.KindForbidden, "not allowed")
	// ErrInvalid: the request itself is wrong (not requestable, too long,
	// no justification).
	ErrInvalid = domain.E(domain.KindInvalid, "invalid request")
	// ErrSoD: the grant would break a separation-of-duties rule.
	ErrSoD = domain.E(domain.KindConflict, "separation of duties")
)

// SoDError names the rule a request would break.
type SoDError struct {
	Rule  string
	Grant policy.Grant
	Holds []string
}

func (e *SoDError) Error() string {
	return fmt.Sprintf("granting %s would break separation-of-duties rule %q (the beneficiary already has %s)",
		e.Grant, e.Rule, strings.Join(e.Holds, ", "))
}

func (e *SoDError) Is(target error) bool { return target == ErrSoD }

// ErrorKind: a separation-of-duties refusal is a conflict (409).
func (e *SoDError) ErrorKind() domain.Kind { return domain.KindConflict }

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

func forbidden(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrForbidden, fmt.Sprintf(format, a...))
}

// Caller is who acts: a person (from a token bound to them, or the CLI's
// --as) and the way they came in, for the audit trail.
type Caller struct {
	Person store.Person
	Via    string // "token:NAME" or "cli:USER"
}

func (c Caller) actor() string {
	a := "person:" + c.Person.EmployeeID
	if c.Via != "" {
		a += " via " + c.Via
	}
	return a
}

// New is what a caller asks for.
type New struct {
	Beneficiary   string        `json:"beneficiary,omitempty"` // employee ID; empty: the caller
	App           string        `json:"app"`
	Entitlement   string        `json:"entitlement"`
	Justification string        `json:"justification"`
	Duration      time.Duration `json:"-"` // 0: the catalogue's maximum, or until revoked when it has none
}

// Service runs requests over a store and a config.
type Service struct {
	st       Store
	cfg      *config.Config
	pol      *policy.Policy
	now      func() time.Time
	notes    *notify.Planner // nil: no notifications configured
	deadline time.Duration   // of each step; 0: none
}

// NewService compiles the config's policy; now, the clock, is required.
func NewService(st Store, cfg *config.Config, now func() time.Time) (*Service, error) {
	if now == nil {
		return nil, errors.New("request.NewService: now is nil")
	}
	pol, err := policy.Compile(cfg)
	if err != nil {
		return nil, err
	}
	return &Service{st: st, cfg: cfg, pol: pol, now: now, notes: notify.NewPlanner(st, cfg), deadline: cfg.Requests.Deadline()}, nil
}

// ClockActor is the audit actor of reminders and escalations.
const ClockActor = "system:requests"

// startStep starts the clock of r's current step at at.
func (s *Service) startStep(r *store.Request, at time.Time) {
	r.StepSince, r.Due, r.RemindedAt, r.EscalatedTo, r.EscalatedAt = at, time.Time{}, time.Time{}, "", time.Time{}
	if s.deadline > 0 {
		r.Due = at.Add(s.deadline)
	}
}

// stepNotes composes the message to the approvers of r's current step, or
// the decision to requester and beneficiary once it is decided. Nobody
// able to approve the step now is not an error here: the request waits,
// visible in the pending list, and escalates when overdue.
func (s *Service) stepNotes(ctx context.Context, r store.Request) ([]store.Notification, error) {
	if s.notes == nil {
		return nil, nil
	}
	if r.State != store.RequestPending {
		return s.notes.RequestDecided(ctx, r)
	}
	ok, _, err := s.Approvers(ctx, r)
	if err != nil {
		return nil, nil
	}
	return s.notes.RequestPending(ctx, r, ok)
}

// Person finds a person by employee ID in the config's sources, in order.
func (s *Service) Person(ctx context.Context, employeeID string) (store.Person, error) {
	return FindPerson(ctx, s.st, s.cfg, employeeID)
}

// FindPerson finds a person by employee ID in the config's sources, in order.
func FindPerson(ctx context.Context, st Store, cfg *config.Config, employeeID string) (store.Person, error) {
	if strings.TrimSpace(employeeID) == "" {
		return store.Person{}, fmt.Errorf("employee ID is empty")
	}
	for _, src := range cfg.Sources {
		p, err := st.Person(ctx, src.Name, employeeID)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.Person{}, err
		}
	}
	return store.Person{}, fmt.Errorf("person %q is not in the workforce: %w", employeeID, store.ErrNotFound)
}

func (s *Service) at() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Create records a request after checking who asks, for whom, what, for how
// long, and that it breaks no separation-of-duties rule. A request refused
// for separation of duties is not stored, but its refusal is audited.
func (s *Service) Create(ctx context.Context, c Caller, in New) (store.Request, error) {
	me := c.Person
	if me.Status == store.StatusLeft {
		return store.Request{}, forbidden("%s has left and cannot request access", me.EmployeeID)
	}
	ben := me
	if in.Beneficiary != "" && in.Beneficiary != me.EmployeeID {
		p, err := s.st.Person(ctx, me.Source, in.Beneficiary)
		if errors.Is(err, store.ErrNotFound) {
			return store.Request{}, invalid("beneficiary %q is not in the workforce", in.Beneficiary)
		}
		if err != nil {
			return store.Request{}, err
		}
		if p.ManagerID != me.EmployeeID {
			return store.Request{}, forbidden("%s may request access only for themselves or their reports; %s reports to %q",
				me.EmployeeID, p.EmployeeID, p.ManagerID)
		}
		ben = p
	}
	if ben.Status == store.StatusLeft {
		return store.Request{}, invalid("beneficiary %s has left", ben.EmployeeID)
	}
	item, err := s.cfg.Requestable(in.App, in.Entitlement)
	if err != nil {
		return store.Request{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if strings.TrimSpace(in.Justification) == "" {
		return store.Request{}, invalid("justification is empty: say why %s needs %s:%s", ben.EmployeeID, in.App, in.Entitlement)
	}
	d := in.Duration
	switch {
	case d < 0:
		return store.Request{}, invalid("duration %s is negative", d)
	case d > duration.Max:
		return store.Request{}, invalid("duration %s is longer than 100 years (%s), the most Tango takes", duration.Format(d), duration.Format(duration.Max))
	case item.Max > 0 && d > item.Max:
		return store.Request{}, invalid("duration %s is longer than the maximum %s (%s) for %s:%s",
			d, item.Max, item.MaxDuration, in.App, in.Entitlement)
	case d == 0:
		d = item.Max
	}
	pending, err := s.st.Requests(ctx, store.RequestFilter{Source: ben.Source, Beneficiary: ben.EmployeeID, State: store.RequestPending})
	if err != nil {
		return store.Request{}, err
	}
	for _, p := range pending {
		if p.App == in.App && p.Entitlement == in.Entitlement {
			return store.Request{}, fmt.Errorf("request %d for %s:%s for %s is already pending: %w", p.ID, in.App, in.Entitlement, ben.EmployeeID, store.ErrConflict)
		}
	}
	r := store.Request{Source: ben.Source, Requester: me.EmployeeID, Beneficiary: ben.EmployeeID, App: in.App,
		Entitlement: in.Entitlement, Justification: strings.TrimSpace(in.Justification), Risk: item.Risk, Duration: duration.Duration(d),
		CreatedAt: s.at()}
	if ben.ManagerID != "" {
		r.Chain = append(r.Chain, store.StepManager)
	}
	r.Chain = append(r.Chain, store.StepOwner)
	if item.Risk == config.RiskHigh {
		r.Chain = append(r.Chain, store.StepSecurity)
	}
	if err := s.checkSoD(ctx, ben, r); err != nil {
		var se *SoDError
		if errors.As(err, &se) {
			if aerr := s.st.AppendAudit(ctx, audit.New(r.CreatedAt, c.actor(), "request.refused", r.Source, "", r.Beneficiary, nil,
				map[string]any{"request": r, "rule": se.Rule, "reason": se.Error()})); aerr != nil {
				return store.Request{}, fmt.Errorf("recording the refusal (%v): %w", err, aerr)
			}
		}
		return store.Request{}, err
	}
	s.startStep(&r, r.CreatedAt)
	r.State = store.RequestPending
	notes, err := s.stepNotes(ctx, r)
	if err != nil {
		return store.Request{}, err
	}
	return CreateRequest(ctx, s.st, r, c.actor(), notes...)
}

// checkSoD reports whether granting r's entitlement (and its app's account)
// to ben would complete a separation-of-duties rule, given what ben holds
// and what roles and other approved requests give them.
func (s *Service) checkSoD(ctx context.Context, ben store.Person, r store.Request) error {
	held, err := s.holdings(ctx, ben, r.ID)
	if err != nil {
		return err
	}
	for _, g := range []policy.Grant{{App: r.App}, {App: r.App, Entitlement: r.Entitlement}} {
		if slices.Contains(held, g) {
			continue
		}
		if v := s.pol.Check(g, held); v != nil {
			return &SoDError{Rule: v.Rule, Grant: g, Holds: v.Holds}
		}
		held = append(held, g)
	}
	return nil
}

// holdings is what a person holds (active grant rows) and should hold
// (roles and approved requests other than skip).
func (s *Service) holdings(ctx context.Context, p store.Person, skip int64) ([]policy.Grant, error) {
	return s.pol.Holdings(ctx, s.st, p, skip, s.now())
}

// Approvers returns who may approve the request's current step now, and
// the approver they stand in for when the step's own approver has left or
// is away, is the requester or beneficiary, or approved an earlier step of
// the request (four eyes: one person approves one step at most): then the
// step passes up the management chain.
func (s *Service) Approvers(ctx context.Context, r store.Request) ([]string, string, error) {
	excluded := mayNotApprove(r)
	switch step := r.NextStep(); step {
	case "":
		return nil, "", fmt.Errorf("request %d is %s: nothing to approve: %w", r.ID, r.State, store.ErrConflict)
	case store.StepManager:
		ben, err := s.st.Person(ctx, r.Source, r.Beneficiary)
		if err != nil {
			return nil, "", fmt.Errorf("request %d: beneficiary %s: %w", r.ID, r.Beneficiary, err)
		}
		id, err := s.resolve(ctx, r.Source, ben.ManagerID, excluded)
		if err != nil {
			return nil, "", fmt.Errorf("request %d: manager approval: %w", r.ID, err)
		}
		return []string{id}, stand(ben.ManagerID, id), nil
	case store.StepOwner:
		item, err := s.cfg.Requestable(r.App, r.Entitlement)
		if err != nil {
			return nil, "", fmt.Errorf("request %d: %v", r.ID, err)
		}
		id, err := s.resolve(ctx, r.Source, item.Owner, excluded)
		if err != nil {
			return nil, "", fmt.Errorf("request %d: owner approval: %w", r.ID, err)
		}
		return []string{id}, stand(item.Owner, id), nil
	case store.StepSecurity:
		var out []string
		var firstErr error
		for _, m := range s.cfg.Requests.SecurityApprovers {
			id, err := s.resolve(ctx, r.Source, m, excluded)
			if err != nil {
				firstErr = err
				continue
			}
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
		if len(out) == 0 {
			if firstErr == nil {
				firstErr = errors.New("requests.security_approvers is empty")
			}
			return nil, "", fmt.Errorf("request %d: security approval: %w", r.ID, firstErr)
		}
		return out, "", nil
	default:
		return nil, "", fmt.Errorf("request %d: unknown step %q", r.ID, step)
	}
}

// mayNotApprove is who may not approve r's current step: its requester,
// its beneficiary and whoever approved an earlier step.
func mayNotApprove(r store.Request) map[string]bool {
	excluded := map[string]bool{r.Requester: true, r.Beneficiary: true}
	for _, a := range r.Approvals {
		excluded[a.By] = true
	}
	return excluded
}

// approvedStep is the step of r that me approved already ("" if none).
func approvedStep(r store.Request, me string) string {
	for _, a := range r.Approvals {
		if a.By == me {
			return a.Step
		}
	}
	return ""
}

func stand(meant, actual string) string {
	if meant == actual {
		return ""
	}
	return meant
}

// resolve walks up the management chain from id past anyone who has left,
// is away, or may not approve (the requester, the beneficiary).
func (s *Service) resolve(ctx context.Context, source, id string, excluded map[string]bool) (string, error) {
	to, err := StandIn(ctx, s.st, id, s.now(), func(id string) (store.Person, error) {
		p, err := s.st.Person(ctx, source, id)
		if errors.Is(err, store.ErrNotFound) {
			p, err = FindPerson(ctx, s.st, s.cfg, id)
		}
		if err != nil {
			return p, fmt.Errorf("approver %q: %w", id, err)
		}
		return p, nil
	}, func(id string) bool { return excluded[id] })
	if err == nil && to == "" {
		return "", fmt.Errorf("nobody can stand in for %q: no manager above", id)
	}
	return to, err
}

// Awayer tells until when a person is away (store.Store's AwayUntil).
type Awayer interface {
	AwayUntil(ctx context.Context, person string) (time.Time, error)
}

// StandIn walks up the management chain from id (id itself first) to the
// first person who has not left, is not away at now and is not skipped:
// who acts for an approver or reviewer. "" when the chain ends (no manager
// above); person reads a person of the chain, its errors returned as they
// are. At most 32 levels: a longer chain or a cycle is an error.
func StandIn(ctx context.Context, st Awayer, id string, now time.Time, person func(id string) (store.Person, error), skip func(id string) bool) (string, error) {
	start := id
	for range 32 {
		if id == "" {
			return "", nil
		}
		p, err := person(id)
		if err != nil {
			return "", err
		}
		away, err := st.AwayUntil(ctx, id)
		if err != nil {
			return "", err
		}
		if p.Status != store.StatusLeft && !away.After(now) && !skip(id) {
			return id, nil
		}
		id = p.ManagerID
	}
	return "", fmt.Errorf("management chain above %q is too long or has a cycle", start)
}

// Approve records the caller's approval of the request's current step;
// after the last step the request is approved and provisioning grants it.
// A grant that would now break a separation-of-duties rule rejects the
// request instead, naming the rule.
func (s *Service) Approve(ctx context.Context, c Caller, id int64, note string) (store.Request, error) {
	r, err := s.pending(ctx, id)
	if err != nil {
		return r, err
	}
	me := c.Person.EmployeeID
	switch me {
	case r.Requester:
		return r, forbidden("%s made request %d and cannot approve it", me, id)
	case r.Beneficiary:
		return r, forbidden("request %d benefits %s, who cannot approve it", id, me)
	}
	_, insteadOf, escalated, err := s.deciders(ctx, r, me, "approval")
	if err != nil {
		return r, err
	}
	step := r.NextStep()
	ben, err := s.st.Person(ctx, r.Source, r.Beneficiary)
	if err != nil {
		return r, fmt.Errorf("request %d: beneficiary %s: %w", id, r.Beneficiary, err)
	}
	at := s.at()
	from := r.Step
	if err := s.checkSoD(ctx, ben, r); err != nil {
		var se *SoDError
		if !errors.As(err, &se) {
			return r, err
		}
		r.State, r.Reason, r.DecidedBy, r.DecidedAt = store.RequestRejected, se.Error(), me, at
		notes, nerr := s.stepNotes(ctx, r)
		if nerr != nil {
			return r, nerr
		}
		if _, uerr := UpdateRequest(ctx, s.st, r, store.RequestPending, from, "rejected", c.actor(), at, notes...); uerr != nil {
			return r, uerr
		}
		return r, err
	}
	if ben.Status == store.StatusLeft {
		return r, invalid("beneficiary %s has left; reject request %d instead", ben.EmployeeID, id)
	}
	r.Approvals = append(r.Approvals, store.Approval{Step: step, By: me, At: at, InsteadOf: insteadOf, Escalated: escalated,
		Note: strings.TrimSpace(note)})
	r.Step++
	action := "approved"
	if r.Step >= len(r.Chain) {
		r.State, r.DecidedBy, r.DecidedAt, action = store.RequestApproved, me, at, "granted"
		if r.Duration > 0 {
			r.ExpiresAt = at.Add(r.Duration.Std())
		}
	} else {
		s.startStep(&r, at)
	}
	notes, err := s.stepNotes(ctx, r)
	if err != nil {
		return r, err
	}
	return UpdateRequest(ctx, s.st, r, store.RequestPending, from, action, c.actor(), at, notes...)
}

// deciders checks that me may decide the request's current step: one of
// its approvers (ok; insteadOf the approver they stand in for), or the
// person the overdue step was escalated to (escalated; insteadOf who it
// waited for). The requester and beneficiary never may.
func (s *Service) deciders(ctx context.Context, r store.Request, me, what string) (ok []string, insteadOf string, escalated bool, err error) {
	if me == r.Requester || me == r.Beneficiary {
		return nil, "", false, forbidden("%s may not decide request %d: they made it or it benefits them", me, r.ID)
	}
	ok, insteadOf, err = s.Approvers(ctx, r)
	if step := approvedStep(r, me); step != "" {
		next := "the next person up the management chain"
		if err == nil && len(ok) > 0 {
			next = strings.Join(ok, " or ")
		}
		return nil, "", false, forbidden("%s approved the %s step of request %d already and may not also give its %s %s (four eyes: one person approves one step at most); the step passes to %s",
			me, step, r.ID, r.NextStep(), what, next)
	}
	if r.EscalatedTo != "" && me == r.EscalatedTo && !slices.Contains(ok, me) {
		waited := strings.Join(ok, " or ")
		if waited == "" {
			waited = "nobody available"
		}
		return ok, waited, true, nil
	}
	if err != nil {
		return nil, "", false, err
	}
	if !slices.Contains(ok, me) {
		who := strings.Join(ok, " or ")
		if r.EscalatedTo != "" {
			who += " (or " + r.EscalatedTo + ", to whom it was escalated)"
		}
		return nil, "", false, forbidden("request %d waits for the %s %s of %s, not %s", r.ID, r.NextStep(), what, who, me)
	}
	return ok, insteadOf, false, nil
}

// pending reads a request that awaits a decision; ErrConflict otherwise.
func (s *Service) pending(ctx context.Context, id int64) (store.Request, error) {
	r, err := s.st.Request(ctx, id)
	if err == nil && r.State != store.RequestPending {
		err = fmt.Errorf("request %d is %s, not pending: %w", id, r.State, store.ErrConflict)
	}
	return r, err
}

// Reject refuses a pending request: an approver of its current step may
// reject it, and its requester may withdraw it.
func (s *Service) Reject(ctx context.Context, c Caller, id int64, reason string) (store.Request, error) {
	r, err := s.pending(ctx, id)
	if err != nil {
		return r, err
	}
	me := c.Person.EmployeeID
	if me != r.Requester {
		if _, _, _, err := s.deciders(ctx, r, me, "decision"); err != nil {
			return r, err
		}
	}
	if strings.TrimSpace(reason) == "" {
		reason = "rejected by " + me
		if me == r.Requester {
			reason = "withdrawn by the requester"
		}
	}
	at := s.at()
	from := r.Step
	r.State, r.Reason, r.DecidedBy, r.DecidedAt = store.RequestRejected, strings.TrimSpace(reason), me, at
	notes, err := s.stepNotes(ctx, r)
	if err != nil {
		return r, err
	}
	return UpdateRequest(ctx, s.st, r, store.RequestPending, from, "rejected", c.actor(), at, notes...)
}

// AwaitingApprover keeps the pending requests whose current step the given
// person may approve now.
func (s *Service) AwaitingApprover(ctx context.Context, rs []store.Request, approver string) ([]store.Request, error) {
	out := []store.Request{}
	for _, r := range rs {
		if r.State != store.RequestPending || mayNotApprove(r)[approver] {
			continue
		}
		if r.EscalatedTo == approver {
			out = append(out, r)
			continue
		}
		ok, _, err := s.Approvers(ctx, r)
		if err != nil {
			continue // nobody can approve it now; it stays in the full list
		}
		if slices.Contains(ok, approver) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Remind tells the approvers of every pending request whose current step
// is due within notifications.reminder_before, once per step. A step that
// became current that close to its deadline gets no reminder: its
// pending message said it.
func (s *Service) Remind(ctx context.Context, now time.Time) (int, error) {
	if s.notes == nil || s.notes.Reminder() <= 0 {
		return 0, nil
	}
	before := s.notes.Reminder()
	rs, err := s.st.Requests(ctx, store.RequestFilter{State: store.RequestPending, DueBefore: now.Add(before), Unreminded: true, Unescalated: true})
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, r := range rs {
		if !r.Due.After(now) || !r.StepSince.Before(r.Due.Add(-before)) {
			continue // late already (escalation's business), or current this close to its deadline
		}
		ok, _, err := s.Approvers(ctx, r)
		if err != nil {
			continue // nobody to remind; it escalates when overdue
		}
		notes, err := s.notes.RequestReminded(ctx, r, ok, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := RemindRequest(ctx, s.st, r.ID, r.Step, ClockActor, now, notes...); errors.Is(err, store.ErrConflict) {
			continue // decided meanwhile, or another process reminded it
		} else if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// Escalate escalates every pending request whose current step is past its
// deadline, once per step: a manager's or owner's step to that approver's
// own manager, Security's step to requests.security_lead (default: the
// manager of the first security approver). Whoever it goes to may then
// approve or reject the step; stand-ins apply (away, left, or the
// requester or beneficiary: their manager instead).
func (s *Service) Escalate(ctx context.Context, now time.Time) (int, error) {
	rs, err := s.st.Requests(ctx, store.RequestFilter{State: store.RequestPending, DueBefore: now, Unescalated: true})
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, r := range rs {
		to, ok, err := s.escalationTarget(ctx, r)
		if err != nil {
			errs = append(errs, fmt.Errorf("request %d: escalation: %w", r.ID, err))
			continue
		}
		var notes []store.Notification
		if s.notes != nil {
			esc := r
			esc.EscalatedTo = to
			if notes, err = s.notes.RequestEscalated(ctx, esc, ok, to, now); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if _, err := EscalateRequest(ctx, s.st, r.ID, r.Step, to, ClockActor, now, notes...); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// escalationTarget is who an overdue step goes to, and who it waited for.
func (s *Service) escalationTarget(ctx context.Context, r store.Request) (string, []string, error) {
	ok, _, err := s.Approvers(ctx, r)
	excluded := mayNotApprove(r)
	for _, id := range ok {
		excluded[id] = true
	}
	if r.NextStep() == store.StepSecurity && s.cfg.Requests.SecurityLead != "" {
		to, err := s.resolve(ctx, r.Source, s.cfg.Requests.SecurityLead, excluded)
		return to, ok, err
	}
	var above string
	switch {
	case err == nil && len(ok) > 0:
		p, err := FindPerson(ctx, s.st, s.cfg, ok[0])
		if err != nil {
			return "", ok, err
		}
		above = p.ManagerID
	case r.NextStep() == store.StepSecurity && len(s.cfg.Requests.SecurityApprovers) > 0:
		p, ferr := FindPerson(ctx, s.st, s.cfg, s.cfg.Requests.SecurityApprovers[0])
		if ferr != nil {
			return "", ok, ferr
		}
		above = p.ManagerID
	default:
		return "", ok, err
	}
	to, err := s.resolve(ctx, r.Source, above, excluded)
	return to, ok, err
}

// ExpireActor is the audit actor of expiries.
const ExpireActor = "system:scheduler"

// Expire ends every time-bound grant that is due; the provisioning engine
// (PlanRequests) then revokes them.
func Expire(ctx context.Context, st store.Transactor, now time.Time) ([]store.Request, error) {
	return ExpireRequests(ctx, st, now, ExpireActor)
}
