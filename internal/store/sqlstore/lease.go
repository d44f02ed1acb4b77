package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// Work that a worker claims under a lease (operations, notifications) is
// claimed and finished by the two functions below, for every such table:
// a claim is one UPDATE … RETURNING over the due rows, a finish one UPDATE
// that holds only while the finishing worker still owns the lease. A worker
// that dies leaves its rows leased until lease_until passes; the table's due
// condition then makes them claimable again.

// leased describes one table of leased work.
type leased[T any] struct {
	table   string // table name; the due condition names it o
	what    string // for errors: "operations"
	cols    string // columns RETURNING gives scan, after id
	scan    func(scanner) (T, error)
	running string           // the state of a claimed row
	order   string           // ORDER BY of the claim, over o
	less    func(a, b T) int // the same order, for the RETURNING rows
}

// claimLeased leases to owner until now+lease at most limit rows of l that
// satisfy due (a condition over o, with args), in one statement, and
// returns them in l's order.
func claimLeased[T any](ctx context.Context, s *DB, tx *sql.Tx, l leased[T], due string, args []any, owner string, now time.Time, lease time.Duration, limit int) ([]T, error) {
	q := `UPDATE ` + l.table + ` SET state = ?, lease_owner = ?, lease_until = ?, updated_at = ?
		WHERE id IN (SELECT o.id FROM ` + l.table + ` o WHERE ` + due + ` ORDER BY ` + l.order + ` LIMIT ?)
		RETURNING id, ` + l.cols
	all := append([]any{l.running, owner, micros(now.Add(lease)), micros(now)}, args...)
	all = append(all, limit)
	out, err := queryAll(ctx, tx, "store: claim "+l.what, l.scan, s.rb(q), all...)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, l.less)
	return out, nil
}

// finishLease ends owner's lease on row id of table (in state running),
// applying set (assignments, with args); it reports false when the row is
// no longer leased by owner.
func finishLease(ctx context.Context, s *DB, tx *sql.Tx, table, running string, id int64, owner, set string, args ...any) (bool, error) {
	q := `UPDATE ` + table + ` SET ` + set + `, attempts = attempts + 1, lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ? AND state = ?`
	res, err := tx.ExecContext(ctx, s.rb(q), append(args, id, owner, running)...)
	if err != nil {
		return false, fmt.Errorf("store: finish %s %d: %w", table, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: finish %s %d: %w", table, id, err)
	}
	return n > 0, nil
}
