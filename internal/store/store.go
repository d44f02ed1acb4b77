// Package store holds the records Tango keeps (persons, imports, lifecycle
// events, audit entries, tokens) and the Store interface that every backend
// (embedded SQLite, PostgreSQL) implements. One conformance suite in
// storetest runs against each backend.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/duration"
)

// Person statuses.
const (
	StatusPrehire = "prehire" // joiner whose start date is still in the future
	StatusActive  = "active"
	StatusLeft    = "left"
)

// Lifecycle event types.
const (
	EventJoiner = "joiner"
	EventMover  = "mover"
	EventLeaver = "leaver"
	EventRehire = "rehire"
	EventChange = "change" // attribute change that is not a job move
)

// Event states.
const (
	EventApplied   = "applied"   // took effect
	EventScheduled = "scheduled" // effective in the future; applied when due
	EventHeld      = "held"      // part of an import held by a safeguard
	EventDiscarded = "discarded" // part of a held import that was rejected
)

// Import statuses.
const (
	ImportApplied  = "applied"
	ImportHeld     = "held"
	ImportRejected = "rejected" // invalid feed (stored with its row errors only), or a held import discarded by a person
	ImportDryRun   = "dry-run"  // never stored; reported only
)

// Person is a workforce identity from one HR source, keyed by its HR employee ID.
type Person struct {
	Source         string            `json:"source"`
	EmployeeID     string            `json:"employee_id"`
	DisplayName    string            `json:"display_name"`
	Email          string            `json:"email,omitempty"`
	Title          string            `json:"title,omitempty"`
	Department     string            `json:"department,omitempty"`
	Team           string            `json:"team,omitempty"`
	BusinessUnit   string            `json:"business_unit,omitempty"`
	ManagerID      string            `json:"manager_id,omitempty"`
	EmploymentType string            `json:"employment_type,omitempty"`
	Status         string            `json:"status"`
	StartDate      string            `json:"start_date,omitempty"` // YYYY-MM-DD
	EndDate        string            `json:"end_date,omitempty"`   // YYYY-MM-DD
	Period         int               `json:"employment_period"`    // 1 for the first employment, +1 per rehire
	Attributes     map[string]string `json:"attributes,omitempty"` // every other mapped attribute
	UpdatedAt      time.Time         `json:"updated_at,omitzero"`
}

// Event is one lifecycle event for one person.
type Event struct {
	ID         int64     `json:"id"`
	ImportID   string    `json:"import_id"`
	Source     string    `json:"source"`
	EmployeeID string    `json:"employee_id"`
	Type       string    `json:"type"`
	State      string    `json:"state"`
	Effective  time.Time `json:"effective_at,omitzero"`
	Before     *Person   `json:"before,omitempty"`
	After      *Person   `json:"after,omitempty"`
	Changed    []string  `json:"changed,omitempty"` // attribute names that differ
	CreatedAt  time.Time `json:"created_at,omitzero"`
	AppliedAt  time.Time `json:"applied_at,omitzero"`
}

// Import is one HR snapshot that was applied or held.
type Import struct {
	ID        string            `json:"import_id"`
	Source    string            `json:"source"`
	File      string            `json:"file,omitempty"`
	SHA256    string            `json:"sha256,omitempty"`
	Status    string            `json:"status"`
	Actor     string            `json:"actor"`
	Rows      int               `json:"rows"`
	Joiners   int               `json:"joiners"`
	Movers    int               `json:"movers"`
	Leavers   int               `json:"leavers"`
	Rehires   int               `json:"rehires"`
	Changes   int               `json:"changes"`
	Unchanged int               `json:"unchanged"`
	Reason    string            `json:"reason,omitempty"` // why it was held
	Duration  duration.Duration `json:"duration"`         // time to compute and write it
	CreatedAt time.Time         `json:"created_at,omitzero"`
	DecidedBy string            `json:"decided_by,omitempty"`
	DecidedAt time.Time         `json:"decided_at,omitzero"`
	// Errors are why an invalid feed was rejected (never its rows).
	Errors     []ImportError `json:"errors,omitempty"`
	BaseSerial int64         `json:"-"` // source serial the diff was computed against
}

// ImportError is one problem of a rejected feed: a row (1-based, 0 for the
// file as a whole), a column and what is wrong.
type ImportError struct {
	Row     int    `json:"row,omitempty"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

// ImportFilter selects imports for listing, newest first.
type ImportFilter struct {
	Source string
	Status string
	Limit  int // default and at most 1000
}

// AuditFilter selects audit entries for reading, in order.
type AuditFilter struct {
	Actor string
	// Action matches an action exactly or as a dotted prefix: "hr" matches
	// "hr.joiner" and "hr.import.applied".
	Action string
	Since  time.Time // entries at or after it
	After  int64     // entries with Seq > After (the cursor)
	Limit  int
}

// Workforce is every stored person of one source, with the serial of the
// source's state at the time it was read (used for optimistic concurrency).
type Workforce struct {
	Source  string
	Serial  int64
	Persons []Person
	// Held is the ID of an import of this source waiting for approval, if any.
	Held string
}

// PersonFilter selects persons for listing.
type PersonFilter struct {
	Source     string
	Status     string
	Department string
	ManagerID  string
	Limit      int
	After      string // employee ID to page after
}

// EventFilter selects events for listing.
type EventFilter struct {
	Source     string
	EmployeeID string
	ImportID   string
	Type       string
	State      string
	Limit      int
	AfterID    int64
}

// Token is an API or SCIM bearer token; only its hash is stored.
type Token struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Scope string `json:"scope"`
	// Person is the employee ID the token acts as (access requests and
	// approvals); empty for service tokens.
	Person    string    `json:"person,omitempty"`
	Hash      string    `json:"-"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	LastUsed  time.Time `json:"last_used_at,omitzero"`
	Revoked   time.Time `json:"revoked_at,omitzero"`
}

// Counts summarises the store for metrics.
type Counts struct {
	ImportsByStatus map[string]int64
	EventsByType    map[string]int64
	ImportSeconds   float64 // total duration of all stored imports
	PersonsByStatus map[string]int64
}

// Errors a backend returns; callers test them with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict: the source changed since its workforce was read, or an
	// import of the source is held.
	ErrConflict = errors.New("conflict")
)

// Store is what Tango persists. Every method is safe for concurrent use,
// including by several processes sharing one PostgreSQL database.
type Store interface {
	// Workforce loads every person of a source with its current serial.
	Workforce(ctx context.Context, source string) (Workforce, error)
	// ApplyImport writes an import, the person records it changes, its
	// events and their audit entries in one transaction. For a held import
	// (imp.Status == ImportHeld) the persons are kept with the import and
	// written only when it is approved. It fails with ErrConflict when the
	// source's serial is no longer imp.BaseSerial or an import of the source
	// is held. Events and entries get their IDs and hashes filled in.
	// A non-nil prov is queued in the same transaction (not for held imports),
	// and the import's applied events are marked provisioned.
	ApplyImport(ctx context.Context, imp Import, persons []Person, events []Event, entries []audit.Entry, prov *ProvisionBatch) error
	// HeldImport returns the person records and events a held import keeps
	// until it is decided (what approving it applies); ErrNotFound when no
	// import has the ID, an error when it is not held.
	HeldImport(ctx context.Context, id string) ([]Person, []Event, error)
	// DecideImport approves (applying its held events, which must still fit
	// the current state) or rejects a held import, with an audit entry.
	// Approving does what ApplyImport does for an applied import: a non-nil
	// prov (planned from HeldImport) is queued in the same transaction and
	// the import's applied events are marked provisioned.
	DecideImport(ctx context.Context, id string, approve bool, actor string, at time.Time, prov *ProvisionBatch) (Import, error)
	// ApplyDue applies every scheduled event effective at or before now:
	// a joiner or rehire makes the person active, a leaver makes them left.
	// A new event for a person whose start or end date changed cancels the
	// person's earlier scheduled events.
	ApplyDue(ctx context.Context, now time.Time, actor string) ([]Event, error)

	// RejectImport records an invalid feed (imp.Status == ImportRejected,
	// with its Errors) and its audit entry, and nothing else: no person,
	// event or source serial changes.
	RejectImport(ctx context.Context, imp Import, entry audit.Entry) error

	Import(ctx context.Context, id string) (Import, error)
	Imports(ctx context.Context, source string, limit int) ([]Import, error)
	ImportsBy(ctx context.Context, f ImportFilter) ([]Import, error)
	Person(ctx context.Context, source, employeeID string) (Person, error)
	Persons(ctx context.Context, f PersonFilter) ([]Person, error)
	Events(ctx context.Context, f EventFilter) ([]Event, error)

	// AppendAudit appends entries to the chain (filling Seq, PrevHash, Hash).
	AppendAudit(ctx context.Context, entries ...audit.Entry) error
	// AuditEntries returns entries with Seq > after, in order, at most limit.
	AuditEntries(ctx context.Context, after int64, limit int) ([]audit.Entry, error)
	// AuditQuery returns the entries f selects, in order, at most f.Limit.
	AuditQuery(ctx context.Context, f AuditFilter) ([]audit.Entry, error)
	// AuditHead returns the sequence number and hash the store recorded for the last entry.
	AuditHead(ctx context.Context) (int64, string, error)

	TokenByHash(ctx context.Context, hash string) (Token, error)
	TouchToken(ctx context.Context, id int64, at time.Time) error
	Tokens(ctx context.Context) ([]Token, error)

	Provisioner
	Tasker
	Caser
	SCIMStore
	Notifier
	Clocker
	Requester
	Transactor

	Counts(ctx context.Context) (Counts, error)
	Ping(ctx context.Context) error
	Close() error
}
