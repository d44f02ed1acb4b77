package manual

import (
	"context"

	"github.com/tango-iga/tango/internal/store"
)

// TaskStore is where a manual app's tasks go: it reads the open ones and
// creates new ones with task.Create (in a transaction of the store). The
// SQL store (sqlstore.DB) satisfies it.
type TaskStore interface {
	Tasks(ctx context.Context, f store.TaskFilter) ([]store.Task, error)
	store.Transactor
}
