package scheduler

import (
	"github.com/tango-iga/tango/internal/request"
)

// Store is what the scheduler needs of the store: transactions for due
// events (hr.ApplyDue) and what its passes hand on to access requests.
// The SQL store (sqlstore.DB) satisfies it.
type Store interface {
	request.Store
}
