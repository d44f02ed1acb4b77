package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// EachGrant reads the grants and the accounts' last use each in the
// order the database keeps them (no sort and no index lookup per row in
// the database: joining and ordering 2,000,000 grants there cost more
// than half of a campaign's start), keeps them compactly (every string
// interned, about 40 bytes a grant) and hands them out by person, in the
// order of group (see store.ProvisioningQueue).
func (s *DB) EachGrant(ctx context.Context, group func(source, employeeID string) string, fn func(g store.GrantRow, lastUsed time.Time) error) error {
	var in interner
	var all blocks[grant]
	// The accounts' last use is read at the same time, on another
	// connection, with its own strings (matched to the grants' after).
	type account struct{ app, source, emp uint32 }
	type activity struct {
		account
		at int64
	}
	var (
		ain  interner
		acts []activity
		aerr = make(chan error, 1)
	)
	go func() {
		var t int64
		aerr <- eachRow(ctx, s.db, `SELECT app, source, employee_id, last_activity FROM account_activity`, 3, []any{&t}, func(v []sql.RawBytes) error {
			acts = append(acts, activity{account{ain.id(v[0]), ain.id(v[1]), ain.id(v[2])}, t})
			return nil
		})
	}()
	var upd int64
	err := eachRow(ctx, s.db, `SELECT `+strings.Join(grantCols, ",")+` FROM grants`, 6, []any{&upd}, func(v []sql.RawBytes) error {
		all.add(grant{app: in.id(v[0]), source: in.id(v[1]), emp: in.id(v[2]), ent: in.id(v[3]),
			state: in.id(v[4]), reason: in.id(v[5]), updated: upd})
		return nil
	})
	if aerr := <-aerr; err == nil && aerr != nil {
		return fmt.Errorf("store: account activity: %w", aerr)
	}
	if err != nil {
		return fmt.Errorf("store: grants: %w", err)
	}
	// By person: each distinct (source, employee ID) ranked in order, the
	// grants and the accounts' last uses put in their person's place (a
	// counting sort), so that a person's are found together.
	type person struct{ source, emp uint32 }
	rank := map[person]int32{}
	for g := range all.each() {
		rank[person{g.source, g.emp}] = 0
	}
	type keyed struct {
		person
		group string
	}
	keys := make([]keyed, 0, len(rank))
	for k := range rank {
		kk := keyed{person: k}
		if group != nil {
			kk.group = group(in.strs[k.source], in.strs[k.emp])
		}
		keys = append(keys, kk)
	}
	slices.SortFunc(keys, func(a, b keyed) int {
		if c := strings.Compare(a.group, b.group); c != 0 {
			return c
		}
		if c := strings.Compare(in.strs[a.source], in.strs[b.source]); c != 0 {
			return c
		}
		return strings.Compare(in.strs[a.emp], in.strs[b.emp])
	})
	for i, k := range keys {
		rank[k.person] = int32(i)
	}
	granks := make([]int32, 0, all.n)
	for g := range all.each() {
		granks = append(granks, rank[person{g.source, g.emp}])
	}
	gorder, gstart := byRank(granks, len(keys))
	// The activity's strings as the grants' (none: no grant has it).
	const none = ^uint32(0)
	same := make([]uint32, len(ain.strs))
	for i, str := range ain.strs {
		if id, ok := in.ids[str]; ok {
			same[i] = id
		} else {
			same[i] = none
		}
	}
	aranks := make([]int32, len(acts))
	for i := range acts {
		a := &acts[i]
		a.app, a.source, a.emp = same[a.app], same[a.source], same[a.emp]
		aranks[i] = -1
		if r, ok := rank[person{a.source, a.emp}]; ok && a.app != none {
			aranks[i] = r
		}
	}
	aorder, astart := byRank(aranks, len(keys))
	for r := range keys {
		uses := aorder[astart[r]:astart[r+1]]
		for _, i := range gorder[gstart[r]:gstart[r+1]] {
			g := all.at(int(i))
			var last time.Time
			for _, j := range uses {
				if acts[j].app == g.app {
					last = fromMicros(acts[j].at)
				}
			}
			row := store.GrantRow{App: in.strs[g.app], Source: in.strs[g.source], EmployeeID: in.strs[g.emp],
				Entitlement: in.strs[g.ent], State: in.strs[g.state], Reason: in.strs[g.reason], UpdatedAt: fromMicros(g.updated)}
			if err := fn(row, last); err != nil {
				return err
			}
		}
	}
	return nil
}

// byRank orders the indexes of ranks by rank (a counting sort; a rank
// below 0 is left out): the indexes of rank r are order[start[r]:start[r+1]].
func byRank(ranks []int32, n int) (order []int32, start []int) {
	start = make([]int, n+1)
	for _, r := range ranks {
		if r >= 0 {
			start[r+1]++
		}
	}
	for i := 1; i <= n; i++ {
		start[i] += start[i-1]
	}
	order = make([]int32, start[n])
	next := slices.Clone(start[:n])
	for i, r := range ranks {
		if r >= 0 {
			order[next[r]] = int32(i)
			next[r]++
		}
	}
	return order, start
}

// grant is a grants row with its strings interned.
type grant struct {
	app, source, emp, ent, state, reason uint32
	updated                              int64
}

// blocks is a list grown a block at a time: nothing is copied as it grows
// (a slice of millions of grants grown by append copied 400 MB).
type blocks[T any] struct {
	b [][]T
	n int
}

const blockLen = 1 << 14

func (l *blocks[T]) add(v T) {
	if l.n%blockLen == 0 {
		l.b = append(l.b, make([]T, 0, blockLen))
	}
	l.b[len(l.b)-1] = append(l.b[len(l.b)-1], v)
	l.n++
}

func (l *blocks[T]) at(i int) *T { return &l.b[i/blockLen][i%blockLen] }

func (l *blocks[T]) each() func(yield func(*T) bool) {
	return func(yield func(*T) bool) {
		for _, b := range l.b {
			for i := range b {
				if !yield(&b[i]) {
					return
				}
			}
		}
	}
}

// interner gives each distinct string a number, keeping one copy.
type interner struct {
	ids  map[string]uint32
	strs []string
}

func (n *interner) id(b []byte) uint32 {
	if id, ok := n.ids[string(b)]; ok {
		return id
	}
	if n.ids == nil {
		n.ids = map[string]uint32{}
	}
	s := string(b)
	n.ids[s] = uint32(len(n.strs))
	n.strs = append(n.strs, s)
	return n.ids[s]
}

// eachRow runs q and calls fn with each row: its first ncols columns as
// raw bytes (valid only during the call), the rest scanned into more.
func eachRow(ctx context.Context, db *sql.DB, q string, ncols int, more []any, fn func([]sql.RawBytes) error) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	v := make([]sql.RawBytes, ncols)
	dest := make([]any, ncols, ncols+len(more))
	for i := range v {
		dest[i] = &v[i]
	}
	dest = append(dest, more...)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return rows.Err()
}
