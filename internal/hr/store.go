package hr

import (
	"context"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
)

// Store is what imports need of the store: a source's workforce, writing
// an import (applied, held, rejected or pushed) and deciding a held one
// (in a transaction).
// The SQL store (sqlstore.DB) satisfies it.
type Store interface {
	// ApplyImport writes an import, the person records it changes, its
	// events and their audit entries in one transaction. For a held import
	// (imp.Status == store.ImportHeld) the persons are kept with the import and
	// written only when it is approved. It fails with store.ErrConflict when the
	// source's serial is no longer imp.BaseSerial or an import of the source
	// is held. Events and entries get their IDs and hashes filled in.
	// A non-nil prov is queued in the same transaction (not for held imports),
	// and the import's applied events are marked provisioned.
	ApplyImport(ctx context.Context, imp store.Import, persons []store.Person, events []store.Event, entries []audit.Entry, prov *store.ProvisionBatch) error
	// InSharedTx runs the writes of a pushed person change
	// (ApplyPersonChange).
	store.SharedTransactor
	// InTx runs the decision on a held import (Decide).
	store.Transactor
	// HeldImport returns the person records and events a held import keeps
	// until it is decided (what approving it applies); store.ErrNotFound when no
	// import has the ID, an error when it is not held.
	HeldImport(ctx context.Context, id string) ([]store.Person, []store.Event, error)
	Person(ctx context.Context, source, employeeID string) (store.Person, error)
	// RejectImport records an invalid feed (imp.Status == store.ImportRejected,
	// with its Errors) and its audit entry, and nothing else: no person,
	// event or source serial changes.
	RejectImport(ctx context.Context, imp store.Import, entry audit.Entry) error
	// store.Workforce loads every person of a source with its current serial.
	Workforce(ctx context.Context, source string) (store.Workforce, error)
}
