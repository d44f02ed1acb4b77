package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
)

var taskCols = []string{"case_id", "source", "person", "team", "title", "detail", "status", "kind", "due", "app",
	"evidence", "completed_by", "completed_at", "created_at"}

func scanTask(r scanner) (store.Task, error) {
	var t store.Task
	var due, done, created int64
	err := r.Scan(&t.ID, &t.Case, &t.Source, &t.Person, &t.Team, &t.Title, &t.Detail, &t.Status, &t.Kind, &due, &t.App,
		&t.Evidence, &t.CompletedBy, &done, &created)
	t.Due, t.CompletedAt, t.CreatedAt = fromMicros(due), fromMicros(done), fromMicros(created)
	return t, err
}

func (s *DB) CreateTask(ctx context.Context, t store.Task, notes ...store.Notification) (store.Task, error) {
	err := s.write(ctx, func(tx *sql.Tx) error {
		q := `INSERT INTO tasks (` + strings.Join(taskCols, ",") + `) VALUES (` + strings.TrimSuffix(strings.Repeat("?,", len(taskCols)), ",") + `) RETURNING id`
		err := tx.QueryRowContext(ctx, s.rb(q), t.Case, t.Source, t.Person, t.Team, t.Title, t.Detail, t.Status, t.Kind,
			micros(t.Due), t.App, t.Evidence, t.CompletedBy, micros(t.CompletedAt), micros(t.CreatedAt)).Scan(&t.ID)
		if err != nil {
			return fmt.Errorf("store: task: %w", err)
		}
		if _, err := s.queueNotifications(ctx, tx, forTask(notes, t), t.CreatedAt); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, []audit.Entry{audit.New(t.CreatedAt, "system", "task.created", t.Source, "", t.Person, nil,
			map[string]any{"task": t.ID, "team": t.Team, "title": t.Title, "app": t.App})})
	})
	return t, err
}

func (s *DB) Tasks(ctx context.Context, f store.TaskFilter) ([]store.Task, error) {
	var w filters
	w.eq("team", f.Team)
	w.eq("person", f.Person)
	w.eq("status", f.Status)
	w.eq("app", f.App)
	if f.Case != 0 {
		w.add("case_id = ?", f.Case)
	}
	q := `SELECT id, ` + strings.Join(taskCols, ",") + ` FROM tasks` + w.sql() + ` ORDER BY id`
	return queryAll(ctx, s.db, "store: tasks", scanTask, s.rb(q), w.args...)
}

// CompleteTask completes a task of a case as completeCaseTask does
// (dependencies, closing the case) and a task made on its own as
// completeTask does. A task's case never changes, so it is read first.
func (s *DB) CompleteTask(ctx context.Context, id int64, evidence, actor string, at time.Time) (store.Task, error) {
	var caseID int64
	err := s.db.QueryRowContext(ctx, s.rb(`SELECT case_id FROM tasks WHERE id = ?`), id).Scan(&caseID)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Task{}, fmt.Errorf("task %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Task{}, fmt.Errorf("store: task %d: %w", id, err)
	}
	if caseID != 0 {
		return s.completeCaseTask(ctx, id, evidence, actor, at)
	}
	return s.completeTask(ctx, id, evidence, actor, at)
}

func (s *DB) completeTask(ctx context.Context, id int64, evidence, actor string, at time.Time) (store.Task, error) {
	var t store.Task
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = scanTask(tx.QueryRowContext(ctx, s.rb(`SELECT id, `+strings.Join(taskCols, ",")+` FROM tasks WHERE id = ?`), id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("task %d: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("store: task %d: %w", id, err)
		}
		if t.Status != store.TaskOpen {
			return fmt.Errorf("task %d is %s, not open: %w", id, t.Status, store.ErrConflict)
		}
		at = at.UTC().Truncate(time.Microsecond)
		t.Status, t.Evidence, t.CompletedBy, t.CompletedAt = store.TaskDone, evidence, actor, at
		if _, err := tx.ExecContext(ctx, s.rb(`UPDATE tasks SET status = ?, evidence = ?, completed_by = ?, completed_at = ? WHERE id = ?`),
			t.Status, evidence, actor, micros(at), id); err != nil {
			return fmt.Errorf("store: task %d: %w", id, err)
		}
		if err := s.appendAudit(ctx, tx, []audit.Entry{audit.New(at, actor, "task.completed", t.Source, "", t.Person, nil,
			map[string]any{"task": t.ID, "team": t.Team, "title": t.Title, "evidence": evidence})}); err != nil {
			return err
		}
		return s.settleTaskOps(ctx, tx, t, actor, at)
	})
	return t, err
}
