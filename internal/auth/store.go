package auth

import (
	"context"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// Store is what tokens need of the store: writing, finding and touching
// them. The SQL store (sqlstore.DB) satisfies it.
type Store interface {
	store.Transactor
	TokenByHash(ctx context.Context, hash string) (store.Token, error)
	TouchToken(ctx context.Context, id int64, at time.Time) error
}
