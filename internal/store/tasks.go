package store

import (
	"context"

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

// TaskStore reads tasks (task.Create and task.Complete write them).
type TaskStore interface {
	Tasks(ctx context.Context, f TaskFilter) ([]Task, error)
}
