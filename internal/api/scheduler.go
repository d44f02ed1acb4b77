package api

import (
	"context"
	"errors"
	"time"
)

// SchedulerActor is the audit actor of events the scheduler applies.
const SchedulerActor = "system:scheduler"

// ApplyDue applies every scheduled lifecycle event that is due now (a
// joiner's start date, a leaver's end date) and logs what it applied.
func (s *Server) ApplyDue(ctx context.Context) (int, error) {
	evs, err := s.st.ApplyDue(ctx, s.now(), SchedulerActor)
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

// RunScheduler applies due events and ends due time-bound access grants
// at once and then every interval until
// ctx is done. Several processes may run it against one database: the
// store applies each event once.
func (s *Server) RunScheduler(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = DefaultScheduleEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.ApplyDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("scheduler: applying due events failed", "err", err)
		}
		if _, err := s.ExpireRequests(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("scheduler: expiring access grants failed", "err", err)
		}
		if err := s.RequestClocks(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("scheduler: approval reminders and escalations failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RequestClocks reminds the approvers of steps near their deadline and
// escalates overdue steps. Several processes may run it: the store
// records each reminder and escalation once.
func (s *Server) RequestClocks(ctx context.Context) error {
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
