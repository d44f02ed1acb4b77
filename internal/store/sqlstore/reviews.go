package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

var campaignCols = []string{"kind", "app", "entitlement", "team", "policy", "state", "digest", "items",
	"created_by", "created_at", "due_at", "closed_at", "completed_at"}

var campaignSelect = `SELECT id, ` + strings.Join(campaignCols, ",") + ` FROM review_campaigns`

func scanCampaign(r scanner) (store.Campaign, error) {
	var c store.Campaign
	var created, due, closed, completed int64
	err := r.Scan(&c.ID, &c.Kind, &c.App, &c.Entitlement, &c.Team, &c.Policy, &c.State, &c.Digest, &c.Items,
		&c.CreatedBy, &created, &due, &closed, &completed)
	c.CreatedAt, c.DueAt, c.ClosedAt, c.CompletedAt = fromMicros(created), fromMicros(due), fromMicros(closed), fromMicros(completed)
	return c, err
}

var itemCols = []string{"campaign", "source", "employee_id", "display_name", "app", "entitlement", "origin", "why",
	"reviewer", "team", "recommendation", "sod", "state", "decision", "reason", "decided_by", "decided_at",
	"automatic", "operation", "task", "verified_at", "evidence", "new_entitlement", "request", "last_activity", "inactive_days",
	"escalated_to", "escalated_at"}

var itemSelect = `SELECT id, ` + strings.Join(itemCols, ",") + ` FROM review_items`

func scanItem(r scanner) (store.ReviewItem, error) {
	var it store.ReviewItem
	var decided, verified, last, escalated int64
	var auto int
	err := r.Scan(&it.ID, &it.Campaign, &it.Source, &it.EmployeeID, &it.Name, &it.App, &it.Entitlement, &it.Origin, &it.Why,
		&it.Reviewer, &it.Team, &it.Recommendation, &it.SoD, &it.State, &it.Decision, &it.Reason, &it.DecidedBy, &decided,
		&auto, &it.Operation, &it.Task, &verified, &it.Evidence, &it.NewEntitlement, &it.Request, &last, &it.InactiveDays,
		&it.EscalatedTo, &escalated)
	it.DecidedAt, it.VerifiedAt, it.Automatic = fromMicros(decided), fromMicros(verified), auto != 0
	it.LastActivity, it.EscalatedAt = fromMicros(last), fromMicros(escalated)
	return it, err
}

func itemArgs(it *store.ReviewItem) []any {
	auto := 0
	if it.Automatic {
		auto = 1
	}
	return []any{it.Campaign, it.Source, it.EmployeeID, it.Name, it.App, it.Entitlement, it.Origin, it.Why,
		it.Reviewer, it.Team, it.Recommendation, it.SoD, it.State, it.Decision, it.Reason, it.DecidedBy, micros(it.DecidedAt),
		auto, it.Operation, it.Task, micros(it.VerifiedAt), it.Evidence, it.NewEntitlement, it.Request,
		micros(it.LastActivity), it.InactiveDays, it.EscalatedTo, micros(it.EscalatedAt)}
}

var revocationSelect = `SELECT id, source, employee_id, app, entitlement, item, reason, created_at, planned FROM revocations`

func scanRevocation(r scanner) (store.Revocation, error) {
	var v store.Revocation
	var created int64
	var planned int
	err := r.Scan(&v.ID, &v.Source, &v.EmployeeID, &v.App, &v.Entitlement, &v.Item, &v.Reason, &created, &planned)
	v.CreatedAt, v.Planned = fromMicros(created), planned != 0
	return v, err
}

func itemFilter(f store.ReviewItemFilter) (string, []any) {
	var w filters
	if f.Campaign > 0 {
		w.add("campaign = ?", f.Campaign)
	}
	w.eq("reviewer", f.Reviewer)
	w.eq("team", f.Team)
	if f.EscalatedTo != "" {
		// Both terms: the partial index review_items_escalated serves it.
		w.add("escalated_to = ? AND escalated_to <> ''", f.EscalatedTo)
	}
	if f.Unescalated {
		w.add("reviewer <> '' AND escalated_to = ''")
	}
	w.eq("state", f.State)
	q := itemSelect + w.sql() + ` ORDER BY id`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		w.args = append(w.args, f.Limit)
	}
	return q, w.args
}

func (s *DB) Campaign(ctx context.Context, id int64) (store.Campaign, error) {
	c, err := scanCampaign(s.db.QueryRowContext(ctx, s.rb(campaignSelect+` WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("campaign %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: campaign %d: %w", id, err)
	}
	return c, nil
}

func (s *DB) Campaigns(ctx context.Context, state string) ([]store.Campaign, error) {
	var w filters
	w.eq("state", state)
	return queryAll(ctx, s.listing(), "store: campaigns", scanCampaign, s.rb(campaignSelect+w.sql()+` ORDER BY id DESC`), w.args...)
}

func (s *DB) ReviewItem(ctx context.Context, id int64) (store.ReviewItem, error) {
	it, err := scanItem(s.db.QueryRowContext(ctx, s.rb(itemSelect+` WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return it, fmt.Errorf("review item %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return it, fmt.Errorf("store: review item %d: %w", id, err)
	}
	return it, nil
}

func (s *DB) ReviewItems(ctx context.Context, f store.ReviewItemFilter) ([]store.ReviewItem, error) {
	q, args := itemFilter(f)
	return queryAll(ctx, s.listing(), "store: review items", scanItem, s.rb(q), args...)
}

// ReviewCounts counts by state and decision in one query; ids are bound
// as parameters (a page of campaigns).
func (s *DB) ReviewCounts(ctx context.Context, ids []int64) (map[int64]store.ReviewCount, error) {
	out := map[int64]store.ReviewCount{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := `SELECT campaign, state, decision, COUNT(*) FROM review_items WHERE campaign IN (` +
		strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + `) GROUP BY campaign, state, decision`
	rows, err := s.db.QueryContext(ctx, s.rb(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: review counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var state, decision string
		var n int
		if err := rows.Scan(&id, &state, &decision, &n); err != nil {
			return nil, fmt.Errorf("store: review counts: %w", err)
		}
		c := out[id]
		switch {
		case state == store.ItemPending:
			c.Pending += n
		case decision == store.DecisionKeep:
			c.Kept += n
		case decision == store.DecisionRevoke || decision == store.DecisionModify:
			c.Revoked += n
			if decision == store.DecisionModify {
				c.Modified += n
			}
			if state == store.ItemVerified {
				c.Verified += n
			}
		}
		out[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: review counts: %w", err)
	}
	return out, nil
}

func (s *DB) Revocations(ctx context.Context, source string, unplanned bool) ([]store.Revocation, error) {
	var w filters
	w.eq("source", source)
	if unplanned {
		w.add("planned = 0")
	}
	return queryAll(ctx, s.listing(), "store: revocations", scanRevocation, s.rb(revocationSelect+w.sql()+` ORDER BY id`), w.args...)
}

// PersonRevocations reads one person's revocations through the index
// revocations_grant, instead of every revocation of the source.
func (s *DB) PersonRevocations(ctx context.Context, source, employeeID string) ([]store.Revocation, error) {
	return queryAll(ctx, s.db, "store: revocations", scanRevocation,
		s.rb(revocationSelect+` WHERE source = ? AND employee_id = ? ORDER BY id`), source, employeeID)
}

func (t *txn) InsertCampaign(c *store.Campaign) error {
	c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Microsecond)
	c.DueAt = c.DueAt.UTC().Truncate(time.Microsecond)
	q := `INSERT INTO review_campaigns (` + strings.Join(campaignCols, ",") + `) VALUES (` +
		strings.TrimSuffix(strings.Repeat("?,", len(campaignCols)), ",") + `) RETURNING id`
	if err := t.tx.QueryRowContext(t.ctx, t.s.rb(q), c.Kind, c.App, c.Entitlement, c.Team, c.Policy, c.State, c.Digest, c.Items,
		c.CreatedBy, micros(c.CreatedAt), micros(c.DueAt), micros(c.ClosedAt), micros(c.CompletedAt)).Scan(&c.ID); err != nil {
		return fmt.Errorf("store: campaign: %w", err)
	}
	return nil
}

func (t *txn) Campaign(id int64) (store.Campaign, error) {
	c, err := scanCampaign(t.tx.QueryRowContext(t.ctx, t.s.rb(campaignSelect+` WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("campaign %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: campaign %d: %w", id, err)
	}
	return c, nil
}

func (t *txn) UpdateCampaign(c store.Campaign) error {
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE review_campaigns SET state = ?, closed_at = ?, completed_at = ?, digest = ?, items = ? WHERE id = ?`),
		c.State, micros(c.ClosedAt), micros(c.CompletedAt), c.Digest, c.Items, c.ID); err != nil {
		return fmt.Errorf("store: campaign %d: %w", c.ID, err)
	}
	return nil
}

func (t *txn) InsertReviewItems(items []store.ReviewItem) error {
	// A campaign's new items are undecided: their decision, removal and
	// escalation columns keep the tables' defaults (zero), and binding 13
	// zeros of 28 columns for each of 2,000,000 items was a third of the
	// insert's CPU in SQLite.
	if !slices.ContainsFunc(items, func(it store.ReviewItem) bool { return !undecided(&it) }) {
		rows := make([][]any, len(items))
		for i := range items {
			it := &items[i]
			rows[i] = []any{it.Campaign, it.Source, it.EmployeeID, it.Name, it.App, it.Entitlement, it.Origin, it.Why,
				it.Reviewer, it.Team, it.Recommendation, it.SoD, it.State, micros(it.LastActivity), it.InactiveDays}
		}
		return t.s.bulk(t.ctx, t.tx, "review_items", newItemCols, rows, "")
	}
	rows := make([][]any, len(items))
	for i := range items {
		rows[i] = itemArgs(&items[i])
	}
	return t.s.bulk(t.ctx, t.tx, "review_items", itemCols, rows, "")
}

// newItemCols are the columns of an undecided item (the rest default).
var newItemCols = []string{"campaign", "source", "employee_id", "display_name", "app", "entitlement", "origin", "why",
	"reviewer", "team", "recommendation", "sod", "state", "last_activity", "inactive_days"}

// undecided reports whether an item has nothing but its columns of
// newItemCols (no decision, removal, evidence or escalation yet).
func undecided(it *store.ReviewItem) bool {
	return it.Decision == "" && it.Reason == "" && it.DecidedBy == "" && it.DecidedAt.IsZero() && !it.Automatic &&
		it.Operation == 0 && it.Task == 0 && it.VerifiedAt.IsZero() && it.Evidence == "" && it.NewEntitlement == "" &&
		it.Request == 0 && it.EscalatedTo == "" && it.EscalatedAt.IsZero()
}

func (t *txn) ReviewItem(id int64) (store.ReviewItem, error) {
	it, err := scanItem(t.tx.QueryRowContext(t.ctx, t.s.rb(itemSelect+` WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return it, fmt.Errorf("review item %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return it, fmt.Errorf("store: review item %d: %w", id, err)
	}
	return it, nil
}

func (t *txn) ReviewItems(f store.ReviewItemFilter) ([]store.ReviewItem, error) {
	q, args := itemFilter(f)
	return queryAll(t.ctx, t.tx, "store: review items", scanItem, t.s.rb(q), args...)
}

func (t *txn) UpdateReviewItem(it store.ReviewItem) error {
	it.DecidedAt = it.DecidedAt.UTC().Truncate(time.Microsecond)
	args := itemArgs(&it)
	// reviewer up to inactive_days: the escalation is EscalateReviewItem's
	// (a decision read before it must not write it back empty).
	args = append(args[8:len(args)-2], it.ID)
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE review_items SET reviewer = ?, team = ?, recommendation = ?, sod = ?,
			state = ?, decision = ?, reason = ?, decided_by = ?, decided_at = ?, automatic = ?, operation = ?, task = ?,
			verified_at = ?, evidence = ?, new_entitlement = ?, request = ?, last_activity = ?, inactive_days = ?
			WHERE id = ?`), args...); err != nil {
		return fmt.Errorf("store: review item %d: %w", it.ID, err)
	}
	return nil
}

func (t *txn) CountReviewDecisions(decidedBy string, since time.Time) (int, error) {
	var n int
	// The terms automatic = 0 and decided_by <> '' are the partial index
	// review_items_decided's condition: with them the planner uses it.
	err := t.tx.QueryRowContext(t.ctx, t.s.rb(`SELECT COUNT(*) FROM review_items WHERE decided_by = ? AND automatic = 0 AND decided_by <> '' AND decided_at >= ?`),
		decidedBy, micros(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: review decisions of %s: %w", decidedBy, err)
	}
	return n, nil
}

func (t *txn) PutRevocation(r *store.Revocation) error {
	r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Microsecond)
	q := `INSERT INTO revocations (source, employee_id, app, entitlement, item, reason, created_at, planned)
		VALUES (?, ?, ?, ?, ?, ?, ?, 0)
		ON CONFLICT (source, employee_id, app, entitlement) DO UPDATE SET item = excluded.item, reason = excluded.reason,
		created_at = excluded.created_at, planned = 0 RETURNING id`
	if err := t.tx.QueryRowContext(t.ctx, t.s.rb(q), r.Source, r.EmployeeID, r.App, r.Entitlement, r.Item, r.Reason,
		micros(r.CreatedAt)).Scan(&r.ID); err != nil {
		return fmt.Errorf("store: revocation: %w", err)
	}
	r.Planned = false
	return nil
}

func (s *DB) ReviewScheduleStarted(ctx context.Context, name string) (time.Time, error) {
	var at int64
	err := s.db.QueryRowContext(ctx, s.rb(`SELECT started_at FROM review_schedules WHERE name = ?`), name).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: review schedule %q: %w", name, err)
	}
	return fromMicros(at), nil
}

func (t *txn) ClaimReviewSchedule(name string, at time.Time, every time.Duration) (bool, error) {
	at = at.UTC().Truncate(time.Microsecond)
	// Insert the first start, or move a start old enough forward: one
	// statement, so that of concurrent claims (PostgreSQL re-checks the
	// WHERE after waiting on the row's lock; SQLite has one writer) one
	// changes the row.
	res, err := t.tx.ExecContext(t.ctx, t.s.rb(`INSERT INTO review_schedules (name, started_at) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at, campaign = 0
		WHERE review_schedules.started_at <= ?`), name, micros(at), micros(at.Add(-every)))
	if err != nil {
		return false, fmt.Errorf("store: claiming review schedule %q: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claiming review schedule %q: %w", name, err)
	}
	return n == 1, nil
}

func (t *txn) SetReviewScheduleCampaign(name string, campaign int64) error {
	if _, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE review_schedules SET campaign = ? WHERE name = ?`), campaign, name); err != nil {
		return fmt.Errorf("store: review schedule %q: %w", name, err)
	}
	return nil
}

func (s *DB) PendingReviewers(ctx context.Context, campaign int64) ([]store.ReviewerCount, error) {
	return queryAll(ctx, s.listing(), "store: pending reviewers", func(r scanner) (store.ReviewerCount, error) {
		var c store.ReviewerCount
		err := r.Scan(&c.Reviewer, &c.Team, &c.Source, &c.Pending)
		return c, err
	}, s.rb(`SELECT reviewer, team, MIN(source), COUNT(*) FROM review_items WHERE campaign = ? AND state = ?
		GROUP BY reviewer, team ORDER BY reviewer, team`), campaign, store.ItemPending)
}

func (s *DB) ReviewReminders(ctx context.Context, campaign int64) ([]string, error) {
	return queryAll(ctx, s.listing(), "store: review reminders", func(r scanner) (string, error) {
		var who string
		err := r.Scan(&who)
		return who, err
	}, s.rb(`SELECT recipient FROM review_reminders WHERE campaign = ? ORDER BY recipient`), campaign)
}

func (t *txn) ClaimReviewReminder(campaign int64, recipient string, items int, at time.Time) (bool, error) {
	res, err := t.tx.ExecContext(t.ctx, t.s.rb(`INSERT INTO review_reminders (campaign, recipient, reminded_at, items)
		VALUES (?, ?, ?, ?) ON CONFLICT (campaign, recipient) DO NOTHING`), campaign, recipient, micros(at.UTC()), items)
	if err != nil {
		return false, fmt.Errorf("store: claiming the reminder of %s about campaign %d: %w", recipient, campaign, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claiming the reminder of %s about campaign %d: %w", recipient, campaign, err)
	}
	return n == 1, nil
}

func (t *txn) EscalateReviewItem(id int64, to string, at time.Time) (bool, error) {
	if strings.TrimSpace(to) == "" {
		return false, fmt.Errorf("store: escalate review item %d: nobody to escalate to", id)
	}
	res, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE review_items SET escalated_to = ?, escalated_at = ?
		WHERE id = ? AND state = ? AND escalated_to = ''`), to, micros(at.UTC()), id, store.ItemPending)
	if err != nil {
		return false, fmt.Errorf("store: escalate review item %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: escalate review item %d: %w", id, err)
	}
	return n == 1, nil
}

func (t *txn) ExpediteOp(id int64, at time.Time) (bool, error) {
	res, err := t.tx.ExecContext(t.ctx, t.s.rb(`UPDATE operations SET not_before = ? WHERE id = ? AND state = ? AND not_before > ?`),
		micros(at), id, store.OpPending, micros(at))
	if err != nil {
		return false, fmt.Errorf("store: operation %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: operation %d: %w", id, err)
	}
	return n == 1, nil
}

// PutAccountActivity records when each account was last used, as an app
// reported it (newer readings replace older ones).
func (s *DB) PutAccountActivity(ctx context.Context, acts []store.AccountActivity) error {
	if len(acts) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		return s.bulkFunc(ctx, tx, "account_activity", []string{"app", "source", "employee_id", "last_activity", "read_at"}, len(acts),
			func(i int, args []any) []any {
				a := &acts[i]
				return append(args, a.App, a.Source, a.EmployeeID, micros(a.LastActivity.UTC()), micros(a.ReadAt.UTC()))
			}, ` ON CONFLICT (app, source, employee_id) DO UPDATE SET last_activity = excluded.last_activity, read_at = excluded.read_at`)
	})
}

// AccountActivities lists the recorded last activity of accounts (of one
// app, or all with ""), by app, source and employee ID.
func (s *DB) AccountActivities(ctx context.Context, app string) ([]store.AccountActivity, error) {
	var w filters
	w.eq("app", app)
	return queryAll(ctx, s.db, "store: account activity", func(r scanner) (store.AccountActivity, error) {
		var a store.AccountActivity
		var last, read int64
		err := r.Scan(&a.App, &a.Source, &a.EmployeeID, &last, &read)
		a.LastActivity, a.ReadAt = fromMicros(last), fromMicros(read)
		return a, err
	}, s.rb(`SELECT app, source, employee_id, last_activity, read_at FROM account_activity`+w.sql()+` ORDER BY app, source, employee_id`), w.args...)
}
