package store_test

// The two migration trees cannot drift: SQLite and PostgreSQL keep their
// own SQL (internal/store/sqlite/migrations, internal/store/postgres/
// migrations), and this test migrates a fresh database of each and
// compares what the trees produce. Types are not compared (INTEGER vs
// BIGINT, AUTOINCREMENT vs IDENTITY are the point of two trees); names are.

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tango-iga/tango/internal/store/postgres"
	"github.com/tango-iga/tango/internal/store/sqlite"
	"github.com/tango-iga/tango/internal/testenv"
)

// intendedDifferences lists the schema facts (as schemaFacts spells them)
// that only one backend has, on purpose, with the reason. Empty today:
// both trees produce the same tables, columns, keys and indexes.
var intendedDifferences = map[string]string{}

// skippedVersions are migration numbers neither tree has. 00007 was never
// committed: the number was skipped when 00008 (access requests) was
// merged. It stays empty for good: goose refuses to apply a version
// lower than one already applied, so a new 00007 would stop every
// existing database from migrating.
var skippedVersions = []string{"00007"}

func TestMigrationTreesMatch(t *testing.T) {
	lite := migrationFiles(t, "sqlite/migrations")
	pg := migrationFiles(t, "postgres/migrations")
	if !slices.Equal(lite, pg) {
		t.Fatalf("migration files differ:\nsqlite:   %v\npostgres: %v", lite, pg)
	}
	// The numbers run from 00001 without gaps but the skipped ones.
	next := 1
	for _, f := range lite {
		for n := fmt.Sprintf("%05d", next); slices.Contains(skippedVersions, n); n = fmt.Sprintf("%05d", next) {
			next++
		}
		if want := fmt.Sprintf("%05d_", next); !strings.HasPrefix(f, want) {
			t.Fatalf("migration %s: want the number %s (only %v are skipped)", f, strings.TrimSuffix(want, "_"), skippedVersions)
		}
		next++
	}

	ctx := context.Background()
	liteSt, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tango.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { liteSt.Close() })
	pgSt, err := postgres.Open(ctx, testenv.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pgSt.Close() })

	liteFacts := schemaFacts(t, liteSt.SQL(), sqliteQueries)
	pgFacts := schemaFacts(t, pgSt.SQL(), postgresQueries)
	if len(liteFacts) < 50 {
		t.Fatalf("only %d schema facts read from SQLite: the introspection is broken", len(liteFacts))
	}
	for _, f := range []string{"table persons", "column persons.employee_id", "primary key persons (source, employee_id)",
		"unique tokens (hash)", "index cases_event on cases (event_id) unique"} {
		if !slices.Contains(liteFacts, f) || !slices.Contains(pgFacts, f) {
			t.Fatalf("%q not read from both backends: the introspection is broken", f)
		}
	}
	onlyIn := func(a, b []string) []string {
		var out []string
		for _, f := range a {
			if !slices.Contains(b, f) && intendedDifferences[f] == "" {
				out = append(out, f)
			}
		}
		return out
	}
	if d := onlyIn(liteFacts, pgFacts); len(d) > 0 {
		t.Errorf("only in SQLite's schema:\n  %s", strings.Join(d, "\n  "))
	}
	if d := onlyIn(pgFacts, liteFacts); len(d) > 0 {
		t.Errorf("only in PostgreSQL's schema:\n  %s", strings.Join(d, "\n  "))
	}
	for f := range intendedDifferences {
		if slices.Contains(liteFacts, f) == slices.Contains(pgFacts, f) {
			t.Errorf("intended difference %q is no longer one: remove it from the list", f)
		}
	}
}

func migrationFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if strings.HasSuffix(e.Name(), ".sql") {
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		t.Fatalf("no migrations in %s", dir)
	}
	return out
}

// introspection holds one backend's queries. Each returns rows of
// (table, name, position); an index's rows are its columns (name NULL for
// an expression) and unique is read separately.
type introspection struct {
	tables  string // table
	columns string // table, column, position
	pkeys   string // table, column, position
	indexes string // index, table, unique
	uniques string // index backing a UNIQUE constraint, table
	indexed string // index, column or NULL, position
}

// Tables of the migration tool and the engine itself are not Tango's schema.
var sqliteQueries = introspection{
	tables: `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'`,
	columns: `SELECT m.name, c.name, c.cid FROM sqlite_master m, pragma_table_info(m.name) c
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'goose_db_version'`,
	pkeys: `SELECT m.name, c.name, c.pk FROM sqlite_master m, pragma_table_info(m.name) c
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'goose_db_version' AND c.pk > 0`,
	// Only indexes made by CREATE INDEX (origin 'c'): those SQLite makes
	// for PRIMARY KEY and UNIQUE constraints are compared as keys.
	indexes: `SELECT l.name, m.name, l."unique" FROM sqlite_master m, pragma_index_list(m.name) l
		WHERE m.type = 'table' AND m.name <> 'goose_db_version' AND l.origin = 'c'`,
	uniques: `SELECT l.name, m.name FROM sqlite_master m, pragma_index_list(m.name) l
		WHERE m.type = 'table' AND m.name <> 'goose_db_version' AND l.origin = 'u'`,
	indexed: `SELECT m.name, i.name, i.seqno FROM sqlite_master m, pragma_index_info(m.name) i
		WHERE m.type = 'index'`,
}

var postgresQueries = introspection{
	tables: `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'goose_db_version'`,
	columns: `SELECT table_name, column_name, ordinal_position FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> 'goose_db_version'`,
	pkeys: `SELECT k.table_name, k.column_name, k.ordinal_position FROM information_schema.table_constraints c
		JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema
		WHERE c.table_schema = current_schema() AND c.constraint_type = 'PRIMARY KEY' AND c.table_name <> 'goose_db_version'`,
	// Indexes that back a constraint (primary key, UNIQUE) are compared as keys.
	indexes: `SELECT i.relname, t.relname, x.indisunique FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
		WHERE t.relnamespace = current_schema()::regnamespace AND t.relname <> 'goose_db_version'
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`,
	uniques: `SELECT i.relname, t.relname FROM pg_constraint c
		JOIN pg_class i ON i.oid = c.conindid JOIN pg_class t ON t.oid = c.conrelid
		WHERE c.contype = 'u' AND t.relnamespace = current_schema()::regnamespace`,
	indexed: `SELECT i.relname, a.attname, k.ord FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
		CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
		LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0
		WHERE t.relnamespace = current_schema()::regnamespace AND t.relname <> 'goose_db_version'`,
}

// schemaFacts reads a migrated database into sorted lines such as
// "table persons", "column persons.email", "primary key persons (source,
// employee_id)", "unique tokens (hash)" and "index events_due on events
// (effective_at)". A UNIQUE constraint's index is named by the engine
// (sqlite_autoindex_tokens_1, tokens_hash_key): its name is left out.
func schemaFacts(t *testing.T, db *sql.DB, q introspection) []string {
	t.Helper()
	ctx := context.Background()
	type part struct {
		name string
		pos  int64
	}
	query := func(text string, row func(a, b sql.NullString, c int64)) {
		rows, err := db.QueryContext(ctx, text)
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		defer rows.Close()
		for rows.Next() {
			var a, b sql.NullString
			var c int64
			if err := rows.Scan(&a, &b, &c); err != nil {
				t.Fatal(err)
			}
			row(a, b, c)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	var facts []string
	rows, err := db.QueryContext(ctx, q.tables)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		facts = append(facts, "table "+name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	query(q.columns, func(tbl, col sql.NullString, _ int64) {
		facts = append(facts, "column "+tbl.String+"."+col.String)
	})
	ordered := func(m map[string][]part, key string) string {
		ps := m[key]
		slices.SortFunc(ps, func(a, b part) int { return int(a.pos - b.pos) })
		names := make([]string, len(ps))
		for i, p := range ps {
			names[i] = p.name
		}
		return strings.Join(names, ", ")
	}
	pk := map[string][]part{}
	query(q.pkeys, func(tbl, col sql.NullString, pos int64) {
		pk[tbl.String] = append(pk[tbl.String], part{col.String, pos})
	})
	for tbl := range pk {
		facts = append(facts, fmt.Sprintf("primary key %s (%s)", tbl, ordered(pk, tbl)))
	}
	cols := map[string][]part{}
	query(q.indexed, func(idx, col sql.NullString, pos int64) {
		name := col.String
		if !col.Valid {
			name = "(expression)"
		}
		cols[idx.String] = append(cols[idx.String], part{name, pos})
	})
	rows, err = db.QueryContext(ctx, q.uniques)
	if err != nil {
		t.Fatalf("%v\n%s", err, q.uniques)
	}
	for rows.Next() {
		var idx, tbl string
		if err := rows.Scan(&idx, &tbl); err != nil {
			t.Fatal(err)
		}
		facts = append(facts, fmt.Sprintf("unique %s (%s)", tbl, ordered(cols, idx)))
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	// The index query's third column is a boolean on PostgreSQL and an
	// integer on SQLite: read it as text.
	rows, err = db.QueryContext(ctx, q.indexes)
	if err != nil {
		t.Fatalf("%v\n%s", err, q.indexes)
	}
	for rows.Next() {
		var idx, tbl, unique string
		if err := rows.Scan(&idx, &tbl, &unique); err != nil {
			t.Fatal(err)
		}
		f := fmt.Sprintf("index %s on %s (%s)", idx, tbl, ordered(cols, idx))
		if unique == "1" || unique == "true" {
			f += " unique"
		}
		facts = append(facts, f)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(facts)
	return facts
}
