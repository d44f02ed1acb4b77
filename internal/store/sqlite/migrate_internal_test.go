package sqlite

import (
	"database/sql"
	"io/fs"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/tango-iga/tango/internal/store/sqlstore"
	"github.com/tango-iga/tango/internal/store/storetest"
)

// Migration 00010 numbers the SCIM resources stored before it in creation
// order and fills the group membership from the stored groups.
func TestMigration10BackfillsPositionsAndMembers(t *testing.T) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "old.db")+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		t.Fatal(err)
	}
	storetest.SCIMMigrationBackfill(t, db, p, sqlstore.New(db, dialect{}), dialect{}.Rebind)
}

// Migration 00012 makes operations that failed and went back to pending
// retrying.
func TestMigration12RetryingOperations(t *testing.T) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "old.db")+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		t.Fatal(err)
	}
	storetest.OperationStatesMigration(t, db, p, sqlstore.New(db, dialect{}), dialect{}.Rebind)
}
