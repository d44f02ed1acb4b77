package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/connector"
)

// Operation kinds.
const (
	OpCreate  = "create"
	OpUpdate  = "update"
	OpDisable = "disable"
	OpEnable  = "enable"
	OpGrant   = "grant"
	OpRevoke  = "revoke"
	// OpRevokeSessions ends a leaver's sessions and tokens in an app whose
	// connector offers it, queued after the account's disable.
	OpRevokeSessions = "revoke_sessions"
)

// Operation states.
const (
	OpPending = "pending" // queued, not tried yet
	OpRunning = "running" // leased by a worker
	// OpRetrying: tried and failed with a temporary error; tried again at
	// NotBefore (Attempts and LastError say how often and why).
	OpRetrying = "retrying"
	// OpWaiting: handed to a person (a manual app's task, TaskID); done
	// when the task is completed or the app's accounts export shows it.
	OpWaiting = "waiting"
	OpDone    = "done"
	OpFailed  = "failed" // gave up after the last retry; a finding says so
)

// OpStates are the operation states, in the order of their life.
var OpStates = []string{OpPending, OpRunning, OpRetrying, OpWaiting, OpDone, OpFailed}

// Priorities: lower runs first. A leaver's disables go before anything
// else, the revocation of their sessions right after (it is queued after
// the disable, and an account's operations run in queue order).
const (
	PriorityDisable  = 0
	PrioritySessions = 1
	PriorityNormal   = 10
	PriorityRevoke   = 20
)

// Operation is one change to make in one app, queued durably.
type Operation struct {
	ID          int64  `json:"id"`
	App         string `json:"app"`
	Kind        string `json:"kind"`
	Source      string `json:"source"`
	EmployeeID  string `json:"employee_id"`
	Entitlement string `json:"entitlement,omitempty"`
	// Account is the JSON of the account as planned (a connector.Account);
	// the operation's own JSON carries it as a nested object.
	Account    string    `json:"-"`
	Priority   int       `json:"priority"`
	State      string    `json:"state"`
	Attempts   int       `json:"attempts"`
	NotBefore  time.Time `json:"not_before,omitzero"` // when it may run: for a retrying operation, its next try
	LastError  string    `json:"last_error,omitempty"`
	TaskID     int64     `json:"task,omitempty"` // a waiting operation's task
	Reason     string    `json:"reason"`         // why: role, request, event
	ImportID   string    `json:"import_id,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
	LeaseOwner string    `json:"-"`
	LeaseUntil time.Time `json:"-"`
}

// operationJSON is the JSON shape of an Operation: its fields, with the
// account as an object in the snake_case shape of connector.Account.
type operationJSON struct {
	operation
	Account *connector.Account `json:"account,omitempty"`
}

type operation Operation // without its methods

// MarshalJSON writes the account as a nested object. An account stored
// before connector.Account had JSON tags ("ID", "Key", …) reads the same
// (field names match case-insensitively); one that does not decode is left
// out rather than shown as a string.
func (o Operation) MarshalJSON() ([]byte, error) {
	out := operationJSON{operation: operation(o)}
	if o.Account != "" {
		var a connector.Account
		if json.Unmarshal([]byte(o.Account), &a) == nil {
			out.Account = &a
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (o *Operation) UnmarshalJSON(b []byte) error {
	var in operationJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*o = Operation(in.operation)
	if in.Account != nil {
		acc, err := json.Marshal(in.Account)
		if err != nil {
			return err
		}
		o.Account = string(acc)
	}
	return nil
}

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
	Entries  []audit.Entry
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
	App, State, EmployeeID string
	AfterID                int64 // only operations with a larger ID (a page's cursor)
	Limit                  int
}

// Provisioner is the part of a Store that keeps the provisioning queue.
type Provisioner interface {
	// Grants returns every grant row (of one source, or all with "").
	Grants(ctx context.Context, source string) ([]GrantRow, error)
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
	AddFinding(ctx context.Context, f Finding) error
	Findings(ctx context.Context, kind, app, status string) ([]Finding, error)
}
