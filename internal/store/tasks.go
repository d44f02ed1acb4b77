package store

import (
	"context"
	"time"
)

// Task statuses and kinds.
const (
	TaskOpen    = "open"
	TaskDone    = "done"
	TaskSkipped = "skipped"
	TaskAuto    = "auto"
	TaskHuman   = "human"
)

// Task is work a team or a person does, with a deadline and the evidence
// that closed it.
type Task struct {
	ID          int64     `json:"id"`
	Case        int64     `json:"case"`
	Source      string    `json:"source,omitempty"`
	Person      string    `json:"person"` // employee ID the task is about
	Team        string    `json:"team"`
	Title       string    `json:"title"`
	Detail      string    `json:"detail,omitempty"`
	Status      string    `json:"status"`
	Kind        string    `json:"kind"`
	Due         time.Time `json:"due,omitzero"`
	App         string    `json:"app,omitempty"`
	Evidence    string    `json:"evidence,omitempty"`
	CompletedBy string    `json:"completed_by,omitempty"`
	CompletedAt time.Time `json:"completed_at,omitzero"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
}

// TaskIDPlaceholder stands for a new task's ID in the notifications
// stored with it; the store replaces it once the ID is known.
const TaskIDPlaceholder = "{{task}}"

// TaskFilter selects tasks.
type TaskFilter struct {
	Team, Person, Status, App string
	Case                      int64
}

// Tasker reads tasks (task.Create and task.Complete write them).
type Tasker interface {
	Tasks(ctx context.Context, f TaskFilter) ([]Task, error)
}
