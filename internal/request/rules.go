package request

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
)

// The transitions of a request as they are written: each in one
// transaction of the store, with its audit wording and the notifications
// it causes.

func requestEntry(r store.Request, action, actor string, at time.Time) audit.Entry {
	return audit.New(at, actor, "request."+action, r.Source, "", r.Beneficiary, nil, r)
}

// forRequest ties notifications to a request.
func forRequest(notes []store.Notification, id int64) []store.Notification {
	notes = slices.Clone(notes)
	n := strconv.FormatInt(id, 10)
	for i := range notes {
		notes[i].Request = id
		notes[i].Subject = strings.ReplaceAll(notes[i].Subject, store.RequestIDPlaceholder, n)
		notes[i].Body = strings.ReplaceAll(notes[i].Body, store.RequestIDPlaceholder, n)
	}
	return notes
}

// CreateRequest stores a new request (ID, State pending, Step 0 filled
// in) with a "request.created" audit entry by actor and the notifications
// it causes (their Request set; store.RequestIDPlaceholder in their
// subject and body replaced by the new ID), in one transaction.
func CreateRequest(ctx context.Context, st store.Transactor, r store.Request, actor string, notes ...store.Notification) (store.Request, error) {
	r.State, r.Step, r.Provisioned = store.RequestPending, 0, true
	if r.StepSince.IsZero() {
		r.StepSince = r.CreatedAt
	}
	err := st.InTx(ctx, func(tx store.Tx) error {
		if err := tx.InsertRequest(&r); err != nil {
			return err
		}
		if err := tx.AppendAudit(requestEntry(r, "created", actor, r.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.QueueNotifications(forRequest(notes, r.ID), r.CreatedAt)
		return err
	})
	return r, err
}

// lockedRequest reads a request inside a transaction and checks it is
// still in state fromState at step fromStep.
func lockedRequest(tx store.Tx, id int64, fromState string, fromStep int) (store.Request, error) {
	r, err := tx.Request(id)
	if err != nil {
		return r, err
	}
	if r.State != fromState || r.Step != fromStep {
		return r, fmt.Errorf("request %d is %s at step %d, no longer %s at step %d: someone decided first: %w",
			id, r.State, r.Step, fromState, fromStep, store.ErrConflict)
	}
	return r, nil
}

// UpdateRequest writes r's new state, step, approvals and decision if the
// stored request is still in state fromState at step fromStep
// (store.ErrConflict otherwise: someone decided first), with an audit
// entry "request.<action>" by actor at at and the notifications it
// causes, in one transaction. Approved and expired requests are marked
// unprovisioned.
func UpdateRequest(ctx context.Context, st store.Transactor, r store.Request, fromState string, fromStep int, action, actor string, at time.Time, notes ...store.Notification) (store.Request, error) {
	r.Provisioned = r.State != store.RequestApproved && r.State != store.RequestExpired
	err := st.InTx(ctx, func(tx store.Tx) error {
		if _, err := lockedRequest(tx, r.ID, fromState, fromStep); err != nil {
			return err
		}
		if err := tx.UpdateRequest(&r); err != nil {
			return err
		}
		if err := tx.AppendAudit(requestEntry(r, action, actor, at)); err != nil {
			return err
		}
		_, err := tx.QueueNotifications(forRequest(notes, r.ID), at)
		return err
	})
	return r, err
}

// RemindRequest records that the approvers of a pending request's step
// (still at index step) were reminded of its deadline, with the
// reminders, in one transaction; store.ErrConflict when the request moved
// on or was reminded already.
func RemindRequest(ctx context.Context, st store.Transactor, id int64, step int, actor string, at time.Time, notes ...store.Notification) (store.Request, error) {
	var r store.Request
	at = at.UTC().Truncate(time.Microsecond)
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if r, err = lockedRequest(tx, id, store.RequestPending, step); err != nil {
			return err
		}
		if !r.RemindedAt.IsZero() {
			return fmt.Errorf("request %d step %d was reminded of already: %w", id, step, store.ErrConflict)
		}
		r.RemindedAt = at
		if err := tx.UpdateRequest(&r); err != nil {
			return err
		}
		if err := tx.AppendAudit(audit.New(at, actor, "request.reminded", r.Source, "", r.Beneficiary, nil,
			map[string]any{"request": r.ID, "step": r.NextStep(), "due": r.Due, "notifications": len(notes)})); err != nil {
			return err
		}
		_, err = tx.QueueNotifications(forRequest(notes, id), at)
		return err
	})
	return r, err
}

// EscalateRequest records that a pending request's overdue step (still at
// index step) was escalated to the employee `to`, with a
// "request.escalated" audit entry and the notifications, in one
// transaction; store.ErrConflict when it moved on or was escalated
// already.
func EscalateRequest(ctx context.Context, st store.Transactor, id int64, step int, to, actor string, at time.Time, notes ...store.Notification) (store.Request, error) {
	var r store.Request
	at = at.UTC().Truncate(time.Microsecond)
	if strings.TrimSpace(to) == "" {
		return r, fmt.Errorf("store: escalate request %d: nobody to escalate to", id)
	}
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if r, err = lockedRequest(tx, id, store.RequestPending, step); err != nil {
			return err
		}
		if !r.EscalatedAt.IsZero() {
			return fmt.Errorf("request %d step %d was escalated to %s already: %w", id, step, r.EscalatedTo, store.ErrConflict)
		}
		r.EscalatedTo, r.EscalatedAt = to, at
		if err := tx.UpdateRequest(&r); err != nil {
			return err
		}
		if err := tx.AppendAudit(requestEntry(r, "escalated", actor, at)); err != nil {
			return err
		}
		_, err = tx.QueueNotifications(forRequest(notes, id), at)
		return err
	})
	return r, err
}

// ExpireRequests ends every approved request whose ExpiresAt is at or
// before now, each with a "request.expired" audit entry, and returns them.
func ExpireRequests(ctx context.Context, st store.Transactor, now time.Time, actor string) ([]store.Request, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var out []store.Request
	err := st.InTx(ctx, func(tx store.Tx) error {
		out = nil
		due, err := tx.ApprovedRequestsExpiringBy(now)
		if err != nil {
			return err
		}
		var entries []audit.Entry
		for _, r := range due {
			r.State, r.Reason, r.Provisioned = store.RequestExpired, "time-bound grant ended at "+r.ExpiresAt.Format(time.RFC3339), false
			if err := tx.UpdateRequest(&r); err != nil {
				return err
			}
			entries = append(entries, requestEntry(r, "expired", actor, now))
			out = append(out, r)
		}
		return tx.AppendAudit(entries...)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetAway records that a person is away until a time (zero: back), with
// a "person.away" audit entry; an away approver is replaced by their
// manager.
func SetAway(ctx context.Context, st store.Transactor, employeeID string, until time.Time, actor string, at time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	return st.InTx(ctx, func(tx store.Tx) error {
		after := map[string]any{"away": false}
		if !until.IsZero() {
			until = until.UTC().Truncate(time.Microsecond)
			after = map[string]any{"away": true, "until": until}
		}
		if err := tx.SetAway(employeeID, until, actor, at); err != nil {
			return err
		}
		return tx.AppendAudit(audit.New(at, actor, "person.away", "", "", employeeID, nil, after))
	})
}
