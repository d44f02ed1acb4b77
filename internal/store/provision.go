package store

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/domain"
)

// Operations and their states live in package domain.
type Operation = domain.Operation

const (
	OpCreate         = domain.OpCreate
	OpUpdate         = domain.OpUpdate
	OpDisable        = domain.OpDisable
	OpEnable         = domain.OpEnable
	OpGrant          = domain.OpGrant
	OpRevoke         = domain.OpRevoke
	OpRevokeSessions = domain.OpRevokeSessions

	OpPending  = domain.OpPending
	OpRunning  = domain.OpRunning
	OpRetrying = domain.OpRetrying
	OpWaiting  = domain.OpWaiting
	OpDone     = domain.OpDone
	OpFailed   = domain.OpFailed

	PriorityDisable  = domain.PriorityDisable
	PrioritySessions = domain.PrioritySessions
	PriorityNormal   = domain.PriorityNormal
	PriorityRevoke   = domain.PriorityRevoke
)

// OpStates are the operation states, in the order of their life.
var OpStates = domain.OpStates

// GrantRow is access Tango has given (or is giving) a person in an app:
// the account itself (Entitlement empty; State active or disabled) or one
// entitlement.
type GrantRow struct {
	App         string    `json:"app"`
	Source      string    `json:"source"`
	EmployeeID  string    `json:"employee_id"`
	Entitlement string    `json:"entitlement,omitempty"`
	State       string    `json:"state"` // active | disabled
	Reason      string    `json:"reason"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
}

// ProvisionBatch is what one planning step writes, atomically: operations
// to run, the grants they establish or remove, the events it consumed.
type ProvisionBatch struct {
	Ops    []Operation
	Put    []GrantRow
	Delete []GrantRow
	Events []int64 // event IDs now provisioned
	// Requests are access requests (approved or expired) now provisioned.
	Requests []int64
	// Revocations are review revocations now planned for.
	Revocations []int64
	Entries     []audit.Entry
}

// OpResult is how a claimed operation ended.
type OpResult struct {
	State     string    // done, retrying, waiting (for Task) or failed
	Error     string    // last error, without secrets
	NotBefore time.Time // for a retry
	// Task is the task a waiting operation waits for. Should it be done
	// already, the operation is done at once.
	Task  int64
	Entry *audit.Entry
}

// AppState is the health of an app's connector.
type AppState struct {
	App              string    `json:"app"`
	Failures         int       `json:"consecutive_failures"`
	QuarantinedUntil time.Time `json:"quarantined_until,omitzero"`
	LastError        string    `json:"last_error,omitempty"`
	LastSuccess      time.Time `json:"last_success,omitzero"`
}

// Finding is a control that fails, owned by a team.
type Finding struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"` // orphan-account, leaver-active, entitlement-drift, sod-violation, operation-failed, no-manager
	App       string    `json:"app,omitempty"`
	Subject   string    `json:"subject"` // account key or employee ID
	Detail    string    `json:"detail"`
	Team      string    `json:"team"`
	Status    string    `json:"status"` // open | resolved
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
}

// OpFilter selects operations.
type OpFilter struct {
	// Source with EmployeeID names one person (through the index of a
	// person's operations).
	App, State, Source, EmployeeID string
	AfterID                        int64 // only operations with a larger ID (a page's cursor)
	Limit                          int
}

// ProvisioningQueue is the part of a Store that keeps the provisioning queue.
type ProvisioningQueue interface {
	// Grants returns every grant row (of one source, or all with "").
	Grants(ctx context.Context, source string) ([]GrantRow, error)
	// PersonGrants returns one person's grant rows.
	PersonGrants(ctx context.Context, source, employeeID string) ([]GrantRow, error)
	// EachGrant calls fn with every grant, person by person (a person's
	// grants together, in no particular order), with when its account was
	// last used as reconcile recorded it (zero: not known); an error from
	// fn stops it and is returned. Persons come in the order of group's
	// answer for them (nil: ""), then of source and employee ID: a
	// campaign inserts its items grouped by reviewer, so that its
	// reviewer index grows in order rather than at random. It may hold
	// every grant compactly (tens of bytes each) to order them: a campaign
	// over millions reads them faster that way than when the database
	// joins and sorts them.
	EachGrant(ctx context.Context, group func(source, employeeID string) string, fn func(g GrantRow, lastUsed time.Time) error) error
	// QueueOps writes a planning step atomically.
	QueueOps(ctx context.Context, b ProvisionBatch) error
	// Unprovisioned returns applied events not yet planned for, oldest first.
	Unprovisioned(ctx context.Context, limit int) ([]Event, error)
	// ClaimOps leases up to limit due operations (pending or retrying with
	// NotBefore passed, or running with an expired lease) for owner, skipping apps in
	// skip and any operation with an earlier unfinished one for the same
	// person in the same app. Expired leases are claimable again.
	ClaimOps(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip []string) ([]Operation, error)
	// FinishOp records the outcome of a claimed operation.
	FinishOp(ctx context.Context, id int64, owner string, at time.Time, r OpResult) error
	// Ops lists operations in ID order.
	Ops(ctx context.Context, f OpFilter) ([]Operation, error)
	// OpCounts counts operations by app and state.
	OpCounts(ctx context.Context) (map[string]map[string]int, error)
	PutAppState(ctx context.Context, s AppState) error
	AppStates(ctx context.Context) ([]AppState, error)
	// ReplaceFindings records the current findings of one kind for an app:
	// new ones open, present ones refreshed, absent ones resolved.
	ReplaceFindings(ctx context.Context, kind, app string, fs []Finding, at time.Time) error
	// PutAccountActivity records when accounts were last used, as their
	// apps reported it to reconcile (a later reading replaces an earlier).
	PutAccountActivity(ctx context.Context, acts []AccountActivity) error
	AddFinding(ctx context.Context, f Finding) error
	Findings(ctx context.Context, kind, app, status string) ([]Finding, error)
	// FindingsAbout lists the findings about one subject (of a status, or
	// all with "").
	FindingsAbout(ctx context.Context, subject, status string) ([]Finding, error)
	// FindingCounts counts the findings of a status ("open", "resolved";
	// "": all) by app.
	FindingCounts(ctx context.Context, status string) (map[string]int, error)
}
