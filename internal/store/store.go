// Package store holds the records Tango keeps (persons, imports, lifecycle
// events, audit entries, tokens) and the Store interface that every backend
// (embedded SQLite, PostgreSQL) implements. One conformance suite in
// storetest runs against each backend.
package store

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/domain"
)

// Person, event and import types and their states live in package domain;
// these names keep the store's callers reading as before.
type (
	Person      = domain.Person
	Event       = domain.Event
	Import      = domain.Import
	ImportError = domain.ImportError
)

const (
	StatusPrehire = domain.StatusPrehire
	StatusActive  = domain.StatusActive
	StatusLeft    = domain.StatusLeft

	EventJoiner = domain.EventJoiner
	EventMover  = domain.EventMover
	EventLeaver = domain.EventLeaver
	EventRehire = domain.EventRehire
	EventChange = domain.EventChange

	EventApplied   = domain.EventApplied
	EventScheduled = domain.EventScheduled
	EventHeld      = domain.EventHeld
	EventDiscarded = domain.EventDiscarded

	ImportApplied  = domain.ImportApplied
	ImportHeld     = domain.ImportHeld
	ImportRejected = domain.ImportRejected
	ImportDryRun   = domain.ImportDryRun
)

// ImportFilter selects imports for listing, newest first.
type ImportFilter struct {
	Source string
	Status string
	Limit  int // default and at most 1000
	Offset int // rows skipped (paging)
}

// AuditFilter selects audit entries for reading, in order.
type AuditFilter struct {
	Actor string
	// Action matches an action exactly or as a dotted prefix: "hr" matches
	// "hr.joiner" and "hr.import.applied".
	Action string
	// Subject matches exactly: the entries about one person, app, task...
	// (the reads of a person's data name the person, "person.read").
	Subject string
	// Source matches exactly: an HR source's entries.
	Source string
	Since  time.Time // entries at or after it
	After  int64     // entries with Seq > After (the cursor)
	// Newest lists the newest entries first (the cursor is then Before).
	Newest bool
	Before int64 // entries with Seq < Before, when set
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
	// Query keeps persons whose display name, e-mail, employee ID or
	// department contains it, ignoring case.
	Query string
	// Email matches the e-mail address, whatever its case.
	Email string
	Limit int
	After string // employee ID to page after
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
	Person string `json:"person,omitempty"`
	// Roles a service token carries; for a token bound to a person, the
	// most it may use of the person's roles (empty: all of them).
	Roles     []string  `json:"roles,omitempty"`
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
	ErrNotFound = domain.ErrNotFound
	// ErrConflict: the source changed since its workforce was read, or an
	// import of the source is held.
	ErrConflict = domain.ErrConflict
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

	ProvisioningQueue
	TaskStore
	CaseStore
	SCIMStore
	NotificationOutbox
	LifecycleMetrics
	AccessRequests
	SignInStore
	Reviews
	Transactor

	Counts(ctx context.Context) (Counts, error)
	Ping(ctx context.Context) error
	Close() error
}
