package domain

import (
	"bytes"
	"encoding/json"
	"time"
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
	// Account is the JSON of the account as planned (a Account);
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
// account as an object in the snake_case shape of Account.
type operationJSON struct {
	operation
	Account *Account `json:"account,omitempty"`
}

type operation Operation // without its methods

// MarshalJSON writes the account as a nested object. An account stored
// before Account had JSON tags ("ID", "Key", …) reads the same
// (field names match case-insensitively); one that does not decode is left
// out rather than shown as a string.
func (o Operation) MarshalJSON() ([]byte, error) {
	out := operationJSON{operation: operation(o)}
	if o.Account != "" {
		var a Account
		if json.Unmarshal([]byte(o.Account), &a) == nil {
			out.Account = &a
		}
	}
	// No HTML escaping ("503 <busy>" stays as written): the answers
	// of the API escape nothing, and an encoder of a Marshaler's
	// output cannot undo json.Marshal's escapes.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
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
