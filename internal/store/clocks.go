package store

import (
	"context"
	"time"
)

// Clock kinds.
const (
	ClockRevoke = "revoke" // a leaver: applied to their last account disabled
	ClockAccess = "access" // a joiner or rehire: start date to their last account provisioned
)

// Clock is how long one lifecycle event took to reach the apps.
type Clock struct {
	Kind       string `json:"kind"`
	EventID    int64  `json:"event_id"`
	Source     string `json:"source"`
	EmployeeID string `json:"employee_id"`
	// Start is when the clock starts: a leaver's event applied, a joiner's
	// start date (the event's effective time).
	Start time.Time `json:"start,omitzero"`
	// Done is when the last account operation finished; zero while
	// Waiting.
	Done time.Time `json:"done,omitzero"`
	// Waiting counts the person's operations still pending, running or
	// failed: the clock runs on.
	Waiting int `json:"waiting,omitempty"`
}

// TeamTasks counts the open tasks a team owns.
type TeamTasks struct {
	Team      string `json:"team"`
	Open      int    `json:"open"`
	Overdue   int    `json:"overdue"`   // open past their deadline
	Escalated int    `json:"escalated"` // open and escalated
}

// ApprovalClock is how long one approved access request took, from its
// creation to its last approval.
type ApprovalClock struct {
	Request   int64     `json:"request"`
	Risk      string    `json:"risk"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
}

// RequestLoad counts the pending access requests at a time.
type RequestLoad struct {
	Pending   int `json:"pending"`
	Overdue   int `json:"overdue"`   // current step past its deadline
	Escalated int `json:"escalated"` // current step escalated
	// OldestPending is the creation time of the oldest pending request.
	OldestPending time.Time `json:"oldest_pending,omitzero"`
}

// LifecycleMetrics reports lifecycle clocks and task load, computed from the store
// so that every process sharing it reports the same.
type LifecycleMetrics interface {
	// LifecycleClocks returns the clock of every applied leaver, joiner and
	// rehire event whose clock started at or after since and that has
	// account operations, oldest first.
	LifecycleClocks(ctx context.Context, since time.Time) ([]Clock, error)
	// TaskLoad counts open tasks by team at now, by team name.
	TaskLoad(ctx context.Context, now time.Time) ([]TeamTasks, error)
	// ApprovalClocks returns the access requests approved (their last
	// approval) at or after since, whether expired since or not, oldest
	// decision first.
	ApprovalClocks(ctx context.Context, since time.Time) ([]ApprovalClock, error)
	// RequestLoad counts pending access requests at now.
	RequestLoad(ctx context.Context, now time.Time) (RequestLoad, error)
}
