// Package task holds the rules of tasks, in or out of a case: creating
// one with the notifications telling its owners, completing one (which
// settles the operations waiting for it), and their audit wording. They
// run in one transaction of the store (store.Transactor).
package task

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

// Create stores a task outside any case (with an audit entry) and
// the notifications telling its owners, in one transaction, and returns
// it with its ID.
func Create(ctx context.Context, st store.Transactor, t store.Task, notes ...store.Notification) (store.Task, error) {
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if t.ID, err = tx.InsertTask(store.CaseTask{Task: t}); err != nil {
			return err
		}
		if _, err := tx.QueueNotifications(Notes(notes, store.CaseTask{Task: t}), t.CreatedAt); err != nil {
			return err
		}
		return tx.AppendAudit(audit.New(t.CreatedAt, "system", "task.created", t.Source, "", t.Person, nil,
			map[string]any{"task": t.ID, "team": t.Team, "title": t.Title, "app": t.App}))
	})
	return t, err
}

// Complete closes an open task with its evidence; store.ErrNotFound
// if absent, store.ErrConflict if not open. Operations waiting for the
// task (store.OpWaiting) are done in the same transaction (so with
// workflow.CompleteCaseTask).
func Complete(ctx context.Context, st store.Transactor, id int64, evidence, actor string, at time.Time) (store.Task, error) {
	var t store.Task
	err := st.InTx(ctx, func(tx store.Tx) error {
		ct, err := tx.Task(id)
		if err != nil {
			return err
		}
		t = ct.Task
		if t.Status != store.TaskOpen {
			return fmt.Errorf("task %d is %s, not open: %w", id, t.Status, store.ErrConflict)
		}
		at = at.UTC().Truncate(time.Microsecond)
		t.Status, t.Evidence, t.CompletedBy, t.CompletedAt = store.TaskDone, evidence, actor, at
		ct.Task = t
		if err := tx.UpdateTask(ct); err != nil {
			return err
		}
		if err := tx.AppendAudit(audit.New(at, actor, "task.completed", t.Source, "", t.Person, nil,
			map[string]any{"task": t.ID, "team": t.Team, "title": t.Title, "evidence": evidence})); err != nil {
			return err
		}
		return SettleOps(tx, t, actor, at)
	})
	return t, err
}

// SettleOps marks done the operations waiting for a task that was
// just completed, each with an audit entry naming the task.
func SettleOps(tx store.Tx, t store.Task, actor string, at time.Time) error {
	ops, err := tx.WaitingOps(t.ID)
	if err != nil || len(ops) == 0 {
		return err
	}
	var ents []audit.Entry
	for _, o := range ops {
		if err := tx.SetOpState(o.ID, store.OpDone, at); err != nil {
			return fmt.Errorf("task %d: %w", t.ID, err)
		}
		ents = append(ents, audit.New(at, actor, "provision."+o.Kind, o.Source, o.ImportID, o.EmployeeID, nil,
			map[string]any{"app": o.App, "entitlement": o.Entitlement, "operation": o.ID, "reason": o.Reason, "task": t.ID}))
	}
	return tx.AppendAudit(ents...)
}

// Notes ties notifications to a task (and its case): their Task and
// Case, the task ID in place of store.TaskIDPlaceholder, and its step.
func Notes(notes []store.Notification, t store.CaseTask) []store.Notification {
	notes = slices.Clone(notes)
	id := strconv.FormatInt(t.ID, 10)
	for i := range notes {
		notes[i].Task, notes[i].Case = t.ID, t.Case
		notes[i].Subject = strings.ReplaceAll(notes[i].Subject, store.TaskIDPlaceholder, id)
		notes[i].Body = strings.ReplaceAll(notes[i].Body, store.TaskIDPlaceholder, id)
		if notes[i].Step == "" {
			notes[i].Step = t.Step
		}
	}
	return notes
}
