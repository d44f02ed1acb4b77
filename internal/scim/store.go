package scim

import (
	"context"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/auth"
	"github.com/tango-iga/tango/internal/hr"
	"github.com/tango-iga/tango/internal/store"
)

// Store is what the SCIM server needs of the store: its resources, the
// pushes they feed (through hr) and the read-audit batch. The SQL store
// (sqlstore.DB) satisfies it.
type Store interface {
	hr.Store
	auth.Store
	// AppendAudit appends entries to the chain (filling Seq, PrevHash, Hash).
	AppendAudit(ctx context.Context, entries ...audit.Entry) error
	// SCIMGroupsOf returns, for each of the ids that is a member of any
	// group, the groups it is a direct member of, ordered by group id.
	SCIMGroupsOf(ctx context.Context, ids []string) (map[string][]store.SCIMGroupRef, error)
	// store.SCIMResource returns one resource by type and id.
	SCIMResource(ctx context.Context, typ, id string) (store.SCIMResource, error)
	// SCIMResources returns resources matching q and, when q.Count, the
	// total number of matches.
	SCIMResources(ctx context.Context, q store.SCIMQuery) ([]store.SCIMResource, int, error)
	// WriteSCIM writes resources that feed no person (groups), with their
	// audit entries, in one transaction.
	WriteSCIM(ctx context.Context, writes []store.SCIMWrite, entries []audit.Entry) error
}
