// Package sqlite is Tango's embedded store: SQLite through the pure-Go
// modernc.org/sqlite driver (no cgo), in WAL mode.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/tango-iga/tango/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

type dialect struct{}

func (dialect) Rebind(q string) string { return q }

// Lock is a no-op: every transaction starts with BEGIN IMMEDIATE, which
// already serialises writers.
func (dialect) Lock(context.Context, *sql.Tx) error { return nil }
func (dialect) MaxParams() int                      { return 32766 }
func (dialect) Unnest() bool                        { return false }

// Open opens (creating) the database file at path and applies migrations.
func Open(ctx context.Context, path string) (*sqlstore.DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite %s: %w", path, err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(15000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	// Keep every connection: a new one costs an open and its pragmas, and
	// loses the statements prepared on the old one (database/sql keeps 2
	// idle connections by default).
	db.SetMaxIdleConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite %s: migrate: %w", path, err)
	}
	// The database holds personal data: readable by its owner only.
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite %s: restricting the file to its owner: %w", path, err)
	}
	return sqlstore.New(db, dialect{}), nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}
