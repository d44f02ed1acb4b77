package workflow

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/task"
)

// The rules of cases and tasks: what opening a case writes, when a task
// may be completed (its dependencies), when a case closes, and the audit
// wording of each. Each runs in one transaction of the store.

// OpenCase writes a case, its tasks, their audit entries and the
// notifications it causes (notes: their Case is set, and a note with a
// Step is tied to the case's task of that step) in one transaction, and
// marks its event (c.EventID, if any) handled. An event already handled
// fails with store.ErrConflict and writes nothing, so each event opens at
// most one case whatever the number of processes. A case without tasks
// is closed at once.
func OpenCase(ctx context.Context, st store.Transactor, c store.Case, tasks []store.CaseTask, actor string, notes ...store.Notification) (store.Case, []store.CaseTask, error) {
	out := slices.Clone(tasks)
	err := st.InTx(ctx, func(tx store.Tx) error {
		if c.EventID > 0 {
			if err := tx.MarkEventCased(c.EventID); err != nil {
				return err
			}
		}
		c.OpenedAt = c.OpenedAt.UTC().Truncate(time.Microsecond)
		c.Status, c.ClosedAt = store.CaseOpen, nil
		var err error
		if c.ID, err = tx.InsertCase(c); err != nil {
			return err
		}
		entries := []audit.Entry{audit.New(c.OpenedAt, actor, "case.opened", c.Source, "", c.Person, nil,
			map[string]any{"case": c.ID, "kind": c.Kind, "event": c.EventID, "tasks": len(out)})}
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
			if t.ID, err = tx.InsertTask(*t); err != nil {
				return fmt.Errorf("case %d: %w", c.ID, err)
			}
			entries = append(entries, audit.New(c.OpenedAt, actor, "task.created", t.Source, "", t.Person, nil,
				map[string]any{"task": t.ID, "case": c.ID, "step": t.Step, "team": t.Team, "title": t.Title, "kind": t.Kind,
					"due": t.Due, "app": t.App, "depends_on": t.DependsOn, "evidence_kind": t.EvidenceKind}))
		}
		if err := tx.AppendAudit(entries...); err != nil {
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
			if _, err := tx.QueueNotifications(notes, c.OpenedAt); err != nil {
				return err
			}
		}
		if len(out) == 0 {
			// A playbook with no applicable step: nothing to do, closed at once.
			return task.CloseCaseIfDone(tx, c.ID, actor, c.OpenedAt, &c)
		}
		return nil
	})
	if err != nil {
		return store.Case{}, nil, err
	}
	return c, out, nil
}

// ReassignTask gives an open task to another team (and assignee), with
// the notifications to its new owner, in one transaction; never to the
// person the task is about (task.ErrAboutThemselves).
func ReassignTask(ctx context.Context, st store.Transactor, id int64, team, assignee, actor string, at time.Time, notes ...store.Notification) (store.CaseTask, error) {
	var t store.CaseTask
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if t, err = task.Open(tx, id); err != nil {
			return err
		}
		if err := task.NotAboutThemselves(t, assignee, "be given"); err != nil {
			return err
		}
		before := map[string]any{"team": t.Team, "assignee": t.Assignee}
		t.Team, t.Assignee = team, assignee
		if err := tx.UpdateTask(t); err != nil {
			return err
		}
		if err := tx.AppendAudit(audit.New(at, actor, "task.reassigned", t.Source, "", t.Person, before,
			map[string]any{"task": t.ID, "case": t.Case, "team": team, "assignee": assignee})); err != nil {
			return err
		}
		_, err = tx.QueueNotifications(task.Notes(notes, t), at)
		return err
	})
	return t, err
}

// EscalateTask records that an open task went past its deadline and was
// escalated to `to`, with the notifications that say so, in one
// transaction; store.ErrConflict if it already was.
func EscalateTask(ctx context.Context, st store.Transactor, id int64, to, actor string, at time.Time, notes ...store.Notification) (store.CaseTask, error) {
	var t store.CaseTask
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if t, err = task.Open(tx, id); err != nil {
			return err
		}
		if !t.EscalatedAt.IsZero() {
			return fmt.Errorf("task %d was escalated to %s already: %w", id, t.EscalatedTo, store.ErrConflict)
		}
		at = at.UTC().Truncate(time.Microsecond)
		t.EscalatedTo, t.EscalatedAt = to, at
		if err := tx.UpdateTask(t); err != nil {
			return err
		}
		if err := tx.AppendAudit(audit.New(at, actor, "task.escalated", t.Source, "", t.Person, nil,
			map[string]any{"task": t.ID, "case": t.Case, "team": t.Team, "assignee": t.Assignee, "title": t.Title,
				"due": t.Due, "escalated_to": to})); err != nil {
			return err
		}
		_, err = tx.QueueNotifications(task.Notes(notes, t), at)
		return err
	})
	return t, err
}

// RemindTask records that an open task's owner was reminded of its
// deadline, with the notifications that remind them, in one
// transaction; store.ErrConflict if they already were.
func RemindTask(ctx context.Context, st store.Transactor, id int64, actor string, at time.Time, notes ...store.Notification) (store.CaseTask, error) {
	var t store.CaseTask
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if t, err = task.Open(tx, id); err != nil {
			return err
		}
		if !t.RemindedAt.IsZero() {
			return fmt.Errorf("task %d was reminded of already: %w", id, store.ErrConflict)
		}
		at = at.UTC().Truncate(time.Microsecond)
		t.RemindedAt = at
		if err := tx.UpdateTask(t); err != nil {
			return err
		}
		if err := tx.AppendAudit(audit.New(at, actor, "task.reminded", t.Source, "", t.Person, nil,
			map[string]any{"task": t.ID, "case": t.Case, "team": t.Team, "assignee": t.Assignee, "title": t.Title,
				"due": t.Due, "notifications": len(notes)})); err != nil {
			return err
		}
		_, err = tx.QueueNotifications(task.Notes(notes, t), at)
		return err
	})
	return t, err
}

// CloseCancelledCases closes open cases whose event was cancelled or
// discarded, skipping their open tasks.
func CloseCancelledCases(ctx context.Context, st store.Transactor, actor string, at time.Time) ([]store.Case, error) {
	var out []store.Case
	err := st.InTx(ctx, func(tx store.Tx) error {
		out = nil
		ids, err := tx.OpenCasesOfCancelledEvents()
		if err != nil {
			return err
		}
		at = at.UTC().Truncate(time.Microsecond)
		for _, id := range ids {
			if err := tx.SkipOpenTasks(id, actor, at, "event cancelled"); err != nil {
				return err
			}
			if err := tx.AppendAudit(audit.New(at, actor, "case.cancelled", "", "", "", nil,
				map[string]any{"case": id, "reason": "its lifecycle event was cancelled"})); err != nil {
				return err
			}
			var c store.Case
			if err := task.CloseCaseIfDone(tx, id, actor, at, &c); err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}
