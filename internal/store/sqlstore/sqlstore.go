// Package sqlstore implements store.Store over database/sql. The sqlite
// and postgres packages open a database, run their migrations and supply a
// Dialect for what differs: placeholders, write locking, bulk inserts.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/duration"
	"github.com/tango-iga/tango/internal/store"
)

// Dialect is what differs between SQL backends.
type Dialect interface {
	// Rebind turns '?' placeholders into the backend's own.
	Rebind(q string) string
	// Lock serialises writers for the rest of tx (the audit chain is one
	// sequence across every process sharing the database).
	Lock(ctx context.Context, tx *sql.Tx) error
	// MaxParams is the most bind parameters one statement may carry.
	MaxParams() int
	// Unnest reports whether bulk inserts should send one array per
	// column (INSERT … SELECT FROM unnest(…)) instead of a VALUES list.
	Unnest() bool
}

// Copier is a Dialect that can stream many rows into a table within the
// transaction open on conn (PostgreSQL's COPY).
type Copier interface {
	Copy(ctx context.Context, conn *sql.Conn, table string, cols []string, n int, row func(i int, args []any) []any) error
}

// Checkpointer is a Dialect whose write-ahead log is copied into the
// database by a pass in the background instead of by the commit that
// filled it (SQLite: the commit of a campaign of 2,000,000 items spent
// 2 s copying its log before returning). The commit itself is durable
// without it; the pass keeps the log from growing.
type Checkpointer interface {
	Checkpoint(ctx context.Context, db *sql.DB) error
}

// checkpointEvery is the least time between two checkpoint passes: a
// stream of small commits shares one pass (and its fsyncs) a second.
const checkpointEvery = time.Second

// DB is a store.Store over a database/sql handle.
type DB struct {
	db *sql.DB
	d  Dialect

	gapMu    sync.Mutex
	gapCache map[string][]int64 // SCIM type -> sorted deleted positions (see scimGaps)

	group grouper // writes sharing a transaction (see writeGrouped)

	stmts sync.Map // query text -> *sql.Stmt, for the statements of every push (see prepared)

	// conns maps a write transaction to its connection when the dialect
	// is a Copier (database/sql gives a transaction no raw access).
	conns sync.Map

	// bgMu guards closed and bg: background prepares (see prepared)
	// are counted so that Close waits for them; one still opening a
	// connection after Close would recreate the database file.
	bgMu   sync.Mutex
	closed bool
	bg     sync.WaitGroup

	// The people search index (search.go): searchMu guards search,
	// buildMu lets one search at a time rebuild it.
	searchMu sync.Mutex
	buildMu  sync.Mutex
	search   *peopleIndex

	// committed wakes the checkpoint pass (a Checkpointer dialect's);
	// stop ends it, and Close waits for it through bg.
	committed chan struct{}
	stop      chan struct{}
}

// prepared returns q as a statement of tx, prepared once per connection
// instead of parsed on every call: a push runs about fifteen small
// statements, and parsing them was a third of its time in SQLite. The
// first use of a query is not prepared: preparing on the pool while a
// transaction holds a connection could wait for a connection held by a
// writer waiting for that transaction. It is prepared in the background
// for the next use; nil means "run it unprepared".
func (s *DB) prepared(ctx context.Context, tx *sql.Tx, q string) *sql.Stmt {
	v, loaded := s.stmts.LoadOrStore(q, nil)
	if st, ok := v.(*sql.Stmt); ok {
		return tx.StmtContext(ctx, st)
	}
	if !loaded {
		s.bgMu.Lock()
		if s.closed {
			s.bgMu.Unlock()
			return nil
		}
		s.bg.Add(1)
		s.bgMu.Unlock()
		go func() {
			defer s.bg.Done()
			st, err := s.db.PrepareContext(context.Background(), q)
			if err != nil {
				s.stmts.Delete(q) // try again next time
				return
			}
			s.keep(q, st)
		}()
	}
	return nil
}

// dbStmt is q prepared on the pool, once (reads outside transactions,
// where waiting for a connection to prepare on holds nothing up).
func (s *DB) dbStmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if v, ok := s.stmts.Load(q); ok {
		if st, ok := v.(*sql.Stmt); ok {
			return st, nil
		}
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.keep(q, st), nil
}

// keep caches st for q and returns the statement to use: one that
// another caller cached first wins (st is closed), never replaced while
// it may be in use.
func (s *DB) keep(q string, st *sql.Stmt) *sql.Stmt {
	for {
		v, loaded := s.stmts.LoadOrStore(q, st)
		if !loaded {
			return st
		}
		if o, ok := v.(*sql.Stmt); ok {
			st.Close()
			return o
		}
		if s.stmts.CompareAndSwap(q, v, st) { // replace the "being prepared" mark
			return st
		}
	}
}

// query is s.db.QueryContext through a prepared statement.
func (s *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.dbStmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// txExec is tx.ExecContext through a prepared statement.
func (s *DB) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := s.prepared(ctx, tx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

// txQueryRow is tx.QueryRowContext through a prepared statement.
func (s *DB) txQueryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if st := s.prepared(ctx, tx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}

// ErrNoDatabase is a database that does not exist or holds no Tango
// schema, opened by a command that only reads.
var ErrNoDatabase = errors.New("no Tango database here")

// New wraps an open, migrated database.
func New(db *sql.DB, d Dialect) *DB {
	s := &DB{db: db, d: d}
	if c, ok := d.(Checkpointer); ok {
		s.committed, s.stop = make(chan struct{}, 1), make(chan struct{})
		s.bg.Add(1)
		go s.checkpoints(c)
	}
	return s
}

// checkpoints runs the dialect's checkpoint after commits, at most once
// every checkpointEvery, until Close. A failed pass is tried again at the
// next commit (SQLite still checkpoints when its last connection closes).
func (s *DB) checkpoints(c Checkpointer) {
	defer s.bg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for {
		select {
		case <-s.stop:
			return
		case <-s.committed:
		}
		_ = c.Checkpoint(ctx, s.db)
		select {
		case <-s.stop:
			return
		case <-time.After(checkpointEvery):
		}
	}
}

// wrote tells the checkpoint pass that a transaction committed.
func (s *DB) wrote() {
	if s.committed != nil {
		select {
		case s.committed <- struct{}{}:
		default: // a pass is already due
		}
	}
}

// SQL returns the handle, for tests and tools.
func (s *DB) SQL() *sql.DB { return s.db }

func (s *DB) rb(q string) string {
	return s.d.Rebind(q)
}

func (s *DB) Close() error {
	s.bgMu.Lock()
	if !s.closed && s.stop != nil {
		close(s.stop)
	}
	s.closed = true
	s.bgMu.Unlock()
	s.bg.Wait()
	s.stmts.Range(func(_, v any) bool {
		if st, ok := v.(*sql.Stmt); ok {
			st.Close()
		}
		return true
	})
	return s.db.Close()
}
func (s *DB) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// micros stores times as microseconds since the epoch in every backend, so
// that what is read back is exactly what was hashed.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMicro(n).UTC()
}

func (s *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	var tx *sql.Tx
	var err error
	if _, ok := s.d.(Copier); ok {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store: connect: %w", err)
		}
		defer conn.Close()
		if tx, err = conn.BeginTx(ctx, nil); err != nil {
			return fmt.Errorf("store: begin: %w", err)
		}
		s.conns.Store(tx, conn)
		defer s.conns.Delete(tx)
	} else if tx, err = s.db.BeginTx(ctx, nil); err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	if err := s.d.Lock(ctx, tx); err != nil {
		return fmt.Errorf("store: lock: %w", err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	s.wrote()
	return nil
}

// bulk inserts rows in as few statements as the parameter limit allows.
// suffix follows the VALUES list (for example an ON CONFLICT clause).
func (s *DB) bulk(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any, suffix string) error {
	return s.bulkFunc(ctx, tx, table, cols, len(rows), func(i int, args []any) []any { return append(args, rows[i]...) }, suffix)
}

// copyMin is the fewest rows worth a COPY (it costs a round trip to learn
// the column types).
const copyMin = 200

// bulkFunc is bulk with rows made on demand, one chunk at a time, so a
// large import never holds every row's arguments at once.
func (s *DB) bulkFunc(ctx context.Context, tx *sql.Tx, table string, cols []string, n int, row func(i int, args []any) []any, suffix string) error {
	if n == 0 {
		return nil
	}
	if c, ok := s.d.(Copier); ok && n >= copyMin {
		if conn, ok := s.conns.Load(tx); ok {
			return s.copyRows(ctx, tx, c, conn.(*sql.Conn), table, cols, n, row, suffix)
		}
	}
	if s.d.Unnest() && n > 1 {
		return s.bulkUnnest(ctx, tx, table, cols, n, row, suffix)
	}
	per := max(1, min(500, s.d.MaxParams()/len(cols)))
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ",") + ") VALUES "
	// A statement of thousands of placeholders costs more to parse than to
	// run: the full-chunk statement is prepared once and reused.
	var full *sql.Stmt
	if n >= 2*per {
		var err error
		if full, err = tx.PrepareContext(ctx, s.rb(head+strings.TrimSuffix(strings.Repeat(one+",", per), ",")+suffix)); err != nil {
			return fmt.Errorf("store: insert into %s: %w", table, err)
		}
		defer full.Close()
	}
	args := make([]any, 0, min(per, n)*len(cols))
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		args = args[:0]
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		var err error
		switch {
		case end-start == per && full != nil:
			_, err = full.ExecContext(ctx, args...)
		case n == 1: // one row, as every push writes: a statement prepared once
			_, err = s.txExec(ctx, tx, s.rb(head+one+suffix), args...)
		default:
			_, err = tx.ExecContext(ctx, s.rb(head+strings.TrimSuffix(strings.Repeat(one+",", end-start), ",")+suffix), args...)
		}
		if err != nil {
			return fmt.Errorf("store: insert into %s: %w", table, err)
		}
	}
	return nil
}

// copyRows streams rows with the dialect's COPY. An upsert (suffix set)
// copies into a temporary table first and inserts from it, since COPY
// itself cannot resolve conflicts.
func (s *DB) copyRows(ctx context.Context, tx *sql.Tx, c Copier, conn *sql.Conn, table string, cols []string, n int, row func(i int, args []any) []any, suffix string) error {
	if suffix == "" {
		if err := c.Copy(ctx, conn, table, cols, n, row); err != nil {
			return fmt.Errorf("store: copy into %s: %w", table, err)
		}
		return nil
	}
	tmp := "bulk_" + table
	list := strings.Join(cols, ",")
	if _, err := tx.ExecContext(ctx, "CREATE TEMP TABLE "+tmp+" AS SELECT "+list+" FROM "+table+" WITH NO DATA"); err != nil {
		return fmt.Errorf("store: copy into %s: %w", table, err)
	}
	if err := c.Copy(ctx, conn, tmp, cols, n, row); err != nil {
		return fmt.Errorf("store: copy into %s: %w", table, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+table+" ("+list+") SELECT "+list+" FROM "+tmp+suffix); err != nil {
		return fmt.Errorf("store: insert into %s: %w", table, err)
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE "+tmp); err != nil {
		return fmt.Errorf("store: copy into %s: %w", table, err)
	}
	return nil
}

// bulkUnnest sends each column as one array: the server parses one short
// statement per chunk instead of thousands of placeholders.
func (s *DB) bulkUnnest(ctx context.Context, tx *sql.Tx, table string, cols []string, n int, row func(i int, args []any) []any, suffix string) error {
	const chunk = 2000
	args := make([]any, 0, len(cols))
	for start := 0; start < n; start += chunk {
		end := min(start+chunk, n)
		strs := make([][]string, len(cols))
		ints := make([][]int64, len(cols))
		isInt := make([]bool, len(cols))
		for i := start; i < end; i++ {
			args = row(i, args[:0])
			if len(args) != len(cols) {
				return fmt.Errorf("store: insert into %s: %d values for %d columns", table, len(args), len(cols))
			}
			for c, v := range args {
				switch x := v.(type) {
				case string:
					strs[c] = append(strs[c], x)
				case int64:
					isInt[c] = true
					ints[c] = append(ints[c], x)
				case int:
					isInt[c] = true
					ints[c] = append(ints[c], int64(x))
				default:
					return fmt.Errorf("store: insert into %s: column %s: unsupported %T", table, cols[c], v)
				}
			}
		}
		params := make([]any, len(cols))
		casts := make([]string, len(cols))
		for c := range cols {
			if isInt[c] {
				params[c], casts[c] = ints[c], "?::bigint[]"
			} else {
				params[c], casts[c] = strs[c], "?::text[]"
			}
		}
		q := s.rb("INSERT INTO " + table + " (" + strings.Join(cols, ",") + ") SELECT * FROM unnest(" + strings.Join(casts, ",") + ")" + suffix)
		if _, err := tx.ExecContext(ctx, q, params...); err != nil {
			return fmt.Errorf("store: insert into %s: %w", table, err)
		}
	}
	return nil
}

var personCols = []string{"source", "employee_id", "display_name", "email", "title", "department", "team",
	"business_unit", "manager_id", "employment_type", "status", "start_date", "end_date", "period",
	"attributes", "updated_at"}

const personUpsert = ` ON CONFLICT (source, employee_id) DO UPDATE SET display_name=excluded.display_name,
 email=excluded.email, title=excluded.title, department=excluded.department, team=excluded.team,
 business_unit=excluded.business_unit, manager_id=excluded.manager_id, employment_type=excluded.employment_type,
 status=excluded.status, start_date=excluded.start_date, end_date=excluded.end_date, period=excluded.period,
 attributes=excluded.attributes, updated_at=excluded.updated_at`

func personRow(p *store.Person) []any {
	attrs := ""
	if len(p.Attributes) > 0 {
		b, _ := json.Marshal(p.Attributes)
		attrs = string(b)
	}
	return []any{p.Source, p.EmployeeID, p.DisplayName, p.Email, p.Title, p.Department, p.Team,
		p.BusinessUnit, p.ManagerID, p.EmploymentType, p.Status, p.StartDate, p.EndDate, p.Period,
		attrs, micros(p.UpdatedAt)}
}

type scanner interface{ Scan(...any) error }

func scanPerson(r scanner) (store.Person, error) {
	var p store.Person
	var attrs string
	var upd int64
	err := r.Scan(&p.Source, &p.EmployeeID, &p.DisplayName, &p.Email, &p.Title, &p.Department, &p.Team,
		&p.BusinessUnit, &p.ManagerID, &p.EmploymentType, &p.Status, &p.StartDate, &p.EndDate, &p.Period,
		&attrs, &upd)
	if err != nil {
		return p, err
	}
	if attrs != "" {
		if err := json.Unmarshal([]byte(attrs), &p.Attributes); err != nil {
			return p, fmt.Errorf("person %s/%s: attributes: %w", p.Source, p.EmployeeID, err)
		}
	}
	p.UpdatedAt = fromMicros(upd)
	return p, nil
}

var eventCols = []string{"import_id", "source", "employee_id", "type", "state", "effective_at",
	"before_doc", "after_doc", "changed", "created_at", "applied_at"}

// eventSelect reads events; an event whose documents live in its audit
// entry (audit_seq) takes them from there.
const eventSelect = `SELECT e.id, e.import_id, e.source, e.employee_id, e.type, e.state, e.effective_at,
	CASE WHEN e.audit_seq > 0 THEN coalesce(a.before_doc, '') ELSE e.before_doc END,
	CASE WHEN e.audit_seq > 0 THEN coalesce(a.after_doc, '') ELSE e.after_doc END,
	e.changed, e.created_at, e.applied_at
	FROM events e LEFT JOIN audit a ON a.seq = e.audit_seq AND e.audit_seq > 0`

// eventRow is an event's columns; with an audit entry (seq > 0) its
// before and after documents are not stored twice.
func eventRow(args []any, e *store.Event, seq int64, provisioned int) []any {
	doc := func(p *store.Person) string {
		if p == nil || seq > 0 {
			return ""
		}
		b, _ := json.Marshal(p)
		return string(b)
	}
	return append(args, e.ImportID, e.Source, e.EmployeeID, e.Type, e.State, micros(e.Effective),
		doc(e.Before), doc(e.After), strings.Join(e.Changed, ","), micros(e.CreatedAt), micros(e.AppliedAt), seq, provisioned)
}

func scanEvent(r scanner) (store.Event, error) {
	var e store.Event
	var eff, created, applied int64
	var before, after, changed string
	err := r.Scan(&e.ID, &e.ImportID, &e.Source, &e.EmployeeID, &e.Type, &e.State, &eff,
		&before, &after, &changed, &created, &applied)
	if err != nil {
		return e, err
	}
	e.Effective, e.CreatedAt, e.AppliedAt = fromMicros(eff), fromMicros(created), fromMicros(applied)
	if changed != "" {
		e.Changed = strings.Split(changed, ",")
	}
	for _, d := range []struct {
		s   string
		dst **store.Person
	}{{before, &e.Before}, {after, &e.After}} {
		if d.s != "" {
			*d.dst = new(store.Person)
			if err := json.Unmarshal([]byte(d.s), *d.dst); err != nil {
				return e, fmt.Errorf("event %d: %w", e.ID, err)
			}
		}
	}
	return e, nil
}

var importCols = []string{"id", "source", "file", "sha256", "status", "actor", "rows", "joiners", "movers",
	"leavers", "rehires", "changes", "unchanged", "reason", "duration_ns", "created_at", "decided_by",
	"decided_at", "base_serial", "errors", "payload"}

func scanImport(r scanner) (store.Import, error) {
	var i store.Import
	var dur, created, decided int64
	var errs, payload string
	err := r.Scan(&i.ID, &i.Source, &i.File, &i.SHA256, &i.Status, &i.Actor, &i.Rows, &i.Joiners, &i.Movers,
		&i.Leavers, &i.Rehires, &i.Changes, &i.Unchanged, &i.Reason, &dur, &created, &i.DecidedBy,
		&decided, &i.BaseSerial, &errs, &payload)
	i.Duration, i.CreatedAt, i.DecidedAt = duration.Duration(dur), fromMicros(created), fromMicros(decided)
	if err == nil && errs != "" {
		if jerr := json.Unmarshal([]byte(errs), &i.Errors); jerr != nil {
			return i, fmt.Errorf("store: import %s: errors: %w", i.ID, jerr)
		}
	}
	return i, err
}

// heldPayload is what a held import keeps until it is decided.
type heldPayload struct {
	Persons []store.Person `json:"persons"`
	Events  []store.Event  `json:"events"`
}

func (s *DB) Workforce(ctx context.Context, source string) (store.Workforce, error) {
	wf := store.Workforce{Source: source}
	// One read transaction, so the serial matches the persons read.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return wf, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, s.rb(`SELECT serial, held_import FROM sources WHERE name = ?`), source).Scan(&wf.Serial, &wf.Held)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return wf, fmt.Errorf("store: source %q: %w", source, err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, s.rb(`SELECT count(*) FROM persons WHERE source = ?`), source).Scan(&n); err != nil {
		return wf, fmt.Errorf("store: count persons: %w", err)
	}
	wf.Persons = make([]store.Person, 0, n)
	rows, err := tx.QueryContext(ctx, s.rb(`SELECT `+strings.Join(personCols, ",")+` FROM persons WHERE source = ?`), source)
	if err != nil {
		return wf, fmt.Errorf("store: persons of %q: %w", source, err)
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return wf, fmt.Errorf("store: %w", err)
		}
		wf.Persons = append(wf.Persons, p)
	}
	return wf, rows.Err()
}

// source locks in the source row (creating it) and checks the import's base.
func (s *DB) checkSource(ctx context.Context, tx *sql.Tx, source string, base int64) (int64, error) {
	var serial int64
	var held string
	err := tx.QueryRowContext(ctx, s.rb(`SELECT serial, held_import FROM sources WHERE name = ?`), source).Scan(&serial, &held)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, s.rb(`INSERT INTO sources (name, serial, held_import) VALUES (?, 0, '')`), source); err != nil {
			return 0, fmt.Errorf("store: source %q: %w", source, err)
		}
	} else if err != nil {
		return 0, fmt.Errorf("store: source %q: %w", source, err)
	}
	if held != "" {
		return 0, fmt.Errorf("%w: import %s of source %q is held", store.ErrConflict, held, source)
	}
	if serial != base {
		return 0, fmt.Errorf("%w: source %q changed since it was read (serial %d, expected %d)", store.ErrConflict, source, serial, base)
	}
	return serial, nil
}

func (s *DB) ApplyImport(ctx context.Context, imp store.Import, persons []store.Person, events []store.Event, entries []audit.Entry, prov *store.ProvisionBatch) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		serial, err := s.checkSource(ctx, tx, imp.Source, imp.BaseSerial)
		if err != nil {
			return err
		}
		payload := ""
		if imp.Status == store.ImportHeld {
			b, err := json.Marshal(heldPayload{Persons: persons, Events: events})
			if err != nil {
				return fmt.Errorf("store: held import: %w", err)
			}
			payload = string(b)
			if _, err := tx.ExecContext(ctx, s.rb(`UPDATE sources SET held_import = ? WHERE name = ?`), imp.ID, imp.Source); err != nil {
				return fmt.Errorf("store: hold source: %w", err)
			}
		} else {
			seqs, err := s.appendAuditSeqs(ctx, tx, entries)
			if err != nil {
				return err
			}
			entries = nil // written
			if err := s.applyChanges(ctx, tx, persons, events, prov != nil, seqs); err != nil {
				return err
			}
			if err := s.queue(ctx, tx, prov); err != nil {
				return err
			}
			if len(persons) > 0 || len(events) > 0 {
				serial++
			}
			if _, err := tx.ExecContext(ctx, s.rb(`UPDATE sources SET serial = ? WHERE name = ?`), serial, imp.Source); err != nil {
				return fmt.Errorf("store: source serial: %w", err)
			}
		}
		if err := s.insertImport(ctx, tx, imp, payload); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, entries)
	})
}

func (s *DB) insertImport(ctx context.Context, tx *sql.Tx, i store.Import, payload string) error {
	return s.bulk(ctx, tx, "imports", importCols, [][]any{importRow(i, payload)}, "")
}

func importRow(i store.Import, payload string) []any {
	errs := ""
	if len(i.Errors) > 0 {
		b, _ := json.Marshal(i.Errors) // strings and ints always marshal
		errs = string(b)
	}
	return []any{i.ID, i.Source, i.File, i.SHA256, i.Status, i.Actor, i.Rows,
		i.Joiners, i.Movers, i.Leavers, i.Rehires, i.Changes, i.Unchanged, i.Reason, int64(i.Duration),
		micros(i.CreatedAt), i.DecidedBy, micros(i.DecidedAt), i.BaseSerial, errs, payload}
}

func (s *DB) RejectImport(ctx context.Context, imp store.Import, entry audit.Entry) error {
	if imp.Status != store.ImportRejected {
		return fmt.Errorf("store: import %s: RejectImport of status %q", imp.ID, imp.Status)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := s.insertImport(ctx, tx, imp, ""); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, []audit.Entry{entry})
	})
}

// applyChanges writes persons and events; a person whose dates changed, or
// who joins, leaves or returns, loses the scheduled events planned before.
func (s *DB) applyChanges(ctx context.Context, tx *sql.Tx, persons []store.Person, events []store.Event, provisioned bool, seqs map[string]int64) error {
	if err := s.cancelScheduled(ctx, tx, events); err != nil {
		return err
	}
	if err := s.revokeLeavers(ctx, tx, events); err != nil {
		return err
	}
	// Insert in key order: index pages fill in sequence instead of at random.
	order := make([]int, len(persons))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(persons[a].EmployeeID, persons[b].EmployeeID) })
	err := s.bulkFunc(ctx, tx, "persons", personCols, len(persons), func(i int, args []any) []any {
		return append(args, personRow(&persons[order[i]])...)
	}, personUpsert)
	if err != nil {
		return err
	}
	if len(persons) > 0 {
		if err := s.bumpPersons(ctx, tx); err != nil {
			return err
		}
	}
	prov := 0
	if provisioned {
		prov = 1
	}
	cols := append(eventCols[:len(eventCols):len(eventCols)], "audit_seq", "provisioned")
	return s.bulkFunc(ctx, tx, "events", cols, len(events), func(i int, args []any) []any {
		e := &events[i]
		var seq int64
		if e.State == store.EventApplied {
			seq = seqs[eventKey(e.EmployeeID, "hr."+e.Type)]
		}
		return eventRow(args, e, seq, prov)
	}, "")
}

// revokeLeavers revokes the tokens and ends the sessions of each person an
// applied leaver event makes left, in the transaction of the leave: their
// credentials stop working with it.
func (s *DB) revokeLeavers(ctx context.Context, tx *sql.Tx, events []store.Event) error {
	var revoke string
	for i := range events {
		e := &events[i]
		if e.State != store.EventApplied || e.Type != store.EventLeaver {
			continue
		}
		if revoke == "" {
			revoke = s.rb(`UPDATE tokens SET revoked_at = ? WHERE person = ? AND revoked_at = 0`)
		}
		at := e.AppliedAt
		if at.IsZero() {
			at = e.CreatedAt
		}
		if at.IsZero() {
			at = time.Now() // revoked_at 0 would mean live
		}
		if _, err := s.txExec(ctx, tx, revoke, micros(at), e.EmployeeID); err != nil {
			return fmt.Errorf("store: revoke the tokens of leaver %s: %w", e.EmployeeID, err)
		}
		if _, err := revokePersonSessions(ctx, s, tx, e.EmployeeID, at); err != nil {
			return fmt.Errorf("store: end the sessions of leaver %s: %w", e.EmployeeID, err)
		}
	}
	return nil
}

// cancelScheduled cancels the scheduled events of persons whose dates an
// applied event changes. Only the few persons with scheduled events are
// touched: a first load of 100,000 joiners issues no update at all.
func (s *DB) cancelScheduled(ctx context.Context, tx *sql.Tx, events []store.Event) error {
	if len(events) <= 16 {
		// A push (or a small import): an UPDATE by person for the few
		// events that change dates costs less than listing the source's
		// scheduled events, which SQLite answers by walking every event of
		// the source (it grows with every push).
		cancel := s.rb(`UPDATE events SET state = 'cancelled' WHERE source = ? AND employee_id = ? AND state = 'scheduled'`)
		for i := range events {
			e := &events[i]
			if e.State != store.EventApplied || !e.ReplacesDates() {
				continue
			}
			if _, err := s.txExec(ctx, tx, cancel, e.Source, e.EmployeeID); err != nil {
				return fmt.Errorf("store: cancel scheduled events of %s: %w", e.EmployeeID, err)
			}
		}
		return nil
	}
	var sources []string
	for i := range events {
		if !slices.Contains(sources, events[i].Source) {
			sources = append(sources, events[i].Source)
		}
	}
	scheduled := map[string]bool{}
	for _, src := range sources {
		ids, err := queryAll(ctx, tx, "scheduled events", func(r scanner) (string, error) {
			var id string
			return id, r.Scan(&id)
		}, s.rb(`SELECT DISTINCT employee_id FROM events WHERE state = 'scheduled' AND source = ?`), src)
		if err != nil {
			return err
		}
		for _, id := range ids {
			scheduled[src+"\x00"+id] = true
		}
	}
	if len(scheduled) == 0 {
		return nil
	}
	cancel := s.rb(`UPDATE events SET state = 'cancelled' WHERE source = ? AND employee_id = ? AND state = 'scheduled'`)
	for i := range events {
		e := &events[i]
		if e.State != store.EventApplied || !scheduled[e.Source+"\x00"+e.EmployeeID] {
			continue
		}
		if e.ReplacesDates() {
			if _, err := tx.ExecContext(ctx, cancel, e.Source, e.EmployeeID); err != nil {
				return fmt.Errorf("store: cancel scheduled events of %s: %w", e.EmployeeID, err)
			}
		}
	}
	return nil
}

func (s *DB) HeldImport(ctx context.Context, id string) ([]store.Person, []store.Event, error) {
	var status, payload string
	err := s.db.QueryRowContext(ctx, s.rb(`SELECT status, payload FROM imports WHERE id = ?`), id).Scan(&status, &payload)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("import %s: %w", id, store.ErrNotFound)
	} else if err != nil {
		return nil, nil, fmt.Errorf("store: import %s: %w", id, err)
	}
	if status != store.ImportHeld {
		return nil, nil, fmt.Errorf("import %s is %s, not held: nothing to decide", id, status)
	}
	var p heldPayload
	if err := json.Unmarshal([]byte(payload), &p); err != nil {
		return nil, nil, fmt.Errorf("store: import %s payload: %w", id, err)
	}
	return p.Persons, p.Events, nil
}

func (s *DB) Import(ctx context.Context, id string) (store.Import, error) {
	i, err := scanImport(s.db.QueryRowContext(ctx, s.rb(`SELECT `+strings.Join(importCols[:len(importCols)-1], ",")+`, '' FROM imports WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return i, fmt.Errorf("import %s: %w", id, store.ErrNotFound)
	}
	return i, err
}

func (s *DB) Imports(ctx context.Context, source string, limit int) ([]store.Import, error) {
	return s.ImportsBy(ctx, store.ImportFilter{Source: source, Limit: limit})
}

func (s *DB) ImportsBy(ctx context.Context, f store.ImportFilter) ([]store.Import, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var w filters
	w.eq("source", f.Source)
	w.eq("status", f.Status)
	q := `SELECT ` + strings.Join(importCols[:len(importCols)-1], ",") + `, '' FROM imports` + w.sql() +
		` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`
	return queryAll(ctx, s.listing(), "store: imports", scanImport, s.rb(q), append(w.args, limit, max(f.Offset, 0))...)
}

func (s *DB) Person(ctx context.Context, source, id string) (store.Person, error) {
	q := `SELECT ` + strings.Join(personCols, ",") + ` FROM persons WHERE employee_id = ?`
	args := []any{id}
	if source != "" {
		q += ` AND source = ?`
		args = append(args, source)
	}
	var p store.Person
	rows, err := s.query(ctx, s.rb(q+` ORDER BY source LIMIT 1`), args...) // prepared: every push reads its person
	if err == nil {
		if rows.Next() {
			p, err = scanPerson(rows)
		} else if err = rows.Err(); err == nil {
			err = sql.ErrNoRows
		}
		rows.Close()
	}
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("person %s: %w", id, store.ErrNotFound)
	}
	return p, err
}

func (s *DB) Persons(ctx context.Context, f store.PersonFilter) ([]store.Person, error) {
	var w filters
	w.eq("source", f.Source)
	w.eq("status", f.Status)
	w.eq("department", f.Department)
	w.eq("manager_id", f.ManagerID)
	if q := strings.ToLower(strings.TrimSpace(f.Query)); q != "" && f.Email == "" {
		return s.searchPersons(ctx, f, q)
	} else if q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q) + "%"
		w.add(`(lower(display_name) LIKE ? ESCAPE '\' OR lower(email) LIKE ? ESCAPE '\' OR lower(employee_id) LIKE ? ESCAPE '\' OR lower(department) LIKE ? ESCAPE '\')`, like, like, like, like)
	}
	if f.Email != "" {
		w.add("lower(email) = lower(?)", f.Email)
	}
	if f.After != "" {
		w.add("employee_id > ?", f.After)
	}
	q := `SELECT ` + strings.Join(personCols, ",") + ` FROM persons` + w.sql() + ` ORDER BY employee_id, source LIMIT ?`
	return queryAll(ctx, s.listing(), "store: persons", scanPerson, s.rb(q), append(w.args, limitOrAll(f.Limit))...)
}

func (s *DB) Events(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	var w filters
	w.eq("e.source", f.Source)
	w.eq("e.employee_id", f.EmployeeID)
	w.eq("e.import_id", f.ImportID)
	w.eq("e.type", f.Type)
	w.eq("e.state", f.State)
	if f.AfterID > 0 {
		w.add("e.id > ?", f.AfterID)
	}
	q := eventSelect + w.sql() + ` ORDER BY e.id LIMIT ?`
	return queryAll(ctx, s.listing(), "store: events", scanEvent, s.rb(q), append(w.args, limitOrAll(f.Limit))...)
}

// limitOrAll is a listing's LIMIT: the filter's, or everything.
func limitOrAll(limit int) int {
	if limit <= 0 {
		return 1 << 30
	}
	return limit
}

var auditCols = []string{"seq", "at", "actor", "action", "source", "import_id", "subject", "before_doc", "after_doc", "prev_hash", "hash"}

func (s *DB) AppendAudit(ctx context.Context, entries ...audit.Entry) error {
	return s.writeGrouped(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.appendAudit(ctx, tx, entries) })
}

// eventKey ties a lifecycle event to its audit entry within one write.
func eventKey(subject, action string) string { return subject + "\x00" + action }

// appendAuditSeqs appends entries and returns the sequence number of each
// lifecycle event's entry by eventKey.
func (s *DB) appendAuditSeqs(ctx context.Context, tx *sql.Tx, entries []audit.Entry) (map[string]int64, error) {
	if err := s.appendAudit(ctx, tx, entries); err != nil {
		return nil, err
	}
	seqs := make(map[string]int64, len(entries))
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "hr.") && e.Subject != "" {
			seqs[eventKey(e.Subject, e.Action)] = e.Seq
		}
	}
	return seqs, nil
}

func (s *DB) appendAudit(ctx context.Context, tx *sql.Tx, entries []audit.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	var seq int64
	var hash string
	if err := s.txQueryRow(ctx, tx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return fmt.Errorf("store: audit head: %w", err)
	}
	seq, hash = audit.Chain(entries, seq, hash)
	err := s.bulkFunc(ctx, tx, "audit", auditCols, len(entries), func(i int, args []any) []any {
		e := &entries[i]
		return append(args, e.Seq, micros(e.At), e.Actor, e.Action, e.Source, e.ImportID, e.Subject,
			string(e.Before), string(e.After), e.PrevHash, e.Hash)
	}, "")
	if err != nil {
		return err
	}
	if _, err := s.txExec(ctx, tx, s.rb(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`), seq, hash); err != nil {
		return fmt.Errorf("store: audit head: %w", err)
	}
	return nil
}

func (s *DB) AuditQuery(ctx context.Context, f store.AuditFilter) ([]audit.Entry, error) {
	var w filters
	w.eq("actor", f.Actor)
	w.eq("subject", f.Subject)
	w.eq("source", f.Source)
	if f.Action != "" {
		p := f.Action + "."
		w.add("(action = ? OR substr(action, 1, CAST(? AS INTEGER)) = ?)", f.Action, len(p), p)
	}
	if !f.Since.IsZero() {
		w.add("at >= ?", micros(f.Since))
	}
	if f.After > 0 {
		w.add("seq > ?", f.After)
	}
	if f.Before > 0 {
		w.add("seq < ?", f.Before)
	}
	order := ` ORDER BY seq LIMIT ?`
	if f.Newest {
		order = ` ORDER BY seq DESC LIMIT ?`
	}
	q := `SELECT ` + strings.Join(auditCols, ",") + ` FROM audit` + w.sql() + order
	return queryAll(ctx, s.listing(), "store: audit", scanAudit, s.rb(q), append(w.args, limitOrAll(f.Limit))...)
}

func (s *DB) AuditEntries(ctx context.Context, after int64, limit int) ([]audit.Entry, error) {
	if limit <= 0 {
		return nil, nil
	}
	return s.AuditQuery(ctx, store.AuditFilter{After: after, Limit: limit})
}

func scanAudit(r scanner) (audit.Entry, error) {
	var e audit.Entry
	var at int64
	var before, after string
	if err := r.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Source, &e.ImportID, &e.Subject, &before, &after, &e.PrevHash, &e.Hash); err != nil {
		return e, err
	}
	e.At = fromMicros(at)
	if before != "" {
		e.Before = []byte(before)
	}
	if after != "" {
		e.After = []byte(after)
	}
	return e, nil
}

func (s *DB) AuditHead(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	err := s.db.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash)
	return seq, hash, err
}

func (s *DB) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	var t store.Token
	var created, used, revoked int64
	var roles string
	err := s.db.QueryRowContext(ctx, s.rb(`SELECT id, name, scope, person, roles, hash, created_at, last_used, revoked_at FROM tokens WHERE hash = ?`), hash).
		Scan(&t.ID, &t.Name, &t.Scope, &t.Person, &roles, &t.Hash, &created, &used, &revoked)
	t.Roles = splitRoles(roles)
	if errors.Is(err, sql.ErrNoRows) {
		return t, store.ErrNotFound
	}
	t.CreatedAt, t.LastUsed, t.Revoked = fromMicros(created), fromMicros(used), fromMicros(revoked)
	return t, err
}

func (s *DB) TouchToken(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.rb(`UPDATE tokens SET last_used = ? WHERE id = ?`), micros(at), id)
	return err
}

func (s *DB) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, scope, person, roles, created_at, last_used, revoked_at FROM tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	defer rows.Close()
	out := []store.Token{}
	for rows.Next() {
		var t store.Token
		var created, used, revoked int64
		var roles string
		if err := rows.Scan(&t.ID, &t.Name, &t.Scope, &t.Person, &roles, &created, &used, &revoked); err != nil {
			return nil, err
		}
		t.Roles = splitRoles(roles)
		t.CreatedAt, t.LastUsed, t.Revoked = fromMicros(created), fromMicros(used), fromMicros(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *DB) Counts(ctx context.Context) (store.Counts, error) {
	c := store.Counts{ImportsByStatus: map[string]int64{}, EventsByType: map[string]int64{}, PersonsByStatus: map[string]int64{}}
	for _, q := range []struct {
		sql string
		m   map[string]int64
	}{
		{`SELECT status, count(*) FROM imports GROUP BY status`, c.ImportsByStatus},
		{`SELECT type, count(*) FROM events WHERE state = 'applied' GROUP BY type`, c.EventsByType},
		{`SELECT status, count(*) FROM persons GROUP BY status`, c.PersonsByStatus},
	} {
		rows, err := s.db.QueryContext(ctx, q.sql)
		if err != nil {
			return c, fmt.Errorf("store: counts: %w", err)
		}
		for rows.Next() {
			var k string
			var n int64
			if err := rows.Scan(&k, &n); err != nil {
				rows.Close()
				return c, err
			}
			q.m[k] = n
		}
		rows.Close()
	}
	var ns int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(sum(duration_ns), 0) FROM imports`).Scan(&ns); err != nil {
		return c, fmt.Errorf("store: counts: %w", err)
	}
	c.ImportSeconds = float64(ns) / 1e9
	return c, nil
}

// queryAll runs a query and scans every row; what names the rows in errors.
func queryAll[T any](ctx context.Context, db querier, what string, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// filters collects the WHERE conditions of a listing and their arguments.
type filters struct {
	conds []string
	args  []any
}

// eq adds col = v unless v is empty (an empty filter field means "any").
func (f *filters) eq(col, v string) {
	if v != "" {
		f.add(col+" = ?", v)
	}
}

func (f *filters) add(cond string, args ...any) {
	f.conds = append(f.conds, cond)
	f.args = append(f.args, args...)
}

// sql is " WHERE …", or "" without conditions.
func (f *filters) sql() string {
	if len(f.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(f.conds, " AND ")
}

// splitRoles reads the roles column of a token.
func splitRoles(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// listing is the pool as a querier whose queries run through prepared
// statements (s.query): parsing a listing's SQL was most of a small read's
// time in SQLite (resolving a signed-in person's roles reads their reports
// at every request). A listing's text depends only on which of its filters
// are set, never on their values, so there are few texts to keep; a query
// with a list of values in its text (IN (?, ?, …)) must not go through it.
func (s *DB) listing() querier { return listingQuerier{s} }

type listingQuerier struct{ s *DB }

func (l listingQuerier) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return l.s.query(ctx, q, args...)
}
