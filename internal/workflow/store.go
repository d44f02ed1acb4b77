package workflow

import (
	"context"

	"github.com/tango-iga/tango/internal/store"
)

// Store is what the workflow needs of the store: events without a case,
// cases and their tasks, and the lifecycle facts deadlines count from.
// The SQL store (sqlstore.DB) satisfies it.
type Store interface {
	store.Transactor
	Case(ctx context.Context, id int64) (store.Case, error)
	CaseTasks(ctx context.Context, f store.CaseTaskFilter) ([]store.CaseTask, error)
	// Grants returns every grant row (of one source, or all with "").
	Grants(ctx context.Context, source string) ([]store.GrantRow, error)
	PersonGrants(ctx context.Context, source, employeeID string) ([]store.GrantRow, error)
	Import(ctx context.Context, id string) (store.Import, error)
	// PendingCaseEvents returns applied or scheduled events no case was
	// opened for and none declined, oldest first: the workflow's cursor.
	PendingCaseEvents(ctx context.Context, limit int) ([]store.Event, error)
	Person(ctx context.Context, source, employeeID string) (store.Person, error)
	// SkipCaseEvents marks events handled without opening a case.
	SkipCaseEvents(ctx context.Context, ids []int64) error
	CaseTask(ctx context.Context, id int64) (store.CaseTask, error)
	// store.EventProgress reports the state of the given events.
	EventProgress(ctx context.Context, ids []int64) (map[int64]store.EventProgress, error)
	Notifications(ctx context.Context, f store.NotificationFilter) ([]store.Notification, error)
	// Ops lists operations in ID order.
	Ops(ctx context.Context, f store.OpFilter) ([]store.Operation, error)
}
