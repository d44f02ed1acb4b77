package sqlstore

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

// clockQuery reads, per applied event of the given types whose clock
// started at or after a time, when its last operation of the given kinds
// finished and how many are not done. An event's operations are the
// person's operations queued from the event on, up to the person's next
// joiner, rehire or leaver event. start is the column the clock starts at.
func clockQuery(start string, types, kinds []string) (string, []any) {
	in := func(vals []string, args *[]any) string {
		q := ""
		for i, v := range vals {
			if i > 0 {
				q += ","
			}
			q += "?"
			*args = append(*args, v)
		}
		return q
	}
	var kindArgs []any
	kindsIn := in(kinds, &kindArgs)
	const window = `o.source = e.source AND o.employee_id = e.employee_id AND o.created_at >= e.created_at
		AND o.created_at < coalesce((SELECT min(n.created_at) FROM events n WHERE n.source = e.source
			AND n.employee_id = e.employee_id AND n.id > e.id AND n.state = 'applied'
			AND n.type IN ('joiner', 'rehire', 'leaver')), 9223372036854775807)`
	var args []any
	args = append(args, kindArgs...)
	args = append(args, kindArgs...)
	q := `SELECT e.id, e.source, e.employee_id, e.` + start + `,
		(SELECT coalesce(max(o.updated_at), 0) FROM operations o WHERE o.kind IN (` + kindsIn + `) AND o.state = 'done' AND ` + window + `),
		(SELECT count(*) FROM operations o WHERE o.kind IN (` + kindsIn + `) AND o.state <> 'done' AND ` + window + `)
		FROM events e WHERE e.state = 'applied' AND e.type IN (` + in(types, &args) + `) AND e.` + start + ` >= ?
		ORDER BY e.` + start + `, e.id`
	return q, args
}

func (s *DB) LifecycleClocks(ctx context.Context, since time.Time) ([]store.Clock, error) {
	var out []store.Clock
	for _, c := range []struct {
		kind, start  string
		types, kinds []string
	}{
		{store.ClockRevoke, "applied_at", []string{store.EventLeaver}, []string{store.OpDisable}},
		{store.ClockAccess, "effective_at", []string{store.EventJoiner, store.EventRehire}, []string{store.OpCreate, store.OpEnable, store.OpGrant}},
	} {
		q, args := clockQuery(c.start, c.types, c.kinds)
		rows, err := s.db.QueryContext(ctx, s.rb(q), append(args, micros(since))...)
		if err != nil {
			return nil, fmt.Errorf("store: %s clocks since %s: %w", c.kind, since.Format(time.RFC3339), err)
		}
		for rows.Next() {
			k := store.Clock{Kind: c.kind}
			var start, done int64
			if err := rows.Scan(&k.EventID, &k.Source, &k.EmployeeID, &start, &done, &k.Waiting); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: %s clocks: %w", c.kind, err)
			}
			if done == 0 && k.Waiting == 0 {
				continue // no account operation: nothing to time
			}
			k.Start = fromMicros(start)
			if k.Waiting == 0 {
				k.Done = fromMicros(done)
			}
			out = append(out, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

func (s *DB) TaskLoad(ctx context.Context, now time.Time) ([]store.TeamTasks, error) {
	rows, err := s.db.QueryContext(ctx, s.rb(`SELECT team, count(*),
		sum(CASE WHEN due > 0 AND due < ? THEN 1 ELSE 0 END),
		sum(CASE WHEN escalated_at > 0 THEN 1 ELSE 0 END)
		FROM tasks WHERE status = ? GROUP BY team ORDER BY team`), micros(now), store.TaskOpen)
	if err != nil {
		return nil, fmt.Errorf("store: open tasks by team: %w", err)
	}
	defer rows.Close()
	out := []store.TeamTasks{}
	for rows.Next() {
		var t store.TeamTasks
		var open, overdue, esc int64
		if err := rows.Scan(&t.Team, &open, &overdue, &esc); err != nil {
			return nil, fmt.Errorf("store: open tasks by team: %w", err)
		}
		t.Open, t.Overdue, t.Escalated = int(open), int(overdue), int(esc)
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *DB) ApprovalClocks(ctx context.Context, since time.Time) ([]store.ApprovalClock, error) {
	rows, err := s.db.QueryContext(ctx, s.rb(`SELECT id, risk, created_at, decided_at FROM requests
		WHERE state IN (?, ?) AND decided_at > 0 AND decided_at >= ? ORDER BY decided_at, id`),
		store.RequestApproved, store.RequestExpired, micros(since))
	if err != nil {
		return nil, fmt.Errorf("store: approval clocks: %w", err)
	}
	defer rows.Close()
	out := []store.ApprovalClock{}
	for rows.Next() {
		var c store.ApprovalClock
		var created, decided int64
		if err := rows.Scan(&c.Request, &c.Risk, &created, &decided); err != nil {
			return nil, fmt.Errorf("store: approval clocks: %w", err)
		}
		c.CreatedAt, c.DecidedAt = fromMicros(created), fromMicros(decided)
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *DB) RequestLoad(ctx context.Context, now time.Time) (store.RequestLoad, error) {
	var l store.RequestLoad
	var pending, overdue, esc, oldest int64
	err := s.db.QueryRowContext(ctx, s.rb(`SELECT count(*),
		coalesce(sum(CASE WHEN due_at > 0 AND due_at < ? THEN 1 ELSE 0 END), 0),
		coalesce(sum(CASE WHEN escalated_at > 0 THEN 1 ELSE 0 END), 0),
		coalesce(min(created_at), 0)
		FROM requests WHERE state = ?`), micros(now), store.RequestPending).Scan(&pending, &overdue, &esc, &oldest)
	if err != nil {
		return l, fmt.Errorf("store: pending requests: %w", err)
	}
	l.Pending, l.Overdue, l.Escalated, l.OldestPending = int(pending), int(overdue), int(esc), fromMicros(oldest)
	return l, nil
}
