package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
)

var scimCols = []string{"id", "type", "source", "employee_id", "name_key", "external_id", "version",
	"created_at", "updated_at", "doc", "seq"}

var scimSelect = `SELECT ` + strings.Join(scimCols, ",") + ` FROM scim_resources`

func scanSCIM(r scanner) (store.SCIMResource, error) {
	var x store.SCIMResource
	var created, updated int64
	var doc string
	err := r.Scan(&x.ID, &x.Type, &x.Source, &x.EmployeeID, &x.NameKey, &x.ExternalID, &x.Version, &created, &updated, &doc, &x.Seq)
	x.Created, x.Modified, x.Doc = fromMicros(created), fromMicros(updated), []byte(doc)
	return x, err
}

func (s *DB) SCIMResource(ctx context.Context, typ, id string) (store.SCIMResource, error) {
	x, err := scanSCIM(s.db.QueryRowContext(ctx, s.rb(scimSelect+` WHERE id = ? AND type = ?`), id, typ))
	if errors.Is(err, sql.ErrNoRows) {
		return x, fmt.Errorf("%s %s: %w", typ, id, store.ErrNotFound)
	}
	if err != nil {
		return x, fmt.Errorf("store: %s %s: %w", typ, id, err)
	}
	return x, nil
}

func (s *DB) SCIMResources(ctx context.Context, q store.SCIMQuery) ([]store.SCIMResource, int, error) {
	if q.NameKey == "" && q.ExternalID == "" && q.EmployeeID == "" && q.Source == "" && len(q.IDs) == 0 && !q.OrderByName {
		return s.scimPage(ctx, q)
	}
	where := []string{"type = ?"}
	args := []any{q.Type}
	for _, c := range []struct{ col, v string }{{"name_key", q.NameKey}, {"external_id", q.ExternalID},
		{"employee_id", q.EmployeeID}, {"source", q.Source}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if len(q.IDs) > 0 {
		if len(q.IDs) > 500 {
			return nil, 0, fmt.Errorf("store: at most 500 ids per query")
		}
		where = append(where, "id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(q.IDs)), ",")+")")
		for _, id := range q.IDs {
			args = append(args, id)
		}
	}
	cond := " WHERE " + strings.Join(where, " AND ")
	total := 0
	if q.Count && len(where) == 1 {
		// Every resource of the type (sorted by name): the kept count.
		var next, gaps int64
		err := s.db.QueryRowContext(ctx, s.rb(`SELECT next_seq, gaps FROM scim_counters WHERE type = ?`), q.Type).Scan(&next, &gaps)
		if errors.Is(err, sql.ErrNoRows) {
			next, gaps = 1, 0
		} else if err != nil {
			return nil, 0, fmt.Errorf("store: scim counters: %w", err)
		}
		total = int(next - 1 - gaps)
	} else if q.Count {
		if err := s.db.QueryRowContext(ctx, s.rb(`SELECT count(*) FROM scim_resources`+cond), args...).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("store: count scim resources: %w", err)
		}
	}
	order := " ORDER BY seq"
	if q.OrderByName {
		order = " ORDER BY name_key, id"
	}
	// A lookup by userName, externalId, employee or ids matches a handful of
	// rows: leave the planner free to use that index (an ORDER BY lets it
	// walk the creation-order index over every row instead) and sort here.
	point := q.NameKey != "" || q.ExternalID != "" || q.EmployeeID != "" || len(q.IDs) > 0
	if point {
		order = ""
	}
	limit := int64(q.Limit)
	if limit <= 0 {
		limit = 1 << 40
	}
	page := ` LIMIT ? OFFSET ?`
	pageArgs := []any{limit, max(q.Offset, 0)}
	if point {
		page, pageArgs = "", nil // paged below, after sorting
	}
	rows, err := s.query(ctx, s.rb(scimSelect+cond+order+page), append(args, pageArgs...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: scim resources: %w", err)
	}
	defer rows.Close()
	var out []store.SCIMResource
	for rows.Next() {
		x, err := scanSCIM(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: scim resource: %w", err)
		}
		out = append(out, x)
	}
	if !q.Count {
		total = len(out)
	}
	if point {
		sort.Slice(out, func(i, j int) bool {
			a, b := out[i], out[j]
			if q.OrderByName && a.NameKey != b.NameKey {
				return a.NameKey < b.NameKey
			}
			if !q.OrderByName {
				return a.Seq < b.Seq
			}
			return a.ID < b.ID
		})
		out = out[min(max(q.Offset, 0), len(out)):]
		out = out[:min(int64(len(out)), limit)]
	}
	return out, total, rows.Err()
}

// scimPage is a page of every resource of a type in creation order. The
// total is kept in scim_counters; the resource at position Offset+1 has
// seq Offset+1 plus the number of deleted positions (gaps) before it, so
// the page is one range read of the (type, seq) index. Counts, gaps and
// rows are read in one snapshot.
func (s *DB) scimPage(ctx context.Context, q store.SCIMQuery) ([]store.SCIMResource, int, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, 0, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	var next, gaps int64
	err = tx.QueryRowContext(ctx, s.rb(`SELECT next_seq, gaps FROM scim_counters WHERE type = ?`), q.Type).Scan(&next, &gaps)
	if errors.Is(err, sql.ErrNoRows) {
		next, gaps = 1, 0
	} else if err != nil {
		return nil, 0, fmt.Errorf("store: scim counters: %w", err)
	}
	total := next - 1 - gaps
	k := int64(max(q.Offset, 0)) + 1 // 1-based position of the first resource wanted
	limit := int64(q.Limit)
	if limit <= 0 {
		limit = 1 << 40
	}
	if k > total {
		return nil, int(total), nil
	}
	from := k
	if gaps > 0 {
		gs, err := s.scimGaps(ctx, tx, q.Type, gaps)
		if err != nil {
			return nil, 0, err
		}
		from = k + seqBefore(gs, k)
	}
	rows, err := tx.QueryContext(ctx, s.rb(scimSelect+` WHERE type = ? AND seq >= ? ORDER BY seq LIMIT ?`), q.Type, from, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("store: scim resources: %w", err)
	}
	defer rows.Close()
	out := make([]store.SCIMResource, 0, min(limit, total-k+1))
	for rows.Next() {
		x, err := scanSCIM(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: scim resource: %w", err)
		}
		out = append(out, x)
	}
	return out, int(total), rows.Err()
}

// seqBefore is the number of gaps (sorted deleted positions) below the
// seq of the k-th remaining resource: gap i (0-based) has gs[i]-1-i
// resources before it, and lies below the k-th one when that is < k.
func seqBefore(gs []int64, k int64) int64 {
	return int64(sort.Search(len(gs), func(i int) bool { return gs[i]-1-int64(i) >= k }))
}

// scimGaps returns the sorted deleted positions of a type. Gaps are only
// ever added, so their number identifies the list: it is cached per type
// and read again only after a delete.
func (s *DB) scimGaps(ctx context.Context, tx *sql.Tx, typ string, n int64) ([]int64, error) {
	s.gapMu.Lock()
	c, ok := s.gapCache[typ]
	s.gapMu.Unlock()
	if ok && int64(len(c)) == n {
		return c, nil
	}
	rows, err := tx.QueryContext(ctx, s.rb(`SELECT seq FROM scim_gaps WHERE type = ? ORDER BY seq`), typ)
	if err != nil {
		return nil, fmt.Errorf("store: scim gaps: %w", err)
	}
	defer rows.Close()
	gs := make([]int64, 0, n)
	for rows.Next() {
		var g int64
		if err := rows.Scan(&g); err != nil {
			return nil, fmt.Errorf("store: scim gaps: %w", err)
		}
		gs = append(gs, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: scim gaps: %w", err)
	}
	if int64(len(gs)) != n {
		return nil, fmt.Errorf("store: scim gaps of %s: %d kept, counter says %d", typ, len(gs), n)
	}
	s.gapMu.Lock()
	if s.gapCache == nil {
		s.gapCache = map[string][]int64{}
	}
	s.gapCache[typ] = gs
	s.gapMu.Unlock()
	return gs, nil
}

func (s *DB) WriteSCIM(ctx context.Context, writes []store.SCIMWrite, entries []audit.Entry) error {
	return s.writeGrouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.scimWrites(ctx, tx, writes); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, entries)
	})
}

// scimWrites checks versions and uniqueness and writes resources.
func (s *DB) scimWrites(ctx context.Context, tx *sql.Tx, writes []store.SCIMWrite) error {
	for _, w := range writes {
		x := w.Resource
		var version, seq int64
		err := s.txQueryRow(ctx, tx, s.rb(`SELECT version, seq FROM scim_resources WHERE id = ?`), x.ID).Scan(&version, &seq)
		if errors.Is(err, sql.ErrNoRows) {
			version = 0
		} else if err != nil {
			return fmt.Errorf("store: scim resource %s: %w", x.ID, err)
		}
		if version != x.Version {
			if version == 0 {
				return fmt.Errorf("%s %s: %w", x.Type, x.ID, store.ErrNotFound)
			}
			return fmt.Errorf("%w: %s %s is at version %d, not %d", store.ErrVersion, x.Type, x.ID, version, x.Version)
		}
		if w.Delete {
			if _, err := s.txExec(ctx, tx, s.rb(`DELETE FROM scim_resources WHERE id = ?`), x.ID); err != nil {
				return fmt.Errorf("store: delete scim resource %s: %w", x.ID, err)
			}
			// A deleted group has no members (whose groups change); a
			// deleted member is in no group.
			col := "member_id"
			if x.Type == store.SCIMUser {
				if err := s.dropMember(ctx, tx, x.ID, x.Modified); err != nil {
					return err
				}
			}
			if x.Type == store.SCIMGroup {
				col = "group_id"
				members, err := queryAll(ctx, tx, "scim members", func(r scanner) (string, error) {
					var id string
					return id, r.Scan(&id)
				}, s.rb(`SELECT member_id FROM scim_members WHERE group_id = ?`), x.ID)
				if err != nil {
					return err
				}
				if err := s.touchMembers(ctx, tx, members, x.Modified); err != nil {
					return err
				}
			}
			if _, err := s.txExec(ctx, tx, s.rb(`DELETE FROM scim_members WHERE `+col+` = ?`), x.ID); err != nil {
				return fmt.Errorf("store: scim members of %s: %w", x.ID, err)
			}
			if _, err := s.txExec(ctx, tx, s.rb(`INSERT INTO scim_gaps (type, seq) VALUES (?, ?)`), x.Type, seq); err != nil {
				return fmt.Errorf("store: scim gap: %w", err)
			}
			if _, err := s.txExec(ctx, tx, s.rb(`UPDATE scim_counters SET gaps = gaps + 1 WHERE type = ?`), x.Type); err != nil {
				return fmt.Errorf("store: scim counters: %w", err)
			}
			continue
		}
		var n int
		if x.Type == store.SCIMUser {
			if err := s.txQueryRow(ctx, tx, s.rb(`SELECT count(*) FROM scim_resources WHERE type = ? AND name_key = ? AND id <> ?`),
				x.Type, x.NameKey, x.ID).Scan(&n); err != nil {
				return fmt.Errorf("store: scim uniqueness: %w", err)
			}
			if n > 0 {
				return fmt.Errorf("%w: userName %q is already taken", store.ErrUniqueness, x.NameKey)
			}
		}
		if x.EmployeeID != "" {
			if err := s.txQueryRow(ctx, tx, s.rb(`SELECT count(*) FROM scim_resources WHERE source = ? AND employee_id = ? AND id <> ?`),
				x.Source, x.EmployeeID, x.ID).Scan(&n); err != nil {
				return fmt.Errorf("store: scim uniqueness: %w", err)
			}
			if n > 0 {
				return fmt.Errorf("%w: employee %q of source %q already has a resource", store.ErrUniqueness, x.EmployeeID, x.Source)
			}
		}
		if version == 0 {
			if err := s.txQueryRow(ctx, tx, s.rb(`INSERT INTO scim_counters (type, next_seq, gaps) VALUES (?, 2, 0)
				ON CONFLICT (type) DO UPDATE SET next_seq = scim_counters.next_seq + 1 RETURNING next_seq - 1`), x.Type).Scan(&seq); err != nil {
				return fmt.Errorf("store: scim counters: %w", err)
			}
			_, err = s.txExec(ctx, tx, s.rb(`INSERT INTO scim_resources (`+strings.Join(scimCols, ",")+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`),
				x.ID, x.Type, x.Source, x.EmployeeID, x.NameKey, x.ExternalID, 1, micros(x.Created), micros(x.Modified), string(x.Doc), seq)
		} else {
			_, err = s.txExec(ctx, tx, s.rb(`UPDATE scim_resources SET employee_id = ?, name_key = ?, external_id = ?, version = ?,
				updated_at = ?, doc = ? WHERE id = ?`),
				x.EmployeeID, x.NameKey, x.ExternalID, version+1, micros(x.Modified), string(x.Doc), x.ID)
		}
		if err != nil {
			return fmt.Errorf("store: write scim resource %s: %w", x.ID, err)
		}
		if x.Type == store.SCIMGroup {
			if err := s.syncMembers(ctx, tx, x, version == 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// syncMembers makes the membership rows of group x its Members: only the
// members added and removed are written, so a PATCH adding a hundred
// members to a group of thousands writes a hundred rows.
func (s *DB) syncMembers(ctx context.Context, tx *sql.Tx, x store.SCIMResource, created bool) error {
	want := make(map[string]bool, len(x.Members))
	for _, m := range x.Members {
		if m != "" {
			want[m] = true
		}
	}
	have := map[string]string{} // member -> display
	if !created {
		rows, err := tx.QueryContext(ctx, s.rb(`SELECT member_id, display FROM scim_members WHERE group_id = ?`), x.ID)
		if err != nil {
			return fmt.Errorf("store: scim members of %s: %w", x.ID, err)
		}
		for rows.Next() {
			var m, d string
			if err := rows.Scan(&m, &d); err != nil {
				rows.Close()
				return fmt.Errorf("store: scim members of %s: %w", x.ID, err)
			}
			have[m] = d
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: scim members of %s: %w", x.ID, err)
		}
	}
	renamed := false
	var changed []string // members whose "groups" now read differently
	for m, d := range have {
		if !want[m] {
			if _, err := s.txExec(ctx, tx, s.rb(`DELETE FROM scim_members WHERE group_id = ? AND member_id = ?`), x.ID, m); err != nil {
				return fmt.Errorf("store: scim member %s of %s: %w", m, x.ID, err)
			}
			changed = append(changed, m)
		} else if d != x.Display {
			renamed = true
			changed = append(changed, m)
		}
	}
	if renamed {
		if _, err := s.txExec(ctx, tx, s.rb(`UPDATE scim_members SET display = ? WHERE group_id = ?`), x.Display, x.ID); err != nil {
			return fmt.Errorf("store: scim members of %s: %w", x.ID, err)
		}
	}
	var add []string
	for m := range want {
		if _, ok := have[m]; !ok {
			add = append(add, m)
		}
	}
	sort.Strings(add)
	if err := s.bulkFunc(ctx, tx, "scim_members", []string{"group_id", "member_id", "display"}, len(add), func(i int, args []any) []any {
		return append(args, x.ID, add[i], x.Display)
	}, ""); err != nil {
		return err
	}
	return s.touchMembers(ctx, tx, append(changed, add...), x.Modified)
}

// touchMembers gives the Users among ids a new version and modification
// time: their "groups" changed, so their representation (and ETag) did.
// dropMember takes a deleted user out of the members of every group that
// lists it: each such group is a new version without it (RFC 7644 3.6:
// a deleted resource is no longer returned, as a member neither).
func (s *DB) dropMember(ctx context.Context, tx *sql.Tx, userID string, at time.Time) error {
	type group struct {
		id  string
		doc string
	}
	gs, err := queryAll(ctx, tx, "store: groups of a deleted user", func(r scanner) (group, error) {
		var g group
		return g, r.Scan(&g.id, &g.doc)
	}, s.rb(`SELECT r.id, r.doc FROM scim_resources r JOIN scim_members m ON m.group_id = r.id
		WHERE m.member_id = ? AND r.type = 'Group' ORDER BY r.id`), userID)
	if err != nil {
		return err
	}
	for _, g := range gs {
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(g.doc), &doc); err != nil {
			return fmt.Errorf("store: group %s: %w", g.id, err)
		}
		var members []map[string]any
		if raw, ok := doc["members"]; ok {
			if err := json.Unmarshal(raw, &members); err != nil {
				return fmt.Errorf("store: group %s members: %w", g.id, err)
			}
		}
		kept := members[:0]
		for _, m := range members {
			if v, _ := m["value"].(string); v != userID {
				kept = append(kept, m)
			}
		}
		if len(kept) == 0 {
			delete(doc, "members")
		} else {
			b, _ := json.Marshal(kept)
			doc["members"] = b
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("store: group %s: %w", g.id, err)
		}
		if _, err := s.txExec(ctx, tx, s.rb(`UPDATE scim_resources SET doc = ?, version = version + 1, updated_at = ? WHERE id = ?`),
			string(b), micros(at), g.id); err != nil {
			return fmt.Errorf("store: group %s: %w", g.id, err)
		}
	}
	return nil
}

func (s *DB) touchMembers(ctx context.Context, tx *sql.Tx, ids []string, at time.Time) error {
	sort.Strings(ids)
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := []any{micros(at)}
		for _, id := range chunk {
			args = append(args, id)
		}
		q := `UPDATE scim_resources SET version = version + 1, updated_at = ? WHERE type = 'User' AND id IN (` +
			strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",") + `)`
		if _, err := tx.ExecContext(ctx, s.rb(q), args...); err != nil {
			return fmt.Errorf("store: scim members' versions: %w", err)
		}
	}
	return nil
}

func (s *DB) SCIMGroupsOf(ctx context.Context, ids []string) (map[string][]store.SCIMGroupRef, error) {
	out := map[string][]store.SCIMGroupRef{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		q := `SELECT member_id, group_id, display FROM scim_members WHERE member_id IN (` +
			strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",") + `) ORDER BY member_id, group_id`
		rows, err := s.query(ctx, s.rb(q), args...)
		if err != nil {
			return nil, fmt.Errorf("store: scim groups: %w", err)
		}
		for rows.Next() {
			var m string
			var g store.SCIMGroupRef
			if err := rows.Scan(&m, &g.ID, &g.Display); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: scim groups: %w", err)
			}
			out[m] = append(out[m], g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: scim groups: %w", err)
		}
	}
	return out, nil
}

// InSharedTx runs fn as one grouped write (see writeGrouped): it may
// share a transaction and its commit with other small writes, inside a
// savepoint of its own.
func (s *DB) InSharedTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.writeGrouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return fn(&txn{s: s, ctx: ctx, tx: tx})
	})
}

func (t *txn) WriteSCIM(writes []store.SCIMWrite) error {
	return t.s.scimWrites(t.ctx, t.tx, writes)
}

func (t *txn) SourceSerial(source string) (int64, error) {
	var serial int64
	err := t.s.txQueryRow(t.ctx, t.tx, t.s.rb(`SELECT serial FROM sources WHERE name = ?`), source).Scan(&serial)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := t.s.txExec(t.ctx, t.tx, t.s.rb(`INSERT INTO sources (name, serial, held_import) VALUES (?, 0, '')`), source); err != nil {
			return 0, fmt.Errorf("store: source %q: %w", source, err)
		}
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: source %q: %w", source, err)
	}
	return serial, nil
}

func (t *txn) HeldPush(source string) (store.Import, []store.Person, []store.Event, error) {
	var payload string
	imp, err := scanImport(t.tx.QueryRowContext(t.ctx, t.s.rb(`SELECT `+strings.Join(importCols, ",")+` FROM imports
		WHERE source = ? AND status = 'held' AND file = 'scim' ORDER BY created_at DESC LIMIT 1`), source))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Import{}, nil, nil, nil
	}
	if err != nil {
		return store.Import{}, nil, nil, fmt.Errorf("store: held pushes of %q: %w", source, err)
	}
	if err := t.tx.QueryRowContext(t.ctx, t.s.rb(`SELECT payload FROM imports WHERE id = ?`), imp.ID).Scan(&payload); err != nil {
		return store.Import{}, nil, nil, fmt.Errorf("store: import %s: %w", imp.ID, err)
	}
	var p heldPayload
	if err := json.Unmarshal([]byte(payload), &p); err != nil {
		return store.Import{}, nil, nil, fmt.Errorf("store: import %s payload: %w", imp.ID, err)
	}
	return imp, p.Persons, p.Events, nil
}

func (t *txn) UpdateHeldImport(imp store.Import, persons []store.Person, events []store.Event) error {
	b, err := json.Marshal(heldPayload{Persons: persons, Events: events})
	if err != nil {
		return fmt.Errorf("store: held payload: %w", err)
	}
	if _, err := t.s.txExec(t.ctx, t.tx, t.s.rb(`UPDATE imports SET payload = ?, rows = ?, leavers = ?, movers = ?, changes = ? WHERE id = ?`),
		string(b), imp.Rows, imp.Leavers, imp.Movers, imp.Changes, imp.ID); err != nil {
		return fmt.Errorf("store: held import %s: %w", imp.ID, err)
	}
	return nil
}

func (t *txn) InsertHeldImport(imp store.Import, persons []store.Person, events []store.Event) error {
	b, err := json.Marshal(heldPayload{Persons: persons, Events: events})
	if err != nil {
		return fmt.Errorf("store: held payload: %w", err)
	}
	return t.s.insertImport(t.ctx, t.tx, imp, string(b))
}

func (t *txn) CountActivePersons(source string) (int, error) {
	var n int
	if err := t.s.txQueryRow(t.ctx, t.tx, t.s.rb(`SELECT count(*) FROM persons WHERE source = ? AND status = 'active'`), source).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: active persons: %w", err)
	}
	return n, nil
}

func (t *txn) CountAppliedLeaversSince(source string, since time.Time) (int, error) {
	var n int
	if err := t.s.txQueryRow(t.ctx, t.tx, t.s.rb(`SELECT count(*) FROM events WHERE type = 'leaver' AND state = 'applied' AND source = ? AND created_at > ?`),
		source, micros(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: recent leavers: %w", err)
	}
	return n, nil
}

func (t *txn) ApplyChanges(persons []store.Person, events []store.Event, provisioned bool, entries []audit.Entry) error {
	seqs, err := t.s.appendAuditSeqs(t.ctx, t.tx, entries)
	if err != nil {
		return err
	}
	return t.s.applyChanges(t.ctx, t.tx, persons, events, provisioned, seqs)
}

func (t *txn) QueueProvision(b *store.ProvisionBatch) error {
	return t.s.queue(t.ctx, t.tx, b)
}

func (t *txn) AddToImport(imp store.Import) error {
	return t.s.bulk(t.ctx, t.tx, "imports", importCols, [][]any{importRow(imp, "")}, ` ON CONFLICT (id) DO UPDATE SET
		rows = imports.rows + excluded.rows, joiners = imports.joiners + excluded.joiners,
		movers = imports.movers + excluded.movers, leavers = imports.leavers + excluded.leavers,
		rehires = imports.rehires + excluded.rehires, changes = imports.changes + excluded.changes,
		unchanged = imports.unchanged + excluded.unchanged`)
}
