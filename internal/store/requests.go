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
	// Involving keeps the requests a person asked for or is the
	// beneficiary of.
	Involving string
	// Newest lists the newest (highest ID) first; else the oldest.
	Newest bool
	Limit  int
	Offset int // rows skipped (paging)
}

// AccessRequests keeps access requests and who is away.
type AccessRequests interface {
	Request(ctx context.Context, id int64) (Request, error)
	// Requests lists requests, oldest first.
	Requests(ctx context.Context, f RequestFilter) ([]Request, error)
	// AwayUntil is when a person is back (zero when not away).
	AwayUntil(ctx context.Context, employeeID string) (time.Time, error)
}
