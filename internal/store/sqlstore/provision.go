package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
)

var opCols = []string{"app", "kind", "source", "employee_id", "entitlement", "account", "priority", "state",
	"attempts", "not_before", "last_error", "reason", "import_id", "created_at", "updated_at", "lease_owner", "lease_until", "task_id"}

func opRow(o *store.Operation) []any {
	return []any{o.App, o.Kind, o.Source, o.EmployeeID, o.Entitlement, o.Account, o.Priority, o.State,
		o.Attempts, micros(o.NotBefore), o.LastError, o.Reason, o.ImportID, micros(o.CreatedAt), micros(o.UpdatedAt),
		o.LeaseOwner, micros(o.LeaseUntil), o.TaskID}
}

func scanOp(r scanner) (store.Operation, error) {
	var o store.Operation
	var nb, created, updated, lease int64
	err := r.Scan(&o.ID, &o.App, &o.Kind, &o.Source, &o.EmployeeID, &o.Entitlement, &o.Account, &o.Priority, &o.State,
		&o.Attempts, &nb, &o.LastError, &o.Reason, &o.ImportID, &created, &updated, &o.LeaseOwner, &lease, &o.TaskID)
	o.NotBefore, o.CreatedAt, o.UpdatedAt, o.LeaseUntil = fromMicros(nb), fromMicros(created), fromMicros(updated), fromMicros(lease)
	return o, err
}

var grantCols = []string{"app", "source", "employee_id", "entitlement", "state", "reason", "updated_at"}

const grantUpsert = ` ON CONFLICT (app, source, employee_id, entitlement) DO UPDATE SET state=excluded.state,
 reason=excluded.reason, updated_at=excluded.updated_at`

// queue writes a provisioning batch inside tx.
func (s *DB) queue(ctx context.Context, tx *sql.Tx, b *store.ProvisionBatch) error {
	if b == nil {
		return nil
	}
	rows := make([][]any, 0, len(b.Ops))
	for i := range b.Ops {
		rows = append(rows, opRow(&b.Ops[i]))
	}
	if err := s.bulk(ctx, tx, "operations", opCols, rows, ""); err != nil {
		return err
	}
	rows = rows[:0]
	for _, g := range b.Put {
		rows = append(rows, []any{g.App, g.Source, g.EmployeeID, g.Entitlement, g.State, g.Reason, micros(g.UpdatedAt)})
	}
	if err := s.bulk(ctx, tx, "grants", grantCols, rows, grantUpsert); err != nil {
		return err
	}
	del := s.rb(`DELETE FROM grants WHERE app = ? AND source = ? AND employee_id = ? AND entitlement = ?`)
	for _, g := range b.Delete {
		if _, err := tx.ExecContext(ctx, del, g.App, g.Source, g.EmployeeID, g.Entitlement); err != nil {
			return fmt.Errorf("store: delete grant: %w", err)
		}
	}
	mark := s.rb(`UPDATE events SET provisioned = 1 WHERE id = ?`)
	for _, id := range b.Events {
		if _, err := tx.ExecContext(ctx, mark, id); err != nil {
			return fmt.Errorf("store: mark event %d: %w", id, err)
		}
	}
	markReq := s.rb(`UPDATE requests SET provisioned = 1 WHERE id = ?`)
	for _, id := range b.Requests {
		if _, err := tx.ExecContext(ctx, markReq, id); err != nil {
			return fmt.Errorf("store: mark request %d: %w", id, err)
		}
	}
	// A revocation is planned once: when another planner marked it
	// first (both read it unplanned), the batch is not written.
	markRev := s.rb(`UPDATE revocations SET planned = 1 WHERE id = ? AND planned = 0`)
	for _, id := range b.Revocations {
		res, err := tx.ExecContext(ctx, markRev, id)
		if err != nil {
			return fmt.Errorf("store: mark revocation %d: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("store: revocation %d is planned already (or gone): %w", id, store.ErrConflict)
		}
	}
	return s.appendAudit(ctx, tx, b.Entries)
}

func (s *DB) QueueOps(ctx context.Context, b store.ProvisionBatch) error {
	return s.write(ctx, func(tx *sql.Tx) error { return s.queue(ctx, tx, &b) })
}

func (s *DB) Grants(ctx context.Context, source string) ([]store.GrantRow, error) {
	q := `SELECT ` + strings.Join(grantCols, ",") + ` FROM grants`
	var args []any
	if source != "" {
		q += ` WHERE source = ?`
		args = append(args, source)
	}
	return s.grants(ctx, q, args)
}

// PersonGrants reads one person's grant rows through the index
// grants_person, instead of every grant of the source.
func (s *DB) PersonGrants(ctx context.Context, source, employeeID string) ([]store.GrantRow, error) {
	return s.grants(ctx, `SELECT `+strings.Join(grantCols, ",")+` FROM grants WHERE source = ? AND employee_id = ?`, []any{source, employeeID})
}

func (s *DB) grants(ctx context.Context, q string, args []any) ([]store.GrantRow, error) {
	rows, err := s.db.QueryContext(ctx, s.rb(q+` ORDER BY source, employee_id, app, entitlement`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: grants: %w", err)
	}
	defer rows.Close()
	var out []store.GrantRow
	for rows.Next() {
		var g store.GrantRow
		var upd int64
		if err := rows.Scan(&g.App, &g.Source, &g.EmployeeID, &g.Entitlement, &g.State, &g.Reason, &upd); err != nil {
			return nil, err
		}
		g.UpdatedAt = fromMicros(upd)
		out = append(out, g)
	}
	return out, rows.Err()
}

func (s *DB) Unprovisioned(ctx context.Context, limit int) ([]store.Event, error) {
	rows, err := s.db.QueryContext(ctx, s.rb(eventSelect+`
		WHERE e.provisioned = 0 AND e.state = 'applied' ORDER BY e.id LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: unprovisioned events: %w", err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// opsLeased is the operations table as leased work.
var opsLeased = leased[store.Operation]{
	table: "operations", what: "operations", cols: strings.Join(opCols, ","), scan: scanOp,
	running: store.OpRunning, order: "o.priority, o.id",
	less: func(a, b store.Operation) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.ID, b.ID))
	},
}

func (s *DB) ClaimOps(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip []string) ([]store.Operation, error) {
	var out []store.Operation
	n := micros(now)
	err := s.write(ctx, func(tx *sql.Tx) error {
		// An operation is due when pending or retrying and not_before has
		// passed, or running with an expired lease (its worker died). It
		// waits while an earlier operation for the same account is due or
		// running.
		due := `((o.state IN ('pending', 'retrying') AND o.not_before <= ?) OR (o.state = 'running' AND o.lease_until < ?))`
		args := []any{n, n}
		if len(skip) > 0 {
			due += ` AND o.app NOT IN (` + strings.TrimSuffix(strings.Repeat("?,", len(skip)), ",") + `)`
			for _, a := range skip {
				args = append(args, a)
			}
		}
		due += ` AND NOT EXISTS (SELECT 1 FROM operations p WHERE p.app = o.app AND p.source = o.source
				AND p.employee_id = o.employee_id AND p.id < o.id
				AND ((p.state IN ('pending', 'retrying') AND p.not_before <= ?) OR p.state = 'running'))`
		args = append(args, n)
		var err error
		out, err = claimLeased(ctx, s, tx, opsLeased, due, args, owner, now, lease, limit)
		return err
	})
	return out, err
}

func (s *DB) FinishOp(ctx context.Context, id int64, owner string, at time.Time, r store.OpResult) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		state := r.State
		if state == store.OpWaiting {
			// The task may be done already (a person was quick, or it was
			// made before and reused): then so is the operation.
			var status string
			err := tx.QueryRowContext(ctx, s.rb(`SELECT status FROM tasks WHERE id = ?`), r.Task).Scan(&status)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("store: task %d of operation %d: %w", r.Task, id, err)
			}
			if status == store.TaskDone {
				state = store.OpDone
			}
		}
		ok, err := finishLease(ctx, s, tx, "operations", store.OpRunning, id, owner,
			`state = ?, last_error = ?, not_before = ?, task_id = ?, updated_at = ?`,
			state, r.Error, micros(r.NotBefore), r.Task, micros(at))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("operation %d is no longer leased by %s: %w", id, owner, store.ErrConflict)
		}
		if r.Entry != nil {
			return s.appendAudit(ctx, tx, []audit.Entry{*r.Entry})
		}
		return nil
	})
}

func (s *DB) Ops(ctx context.Context, f store.OpFilter) ([]store.Operation, error) {
	var w filters
	w.eq("app", f.App)
	w.eq("state", f.State)
	w.eq("source", f.Source)
	w.eq("employee_id", f.EmployeeID)
	if f.AfterID > 0 {
		w.add("id > ?", f.AfterID)
	}
	q := `SELECT id, ` + strings.Join(opCols, ",") + ` FROM operations` + w.sql() + ` ORDER BY id LIMIT ?`
	return queryAll(ctx, s.listing(), "store: operations", scanOp, s.rb(q), append(w.args, limitOrAll(f.Limit))...)
}

func (s *DB) OpCounts(ctx context.Context) (map[string]map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT app, state, count(*) FROM operations GROUP BY app, state`)
	if err != nil {
		return nil, fmt.Errorf("store: operation counts: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var app, state string
		var n int
		if err := rows.Scan(&app, &state, &n); err != nil {
			return nil, err
		}
		if out[app] == nil {
			out[app] = map[string]int{}
		}
		out[app][state] = n
	}
	return out, rows.Err()
}

func (s *DB) PutAppState(ctx context.Context, a store.AppState) error {
	return putAppState(ctx, s.db, s, a)
}

// putAppState upserts an app's health row through db (the pool or a
// transaction).
func putAppState(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, s *DB, a store.AppState) error {
	_, err := db.ExecContext(ctx, s.rb(`INSERT INTO app_state (app, failures, quarantined_until, last_error, last_success) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (app) DO UPDATE SET failures = excluded.failures, quarantined_until = excluded.quarantined_until,
		last_error = excluded.last_error, last_success = excluded.last_success`),
		a.App, a.Failures, micros(a.QuarantinedUntil), a.LastError, micros(a.LastSuccess))
	if err != nil {
		return fmt.Errorf("store: app state %s: %w", a.App, err)
	}
	return nil
}

func (s *DB) AppStates(ctx context.Context) ([]store.AppState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT app, failures, quarantined_until, last_error, last_success FROM app_state ORDER BY app`)
	if err != nil {
		return nil, fmt.Errorf("store: app states: %w", err)
	}
	defer rows.Close()
	var out []store.AppState
	for rows.Next() {
		var a store.AppState
		var q, l int64
		if err := rows.Scan(&a.App, &a.Failures, &q, &a.LastError, &l); err != nil {
			return nil, err
		}
		a.QuarantinedUntil, a.LastSuccess = fromMicros(q), fromMicros(l)
		out = append(out, a)
	}
	return out, rows.Err()
}

var findingCols = []string{"kind", "app", "subject", "detail", "team", "status", "first_seen", "last_seen"}

func (s *DB) ReplaceFindings(ctx context.Context, kind, app string, fs []store.Finding, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		open := map[string]int64{}
		rows, err := tx.QueryContext(ctx, s.rb(`SELECT id, subject FROM findings WHERE kind = ? AND app = ? AND status = 'open'`), kind, app)
		if err != nil {
			return fmt.Errorf("store: findings: %w", err)
		}
		for rows.Next() {
			var id int64
			var subj string
			if err := rows.Scan(&id, &subj); err != nil {
				rows.Close()
				return err
			}
			open[subj] = id
		}
		rows.Close()
		var ins [][]any
		seen := map[string]bool{}
		for _, f := range fs {
			if seen[f.Subject] {
				continue
			}
			seen[f.Subject] = true
			if id, ok := open[f.Subject]; ok {
				if _, err := tx.ExecContext(ctx, s.rb(`UPDATE findings SET last_seen = ?, detail = ? WHERE id = ?`), micros(at), f.Detail, id); err != nil {
					return err
				}
				continue
			}
			ins = append(ins, []any{kind, app, f.Subject, f.Detail, f.Team, "open", micros(at), micros(at)})
		}
		for subj, id := range open {
			if !seen[subj] {
				if _, err := tx.ExecContext(ctx, s.rb(`UPDATE findings SET status = 'resolved', last_seen = ? WHERE id = ?`), micros(at), id); err != nil {
					return err
				}
			}
		}
		return s.bulk(ctx, tx, "findings", findingCols, ins, "")
	})
}

func (s *DB) AddFinding(ctx context.Context, f store.Finding) error {
	return s.write(ctx, func(tx *sql.Tx) error { return s.addFinding(ctx, tx, f) })
}

func (t *txn) AddFinding(f store.Finding) error { return t.s.addFinding(t.ctx, t.tx, f) }

func (s *DB) addFinding(ctx context.Context, tx *sql.Tx, f store.Finding) error {
	var id int64
	err := tx.QueryRowContext(ctx, s.rb(`SELECT id FROM findings WHERE kind = ? AND app = ? AND subject = ? AND status = 'open'`), f.Kind, f.App, f.Subject).Scan(&id)
	if err == nil {
		_, err = tx.ExecContext(ctx, s.rb(`UPDATE findings SET last_seen = ?, detail = ? WHERE id = ?`), micros(f.LastSeen), f.Detail, id)
		return err
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return s.bulk(ctx, tx, "findings", findingCols, [][]any{{f.Kind, f.App, f.Subject, f.Detail, f.Team, "open", micros(f.FirstSeen), micros(f.LastSeen)}}, "")
}

func (s *DB) Findings(ctx context.Context, kind, app, status string) ([]store.Finding, error) {
	return s.findings(ctx, kind, app, status, "")
}

// FindingsAbout lists the findings about one subject (of a status, or all
// with "").
func (s *DB) FindingsAbout(ctx context.Context, subject, status string) ([]store.Finding, error) {
	return s.findings(ctx, "", "", status, subject)
}

func (s *DB) findings(ctx context.Context, kind, app, status, subject string) ([]store.Finding, error) {
	var w filters
	w.eq("kind", kind)
	w.eq("app", app)
	w.eq("status", status)
	w.eq("subject", subject)
	q := `SELECT id, ` + strings.Join(findingCols, ",") + ` FROM findings` + w.sql() + ` ORDER BY id`
	return queryAll(ctx, s.listing(), "store: findings", scanFinding, s.rb(q), w.args...)
}

func (s *DB) FindingCounts(ctx context.Context, status string) (map[string]int, error) {
	var w filters
	w.eq("status", status)
	rows, err := s.db.QueryContext(ctx, s.rb(`SELECT app, count(*) FROM findings`+w.sql()+` GROUP BY app`), w.args...)
	if err != nil {
		return nil, fmt.Errorf("store: finding counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var app string
		var n int
		if err := rows.Scan(&app, &n); err != nil {
			return nil, err
		}
		out[app] = n
	}
	return out, rows.Err()
}

func scanFinding(r scanner) (store.Finding, error) {
	var f store.Finding
	var first, last int64
	err := r.Scan(&f.ID, &f.Kind, &f.App, &f.Subject, &f.Detail, &f.Team, &f.Status, &first, &last)
	f.FirstSeen, f.LastSeen = fromMicros(first), fromMicros(last)
	return f, err
}
