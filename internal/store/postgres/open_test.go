package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"

	"github.com/tango-iga/tango/internal/store/postgres"
	"github.com/tango-iga/tango/internal/store/sqlstore"
	"github.com/tango-iga/tango/internal/testenv"
)

// A command that only reads refuses a database without Tango's schema and
// creates none in it; once a writer has created it, it opens.
func TestOpenExistingRefusesADatabaseWithoutTheSchema(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.PostgresDSN(t)
	if _, err := postgres.OpenExisting(ctx, dsn); !errors.Is(err, sqlstore.ErrNoDatabase) {
		t.Fatalf("empty database: %v, want ErrNoDatabase", err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("a read-only open created %d tables (%v)", tables, err)
	}
	// Writers starting at once migrate it once (goose's advisory lock).
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := postgres.Open(ctx, dsn)
			if err == nil {
				err = st.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	st, err := postgres.OpenExisting(ctx, dsn)
	if err != nil {
		t.Fatalf("after migration: %v", err)
	}
	st.Close()
}
