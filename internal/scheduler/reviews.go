package scheduler

import (
	"context"

	"github.com/tango-iga/tango/internal/review"
)

// Reviews is the scheduler's part in access reviews: starting recurring
// campaigns (reviews.campaigns), reminding reviewers and escalating their
// pending items near a campaign's deadline (reviews.remind_before,
// reviews.escalate_before), closing each campaign at its deadline
// (undecided items follow its policy) and reading back what closed
// campaigns revoked.
type Reviews struct {
	Service *review.Service
	// Reader reads accounts back (provision.Engine); nil: no app is
	// provisioned, nothing to verify.
	Reader review.Reader
}

// WithReviews makes each pass close due campaigns and verify closed ones.
func (s *Scheduler) WithReviews(r Reviews) *Scheduler {
	s.reviews = &r
	return s
}

// CloseDueReviews starts the recurring campaigns that are due, reminds
// reviewers and escalates pending items near a deadline, closes the
// campaigns past their deadline and verifies the revocations of closed
// ones; it returns how many it closed. A failed reminder or escalation is
// logged and does not hold up the close.
func (s *Scheduler) CloseDueReviews(ctx context.Context) (int, error) {
	if s.reviews == nil || s.reviews.Service == nil {
		return 0, nil
	}
	started, err := s.reviews.Service.StartDue(ctx, Actor)
	for _, c := range started {
		s.log.Info("scheduler: started a recurring access review", "campaign", c.ID, "kind", c.Kind, "app", c.App, "items", c.Items, "due_at", c.DueAt)
	}
	if err != nil {
		return 0, err
	}
	movers, err := s.reviews.Service.StartMovers(ctx, Actor)
	for _, c := range movers {
		s.log.Info("scheduler: started a mover's access review", "campaign", c.ID, "items", c.Items, "due_at", c.DueAt)
	}
	if err != nil {
		return 0, err
	}
	if k, err := s.reviews.Service.Remind(ctx, Actor); err != nil {
		s.log.Error("scheduler: reminding access reviewers", "reminded", k, "err", err)
	} else if k > 0 {
		s.log.Info("scheduler: reminded access reviewers of their pending items", "reviewers", k)
	}
	if k, err := s.reviews.Service.Escalate(ctx, Actor); err != nil {
		s.log.Error("scheduler: escalating access-review items", "escalated", k, "err", err)
	} else if k > 0 {
		s.log.Info("scheduler: escalated pending access-review items to the reviewers' managers", "items", k)
	}
	n, err := s.reviews.Service.CloseDue(ctx, Actor)
	if err != nil {
		return n, err
	}
	if n > 0 {
		s.log.Info("scheduler: closed access reviews at their deadline", "count", n)
	}
	if s.reviews.Reader != nil {
		if _, err := s.reviews.Service.Verify(ctx, s.reviews.Reader, 0, Actor); err != nil {
			return n, err
		}
	}
	return n, nil
}
