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
	"github.com/tango-iga/tango/internal/domain"
	"github.com/tango-iga/tango/internal/store"
)

// Create stores a task outside any case (with an audit entry) and
// the notifications telling its owners, in one transaction, and returns
// it with its ID.
func Create(ctx context.Context, st store.Transactor, t store.Task, notes ...store.Notification) (store.Task, error) {
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if t.ID, err = tx.InsertTask(t); err != nil {
			return err
		}
		if _, err := tx.QueueNotifications(Notes(notes, t), t.CreatedAt); err != nil {
			return err
		}
		return tx.AppendAudit(audit.New(t.CreatedAt, "system", "task.created", t.Source, "", t.Person, nil,
			map[string]any{"task": t.ID, "team": t.Team, "title": t.Title, "app": t.App}))
	})
	return t, err
}

// ErrAboutThemselves refuses a task completed by, or given to, the person
// it is about: nobody attests their own access or closes their own task.
var ErrAboutThemselves = domain.E(domain.KindForbidden, "not allowed")

// ActorPerson is the employee ID a person's audit actor names
// ("person:ID" or "person:ID via token:NAME", as authz.Principal.Actor
// and the CLI's --as write it); "" for a service or the system.
func ActorPerson(actor string) string {
	rest, ok := strings.CutPrefix(actor, "person:")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, " ")
	return id
}

// NotAboutThemselves refuses (ErrAboutThemselves) when person is the
// subject of t; what says what they tried.
func NotAboutThemselves(t store.CaseTask, person, what string) error {
	if person == "" || person != t.Person {
		return nil
	}
	return fmt.Errorf("%w: task %d (%s) is about %s, who may not %s it: nobody attests their own access or closes a task about themselves",
		ErrAboutThemselves, t.ID, t.Title, person, what)
}

// Complete closes an open task with its evidence; store.ErrNotFound
// if absent, store.ErrConflict if not open, ErrAboutThemselves when the
// actor is a person (ActorPerson) and the task is about them. A task of a case is refused
// (store.ErrConflict) while a step it depends on is open, and completing
// the last open task of a case closes the case. Operations waiting for
// the task (store.OpWaiting) are done. All in one transaction, audited.
func Complete(ctx context.Context, st store.Transactor, id int64, evidence, actor string, at time.Time) (store.Task, error) {
	var t store.Task
	err := st.InTx(ctx, func(tx store.Tx) error {
		var err error
		if t, err = Open(tx, id); err != nil {
			return err
		}
		if err := NotAboutThemselves(t, ActorPerson(actor), "complete"); err != nil {
			return err
		}
		if t.Blocked {
			return fmt.Errorf("task %d waits for step(s) %s of case %d: %w", id, strings.Join(t.DependsOn, ", "), t.Case, store.ErrConflict)
		}
		at = at.UTC().Truncate(time.Microsecond)
		t.Status, t.Evidence, t.CompletedBy, t.CompletedAt = store.TaskDone, evidence, actor, at
		if err := tx.UpdateTask(t); err != nil {
			return err
		}
		doc := map[string]any{"task": t.ID, "team": t.Team, "title": t.Title, "evidence": evidence}
		if t.Case != 0 {
			doc["case"], doc["step"], doc["evidence_kind"] = t.Case, t.Step, t.EvidenceKind
		}
		if err := tx.AppendAudit(audit.New(at, actor, "task.completed", t.Source, "", t.Person, nil, doc)); err != nil {
			return err
		}
		if err := SettleOps(tx, t, actor, at); err != nil {
			return err
		}
		return CloseCaseIfDone(tx, t.Case, actor, at, nil)
	})
	return t, err
}

// CloseCaseIfDone closes an open case with no open task left (audited);
// c, when given, is updated.
func CloseCaseIfDone(tx store.Tx, id int64, actor string, at time.Time, c *store.Case) error {
	if id == 0 {
		return nil
	}
	open, err := tx.CountOpenTasks(id)
	if err != nil || open > 0 {
		return err
	}
	if closed, err := tx.CloseCase(id, at); err != nil || !closed {
		return err
	}
	cs, err := tx.Case(id)
	if err != nil {
		return err
	}
	if c != nil {
		*c = cs
	}
	return tx.AppendAudit(audit.New(at, actor, "case.closed", cs.Source, "", cs.Person, nil,
		map[string]any{"case": cs.ID, "kind": cs.Kind}))
}

// Open reads a task that must still be open, with Blocked worked out:
// an open task is blocked while a step it depends on has an open task.
func Open(tx store.Tx, id int64) (store.CaseTask, error) {
	t, err := tx.Task(id)
	if err != nil {
		return t, err
	}
	if t.Status != store.TaskOpen {
		return t, fmt.Errorf("task %d is %s, not open: %w", id, t.Status, store.ErrConflict)
	}
	if len(t.DependsOn) > 0 && t.Case != 0 {
		steps, err := tx.OpenSteps(t.Case)
		if err != nil {
			return t, err
		}
		for _, d := range t.DependsOn {
			t.Blocked = t.Blocked || steps[d]
		}
	}
	return t, nil
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
