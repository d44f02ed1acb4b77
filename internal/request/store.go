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
	store.Transactor
	// AppendAudit appends entries to the chain (filling Seq, PrevHash, Hash).
	AppendAudit(ctx context.Context, entries ...audit.Entry) error
	// Grants returns every grant row (of one source, or all with "").
	PersonGrants(ctx context.Context, source, employeeID string) ([]store.GrantRow, error)
	Person(ctx context.Context, source, employeeID string) (store.Person, error)
	// Requests lists requests, oldest first.
	Requests(ctx context.Context, f store.RequestFilter) ([]store.Request, error)
	// AwayUntil is when a person is back (zero when not away).
	AwayUntil(ctx context.Context, employeeID string) (time.Time, error)
	Request(ctx context.Context, id int64) (store.Request, error)
}
