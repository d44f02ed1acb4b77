package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/duration"
	"github.com/tango-iga/tango/internal/store"
)

var requestCols = []string{"source", "requester", "beneficiary", "app", "entitlement", "justification", "risk",
	"duration_ns", "state", "chain", "step", "approvals", "reason", "decided_by", "created_at", "decided_at",
	"expires_at", "provisioned", "step_since", "due_at", "reminded_at", "escalated_to", "escalated_at"}

var requestSelect = `SELECT id, ` + strings.Join(requestCols, ",") + ` FROM requests`

func scanRequest(r scanner) (store.Request, error) {
	var q store.Request
	var dur, created, decided, expires, since, due, reminded, escalated int64
	var chain, approvals string
	var prov int
	err := r.Scan(&q.ID, &q.Source, &q.Requester, &q.Beneficiary, &q.App, &q.Entitlement, &q.Justification, &q.Risk,
		&dur, &q.State, &chain, &q.Step, &approvals, &q.Reason, &q.DecidedBy, &created, &decided, &expires, &prov,
		&since, &due, &reminded, &q.EscalatedTo, &escalated)
	if err != nil {
		return q, err
	}
	q.StepSince, q.Due, q.RemindedAt, q.EscalatedAt = fromMicros(since), fromMicros(due), fromMicros(reminded), fromMicros(escalated)
	q.Duration, q.CreatedAt, q.DecidedAt, q.ExpiresAt = duration.Duration(dur), fromMicros(created), fromMicros(decided), fromMicros(expires)
	q.Provisioned = prov != 0
	q.Chain = []string{}
	if chain != "" {
		q.Chain = strings.Split(chain, ",")
	}
	if err := json.Unmarshal([]byte(approvals), &q.Approvals); err != nil {
		return q, fmt.Errorf("request %d: approvals: %w", q.ID, err)
	}
	if q.Approvals == nil {
		q.Approvals = []store.Approval{}
	}
	return q, nil
}

// normalise truncates times to what the store keeps, so that what is
// returned, hashed into the audit entry and read back are the same.
func normalise(r *store.Request) {
	r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Microsecond)
	if !r.DecidedAt.IsZero() {
		r.DecidedAt = r.DecidedAt.UTC().Truncate(time.Microsecond)
	}
	for _, t := range []*time.Time{&r.ExpiresAt, &r.StepSince, &r.Due, &r.RemindedAt, &r.EscalatedAt} {
		if !t.IsZero() {
			*t = t.UTC().Truncate(time.Microsecond)
		}
	}
	if r.Chain == nil {
		r.Chain = []string{}
	}
	if r.Approvals == nil {
		r.Approvals = []store.Approval{}
	}
	for i := range r.Approvals {
		r.Approvals[i].At = r.Approvals[i].At.UTC().Truncate(time.Microsecond)
	}
}

func requestArgs(r *store.Request) []any {
	approvals, _ := json.Marshal(r.Approvals)
	prov := 0
	if r.Provisioned {
		prov = 1
	}
	return []any{r.Source, r.Requester, r.Beneficiary, r.App, r.Entitlement, r.Justification, r.Risk,
		int64(r.Duration), r.State, strings.Join(r.Chain, ","), r.Step, string(approvals), r.Reason, r.DecidedBy,
		micros(r.CreatedAt), micros(r.DecidedAt), micros(r.ExpiresAt), prov,
		micros(r.StepSince), micros(r.Due), micros(r.RemindedAt), r.EscalatedTo, micros(r.EscalatedAt)}
}

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

func (s *DB) CreateRequest(ctx context.Context, r store.Request, actor string, notes ...store.Notification) (store.Request, error) {
	r.State, r.Step, r.Provisioned = store.RequestPending, 0, true
	if r.StepSince.IsZero() {
		r.StepSince = r.CreatedAt
	}
	normalise(&r)
	err := s.write(ctx, func(tx *sql.Tx) error {
		q := `INSERT INTO requests (` + strings.Join(requestCols, ",") + `) VALUES (` +
			strings.TrimSuffix(strings.Repeat("?,", len(requestCols)), ",") + `) RETURNING id`
		if err := tx.QueryRowContext(ctx, s.rb(q), requestArgs(&r)...).Scan(&r.ID); err != nil {
			return fmt.Errorf("store: request: %w", err)
		}
		if err := s.appendAudit(ctx, tx, []audit.Entry{requestEntry(r, "created", actor, r.CreatedAt)}); err != nil {
			return err
		}
		_, err := s.queueNotifications(ctx, tx, forRequest(notes, r.ID), r.CreatedAt)
		return err
	})
	return r, err
}

// lockedRequest reads a request inside a write transaction and checks it is
// still in state fromState at step fromStep.
func (s *DB) lockedRequest(ctx context.Context, tx *sql.Tx, id int64, fromState string, fromStep int) (store.Request, error) {
	r, err := scanRequest(tx.QueryRowContext(ctx, s.rb(requestSelect+` WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("request %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("store: request %d: %w", id, err)
	}
	if r.State != fromState || r.Step != fromStep {
		return r, fmt.Errorf("request %d is %s at step %d, no longer %s at step %d: someone decided first: %w",
			id, r.State, r.Step, fromState, fromStep, store.ErrConflict)
	}
	return r, nil
}

func (s *DB) UpdateRequest(ctx context.Context, r store.Request, fromState string, fromStep int, action, actor string, at time.Time, notes ...store.Notification) (store.Request, error) {
	normalise(&r)
	r.Provisioned = r.State != store.RequestApproved && r.State != store.RequestExpired
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockedRequest(ctx, tx, r.ID, fromState, fromStep); err != nil {
			return err
		}
		args := requestArgs(&r)[8:] // state onwards
		args = append(args, r.ID)
		if _, err := tx.ExecContext(ctx, s.rb(`UPDATE requests SET state = ?, chain = ?, step = ?, approvals = ?, reason = ?,
			decided_by = ?, created_at = ?, decided_at = ?, expires_at = ?, provisioned = ?, step_since = ?, due_at = ?,
			reminded_at = ?, escalated_to = ?, escalated_at = ? WHERE id = ?`), args...); err != nil {
			return fmt.Errorf("store: request %d: %w", r.ID, err)
		}
		if err := s.appendAudit(ctx, tx, []audit.Entry{requestEntry(r, action, actor, at)}); err != nil {
			return err
		}
		_, err := s.queueNotifications(ctx, tx, forRequest(notes, r.ID), at)
		return err
	})
	return r, err
}

func (s *DB) RemindRequest(ctx context.Context, id int64, step int, actor string, at time.Time, notes ...store.Notification) (store.Request, error) {
	var r store.Request
	at = at.UTC().Truncate(time.Microsecond)
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if r, err = s.lockedRequest(ctx, tx, id, store.RequestPending, step); err != nil {
			return err
		}
		if !r.RemindedAt.IsZero() {
			return fmt.Errorf("request %d step %d was reminded of already: %w", id, step, store.ErrConflict)
		}
		r.RemindedAt = at
		if _, err := tx.ExecContext(ctx, s.rb(`UPDATE requests SET reminded_at = ? WHERE id = ?`), micros(at), id); err != nil {
			return fmt.Errorf("store: request %d: %w", id, err)
		}
		if err := s.appendAudit(ctx, tx, []audit.Entry{audit.New(at, actor, "request.reminded", r.Source, "", r.Beneficiary, nil,
			map[string]any{"request": r.ID, "step": r.NextStep(), "due": r.Due, "notifications": len(notes)})}); err != nil {
			return err
		}
		_, err = s.queueNotifications(ctx, tx, forRequest(notes, id), at)
		return err
	})
	return r, err
}

func (s *DB) EscalateRequest(ctx context.Context, id int64, step int, to, actor string, at time.Time, notes ...store.Notification) (store.Request, error) {
	var r store.Request
	at = at.UTC().Truncate(time.Microsecond)
	if strings.TrimSpace(to) == "" {
		return r, fmt.Errorf("store: escalate request %d: nobody to escalate to", id)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if r, err = s.lockedRequest(ctx, tx, id, store.RequestPending, step); err != nil {
			return err
		}
		if !r.EscalatedAt.IsZero() {
			return fmt.Errorf("request %d step %d was escalated to %s already: %w", id, step, r.EscalatedTo, store.ErrConflict)
		}
		r.EscalatedTo, r.EscalatedAt = to, at
		if _, err := tx.ExecContext(ctx, s.rb(`UPDATE requests SET escalated_to = ?, escalated_at = ? WHERE id = ?`), to, micros(at), id); err != nil {
			return fmt.Errorf("store: request %d: %w", id, err)
		}
		if err := s.appendAudit(ctx, tx, []audit.Entry{requestEntry(r, "escalated", actor, at)}); err != nil {
			return err
		}
		_, err = s.queueNotifications(ctx, tx, forRequest(notes, id), at)
		return err
	})
	return r, err
}

func (s *DB) Request(ctx context.Context, id int64) (store.Request, error) {
	r, err := scanRequest(s.db.QueryRowContext(ctx, s.rb(requestSelect+` WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("request %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("store: request %d: %w", id, err)
	}
	return r, nil
}

func (s *DB) Requests(ctx context.Context, f store.RequestFilter) ([]store.Request, error) {
	var w filters
	w.eq("source", f.Source)
	w.eq("state", f.State)
	w.eq("requester", f.Requester)
	w.eq("beneficiary", f.Beneficiary)
	if f.Unprovisioned {
		w.add("provisioned = 0")
	}
	if !f.DueBefore.IsZero() {
		w.add("state = ? AND due_at > 0 AND due_at < ?", store.RequestPending, micros(f.DueBefore))
	}
	if f.Unreminded {
		w.add("reminded_at = 0")
	}
	if f.Unescalated {
		w.add("escalated_at = 0")
	}
	if f.Escalated {
		w.add("escalated_at > 0")
	}
	q := requestSelect + w.sql() + ` ORDER BY id`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		w.args = append(w.args, f.Limit)
	}
	return queryAll(ctx, s.db, "store: requests", scanRequest, s.rb(q), w.args...)
}

func (s *DB) ExpireRequests(ctx context.Context, now time.Time, actor string) ([]store.Request, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var out []store.Request
	err := s.write(ctx, func(tx *sql.Tx) error {
		due, err := queryAll(ctx, tx, "store: due requests", scanRequest,
			s.rb(requestSelect+` WHERE state = ? AND expires_at > 0 AND expires_at <= ? ORDER BY id`), store.RequestApproved, micros(now))
		if err != nil {
			return err
		}
		upd := s.rb(`UPDATE requests SET state = ?, reason = ?, provisioned = 0 WHERE id = ? AND state = ?`)
		var entries []audit.Entry
		for _, r := range due {
			r.State, r.Reason, r.Provisioned = store.RequestExpired, "time-bound grant ended at "+r.ExpiresAt.Format(time.RFC3339), false
			if _, err := tx.ExecContext(ctx, upd, r.State, r.Reason, r.ID, store.RequestApproved); err != nil {
				return fmt.Errorf("store: request %d: %w", r.ID, err)
			}
			entries = append(entries, requestEntry(r, "expired", actor, now))
			out = append(out, r)
		}
		return s.appendAudit(ctx, tx, entries)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *DB) SetAway(ctx context.Context, employeeID string, until time.Time, actor string, at time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.rb(`DELETE FROM away WHERE employee_id = ?`), employeeID); err != nil {
			return fmt.Errorf("store: away %s: %w", employeeID, err)
		}
		after := map[string]any{"away": false}
		if !until.IsZero() {
			until = until.UTC().Truncate(time.Microsecond)
			if _, err := tx.ExecContext(ctx, s.rb(`INSERT INTO away (employee_id, until_at, set_by, set_at) VALUES (?, ?, ?, ?)`),
				employeeID, micros(until), actor, micros(at)); err != nil {
				return fmt.Errorf("store: away %s: %w", employeeID, err)
			}
			after = map[string]any{"away": true, "until": until}
		}
		return s.appendAudit(ctx, tx, []audit.Entry{audit.New(at, actor, "person.away", "", "", employeeID, nil, after)})
	})
}

func (s *DB) AwayUntil(ctx context.Context, employeeID string) (time.Time, error) {
	var until int64
	err := s.db.QueryRowContext(ctx, s.rb(`SELECT until_at FROM away WHERE employee_id = ?`), employeeID).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: away %s: %w", employeeID, err)
	}
	return fromMicros(until), nil
}
