package provision

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// Store is what provisioning needs of the store: the queue of account
// operations and grants, the events and requests it plans for, app
// health and findings, and the tasks of manual apps. The SQL store
// (sqlstore.DB) satisfies it.
type Store interface {
	store.Transactor
	AddFinding(ctx context.Context, f store.Finding) error
	// Grants returns every grant row (of one source, or all with "").
	Grants(ctx context.Context, source string) ([]store.GrantRow, error)
	// PersonGrants returns one person's grant rows.
	PersonGrants(ctx context.Context, source, employeeID string) ([]store.GrantRow, error)
	Person(ctx context.Context, source, employeeID string) (store.Person, error)
	// QueueOps writes a planning step atomically.
	QueueOps(ctx context.Context, b store.ProvisionBatch) error
	// Requests lists requests, oldest first.
	Requests(ctx context.Context, f store.RequestFilter) ([]store.Request, error)
	// Revocations lists the grants access reviews revoked (of a source, or
	// all with ""; only those not yet planned for when unplanned).
	Revocations(ctx context.Context, source string, unplanned bool) ([]store.Revocation, error)
	// PersonRevocations lists one person's revocations.
	PersonRevocations(ctx context.Context, source, employeeID string) ([]store.Revocation, error)
	// Unprovisioned returns applied events not yet planned for, oldest first.
	Unprovisioned(ctx context.Context, limit int) ([]store.Event, error)
	AppStates(ctx context.Context) ([]store.AppState, error)
	// ClaimOps leases up to limit due operations (pending or retrying with
	// NotBefore passed, or running with an expired lease) for owner, skipping apps in
	// skip and any operation with an earlier unfinished one for the same
	// person in the same app. Expired leases are claimable again.
	ClaimOps(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip []string) ([]store.Operation, error)
	// FinishOp records the outcome of a claimed operation.
	FinishOp(ctx context.Context, id int64, owner string, at time.Time, r store.OpResult) error
	// OpCounts counts operations by app and state.
	OpCounts(ctx context.Context) (map[string]map[string]int, error)
	// Ops lists operations in ID order.
	Ops(ctx context.Context, f store.OpFilter) ([]store.Operation, error)
	Persons(ctx context.Context, f store.PersonFilter) ([]store.Person, error)
	PutAppState(ctx context.Context, s store.AppState) error
	Tasks(ctx context.Context, f store.TaskFilter) ([]store.Task, error)
	// ReplaceFindings records the current findings of one kind for an app:
	// new ones open, present ones refreshed, absent ones resolved.
	ReplaceFindings(ctx context.Context, kind, app string, fs []store.Finding, at time.Time) error
	// PutAccountActivity records when accounts were last used, as their
	// apps reported it (reconcile).
	PutAccountActivity(ctx context.Context, acts []store.AccountActivity) error
}
