package request

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
)

// Store is what access requests need of the store: the workforce,
// requests and who is away. The SQL store (sqlstore.DB) satisfies it.
type Store interface {
	// AppendAudit appends entries to the chain (filling Seq, PrevHash, Hash).
	AppendAudit(ctx context.Context, entries ...audit.Entry) error
	// CreateRequest stores a new request (ID, State pending, Step 0 filled
	// in) with a "request.created" audit entry by actor and the
	// notifications it causes (their store.Request set; store.RequestIDPlaceholder in
	// their subject and body replaced by the new ID), in one transaction.
	CreateRequest(ctx context.Context, r store.Request, actor string, notes ...store.Notification) (store.Request, error)
	// Grants returns every grant row (of one source, or all with "").
	Grants(ctx context.Context, source string) ([]store.GrantRow, error)
	Person(ctx context.Context, source, employeeID string) (store.Person, error)
	// Requests lists requests, oldest first.
	Requests(ctx context.Context, f store.RequestFilter) ([]store.Request, error)
	// AwayUntil is when a person is back (zero when not away).
	AwayUntil(ctx context.Context, employeeID string) (time.Time, error)
	// EscalateRequest records that a pending request's overdue step (still
	// at index step) was escalated to the employee `to`, with a
	// "request.escalated" audit entry and the notifications, in one
	// transaction; store.ErrConflict when it moved on or was escalated already.
	EscalateRequest(ctx context.Context, id int64, step int, to, actor string, at time.Time, notes ...store.Notification) (store.Request, error)
	// ExpireRequests ends every approved request whose ExpiresAt is at or
	// before now, each with a "request.expired" audit entry, and returns them.
	ExpireRequests(ctx context.Context, now time.Time, actor string) ([]store.Request, error)
	// RemindRequest records that the approvers of a pending request's step
	// (still at index step) were reminded of its deadline, with the
	// reminders, in one transaction; store.ErrConflict when the request moved
	// on or was reminded already.
	RemindRequest(ctx context.Context, id int64, step int, actor string, at time.Time, notes ...store.Notification) (store.Request, error)
	Request(ctx context.Context, id int64) (store.Request, error)
	// UpdateRequest writes r's new state, step, approvals and decision if
	// the stored request is still in state fromState at step fromStep
	// (store.ErrConflict otherwise: someone decided first), with an audit entry
	// "request.<action>" by actor at at and the notifications it causes,
	// in one transaction. Approved and expired requests are marked
	// unprovisioned.
	UpdateRequest(ctx context.Context, r store.Request, fromState string, fromStep int, action, actor string, at time.Time, notes ...store.Notification) (store.Request, error)
}
