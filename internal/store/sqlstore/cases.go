package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

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
	return queryAll(ctx, s.listing(), "store: events without a case", scanEvent, s.rb(eventSelect+`
		WHERE e.cased = 0 AND e.state IN ('applied', 'scheduled') ORDER BY e.id LIMIT ?`), limit)
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
	return queryAll(ctx, s.listing(), "store: cases", scanCase, s.rb(q), append(w.args, limitOrAll(f.Limit))...)
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
	w.eq("escalated_to", f.EscalatedTo)
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
