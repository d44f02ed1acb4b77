package domain

import "time"

// Notification kinds: what a message is about.
const (
	NotifyAssigned  = "task.assigned"  // a case opened with tasks for the recipient
	NotifyReminder  = "task.reminder"  // a task's deadline is near
	NotifyEscalated = "task.escalated" // a task went past its deadline
	NotifyStep      = "case.notify"    // a playbook's notify step
	// A task given to another team or person (tango tasks reassign), or
	// made by a manual connector, told to its new owner.
	NotifyReassigned = "task.reassigned"
	// Access requests: a step waiting for its approvers (created, or the
	// previous step approved), their reminder, the escalation of an
	// overdue step, and the decision told to requester and beneficiary.
	NotifyRequestPending   = "request.pending"
	NotifyRequestReminder  = "request.reminder"
	NotifyRequestEscalated = "request.escalated"
	NotifyRequestDecided   = "request.decided"
	// Access reviews: a reviewer's one reminder per campaign of the items
	// still waiting for them, and the escalation of pending items to a
	// reviewer's manager near the deadline.
	NotifyReviewReminder  = "review.reminder"
	NotifyReviewEscalated = "review.escalated"
)

// NotifyKinds are every notification kind.
var NotifyKinds = []string{NotifyAssigned, NotifyReminder, NotifyEscalated, NotifyStep, NotifyReassigned,
	NotifyRequestPending, NotifyRequestReminder, NotifyRequestEscalated, NotifyRequestDecided,
	NotifyReviewReminder, NotifyReviewEscalated}

// Notification channels.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// Notification states.
const (
	NotifyPending = "pending" // waiting for its first try or a retry
	NotifySending = "sending" // leased by a worker
	NotifySent    = "sent"
	NotifyFailed  = "failed" // gave up after the last retry, or undeliverable
)

// Notification is one message in the outbox: an e-mail to one address or
// a chat message to one team's webhook. It never holds a secret: a
// webhook's URL stays in the config and Address names the config key.
type Notification struct {
	ID      int64  `json:"id"`
	Kind    string `json:"kind"`
	Channel string `json:"channel"`
	// Recipient is who it is for: "team:it", "person:E123", "lead:security".
	Recipient string `json:"recipient"`
	// Address is the e-mail address, or for a webhook the config key of
	// its URL ("notifications.teams.it.webhook").
	Address   string    `json:"address"`
	Subject   string    `json:"subject"`
	Body      string    `json:"body"`
	Case      int64     `json:"case,omitempty"`
	Task      int64     `json:"task,omitempty"`
	Step      string    `json:"step,omitempty"`    // OpenCase ties it to the case's task of this step
	Request   int64     `json:"request,omitempty"` // the access request it is about
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	NotBefore time.Time `json:"not_before,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	SentAt    time.Time `json:"sent_at,omitzero"`

	LeaseOwner string    `json:"-"`
	LeaseUntil time.Time `json:"-"`
}

// NotificationResult is how one delivery attempt ended.
type NotificationResult struct {
	State     string    // sent, pending (retry) or failed
	Error     string    // without secrets
	NotBefore time.Time // for a retry
}
