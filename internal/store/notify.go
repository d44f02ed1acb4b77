package store

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/domain"
)

// Notifications and their states live in package domain.
type (
	Notification       = domain.Notification
	NotificationResult = domain.NotificationResult
)

const (
	NotifyAssigned         = domain.NotifyAssigned
	NotifyReminder         = domain.NotifyReminder
	NotifyEscalated        = domain.NotifyEscalated
	NotifyStep             = domain.NotifyStep
	NotifyReassigned       = domain.NotifyReassigned
	NotifyRequestPending   = domain.NotifyRequestPending
	NotifyRequestReminder  = domain.NotifyRequestReminder
	NotifyRequestEscalated = domain.NotifyRequestEscalated
	NotifyRequestDecided   = domain.NotifyRequestDecided
	NotifyReviewReminder   = domain.NotifyReviewReminder
	NotifyReviewEscalated  = domain.NotifyReviewEscalated

	ChannelEmail   = domain.ChannelEmail
	ChannelWebhook = domain.ChannelWebhook

	NotifyPending = domain.NotifyPending
	NotifySending = domain.NotifySending
	NotifySent    = domain.NotifySent
	NotifyFailed  = domain.NotifyFailed
)

// NotifyKinds are every notification kind.
var NotifyKinds = domain.NotifyKinds

// NotificationFilter selects notifications; the newest first.
type NotificationFilter struct {
	State, Channel, Kind, Recipient string
	Case, Task, Request             int64
	Limit                           int
	BeforeID                        int64 // page: ids below it
}

// NotificationOutbox keeps the notification outbox.
type NotificationOutbox interface {
	// QueueNotifications writes notifications (state pending) on their own.
	QueueNotifications(ctx context.Context, ns []Notification) ([]Notification, error)
	// ClaimNotifications leases up to limit due notifications for owner:
	// pending ones whose not_before passed, and sending ones whose lease
	// expired (their worker died).
	ClaimNotifications(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Notification, error)
	Notifications(ctx context.Context, f NotificationFilter) ([]Notification, error)
	// NotificationCounts counts notifications by channel and state.
	NotificationCounts(ctx context.Context) (map[string]map[string]int, error)
}
