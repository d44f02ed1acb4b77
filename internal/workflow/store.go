package workflow

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// Store is what the workflow needs of the store: events without a case,
// cases and their tasks, and the lifecycle facts deadlines count from.
// The SQL store (sqlstore.DB) satisfies it.
type Store interface {
	Case(ctx context.Context, id int64) (store.Case, error)
	CaseTasks(ctx context.Context, f store.CaseTaskFilter) ([]store.CaseTask, error)
	// CloseCancelledCases closes open cases whose event was cancelled or
	// discarded, skipping their open tasks.
	CloseCancelledCases(ctx context.Context, actor string, at time.Time) ([]store.Case, error)
	// Grants returns every grant row (of one source, or all with "").
	Grants(ctx context.Context, source string) ([]store.GrantRow, error)
	Import(ctx context.Context, id string) (store.Import, error)
	// OpenCase writes a case, its tasks, their audit entries and the
	// notifications it causes (notes: their store.Case is set, and a note with a
	// Step is tied to the case's task of that step) in one transaction,
	// and marks its event (c.EventID, if any) handled. An event already
	// handled fails with store.ErrConflict and writes nothing, so each event
	// opens at most one case whatever the number of processes.
	OpenCase(ctx context.Context, c store.Case, tasks []store.CaseTask, actor string, notes ...store.Notification) (store.Case, []store.CaseTask, error)
	// PendingCaseEvents returns applied or scheduled events no case was
	// opened for and none declined, oldest first: the workflow's cursor.
	PendingCaseEvents(ctx context.Context, limit int) ([]store.Event, error)
	Person(ctx context.Context, source, employeeID string) (store.Person, error)
	// SkipCaseEvents marks events handled without opening a case.
	SkipCaseEvents(ctx context.Context, ids []int64) error
	CaseTask(ctx context.Context, id int64) (store.CaseTask, error)
	// CompleteTask closes an open task with its evidence; store.ErrNotFound
	// if absent, store.ErrConflict if not open (or, for a task of a case,
	// while a dependency is open). Completing the last open task of a case
	// closes the case.
	CompleteTask(ctx context.Context, id int64, evidence, actor string, at time.Time) (store.Task, error)
	// EscalateTask records that an open task went past its deadline and
	// was escalated to `to`, with the notifications that say so, in one
	// transaction; store.ErrConflict if it already was.
	EscalateTask(ctx context.Context, id int64, to, actor string, at time.Time, notes ...store.Notification) (store.CaseTask, error)
	// store.EventProgress reports the state of the given events.
	EventProgress(ctx context.Context, ids []int64) (map[int64]store.EventProgress, error)
	Notifications(ctx context.Context, f store.NotificationFilter) ([]store.Notification, error)
	// Ops lists operations in ID order.
	Ops(ctx context.Context, f store.OpFilter) ([]store.Operation, error)
	// RemindTask records that an open task's owner was reminded of its
	// deadline, with the reminders, in one transaction; store.ErrConflict if it
	// was reminded already.
	RemindTask(ctx context.Context, id int64, actor string, at time.Time, notes ...store.Notification) (store.CaseTask, error)
	// ReassignTask gives an open task to another team (and assignee), with
	// the notifications to its new owner, in one transaction.
	ReassignTask(ctx context.Context, id int64, team, assignee, actor string, at time.Time, notes ...store.Notification) (store.CaseTask, error)
}
