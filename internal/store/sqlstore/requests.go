package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/duration"
	"github.com/tango-iga/tango/internal/store"
)

var requestCols = []string{"source", "requester", "beneficiary", "app", "entitlement", "justification", "risk",
	"duration_ns", "state", "chain", "step", "approvals", "reason", "decided_by", "created_at", "decided_at",
	"expires_at", "provisioned", "step_since", "due_at", "reminded_at", "escalated_to", "escalated_at", "review_item"}

var requestSelect = `SELECT id, ` + strings.Join(requestCols, ",") + ` FROM requests`

func scanRequest(r scanner) (store.Request, error) {
	var q store.Request
	var dur, created, decided, expires, since, due, reminded, escalated int64
	var chain, approvals string
	var prov int
	err := r.Scan(&q.ID, &q.Source, &q.Requester, &q.Beneficiary, &q.App, &q.Entitlement, &q.Justification, &q.Risk,
		&dur, &q.State, &chain, &q.Step, &approvals, &q.Reason, &q.DecidedBy, &created, &decided, &expires, &prov,
		&since, &due, &reminded, &q.EscalatedTo, &escalated, &q.ReviewItem)
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
		micros(r.StepSince), micros(r.Due), micros(r.RemindedAt), r.EscalatedTo, micros(r.EscalatedAt), r.ReviewItem}
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
	if f.Involving != "" {
		w.add("(requester = ? OR beneficiary = ?)", f.Involving, f.Involving)
	}
	q := requestSelect + w.sql() + ` ORDER BY id`
	if f.Newest {
		q += ` DESC`
	}
	switch {
	case f.Limit > 0 && f.Offset > 0:
		q += ` LIMIT ? OFFSET ?`
		w.args = append(w.args, f.Limit, f.Offset)
	case f.Limit > 0:
		q += ` LIMIT ?`
		w.args = append(w.args, f.Limit)
	case f.Offset > 0:
		// OFFSET needs a LIMIT in SQLite; PostgreSQL takes this one too.
		q += ` LIMIT ? OFFSET ?`
		w.args = append(w.args, int64(math.MaxInt64), f.Offset)
	}
	return queryAll(ctx, s.listing(), "store: requests", scanRequest, s.rb(q), w.args...)
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
