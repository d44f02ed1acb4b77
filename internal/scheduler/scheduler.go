// Package scheduler applies what comes due with time: scheduled lifecycle
// events (a joiner's start date, a leaver's end date), the end of
// time-bound access grants, and the reminders and escalations of approval
// steps. Several processes may run it against one database: the store
// applies each event, expiry, reminder and escalation once.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/request"
)

// Actor is the audit actor of events the scheduler applies.
const Actor = "system:scheduler"

// DefaultEvery is how often the scheduler makes a pass.
const DefaultEvery = 30 * time.Second

// Planner queues the provisioning of requests decided or expired
// (provision.Engine); nil when no app is provisioned.
type Planner interface {
	PlanRequests(ctx context.Context) (int, error)
}

// Scheduler makes the passes.
type Scheduler struct {
	st   Store
	req  *request.Service
	plan Planner
	log  *slog.Logger
	now  func() time.Time
	// reviews, when set (WithReviews), closes and verifies access reviews.
	reviews *Reviews
}

// New makes a scheduler. req (nil when the policy does not compile) runs
// the approval clocks; plan (nil: none) queues the revokes of expired
// grants. log and now are required.
func New(st Store, req *request.Service, plan Planner, log *slog.Logger, now func() time.Time) *Scheduler {
	if log == nil || now == nil {
		panic("scheduler: a logger and a clock are required")
	}
	return &Scheduler{st: st, req: req, plan: plan, log: log, now: now}
}

// RunOnce makes one pass: due events, expired grants, approval clocks. It
// returns 0 (a pass takes everything due at once; the next comes after
// the interval) and the errors of the three joined.
func (s *Scheduler) RunOnce(ctx context.Context) (int, error) {
	var errs []error
	if _, err := s.ApplyDue(ctx); err != nil {
		errs = append(errs, fmt.Errorf("applying due events: %w", err))
	}
	if _, err := s.ExpireRequests(ctx); err != nil {
		errs = append(errs, fmt.Errorf("expiring access grants: %w", err))
	}
	if err := s.RequestClocks(ctx); err != nil {
		errs = append(errs, fmt.Errorf("approval reminders and escalations: %w", err))
	}
	if _, err := s.CloseDueReviews(ctx); err != nil {
		errs = append(errs, fmt.Errorf("access reviews: %w", err))
	}
	return 0, errors.Join(errs...)
}

// ApplyDue applies every scheduled lifecycle event that is due now and
// logs what it applied.
func (s *Scheduler) ApplyDue(ctx context.Context) (int, error) {
	evs, err := hr.ApplyDue(ctx, s.st, s.now(), Actor)
	if err != nil {
		return 0, err
	}
	for _, e := range evs {
		s.log.Info("scheduler: event applied", "event_id", e.ID, "type", e.Type, "source", e.Source,
			"employee_id", e.EmployeeID, "import_id", e.ImportID, "effective_at", e.Effective)
	}
	if len(evs) > 0 {
		s.log.Info("scheduler: applied due events", "count", len(evs))
	}
	return len(evs), nil
}

// ExpireRequests ends the time-bound grants that are due and queues their
// revokes.
func (s *Scheduler) ExpireRequests(ctx context.Context) (int, error) {
	rs, err := request.Expire(ctx, s.st, s.now())
	if err != nil {
		return 0, err
	}
	for _, r := range rs {
		s.log.Info("scheduler: access grant expired", "request", r.ID, "beneficiary", r.Beneficiary, "app", r.App, "entitlement", r.Entitlement)
	}
	if len(rs) > 0 && s.plan != nil {
		if _, err := s.plan.PlanRequests(ctx); err != nil {
			s.log.Warn("requests: planning provisioning failed; the engine retries", "err", err)
		}
	}
	return len(rs), nil
}

// RequestClocks reminds the approvers of steps near their deadline and
// escalates overdue steps.
func (s *Scheduler) RequestClocks(ctx context.Context) error {
	if s.req == nil {
		return nil
	}
	now := s.now()
	rem, err1 := s.req.Remind(ctx, now)
	esc, err2 := s.req.Escalate(ctx, now)
	if rem > 0 || esc > 0 {
		s.log.Info("scheduler: approval clocks", "reminded", rem, "escalated", esc)
	}
	return errors.Join(err1, err2)
}
