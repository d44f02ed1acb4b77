package notify

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// Directory is what the planner needs of the store: the person a message
// goes to. The SQL store (sqlstore.DB) satisfies it.
type Directory interface {
	Person(ctx context.Context, source, employeeID string) (store.Person, error)
}

// Outbox is what the worker needs of the store: claiming due
// notifications and recording how each ended. The SQL store
// (sqlstore.DB) satisfies it.
type Outbox interface {
	store.Transactor
	// ClaimNotifications leases up to limit due notifications for owner:
	// pending ones whose not_before passed, and sending ones whose lease
	// expired (their worker died).
	ClaimNotifications(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]store.Notification, error)
}
