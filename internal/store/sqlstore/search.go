package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tango-iga/tango/internal/store"
)

// peopleIndex answers PersonFilter.Query (a case-insensitive substring of
// the display name, e-mail, employee ID or department) from memory: a
// LIKE '%q%' over four columns is a scan of every person, tens of
// milliseconds of CPU at 100,000 persons, and people search is typed
// into. The index is one buffer holding, per person in (employee ID,
// source) order, those four fields in lower case; a search is a
// bytes.Index over it (about a millisecond when nothing matches) that stops
// as soon as a page is full.
//
// It is exact, not eventually consistent: every transaction that writes
// persons moves the persons_gen counter on (bumpPersons), and a search
// reads the counter first and rebuilds the index when it moved (one read
// of five columns of every person, once per change). Reading the counter
// before the persons means the index is never older than the counter it
// is tagged with, whatever the isolation level.
type peopleIndex struct {
	built bool
	gen   int64
	buf   []byte  // "\x00" + haystack of person 0 + "\x00" + haystack of person 1 ...
	start []int32 // start[i]: offset of person i's haystack in buf
	ppl   []indexedPerson
}

type indexedPerson struct {
	source, id, status, department, manager string
}

// bumpPersons moves the persons counter on, in the writing transaction.
func (s *DB) bumpPersons(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `UPDATE persons_gen SET gen = gen + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("store: persons counter: %w", err)
	}
	return nil
}

// searchPersons is Persons for a filter with a Query.
func (s *DB) searchPersons(ctx context.Context, f store.PersonFilter, q string) ([]store.Person, error) {
	idx, err := s.peopleIndex(ctx)
	if err != nil {
		return nil, err
	}
	limit := limitOrAll(f.Limit)
	keys := idx.search(q, f, limit)
	if len(keys) == 0 {
		return []store.Person{}, nil
	}
	// Read the rows of the keys found; one written since the index was
	// built is checked again against the filter, the way SQL would.
	ids := make([]any, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if !seen[k.id] {
			seen[k.id] = true
			ids = append(ids, k.id)
		}
	}
	// The list of IDs is padded to a power of two with an ID no person has
	// (""), so that there are few query texts to prepare once and keep.
	n := 8
	for n < len(ids) {
		n *= 2
	}
	for len(ids) < n {
		ids = append(ids, "")
	}
	qs := `SELECT ` + strings.Join(personCols, ",") + ` FROM persons WHERE employee_id IN (?` + strings.Repeat(",?", n-1) + `)`
	rows, err := queryAll(ctx, s.listing(), "store: persons", scanPerson, s.rb(qs), ids...)
	if err != nil {
		return nil, err
	}
	out := rows[:0]
	for _, p := range rows {
		if personMatches(&p, f, q) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b store.Person) int {
		return cmpKey(a.EmployeeID, a.Source, b.EmployeeID, b.Source)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func cmpKey(id1, src1, id2, src2 string) int {
	if c := strings.Compare(id1, id2); c != 0 {
		return c
	}
	return strings.Compare(src1, src2)
}

// personMatches is the filter applied to one person (the index's answer
// checked against the row read).
func personMatches(p *store.Person, f store.PersonFilter, q string) bool {
	if (f.Source != "" && p.Source != f.Source) || (f.Status != "" && p.Status != f.Status) ||
		(f.Department != "" && p.Department != f.Department) || (f.ManagerID != "" && p.ManagerID != f.ManagerID) ||
		(f.Email != "" && !strings.EqualFold(p.Email, f.Email)) || (f.After != "" && p.EmployeeID <= f.After) {
		return false
	}
	for _, v := range []string{p.DisplayName, p.Email, p.EmployeeID, p.Department} {
		if strings.Contains(strings.ToLower(v), q) {
			return true
		}
	}
	return false
}

// peopleIndex returns the index as of the persons counter now.
func (s *DB) peopleIndex(ctx context.Context) (*peopleIndex, error) {
	var gen int64
	if err := s.db.QueryRowContext(ctx, `SELECT gen FROM persons_gen WHERE id = 1`).Scan(&gen); err != nil {
		return nil, fmt.Errorf("store: persons counter: %w", err)
	}
	s.searchMu.Lock()
	idx := s.search
	s.searchMu.Unlock()
	if idx != nil && idx.built && idx.gen >= gen {
		return idx, nil
	}
	// One build at a time; searches arriving meanwhile wait for it.
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	s.searchMu.Lock()
	idx = s.search
	s.searchMu.Unlock()
	if idx != nil && idx.built && idx.gen >= gen {
		return idx, nil
	}
	idx, err := s.buildPeopleIndex(ctx)
	if err != nil {
		return nil, err
	}
	s.searchMu.Lock()
	s.search = idx
	s.searchMu.Unlock()
	return idx, nil
}

func (s *DB) buildPeopleIndex(ctx context.Context) (*peopleIndex, error) {
	idx := &peopleIndex{built: true}
	// The counter first: the persons read below are at least that new.
	if err := s.db.QueryRowContext(ctx, `SELECT gen FROM persons_gen WHERE id = 1`).Scan(&idx.gen); err != nil {
		return nil, fmt.Errorf("store: persons counter: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT source, employee_id, display_name, email, department, status, manager_id FROM persons`)
	if err != nil {
		return nil, fmt.Errorf("store: people index: %w", err)
	}
	defer rows.Close()
	type row struct {
		p                  indexedPerson
		name, email, lower string
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.p.source, &r.p.id, &r.name, &r.email, &r.p.department, &r.p.status, &r.p.manager); err != nil {
			return nil, fmt.Errorf("store: people index: %w", err)
		}
		all = append(all, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: people index: %w", err)
	}
	slices.SortFunc(all, func(a, b row) int { return cmpKey(a.p.id, a.p.source, b.p.id, b.p.source) })
	size := 1
	for i := range all {
		size += len(all[i].p.id) + len(all[i].name) + len(all[i].email) + len(all[i].p.department) + 4
	}
	idx.buf = make([]byte, 0, size)
	idx.buf = append(idx.buf, 0)
	idx.start = make([]int32, len(all))
	idx.ppl = make([]indexedPerson, len(all))
	for i := range all {
		r := &all[i]
		idx.start[i] = int32(len(idx.buf))
		idx.ppl[i] = r.p
		for j, v := range []string{r.p.id, r.name, r.email, r.p.department} {
			if j > 0 {
				idx.buf = append(idx.buf, 1) // between fields: a match never spans two
			}
			idx.buf = appendLower(idx.buf, v)
		}
		idx.buf = append(idx.buf, 0)
	}
	return idx, nil
}

// appendLower appends v in lower case with the separators 0 and 1 (which
// no search can contain) replaced by a space.
func appendLower(b []byte, v string) []byte {
	ascii := true
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		v = strings.ToLower(v)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == 0 || c == 1:
			c = ' '
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

type personKey struct{ source, id string }

// search returns the keys of up to limit persons matching q and f's
// other fields, in (employee ID, source) order.
func (idx *peopleIndex) search(q string, f store.PersonFilter, limit int) []personKey {
	if strings.ContainsAny(q, "\x00\x01") || len(idx.ppl) == 0 {
		return nil
	}
	needle := []byte(q)
	first := 0
	if f.After != "" {
		first = sort.Search(len(idx.ppl), func(i int) bool { return idx.ppl[i].id > f.After })
	}
	if first >= len(idx.ppl) {
		return nil
	}
	var out []personKey
	off := int(idx.start[first])
	for len(out) < limit {
		j := bytes.Index(idx.buf[off:], needle)
		if j < 0 {
			break
		}
		at := off + j
		// The person whose haystack holds the match.
		i := sort.Search(len(idx.start), func(i int) bool { return int(idx.start[i]) > at }) - 1
		p := &idx.ppl[i]
		if (f.Source == "" || p.source == f.Source) && (f.Status == "" || p.status == f.Status) &&
			(f.Department == "" || p.department == f.Department) && (f.ManagerID == "" || p.manager == f.ManagerID) {
			out = append(out, personKey{p.source, p.id})
		}
		// Go on after this person's haystack.
		if i+1 >= len(idx.start) {
			break
		}
		off = int(idx.start[i+1])
	}
	return out
}

// RefreshPeopleSearch brings the people search index up to date with the
// persons counter, building it when there is none yet: the server calls
// it at start and every few seconds, so that the search after an import
// seldom waits for the rebuild (a search still rebuilds it itself when it
// finds the counter moved: the index is never stale).
func (s *DB) RefreshPeopleSearch(ctx context.Context) error {
	_, err := s.peopleIndex(ctx)
	return err
}
