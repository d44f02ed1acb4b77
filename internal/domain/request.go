package domain

import "time"

// Access request states.
const (
	RequestPending  = "pending"  // waiting for the approval of its next step
	RequestApproved = "approved" // every step approved: a grant, active until it expires
	RequestRejected = "rejected" // refused by an approver, or by a separation-of-duties rule
	RequestExpired  = "expired"  // a time-bound grant whose time ran out; provisioning revokes it
)

// Approval steps, in chain order.
const (
	StepManager  = "manager"  // the beneficiary's manager
	StepOwner    = "owner"    // the owner of the requested entitlement
	StepSecurity = "security" // Security, for high-risk entitlements
)

// Approval is one approved step of a request.
type Approval struct {
	Step string    `json:"step"`
	By   string    `json:"by"` // employee ID of the approver
	At   time.Time `json:"at,omitzero"`
	// InsteadOf is the approver the step was meant for when someone else
	// stood in (they had left or were away).
	InsteadOf string `json:"instead_of,omitempty"`
	// Escalated: By approved as the one the overdue step was escalated to.
	Escalated bool   `json:"escalated,omitempty"`
	Note      string `json:"note,omitempty"`
}

// Request is an access request: a person asks for an app's entitlement for
// themselves or for one of their reports. Once approved it is a grant that
// provisioning applies, until it expires (ExpiresAt, when time-bound).
type Request struct {
	ID            int64      `json:"id"`
	Source        string     `json:"source"`      // the HR source of requester and beneficiary
	Requester     string     `json:"requester"`   // employee ID of who asked
	Beneficiary   string     `json:"beneficiary"` // employee ID of who gets the access
	App           string     `json:"app"`
	Entitlement   string     `json:"entitlement"`
	Justification string     `json:"justification"`
	Risk          string     `json:"risk"`
	Duration      Duration   `json:"duration,omitempty"` // "90d", "8h"; 0 (absent): until revoked
	State         string     `json:"state"`
	Chain         []string   `json:"chain"` // the steps, in order
	Step          int        `json:"step"`  // index in Chain of the next step to approve
	Approvals     []Approval `json:"approvals"`
	Reason        string     `json:"reason,omitempty"` // why it was rejected or expired
	DecidedBy     string     `json:"decided_by,omitempty"`
	CreatedAt     time.Time  `json:"created_at,omitzero"`
	DecidedAt     time.Time  `json:"decided_at,omitzero"`
	ExpiresAt     time.Time  `json:"expires_at,omitzero"` // for an approved, time-bound grant
	// StepSince is when the current step became current (creation or the
	// previous approval); Due is its deadline (zero: none).
	StepSince time.Time `json:"step_since,omitzero"`
	Due       time.Time `json:"due,omitzero"`
	// RemindedAt is when the current step's approvers were reminded of its
	// deadline; EscalatedTo (an employee ID) and EscalatedAt when the step,
	// overdue, was escalated. Each step starts with none.
	RemindedAt  time.Time `json:"reminded_at,omitzero"`
	EscalatedTo string    `json:"escalated_to,omitempty"`
	EscalatedAt time.Time `json:"escalated_at,omitzero"`
	// ReviewItem is the access review item whose modify decision granted
	// it (approved by the reviewer's decision, no chain); 0 for a request
	// a person made.
	ReviewItem int64 `json:"review_item,omitempty"`
	// Provisioned is false from approval or expiry until provisioning has
	// planned the change (the engine's cursor).
	Provisioned bool `json:"-"`
}

// NextStep is the step waiting for approval ("" unless pending).
func (r Request) NextStep() string {
	if r.State != RequestPending || r.Step >= len(r.Chain) {
		return ""
	}
	return r.Chain[r.Step]
}

// Overdue reports whether a pending request's current step is past its
// deadline at now.
func (r Request) Overdue(now time.Time) bool {
	return r.State == RequestPending && !r.Due.IsZero() && r.Due.Before(now)
}

// RequestIDPlaceholder stands for a new request's ID in the notifications
// written with it (CreateRequest).
const RequestIDPlaceholder = "{{request}}"
