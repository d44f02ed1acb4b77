package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tango-iga/tango/internal/store"
)

var notificationCols = []string{"kind", "channel", "recipient", "address", "subject", "body", "case_id", "task_id", "step",
	"state", "attempts", "not_before", "last_error", "created_at", "updated_at", "sent_at", "lease_owner", "lease_until", "request_id"}

var notificationSelect = `SELECT id, ` + strings.Join(notificationCols, ",") + ` FROM notifications`

func scanNotification(r scanner) (store.Notification, error) {
	var n store.Notification
	var nb, created, updated, sent, lease int64
	err := r.Scan(&n.ID, &n.Kind, &n.Channel, &n.Recipient, &n.Address, &n.Subject, &n.Body, &n.Case, &n.Task, &n.Step,
		&n.State, &n.Attempts, &nb, &n.LastError, &created, &updated, &sent, &n.LeaseOwner, &lease, &n.Request)
	n.NotBefore, n.CreatedAt, n.UpdatedAt, n.SentAt, n.LeaseUntil = fromMicros(nb), fromMicros(created), fromMicros(updated), fromMicros(sent), fromMicros(lease)
	return n, err
}

// queueNotifications inserts notifications as pending inside tx and
// returns them with their IDs; at is their creation time and, unless
// they say otherwise, when they are due.
func (s *DB) queueNotifications(ctx context.Context, tx *sql.Tx, notes []store.Notification, at time.Time) ([]store.Notification, error) {
	if len(notes) == 0 {
		return nil, nil
	}
	at = at.UTC().Truncate(time.Microsecond)
	q := s.rb(`INSERT INTO notifications (` + strings.Join(notificationCols, ",") + `) VALUES (` +
		strings.TrimSuffix(strings.Repeat("?,", len(notificationCols)), ",") + `) RETURNING id`)
	out := slices.Clone(notes)
	for i := range out {
		n := &out[i]
		if n.Kind == "" || n.Recipient == "" || n.Address == "" {
			return nil, fmt.Errorf("store: notification %q: kind, recipient and address are required", n.Subject)
		}
		if n.Channel != store.ChannelEmail && n.Channel != store.ChannelWebhook {
			return nil, fmt.Errorf("store: notification %q to %s: channel %q: want email or webhook", n.Subject, n.Recipient, n.Channel)
		}
		n.State, n.Attempts, n.LastError, n.SentAt, n.LeaseOwner, n.LeaseUntil = store.NotifyPending, 0, "", time.Time{}, "", time.Time{}
		if n.CreatedAt.IsZero() {
			n.CreatedAt = at
		}
		n.CreatedAt = n.CreatedAt.UTC().Truncate(time.Microsecond)
		n.UpdatedAt = n.CreatedAt
		if n.NotBefore.IsZero() {
			n.NotBefore = n.CreatedAt
		}
		n.NotBefore = n.NotBefore.UTC().Truncate(time.Microsecond)
		if err := tx.QueryRowContext(ctx, q, n.Kind, n.Channel, n.Recipient, n.Address, n.Subject, n.Body, n.Case, n.Task, n.Step,
			n.State, n.Attempts, micros(n.NotBefore), n.LastError, micros(n.CreatedAt), micros(n.UpdatedAt), 0, "", 0, n.Request).Scan(&n.ID); err != nil {
			return nil, fmt.Errorf("store: notification %q to %s: %w", n.Subject, n.Recipient, err)
		}
	}
	return out, nil
}

func (s *DB) QueueNotifications(ctx context.Context, ns []store.Notification) ([]store.Notification, error) {
	var out []store.Notification
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.queueNotifications(ctx, tx, ns, time.Now())
		return err
	})
	return out, err
}

// notificationsLeased is the notification outbox as leased work.
var notificationsLeased = leased[store.Notification]{
	table: "notifications", what: "notifications", cols: strings.Join(notificationCols, ","), scan: scanNotification,
	running: store.NotifySending, order: "o.not_before, o.id",
	less: func(a, b store.Notification) int {
		return cmp.Or(a.NotBefore.Compare(b.NotBefore), cmp.Compare(a.ID, b.ID))
	},
}

func (s *DB) ClaimNotifications(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]store.Notification, error) {
	var out []store.Notification
	n := micros(now)
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = claimLeased(ctx, s, tx, notificationsLeased, `((o.state = ? AND o.not_before <= ?) OR (o.state = ? AND o.lease_until < ?))`,
			[]any{store.NotifyPending, n, store.NotifySending, n}, owner, now, lease, limit)
		return err
	})
	return out, err
}

func (s *DB) Notifications(ctx context.Context, f store.NotificationFilter) ([]store.Notification, error) {
	var w filters
	w.eq("state", f.State)
	w.eq("channel", f.Channel)
	w.eq("kind", f.Kind)
	w.eq("recipient", f.Recipient)
	if f.Case != 0 {
		w.add("case_id = ?", f.Case)
	}
	if f.Task != 0 {
		w.add("task_id = ?", f.Task)
	}
	if f.Request != 0 {
		w.add("request_id = ?", f.Request)
	}
	if f.BeforeID > 0 {
		w.add("id < ?", f.BeforeID)
	}
	q := notificationSelect + w.sql() + ` ORDER BY id DESC LIMIT ?`
	return queryAll(ctx, s.listing(), "store: notifications", scanNotification, s.rb(q), append(w.args, limitOrAll(f.Limit))...)
}

func (s *DB) NotificationCounts(ctx context.Context) (map[string]map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT channel, state, count(*) FROM notifications GROUP BY channel, state`)
	if err != nil {
		return nil, fmt.Errorf("store: notification counts: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var ch, st string
		var n int
		if err := rows.Scan(&ch, &st, &n); err != nil {
			return nil, err
		}
		if out[ch] == nil {
			out[ch] = map[string]int{}
		}
		out[ch][st] = n
	}
	return out, rows.Err()
}
