package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
)

// InTx runs fn in one write transaction (see write): the public method
// opens the transaction, the row operations of txn take it.
func (s *DB) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		return fn(&txn{s: s, ctx: ctx, tx: tx})
	})
}

// txn is a store.Tx over one write transaction of s. Its audit appends
// use the transaction: they never go through write again.
type txn struct {
	s   *DB
	ctx context.Context
	tx  *sql.Tx
}

func (t *txn) AppendAudit(entries ...audit.Entry) error {
	return t.s.appendAudit(t.ctx, t.tx, entries)
}

func (t *txn) QueueNotifications(notes []store.Notification, at time.Time) ([]store.Notification, error) {
	return t.s.queueNotifications(t.ctx, t.tx, notes, at)
}

func (t *txn) MarkEventCased(id int64) error {
	var cased int
	err := t.tx.QueryRowContext(t.ctx, t.s.rb(`SELECT cased FROM events WHERE id = ?`), id).Scan(&cased)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("event %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: event %d: %w", id, err)
	}
	if cased != 0 {
		return fmt.Errorf("event %d already has its case: %w", id, store.ErrConflict)
	}
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE events SET cased = 1 WHERE id = ?`), id); err != nil {
		return fmt.Errorf("store: event %d: %w", id, err)
	}
	return nil
}

func (t *txn) InsertCase(c store.Case) (int64, error) {
	var closed int64
	if c.ClosedAt != nil {
		closed = micros(*c.ClosedAt)
	}
	q := `INSERT INTO cases (` + strings.Join(caseCols, ",") + `) VALUES (?,?,?,?,?,?,?,?) RETURNING id`
	var id int64
	if err := t.tx.QueryRowContext(t.ctx, t.s.rb(q), c.Kind, c.Source, c.Person, c.Status, c.EventID, micros(c.Effective),
		micros(c.OpenedAt), closed).Scan(&id); err != nil {
		return 0, fmt.Errorf("store: case: %w", err)
	}
	return id, nil
}

func (t *txn) Case(id int64) (store.Case, error) {
	c, err := scanCase(t.tx.QueryRowContext(t.ctx, t.s.rb(`SELECT id, `+strings.Join(caseCols, ",")+` FROM cases WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("case %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: case %d: %w", id, err)
	}
	return c, nil
}

func (t *txn) CloseCase(id int64, at time.Time) (bool, error) {
	r, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE cases SET status = ?, closed_at = ? WHERE id = ? AND status = ?`),
		store.CaseClosed, micros(at), id, store.CaseOpen)
	if err != nil {
		return false, fmt.Errorf("store: close case %d: %w", id, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: close case %d: %w", id, err)
	}
	return n > 0, nil
}

func (t *txn) OpenCasesOfCancelledEvents() ([]int64, error) {
	return queryAll(t.ctx, t.tx, "store: cancelled cases", func(r scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, t.s.rb(`SELECT c.id FROM cases c JOIN events e ON e.id = c.event_id
			WHERE c.status = ? AND c.event_id > 0 AND e.state IN ('cancelled', 'discarded') ORDER BY c.id`), store.CaseOpen)
}

func (t *txn) InsertTask(k store.CaseTask) (int64, error) {
	cols := append(append([]string{}, taskCols...), stepCols...)
	q := `INSERT INTO tasks (` + strings.Join(cols, ",") + `) VALUES (` + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + `) RETURNING id`
	var id int64
	if err := t.tx.QueryRowContext(t.ctx, t.s.rb(q), k.Case, k.Source, k.Person, k.Team, k.Title, k.Detail, k.Status, k.Kind,
		micros(k.Due), k.App, k.Evidence, k.CompletedBy, micros(k.CompletedAt), micros(k.CreatedAt),
		k.Step, k.Action, strings.Join(k.DependsOn, ","), k.EvidenceKind, k.Assignee, k.EscalatedTo, micros(k.EscalatedAt),
		micros(k.RemindedAt)).Scan(&id); err != nil {
		return 0, fmt.Errorf("store: task %q: %w", k.Title, err)
	}
	return id, nil
}

func (t *txn) Task(id int64) (store.CaseTask, error) {
	k, err := scanCaseTask(t.tx.QueryRowContext(t.ctx, t.s.rb(caseTaskSelect+` WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return k, fmt.Errorf("task %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return k, fmt.Errorf("store: task %d: %w", id, err)
	}
	return k, nil
}

func (t *txn) UpdateTask(k store.CaseTask) error {
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE tasks SET team = ?, assignee = ?, status = ?, evidence = ?, completed_by = ?,
		completed_at = ?, escalated_to = ?, escalated_at = ?, reminded_at = ? WHERE id = ?`),
		k.Team, k.Assignee, k.Status, k.Evidence, k.CompletedBy, micros(k.CompletedAt), k.EscalatedTo, micros(k.EscalatedAt),
		micros(k.RemindedAt), k.ID); err != nil {
		return fmt.Errorf("store: task %d: %w", k.ID, err)
	}
	return nil
}

func (t *txn) OpenSteps(caseID int64) (map[string]bool, error) {
	return t.s.openSteps(t.ctx, t.tx, caseID)
}

func (t *txn) CountOpenTasks(caseID int64) (int, error) {
	var open int
	if err := t.tx.QueryRowContext(t.ctx, t.s.rb(`SELECT count(*) FROM tasks WHERE case_id = ? AND status = ?`), caseID, store.TaskOpen).Scan(&open); err != nil {
		return 0, fmt.Errorf("store: case %d: %w", caseID, err)
	}
	return open, nil
}

func (t *txn) SkipOpenTasks(caseID int64, actor string, at time.Time, evidence string) error {
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE tasks SET status = ?, completed_by = ?, completed_at = ?, evidence = ? WHERE case_id = ? AND status = ?`),
		store.TaskSkipped, actor, micros(at), evidence, caseID, store.TaskOpen); err != nil {
		return fmt.Errorf("store: tasks of case %d: %w", caseID, err)
	}
	return nil
}

func (t *txn) WaitingOps(taskID int64) ([]store.Operation, error) {
	return queryAll(t.ctx, t.tx, "store: operations of a task", scanOp,
		t.s.rb(`SELECT id, `+strings.Join(opCols, ",")+` FROM operations WHERE task_id = ? AND state = ? ORDER BY id`), taskID, store.OpWaiting)
}

func (t *txn) SetOpState(id int64, state string, at time.Time) error {
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE operations SET state = ?, updated_at = ? WHERE id = ?`), state, micros(at), id); err != nil {
		return fmt.Errorf("store: operation %d: %w", id, err)
	}
	return nil
}

func (t *txn) Operation(id int64) (store.Operation, error) {
	o, err := scanOp(t.tx.QueryRowContext(t.ctx, t.s.rb(`SELECT id, `+strings.Join(opCols, ",")+` FROM operations WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("operation %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("store: operation %d: %w", id, err)
	}
	return o, nil
}

func (t *txn) RequeueOp(id int64, notBefore, at time.Time) error {
	res, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE operations SET state = ?, attempts = 0, not_before = ?, lease_owner = '', lease_until = 0, updated_at = ? WHERE id = ?`),
		store.OpPending, micros(notBefore), micros(at), id)
	if err != nil {
		return fmt.Errorf("store: operation %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("operation %d: %w", id, store.ErrNotFound)
	}
	return nil
}

func (t *txn) AppState(app string) (store.AppState, error) {
	a := store.AppState{App: app}
	var q, l int64
	err := t.tx.QueryRowContext(t.ctx, t.s.rb(`SELECT failures, quarantined_until, last_error, last_success FROM app_state WHERE app = ?`), app).
		Scan(&a.Failures, &q, &a.LastError, &l)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("app state %q: %w", app, store.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("store: app state %s: %w", app, err)
	}
	a.QuarantinedUntil, a.LastSuccess = fromMicros(q), fromMicros(l)
	return a, nil
}

func (t *txn) PutAppState(a store.AppState) error {
	return putAppState(t.ctx, t.tx, t.s, a)
}

func (t *txn) ResolveFinding(kind, app, subject string, at time.Time) (bool, error) {
	res, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE findings SET status = 'resolved', last_seen = ? WHERE kind = ? AND app = ? AND subject = ? AND status = 'open'`),
		micros(at), kind, app, subject)
	if err != nil {
		return false, fmt.Errorf("store: finding %s %s %s: %w", kind, app, subject, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (t *txn) InsertRequest(r *store.Request) error {
	normalise(r)
	q := `INSERT INTO requests (` + strings.Join(requestCols, ",") + `) VALUES (` +
		strings.TrimSuffix(strings.Repeat("?,", len(requestCols)), ",") + `) RETURNING id`
	if err := t.tx.QueryRowContext(t.ctx, t.s.rb(q), requestArgs(r)...).Scan(&r.ID); err != nil {
		return fmt.Errorf("store: request: %w", err)
	}
	return nil
}

func (t *txn) Request(id int64) (store.Request, error) {
	r, err := scanRequest(t.tx.QueryRowContext(t.ctx, t.s.rb(requestSelect+` WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("request %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("store: request %d: %w", id, err)
	}
	return r, nil
}

func (t *txn) UpdateRequest(r *store.Request) error {
	normalise(r)
	args := requestArgs(r)[8:] // state onwards
	args = append(args, r.ID)
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE requests SET state = ?, chain = ?, step = ?, approvals = ?, reason = ?,
			decided_by = ?, created_at = ?, decided_at = ?, expires_at = ?, provisioned = ?, step_since = ?, due_at = ?,
			reminded_at = ?, escalated_to = ?, escalated_at = ?, review_item = ? WHERE id = ?`), args...); err != nil {
		return fmt.Errorf("store: request %d: %w", r.ID, err)
	}
	return nil
}

func (t *txn) ApprovedRequestsExpiringBy(now time.Time) ([]store.Request, error) {
	return queryAll(t.ctx, t.tx, "store: due requests", scanRequest,
		t.s.rb(requestSelect+` WHERE state = ? AND expires_at > 0 AND expires_at <= ? ORDER BY id`), store.RequestApproved, micros(now))
}

func (t *txn) SetAway(employeeID string, until time.Time, actor string, at time.Time) error {
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`DELETE FROM away WHERE employee_id = ?`), employeeID); err != nil {
		return fmt.Errorf("store: away %s: %w", employeeID, err)
	}
	if until.IsZero() {
		return nil
	}
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`INSERT INTO away (employee_id, until_at, set_by, set_at) VALUES (?, ?, ?, ?)`),
		employeeID, micros(until), actor, micros(at)); err != nil {
		return fmt.Errorf("store: away %s: %w", employeeID, err)
	}
	return nil
}

func (t *txn) LiveTokenExists(name string) (bool, error) {
	var n int
	if err := t.tx.QueryRowContext(t.ctx, t.s.rb(`SELECT count(*) FROM tokens WHERE name = ? AND revoked_at = 0`), name).Scan(&n); err != nil {
		return false, fmt.Errorf("store: tokens: %w", err)
	}
	return n > 0, nil
}

func (t *txn) InsertToken(k *store.Token) error {
	err := t.tx.QueryRowContext(t.ctx, t.s.rb(`INSERT INTO tokens (name, scope, person, roles, hash, created_at, last_used, revoked_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0) RETURNING id`),
		k.Name, k.Scope, k.Person, strings.Join(k.Roles, ","), k.Hash, micros(k.CreatedAt)).Scan(&k.ID)
	if err != nil {
		return fmt.Errorf("store: token %q: %w", k.Name, err)
	}
	return nil
}

func (t *txn) RevokeTokenRow(name string, at time.Time) (bool, error) {
	r, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at = 0`), micros(at), name)
	if err != nil {
		return false, fmt.Errorf("store: token %q: %w", name, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: token %q: %w", name, err)
	}
	return n > 0, nil
}

func (t *txn) FinishNotificationRow(id int64, owner string, at time.Time, r store.NotificationResult) (bool, error) {
	var sent int64
	if r.State == store.NotifySent {
		sent = micros(at)
	}
	return finishLease(t.ctx, t.s, t.tx, "notifications", store.NotifySending, id, owner,
		`state = ?, last_error = ?, not_before = ?, updated_at = ?, sent_at = ?`,
		r.State, r.Error, micros(r.NotBefore), micros(at), sent)
}

func (t *txn) Notification(id int64) (store.Notification, error) {
	n, err := scanNotification(t.tx.QueryRowContext(t.ctx, t.s.rb(notificationSelect+` WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return n, fmt.Errorf("notification %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return n, fmt.Errorf("store: notification %d: %w", id, err)
	}
	return n, nil
}

func (t *txn) DueEvents(now time.Time) ([]store.Event, error) {
	return queryAll(t.ctx, t.tx, "store: due events", scanEvent,
		t.s.rb(eventSelect+` WHERE e.state = 'scheduled' AND e.effective_at <= ? ORDER BY e.effective_at, e.id`), micros(now))
}

func (t *txn) Person(source, employeeID string) (store.Person, error) {
	p, err := scanPerson(t.s.txQueryRow(t.ctx, t.tx, t.s.rb(`SELECT `+strings.Join(personCols, ",")+` FROM persons WHERE source = ? AND employee_id = ?`),
		source, employeeID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("person %s of %q: %w", employeeID, source, store.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("store: person %s: %w", employeeID, err)
	}
	return p, nil
}

func (t *txn) SetPersonStatus(source, employeeID, status string, at time.Time) error {
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE persons SET status = ?, updated_at = ? WHERE source = ? AND employee_id = ?`),
		status, micros(at), source, employeeID); err != nil {
		return fmt.Errorf("store: person %s: %w", employeeID, err)
	}
	return t.s.bumpPersons(t.ctx, t.tx)
}

func (t *txn) MarkEventApplied(id int64, at time.Time) error {
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE events SET state = 'applied', applied_at = ?, provisioned = 0 WHERE id = ?`), micros(at), id); err != nil {
		return fmt.Errorf("store: event %d: %w", id, err)
	}
	return nil
}

func (t *txn) BumpSourceSerial(source string) error {
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE sources SET serial = serial + 1 WHERE name = ?`), source); err != nil {
		return fmt.Errorf("store: source %q: %w", source, err)
	}
	return nil
}

func (t *txn) Import(id string) (store.Import, error) {
	i, err := scanImport(t.tx.QueryRowContext(t.ctx, t.s.rb(`SELECT `+strings.Join(importCols[:len(importCols)-1], ",")+`, '' FROM imports WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return i, fmt.Errorf("import %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return i, fmt.Errorf("store: import %s: %w", id, err)
	}
	return i, nil
}

func (t *txn) HeldChanges(id string) ([]store.Person, []store.Event, error) {
	var payload string
	err := t.tx.QueryRowContext(t.ctx, t.s.rb(`SELECT payload FROM imports WHERE id = ?`), id).Scan(&payload)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("import %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: import %s: %w", id, err)
	}
	if payload == "" {
		return nil, nil, nil
	}
	var p heldPayload
	if err := json.Unmarshal([]byte(payload), &p); err != nil {
		return nil, nil, fmt.Errorf("store: import %s payload: %w", id, err)
	}
	return p.Persons, p.Events, nil
}

func (t *txn) PersonVersion(source, employeeID string) (string, time.Time, error) {
	var status string
	var updated int64
	err := t.tx.QueryRowContext(t.ctx, t.s.rb(`SELECT status, updated_at FROM persons WHERE source = ? AND employee_id = ?`),
		source, employeeID).Scan(&status, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, fmt.Errorf("person %s of %q: %w", employeeID, source, store.ErrNotFound)
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store: person %s: %w", employeeID, err)
	}
	return status, fromMicros(updated), nil
}

func (t *txn) SetHeldImport(source, importID string) error {
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE sources SET held_import = ? WHERE name = ?`), importID, source); err != nil {
		return fmt.Errorf("store: source %q: %w", source, err)
	}
	return nil
}

func (t *txn) SetImportDecision(imp store.Import) error {
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE imports SET status = ?, decided_by = ?, decided_at = ?, payload = '' WHERE id = ?`),
		imp.Status, imp.DecidedBy, micros(imp.DecidedAt), imp.ID); err != nil {
		return fmt.Errorf("store: import %s: %w", imp.ID, err)
	}
	return nil
}

func (t *txn) RevokePersonTokens(person string, at time.Time) ([]string, error) {
	rows, err := t.tx.QueryContext(t.ctx, t.s.rb(`UPDATE tokens SET revoked_at = ? WHERE person = ? AND revoked_at = 0 RETURNING name`), micros(at), person)
	if err != nil {
		return nil, fmt.Errorf("store: tokens of %s: %w", person, err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}
