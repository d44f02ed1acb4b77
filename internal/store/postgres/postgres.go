// Package postgres is Tango's scale-out store: PostgreSQL through pgx.
// Several `tango serve` processes may share one database; writers are
// serialised by a transaction-scoped advisory lock, migrations by a
// session lock.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/tango-iga/tango/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// writeLock is the advisory lock key every writing transaction takes.
const writeLock = 0x74616e676f // "tango"

type dialect struct{}

// Rebind turns each '?' into $1, $2, …; Tango's queries have no '?' in literals.
func (dialect) Rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func (dialect) Lock(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, writeLock)
	return err
}

func (dialect) MaxParams() int { return 65535 }

// Unnest: bulk inserts send one array per column.
func (dialect) Unnest() bool { return true }

// Copy streams rows into table with COPY FROM STDIN inside the open
// transaction of conn: pgx encodes the next rows while the server inserts
// the previous ones, and no statement or parameter array is built.
func (dialect) Copy(ctx context.Context, conn *sql.Conn, table string, cols []string, n int, row func(i int, args []any) []any) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy into %s: driver connection is %T, not pgx", table, dc)
		}
		i := 0
		var args []any
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			args = row(i, args[:0])
			i++
			return args, nil
		}))
		return err
	})
}

// Open connects with a postgres:// DSN and applies migrations.
func Open(ctx context.Context, dsn string) (*sqlstore.DB, error) {
	return open(ctx, dsn, false)
}

// OpenExisting connects for a command that only reads: a database without
// Tango's schema is sqlstore.ErrNoDatabase, and nothing is created in it.
// An older schema is still brought up to date.
func OpenExisting(ctx context.Context, dsn string) (*sqlstore.DB, error) {
	return open(ctx, dsn, true)
}

// open connects; migrations run under goose's session lock (a PostgreSQL
// advisory lock), so that processes starting at once apply each only once.
func open(ctx context.Context, dsn string, mustHaveSchema bool) (*sqlstore.DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", redact(err, dsn))
	}
	db.SetMaxOpenConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", redact(err, dsn))
	}
	if mustHaveSchema {
		var ok bool
		err := db.QueryRowContext(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL AND to_regclass('sources') IS NOT NULL`).Scan(&ok)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("postgres: %w", redact(err, dsn))
		}
		if !ok {
			db.Close()
			return nil, fmt.Errorf("postgres: %w", sqlstore.ErrNoDatabase)
		}
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return sqlstore.New(db, dialect{}), nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// redact keeps a password in the DSN out of error messages.
func redact(err error, dsn string) error {
	msg := err.Error()
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			if c := strings.Index(dsn[i+3:at], ":"); c >= 0 {
				pw := dsn[i+3+c+1 : at]
				if pw != "" {
					msg = strings.ReplaceAll(msg, pw, "***")
				}
			}
		}
	}
	for _, kv := range strings.Fields(dsn) {
		if v, ok := strings.CutPrefix(kv, "password="); ok && v != "" {
			msg = strings.ReplaceAll(msg, v, "***")
		}
	}
	return fmt.Errorf("%s", msg)
}
