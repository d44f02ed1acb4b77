package manual

import (
	"context"

	"github.com/tango-iga/tango/internal/store"
)

// TaskStore is where a manual app's tasks go: creating them and finding
// the open ones. The SQL store (sqlstore.DB) satisfies it.
type TaskStore interface {
	// CreateTask stores a task (with an audit entry) and the notifications
	// telling its owners, in one transaction, and returns it with its ID.
	CreateTask(ctx context.Context, t store.Task, notes ...store.Notification) (store.Task, error)
	Tasks(ctx context.Context, f store.TaskFilter) ([]store.Task, error)
}
