package store

import (
	"context"
	"time"
)

// Case kinds (one playbook each) and statuses.
const (
	CaseJoiner       = "joiner"
	CaseMover        = "mover"
	CaseLeaver       = "leaver"
	CaseLeaverUrgent = "leaver.urgent"
	CaseOpen         = "open"
	CaseClosed       = "closed"
)

// Evidence kinds a human task may require to close.
const (
	EvidenceAttestation = "attestation"
	EvidenceText        = "text"
	EvidenceReference   = "reference"
	EvidenceFile        = "file"
)

// Case is the lifecycle work one event opens: an onboarding, a move or an
// offboarding, with the tasks of its playbook. It closes when its last
// open task is done or skipped.
type Case struct {
	ID       int64     `json:"id"`
	Kind     string    `json:"kind"`
	Source   string    `json:"source,omitempty"`
	Person   string    `json:"person"`
	Status   string    `json:"status"`
	OpenedAt time.Time `json:"opened_at,omitzero"`
	// ClosedAt is null while the case is open.
	ClosedAt *time.Time `json:"closed_at"`
	EventID  int64      `json:"event_id,omitempty"`
	// Effective is when the event takes effect; deadlines count from it.
	Effective time.Time `json:"effective_at,omitzero"`
}

// CaseTask is a task with the workflow facts of its playbook step. It
// marshals as the Task JSON shape plus these fields.
type CaseTask struct {
	Task
	Step   string `json:"step,omitempty"`
	Action string `json:"action,omitempty"` // automated steps: what the engine does
	// DependsOn names steps of the same case that must be done (or skipped)
	// before this task can be completed.
	DependsOn    []string  `json:"depends_on,omitempty"`
	EvidenceKind string    `json:"evidence_kind,omitempty"`
	Assignee     string    `json:"assignee,omitempty"` // a person's employee ID (a manager task)
	EscalatedTo  string    `json:"escalated_to,omitempty"`
	EscalatedAt  time.Time `json:"escalated_at,omitzero"`
	RemindedAt   time.Time `json:"reminded_at,omitzero"` // when the owner was reminded of the deadline
	// Blocked is computed when read: an open task with a dependency still open.
	Blocked bool `json:"blocked,omitempty"`
}

// CaseFilter selects cases.
type CaseFilter struct {
	Kind, Person, Status string
	Limit                int
}

// CaseTaskFilter selects tasks with their workflow facts.
type CaseTaskFilter struct {
	Team, Person, Status, Kind, Assignee string
	Case                                 int64
	// DueBefore, when set, keeps tasks due (with a deadline) before it.
	DueBefore time.Time
	// Unescalated keeps tasks not escalated yet.
	Unescalated bool
	// Unreminded keeps tasks whose owner was not reminded yet.
	Unreminded bool
	Limit      int
}

// EventProgress is how far an event went elsewhere (provisioning).
type EventProgress struct {
	State       string
	Provisioned bool
}

// Caser keeps lifecycle cases and the workflow facts of their tasks. The
// rules that change them (workflow.OpenCase, workflow.CompleteCaseTask, …)
// run in a transaction (Transactor).
type Caser interface {
	// PendingCaseEvents returns applied or scheduled events no case was
	// opened for and none declined, oldest first: the workflow's cursor.
	PendingCaseEvents(ctx context.Context, limit int) ([]Event, error)
	// SkipCaseEvents marks events handled without opening a case.
	SkipCaseEvents(ctx context.Context, ids []int64) error
	Case(ctx context.Context, id int64) (Case, error)
	Cases(ctx context.Context, f CaseFilter) ([]Case, error)
	CaseTask(ctx context.Context, id int64) (CaseTask, error)
	CaseTasks(ctx context.Context, f CaseTaskFilter) ([]CaseTask, error)
	// EventProgress reports the state of the given events.
	EventProgress(ctx context.Context, ids []int64) (map[int64]EventProgress, error)
}
