package sqlstore

import (
	"context"
	"strings"

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
	return queryAll(ctx, s.listing(), "store: tasks", scanTask, s.rb(q), w.args...)
}
