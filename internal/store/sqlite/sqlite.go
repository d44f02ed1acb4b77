// Package sqlite is Tango's embedded store: SQLite through the pure-Go
// modernc.org/sqlite driver (no cgo), in WAL mode.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

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

// Checkpoint copies the write-ahead log into the database without waiting
// for readers or the writer (PASSIVE); the connections' own automatic
// checkpoint is off, so a commit returns once its log is durable.
func (dialect) Checkpoint(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
	return err
}

// Open opens (creating) the database file at path and applies migrations.
func Open(ctx context.Context, path string) (*sqlstore.DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite %s: %w", path, err)
		}
	}
	return open(ctx, path)
}

// OpenExisting opens the Tango database at path for a command that only
// reads: a path that does not exist, or a file without Tango's schema, is
// sqlstore.ErrNoDatabase, and nothing is created. An older schema is
// still brought up to date.
func OpenExisting(ctx context.Context, path string) (*sqlstore.DB, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("sqlite %s: %w", path, sqlstore.ErrNoDatabase)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("sqlite %s: is a directory, not a database file", path)
	}
	if err := probe(ctx, path); err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	return open(ctx, path)
}

// probe checks, read-only and without the pragmas of open (which would
// turn any file into a database in WAL mode), that path holds Tango's
// schema.
func probe(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(15000)")
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('goose_db_version', 'sources')`).Scan(&n); err != nil {
		// Only a file that is not a database is "no database"; a busy or
		// locked database (a writer at work) is reported as it is.
		if strings.Contains(err.Error(), "file is not a database") {
			return fmt.Errorf("%w: %v", sqlstore.ErrNoDatabase, err)
		}
		return err
	}
	if n < 2 {
		return sqlstore.ErrNoDatabase
	}
	return nil
}

func open(ctx context.Context, path string) (*sqlstore.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(15000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "wal_autocheckpoint(0)") // the store's checkpoint pass does it (sqlstore.Checkpointer)
	q.Set("_txlock", "immediate")
	// The first connection (which turns a new file to WAL) and the
	// migrations run under an exclusive lock on the database's directory:
	// two processes opening a new file at once would otherwise race for
	// the journal mode (SQLITE_BUSY, which no busy timeout waits out) and
	// both apply the first migration (goose reads the version outside the
	// transaction that applies it).
	unlock, err := lockDir(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: lock for opening: %w", path, err)
	}
	defer unlock()
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

// migrate applies the pending migrations; open holds the directory lock.
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
