package store

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/domain"
)

// Cases and their states live in package domain.
type Case = domain.Case

const (
	CaseJoiner       = domain.CaseJoiner
	CaseMover        = domain.CaseMover
	CaseLeaver       = domain.CaseLeaver
	CaseLeaverUrgent = domain.CaseLeaverUrgent
	CaseOpen         = domain.CaseOpen
	CaseClosed       = domain.CaseClosed

	EvidenceAttestation = domain.EvidenceAttestation
	EvidenceText        = domain.EvidenceText
	EvidenceReference   = domain.EvidenceReference
	EvidenceFile        = domain.EvidenceFile
)

// CaseFilter selects cases.
type CaseFilter struct {
	Kind, Person, Status string
	Limit                int
}

// CaseTaskFilter selects tasks with their workflow facts.
type CaseTaskFilter struct {
	Team, Person, Status, Kind, Assignee string
	// EscalatedTo keeps the tasks escalated to one person.
	EscalatedTo string
	Case        int64
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

// CaseStore keeps lifecycle cases and the workflow facts of their tasks. The
// rules that change them (workflow.OpenCase, task.Complete, …)
// run in a transaction (Transactor).
type CaseStore interface {
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
