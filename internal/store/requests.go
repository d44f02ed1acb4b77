package store

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/domain"
)

// Access requests and their states live in package domain.
type (
	Request  = domain.Request
	Approval = domain.Approval
)

const (
	RequestPending  = domain.RequestPending
	RequestApproved = domain.RequestApproved
	RequestRejected = domain.RequestRejected
	RequestExpired  = domain.RequestExpired

	StepManager  = domain.StepManager
	StepOwner    = domain.StepOwner
	StepSecurity = domain.StepSecurity

	RequestIDPlaceholder = domain.RequestIDPlaceholder
)

// RequestFilter selects requests; empty fields match anything.
type RequestFilter struct {
	Source        string
	State         string
	Requester     string
	Beneficiary   string
	Unprovisioned bool // only requests approved or expired and not yet planned for
	// DueBefore, when set, keeps pending requests whose current step has a
	// deadline before it.
	DueBefore   time.Time
	Unreminded  bool // current step not reminded of yet
	Unescalated bool // current step not escalated yet
	Escalated   bool // current step escalated
	Limit       int
}

// AccessRequests keeps access requests and who is away.
type AccessRequests interface {
	// CreateRequest stores a new request (ID, State pending, Step 0 filled
	// in) with a "request.created" audit entry by actor and the
	// notifications it causes (their Request set; RequestIDPlaceholder in
	// their subject and body replaced by the new ID), in one transaction.
	CreateRequest(ctx context.Context, r Request, actor string, notes ...Notification) (Request, error)
	// UpdateRequest writes r's new state, step, approvals and decision if
	// the stored request is still in state fromState at step fromStep
	// (ErrConflict otherwise: someone decided first), with an audit entry
	// "request.<action>" by actor at at and the notifications it causes,
	// in one transaction. Approved and expired requests are marked
	// unprovisioned.
	UpdateRequest(ctx context.Context, r Request, fromState string, fromStep int, action, actor string, at time.Time, notes ...Notification) (Request, error)
	// RemindRequest records that the approvers of a pending request's step
	// (still at index step) were reminded of its deadline, with the
	// reminders, in one transaction; ErrConflict when the request moved
	// on or was reminded already.
	RemindRequest(ctx context.Context, id int64, step int, actor string, at time.Time, notes ...Notification) (Request, error)
	// EscalateRequest records that a pending request's overdue step (still
	// at index step) was escalated to the employee `to`, with a
	// "request.escalated" audit entry and the notifications, in one
	// transaction; ErrConflict when it moved on or was escalated already.
	EscalateRequest(ctx context.Context, id int64, step int, to, actor string, at time.Time, notes ...Notification) (Request, error)
	Request(ctx context.Context, id int64) (Request, error)
	// Requests lists requests, oldest first.
	Requests(ctx context.Context, f RequestFilter) ([]Request, error)
	// ExpireRequests ends every approved request whose ExpiresAt is at or
	// before now, each with a "request.expired" audit entry, and returns them.
	ExpireRequests(ctx context.Context, now time.Time, actor string) ([]Request, error)
	// SetAway records that a person is away until a time (zero: back), with
	// an audit entry; an away approver is replaced by their manager.
	SetAway(ctx context.Context, employeeID string, until time.Time, actor string, at time.Time) error
	// AwayUntil is when a person is back (zero when not away).
	AwayUntil(ctx context.Context, employeeID string) (time.Time, error)
}
