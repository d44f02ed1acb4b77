package domain

import "time"

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

// Task statuses and kinds.
const (
	TaskOpen    = "open"
	TaskDone    = "done"
	TaskSkipped = "skipped"
	TaskAuto    = "auto"
	TaskHuman   = "human"
)

// Task is work a team or a person does, with a deadline and the evidence
// that closed it. A task of a case (Case set) also carries the workflow
// facts of its playbook step; a task made on its own (a manual app's
// account change) has none, and they are left out of its JSON.
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

	// The workflow facts of a case's task.
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

// TaskIDPlaceholder stands for a new task's ID in the notifications
// stored with it; the store replaces it once the ID is known.
const TaskIDPlaceholder = "{{task}}"
