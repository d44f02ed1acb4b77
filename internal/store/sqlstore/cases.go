package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
)

var caseCols = []string{"kind", "source", "person", "status", "event_id", "effective", "opened_at", "closed_at"}

func scanCase(r scanner) (store.Case, error) {
	var c store.Case
	var eff, opened, closed int64
	err := r.Scan(&c.ID, &c.Kind, &c.Source, &c.Person, &c.Status, &c.EventID, &eff, &opened, &closed)
	c.Effective, c.OpenedAt = fromMicros(eff), fromMicros(opened)
	if closed != 0 {
		t := fromMicros(closed)
		c.ClosedAt = &t
	}
	return c, err
}

var stepCols = []string{"step", "action", "depends_on", "evidence_kind", "assignee", "escalated_to", "escalated_at", "reminded_at"}

var caseTaskSelect = `SELECT id, ` + strings.Join(taskCols, ",") + `, ` + strings.Join(stepCols, ",") + ` FROM tasks`

func scanCaseTask(r scanner) (store.CaseTask, error) {
	var t store.CaseTask
	var due, done, created, esc, rem int64
	var deps string
	err := r.Scan(&t.ID, &t.Case, &t.Source, &t.Person, &t.Team, &t.Title, &t.Detail, &t.Status, &t.Kind, &due, &t.App,
		&t.Evidence, &t.CompletedBy, &done, &created,
		&t.Step, &t.Action, &deps, &t.EvidenceKind, &t.Assignee, &t.EscalatedTo, &esc, &rem)
	t.Due, t.CompletedAt, t.CreatedAt, t.EscalatedAt, t.RemindedAt = fromMicros(due), fromMicros(done), fromMicros(created), fromMicros(esc), fromMicros(rem)
	if deps != "" {
		t.DependsOn = strings.Split(deps, ",")
	}
	return t, err
}

func (s *DB) PendingCaseEvents(ctx context.Context, limit int) ([]store.Event, error) {
	if limit <= 0 {
		limit = 500
	}
	return queryAll(ctx, s.db, "store: events without a case", scanEvent, s.rb(eventSelect+`
		WHERE e.cased = 0 AND e.state IN ('applied', 'scheduled') ORDER BY e.id LIMIT ?`), limit)
}

func (s *DB) OpenCase(ctx context.Context, c store.Case, tasks []store.CaseTask, actor string, notes ...store.Notification) (store.Case, []store.CaseTask, error) {
	out := slices.Clone(tasks)
	err := s.write(ctx, func(tx *sql.Tx) error {
		if c.EventID > 0 {
			var cased int
			err := tx.QueryRowContext(ctx, s.rb(`SELECT cased FROM events WHERE id = ?`), c.EventID).Scan(&cased)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("event %d: %w", c.EventID, store.ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("store: event %d: %w", c.EventID, err)
			}
			if cased != 0 {
				return fmt.Errorf("event %d already has its case: %w", c.EventID, store.ErrConflict)
			}
			if _, err := tx.ExecContext(ctx, s.rb(`UPDATE events SET cased = 1 WHERE id = ?`), c.EventID); err != nil {
				return fmt.Errorf("store: event %d: %w", c.EventID, err)
			}
		}
		c.OpenedAt = c.OpenedAt.UTC().Truncate(time.Microsecond)
		c.Status, c.ClosedAt = store.CaseOpen, nil
		q := `INSERT INTO cases (` + strings.Join(caseCols, ",") + `) VALUES (?,?,?,?,?,?,?,?) RETURNING id`
		if err := tx.QueryRowContext(ctx, s.rb(q), c.Kind, c.Source, c.Person, c.Status, c.EventID, micros(c.Effective),
			micros(c.OpenedAt), 0).Scan(&c.ID); err != nil {
			return fmt.Errorf("store: case: %w", err)
		}
		entries := []audit.Entry{audit.New(c.OpenedAt, actor, "case.opened", c.Source, "", c.Person, nil,
			map[string]any{"case": c.ID, "kind": c.Kind, "event": c.EventID, "tasks": len(out)})}
		cols := append(append([]string{}, taskCols...), stepCols...)
		q = `INSERT INTO tasks (` + strings.Join(cols, ",") + `) VALUES (` + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + `) RETURNING id`
		ins, err := tx.PrepareContext(ctx, s.rb(q))
		if err != nil {
			return fmt.Errorf("store: tasks: %w", err)
		}
		defer ins.Close()
		for i := range out {
			t := &out[i]
			t.Case, t.Source, t.Person = c.ID, c.Source, c.Person
			if t.Status == "" {
				t.Status = store.TaskOpen
			}
			if t.CreatedAt.IsZero() {
				t.CreatedAt = c.OpenedAt
			}
			t.CreatedAt = t.CreatedAt.UTC().Truncate(time.Microsecond)
			t.Due = t.Due.UTC().Truncate(time.Microsecond)
			if err := ins.QueryRowContext(ctx, t.Case, t.Source, t.Person, t.Team, t.Title, t.Detail, t.Status, t.Kind,
				micros(t.Due), t.App, t.Evidence, t.CompletedBy, micros(t.CompletedAt), micros(t.CreatedAt),
				t.Step, t.Action, strings.Join(t.DependsOn, ","), t.EvidenceKind, t.Assignee, t.EscalatedTo, micros(t.EscalatedAt),
				micros(t.RemindedAt)).Scan(&t.ID); err != nil {
				return fmt.Errorf("store: task %q of case %d: %w", t.Title, c.ID, err)
			}
			entries = append(entries, audit.New(c.OpenedAt, actor, "task.created", t.Source, "", t.Person, nil,
				map[string]any{"task": t.ID, "case": c.ID, "step": t.Step, "team": t.Team, "title": t.Title, "kind": t.Kind,
					"due": t.Due, "app": t.App, "depends_on": t.DependsOn, "evidence_kind": t.EvidenceKind}))
		}
		if err := s.appendAudit(ctx, tx, entries); err != nil {
			return err
		}
		if len(notes) > 0 {
			notes = slices.Clone(notes)
			for i := range notes {
				n := &notes[i]
				n.Case = c.ID
				if n.Step == "" {
					continue
				}
				for _, t := range out {
					if t.Step == n.Step {
						n.Task = t.ID
						break
					}
				}
				if n.Task == 0 {
					return fmt.Errorf("store: notification %q of case %d: no task of step %q", n.Subject, c.ID, n.Step)
				}
			}
			if _, err := s.queueNotifications(ctx, tx, notes, c.OpenedAt); err != nil {
				return err
			}
		}
		if len(out) == 0 {
			// A playbook with no applicable step: nothing to do, closed at once.
			return s.closeCaseIfDone(ctx, tx, c.ID, actor, c.OpenedAt, &c)
		}
		return nil
	})
	if err != nil {
		return store.Case{}, nil, err
	}
	return c, out, nil
}

// closeCaseIfDone closes an open case with no open task left (audited);
// c, when given, is updated.
func (s *DB) closeCaseIfDone(ctx context.Context, tx *sql.Tx, id int64, actor string, at time.Time, c *store.Case) error {
	if id == 0 {
		return nil
	}
	var open int
	if err := tx.QueryRowContext(ctx, s.rb(`SELECT count(*) FROM tasks WHERE case_id = ? AND status = ?`), id, store.TaskOpen).Scan(&open); err != nil {
		return fmt.Errorf("store: case %d: %w", id, err)
	}
	if open > 0 {
		return nil
	}
	r, err := tx.ExecContext(ctx, s.rb(`UPDATE cases SET status = ?, closed_at = ? WHERE id = ? AND status = ?`), store.CaseClosed, micros(at), id, store.CaseOpen)
	if err != nil {
		return fmt.Errorf("store: close case %d: %w", id, err)
	}
	if n, err := r.RowsAffected(); err != nil {
		return fmt.Errorf("store: close case %d: %w", id, err)
	} else if n == 0 {
		return nil
	}
	cs, err := scanCase(tx.QueryRowContext(ctx, s.rb(`SELECT id, `+strings.Join(caseCols, ",")+` FROM cases WHERE id = ?`), id))
	if err != nil {
		return fmt.Errorf("store: case %d: %w", id, err)
	}
	if c != nil {
		*c = cs
	}
	return s.appendAudit(ctx, tx, []audit.Entry{audit.New(at, actor, "case.closed", cs.Source, "", cs.Person, nil,
		map[string]any{"case": cs.ID, "kind": cs.Kind})})
}

func (s *DB) SkipCaseEvents(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(ids); start += 500 {
			chunk := ids[start:min(start+500, len(ids))]
			args := make([]any, len(chunk))
			for i, id := range chunk {
				args[i] = id
			}
			q := `UPDATE events SET cased = 1 WHERE id IN (` + strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",") + `)`
			if _, err := tx.ExecContext(ctx, s.rb(q), args...); err != nil {
				return fmt.Errorf("store: skip events: %w", err)
			}
		}
		return nil
	})
}

func (s *DB) Case(ctx context.Context, id int64) (store.Case, error) {
	c, err := scanCase(s.db.QueryRowContext(ctx, s.rb(`SELECT id, `+strings.Join(caseCols, ",")+` FROM cases WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("case %d: %w", id, store.ErrNotFound)
	}
	return c, err
}

func (s *DB) Cases(ctx context.Context, f store.CaseFilter) ([]store.Case, error) {
	var w filters
	w.eq("kind", f.Kind)
	w.eq("person", f.Person)
	w.eq("status", f.Status)
	q := `SELECT id, ` + strings.Join(caseCols, ",") + ` FROM cases` + w.sql() + ` ORDER BY id LIMIT ?`
	return queryAll(ctx, s.db, "store: cases", scanCase, s.rb(q), append(w.args, limitOrAll(f.Limit))...)
}

func (s *DB) CaseTask(ctx context.Context, id int64) (store.CaseTask, error) {
	ts, err := s.caseTasks(ctx, s.db, `WHERE id = ?`, []any{id})
	if err != nil {
		return store.CaseTask{}, err
	}
	if len(ts) == 0 {
		return store.CaseTask{}, fmt.Errorf("task %d: %w", id, store.ErrNotFound)
	}
	return ts[0], nil
}

func (s *DB) CaseTasks(ctx context.Context, f store.CaseTaskFilter) ([]store.CaseTask, error) {
	var w filters
	w.eq("team", f.Team)
	w.eq("person", f.Person)
	w.eq("status", f.Status)
	w.eq("kind", f.Kind)
	w.eq("assignee", f.Assignee)
	if f.Case != 0 {
		w.add("case_id = ?", f.Case)
	}
	if !f.DueBefore.IsZero() {
		w.add("due > 0 AND due < ?", micros(f.DueBefore))
	}
	if f.Unescalated {
		w.add("escalated_at = 0")
	}
	if f.Unreminded {
		w.add("reminded_at = 0")
	}
	return s.caseTasks(ctx, s.db, w.sql()+` ORDER BY id LIMIT ?`, append(w.args, limitOrAll(f.Limit)))
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// caseTasks reads tasks and works out which open ones are blocked.
func (s *DB) caseTasks(ctx context.Context, db querier, where string, args []any) ([]store.CaseTask, error) {
	rows, err := db.QueryContext(ctx, s.rb(caseTaskSelect+" "+where), args...)
	if err != nil {
		return nil, fmt.Errorf("store: tasks: %w", err)
	}
	out := []store.CaseTask{}
	for rows.Next() {
		t, err := scanCaseTask(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	openSteps := map[int64]map[string]bool{} // case → steps with an open task
	for i := range out {
		t := &out[i]
		if t.Status != store.TaskOpen || len(t.DependsOn) == 0 || t.Case == 0 {
			continue
		}
		steps, ok := openSteps[t.Case]
		if !ok {
			if steps, err = s.openSteps(ctx, db, t.Case); err != nil {
				return nil, err
			}
			openSteps[t.Case] = steps
		}
		for _, d := range t.DependsOn {
			t.Blocked = t.Blocked || steps[d]
		}
	}
	return out, nil
}

// openSteps are the steps of a case that still have an open task.
func (s *DB) openSteps(ctx context.Context, db querier, caseID int64) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, s.rb(`SELECT DISTINCT step FROM tasks WHERE case_id = ? AND status = ?`), caseID, store.TaskOpen)
	if err != nil {
		return nil, fmt.Errorf("store: tasks of case %d: %w", caseID, err)
	}
	defer rows.Close()
	steps := map[string]bool{}
	for rows.Next() {
		var st string
		if err := rows.Scan(&st); err != nil {
			return nil, err
		}
		steps[st] = true
	}
	return steps, rows.Err()
}

// lockedTask reads one task inside a write transaction.
func (s *DB) lockedTask(ctx context.Context, tx *sql.Tx, id int64) (store.CaseTask, error) {
	ts, err := s.caseTasks(ctx, tx, `WHERE id = ?`, []any{id})
	if err != nil {
		return store.CaseTask{}, err
	}
	if len(ts) == 0 {
		return store.CaseTask{}, fmt.Errorf("task %d: %w", id, store.ErrNotFound)
	}
	if ts[0].Status != store.TaskOpen {
		return ts[0], fmt.Errorf("task %d is %s, not open: %w", id, ts[0].Status, store.ErrConflict)
	}
	return ts[0], nil
}

func (s *DB) completeCaseTask(ctx context.Context, id int64, evidence, actor string, at time.Time) (store.CaseTask, error) {
	var t store.CaseTask
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = s.lockedTask(ctx, tx, id); err != nil {
			return err
		}
		if t.Blocked {
			return fmt.Errorf("task %d waits for step(s) %s of case %d: %w", id, strings.Join(t.DependsOn, ", "), t.Case, store.ErrConflict)
		}
		at = at.UTC().Truncate(time.Microsecond)
		t.Status, t.Evidence, t.CompletedBy, t.CompletedAt = store.TaskDone, evidence, actor, at
		if _, err := tx.ExecContext(ctx, s.rb(`UPDATE tasks SET status = ?, evidence = ?, completed_by = ?, completed_at = ? WHERE id = ?`),
			t.Status, evidence, actor, micros(at), id); err != nil {
			return fmt.Errorf("store: task %d: %w", id, err)
		}
		if err := s.appendAudit(ctx, tx, []audit.Entry{audit.New(at, actor, "task.completed", t.Source, "", t.Person, nil,
			map[string]any{"task": t.ID, "case": t.Case, "step": t.Step, "team": t.Team, "title": t.Title,
				"evidence_kind": t.EvidenceKind, "evidence": evidence})}); err != nil {
			return err
		}
		if err := s.settleTaskOps(ctx, tx, t, actor, at); err != nil {
			return err
		}
		return s.closeCaseIfDone(ctx, tx, t.Case, actor, at, nil)
	})
	return t, err
}

func (s *DB) ReassignTask(ctx context.Context, id int64, team, assignee, actor string, at time.Time, notes ...store.Notification) (store.CaseTask, error) {
	var t store.CaseTask
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = s.lockedTask(ctx, tx, id); err != nil {
			return err
		}
		before := map[string]any{"team": t.Team, "assignee": t.Assignee}
		t.Team, t.Assignee = team, assignee
		if _, err := tx.ExecContext(ctx, s.rb(`UPDATE tasks SET team = ?, assignee = ? WHERE id = ?`), team, assignee, id); err != nil {
			return fmt.Errorf("store: task %d: %w", id, err)
		}
		if err := s.appendAudit(ctx, tx, []audit.Entry{audit.New(at, actor, "task.reassigned", t.Source, "", t.Person, before,
			map[string]any{"task": t.ID, "case": t.Case, "team": team, "assignee": assignee})}); err != nil {
			return err
		}
		_, err = s.queueNotifications(ctx, tx, forTask(notes, t), at)
		return err
	})
	return t, err
}

func (s *DB) EscalateTask(ctx context.Context, id int64, to, actor string, at time.Time, notes ...store.Notification) (store.CaseTask, error) {
	var t store.CaseTask
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = s.lockedTask(ctx, tx, id); err != nil {
			return err
		}
		if !t.EscalatedAt.IsZero() {
			return fmt.Errorf("task %d was escalated to %s already: %w", id, t.EscalatedTo, store.ErrConflict)
		}
		at = at.UTC().Truncate(time.Microsecond)
		t.EscalatedTo, t.EscalatedAt = to, at
		if _, err := tx.ExecContext(ctx, s.rb(`UPDATE tasks SET escalated_to = ?, escalated_at = ? WHERE id = ?`), to, micros(at), id); err != nil {
			return fmt.Errorf("store: task %d: %w", id, err)
		}
		if err := s.appendAudit(ctx, tx, []audit.Entry{audit.New(at, actor, "task.escalated", t.Source, "", t.Person, nil,
			map[string]any{"task": t.ID, "case": t.Case, "team": t.Team, "assignee": t.Assignee, "title": t.Title,
				"due": t.Due, "escalated_to": to})}); err != nil {
			return err
		}
		_, err = s.queueNotifications(ctx, tx, forTask(notes, t), at)
		return err
	})
	return t, err
}

func (s *DB) CloseCancelledCases(ctx context.Context, actor string, at time.Time) ([]store.Case, error) {
	var out []store.Case
	err := s.write(ctx, func(tx *sql.Tx) error {
		ids, err := queryAll(ctx, tx, "store: cancelled cases", func(r scanner) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		}, s.rb(`SELECT c.id FROM cases c JOIN events e ON e.id = c.event_id
			WHERE c.status = ? AND c.event_id > 0 AND e.state IN ('cancelled', 'discarded') ORDER BY c.id`), store.CaseOpen)
		if err != nil {
			return err
		}
		at = at.UTC().Truncate(time.Microsecond)
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, s.rb(`UPDATE tasks SET status = ?, completed_by = ?, completed_at = ?, evidence = ? WHERE case_id = ? AND status = ?`),
				store.TaskSkipped, actor, micros(at), "event cancelled", id, store.TaskOpen); err != nil {
				return fmt.Errorf("store: tasks of case %d: %w", id, err)
			}
			if err := s.appendAudit(ctx, tx, []audit.Entry{audit.New(at, actor, "case.cancelled", "", "", "", nil,
				map[string]any{"case": id, "reason": "its lifecycle event was cancelled"})}); err != nil {
				return err
			}
			var c store.Case
			if err := s.closeCaseIfDone(ctx, tx, id, actor, at, &c); err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

func (s *DB) EventProgress(ctx context.Context, ids []int64) (map[int64]store.EventProgress, error) {
	out := make(map[int64]store.EventProgress, len(ids))
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.db.QueryContext(ctx, s.rb(`SELECT id, state, provisioned FROM events WHERE id IN (`+
			strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",")+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("store: events: %w", err)
		}
		for rows.Next() {
			var id int64
			var p store.EventProgress
			var prov int
			if err := rows.Scan(&id, &p.State, &prov); err != nil {
				rows.Close()
				return nil, err
			}
			p.Provisioned = prov != 0
			out[id] = p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
