package scheduler

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/request"
	"github.com/tango-iga/tango/internal/store"
)

// Store is what the scheduler needs of the store: due events and what
// its passes hand on to access requests. The SQL store (sqlstore.DB)
// satisfies it.
type Store interface {
	request.Store
	// ApplyDue applies every scheduled event effective at or before now:
	// a joiner or rehire makes the person active, a leaver makes them left.
	// A new event for a person whose start or end date changed cancels the
	// person's earlier scheduled events.
	ApplyDue(ctx context.Context, now time.Time, actor string) ([]store.Event, error)
}
