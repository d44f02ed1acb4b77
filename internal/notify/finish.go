package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/tango-iga/tango/internal/audit"
	"github.com/tango-iga/tango/internal/store"
)

// Finish records the result of a delivery attempt of a notification
// leased by owner: sent, failed for good, or pending again (r.NotBefore
// says when); the lease ends and the attempt is counted. A sent or failed
// notification gets its audit document ("notification.sent" or
// "notification.failed"). store.ErrConflict when owner no longer holds
// the lease.
func Finish(ctx context.Context, st store.Transactor, id int64, owner string, at time.Time, r store.NotificationResult) error {
	switch r.State {
	case store.NotifySent, store.NotifyPending, store.NotifyFailed:
	default:
		return fmt.Errorf("store: notification %d: result state %q: want sent, pending or failed", id, r.State)
	}
	at = at.UTC().Truncate(time.Microsecond)
	return st.InTx(ctx, func(tx store.Tx) error {
		ok, err := tx.FinishNotificationRow(id, owner, at, r)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("notification %d is no longer leased by %s: %w", id, owner, store.ErrConflict)
		}
		if r.State == store.NotifyPending {
			return nil
		}
		n, err := tx.Notification(id)
		if err != nil {
			return err
		}
		doc := map[string]any{"notification": n.ID, "kind": n.Kind, "channel": n.Channel, "recipient": n.Recipient,
			"address": n.Address, "subject": n.Subject, "case": n.Case, "task": n.Task, "attempts": n.Attempts}
		if r.Error != "" {
			doc["error"] = r.Error
		}
		return tx.AppendAudit(audit.New(at, "notify", "notification."+r.State, "", "", n.Recipient, nil, doc))
	})
}
