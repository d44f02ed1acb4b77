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
	"github.com/tango-iga/tango/internal/policy"
	"github.com/tango-iga/tango/internal/store"
)

// Errors a caller tells apart with errors.Is.
var (
	// ErrForbidden: the acting person may not do this (approve their own
	// request, request for someone who is not their report, approve a step
	// that is not theirs).
	ErrForbidden = errors.New("not allowed")
	// ErrInvalid: the request itself is wrong (not requestable, too long,
	// no justification).
	ErrInvalid = errors.New("invalid request")
	// ErrSoD: the grant would break a separation-of-duties rule.
	ErrSoD = errors.New("separation of duties")
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
	st  store.Store
	cfg *config.Config
	pol *policy.Policy
	now func() time.Time
}

// NewService compiles the config's policy; now nil means time.Now.
func NewService(st store.Store, cfg *config.Config, now func() time.Time) (*Service, error) {
	pol, err := policy.Compile(cfg)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, cfg: cfg, pol: pol, now: now}, nil
}

// Person finds a person by employee ID in the config's sources, in order.
func (s *Service) Person(ctx context.Context, employeeID string) (store.Person, error) {
	return FindPerson(ctx, s.st, s.cfg, employeeID)
}

// FindPerson finds a person by employee ID in the config's sources, in order.
func FindPerson(ctx context.Context, st store.Store, cfg *config.Config, employeeID string) (store.Person, error) {
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
		Entitlement: in.Entitlement, Justification: strings.TrimSpace(in.Justification), Risk: item.Risk, Duration: d,
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
			_ = s.st.AppendAudit(ctx, audit.New(r.CreatedAt, c.actor(), "request.refused", r.Source, "", r.Beneficiary, nil,
				map[string]any{"request": r, "rule": se.Rule, "reason": se.Error()}))
		}
		return store.Request{}, err
	}
	return s.st.CreateRequest(ctx, r, c.actor())
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
	var held []policy.Grant
	rows, err := s.st.Grants(ctx, p.Source)
	if err != nil {
		return nil, err
	}
	for _, g := range rows {
		if g.EmployeeID == p.EmployeeID && g.State == "active" {
			held = append(held, policy.Grant{App: g.App, Entitlement: g.Entitlement})
		}
	}
	approved, err := s.st.Requests(ctx, store.RequestFilter{Source: p.Source, Beneficiary: p.EmployeeID, State: store.RequestApproved})
	if err != nil {
		return nil, err
	}
	approved = slices.DeleteFunc(approved, func(r store.Request) bool { return r.ID == skip })
	var mgr *store.Person
	if p.ManagerID != "" {
		if m, err := s.st.Person(ctx, p.Source, p.ManagerID); err == nil {
			mgr = &m
		}
	}
	want, _, err := s.pol.Desired(policy.Input{Person: &p, Manager: mgr, Requests: policy.FromRequests(approved)}, s.now())
	if err != nil {
		return nil, err
	}
	for _, w := range want {
		if !slices.Contains(held, w.Grant) {
			held = append(held, w.Grant)
		}
	}
	return held, nil
}

// Approvers returns who may approve the request's current step now, and
// the approver they stand in for when the step's own approver has left or
// is away (or is the requester or beneficiary).
func (s *Service) Approvers(ctx context.Context, r store.Request) ([]string, string, error) {
	excluded := map[string]bool{r.Requester: true, r.Beneficiary: true}
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

func stand(meant, actual string) string {
	if meant == actual {
		return ""
	}
	return meant
}

// resolve walks up the management chain from id past anyone who has left,
// is away, or may not approve (the requester, the beneficiary).
func (s *Service) resolve(ctx context.Context, source, id string, excluded map[string]bool) (string, error) {
	start := id
	now := s.now()
	for range 32 {
		if id == "" {
			return "", fmt.Errorf("nobody can stand in for %q: no manager above", start)
		}
		p, err := s.st.Person(ctx, source, id)
		if errors.Is(err, store.ErrNotFound) {
			p, err = FindPerson(ctx, s.st, s.cfg, id)
		}
		if err != nil {
			return "", fmt.Errorf("approver %q: %w", id, err)
		}
		away, err := s.st.AwayUntil(ctx, id)
		if err != nil {
			return "", err
		}
		if p.Status != store.StatusLeft && !away.After(now) && !excluded[id] {
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
	r, err := s.st.Request(ctx, id)
	if err != nil {
		return r, err
	}
	me := c.Person.EmployeeID
	if r.State != store.RequestPending {
		return r, fmt.Errorf("request %d is %s, not pending: %w", id, r.State, store.ErrConflict)
	}
	switch me {
	case r.Requester:
		return r, forbidden("%s made request %d and cannot approve it", me, id)
	case r.Beneficiary:
		return r, forbidden("request %d benefits %s, who cannot approve it", id, me)
	}
	ok, insteadOf, err := s.Approvers(ctx, r)
	if err != nil {
		return r, err
	}
	step := r.NextStep()
	if !slices.Contains(ok, me) {
		return r, forbidden("request %d waits for the %s approval of %s, not %s", id, step, strings.Join(ok, " or "), me)
	}
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
		if _, uerr := s.st.UpdateRequest(ctx, r, store.RequestPending, from, "rejected", c.actor(), at); uerr != nil {
			return r, uerr
		}
		return r, err
	}
	if ben.Status == store.StatusLeft {
		return r, invalid("beneficiary %s has left; reject request %d instead", ben.EmployeeID, id)
	}
	r.Approvals = append(r.Approvals, store.Approval{Step: step, By: me, At: at, InsteadOf: insteadOf, Note: strings.TrimSpace(note)})
	r.Step++
	action := "approved"
	if r.Step >= len(r.Chain) {
		r.State, r.DecidedBy, r.DecidedAt, action = store.RequestApproved, me, at, "granted"
		if r.Duration > 0 {
			r.ExpiresAt = at.Add(r.Duration)
		}
	}
	return s.st.UpdateRequest(ctx, r, store.RequestPending, from, action, c.actor(), at)
}

// Reject refuses a pending request: an approver of its current step may
// reject it, and its requester may withdraw it.
func (s *Service) Reject(ctx context.Context, c Caller, id int64, reason string) (store.Request, error) {
	r, err := s.st.Request(ctx, id)
	if err != nil {
		return r, err
	}
	me := c.Person.EmployeeID
	if r.State != store.RequestPending {
		return r, fmt.Errorf("request %d is %s, not pending: %w", id, r.State, store.ErrConflict)
	}
	if me != r.Requester {
		ok, _, err := s.Approvers(ctx, r)
		if err != nil {
			return r, err
		}
		if !slices.Contains(ok, me) {
			return r, forbidden("request %d waits for the %s decision of %s, not %s", id, r.NextStep(), strings.Join(ok, " or "), me)
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
	return s.st.UpdateRequest(ctx, r, store.RequestPending, from, "rejected", c.actor(), at)
}

// AwaitingApprover keeps the pending requests whose current step the given
// person may approve now.
func (s *Service) AwaitingApprover(ctx context.Context, rs []store.Request, approver string) ([]store.Request, error) {
	out := []store.Request{}
	for _, r := range rs {
		if r.State != store.RequestPending || r.Requester == approver || r.Beneficiary == approver {
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

// ExpireActor is the audit actor of expiries.
const ExpireActor = "system:scheduler"

// Expire ends every time-bound grant that is due; the provisioning engine
// (PlanRequests) then revokes them.
func Expire(ctx context.Context, st store.Store, now time.Time) ([]store.Request, error) {
	return st.ExpireRequests(ctx, now, ExpireActor)
}
