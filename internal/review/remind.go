package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/notify"
	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/store"
)

// errRaced rolls back an escalation whose items changed under it (decided
// or escalated by another process); the next pass reads them afresh.
var errRaced = errors.New("review: items changed meanwhile")

// Remind reminds each reviewer who still has pending items in an open
// campaign whose deadline is less than reviews.remind_before away (the
// scheduler's step): one message per campaign and reviewer (a person, or
// a team: its e-mail and chat webhook) naming how many items wait and
// the workspace link, with a "review.reminded" audit entry. The reminder
// is claimed in the transaction that queues its messages, so processes
// sharing the database remind each reviewer once. Without a notification
// channel (or with remind_before 0s) nobody is reminded. A campaign past
// its deadline is not reminded (CloseDue closes it). Once every reviewer
// of a campaign is reminded, this process does not count the campaign's
// pending items again (its reviewers are fixed at its start). It returns
// how many reviewers it reminded.
func (s *Service) Remind(ctx context.Context, actor string) (int, error) {
	before := s.cfg.Reviews.Reminder()
	if s.notes == nil || before <= 0 {
		return 0, nil
	}
	now := s.now()
	due, err := s.dueWithin(ctx, before, now)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, c := range due {
		if _, ok := s.reminded.Load(c.ID); ok {
			continue // every reviewer reminded: a campaign gains none later
		}
		counts, err := s.st.PendingReviewers(ctx, c.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		done, err := s.st.ReviewReminders(ctx, c.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all := true
		for _, rc := range counts {
			if slices.Contains(done, rc.Recipient()) || (rc.Reviewer == "" && rc.Team == "") {
				continue
			}
			ok, err := s.remind(ctx, c, rc, actor, now)
			if err != nil {
				errs = append(errs, fmt.Errorf("campaign %d: reminding %s: %w", c.ID, rc.Recipient(), err))
				all = false
				continue
			}
			if ok {
				n++
			}
		}
		if all {
			s.reminded.Store(c.ID, true)
		}
	}
	return n, errors.Join(errs...)
}

// dueWithin lists the open campaigns whose deadline is after now and less
// than before away (a campaign past its deadline is CloseDue's).
func (s *Service) dueWithin(ctx context.Context, before time.Duration, now time.Time) ([]store.Campaign, error) {
	open, err := s.st.Campaigns(ctx, store.CampaignOpen)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(open, func(c store.Campaign) bool {
		return !c.DueAt.After(now) || now.Before(c.DueAt.Add(-before))
	}), nil
}

func (s *Service) remind(ctx context.Context, c store.Campaign, rc store.ReviewerCount, actor string, at time.Time) (bool, error) {
	to := notify.Owner{Person: rc.Reviewer, Source: rc.Source, Team: rc.Team}
	notes, err := s.notes.ReviewReminded(ctx, c, to, rc.Pending, at)
	if err != nil {
		return false, err
	}
	claimed := false
	err = s.st.InTx(ctx, func(tx store.Tx) error {
		ok, err := tx.ClaimReviewReminder(c.ID, rc.Recipient(), rc.Pending, at)
		if err != nil || !ok {
			return err // reminded already (another process)
		}
		claimed = true
		if err := tx.AppendAudit(audit.New(at, actor, "review.reminded", rc.Source, "", fmt.Sprintf("campaign:%d", c.ID), nil,
			map[string]any{"campaign": c.ID, "recipient": rc.Recipient(), "pending": rc.Pending, "due": c.DueAt,
				"link": s.notes.ReviewLink(c.ID), "notifications": len(notes)})); err != nil {
			return err
		}
		_, err = tx.QueueNotifications(notes, at)
		return err
	})
	return claimed && err == nil, err
}

// Escalate escalates, in each open campaign whose deadline is less than
// reviews.escalate_before away (the scheduler's step), every pending item
// a person reviews to that reviewer's manager, who may then decide it
// (authz.Principal.ActOnReviewItem): once per item, with a
// "review.escalated" audit entry per item and one message per campaign
// and manager naming how many items went to them. Stand-in rules apply:
// a manager who has left or is away is passed over for theirs, and
// nobody gets an item of their own access; an item with nobody above its
// reviewer is left to the campaign's policy. A campaign past its deadline
// is not escalated (CloseDue closes it). It returns how many items it
// escalated.
func (s *Service) Escalate(ctx context.Context, actor string) (int, error) {
	before := s.cfg.Reviews.Escalation()
	if before <= 0 {
		return 0, nil
	}
	now := s.now()
	due, err := s.dueWithin(ctx, before, now)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, c := range due {
		items, err := s.st.ReviewItems(ctx, store.ReviewItemFilter{Campaign: c.ID, State: store.ItemPending, Unescalated: true})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Group by whom they go to: one transaction and one message each.
		targets := map[string][]store.ReviewItem{}
		var order []string
		above := map[string]string{} // reviewer → their stand-in above, for items not of that stand-in
		for _, it := range items {
			key := it.Reviewer + "\x00" + it.EmployeeID
			to, seen := above[key]
			if !seen {
				if to, err = s.escalationTarget(ctx, it, now); err != nil {
					errs = append(errs, fmt.Errorf("review item %d: escalation: %w", it.ID, err))
					continue
				}
				above[key] = to
			}
			if to == "" {
				continue
			}
			if _, ok := targets[to]; !ok {
				order = append(order, to)
			}
			targets[to] = append(targets[to], it)
		}
		for _, to := range order {
			k, err := s.escalate(ctx, c, to, targets[to], actor, now)
			if errors.Is(err, errRaced) {
				continue
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("campaign %d: escalating to %s: %w", c.ID, to, err))
				continue
			}
			n += k
		}
	}
	return n, errors.Join(errs...)
}

// escalationTarget is whom a pending item goes to: its reviewer's
// manager, or, while that one has left or is away, or is the person whose
// access it is, the next one up; "" when nobody is.
func (s *Service) escalationTarget(ctx context.Context, it store.ReviewItem, now time.Time) (string, error) {
	r, err := s.st.Person(ctx, it.Source, it.Reviewer)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	to, err := request.StandIn(ctx, s.st, r.ManagerID, now, func(id string) (store.Person, error) {
		return s.st.Person(ctx, it.Source, id)
	}, func(id string) bool { return id == it.EmployeeID || id == it.Reviewer })
	if errors.Is(err, store.ErrNotFound) {
		return "", nil // the chain ends at someone no longer in the workforce
	}
	return to, err
}

// escalate escalates items to the employee to in one transaction: all of
// them, or none (errRaced) when one was decided or escalated meanwhile.
func (s *Service) escalate(ctx context.Context, c store.Campaign, to string, items []store.ReviewItem, actor string, at time.Time) (int, error) {
	var reviewers []string
	for _, it := range items {
		if !slices.Contains(reviewers, it.Reviewer) {
			reviewers = append(reviewers, it.Reviewer)
		}
	}
	var notes []store.Notification
	if s.notes != nil {
		var err error
		if notes, err = s.notes.ReviewEscalated(ctx, c, items[0].Source, to, reviewers, len(items), at); err != nil {
			return 0, err
		}
	}
	err := s.st.InTx(ctx, func(tx store.Tx) error {
		ents := make([]audit.Entry, 0, len(items))
		for _, it := range items {
			ok, err := tx.EscalateReviewItem(it.ID, to, at)
			if err != nil {
				return err
			}
			if !ok {
				return errRaced
			}
			after := it
			after.EscalatedTo, after.EscalatedAt = to, at
			ents = append(ents, audit.New(at, actor, "review.escalated", it.Source, "", fmt.Sprintf("review-item:%d", it.ID), it, after))
		}
		if err := tx.AppendAudit(ents...); err != nil {
			return err
		}
		_, err := tx.QueueNotifications(notes, at)
		return err
	})
	if err != nil {
		return 0, err
	}
	return len(items), nil
}
