package postgres_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/tango-iga/tango/internal/store"
	"github.com/tango-iga/tango/internal/store/postgres"
	"github.com/tango-iga/tango/internal/store/sqlstore"
	"github.com/tango-iga/tango/internal/store/storetest"
	"github.com/tango-iga/tango/internal/testenv"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T) store.Store {
			st, err := postgres.Open(context.Background(), testenv.PostgresDSN(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
		Raw: func(st store.Store) *sql.DB { return st.(*sqlstore.DB).SQL() },
	})
}

func TestRebindAndRedact(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://tango:s3cretpw@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("connecting to a closed port succeeded")
	}
	if got := err.Error(); strings.Contains(got, "s3cretpw") {
		t.Fatalf("password leaked in error: %s", got)
	}
}
