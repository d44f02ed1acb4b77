package store

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/domain"
)

// SCIM resource types.
const (
	SCIMUser  = "User"
	SCIMGroup = "Group"
)

// Errors of SCIM resource writes.
var (
	// ErrVersion: the resource's stored version is not the expected one
	// (it changed since it was read, or an If-Match precondition fails).
	ErrVersion = domain.E(domain.KindConflict, "resource version changed")
	// ErrUniqueness: another resource already has the userName (compared
	// case-insensitively) or the employee ID.
	ErrUniqueness = domain.E(domain.KindConflict, "not unique")
)

// SCIMResource is a SCIM resource as pushed by a client: its whole JSON
// document (without meta, which is built from the columns) and the
// columns that filters and uniqueness checks use.
type SCIMResource struct {
	ID         string
	Type       string // SCIMUser or SCIMGroup
	Source     string
	EmployeeID string // the person a User feeds
	NameKey    string // lower-cased userName (User) or displayName (Group)
	ExternalID string
	Version    int64
	// Seq is the resource's place in creation order among its type
	// (assigned by the store when it is created; list pages follow it).
	Seq      int64
	Created  time.Time
	Modified time.Time
	Doc      []byte // JSON object
	// Group writes: the ids of the members and the displayName, kept as
	// the membership that Users' "groups" are read from.
	Members []string
	Display string
}

// SCIMGroupRef is a group a resource is a direct member of.
type SCIMGroupRef struct {
	ID      string
	Display string
}

// SCIMQuery selects resources of one type. Only the equality tests that
// indexes serve are done in SQL; the caller evaluates the rest.
type SCIMQuery struct {
	Type       string
	IDs        []string // any of these ids (empty: any)
	NameKey    string   // exact lower-cased userName/displayName
	ExternalID string
	EmployeeID string
	Source     string
	// OrderByName sorts by NameKey instead of creation order (Seq).
	OrderByName bool
	Offset      int // rows to skip
	Limit       int // at most this many; <= 0: all
	// Count asks for the total number of matches (ignoring Offset/Limit).
	// A query by Type alone in creation order is served from kept counts
	// and positions: neither the count nor the Offset scans rows.
	Count bool
}

// SCIMWrite is one resource written (created or replaced) or deleted in
// the transaction of a person change, or on its own.
type SCIMWrite struct {
	Resource SCIMResource // Version is the expected stored version: 0 to create
	Delete   bool
}

// PersonChange is one person's change pushed by an HR system (over SCIM):
// the person record to write, its lifecycle events and their audit
// entries, optional provisioning, and the SCIM resource, in one
// transaction.
type PersonChange struct {
	// Import is the push's import: pushes are not one import each but
	// are counted into the import Import.ID of their source and time
	// window (created by the first push, its counts added to by the
	// others); their events and audit entries name it.
	Import Import
	// HeldID is the ID for a new held import, when this change starts a
	// burst of deactivations held for approval.
	HeldID  string
	Person  *Person
	Events  []Event
	Entries []audit.Entry
	Prov    *ProvisionBatch
	// Expect is the stored person record the change was computed from
	// (nil: the person must not exist). A different stored status or
	// update time fails the change with ErrConflict.
	Expect *Person
	// Writes are SCIM resources written in the same transaction; a
	// version mismatch fails the change with ErrVersion.
	Writes []SCIMWrite
	// MaxLeaversPerHour bounds deactivations of the source: a change
	// with a leaver beyond the count (or, with MaxLeaversPercent, that
	// percentage of the source's active persons) in the last hour is held
	// for approval instead of applied. Zero both: no limit.
	MaxLeaversPerHour int
	MaxLeaversPercent float64
}

// PersonChangeResult says what became of a PersonChange.
type PersonChangeResult struct {
	ImportID string
	Held     bool   // the leaver is held in ImportID for approval
	Reason   string // why it was held
}

// SCIMStore keeps SCIM resources.
type SCIMStore interface {
	// SCIMResource returns one resource by type and id.
	SCIMResource(ctx context.Context, typ, id string) (SCIMResource, error)
	// SCIMResources returns resources matching q and, when q.Count, the
	// total number of matches.
	SCIMResources(ctx context.Context, q SCIMQuery) ([]SCIMResource, int, error)
	// SCIMGroupsOf returns, for each of the ids that is a member of any
	// group, the groups it is a direct member of, ordered by group id.
	SCIMGroupsOf(ctx context.Context, ids []string) (map[string][]SCIMGroupRef, error)
	// WriteSCIM writes resources that feed no person (groups), with their
	// audit entries, in one transaction.
	WriteSCIM(ctx context.Context, writes []SCIMWrite, entries []audit.Entry) error
	// InSharedTx runs the writes of a pushed person change
	// (hr.ApplyPersonChange).
	SharedTransactor
}
