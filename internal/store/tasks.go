package store

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/domain"
)

// Tasks and their states live in package domain. A task of a case
// carries its workflow facts in the same type (CaseTask is its old name).
type (
	Task     = domain.Task
	CaseTask = domain.Task
)

const (
	TaskOpen    = domain.TaskOpen
	TaskDone    = domain.TaskDone
	TaskSkipped = domain.TaskSkipped
	TaskAuto    = domain.TaskAuto
	TaskHuman   = domain.TaskHuman

	TaskIDPlaceholder = domain.TaskIDPlaceholder
)

// TaskFilter selects tasks.
type TaskFilter struct {
	Team, Person, Status, App string
	Case                      int64
}

// TaskStore keeps tasks.
type TaskStore interface {
	// CreateTask stores a task (with an audit entry) and the notifications
	// telling its owners, in one transaction, and returns it with its ID.
	CreateTask(ctx context.Context, t Task, notes ...Notification) (Task, error)
	Tasks(ctx context.Context, f TaskFilter) ([]Task, error)
	// CompleteTask closes an open task with its evidence; ErrNotFound if
	// absent, ErrConflict if not open. A task of a case is refused
	// (ErrConflict) while a dependency is open, and completing the last
	// open task of a case closes the case; a task made on its own (Case 0)
	// has neither. Operations waiting for the task (OpWaiting) are done,
	// all in the same transaction, audited.
	CompleteTask(ctx context.Context, id int64, evidence, actor string, at time.Time) (Task, error)
}
